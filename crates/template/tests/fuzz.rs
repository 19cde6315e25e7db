//! Fuzz-style robustness: random and pathological templates must yield `Ok` or `Err`, never a panic or a stack
//! overflow. Seeded and bounded so the test is deterministic and fast.

use tocsin_template::{Template, Value};

/// A tiny deterministic generator (xorshift64*), so the test needs no RNG dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Fragments that exercise the lexer, parser and executor more than random bytes would.
const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    "(",
    ")",
    "|",
    ".",
    ".Labels",
    ".Alerts",
    "$",
    "$x",
    ":=",
    "=",
    ",",
    "\"",
    "'",
    "`",
    "\\",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "\"a\"",
    "'x'",
    "1",
    "-1",
    "0x",
    "1e",
    "1.5",
    "nil",
    "true",
    "printf",
    "index",
    "slice",
    "len",
    "eq",
    "lt",
    "toUpper",
    "reReplaceAll",
    "humanizeDuration",
    "title",
    "join",
    "call",
    "/*",
    "*/",
    "é",
    "🙂",
    "\u{0}",
    "\n",
    "x",
    "{",
    "}",
    "%",
    "%v",
    "%d",
    "%s",
    "%[2]q",
    "%*d",
    "9999999999999999999",
    "-9223372036854775808",
];

fn random_template(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(40) {
        if rng.below(8) == 0 {
            // A random char, possibly multi-byte, to hit byte-offset slicing.
            let c = char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{FFFD}');
            s.push(c);
        } else {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        }
    }
    s
}

fn dot() -> Value {
    Value::Map(
        [
            ("x".to_string(), Value::String("héllo".into())),
            ("n".to_string(), Value::Int(3)),
            ("l".to_string(), Value::List(vec![Value::Int(1), Value::String("b".into())])),
        ]
        .into(),
    )
}

#[test]
fn random_templates_never_panic() {
    let t = Template::with_defaults();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let text = random_template(&mut rng);
        let _ = t.render_value(&text, dot());
        let mut file = Template::new();
        let _ = file.parse_file("f", &text);
    }
}

#[test]
fn random_actions_never_panic() {
    let t = Template::with_defaults();
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let text = format!("{{{{ {} }}}}", random_template(&mut rng).replace("{{", "").replace("}}", ""));
        let _ = t.render_value(&text, dot());
    }
}

/// Deep nesting must end in an error, not a stack overflow (Go: "max expression depth exceeded").
#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let t = Template::new();
    let n = 100_000;
    let parens = format!("{{{{{}1{}}}}}", "(".repeat(n), ")".repeat(n));
    assert!(t.render_value(&parens, Value::Nil).is_err());
    let ifs = format!("{}x{}", "{{if 1}}".repeat(n), "{{end}}".repeat(n));
    assert!(t.render_value(&ifs, Value::Nil).is_err());
    let ranges = format!("{}x{}", "{{range .}}".repeat(n), "{{end}}".repeat(n));
    assert!(t.render_value(&ranges, Value::Nil).is_err());
    let withs = format!("{}x{}", "{{with 1}}".repeat(n), "{{end}}".repeat(n));
    assert!(t.render_value(&withs, Value::Nil).is_err());
    let blocks = format!("{}x{}", "{{block \"b\" .}}".repeat(n), "{{end}}".repeat(n));
    assert!(t.render_value(&blocks, Value::Nil).is_err());
    let else_ifs = format!("{{{{if 0}}}}{}{{{{end}}}}", "{{else if 0}}".repeat(n));
    let err = t.render_value(&else_ifs, Value::Nil).unwrap_err();
    assert!(err.to_string().contains("max expression depth exceeded"), "{err}");
}

/// Moderate nesting, well within Go's limits, still works.
#[test]
fn moderate_nesting_works() {
    let t = Template::new();
    let n = 100;
    let parens = format!("{{{{{}1{}}}}}", "(".repeat(n), ")".repeat(n));
    assert_eq!(t.render_value(&parens, Value::Nil).unwrap(), "1");
    let ifs = format!("{}x{}", "{{if 1}}".repeat(n), "{{end}}".repeat(n));
    assert_eq!(t.render_value(&ifs, Value::Nil).unwrap(), "x");
}

/// Mutual recursion between templates stops at the depth limit.
#[test]
fn template_recursion_is_bounded() {
    let t = Template::new();
    let text =
        r#"{{define "a"}}{{template "b" .}}{{end}}{{define "b"}}{{template "a" .}}{{end}}{{template "a" .}}"#;
    let err = t.render_value(text, Value::Nil).unwrap_err();
    assert!(err.to_string().contains("exceeded maximum template depth"), "{err}");
}

/// The worst case the limits allow (a recursive template nesting controls at every level, with deeply
/// parenthesised pipelines at the leaf) fits in a tokio worker's 2 MiB stack, even in a debug build.
#[test]
fn worst_case_fits_a_worker_stack() {
    let n = 99;
    // A recursive template with `ifs` nested controls around a `parens`-deep pipeline and the recursive call.
    let recursive = |ifs: usize, parens: usize| {
        format!(
            "{{{{define \"a\"}}}}{}{{{{{}1{}}}}}{{{{template \"a\" .}}}}{}{{{{end}}}}{{{{template \"a\" .}}}}",
            "{{if 1}}".repeat(ifs),
            "(".repeat(parens),
            ")".repeat(parens),
            "{{end}}".repeat(ifs)
        )
    };
    let cases = [
        recursive(n, 0),
        recursive(1, n - 1),
        recursive(0, n),
        r#"{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}"#.to_string(),
        format!("{{{{if 0}}}}{}{{{{end}}}}", "{{else if 0}}".repeat(n - 1)),
    ];
    for text in cases {
        let r = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || Template::new().render_value(&text, Value::Nil).map(|s| s.len()))
            .unwrap()
            .join()
            .expect("no stack overflow");
        if let Err(e) = r {
            assert!(e.to_string().contains("exceeded maximum template depth"), "{e}");
        }
    }
}
