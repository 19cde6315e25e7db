//! Command-line behaviour, checked against what Alertmanager 0.25 (kingpin) does with the same arguments.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn run(list: &[&str]) -> Flags {
    match parse_args(args(list)) {
        Ok(Command::Run(flags)) => flags,
        other => panic!("{list:?}: want Run, got {other:?}"),
    }
}

fn error(list: &[&str]) -> String {
    match parse_args(args(list)) {
        Err(err) => err.to_string(),
        other => panic!("{list:?}: want an error, got {other:?}"),
    }
}

#[test]
fn defaults_match_alertmanager() {
    let flags = run(&[]);
    assert_eq!(flags, Flags::default());
    assert_eq!(flags.config_file, PathBuf::from("alertmanager.yml"));
    assert_eq!(flags.storage_path, PathBuf::from("data/"));
    assert_eq!(flags.data_retention, Duration::from_secs(120 * 3600));
    assert_eq!(flags.data_maintenance_interval, Duration::from_secs(900));
    assert_eq!(flags.silences_max_silences, 0);
    assert_eq!(flags.silences_max_silence_size_bytes, 0);
    assert_eq!(flags.alerts_gc_interval, Duration::from_secs(1800));
    assert_eq!(flags.web_listen_addresses, vec![":9093".to_owned()]);
    assert_eq!(flags.web_config_file, None);
    assert!(!flags.web_systemd_socket);
    assert_eq!(flags.web_external_url, None);
    assert_eq!(flags.web_route_prefix, None);
    assert_eq!(flags.web_get_concurrency, 0);
    assert_eq!(flags.web_timeout, Duration::ZERO);
    assert_eq!(flags.web_max_request_body_bytes, 64 * 1024 * 1024);
    assert_eq!(flags.auto_gomemlimit_ratio, 0.9);
    assert_eq!(flags.cluster_listen_address.as_deref(), Some("0.0.0.0:9094"));
    assert_eq!(flags.cluster_advertise_address, None);
    assert!(flags.cluster_peers.is_empty());
    assert_eq!(flags.cluster_peer_timeout, Duration::from_secs(5), "tocsin's default, upstream 15s");
    assert_eq!(flags.cluster_gossip_interval, Duration::from_millis(200));
    assert_eq!(flags.cluster_pushpull_interval, Duration::from_secs(60));
    assert_eq!(flags.cluster_tcp_timeout, Duration::from_secs(10));
    assert_eq!(flags.cluster_probe_timeout, Duration::from_millis(500));
    assert_eq!(flags.cluster_probe_interval, Duration::from_secs(1));
    assert_eq!(flags.cluster_settle_timeout, Duration::from_secs(60));
    assert_eq!(flags.cluster_reconnect_interval, Duration::from_secs(10));
    assert_eq!(flags.cluster_reconnect_timeout, Duration::from_secs(6 * 3600));
    assert_eq!(flags.cluster_tls_config, None);
    assert!(!flags.cluster_allow_insecure_public_advertise_address_discovery);
    assert_eq!(flags.cluster_label, None);
    assert_eq!(flags.features, FeatureFlags::default());
    assert_eq!(flags.log_level, LogLevel::Info);
    assert_eq!(flags.log_format, LogFormat::Logfmt);
    assert_eq!(flags.first_listen_address(), ":9093");
}

/// The defaults `--help` shows are the values the parser produces for them: giving each shown default explicitly
/// changes nothing. This also proves every flag in the table is handled by `Flags::set`.
#[test]
fn every_flag_accepts_its_shown_default() {
    for spec in spec::FLAGS {
        if matches!(spec.name, spec::HELP | spec::VERSION) {
            continue;
        }
        let arg = match (spec.kind, spec.shown) {
            (spec::Kind::Bool, _) => format!("--no-{}", spec.name),
            (spec::Kind::Value, Some(shown)) => format!("--{}={}", spec.name, shown.trim_matches('"')),
            (spec::Kind::Value, None) => continue,
        };
        assert_eq!(run(&[&arg]), Flags::default(), "{arg}");
    }
}

