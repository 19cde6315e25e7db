//! Checks every integration must pass, shared by their tests (webhook today; DingTalk, WeCom, Feishu, email next).

use std::sync::Arc;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError};

/// Sends once and asserts that none of `secrets` (URLs, tokens, passwords, keys) appears in the error message,
/// in the error's `Debug`, or in the notifier's `Debug`. Returns the send's outcome for further checks.
///
/// # Panics
/// When a secret leaks, naming which one (by index, not value) and where.
pub async fn assert_no_secret_leak(
    notifier: &dyn Notifier,
    ctx: &NotifyCtx,
    alerts: &[Arc<Alert>],
    secrets: &[&str],
) -> Result<(), NotifyError> {
    let result = notifier.notify(ctx, alerts).await;
    let mut texts = vec![("notifier Debug", format!("{notifier:?}"))];
    if let Err(e) = &result {
        texts.push(("error message", e.to_string()));
        texts.push(("error Debug", format!("{e:?}")));
    }
    for (i, secret) in secrets.iter().enumerate().filter(|(_, s)| !s.is_empty()) {
        for (place, text) in &texts {
            assert!(!text.contains(secret), "secret #{i} leaked into the {place}");
        }
    }
    result
}
