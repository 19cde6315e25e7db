//! One configured integration of a receiver (`notify.Integration`): the notifier plus the name and index that
//! identify it in the notification log, in logs and in metrics.

use crate::notifier::Notifier;
use std::fmt;
use std::sync::Arc;
use tocsin_state::nflog;

#[derive(Debug, Clone)]
pub struct Integration {
    /// The integration kind as upstream names it: `webhook`, `email`, `slack`, ... (the `integration` label).
    pub name: String,
    /// Index among the receiver's integrations of this kind (the 2nd `webhook_configs` entry has index 1).
    pub idx: u32,
    pub notifier: Arc<dyn Notifier>,
}

impl Integration {
    pub fn new(name: impl Into<String>, idx: u32, notifier: Arc<dyn Notifier>) -> Self {
        Self { name: name.into(), idx, notifier }
    }

    /// The nflog receiver record of this integration for `receiver`.
    pub fn nflog_receiver(&self, receiver: &str) -> nflog::Receiver {
        nflog::Receiver { group_name: receiver.to_owned(), integration: self.name.clone(), idx: self.idx }
    }
}

/// `Integration.String()`: `webhook[0]`.
impl fmt::Display for Integration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.name, self.idx)
    }
}
