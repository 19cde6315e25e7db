//! The data model of tocsin, Alertmanager's `model`, `types`, `pkg/labels` and `matcher` packages in one crate.
//!
//! Everything here is pure: no I/O, no tokio, and wall time only enters as an argument (see [`clock`]), so every
//! decision built on these types can be tested exactly.

pub mod alert;
pub mod clock;
pub mod duration;
pub mod fingerprint;
pub mod labels;
pub mod matcher;
pub mod silence;
pub mod time;
pub mod timeinterval;

pub use alert::Alert;
pub use clock::{Clock, SystemClock};
pub use fingerprint::Fingerprint;
pub use labels::{Annotations, LabelSet};
pub use matcher::parse::{parse_matcher, parse_matchers, ParseError, ParseMode};
pub use matcher::{MatchType, Matcher, Matchers};
pub use silence::{Silence, SilenceState};
