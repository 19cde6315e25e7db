//! `tocsin-bench`: see the library docs. Prints progress on stderr and the Markdown table on stdout.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use tocsin_bench::{Options, Scenario, DEFAULT_ALERTMANAGER};

const USAGE: &str = "usage: tocsin-bench [--tocsin PATH] [--alertmanager PATH] [--alerts N] [--quick]
                    [--connections N] [--scenario NAME]...
  --tocsin PATH        tocsin binary (its column is 'pending' when missing)
  --alertmanager PATH  Alertmanager 0.25 binary (default /usr/bin/prometheus-alertmanager; skipped when missing)
  --alerts N           active alerts at the end of the ingest (default 100000; checkpoint at N/10)
  --quick              a tenth of every size (10000 alerts, 1000 dispatch groups...), for a smoke run
  --connections N      concurrent POST connections (default 4)
  --scenario NAME      run only this scenario (repeatable): ";

fn parse(args: &[String]) -> Result<Option<Options>> {
    let mut opts = Options::default();
    let mut scenarios = Vec::new();
    let mut alerts: Option<usize> = None;
    let mut quick = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it.next().cloned().with_context(|| format!("{flag} needs a value")),
            }
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--tocsin" => opts.tocsin = Some(PathBuf::from(value()?)),
            "--alertmanager" => {
                let v = value()?;
                opts.alertmanager = (!v.is_empty()).then(|| PathBuf::from(v));
            }
            "--alerts" => alerts = Some(value()?.parse().context("--alerts takes a number")?),
            "--quick" => {
                quick = true;
                alerts = alerts.or(Some(10_000));
            }
            "--connections" => opts.connections = value()?.parse().context("--connections takes a number")?,
            "--scenario" => {
                for name in value()?.split(',') {
                    match Scenario::from_name(name) {
                        Some(s) => scenarios.push(s),
                        None => bail!("unknown scenario {name:?}; known: {}", scenario_names()),
                    }
                }
            }
            other => bail!("unknown argument {other:?}\n{USAGE}{}", scenario_names()),
        }
    }
    if let Some(n) = alerts {
        opts = opts.with_alerts(n);
    }
    if quick {
        opts = opts.shrunk();
    }
    if !scenarios.is_empty() {
        opts.scenarios = scenarios;
    }
    if opts.connections == 0 {
        bail!("--connections must be at least 1");
    }
    Ok(Some(opts))
}

fn scenario_names() -> String {
    Scenario::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(opts) = parse(&args)? else {
        println!("{USAGE}{}", scenario_names());
        return Ok(());
    };
    if opts.alertmanager.as_deref() == Some(std::path::Path::new(DEFAULT_ALERTMANAGER))
        && !std::path::Path::new(DEFAULT_ALERTMANAGER).is_file()
    {
        eprintln!("bench: {DEFAULT_ALERTMANAGER} is not installed; measuring tocsin alone (`make test-deps` installs it)");
    }
    // One client thread: the servers get the rest of the machine.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("tokio runtime")?;
    let report = rt.block_on(async {
        tokio::select! {
            r = tocsin_bench::run(&opts) => Some(r),
            // Dropping the run future drops the server guards, which kill their processes.
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let Some(report) = report else { bail!("interrupted; servers killed") };
    println!("{}", report.to_markdown());
    if report.columns.iter().all(|c| c.samples.is_empty()) {
        bail!("nothing was measured");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_flags() {
        struct Case {
            name: &'static str,
            input: &'static str,
            want: (usize, usize, Vec<Scenario>, Option<&'static str>),
        }
        let cases = [
            Case {
                name: "defaults",
                input: "--tocsin target/release/tocsin",
                want: (100_000, 10_000, Scenario::ALL.to_vec(), Some(DEFAULT_ALERTMANAGER)),
            },
            Case {
                name: "quick",
                input: "--quick",
                want: (10_000, 1_000, Scenario::ALL.to_vec(), Some(DEFAULT_ALERTMANAGER)),
            },
            Case {
                name: "inline values, no alertmanager, one scenario",
                input: "--alerts=2000 --alertmanager= --scenario ready",
                want: (2_000, 200, vec![Scenario::Ready], None),
            },
            Case {
                name: "explicit alerts win over --quick",
                input: "--alerts 50000 --quick --alertmanager /opt/am",
                want: (50_000, 5_000, Scenario::ALL.to_vec(), Some("/opt/am")),
            },
        ];
        for c in cases {
            let o = parse(&args(c.input)).expect(c.name).expect(c.name);
            let am = o.alertmanager.as_ref().map(|p| p.to_string_lossy().into_owned());
            assert_eq!(
                (o.alerts, o.checkpoint, o.scenarios.clone(), am.as_deref()),
                (c.want.0, c.want.1, c.want.2, c.want.3),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn rejects_bad_flags() {
        for bad in ["--scenario nope", "--alerts many", "--frobnicate", "--tocsin", "--connections 0"] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
        assert!(parse(&args("--help")).expect("help").is_none());
    }
}
