//! Fingerprints: the identity of an alert, equal to Prometheus' `model.LabelSet.Fingerprint()` so that values shown
//! in the API, sent in webhooks and stored on disk are the ones operators already see from Alertmanager.

use crate::labels::LabelSet;
use std::fmt;

const FNV_OFFSET: u64 = 14_695_981_039_346_656_037;
const FNV_PRIME: u64 = 1_099_511_628_211;
/// Prometheus' `model.SeparatorByte`.
pub const SEPARATOR: u8 = 0xff;

/// FNV-1a over `name 0xff value 0xff` for the labels sorted by name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// Hashes `(name, value)` pairs that the caller yields sorted by name.
    pub fn from_sorted_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut h = FNV_OFFSET;
        for (name, value) in pairs {
            h = fnv_add(h, name.as_bytes());
            h = fnv_add(h, &[SEPARATOR]);
            h = fnv_add(h, value.as_bytes());
            h = fnv_add(h, &[SEPARATOR]);
        }
        Fingerprint(h)
    }

    /// Parses the 16-hex-digit form used by the API.
    pub fn parse(s: &str) -> Option<Self> {
        u64::from_str_radix(s, 16).ok().map(Fingerprint)
    }
}

/// The alert hash of the dedup stage (upstream `notify.hashAlert`): xxHash64 with seed 0 over
/// `name 0xff value 0xff` for the labels sorted by name. The notification log stores these values as its
/// firing/resolved sets, gossips them and writes them to disk, so they must equal Alertmanager's bit for bit.
pub fn hash_xxh64(labels: &LabelSet) -> u64 {
    let mut h = xxhash_rust::xxh64::Xxh64::new(0);
    for (name, value) in labels.iter() {
        h.update(name.as_bytes());
        h.update(&[SEPARATOR]);
        h.update(value.as_bytes());
        h.update(&[SEPARATOR]);
    }
    h.digest()
}

#[inline]
fn fnv_add(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({:016x})", self.0)
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        labels: &'static [(&'static str, &'static str)],
        /// `fingerprint` as returned by GET /api/v2/alerts.
        fingerprint: &'static str,
        /// The alert's hash in the `firing_alerts` set of the nflog entry for its group.
        xxh64: u64,
    }

    /// Captured from the real Alertmanager 0.25.0 (`/usr/bin/prometheus-alertmanager`) on 127.0.0.1: a config
    /// with one webhook receiver (a local sink answering 200), `group_by: ['...']` and `group_wait: 0s`, so each
    /// alert got its own group and notification. The alerts below were POSTed to /api/v2/alerts, read back with
    /// GET /api/v2/alerts (fingerprints), then AM was stopped with SIGTERM and the varint-delimited `MeshEntry`
    /// records of `<storage.path>/nflog` were decoded: each entry's group key names the labels and its
    /// `firing_alerts` holds the single `hashAlert` value.
    const CASES: &[Case] = &[
        Case { labels: &[("alertname", "A")], fingerprint: "d2c6efc389df0927", xxh64: 0xf7b108d04c3b55fc },
        Case {
            labels: &[
                ("alertname", "HighLatency"),
                ("instance", "10.0.0.1:9090"),
                ("job", "api"),
                ("severity", "critical"),
            ],
            fingerprint: "e2520b5776801b44",
            xxh64: 0xeaa5289ee88b9c0a,
        },
        Case {
            labels: &[("alertname", "Unicode"), ("msg", "héllo wörld ✓ 日本語 🙂")],
            fingerprint: "fe674efd10d806f6",
            xxh64: 0x5cbc7b95eab81177,
        },
        Case {
            labels: &[("alertname", "Quotes"), ("q", "say \"hi\""), ("sq", "it's")],
            fingerprint: "03a550d883913f23",
            xxh64: 0x4eaf2f6dbee4ad03,
        },
        Case {
            labels: &[("alertname", "Backslash"), ("path", "C:\\Windows\\System32"), ("re", "a\\.b\\d+")],
            fingerprint: "8e63ce78ad374114",
            xxh64: 0x4998a427d9ddd4e7,
        },
        Case {
            labels: &[("alertname", "Newline"), ("text", "line1\nline2\ttab")],
            fingerprint: "7e8452e9b177a2c4",
            xxh64: 0xc52a1938ee5c8cc2,
        },
        Case {
            labels: &[
                ("alertname", "Many"),
                ("l00", "v0"),
                ("l01", "v1"),
                ("l02", "v2"),
                ("l03", "v3"),
                ("l04", "v4"),
                ("l05", "v5"),
                ("l06", "v6"),
                ("l07", "v7"),
                ("l08", "v8"),
                ("l09", "v9"),
                ("l10", "v10"),
                ("l11", "v11"),
                ("l12", "v12"),
                ("l13", "v13"),
                ("l14", "v14"),
                ("l15", "v15"),
                ("l16", "v16"),
                ("l17", "v17"),
                ("l18", "v18"),
                ("l19", "v19"),
            ],
            fingerprint: "565dc6a417d6643b",
            xxh64: 0x835b897f8d371071,
        },
        Case { labels: &[("only_one", "label")], fingerprint: "18c05215caac549a", xxh64: 0x4ad782c0d31c237d },
        Case {
            labels: &[("alertname", "Sep"), ("weird", "\u{ff}\u{fe}"), ("zz", "end")],
            fingerprint: "6c794329ee6a6b47",
            xxh64: 0x0080e4a94fa993e5,
        },
        Case {
            labels: &[("a", " "), ("alertname", "Empty-ish"), ("b", "  spaced  ")],
            fingerprint: "7df429ba5fbabe77",
            xxh64: 0x028d5cf0a57eb9fb,
        },
        Case {
            labels: &[("alertname", "Braces"), ("m", "{a=\"b\",c!~\"d\"}"), ("x_y", "1")],
            fingerprint: "53086642c7090d1e",
            xxh64: 0xc9458f129a5e23ef,
        },
    ];

    #[test]
    fn fingerprints_and_dedup_hashes_match_alertmanager_0_25() {
        for case in CASES {
            // Insert in reverse to show the order of insertion does not matter.
            let labels: LabelSet = case.labels.iter().rev().copied().collect();
            assert_eq!(labels.fingerprint().to_string(), case.fingerprint, "{labels}");
            assert_eq!(hash_xxh64(&labels), case.xxh64, "{labels}");
        }
    }

    #[test]
    fn empty_label_set() {
        // FNV-1a offset basis and xxHash64("") with seed 0.
        assert_eq!(LabelSet::new().fingerprint().to_string(), "cbf29ce484222325");
        assert_eq!(hash_xxh64(&LabelSet::new()), 0xef46db3751d8e999);
    }

    #[test]
    fn parse_round_trips_display() {
        let fp = Fingerprint(0x03a5_50d8_8391_3f23);
        assert_eq!(Fingerprint::parse(&fp.to_string()), Some(fp));
        assert_eq!(Fingerprint::parse("zz"), None);
    }
}
