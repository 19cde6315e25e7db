//! The one error type of command-line parsing. Each variant's `Display` is the exact one-line text Alertmanager
//! (kingpin) prints between `alertmanager: error: ` and `, try --help`.

/// Why the command line was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// `--bogus`, and `--no-x` for a flag `x` that is not a bool.
    #[error("unknown long flag '{0}'")]
    UnknownLongFlag(String),
    /// Any short flag but `-h` (the text includes the dash: `-x`, or `-` for a lone dash).
    #[error("unknown short flag '{0}'")]
    UnknownShortFlag(String),
    /// A positional argument where none is accepted (also the value in `--bool-flag=value`).
    #[error("unexpected {0}")]
    Unexpected(String),
    /// A value-taking flag at the end of the arguments or followed by another flag.
    #[error("expected argument for flag '{0}'")]
    ExpectedArgument(String),
    /// A flag that is not repeatable given more than once (the name without dashes).
    #[error("flag '{0}' cannot be repeated")]
    Repeated(String),
    /// A value the flag's type rejects; `message` is upstream's text (`time: unknown unit "x" in duration "5x"`).
    #[error("{message}")]
    InvalidValue { flag: String, message: String },
    /// An `@file` argument that could not be expanded.
    #[error("{0}")]
    ArgsFile(String),
    /// `--enable-feature` with an unknown or conflicting value.
    #[error("{0}")]
    Feature(String),
    /// A value that parses but cannot work (addresses without a port, ratio out of range, empty storage path);
    /// upstream finds these only at startup and exits 1 the same way.
    #[error("{0}")]
    Invalid(String),
}

/// The line the binary prints to stderr before exiting with status 1, exactly as kingpin formats it:
/// `tocsin: error: unknown long flag '--bogus', try --help`.
pub fn render_error(err: &FlagError) -> String {
    format!("tocsin: error: {err}, try --help")
}