#[test]
fn every_flag_both_syntaxes() {
    struct Case {
        flag: &'static str,
        value: &'static str,
        check: fn(&Flags) -> bool,
    }
    let cases = [
        Case {
            flag: "config.file",
            value: "/etc/am.yml",
            check: |f| f.config_file.as_os_str() == "/etc/am.yml",
        },
        Case {
            flag: "storage.path",
            value: "/var/lib/am",
            check: |f| f.storage_path.as_os_str() == "/var/lib/am",
        },
        Case {
            flag: "data.retention",
            value: "1.5h",
            check: |f| f.data_retention == Duration::from_secs(5400),
        },
        Case {
            flag: "data.maintenance-interval",
            value: "1m30s",
            check: |f| f.data_maintenance_interval == Duration::from_secs(90),
        },
        Case { flag: "silences.max-silences", value: "100", check: |f| f.silences_max_silences == 100 },
        Case {
            flag: "silences.max-silence-size-bytes",
            value: "2.7",
            check: |f| f.silences_max_silence_size_bytes == 2,
        },
        Case {
            flag: "alerts.gc-interval",
            value: "10s",
            check: |f| f.alerts_gc_interval == Duration::from_secs(10),
        },
        Case {
            flag: "web.listen-address",
            value: "127.0.0.1:19093",
            check: |f| f.web_listen_addresses == ["127.0.0.1:19093"],
        },
        Case {
            flag: "web.config.file",
            value: "web.yml",
            check: |f| f.web_config_file == Some(PathBuf::from("web.yml")),
        },
        Case {
            flag: "web.external-url",
            value: "http://am/",
            check: |f| f.web_external_url.as_deref() == Some("http://am/"),
        },
        Case {
            flag: "web.route-prefix",
            value: "/am",
            check: |f| f.web_route_prefix.as_deref() == Some("/am"),
        },
        Case { flag: "web.get-concurrency", value: "12", check: |f| f.web_get_concurrency == 12 },
        Case { flag: "web.timeout", value: "2s", check: |f| f.web_timeout == Duration::from_secs(2) },
        Case {
            flag: "web.max-request-body-bytes",
            value: "1MiB",
            check: |f| f.web_max_request_body_bytes == 1 << 20,
        },
        Case { flag: "auto-gomemlimit.ratio", value: "0.5", check: |f| f.auto_gomemlimit_ratio == 0.5 },
        Case {
            flag: "cluster.listen-address",
            value: "127.0.0.1:19094",
            check: |f| f.cluster_listen_address.as_deref() == Some("127.0.0.1:19094"),
        },
        Case { flag: "cluster.listen-address", value: "", check: |f| f.cluster_listen_address.is_none() },
        Case {
            flag: "cluster.advertise-address",
            value: "10.0.0.1:9094",
            check: |f| f.cluster_advertise_address.as_deref() == Some("10.0.0.1:9094"),
        },
        Case { flag: "cluster.peer", value: "am-2:9094", check: |f| f.cluster_peers == ["am-2:9094"] },
        Case {
            flag: "cluster.peer-timeout",
            value: "15s",
            check: |f| f.cluster_peer_timeout == Duration::from_secs(15),
        },
        Case {
            flag: "cluster.gossip-interval",
            value: "50ms",
            check: |f| f.cluster_gossip_interval == Duration::from_millis(50),
        },
        Case {
            flag: "cluster.pushpull-interval",
            value: "5s",
            check: |f| f.cluster_pushpull_interval == Duration::from_secs(5),
        },
        Case {
            flag: "cluster.tcp-timeout",
            value: "1s",
            check: |f| f.cluster_tcp_timeout == Duration::from_secs(1),
        },
        Case {
            flag: "cluster.probe-timeout",
            value: "100ms",
            check: |f| f.cluster_probe_timeout == Duration::from_millis(100),
        },
        Case {
            flag: "cluster.probe-interval",
            value: "2s",
            check: |f| f.cluster_probe_interval == Duration::from_secs(2),
        },
        Case {
            flag: "cluster.settle-timeout",
            value: "2s",
            check: |f| f.cluster_settle_timeout == Duration::from_secs(2),
        },
        Case {
            flag: "cluster.reconnect-interval",
            value: "0",
            check: |f| f.cluster_reconnect_interval == Duration::ZERO,
        },
        Case {
            flag: "cluster.reconnect-timeout",
            value: "1h",
            check: |f| f.cluster_reconnect_timeout == Duration::from_secs(3600),
        },
        Case {
            flag: "cluster.tls-config",
            value: "tls.yml",
            check: |f| f.cluster_tls_config == Some(PathBuf::from("tls.yml")),
        },
        Case { flag: "cluster.label", value: "prod", check: |f| f.cluster_label.as_deref() == Some("prod") },
        Case {
            flag: "cluster.key-file",
            value: "/etc/tocsin/gossip.key",
            check: |f| f.cluster_key_file.as_deref() == Some(std::path::Path::new("/etc/tocsin/gossip.key")),
        },
        Case {
            flag: "enable-feature",
            value: "classic-mode,receiver-name-in-metrics",
            check: |f| {
                f.features.classic_mode && f.features.receiver_name_in_metrics && !f.features.utf8_strict_mode
            },
        },
        Case { flag: "log.level", value: "debug", check: |f| f.log_level == LogLevel::Debug },
        Case { flag: "log.format", value: "json", check: |f| f.log_format == LogFormat::Json },
    ];
    for case in cases {
        let joined = format!("--{}={}", case.flag, case.value);
        let long = format!("--{}", case.flag);
        for list in [vec![joined.as_str()], vec![long.as_str(), case.value]] {
            let flags = run(&list);
            assert!((case.check)(&flags), "{list:?} gave {flags:?}");
        }
    }
}

