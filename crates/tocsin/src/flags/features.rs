//! `--enable-feature`: Alertmanager's `featurecontrol` package (0.27+ values, 0.28 additions).

use tocsin_model::matcher::parse::ParseMode;

use super::FlagError;

pub const FEATURE_RECEIVER_NAME_IN_METRICS: &str = "receiver-name-in-metrics";
pub const FEATURE_CLASSIC_MODE: &str = "classic-mode";
pub const FEATURE_UTF8_STRICT_MODE: &str = "utf8-strict-mode";
pub const FEATURE_AUTO_GOMEMLIMIT: &str = "auto-gomemlimit";
pub const FEATURE_AUTO_GOMAXPROCS: &str = "auto-gomaxprocs";

/// Every value `--enable-feature` accepts, in upstream's order (also shown in `--help`).
pub const ALLOWED_FEATURES: [&str; 5] = [
    FEATURE_RECEIVER_NAME_IN_METRICS,
    FEATURE_CLASSIC_MODE,
    FEATURE_UTF8_STRICT_MODE,
    FEATURE_AUTO_GOMEMLIMIT,
    FEATURE_AUTO_GOMAXPROCS,
];

/// The enabled experimental features. `auto_gomemlimit` and `auto_gomaxprocs` tune the Go runtime upstream;
/// tocsin accepts them so existing command lines keep working, and they only change what `--auto-gomemlimit.ratio`
/// validation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeatureFlags {
    /// Adds the `receiver` label to the notification metrics.
    pub receiver_name_in_metrics: bool,
    /// Matchers use only the classic (pre-0.27) parser.
    pub classic_mode: bool,
    /// Matchers use only the UTF-8 parser.
    pub utf8_strict_mode: bool,
    pub auto_gomemlimit: bool,
    pub auto_gomaxprocs: bool,
}

impl FeatureFlags {
    /// Parses the comma-separated list exactly like `featurecontrol.NewFlags`: the empty string enables nothing,
    /// but an empty item (`a,`) is an unknown option.
    pub fn parse(list: &str) -> Result<FeatureFlags, FlagError> {
        let mut flags = FeatureFlags::default();
        if list.is_empty() {
            return Ok(flags);
        }
        for feature in list.split(',') {
            match feature {
                FEATURE_RECEIVER_NAME_IN_METRICS => flags.receiver_name_in_metrics = true,
                FEATURE_CLASSIC_MODE => flags.classic_mode = true,
                FEATURE_UTF8_STRICT_MODE => flags.utf8_strict_mode = true,
                FEATURE_AUTO_GOMEMLIMIT => flags.auto_gomemlimit = true,
                FEATURE_AUTO_GOMAXPROCS => flags.auto_gomaxprocs = true,
                other => {
                    return Err(FlagError::Feature(format!("Unknown option '{other}' for --enable-feature")))
                }
            }
        }
        if flags.classic_mode && flags.utf8_strict_mode {
            return Err(FlagError::Feature("cannot have both classic and UTF-8 modes enabled".to_owned()));
        }
        Ok(flags)
    }

    /// The matcher grammar these features select (`matcher/compat.InitFromFlags`); fallback by default.
    pub fn parse_mode(&self) -> ParseMode {
        if self.classic_mode {
            ParseMode::Classic
        } else if self.utf8_strict_mode {
            ParseMode::Utf8Strict
        } else {
            ParseMode::Fallback
        }
    }

    /// The enabled feature names, comma-separated, in upstream order (for logs and `/api/v2/status`).
    pub fn to_list(&self) -> String {
        let enabled = [
            self.receiver_name_in_metrics,
            self.classic_mode,
            self.utf8_strict_mode,
            self.auto_gomemlimit,
            self.auto_gomaxprocs,
        ];
        ALLOWED_FEATURES
            .iter()
            .zip(enabled)
            .filter(|(_, on)| *on)
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        struct Case {
            input: &'static str,
            want: Result<FeatureFlags, &'static str>,
        }
        let cases = [
            Case { input: "", want: Ok(FeatureFlags::default()) },
            Case {
                input: "classic-mode",
                want: Ok(FeatureFlags { classic_mode: true, ..Default::default() }),
            },
            Case {
                input: "utf8-strict-mode,receiver-name-in-metrics",
                want: Ok(FeatureFlags {
                    utf8_strict_mode: true,
                    receiver_name_in_metrics: true,
                    ..Default::default()
                }),
            },
            Case {
                input: "auto-gomemlimit,auto-gomaxprocs,auto-gomemlimit",
                want: Ok(FeatureFlags { auto_gomemlimit: true, auto_gomaxprocs: true, ..Default::default() }),
            },
            Case { input: "bogus", want: Err("Unknown option 'bogus' for --enable-feature") },
            Case { input: "classic-mode,", want: Err("Unknown option '' for --enable-feature") },
            Case { input: " classic-mode", want: Err("Unknown option ' classic-mode' for --enable-feature") },
            Case { input: "Classic-Mode", want: Err("Unknown option 'Classic-Mode' for --enable-feature") },
            Case {
                input: "classic-mode,utf8-strict-mode",
                want: Err("cannot have both classic and UTF-8 modes enabled"),
            },
            Case {
                input: "bogus,classic-mode,utf8-strict-mode",
                want: Err("Unknown option 'bogus' for --enable-feature"),
            },
        ];
        for case in cases {
            let got = FeatureFlags::parse(case.input).map_err(|e| e.to_string());
            assert_eq!(got, case.want.map_err(str::to_owned), "input {:?}", case.input);
        }
    }

    #[test]
    fn parse_modes() {
        assert_eq!(FeatureFlags::default().parse_mode(), ParseMode::Fallback);
        assert_eq!(FeatureFlags::parse("classic-mode").expect("ok").parse_mode(), ParseMode::Classic);
        assert_eq!(FeatureFlags::parse("utf8-strict-mode").expect("ok").parse_mode(), ParseMode::Utf8Strict);
    }

    #[test]
    fn list_round_trip() {
        let all = ALLOWED_FEATURES.join(",");
        let flags = FeatureFlags {
            utf8_strict_mode: false,
            ..FeatureFlags::parse(&all.replace("utf8-strict-mode,", "")).expect("ok")
        };
        assert_eq!(flags.to_list(), "receiver-name-in-metrics,classic-mode,auto-gomemlimit,auto-gomaxprocs");
        assert_eq!(FeatureFlags::default().to_list(), "");
    }
}
