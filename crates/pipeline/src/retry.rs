//! Sending with retries (`notify.RetryStage`): exponential backoff as cenkalti/backoff v4 computes it (first
//! attempt at once, then 500ms ×1.5 per attempt, ±50% jitter, interval capped at 60s, no elapsed-time limit) until
//! success, a non-retryable error, or the flush deadline.
//!
//! As with upstream's `backoff.Ticker`, the delay to the next attempt is measured from the start of the previous
//! attempt, so a slow failing receiver is retried as soon as its attempt returns once the delay has passed.
//! Jitter comes from an injected [`Jitter`] source, so tests can seed it and assert exact retry instants.

use crate::dedup::SendResolved;
use crate::integration::Integration;
use crate::metrics::Metrics;
use crate::notifier::{FailureReason, NotifyError, Retry};
use crate::stage::{Alerts, Stage, StageCtx, StageError};
use async_trait::async_trait;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::time::utc;
use tokio::time::Instant;

/// A source of uniform random numbers in `[0, 1)`.
pub trait Jitter: Send + Sync + std::fmt::Debug {
    fn next_f64(&self) -> f64;
}

/// SplitMix64: tiny, seedable and good enough for spreading retries.
#[derive(Debug)]
pub struct SeededJitter(Mutex<u64>);

impl SeededJitter {
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(seed))
    }
}

impl Jitter for SeededJitter {
    fn next_f64(&self) -> f64 {
        let mut s = self.0.lock();
        *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `backoff.ExponentialBackOff` with upstream's defaults.
#[derive(Debug)]
pub struct Backoff<'a> {
    current: Duration,
    jitter: &'a dyn Jitter,
}

impl<'a> Backoff<'a> {
    pub const INITIAL_INTERVAL: Duration = Duration::from_millis(500);
    pub const RANDOMIZATION_FACTOR: f64 = 0.5;
    pub const MULTIPLIER: f64 = 1.5;
    pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

    pub fn new(jitter: &'a dyn Jitter) -> Self {
        Self { current: Self::INITIAL_INTERVAL, jitter }
    }

    /// `NextBackOff`: a random value in `[current − 50%, current + 50%]`, then grow the current interval.
    pub fn next_backoff(&mut self) -> Duration {
        let current = self.current.as_nanos() as f64;
        let delta = Self::RANDOMIZATION_FACTOR * current;
        let (min, max) = (current - delta, current + delta);
        let next = Duration::from_nanos((min + self.jitter.next_f64() * (max - min + 1.0)) as u64);
        self.current = if current >= Self::MAX_INTERVAL.as_nanos() as f64 / Self::MULTIPLIER {
            Self::MAX_INTERVAL
        } else {
            Duration::from_nanos((current * Self::MULTIPLIER) as u64)
        };
        next
    }
}

/// Sends the flush through one integration, retrying, and keeps the notification metrics.
#[derive(Debug)]
pub struct RetryStage {
    receiver: String,
    integration: Integration,
    jitter: Arc<dyn Jitter>,
    metrics: Arc<Metrics>,
}

impl RetryStage {
    pub fn new(
        receiver: &str,
        integration: Integration,
        jitter: Arc<dyn Jitter>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self { receiver: receiver.to_owned(), integration, jitter, metrics }
    }

    fn send_resolved(&self) -> SendResolved {
        if self.integration.notifier.send_resolved() {
            SendResolved::Yes
        } else {
            SendResolved::No
        }
    }

    fn canceled(&self, attempts: u32, last: Option<NotifyError>) -> StageError {
        let (reason, err) = match last {
            Some(e) => (e.reason, e.message),
            None => (FailureReason::ContextDeadlineExceeded, "context deadline exceeded".to_owned()),
        };
        StageError::Notify {
            message: format!(
                "{}/{}: notify retry canceled after {attempts} attempts: {err}",
                self.receiver, self.integration
            ),
            reason,
        }
    }

