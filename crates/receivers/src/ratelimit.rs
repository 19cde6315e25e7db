//! A per-robot send limiter. Chat robots (DingTalk, WeCom) accept 20 messages per minute and then throttle the
//! robot for minutes; a burst of alert groups must therefore be *delayed*, never dropped. Each send reserves the
//! earliest slot that keeps at most `limit` sends in any `window` for its robot, and waits for it (tokio time, so
//! paused-time tests are exact). Reservations are made in call order, so waiting senders go out FIFO.
//!
//! Robots are identified by a hash of their URL: the URL carries the access token and must not be kept in
//! clear text where a `Debug` or a heap dump could show it. Only this process is counted: two HA nodes
//! normally do not both send (the notification log deduplicates), but each has its own budget.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// DingTalk's and WeCom's documented limit: 20 messages per minute per robot.
pub const ROBOT_LIMIT: usize = 20;
/// The window of [`ROBOT_LIMIT`].
pub const ROBOT_WINDOW: Duration = Duration::from_secs(60);

/// The process-wide limiters by `(limit, window)`.
type Registry = HashMap<(usize, Duration), Arc<RateLimiter>>;

/// Sliding-window limiter keyed by robot.
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    /// Per robot: the reserved send instants still inside the window (sorted, oldest first; may lie in the future).
    slots: Mutex<HashMap<u64, VecDeque<Instant>>>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter").field("limit", &self.limit).field("window", &self.window).finish()
    }
}

impl RateLimiter {
    /// At most `limit` sends per `window` per robot; `limit == 0` means unlimited.
    pub fn new(limit: usize, window: Duration) -> Self {
        Self { limit, window, slots: Mutex::new(HashMap::new()) }
    }

    /// 20 per minute, the chat robots' limit.
    pub fn robots() -> Self {
        Self::new(ROBOT_LIMIT, ROBOT_WINDOW)
    }

    /// The process-wide robot limiter, shared by every integration (and kept across reloads) so two receivers
    /// sending to the same robot share its budget.
    pub fn shared() -> Arc<RateLimiter> {
        Self::shared_for(ROBOT_LIMIT, ROBOT_WINDOW)
    }

    /// The process-wide limiter of `limit` per `window` (Feishu bots: 5 per second and 100 per minute).
    pub fn shared_for(limit: usize, window: Duration) -> Arc<RateLimiter> {
        static SHARED: OnceLock<Mutex<Registry>> = OnceLock::new();
        let mut map = SHARED.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner());
        map.entry((limit, window)).or_insert_with(|| Arc::new(RateLimiter::new(limit, window))).clone()
    }

    /// Waits until a send to `robot` (its URL) is allowed and counts it. Returns how long it waited.
    /// Dropping the future while it waits keeps the reservation: that errs on the side of sending less.
    pub async fn acquire(&self, robot: &str) -> Duration {
        let now = Instant::now();
        let at = self.reserve(key(robot), now);
        if at > now {
            tokio::time::sleep_until(at).await;
        }
        at.saturating_duration_since(now)
    }

    /// The instant of the next allowed send for `key` at `now`, recorded as taken.
    fn reserve(&self, key: u64, now: Instant) -> Instant {
        if self.limit == 0 {
            return now;
        }
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        // Forget robots whose sends all left the window, so the map does not grow with old URLs.
        slots.retain(|_, q| q.back().is_some_and(|t| *t + self.window > now));
        let q = slots.entry(key).or_default();
        while q.front().is_some_and(|t| *t + self.window <= now) {
            q.pop_front();
        }
        let at = if q.len() < self.limit {
            // Never before a slot already handed out, to keep FIFO order.
            q.back().map_or(now, |last| (*last).max(now))
        } else {
            // The send `limit` places back must have left the window.
            let anchor = q[q.len() - self.limit];
            (anchor + self.window).max(now)
        };
        q.push_back(at);
        at
    }
}

fn key(robot: &str) -> u64 {
    let mut h = DefaultHasher::new();
    robot.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn twenty_per_minute_then_delays() {
        let l = RateLimiter::robots();
        let start = Instant::now();
        for _ in 0..20 {
            assert_eq!(l.acquire("https://robot/a").await, Duration::ZERO);
        }
        // A different robot has its own budget.
        assert_eq!(l.acquire("https://robot/b").await, Duration::ZERO);
        // The 21st waits until the first leaves the window, the 22nd too (they were sent at the same instant).
        assert_eq!(l.acquire("https://robot/a").await, Duration::from_secs(60));
        assert_eq!(Instant::now() - start, Duration::from_secs(60));
        assert_eq!(l.acquire("https://robot/a").await, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn spread_sends_wait_for_their_own_anchor() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        let start = Instant::now();
        l.acquire("r").await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        l.acquire("r").await;
        // Third: waits for the first (t=0) to leave → t=60; fourth: for the second (t=10) → t=70.
        assert_eq!(l.acquire("r").await, Duration::from_secs(50));
        assert_eq!(l.acquire("r").await, Duration::from_secs(10));
        assert_eq!(Instant::now() - start, Duration::from_secs(70));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_waiters_are_spread_not_dropped() {
        let l = Arc::new(RateLimiter::new(2, Duration::from_secs(60)));
        let start = Instant::now();
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move {
                    l.acquire("r").await;
                    Instant::now() - start
                })
            })
            .collect();
        let mut done = Vec::new();
        for t in tasks {
            done.push(t.await.unwrap().as_secs());
        }
        done.sort_unstable();
        assert_eq!(done, [0, 0, 60, 60, 120]);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_limit_is_unlimited() {
        let l = RateLimiter::new(0, Duration::from_secs(60));
        for _ in 0..100 {
            assert_eq!(l.acquire("r").await, Duration::ZERO);
        }
    }

    #[test]
    fn debug_shows_no_robot() {
        let l = RateLimiter::robots();
        let _ = l.reserve(key("https://robot?access_token=tok"), Instant::now());
        assert!(!format!("{l:?}").contains("tok"));
    }
}
