//! Fuzz-style robustness of the parsers that take operator and API input: random strings must yield `Ok` or
//! `Err`, never a panic. Seeded and bounded, so deterministic and fast.

use tocsin_model::duration::{parse_go_duration, parse_prom_duration};
use tocsin_model::fingerprint::Fingerprint;
use tocsin_model::time::parse_rfc3339;
use tocsin_model::{parse_matcher, parse_matchers, ParseMode};

/// xorshift64*: deterministic, no RNG dependency.
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
    fn string(&mut self, pieces: &[&str], max: usize) -> String {
        let mut s = String::new();
        for _ in 0..self.below(max) {
            if self.below(6) == 0 {
                s.push(char::from_u32(self.below(0x11_0000) as u32).unwrap_or('\u{FFFD}'));
            } else {
                s.push_str(pieces[self.below(pieces.len())]);
            }
        }
        s
    }
}

const MATCHER_PIECES: &[&str] = &[
    "{", "}", "=", "!=", "=~", "!~", "!", "~", ",", "\"", "\\", "\\\"", "\\n", "\\x", "\\u00e9", " ", "\t",
    "\n", "a", "foo", "_", "0", "é", "🙂", "(", ")", "[", "]", ".*", "|", "*", "+", "?", "\\d", "\u{0}",
    "\u{FEFF}",
];

#[test]
fn random_matchers_never_panic() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    for _ in 0..30_000 {
        let s = rng.string(MATCHER_PIECES, 24);
        for mode in [ParseMode::Fallback, ParseMode::Utf8Strict, ParseMode::Classic] {
            let _ = parse_matchers(&s, mode);
            let _ = parse_matcher(&s, mode);
        }
    }
}

/// Parsed matchers render to text that parses back to the same matchers (the API and amtool rely on it).
#[test]
fn parsed_matchers_round_trip() {
    let mut rng = Rng(7);
    let mut checked = 0;
    for _ in 0..30_000 {
        let s = rng.string(MATCHER_PIECES, 12);
        let Ok(ms) = parse_matchers(&s, ParseMode::Utf8Strict) else { continue };
        let text = ms.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        let back = parse_matchers(&text, ParseMode::Utf8Strict)
            .unwrap_or_else(|e| panic!("{s:?} rendered as {text:?} does not parse: {e}"));
        assert_eq!(back, ms, "{s:?} rendered as {text:?}");
        checked += 1;
    }
    assert!(checked > 100, "the generator produced too few valid inputs ({checked})");
}

#[test]
fn pathological_matchers_are_errors() {
    let n = 100_000;
    for s in [
        "{".repeat(n),
        "}".repeat(n),
        format!("{{{}}}", "a=b,".repeat(n)),
        format!("a=~\"{}{}\"", "(".repeat(n), ")".repeat(n)),
        format!("a=\"{}", "\\".repeat(n)),
        "\"".repeat(n),
        "🙂".repeat(n),
    ] {
        for mode in [ParseMode::Fallback, ParseMode::Utf8Strict, ParseMode::Classic] {
            let _ = parse_matchers(&s, mode);
            let _ = parse_matcher(&s, mode);
        }
    }
}

const DURATION_PIECES: &[&str] = &[
    "1",
    "0",
    "9",
    "99999999999999999999",
    ".",
    "-",
    "+",
    "h",
    "m",
    "s",
    "ms",
    "us",
    "µs",
    "ns",
    "d",
    "w",
    "y",
    "e",
];

#[test]
fn random_durations_times_and_fingerprints_never_panic() {
    let mut rng = Rng(99);
    for _ in 0..30_000 {
        let s = rng.string(DURATION_PIECES, 10);
        let _ = parse_prom_duration(&s);
        let _ = parse_go_duration(&s);
        let _ = Fingerprint::parse(&s);
        let t = rng.string(&["2024", "-", "01", "T", ":", "Z", "+", ".", "999999999999", "9"], 12);
        let _ = parse_rfc3339(&t);
    }
}
