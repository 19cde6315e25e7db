//! The result table: one row per metric, a column per server, the ratio tocsin ÷ Alertmanager and the target verdict.

use crate::server::ServerKind;
use std::fmt::Write as _;

/// How a value is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Alerts per second of wall time.
    AlertsPerSecond,
    /// Alerts per second of server CPU time.
    AlertsPerCpuSecond,
    /// Bytes, printed in MiB.
    Bytes,
    /// Milliseconds.
    Millis,
    /// Operations (silence creations) per second of wall time.
    PerSecond,
    /// Percent of one CPU core.
    CpuPercent,
    /// Bytes per second (network traffic).
    BytesPerSecond,
}

/// A goal for tocsin, from the issues.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// tocsin ÷ Alertmanager ≥ x.
    RatioAtLeast(f64),
    /// tocsin ÷ Alertmanager ≤ x.
    RatioAtMost(f64),
    /// tocsin's own value ≤ x (in the metric's unit).
    AtMost(f64),
}

/// What a row measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Stable identifier, the row's identity across columns.
    pub key: String,
    /// The row's text.
    pub label: String,
    pub unit: Unit,
    pub target: Option<Target>,
}

/// One measured value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub metric: Metric,
    pub value: f64,
}

/// Everything measured on one server.
#[derive(Debug, Clone)]
pub struct Column {
    pub kind: ServerKind,
    /// Why the server was not run (binary missing).
    pub missing: Option<String>,
    pub samples: Vec<Sample>,
    /// Scenario failures, printed under the table.
    pub errors: Vec<String>,
    /// Observations worth a footnote (e.g. a GET returned fewer alerts than were posted).
    pub notes: Vec<String>,
}

impl Column {
    pub fn new(kind: ServerKind) -> Self {
        Self { kind, missing: None, samples: Vec::new(), errors: Vec::new(), notes: Vec::new() }
    }

    pub fn value(&self, key: &str) -> Option<f64> {
        self.samples.iter().find(|s| s.metric.key == key).map(|s| s.value)
    }
}

/// PASS/FAIL of one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// Not computable (a value is missing).
    Pending,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Report {
    pub alerts: usize,
    pub checkpoint: usize,
    pub columns: Vec<Column>,
}

impl Report {
    pub fn new(alerts: usize, checkpoint: usize) -> Self {
        Self { alerts, checkpoint, columns: Vec::new() }
    }

    pub fn column(&self, kind: ServerKind) -> Option<&Column> {
        self.columns.iter().find(|c| c.kind == kind)
    }

    /// Every metric measured on any server, in first-seen order.
    pub fn metrics(&self) -> Vec<&Metric> {
        let mut out: Vec<&Metric> = Vec::new();
        for s in self.columns.iter().flat_map(|c| &c.samples) {
            if !out.iter().any(|m| m.key == s.metric.key) {
                out.push(&s.metric);
            }
        }
        out
    }

    /// tocsin ÷ Alertmanager for one metric.
    pub fn ratio(&self, key: &str) -> Option<f64> {
        let am = self.column(ServerKind::Alertmanager)?.value(key)?;
        let t = self.column(ServerKind::Tocsin)?.value(key)?;
        (am > 0.0).then_some(t / am)
    }

    pub fn verdict(&self, metric: &Metric) -> Option<Verdict> {
        let target = metric.target?;
        let got = match target {
            Target::RatioAtLeast(_) | Target::RatioAtMost(_) => self.ratio(&metric.key),
            Target::AtMost(_) => self.column(ServerKind::Tocsin).and_then(|c| c.value(&metric.key)),
        };
        let Some(got) = got else {
            // A tocsin that ran and produced no value failed; one not built yet is pending.
            let ran =
                self.column(ServerKind::Tocsin).is_some_and(|c| c.missing.is_none() && !c.errors.is_empty());
            return Some(if ran { Verdict::Fail } else { Verdict::Pending });
        };
        let pass = match target {
            Target::RatioAtLeast(x) => got >= x,
            Target::RatioAtMost(x) | Target::AtMost(x) => got <= x,
        };
        Some(if pass { Verdict::Pass } else { Verdict::Fail })
    }

    /// The Markdown table plus footnotes for skipped servers, errors and notes.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| Metric | Alertmanager 0.25 | tocsin | tocsin ÷ AM | Target | Result |");
        let _ = writeln!(out, "|---|---:|---:|---:|---|---|");
        for m in self.metrics() {
            let cell = |kind| match self.column(kind) {
                None => "n/a".to_owned(),
                Some(c) => match (c.value(&m.key), &c.missing, c.errors.is_empty()) {
                    (Some(v), _, _) => format_value(m.unit, v),
                    (None, Some(_), _) if kind == ServerKind::Tocsin => "pending".to_owned(),
                    (None, Some(_), _) => "skipped".to_owned(),
                    (None, None, false) => "error".to_owned(),
                    (None, None, true) => "–".to_owned(),
                },
            };
            let ratio = self.ratio(&m.key).map_or("–".to_owned(), |r| format!("{}×", sig(r)));
            let target = m.target.map_or(String::new(), |t| format_target(t, m.unit));
            let verdict = match self.verdict(m) {
                None => "",
                Some(Verdict::Pass) => "PASS",
                Some(Verdict::Fail) => "FAIL",
                Some(Verdict::Pending) => "pending",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {ratio} | {target} | {verdict} |",
                m.label,
                cell(ServerKind::Alertmanager),
                cell(ServerKind::Tocsin)
            );
        }
        for c in &self.columns {
            if let Some(why) = &c.missing {
                let _ = writeln!(out, "\n{}: not run ({why}).", c.kind.name());
            }
            for e in &c.errors {
                let _ = writeln!(out, "\n{}: error in {e}", c.kind.name());
            }
            for n in &c.notes {
                let _ = writeln!(out, "\n{}: note: {n}", c.kind.name());
            }
        }
        out
    }
}

