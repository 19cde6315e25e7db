//! tocsin's notification templates: Alertmanager's `template` package. A Go text/template-compatible engine
//! (lexer, parser, evaluator with Go's semantics and error wording), Alertmanager's data model ([`Data`]) and
//! function set, and our own default templates under upstream's names. Receivers render titles and bodies here.
//!
//! ```
//! use tocsin_template::{Template, Value};
//! let t = Template::with_defaults();
//! let out = t.render_value("{{ .x | toUpper }}", Value::Map([("x".to_string(), Value::String("hi".into()))].into())).unwrap();
//! assert_eq!(out, "HI");
//! ```

mod ast;
mod data;
mod error;
mod exec;
mod funcs;
mod gofmt;
mod gotime;
mod lexer;
mod methods;
mod parser;
mod template;
mod value;

pub use data::{quote_meta, Alert, Data, Kv};
pub use error::TemplateError;
pub use gotime::{GoTime, Loc};
pub use template::{Template, DEFAULT_TEMPLATES};
pub use value::Value;
