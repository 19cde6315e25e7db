//! `build`: a receiver's config → its integrations. One line per integration type; adding one touches its
//! config struct, its module here, this match, and its conformance test.

use crate::unimplemented::Unimplemented;
use crate::webhook::{Webhook, WebhookSettings};
use std::sync::Arc;
use tocsin_config::{IntegrationRef, Receiver};
use tocsin_pipeline::notifier::Notifier;

/// One configured integration, identified upstream-style as `<receiver>/<kind>/<index>`.
#[derive(Debug, Clone)]
pub struct Integration {
    /// The integration type name (`webhook`, `email`, …): the `integration` label of the notification metrics.
    pub kind: &'static str,
    /// Position within its type list.
    pub index: usize,
    pub notifier: Arc<dyn Notifier>,
}

/// All integrations of `receiver`, in the receiver's declaration order. Never fails: types not implemented yet
/// become [`Unimplemented`], which fails at send time, so every config Alertmanager accepts loads.
pub fn build(receiver: &Receiver) -> Vec<Integration> {
    receiver
        .integrations()
        .into_iter()
        .map(|i| {
            let notifier: Arc<dyn Notifier> = match i.config {
                IntegrationRef::Webhook(c) => Arc::new(Webhook::new(WebhookSettings::from_config(c))),
                other => Arc::new(Unimplemented::new(other.type_name(), other.send_resolved())),
            };
            Integration { kind: i.type_name(), index: i.index, notifier }
        })
        .collect()
}
