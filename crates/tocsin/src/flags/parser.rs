//! kingpin's command-line grammar, reproduced because operators' scripts and unit files depend on its quirks:
//! `--flag=value` and `--flag value`, `--no-<bool>`, `-h` as the only short flag, `@file` expansion, `--`, and
//! the order in which errors win (structure first, then `--help`, then values in argument order).

use std::collections::VecDeque;

use super::spec::{self, FlagSpec, Kind};
use super::FlagError;

#[derive(Debug, Clone)]
enum Token {
    /// `--name` (the value of `--name=value` follows as an `Arg`).
    Long(String),
    /// `-x`; empty for a lone `-`.
    Short(String),
    Arg(String),
    Error(FlagError),
    Eol,
}

/// kingpin's `ParseContext` tokenizer: arguments are split lazily, so an `@file` is expanded only when reached.
struct Tokens {
    args: VecDeque<String>,
    pushed: Vec<Token>,
    args_only: bool,
}

impl Tokens {
    fn next(&mut self) -> Token {
        if let Some(token) = self.pushed.pop() {
            return token;
        }
        while let Some(arg) = self.args.pop_front() {
            if self.args_only {
                return Token::Arg(arg);
            }
            if arg == "--" {
                self.args_only = true;
                continue;
            }
            if let Some(long) = arg.strip_prefix("--") {
                return match long.split_once('=') {
                    Some((name, value)) => {
                        self.pushed.push(Token::Arg(value.to_owned()));
                        Token::Long(name.to_owned())
                    }
                    None => Token::Long(long.to_owned()),
                };
            }
            if let Some(short) = arg.strip_prefix('-') {
                let mut chars = short.chars();
                let Some(first) = chars.next() else {
                    return Token::Short(String::new());
                };
                // Only `-h` exists and it is a bool, so the rest of `-hx` is read as further short flags.
                let rest = chars.as_str();
                if !rest.is_empty() {
                    self.args.push_front(format!("-{rest}"));
                }
                return Token::Short(first.to_string());
            }
            if let Some(path) = arg.strip_prefix('@') {
                match expand_args_file(path) {
                    Ok(expanded) => {
                        for line in expanded.into_iter().rev() {
                            self.args.push_front(line);
                        }
                        continue;
                    }
                    Err(err) => return Token::Error(err),
                }
            }
            return Token::Arg(arg);
        }
        Token::Eol
    }
}

/// kingpin's `ExpandArgsFromFile`: one argument per line, verbatim (no trimming, empty lines kept), lines starting
/// with `#` skipped.
fn expand_args_file(path: &str) -> Result<Vec<String>, FlagError> {
    if path.is_empty() {
        return Err(FlagError::ArgsFile("expected @ file to expand arguments from".to_owned()));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        FlagError::ArgsFile(format!(
            "failed to open arguments file {}: open {path}: {}",
            tocsin_model::duration::go_quote(path),
            go_os_error(&e)
        ))
    })?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.lines().filter(|line| !line.starts_with('#')).map(str::to_owned).collect())
}

/// Go prints OS errors as the lower-case `strerror` text (`no such file or directory`).
fn go_os_error(err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A pre-action flag: handled as soon as it is parsed, even if a later argument is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PreAction {
    Version,
    Help,
}

/// What the grammar found, before any value is interpreted.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// Flags with values (bools as `true`/`false`), in argument order; help and version are not included.
    pub elements: Vec<(&'static FlagSpec, String)>,
    /// `-h`, `--help` or `--no-help`.
    pub help: bool,
    /// The first of `--version`, `--help-long`, `--help-man`.
    pub pre_action: Option<PreAction>,
    /// `Some` once the `check-config` command word was seen, with the files after it.
    pub check_config: Option<Vec<String>>,
}

pub(crate) const CHECK_CONFIG: &str = "check-config";

/// Runs the grammar. A structural error is returned unless a pre-action was already parsed, which wins as it
/// does upstream (`--version --bogus` prints the version).
pub(crate) fn parse(args: Vec<String>) -> Result<Parsed, FlagError> {
    let mut tokens = Tokens { args: args.into(), pushed: Vec::new(), args_only: false };
    let mut parsed = Parsed::default();
    loop {
        let step = match tokens.next() {
            Token::Eol => break,
            Token::Error(err) => Err(err),
            Token::Long(name) => long_flag(&mut tokens, &name, &mut parsed),
            Token::Short(short) if short == "h" => {
                parsed.help = true;
                Ok(())
            }
            Token::Short(short) => Err(FlagError::UnknownShortFlag(format!("-{short}"))),
            Token::Arg(arg) => match &mut parsed.check_config {
                Some(files) => {
                    files.push(arg);
                    Ok(())
                }
                None if arg == CHECK_CONFIG => {
                    parsed.check_config = Some(Vec::new());
                    Ok(())
                }
                None => Err(FlagError::Unexpected(arg)),
            },
        };
        if let Err(err) = step {
            if parsed.pre_action.is_some() {
                return Ok(parsed);
            }
            return Err(err);
        }
    }
    Ok(parsed)
}

fn long_flag(tokens: &mut Tokens, name: &str, parsed: &mut Parsed) -> Result<(), FlagError> {
    let unknown = || FlagError::UnknownLongFlag(format!("--{name}"));
    let (spec, invert) = match spec::lookup(name) {
        Some(spec) => (spec, false),
        None => {
            let stripped = name.strip_prefix("no-").ok_or_else(unknown)?;
            (spec::lookup(stripped).ok_or_else(unknown)?, true)
        }
    };
    let value = match spec.kind {
        Kind::Bool => (if invert { "false" } else { "true" }).to_owned(),
        Kind::Value if invert => return Err(unknown()),
        Kind::Value => match tokens.next() {
            Token::Arg(value) => value,
            other => {
                tokens.pushed.push(other);
                return Err(FlagError::ExpectedArgument(format!("--{name}")));
            }
        },
    };
    match spec.name {
        spec::HELP => parsed.help = true,
        spec::VERSION => {
            parsed.pre_action.get_or_insert(PreAction::Version);
        }
        spec::HELP_LONG | spec::HELP_MAN => {
            parsed.pre_action.get_or_insert(PreAction::Help);
        }
        _ => parsed.elements.push((spec, value)),
    }
    Ok(())
}
