//! Flush timers that fire within tens of microseconds of their deadline instead of 1–2 ms after it.
//!
//! Tokio's timer wheel counts whole milliseconds: a deadline is rounded up to the next millisecond, and the driver
//! then parks for whole milliseconds from wherever it happens to be inside the current one, so a group's
//! `group_wait` ended 0–2 ms late (about 1 ms on average; upstream's Go timers are exact). [`sleep_until`] sleeps
//! on tokio's wheel until [`COARSE_MARGIN`] before the deadline, then hands the rest to one shared thread that
//! waits on a condition variable with a nanosecond deadline and wakes the task.
//!
//! Paused-time tests stay exact: the shared thread runs on real time, so the task goes on only once tokio's clock
//! has reached the deadline too, racing a tokio timer for it; with a paused clock that timer always decides.

use parking_lot::{Condvar, Mutex};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long before the deadline tokio's timer hands over: more than its worst rounding (2 ms), so the hand-over
/// happens before the deadline unless the runtime was busy.
pub const COARSE_MARGIN: Duration = Duration::from_millis(3);

/// Sleeps until `deadline` (tokio's clock), accurate to the OS's timer slack rather than to tokio's millisecond.
pub async fn sleep_until(deadline: Instant) {
    if let Some(early) = deadline.checked_sub(COARSE_MARGIN) {
        tokio::time::sleep_until(early).await;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return;
    }
    let woken = precise_timer().wake_after(left);
    tokio::select! {
        biased;
        _ = tokio::time::sleep_until(deadline) => return,
        _ = woken => {}
    }
    // Only with a paused clock (tests) can real time run ahead of tokio's.
    if Instant::now() < deadline {
        tokio::time::sleep_until(deadline).await;
    }
}

/// One pending wake-up; ordered by due time, then by registration order.
struct Entry {
    due: std::time::Instant,
    seq: u64,
    tx: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

/// The shared waiting thread. It only ever holds wake-ups due within [`COARSE_MARGIN`], so the heap stays tiny.
struct PreciseTimer {
    queue: Mutex<Queue>,
    changed: Condvar,
}

fn precise_timer() -> &'static PreciseTimer {
    static TIMER: OnceLock<&'static PreciseTimer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static PreciseTimer =
            Box::leak(Box::new(PreciseTimer { queue: Mutex::new(Queue::default()), changed: Condvar::new() }));
        // If the thread cannot be spawned, nothing answers: every `sleep_until` then falls back to tokio's timer.
        let spawned = std::thread::Builder::new().name("tocsin-timer".into()).spawn(move || timer.run());
        if let Err(err) = spawned {
            tracing::warn!(%err, "cannot start the precise timer thread; flush timers keep millisecond accuracy");
        }
        timer
    })
}

/// Real time: this timer exists to be more exact than the runtime's clock, paused or not.
#[allow(clippy::disallowed_methods)]
fn real_now() -> std::time::Instant {
    std::time::Instant::now()
}

impl PreciseTimer {
    /// A receiver that resolves `after` from now in real time.
    fn wake_after(&self, after: Duration) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let due = real_now() + after;
        let mut q = self.queue.lock();
        q.seq = q.seq.wrapping_add(1);
        let seq = q.seq;
        let first = q.heap.peek().is_none_or(|Reverse(e)| due < e.due);
        q.heap.push(Reverse(Entry { due, seq, tx }));
        drop(q);
        if first {
            self.changed.notify_one();
        }
        rx
    }

    fn run(&self) {
        let mut q = self.queue.lock();
        loop {
            let Some(due) = q.heap.peek().map(|Reverse(e)| e.due) else {
                self.changed.wait(&mut q);
                continue;
            };
            if due > real_now() {
                self.changed.wait_until(&mut q, due);
                continue;
            }
            if let Some(Reverse(e)) = q.heap.pop() {
                // A dropped receiver (the group stopped meanwhile) is fine.
                let _ = e.tx.send(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paused_clock_behaves_like_tokio_sleep() {
        // A paused clock jumps to the millisecond tick of the deadline, as `tokio::time::sleep_until` does.
        for ms in [0u64, 1, 2, 3, 4, 1000, 1001] {
            let deadline = Instant::now() + Duration::from_millis(ms);
            sleep_until(deadline).await;
            assert_eq!(Instant::now(), deadline, "deadline +{ms}ms");
            let odd = Instant::now() + Duration::from_millis(ms) + Duration::from_micros(300);
            sleep_until(odd).await;
            let late = Instant::now() - odd;
            assert!(Instant::now() >= odd && late < Duration::from_millis(1), "+{ms}.3ms: {late:?} late");
        }
    }

    #[tokio::test]
    async fn real_clock_is_never_early() {
        // Real sockets and real time are allowed to be late, never early; no assertion on how late.
        let deadline = Instant::now() + Duration::from_micros(4500);
        sleep_until(deadline).await;
        assert!(Instant::now() >= deadline);
        let past = Instant::now();
        sleep_until(past).await;
    }

    #[test]
    fn wakes_in_due_order() {
        let timer = precise_timer();
        let late = timer.wake_after(Duration::from_secs(10));
        let early = timer.wake_after(Duration::from_micros(200));
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        rt.block_on(async {
            tokio::select! {
                biased;
                _ = late => panic!("the later wake-up came first"),
                r = early => assert!(r.is_ok()),
            }
        });
    }
}
