//! What the kernel says a server uses: resident memory and CPU time, read from `/proc/<pid>`.

use anyhow::{anyhow, Context, Result};
use std::sync::OnceLock;

/// VmRSS of a process, in bytes.
pub fn rss_bytes(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("read /proc/<pid>/status")?;
    parse_vm_rss(&status).ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}

/// CPU time (utime + stime of all threads) of a process, in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).context("read /proc/<pid>/stat")?;
    let ticks = parse_cpu_ticks(&stat).ok_or_else(|| anyhow!("unparsable /proc/{pid}/stat"))?;
    Ok(ticks as f64 / clock_ticks_per_second() as f64)
}

/// `getconf CLK_TCK`, or 100 (every Linux we run on) when getconf is unavailable.
pub fn clock_ticks_per_second() -> u64 {
    static TCK: OnceLock<u64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// `VmRSS:   12345 kB` → bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// utime + stime (fields 14 and 15). The command name (field 2) may contain spaces and parentheses, so fields are
/// counted from the last ')'.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14 → index 11, stime index 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_rss() {
        struct Case {
            name: &'static str,
            input: &'static str,
            want: Option<u64>,
        }
        let cases = [
            Case {
                name: "typical",
                input: "Name:\tx\nVmHWM:\t  10 kB\nVmRSS:\t  2048 kB\n",
                want: Some(2048 * 1024),
            },
            Case { name: "missing", input: "Name:\tx\n", want: None },
            Case { name: "garbage", input: "VmRSS:\tlots kB\n", want: None },
        ];
        for c in cases {
            assert_eq!(parse_vm_rss(c.input), c.want, "{}", c.name);
        }
    }

    #[test]
    fn parses_cpu_ticks() {
        struct Case {
            name: &'static str,
            input: &'static str,
            want: Option<u64>,
        }
        let cases = [
            Case {
                name: "typical",
                input: "42 (tocsin) S 1 42 42 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 4 0 100 1000 200",
                want: Some(22),
            },
            Case {
                name: "name with spaces and parens",
                input: "42 (a) b (c) R 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 4 0 100 1000 200",
                want: Some(10),
            },
            Case { name: "truncated", input: "42 (x) S 1 2", want: None },
        ];
        for c in cases {
            assert_eq!(parse_cpu_ticks(c.input), c.want, "{}", c.name);
        }
    }

    #[test]
    fn reads_own_process() {
        let pid = std::process::id();
        assert!(rss_bytes(pid).expect("rss") > 0);
        assert!(cpu_seconds(pid).expect("cpu") >= 0.0);
    }
}
