//! Accept/reject tables for both grammars, the mode logic and the Display round trip.
//!
//! Classic expectations come from upstream's `pkg/labels/parse_test.go` and from `amtool check-config` of 0.25
//! (route `matchers:`); UTF-8 expectations from upstream's `matcher/parse/parse_test.go` and its source.

use super::*;
use crate::matcher::{MatchType, Matchers};

use MatchType::{Equal as Eq, NotEqual as Ne, NotRegexp as Nre, Regexp as Re};

/// `(name, type, value)` of an expected matcher.
type Want = (&'static str, MatchType, &'static str);

struct Case {
    name: &'static str,
    input: &'static str,
    want: Result<&'static [Want], &'static str>,
}

fn triples(ms: &[Matcher]) -> Vec<(String, MatchType, String)> {
    ms.iter().map(|m| (m.name.clone(), m.ty, m.value.clone())).collect()
}

fn run(cases: &[Case], parse: impl Fn(&str) -> Result<Vec<Matcher>, ParseError>) {
    for c in cases {
        let got = parse(c.input);
        match (&c.want, got) {
            (Ok(want), Ok(got)) => {
                let want: Vec<_> = want.iter().map(|(n, t, v)| (n.to_string(), *t, v.to_string())).collect();
                assert_eq!(triples(&got), want, "case {:?} input {:?}", c.name, c.input);
            }
            (Err(want), Err(got)) => assert_eq!(got.0, *want, "case {:?} input {:?}", c.name, c.input),
            (want, got) => panic!("case {:?} input {:?}: want {want:?}, got {got:?}", c.name, c.input),
        }
    }
}