fn format_target(t: Target, unit: Unit) -> String {
    match t {
        Target::RatioAtLeast(x) => format!("≥ {}×", sig(x)),
        Target::RatioAtMost(x) => format!("≤ {}× (1/{})", sig(x), sig(1.0 / x)),
        Target::AtMost(x) => format!("≤ {}", format_value(unit, x)),
    }
}

/// A value with its unit and a precision that suits it.
pub fn format_value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::AlertsPerSecond => format!("{} /s", thousands(v)),
        Unit::AlertsPerCpuSecond => format!("{} /CPU-s", thousands(v)),
        Unit::Bytes => format!("{:.1} MiB", v / (1024.0 * 1024.0)),
        Unit::Millis if v >= 1000.0 => format!("{:.2} s", v / 1000.0),
        Unit::Millis => format!("{} ms", sig(v)),
        Unit::PerSecond => format!("{} /s", thousands(v)),
        Unit::CpuPercent => format!("{} % CPU", sig(v)),
        Unit::BytesPerSecond if v >= 10_240.0 => format!("{} KiB/s", sig(v / 1024.0)),
        Unit::BytesPerSecond => format!("{} B/s", thousands(v)),
    }
}

/// Three significant digits, without a trailing ".0".
fn sig(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// 45123.7 → "45,124".
fn thousands(v: f64) -> String {
    let n = v.round().max(0.0) as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// 100000 → "100k", 2500 → "2,500".
pub fn count(n: usize) -> String {
    if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        thousands(n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(key: &str, unit: Unit, target: Option<Target>) -> Metric {
        Metric { key: key.into(), label: key.into(), unit, target }
    }

    #[test]
    fn formats_values() {
        struct Case {
            name: &'static str,
            input: (Unit, f64),
            want: &'static str,
        }
        let cases = [
            Case { name: "rate", input: (Unit::AlertsPerSecond, 45_123.7), want: "45,124 /s" },
            Case { name: "cpu rate", input: (Unit::AlertsPerCpuSecond, 999.0), want: "999 /CPU-s" },
            Case { name: "mib", input: (Unit::Bytes, 240.0 * 1024.0 * 1024.0), want: "240.0 MiB" },
            Case { name: "seconds", input: (Unit::Millis, 2_600.0), want: "2.60 s" },
            Case { name: "ms", input: (Unit::Millis, 95.26), want: "95.3 ms" },
            Case { name: "small ms", input: (Unit::Millis, 1.5), want: "1.5 ms" },
            Case { name: "negative ms", input: (Unit::Millis, -0.25), want: "-0.25 ms" },
            Case { name: "per second", input: (Unit::PerSecond, 1234.4), want: "1,234 /s" },
            Case { name: "cpu", input: (Unit::CpuPercent, 12.34), want: "12.3 % CPU" },
            Case { name: "bytes/s", input: (Unit::BytesPerSecond, 900.0), want: "900 B/s" },
            Case { name: "KiB/s", input: (Unit::BytesPerSecond, 20_480.0), want: "20 KiB/s" },
        ];
        for c in cases {
            assert_eq!(format_value(c.input.0, c.input.1), c.want, "{}", c.name);
        }
        assert_eq!(count(100_000), "100k");
        assert_eq!(count(2_500), "2,500");
    }

    #[test]
    fn verdicts_and_pending_column() {
        let rate = metric("rate", Unit::AlertsPerSecond, Some(Target::RatioAtLeast(10.0)));
        let rss = metric("rss", Unit::Bytes, Some(Target::RatioAtMost(0.2)));
        let ready = metric("ready", Unit::Millis, Some(Target::AtMost(20.0)));
        let mut am = Column::new(ServerKind::Alertmanager);
        am.samples = vec![
            Sample { metric: rate.clone(), value: 40_000.0 },
            Sample { metric: rss.clone(), value: 100.0 },
            Sample { metric: ready.clone(), value: 95.0 },
        ];
        let mut t = Column::new(ServerKind::Tocsin);
        t.samples = vec![
            Sample { metric: rate.clone(), value: 500_000.0 },
            Sample { metric: rss.clone(), value: 30.0 },
        ];
        let mut r = Report::new(100_000, 10_000);
        r.columns = vec![am.clone(), t];
        assert_eq!(r.verdict(&rate), Some(Verdict::Pass));
        assert_eq!(r.verdict(&rss), Some(Verdict::Fail));
        assert_eq!(r.verdict(&ready), Some(Verdict::Pending));

        let mut missing = Column::new(ServerKind::Tocsin);
        missing.missing = Some("target/release/tocsin not found".into());
        r.columns = vec![am, missing];
        let md = r.to_markdown();
        assert!(md.contains("| rate | 40,000 /s | pending | – | ≥ 10× | pending |"), "{md}");
        assert!(md.contains("tocsin: not run (target/release/tocsin not found)."), "{md}");
    }
}