#[test]
fn negative_values_need_the_equals_form() {
    // kingpin reads `-3` after a flag as a short flag, so negative numbers only work as `--flag=-3`.
    assert_eq!(run(&["--web.get-concurrency=-3"]).web_get_concurrency, -3);
    assert_eq!(run(&["--web.timeout=-1s"]).web_timeout, Duration::ZERO);
    assert_eq!(error(&["--web.timeout", "-1s"]), "expected argument for flag '--web.timeout'");
}

#[test]
fn bool_flags() {
    assert!(run(&["--web.systemd-socket"]).web_systemd_socket);
    assert!(!run(&["--no-web.systemd-socket"]).web_systemd_socket);
    let f = run(&["--cluster.allow-insecure-public-advertise-address-discovery"]);
    assert!(f.cluster_allow_insecure_public_advertise_address_discovery);
    // kingpin reads `--bool=value` as the flag followed by a positional argument.
    assert_eq!(error(&["--web.systemd-socket=true"]), "unexpected true");
    assert_eq!(error(&["--web.systemd-socket=false"]), "unexpected false");
    assert_eq!(error(&["--web.systemd-socket="]), "unexpected ");
    assert_eq!(error(&["--no-web.systemd-socket=true"]), "unexpected true");
    assert_eq!(
        error(&["--web.systemd-socket", "--no-web.systemd-socket"]),
        "flag 'web.systemd-socket' cannot be repeated"
    );
}

#[test]
fn repeatable_flags_accumulate_and_replace_the_default() {
    let f = run(&["--web.listen-address=:1", "--web.listen-address", ":2", "--web.listen-address=[::1]:3"]);
    assert_eq!(f.web_listen_addresses, [":1", ":2", "[::1]:3"]);
    assert_eq!(f.first_listen_address(), ":1");
    let f = run(&["--cluster.peer=a:1", "--cluster.peer=b:2", "--cluster.peer", "c:3"]);
    assert_eq!(f.cluster_peers, ["a:1", "b:2", "c:3"]);
}

