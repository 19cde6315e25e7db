//! Unit tests of every built-in and Alertmanager function, of HTML rendering, of the registry, and of error
//! positions (wording checked against Go 1.19 and Alertmanager 0.25).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tocsin_model::clock::ManualClock;
use tocsin_model::time::parse_rfc3339;
use tocsin_template::{Data, Template, TemplateError};

fn data() -> Data {
    let alert = |name: &str, sev: &str, ends: &str| tocsin_model::Alert {
        labels: [("alertname", name), ("severity", sev), ("instance", "i1")].into_iter().collect(),
        annotations: [("summary", "<b>s</b> & t")].into_iter().collect(),
        starts_at: parse_rfc3339("2024-03-05T07:08:09Z").unwrap(),
        ends_at: parse_rfc3339(ends).unwrap(),
        generator_url: "http://gen/x?a=1".into(),
        updated_at: parse_rfc3339("2024-03-05T07:08:09Z").unwrap().to_utc(),
        timeout: false,
    };
    let now = parse_rfc3339("2024-03-05T08:00:00Z").unwrap();
    let alerts =
        [alert("A", "critical", "2024-03-05T09:00:00Z"), alert("A", "warning", "2024-03-05T07:30:00Z")];
    let group = [("alertname", "A")].into_iter().collect();
    Data::new("team-x", &group, &alerts, "http://am:9093", now)
}

fn render(text: &str) -> Result<String, TemplateError> {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2024, 3, 5, 8, 0, 0).unwrap()));
    Template::with_defaults().with_clock(clock).render_string(text, &data())
}

struct Case {
    name: &'static str,
    input: &'static str,
    want: &'static str,
}

