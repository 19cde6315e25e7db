//! Errors of parsing and executing templates, worded like Go's so operators recognise them.

/// A template failed to parse or to execute. The message is complete (it starts with `template: `), as Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `template: NAME:LINE: message`.
    #[error("{0}")]
    Parse(String),
    /// `template: NAME:LINE:COL: executing "NAME" at <node>: message`.
    #[error("{0}")]
    Exec(String),
    /// A template file could not be read or a glob was malformed.
    #[error("{0}")]
    Io(String),
}