#[test]
fn classic_grammar() {
    let cases = [
        Case { name: "braces", input: r#"{foo="bar"}"#, want: Ok(&[("foo", Eq, "bar")]) },
        Case { name: "regex", input: r#"{foo=~"bar.*"}"#, want: Ok(&[("foo", Re, "bar.*")]) },
        Case { name: "not equal", input: r#"{foo!="bar"}"#, want: Ok(&[("foo", Ne, "bar")]) },
        Case { name: "not regex", input: r#"{foo!~"bar.*"}"#, want: Ok(&[("foo", Nre, "bar.*")]) },
        Case {
            name: "two",
            input: r#"{foo="bar", baz!="quux"}"#,
            want: Ok(&[("foo", Eq, "bar"), ("baz", Ne, "quux")]),
        },
        Case { name: "empty quoted", input: r#"{foo=""}"#, want: Ok(&[("foo", Eq, "")]) },
        Case {
            name: "comma in quotes",
            input: r#"{foo="bar,quux", job="job1"}"#,
            want: Ok(&[("foo", Eq, "bar,quux"), ("job", Eq, "job1")]),
        },
        Case {
            name: "spaces and trailing comma",
            input: r#"{foo = "bar", dings != "bums", }"#,
            want: Ok(&[("foo", Eq, "bar"), ("dings", Ne, "bums")]),
        },
        Case {
            name: "unquoted list",
            input: "foo=bar,dings!=bums",
            want: Ok(&[("foo", Eq, "bar"), ("dings", Ne, "bums")]),
        },
        Case {
            name: "escaped quotes",
            input: r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#,
            want: Ok(&[("quote", Eq, r#"She said: "Hi, ladies! That's gender-neutral…""#)]),
        },
        Case { name: "status code", input: r#"statuscode=~"5..""#, want: Ok(&[("statuscode", Re, "5..")]) },
        Case { name: "tricky", input: "tricky=~~~", want: Ok(&[("tricky", Re, "~~")]) },
        Case { name: "trickier", input: r#"trickier==\\=\=\""#, want: Ok(&[("trickier", Eq, r#"=\=\=""#)]) },
        Case {
            name: "quote and comma values",
            input: r#"contains_quote != "\"" , contains_comma !~ "foo,bar" , "#,
            want: Ok(&[("contains_quote", Ne, "\""), ("contains_comma", Nre, "foo,bar")]),
        },
        Case { name: "empty value", input: "job=", want: Ok(&[("job", Eq, "")]) },
        Case { name: "colon name", input: "a:b=c", want: Ok(&[("a:b", Eq, "c")]) },
        Case { name: "extra close brace", input: "{a=b}}", want: Ok(&[("a", Eq, "b}")]) },
        Case { name: "trailing backslash", input: r"foo=bar\", want: Ok(&[("foo", Eq, r"bar\")]) },
        Case { name: "only classic escapes", input: r#"foo="a\tb\n""#, want: Ok(&[("foo", Eq, "a\\tb\n")]) },
        Case { name: "unquoted spaces kept inside", input: " foo = a b \t", want: Ok(&[("foo", Eq, "a b")]) },
        Case {
            name: "vertical tab is not re space",
            input: "foo=\u{b}x",
            want: Ok(&[("foo", Eq, "\u{b}x")]),
        },
        Case { name: "empty", input: "", want: Ok(&[]) },
        Case { name: "empty braces", input: "{}", want: Ok(&[]) },
        Case { name: "unicode value", input: "foo=🙂bar", want: Ok(&[("foo", Eq, "🙂bar")]) },
        Case {
            name: "unclosed quote",
            input: r#"job="value"#,
            want: Err(r#"matcher value contains unescaped double quote: "value"#),
        },
        Case {
            name: "quote at end",
            input: r#"job=value""#,
            want: Err(r#"matcher value contains unescaped double quote: value""#),
        },
        Case {
            name: "trickier with quote",
            input: r#"trickier==\\=\=\"""#,
            want: Err(r#"matcher value contains unescaped double quote: =\\=\=\"""#),
        },
        Case {
            name: "inner quote",
            input: r#"contains_unescaped_quote = foo"bar"#,
            want: Err(r#"matcher value contains unescaped double quote: foo"bar"#),
        },
        Case {
            name: "lone quote",
            input: r#"a=""#,
            want: Err(r#"matcher value contains unescaped double quote: ""#),
        },
        Case {
            name: "escaped closing quote",
            input: r#"a="\""#,
            want: Err(r#"matcher value contains unescaped double quote: "\""#),
        },
        Case {
            name: "text after quote",
            input: r#"foo="bar"x"#,
            want: Err(r#"matcher value contains unescaped double quote: "bar"x"#),
        },
        Case {
            name: "invalid name",
            input: r#"{invalid-name = "valid label"}"#,
            want: Err(r#"bad matcher format: invalid-name = "valid label""#),
        },
        Case {
            name: "double escaped 1",
            input: r#""{foo=\"bar"}"#,
            want: Err(r#"bad matcher format: "{foo=\"bar""#),
        },
        Case {
            name: "double escaped 2",
            input: r#""foo=\"bar""#,
            want: Err(r#"bad matcher format: "foo=\"bar""#),
        },
        Case {
            name: "double escaped 3",
            input: r#""foo=\"bar\"""#,
            want: Err(r#"bad matcher format: "foo=\"bar\"""#),
        },
        Case {
            name: "double escaped 4",
            input: r#""foo=\"bar\""#,
            want: Err(r#"bad matcher format: "foo=\"bar\""#),
        },
        Case {
            name: "double escaped 5",
            input: r#""{foo=\"bar\"}""#,
            want: Err(r#"bad matcher format: "{foo=\"bar\"}""#),
        },
        Case {
            name: "double escaped 6",
            input: r#""foo="bar"""#,
            want: Err(r#"bad matcher format: "foo="bar"""#),
        },
        Case { name: "space before brace", input: " {a=b}", want: Err("bad matcher format: {a=b") },
        Case { name: "empty middle", input: r#"a="x" , ,b=c"#, want: Err("bad matcher format:  ") },
        Case { name: "lone comma", input: ",", want: Err("bad matcher format: ") },
        Case { name: "digit first", input: "1foo=bar", want: Err("bad matcher format: 1foo=bar") },
        Case { name: "no operator", input: "foo", want: Err("bad matcher format: foo") },
        Case {
            name: "nbsp is not re space",
            input: "foo\u{a0}=bar",
            want: Err("bad matcher format: foo\u{a0}=bar"),
        },
        Case {
            name: "quoted name",
            input: r#""foo"="bar""#,
            want: Err(r#"bad matcher format: "foo"="bar""#),
        },
    ];
    run(&cases, classic::parse_matchers);
    run(&cases, |s| parse_matchers(s, ParseMode::Classic));
}

#[test]
fn utf8_grammar() {
    let cases = [
        Case { name: "no braces", input: "", want: Ok(&[]) },
        Case { name: "open and closing braces", input: "{}", want: Ok(&[]) },
        Case { name: "blank", input: "  ", want: Ok(&[]) },
        Case { name: "equals", input: "{foo=bar}", want: Ok(&[("foo", Eq, "bar")]) },
        Case { name: "trailing comma", input: "{foo=bar,}", want: Ok(&[("foo", Eq, "bar")]) },
        Case { name: "not equals", input: "{foo!=bar}", want: Ok(&[("foo", Ne, "bar")]) },
        Case { name: "match regex", input: "{foo=~[a-z]+}", want: Ok(&[("foo", Re, "[a-z]+")]) },
        Case { name: "doesn't match regex", input: "{foo!~[a-z]+}", want: Ok(&[("foo", Nre, "[a-z]+")]) },
        Case { name: "emoji", input: "{foo=🙂}", want: Ok(&[("foo", Eq, "🙂")]) },
        Case { name: "emoji sentence", input: "foo=🙂bar", want: Ok(&[("foo", Eq, "🙂bar")]) },
        Case { name: "without braces trailing comma", input: "foo=bar,", want: Ok(&[("foo", Eq, "bar")]) },
        Case { name: "quoted", input: r#"{"foo"="bar"}"#, want: Ok(&[("foo", Eq, "bar")]) },
        Case {
            name: "emoji bytes", input: r#"{"foo"="\xf0\x9f\x99\x82"}"#, want: Ok(&[("foo", Eq, "🙂")])
        },
        Case { name: "emoji code point", input: r#"{"foo"="\U0001f642"}"#, want: Ok(&[("foo", Eq, "🙂")]) },
        Case { name: "escapes", input: r#"{"foo"="bar\n\t\"\\"}"#, want: Ok(&[("foo", Eq, "bar\n\t\"\\")]) },
        Case {
            name: "complex",
            input: r#"{foo=bar,bar!="baz"}"#,
            want: Ok(&[("foo", Eq, "bar"), ("bar", Ne, "baz")]),
        },
        Case {
            name: "whitespace everywhere",
            input: " { foo = bar , \"a b\" !~ \"c.*\" , } ",
            want: Ok(&[("foo", Eq, "bar"), ("a b", Nre, "c.*")]),
        },
        Case { name: "utf8 name", input: "bad-name=1", want: Ok(&[("bad-name", Eq, "1")]) },
        Case { name: "digit name", input: "1foo=bar", want: Ok(&[("1foo", Eq, "bar")]) },
        Case { name: "empty quoted name", input: r#"""="x""#, want: Ok(&[("", Eq, "x")]) },
        Case { name: "empty quoted value", input: r#"foo="""#, want: Ok(&[("foo", Eq, "")]) },
        Case { name: "colon value", input: "foo=:", want: Ok(&[("foo", Eq, ":")]) },
        Case { name: "comma", input: ",", want: Err("0:1: unexpected ,: expected label name") },
        Case { name: "comma in braces", input: "{,}", want: Err("1:2: unexpected ,: expected label name") },
        Case { name: "open brace", input: "{", want: Err("0:1: end of input: expected close brace") },
        Case { name: "close brace", input: "}", want: Err("0:1: }: expected opening brace") },
        Case { name: "no open brace", input: "foo=bar}", want: Err("0:8: }: expected opening brace") },
        Case {
            name: "no close brace",
            input: "{foo=bar",
            want: Err("0:8: end of input: expected close brace"),
        },
        Case {
            name: "invalid input after operator",
            input: r#"{foo=:"bar"}"#,
            want: Err(r#"6:11: unexpected "bar": expected a comma or close brace"#),
        },
        Case {
            name: "invalid escape",
            input: r#"{foo="bar\w"}"#,
            want: Err(r#"5:12: "bar\w": invalid input"#),
        },
        Case {
            name: "no unquoted escapes",
            input: r"{foo=bar\n}",
            want: Err(r"8:9: \: invalid input: expected a comma or close brace"),
        },
        Case {
            name: "invalid unicode",
            input: r#"{"foo"="\xf0\x9f"}"#,
            want: Err(r#"7:17: "\xf0\x9f": invalid input"#),
        },
        Case { name: "missing value", input: "foo=", want: Err("end of input: expected label value") },
        Case {
            name: "missing operator",
            input: "foo",
            want: Err("end of input: expected an operator such as '=', '!=', '=~' or '!~'"),
        },
        Case {
            name: "bang alone",
            input: "foo!bar",
            want: Err("3:4: !: expected one of '=~': expected an operator such as '=', '!=', '=~' or '!~'"),
        },
        Case {
            name: "double equals",
            input: "foo==bar",
            want: Err("4:5: unexpected =: expected label value"),
        },
        Case {
            name: "space separated",
            input: "foo=bar baz=qux",
            want: Err("8:11: unexpected baz: expected a comma or close brace"),
        },
        Case {
            name: "two commas",
            input: "foo=bar,,",
            want: Err("8:9: unexpected ,: expected a matcher or close brace after comma"),
        },
        Case { name: "extra close", input: "{foo=bar}}", want: Err("9:10: }: expected end of input") },
        Case { name: "text after close", input: "{foo=bar}x", want: Err("9:10: x: expected end of input") },
        Case {
            name: "unterminated",
            input: r#"foo="bar"#,
            want: Err(r#"4:8: "bar: missing end ": expected label value"#),
        },
        Case {
            name: "single quotes",
            input: "foo='bar'",
            want: Err("4:5: ': invalid input: expected label value"),
        },
        Case {
            name: "backticks",
            input: "foo=`bar`",
            want: Err("4:5: `: invalid input: expected label value"),
        },
        Case { name: "operator first", input: "=bar", want: Err("0:1: unexpected =: expected label name") },
        Case {
            name: "value with equals",
            input: "foo=a=b",
            want: Err("5:6: unexpected =: expected a comma or close brace"),
        },
        Case {
            name: "raw newline in quotes",
            input: "foo=\"a\nb\"",
            want: Err("4:9: \"a\nb\": invalid input"),
        },
    ];
    run(&cases, utf8::parse_matchers);
    run(&cases, |s| parse_matchers(s, ParseMode::Utf8Strict));
}

#[test]
fn invalid_regex_errors() {
    let e = classic::parse_matchers(r#"{foo=~"invalid[regexp"}"#).unwrap_err();
    assert!(e.0.starts_with("error parsing regexp: "), "{e}");
    let e = utf8::parse_matchers(r#"{foo=~"invalid[regexp"}"#).unwrap_err();
    assert!(e.0.starts_with("failed to create matcher: error parsing regexp: "), "{e}");
    let e = parse_matchers("foo=~(", ParseMode::Fallback).unwrap_err();
    assert!(e.0.starts_with("error parsing regexp: "), "{e}");
}

#[test]
fn fallback_mode() {
    struct FCase {
        input: &'static str,
        want: Result<(&'static [Want], Option<Fallback>), &'static str>,
    }
    let incompatible = |err: &str, suggestion: &str| {
        Some(Fallback::Incompatible { utf8_error: err.to_owned(), suggestion: suggestion.to_owned() })
    };
    let cases = [
        FCase { input: "foo=bar", want: Ok((&[("foo", Eq, "bar")], None)) },
        FCase { input: r#"{foo=~"a.*",b!="c"}"#, want: Ok((&[("foo", Re, "a.*"), ("b", Ne, "c")], None)) },
        FCase { input: "bad-name=1", want: Ok((&[("bad-name", Eq, "1")], None)) },
        FCase { input: r#"foo="a\tb""#, want: Ok((&[("foo", Eq, "a\\tb")], Some(Fallback::Disagreement))) },
        FCase {
            input: "foo=",
            want: Ok((&[("foo", Eq, "")], incompatible("end of input: expected label value", r#"foo="""#))),
        },
        FCase {
            input: "foo=bar baz",
            want: Ok((
                &[("foo", Eq, "bar baz")],
                incompatible("8:11: unexpected baz: expected a comma or close brace", r#"foo="bar baz""#),
            )),
        },
        FCase {
            input: "a=1,b=x y",
            want: Ok((
                &[("a", Eq, "1"), ("b", Eq, "x y")],
                incompatible("8:9: unexpected y: expected a comma or close brace", r#"a="1",b="x y""#),
            )),
        },
        FCase { input: "foo", want: Err("bad matcher format: foo") },
        FCase { input: r#"foo="bar"#, want: Err(r#"matcher value contains unescaped double quote: "bar"#) },
    ];
    for c in cases {
        let got = parse_matchers_detailed(c.input, ParseMode::Fallback);
        match (c.want, got) {
            (Ok((want, fb)), Ok(got)) => {
                let want: Vec<_> = want.iter().map(|(n, t, v)| (n.to_string(), *t, v.to_string())).collect();
                assert_eq!(triples(&got.value), want, "{}", c.input);
                assert_eq!(got.fallback, fb, "{}", c.input);
            }
            (Err(want), Err(got)) => assert_eq!(got.0, want, "{}", c.input),
            (want, got) => panic!("{}: want {want:?}, got {got:?}", c.input),
        }
    }
}

#[test]
fn single_matcher() {
    let cases: &[(&str, ParseMode, Result<Want, &str>)] = &[
        ("foo=bar", ParseMode::Fallback, Ok(("foo", Eq, "bar"))),
        ("foo=bar", ParseMode::Utf8Strict, Ok(("foo", Eq, "bar"))),
        ("foo=bar", ParseMode::Classic, Ok(("foo", Eq, "bar"))),
        (r#""a b"=~"x""#, ParseMode::Fallback, Ok(("a b", Re, "x"))),
        ("{foo=bar}", ParseMode::Fallback, Err("unexpected open or close brace: {foo=bar}")),
        ("{foo=bar}", ParseMode::Utf8Strict, Err("unexpected open or close brace: {foo=bar}")),
        ("foo=bar}", ParseMode::Utf8Strict, Err("unexpected open or close brace: foo=bar}")),
        ("{foo=bar}", ParseMode::Classic, Err("bad matcher format: {foo=bar}")),
        ("foo=bar,bar=baz", ParseMode::Utf8Strict, Err("expected 1 matcher, found 2")),
        // Upstream quirk: classic takes everything after the operator, commas included.
        ("foo=bar,bar=baz", ParseMode::Fallback, Ok(("foo", Eq, "bar,bar=baz"))),
        ("foo=bar,bar=baz", ParseMode::Classic, Ok(("foo", Eq, "bar,bar=baz"))),
        ("", ParseMode::Utf8Strict, Err("no matchers")),
        ("", ParseMode::Fallback, Err("bad matcher format: ")),
        ("foo=bar,", ParseMode::Utf8Strict, Ok(("foo", Eq, "bar"))),
        (r#"foo="\xf0\x9f""#, ParseMode::Utf8Strict, Err(r#"4:14: "\xf0\x9f": invalid input"#)),
        (r#"foo="\xf0\x9f""#, ParseMode::Fallback, Ok(("foo", Eq, r"\xf0\x9f"))),
    ];
    for (input, mode, want) in cases {
        let got = parse_matcher(input, *mode).map(|m| (m.name.clone(), m.ty, m.value.clone()));
        let want =
            want.map(|(n, t, v)| (n.to_owned(), t, v.to_owned())).map_err(|e| ParseError(e.to_owned()));
        assert_eq!(got, want, "{input:?} {mode:?}");
    }
}

#[test]
fn name_validation_per_mode() {
    assert!(ParseMode::Fallback.is_valid_label_name("bad-name"));
    assert!(ParseMode::Utf8Strict.is_valid_label_name("ünïcode"));
    assert!(!ParseMode::Fallback.is_valid_label_name(""));
    assert!(!ParseMode::Classic.is_valid_label_name("bad-name"));
    assert!(ParseMode::Classic.is_valid_label_name("good_name"));
}

/// Display must parse back to the same matcher in every mode that can express it (names with characters
/// outside the classic name rule cannot exist in classic mode). Empty names are the one exception: upstream
/// renders them as `=""`, which no parser accepts, and we keep upstream's rendering.
#[test]
fn display_round_trips() {
    let names = [
        "a",
        "foo_bar",
        "a:b",
        "_x",
        "Z9",
        "bad-name",
        "1a",
        "with space",
        "ünïcode",
        "a=b",
        "quo\"te",
        "back\\slash",
        "{x}",
        "tab\tname",
        "\u{85}nel",
        "emoji🙂",
        "a,b",
        "it's",
        "`tick`",
        "tilde~",
    ];
    let values = [
        "",
        "a",
        " a ",
        "a\"b",
        "a\\",
        "\\",
        "\\n",
        "\n",
        "\t",
        "\r\n",
        "🙂",
        "a,b",
        "{}",
        "x=y",
        "\u{0}",
        "\u{85}",
        "\u{200b}",
        "'`",
        "\"",
        "\\\"",
        "a\\\"b,c\"",
        ".*",
        "5..|4..",
        "}",
        "{",
        ",",
        "  ",
        "\u{7f}\u{1b}",
    ];
    let mut checked = 0;
    for name in names {
        for value in values {
            for ty in [Eq, Ne, Re, Nre] {
                let Ok(m) = Matcher::new(ty, name, value) else { continue };
                let rendered = m.to_string();
                let mut modes = vec![ParseMode::Fallback, ParseMode::Utf8Strict];
                if crate::labels::is_classic_label_name(name) || name == "a:b" {
                    modes.push(ParseMode::Classic);
                }
                for mode in modes {
                    let back = parse_matcher(&rendered, mode)
                        .unwrap_or_else(|e| panic!("{mode:?} rejects {rendered:?} (from {m:?}): {e}"));
                    assert_eq!(back, m, "{mode:?} {rendered:?}");
                    let list = Matchers(vec![m.clone(), m.clone()]).to_string();
                    let back = parse_matchers(&list, mode)
                        .unwrap_or_else(|e| panic!("{mode:?} rejects list {list:?}: {e}"));
                    assert_eq!(back, vec![m.clone(), m.clone()], "{mode:?} {list:?}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 2000, "{checked}");
}

/// Every accepted input of the tables above also round-trips through Display.
#[test]
fn accepted_inputs_round_trip() {
    let inputs = [
        r#"{foo="bar", baz!="quux"}"#,
        r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#,
        "tricky=~~~",
        r#"trickier==\\=\=\""#,
        r#"contains_quote != "\"" , contains_comma !~ "foo,bar" , "#,
        "job=",
        "{a=b}}",
        r"foo=bar\",
        r#"foo="a\tb\n""#,
        r#"{"foo"="\xf0\x9f\x99\x82"}"#,
        r#"{"foo"="bar\n\t\"\\"}"#,
        " { foo = bar , \"a b\" !~ \"c.*\" , } ",
        "bad-name=1",
        "1foo=bar",
    ];
    for mode in [ParseMode::Fallback, ParseMode::Utf8Strict, ParseMode::Classic] {
        for input in inputs {
            let Ok(ms) = parse_matchers(input, mode) else { continue };
            for m in &ms {
                assert_eq!(parse_matcher(&m.to_string(), mode).as_ref(), Ok(m), "{mode:?} {input:?}");
            }
        }
    }
}

/// Exhaustive small inputs: no parser panics, and whatever is accepted round-trips through Display.
#[test]
fn exhaustive_short_inputs_never_panic_and_round_trip() {
    let alphabet = ['{', '}', '!', '=', '~', ',', '\\', '"', '\'', ' ', 'a', '1', '🙂', '\n', ':'];
    let mut inputs = vec![String::new()];
    let mut frontier = vec![String::new()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for prefix in &frontier {
            for c in alphabet {
                let mut s = prefix.clone();
                s.push(c);
                next.push(s);
            }
        }
        inputs.extend(next.iter().cloned());
        frontier = next;
    }
    let mut accepted = 0;
    for input in &inputs {
        for mode in [ParseMode::Fallback, ParseMode::Utf8Strict, ParseMode::Classic] {
            let _ = parse_matcher(input, mode);
            let Ok(ms) = parse_matchers(input, mode) else { continue };
            for m in ms.iter().filter(|m| !m.name.is_empty()) {
                accepted += 1;
                assert_eq!(parse_matcher(&m.to_string(), mode).as_ref(), Ok(m), "{mode:?} {input:?}");
            }
        }
    }
    assert!(accepted > 1000, "{accepted}");
}