#[test]
fn builtins_and_functions() {
    let cases = [
        Case { name: "and", input: r#"{{ and 1 0 2 }}|{{ and 1 2 }}"#, want: "0|2" },
        Case { name: "or", input: r#"{{ or 0 "" }}|{{ or 0 "x" 3 }}"#, want: "|x" },
        Case { name: "and short-circuits", input: r#"{{ and false (index .Alerts 99) }}"#, want: "false" },
        Case { name: "not", input: r#"{{ not 0 }} {{ not .Alerts }}"#, want: "true false" },
        Case {
            name: "len",
            input: r#"{{ len .Alerts }} {{ len "héllo" }} {{ len .CommonLabels }}"#,
            want: "2 6 2",
        },
        Case { name: "index list", input: r#"{{ (index .Alerts 1).Labels.severity }}"#, want: "warning" },
        Case {
            name: "index map",
            input: r#"{{ index .CommonLabels "alertname" }}[{{ index .CommonLabels "x" }}]"#,
            want: "A[]",
        },
        Case { name: "index string", input: r#"{{ index "abc" 1 }}"#, want: "98" },
        Case {
            name: "slice",
            input: r#"{{ slice "abcdef" 1 3 }} {{ slice (stringSlice "a" "b" "c") 1 }}"#,
            want: "bc [b c]",
        },
        Case {
            name: "eq",
            input: r#"{{ eq 1 2 1 }} {{ eq "a" "a" }} {{ eq .Status "firing" }}"#,
            want: "true true true",
        },
        Case {
            name: "ne lt le gt ge",
            input: r#"{{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1 2 }} {{ ge "b" "a" }}"#,
            want: "true true true false true",
        },
        Case { name: "print", input: r#"{{ print "a" 1 2 "b" }}"#, want: "a1 2b" },
        Case { name: "println", input: r#"{{ println "a" 1 }}"#, want: "a 1\n" },
        Case {
            name: "printf",
            input: r#"{{ printf "%s=%d %.1f %5s|%-3s|%q %v %t %x" "k" 3 2.25 "ab" "c" "q" .CommonLabels true 255 }}"#,
            want: "k=3 2.2    ab|c  |\"q\" alertname=A, instance=i1 true ff",
        },
        Case {
            name: "html",
            input: r#"{{ html "<a href='x'>&</a>" }}"#,
            want: "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;",
        },
        Case { name: "js", input: r#"{{ js "a'b\"<c>=&" }}"#, want: r#"a\'b\"\u003Cc\u003E\u003D\u0026"# },
        Case { name: "urlquery", input: r#"{{ urlquery "a b/c?d=é" }}"#, want: "a+b%2Fc%3Fd%3D%C3%A9" },
        Case { name: "toUpper toLower", input: r#"{{ toUpper "aB" }}{{ toLower "aB" }}"#, want: "ABab" },
        Case {
            name: "title lowers the rest like cases.Title",
            input: r#"{{ title "hELLO wORLD" }}"#,
            want: "Hello World",
        },
        Case { name: "trimSpace", input: "{{ trimSpace \"  x \\n\" }}", want: "x" },
        Case { name: "join", input: r#"{{ join "," .CommonLabels.Values }}"#, want: "A,i1" },
        Case {
            name: "match",
            input: r#"{{ match "^i[0-9]$" "i1" }} {{ match "z" "abc" }}"#,
            want: "true false",
        },
        Case { name: "reReplaceAll", input: r#"{{ reReplaceAll "(a)(b)" "$2$1" "xaby" }}"#, want: "xbay" },
        Case { name: "safeHtml", input: r#"{{ safeHtml "<b>" }}"#, want: "<b>" },
        Case { name: "stringSlice", input: r#"{{ stringSlice "a" "b" }}"#, want: "[a b]" },
        Case {
            name: "date",
            input: r#"{{ date "2006/01/02 15h" (index .Alerts 0).StartsAt }}"#,
            want: "2024/03/05 07h",
        },
        Case {
            name: "tz",
            input: r#"{{ tz "Asia/Shanghai" (index .Alerts 0).StartsAt }}"#,
            want: "2024-03-05 15:08:09 +0800 CST",
        },
        Case { name: "since", input: r#"{{ since (index .Alerts 0).StartsAt }}"#, want: "51m51s" },
        Case {
            name: "humanizeDuration",
            input: r#"{{ humanizeDuration 3725 }} {{ humanizeDuration 0.25 }}"#,
            want: "1h 2m 5s 250ms",
        },
        Case {
            name: "SortedPairs puts alertname first",
            input: r#"{{ range (index .Alerts 0).Labels.SortedPairs }}{{ .Name }} {{ end }}"#,
            want: "alertname instance severity ",
        },
        Case {
            name: "Names Values Remove String",
            input: r#"{{ .CommonLabels.Names }} {{ .CommonLabels.Values }} {{ .CommonLabels.Remove .GroupLabels.Names }} {{ .GroupLabels.String }}"#,
            want: "[alertname instance] [A i1] instance=i1 alertname=A",
        },
        Case {
            name: "Firing Resolved",
            input: r#"{{ len .Alerts.Firing }}/{{ len .Alerts.Resolved }} {{ (index .Alerts.Resolved 0).EndsAt }}"#,
            want: "1/1 2024-03-05 07:30:00 +0000 UTC",
        },
        Case {
            name: "firing EndsAt is zero",
            input: r#"{{ (index .Alerts 0).EndsAt }} {{ (index .Alerts 0).EndsAt.IsZero }}"#,
            want: "0001-01-01 00:00:00 +0000 UTC true",
        },
        Case {
            name: "time methods",
            input: r#"{{ with (index .Alerts 0).StartsAt }}{{ .Unix }} {{ (.Add 3600e9).Format "15:04" }} {{ .UTC.Hour }} {{ (.In (tz "Asia/Tokyo" .).Location).Hour }}{{ end }}"#,
            want: "1709622489 08:08 7 16",
        },
        Case {
            name: "Sub gives a duration",
            input: r#"{{ with index .Alerts 1 }}{{ .EndsAt.Sub .StartsAt }} {{ (.EndsAt.Sub .StartsAt).Minutes }}{{ end }}"#,
            want: "21m51s 21.85",
        },
        Case { name: "missingkey=zero at top level", input: r#"[{{ .CommonLabels.nope }}]"#, want: "[]" },
        Case {
            name: "no missingkey=zero in defines",
            input: r#"{{ define "d" }}[{{ .CommonLabels.nope }}]{{ end }}{{ template "d" . }}"#,
            want: "[<no value>]",
        },
        Case {
            name: "range break continue else",
            input: r#"{{ range $i, $a := .Alerts }}{{ if eq $i 0 }}{{ continue }}{{ end }}{{ $i }}{{ break }}{{ end }}{{ range slice .Alerts 0 0 }}{{ else }}empty{{ end }}"#,
            want: "1empty",
        },
        Case {
            name: "variables and assignment",
            input: r#"{{ $x := 1 }}{{ range .Alerts }}{{ $x = 2 }}{{ end }}{{ $x }} {{ $.Receiver }}"#,
            want: "2 team-x",
        },
        Case {
            name: "with else",
            input: r#"{{ with .CommonAnnotations.none }}x{{ else }}y{{ end }}"#,
            want: "y",
        },
        Case { name: "trim markers", input: "a  {{- 1 -}}  \n b", want: "a1b" },
        Case {
            name: "block defines and calls",
            input: r#"{{ block "blk" .Status }}<{{ . }}>{{ end }}"#,
            want: "<firing>",
        },
        Case { name: "default subject", input: r#"{{ template "__subject" . }}"#, want: "[FIRING:1] A (i1)" },
        Case {
            name: "alertmanager URL",
            input: r#"{{ template "__alertmanagerURL" . }}"#,
            want: "http://am:9093/#/alerts?receiver=team-x",
        },
    ];
    for c in cases {
        match render(c.input) {
            Ok(got) => assert_eq!(got, c.want, "{}", c.name),
            Err(e) => panic!("{}: {e}", c.name),
        }
    }
}

#[test]
fn errors_name_file_line_and_column() {
    let cases = [
        Case {
            name: "unclosed action (Alertmanager's reload error)",
            input: "ok\n{{ .Status \n",
            want: "template: bad.tmpl:3: unclosed action started at bad.tmpl:2",
        },
        Case { name: "unexpected end", input: "{{ end }}", want: "template: bad.tmpl:1: unexpected {{end}}" },
        Case { name: "unclosed if", input: "{{ if 1 }}\nx", want: "template: bad.tmpl:2: unexpected EOF" },
        Case {
            name: "undefined function",
            input: "\n{{ nosuch 1 }}",
            want: "template: bad.tmpl:2: function \"nosuch\" not defined",
        },
        Case {
            name: "undefined variable",
            input: "{{ $x }}",
            want: "template: bad.tmpl:1: undefined variable \"$x\"",
        },
        Case {
            name: "break outside range",
            input: "{{ break }}",
            want: "template: bad.tmpl:1: {{break}} outside {{range}}",
        },
        Case { name: "unclosed comment", input: "{{/* x", want: "template: bad.tmpl:1: unclosed comment" },
        Case {
            name: "missing value",
            input: "{{ if }}{{ end }}",
            want: "template: bad.tmpl:1: missing value for if",
        },
        Case {
            name: "bad pipeline stage",
            input: "{{ 1 | 2 }}",
            want: "template: bad.tmpl:1: non executable command in pipeline stage 2",
        },
    ];
    for c in cases {
        let err = Template::new().parse_file("bad.tmpl", c.input).expect_err(c.name);
        assert_eq!(err.to_string(), c.want, "{}", c.name);
    }

    let exec_cases = [
        Case {
            name: "field of a string",
            input: "{{ define \"t\" }}\n  {{ .Status.Foo }}{{ end }}",
            want: "template: f.tmpl:2:12: executing \"t\" at <.Status.Foo>: can't evaluate field Foo in type string",
        },
        Case {
            name: "missing template",
            input: "{{ define \"t\" }}{{ template \"nope\" . }}{{ end }}",
            want: "template: f.tmpl:1:28: executing \"t\" at <{{template \"nope\" .}}>: template \"nope\" not defined",
        },
        Case {
            name: "wrong argument type",
            input: "{{ define \"t\" }}{{ toUpper .Alerts }}{{ end }}",
            want: "template: f.tmpl:1:27: executing \"t\" at <.Alerts>: wrong type for value; expected string; got template.Alerts",
        },
        Case {
            name: "bad regexp",
            input: "{{ define \"t\" }}{{ reReplaceAll \"(\" \"\" \"x\" }}{{ end }}",
            want: "template: f.tmpl:1:19: executing \"t\" at <reReplaceAll \"(\" \"\" \"x\">: error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: unclosed group: `(`",
        },
    ];
    for c in exec_cases {
        let mut t = Template::with_defaults();
        t.parse_file("f.tmpl", c.input).expect(c.name);
        let err = t.execute_text("t", &data()).expect_err(c.name);
        assert_eq!(err.to_string(), c.want, "{}", c.name);
    }
}

#[test]
fn html_escapes_values_but_not_safe_html() {
    let mut t = Template::with_defaults();
    t.parse_file(
        "h.tmpl",
        r#"{{ define "h" }}<p>{{ .CommonAnnotations.summary }}</p>{{ safeHtml "<br>" }}{{ end }}"#,
    )
    .unwrap();
    assert_eq!(t.execute_html("h", &data()).unwrap(), "<p>&lt;b&gt;s&lt;/b&gt; &amp; t</p><br>");
    assert_eq!(t.execute_text("h", &data()).unwrap(), "<p><b>s</b> & t</p><br>");
    let email = t.execute_html("email.default.html", &data()).unwrap();
    assert!(email.starts_with("<!DOCTYPE html>"), "{email}");
    assert!(email.contains("&lt;b&gt;s&lt;/b&gt;"), "annotations are escaped");
}

#[test]
fn html_mode_escapes_plus_like_html_template_but_the_html_function_does_not() {
    let mut t = Template::with_defaults();
    t.parse_file(
        "p.tmpl",
        r#"{{ define "p" }}{{ "UTC+08:00 <a>" }}|{{ html "a+b<" }}|{{ "x<" | html }}{{ end }}"#,
    )
    .unwrap();
    // Captured from Go 1.19 html/template: values get `&#43;` for `+`; an action ending in `html` is escaped
    // once, by `html` alone (which keeps `+`).
    assert_eq!(t.execute_html("p", &data()).unwrap(), "UTC&#43;08:00 &lt;a&gt;|a+b&lt;|x&lt;");
    assert_eq!(t.execute_text("p", &data()).unwrap(), "UTC+08:00 <a>|a+b&lt;|x&lt;");
}

#[test]
fn later_files_override_and_empty_defines_do_not() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.tmpl"), r#"{{ define "__subject" }}custom {{ .Status }}{{ end }}"#)
        .unwrap();
    std::fs::write(
        dir.path().join("b.tmpl"),
        r#"{{ define "__subject" }}  {{ end }}{{ define "extra" }}e{{ end }}"#,
    )
    .unwrap();
    let glob = format!("{}/*.tmpl", dir.path().display());
    let t = Template::from_globs(&[glob, "/nonexistent/*.tmpl".to_string()]).unwrap();
    assert_eq!(
        t.render_string(r#"{{ template "email.default.subject" . }}"#, &data()).unwrap(),
        "custom firing"
    );
    assert!(t.has("extra"));
    assert_eq!(t.render_string("", &data()).unwrap(), "");

    std::fs::write(dir.path().join("c.tmpl"), "{{ if }}").unwrap();
    let err = Template::from_globs(&[format!("{}/c.tmpl", dir.path().display())]).unwrap_err();
    assert_eq!(err.to_string(), "template: c.tmpl:1: missing value for if");
}

#[test]
fn every_default_template_renders() {
    let t = Template::with_defaults();
    for name in
        tocsin_template::DEFAULT_TEMPLATES.split("define \"").skip(1).filter_map(|s| s.split('"').next())
    {
        // Templates that take a list of alerts are called with one, as the receivers do.
        let text = if name.starts_with("__text_alert_list") || name == "pagerduty.default.instances" {
            format!("{{{{ template \"{name}\" .Alerts }}}}")
        } else {
            format!("{{{{ template \"{name}\" . }}}}")
        };
        t.render_string(&text, &data()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