    async fn send(&self, cx: &StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        // Without send_resolved, a flush with nothing firing is "sent" without a request, so set-notifies still
        // logs the resolution; otherwise resolved alerts are left out of the payload.
        let payload: Alerts = match self.send_resolved() {
            SendResolved::Yes => alerts.clone(),
            SendResolved::No => {
                if cx.firing.is_empty() {
                    return Ok(alerts);
                }
                let flush_time = utc(cx.notify.now);
                alerts.iter().filter(|a| !a.resolved_at(flush_time)).cloned().collect()
            }
        };
        let name = self.integration.name.as_str();
        let mut backoff = Backoff::new(self.jitter.as_ref());
        let mut next_tick = Instant::now();
        let mut last: Option<NotifyError> = None;
        let mut attempts: u32 = 0;
        loop {
            attempts += 1;
            let now = Instant::now();
            if now >= cx.deadline {
                return Err(self.canceled(attempts, last));
            }
            // Only a tick still ahead is awaited: tokio rounds a timer up to the next millisecond and fires it on
            // a later turn of the driver, so even `sleep_until(now)` would delay every first attempt by 1–2 ms.
            if next_tick > now {
                tokio::select! {
                    biased;
                    _ = tokio::time::sleep_until(cx.deadline) => return Err(self.canceled(attempts, last)),
                    _ = tokio::time::sleep_until(next_tick) => {}
                }
            }
            let start = Instant::now();
            next_tick = start + backoff.next_backoff();
            let outcome =
                tokio::time::timeout_at(cx.deadline, self.integration.notifier.notify(&cx.notify, &payload))
                    .await;
            let seconds = start.elapsed().as_secs_f64();
            let err = match outcome {
                Ok(Ok(())) => {
                    self.metrics.request(name, false, seconds);
                    tracing::debug!(receiver = %self.receiver, integration = %self.integration, attempts, "Notify success");
                    return Ok(alerts);
                }
                Ok(Err(e)) => e,
                Err(_) => NotifyError {
                    retry: Retry::Yes,
                    reason: FailureReason::ContextDeadlineExceeded,
                    message: "context deadline exceeded".to_owned(),
                },
            };
            self.metrics.request(name, true, seconds);
            if err.retry == Retry::No {
                return Err(StageError::Notify {
                    message: format!(
                        "{}/{}: notify retry canceled due to unrecoverable error after {attempts} attempts: {}",
                        self.receiver, self.integration, err.message
                    ),
                    reason: err.reason,
                });
            }
            if Instant::now() < cx.deadline && last.as_ref().is_none_or(|l| l.message != err.message) {
                tracing::warn!(
                    receiver = %self.receiver, integration = %self.integration, attempts, err = %err.message,
                    "Notify attempt failed, will retry later"
                );
            }
            last = Some(err);
        }
    }
}

#[async_trait]
impl Stage for RetryStage {
    async fn exec(&self, cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        self.metrics.notification(&self.integration.name);
        let result = self.send(cx, alerts).await;
        if let Err(StageError::Notify { reason, .. }) = &result {
            self.metrics.failed(&self.integration.name, *reason);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fixed(f64);
    impl Jitter for Fixed {
        fn next_f64(&self) -> f64 {
            self.0
        }
    }

    #[test]
    fn backoff_grows_and_caps() {
        // random 0.5 → the middle of the interval (+0.5ns from Go's "+1").
        let j = Fixed(0.5);
        let mut b = Backoff::new(&j);
        let got: Vec<u128> = (0..5).map(|_| b.next_backoff().as_millis()).collect();
        assert_eq!(got, vec![500, 750, 1125, 1687, 2531]);
        for _ in 0..20 {
            b.next_backoff();
        }
        assert_eq!(b.next_backoff(), Duration::from_nanos(60_000_000_000));
        let lo = Fixed(0.0);
        assert_eq!(Backoff::new(&lo).next_backoff(), Duration::from_millis(250));
    }

    #[test]
    fn seeded_jitter_is_deterministic_and_in_range() {
        let a = SeededJitter::new(7);
        let b = SeededJitter::new(7);
        for _ in 0..100 {
            let x = a.next_f64();
            assert!((0.0..1.0).contains(&x));
            assert_eq!(x, b.next_f64());
        }
    }
}