#[test]
fn error_table() {
    let cases: [(&[&str], &str); 31] = [
        (&["--bogus"], "unknown long flag '--bogus'"),
        (&["--bogus=1"], "unknown long flag '--bogus'"),
        (&["---bogus"], "unknown long flag '---bogus'"),
        (&["--no-bogus"], "unknown long flag '--no-bogus'"),
        (&["--no-config.file"], "unknown long flag '--no-config.file'"),
        (&["-x"], "unknown short flag '-x'"),
        (&["-hx"], "unknown short flag '-x'"),
        (&["-"], "unknown short flag '-'"),
        (&["foo"], "unexpected foo"),
        (&["foo", "bar"], "unexpected foo"),
        (&["--", "foo"], "unexpected foo"),
        (&["--help", "foo"], "unexpected foo"),
        (&["foo", "--version"], "unexpected foo"),
        (&["--bogus", "--version"], "unknown long flag '--bogus'"),
        (&["--help", "--bogus"], "unknown long flag '--bogus'"),
        (&["--data.retention"], "expected argument for flag '--data.retention'"),
        (&["--storage.path", "--x"], "expected argument for flag '--storage.path'"),
        (&["--web.get-concurrency", "-1"], "expected argument for flag '--web.get-concurrency'"),
        (&["--cluster.peer"], "expected argument for flag '--cluster.peer'"),
        (&["--config.file=a", "--config.file=b"], "flag 'config.file' cannot be repeated"),
        (&["--data.retention=1s", "--data.retention=x"], "flag 'data.retention' cannot be repeated"),
        (&["--data.retention=5x", "--data.retention=1s"], r#"time: unknown unit "x" in duration "5x""#),
        (&["--data.retention=5x", "--bogus"], "unknown long flag '--bogus'"),
        (&["--data.retention", "5x"], r#"time: unknown unit "x" in duration "5x""#),
        (&["--data.retention=1d"], r#"time: unknown unit "d" in duration "1d""#),
        (&["--data.retention="], r#"time: invalid duration """#),
        (&["--cluster.peer-timeout=x"], r#"time: invalid duration "x""#),
        (&["--log.level=trace", "--log.level=info"], r#"unrecognized log level "trace""#),
        (&["--log.format=JSON"], r#"unrecognized log format "JSON""#),
        (&["--web.get-concurrency=abc"], r#"strconv.ParseFloat: parsing "abc": invalid syntax"#),
        (&["--auto-gomemlimit.ratio=x"], r#"strconv.ParseFloat: parsing "x": invalid syntax"#),
    ];
    for (list, want) in cases {
        assert_eq!(error(list), want, "{list:?}");
    }
}

#[test]
fn every_duration_flag_rejects_a_bad_unit() {
    for spec in spec::FLAGS {
        if spec.shown.is_some_and(|s| s.ends_with('s') || s.ends_with('m') || s.ends_with('h')) {
            let got = error(&[&format!("--{}=5x", spec.name)]);
            assert_eq!(got, r#"time: unknown unit "x" in duration "5x""#, "{}", spec.name);
        }
    }
}

#[test]
fn startup_validation() {
    let cases: [(&[&str], &str); 10] = [
        (&["--enable-feature=bogus"], "Unknown option 'bogus' for --enable-feature"),
        (
            &["--enable-feature=classic-mode,utf8-strict-mode"],
            "cannot have both classic and UTF-8 modes enabled",
        ),
        (
            &["--enable-feature=auto-gomemlimit", "--auto-gomemlimit.ratio=1.5"],
            "--auto-gomemlimit.ratio must be greater than 0 and less than or equal to 1.",
        ),
        (
            &["--enable-feature=auto-gomemlimit", "--auto-gomemlimit.ratio=0"],
            "--auto-gomemlimit.ratio must be greater than 0 and less than or equal to 1.",
        ),
        (&["--storage.path="], "unable to create data directory: --storage.path must not be empty"),
        (&["--cluster.listen-address=9094"], "invalid listen address: address 9094: missing port in address"),
        (
            &["--cluster.advertise-address=10.0.0.1"],
            "invalid advertise address: address 10.0.0.1: missing port in address",
        ),
        (&["--cluster.peer=am-2"], "split host/port for peer am-2: address am-2: missing port in address"),
        (&["--web.listen-address=9093"], "listen tcp: address 9093: missing port in address"),
        (
            &["--web.listen-address=:9093", "--web.listen-address=x:y"],
            "listen tcp: address x:y: invalid port",
        ),
    ];
    for (list, want) in cases {
        assert_eq!(error(list), want, "{list:?}");
    }
    // Upstream checks the ratio only when the feature uses it.
    assert_eq!(run(&["--auto-gomemlimit.ratio=2"]).auto_gomemlimit_ratio, 2.0);
    assert_eq!(
        run(&["--enable-feature=auto-gomemlimit", "--auto-gomemlimit.ratio=1"]).auto_gomemlimit_ratio,
        1.0
    );
    // With HA disabled the cluster addresses are not used, so not checked.
    let f = run(&["--cluster.listen-address=", "--cluster.peer=nonsense"]);
    assert_eq!(f.cluster_listen_address, None);
    // systemd sockets replace the listen addresses.
    assert!(run(&["--web.systemd-socket", "--web.listen-address=whatever"]).web_systemd_socket);
}

#[test]
fn help_and_version() {
    let help = |list: &[&str]| match parse_args(args(list)) {
        Ok(Command::Help(text)) => text,
        other => panic!("{list:?}: want Help, got {other:?}"),
    };
    for list in [
        &["-h"][..],
        &["--help"],
        &["--no-help"],
        &["-h", "-h"],
        &["--help-long"],
        &["--help-man"],
        &["--log.level=trace", "--help"],
        &["--help", "--data.retention=5x"],
        &["--help-long", "--bogus"],
    ] {
        assert!(help(list).starts_with("usage: tocsin [<flags>]"), "{list:?}");
    }
    for list in [
        &["--version"][..],
        &["--no-version"],
        &["--version=1"],
        &["--version", "--bogus"],
        &["--version", "foo"],
        &["--data.retention=5x", "--version"],
        &["--help", "--version"],
        &["--version", "--help"],
    ] {
        assert_eq!(parse_args(args(list)), Ok(Command::Version), "{list:?}");
    }
}

#[test]
fn double_dash_ends_flags() {
    assert_eq!(error(&["--", "--bogus"]), "unexpected --bogus");
    assert_eq!(run(&["--log.level=warn", "--"]).log_level, LogLevel::Warn);
}

#[test]
fn check_config_command() {
    assert_eq!(
        parse_args(args(&["check-config", "a.yml", "b.yml"])),
        Ok(Command::CheckConfig { files: vec![PathBuf::from("a.yml"), PathBuf::from("b.yml")] })
    );
    assert_eq!(parse_args(args(&["check-config"])), Ok(Command::CheckConfig { files: vec![] }));
    assert_eq!(
        parse_args(args(&["--log.level=debug", "check-config", "--", "--odd.yml"])),
        Ok(Command::CheckConfig { files: vec![PathBuf::from("--odd.yml")] })
    );
    match parse_args(args(&["check-config", "--help"])) {
        Ok(Command::Help(text)) => assert!(text.starts_with("usage: tocsin check-config"), "{text}"),
        other => panic!("want Help, got {other:?}"),
    }
    assert_eq!(error(&["check-config", "--bogus"]), "unknown long flag '--bogus'");
}

#[test]
fn args_file_expansion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        let mut file = std::fs::File::create(&path).expect("create");
        file.write_all(body.as_bytes()).expect("write");
        path.to_str().expect("utf-8 path").to_owned()
    };
    let good = write("good", "# comment\n--log.level=warn\n--cluster.peer\nam-2:9094\n");
    let f = run(&[&format!("@{good}"), "--cluster.peer=am-3:9094"]);
    assert_eq!(f.log_level, LogLevel::Warn);
    assert_eq!(f.cluster_peers, ["am-2:9094", "am-3:9094"]);

    let blank = write("blank", "--log.level=warn\n\n");
    assert_eq!(error(&[&format!("@{blank}")]), "unexpected ");
    let spaced = write("spaced", "  --bogus\n");
    assert_eq!(error(&[&format!("@{spaced}")]), "unexpected   --bogus");
    let bad = write("bad", "--data.retention\n5z\n");
    assert_eq!(error(&[&format!("@{bad}")]), r#"time: unknown unit "z" in duration "5z""#);
    let nested = write("nested", &format!("@{bad}\n"));
    assert_eq!(error(&[&format!("@{nested}")]), r#"time: unknown unit "z" in duration "5z""#);
    // A flag's value is not expanded when given inline, but is when it is the next argument.
    assert_eq!(error(&["--storage.path", &format!("@{bad}")]), "expected argument for flag '--storage.path'");
    assert_eq!(run(&[&format!("--storage.path=@{bad}")]).storage_path, PathBuf::from(format!("@{bad}")));
    assert_eq!(error(&["--", &format!("@{bad}")]), format!("unexpected @{bad}"));

    let missing = dir.path().join("missing");
    let missing = missing.to_str().expect("utf-8 path");
    assert_eq!(
        error(&[&format!("@{missing}")]),
        format!("failed to open arguments file \"{missing}\": open {missing}: no such file or directory")
    );
    assert_eq!(error(&["@"]), "expected @ file to expand arguments from");
}

#[test]
fn render_error_matches_kingpin() {
    let err = parse_args(args(&["--bogus"])).expect_err("unknown flag");
    assert_eq!(render_error(&err), "tocsin: error: unknown long flag '--bogus', try --help");
}

#[test]
fn parse_mode_from_features() {
    use tocsin_model::matcher::parse::ParseMode;
    assert_eq!(run(&[]).parse_mode(), ParseMode::Fallback);
    assert_eq!(run(&["--enable-feature=classic-mode"]).parse_mode(), ParseMode::Classic);
    assert_eq!(run(&["--enable-feature", "utf8-strict-mode"]).parse_mode(), ParseMode::Utf8Strict);
}
