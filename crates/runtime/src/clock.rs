//! The injectable clock. Production code asks a [`Clock`] for the time and for sleeps, so tests of
//! waits (lease expiry, retry backoff, alarm periods, canary intervals) run in milliseconds with a
//! [`ManualClock`].
//!
//! [`ManualClock`] keeps its sleepers in a min-heap of (deadline, arrival) with a oneshot
//! channel each; [`ManualClock::advance`] pops every sleeper whose deadline has come and wakes
//! them in deadline order (ties in the order they went to sleep), outside the lock.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::oneshot;

/// A boxed sleep future, as returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Where time comes from: the wall clock in production, a [`ManualClock`] in tests.
pub trait Clock: Send + Sync + 'static {
    /// The current wall-clock time (UTC).
    fn now(&self) -> OffsetDateTime;
    /// A future that completes once `d` has passed on this clock.
    fn sleep(&self, d: Duration) -> Sleep;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock that only moves when a test calls [`ManualClock::advance`]; sleepers wake when the
/// clock passes their deadline.
pub struct ManualClock {
    state: Mutex<State>,
}

struct State {
    now: OffsetDateTime,
    /// Arrival counter: orders sleepers with equal deadlines.
    seq: u64,
    sleepers: BinaryHeap<Sleeper>,
    /// Heap size at which abandoned sleepers (dropped futures) are pruned next.
    prune_at: usize,
}

struct Sleeper {
    deadline: OffsetDateTime,
    seq: u64,
    wake: oneshot::Sender<()>,
}

// `BinaryHeap` is a max-heap: order sleepers so that the earliest (deadline, seq) is greatest.
impl Ord for Sleeper {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.deadline, other.seq).cmp(&(self.deadline, self.seq))
    }
}
impl PartialOrd for Sleeper {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Sleeper {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}
impl Eq for Sleeper {}

const PRUNE_MIN: usize = 64;

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: OffsetDateTime) -> std::sync::Arc<Self> {
        Arc::new(ManualClock {
            state: Mutex::new(State { now: start, seq: 0, sleepers: BinaryHeap::new(), prune_at: PRUNE_MIN }),
        })
    }

    /// Move the clock forward by `d` and wake, in deadline order, every sleeper whose deadline
    /// is now or earlier.
    ///
    /// # Panics
    /// If the clock would pass the largest time `time` can represent (year 9999).
    pub fn advance(&self, d: Duration) {
        let mut st = self.lock();
        let now = time::Duration::try_from(d)
            .ok()
            .and_then(|d| st.now.checked_add(d))
            .expect("ManualClock advanced past the end of representable time");
        st.now = now;
        Self::wake_due(st);
    }

    /// Move the clock forward to `t` (no-op if it is already there or later), waking sleepers as
    /// [`advance`](Self::advance) does.
    pub fn advance_to(&self, t: OffsetDateTime) {
        let mut st = self.lock();
        if t > st.now {
            st.now = t;
            Self::wake_due(st);
        }
    }

    /// How many sleep futures are waiting (not yet woken, not dropped). Tests use it to make
    /// sure a task has gone to sleep before they advance the clock.
    pub fn sleepers(&self) -> usize {
        self.lock().sleepers.iter().filter(|s| !s.wake.is_closed()).count()
    }

    fn wake_due(mut st: MutexGuard<'_, State>) {
        let now = st.now;
        let mut due = Vec::new();
        while st.sleepers.peek().is_some_and(|s| s.deadline <= now) {
            due.extend(st.sleepers.pop());
        }
        drop(st);
        for s in due {
            // The sleeper may have been dropped meanwhile; nothing to wake then.
            let _ = s.wake.send(());
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent after every statement, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("ManualClock").field("now", &st.now).field("sleepers", &st.sleepers.len()).finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.lock().now
    }

    fn sleep(&self, d: Duration) -> Sleep {
        let mut st = self.lock();
        let Some(deadline) = time::Duration::try_from(d).ok().and_then(|d| st.now.checked_add(d)) else {
            // Past the end of representable time: never.
            return Box::pin(std::future::pending());
        };
        if deadline <= st.now {
            return Box::pin(std::future::ready(()));
        }
        if st.sleepers.len() >= st.prune_at {
            st.sleepers.retain(|s| !s.wake.is_closed());
            st.prune_at = (st.sleepers.len() * 2).max(PRUNE_MIN);
        }
        let (wake, woken) = oneshot::channel();
        st.seq += 1;
        let seq = st.seq;
        st.sleepers.push(Sleeper { deadline, seq, wake });
        Box::pin(async move {
            if woken.await.is_err() {
                // The clock is gone, so its time can never come.
                std::future::pending::<()>().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use time::macros::datetime;

    fn clock() -> Arc<ManualClock> {
        ManualClock::new(datetime!(2024-01-01 00:00 UTC))
    }

    #[test]
    fn advance_moves_now() {
        let c = clock();
        assert_eq!(c.now(), datetime!(2024-01-01 00:00 UTC));
        c.advance(Duration::from_millis(1500));
        assert_eq!(c.now(), datetime!(2024-01-01 00:00:01.5 UTC));
        c.advance_to(datetime!(2024-01-01 00:00 UTC)); // backwards: ignored
        assert_eq!(c.now(), datetime!(2024-01-01 00:00:01.5 UTC));
        c.advance_to(datetime!(2024-01-02 00:00 UTC));
        assert_eq!(c.now(), datetime!(2024-01-02 00:00 UTC));
    }

    #[test]
    fn zero_sleep_is_ready_at_once() {
        let c = clock();
        assert!(c.sleep(Duration::ZERO).now_or_never().is_some());
        assert_eq!(c.sleepers(), 0);
    }

    #[test]
    fn sleeper_wakes_at_its_deadline_not_before() {
        let c = clock();
        let mut s = c.sleep(Duration::from_secs(10));
        assert!((&mut s).now_or_never().is_none());
        assert_eq!(c.sleepers(), 1);
        c.advance(Duration::from_secs(9));
        assert!((&mut s).now_or_never().is_none());
        c.advance(Duration::from_secs(1));
        assert!((&mut s).now_or_never().is_some());
        assert_eq!(c.sleepers(), 0);
    }

    #[test]
    fn huge_sleep_never_ends_and_does_not_panic() {
        let c = clock();
        let mut s = c.sleep(Duration::MAX);
        c.advance(Duration::from_secs(3600 * 24 * 365 * 100));
        assert!((&mut s).now_or_never().is_none());
    }

    #[test]
    fn dropped_sleepers_are_forgotten() {
        let c = clock();
        let kept = c.sleep(Duration::from_secs(5));
        for _ in 0..1000 {
            drop(c.sleep(Duration::from_secs(1)));
        }
        assert_eq!(c.sleepers(), 1);
        assert!(c.lock().sleepers.len() < 200, "abandoned sleepers are pruned");
        c.advance(Duration::from_secs(5));
        assert!(kept.now_or_never().is_some());
    }

    #[tokio::test]
    async fn wakes_in_deadline_order() {
        let c = clock();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // Equal deadlines wake in arrival order.
        for (name, secs) in [("c", 3), ("a", 1), ("b", 2), ("b2", 2), ("late", 60)] {
            let (c, tx) = (c.clone(), tx.clone());
            tokio::spawn(async move {
                c.sleep(Duration::from_secs(secs)).await;
                let _ = tx.send(name);
            });
        }
        while c.sleepers() < 5 {
            tokio::task::yield_now().await;
        }
        c.advance(Duration::from_secs(3));
        let mut woken = Vec::new();
        for _ in 0..4 {
            woken.push(rx.recv().await.unwrap());
        }
        assert_eq!(woken, ["a", "b", "b2", "c"]);
        assert_eq!(c.sleepers(), 1);
        assert!(rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn shared_clock_as_dyn() {
        let c = clock();
        let dynclock: Arc<dyn Clock> = c.clone();
        let t = tokio::spawn({
            let d = dynclock.clone();
            async move {
                let start = d.now();
                d.sleep(Duration::from_secs(30)).await;
                d.now() - start
            }
        });
        while c.sleepers() < 1 {
            tokio::task::yield_now().await;
        }
        c.advance(Duration::from_secs(45));
        assert_eq!(t.await.unwrap(), time::Duration::seconds(45));
    }

    #[tokio::test]
    async fn system_clock_sleeps() {
        let start = std::time::Instant::now();
        SystemClock.sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(SystemClock.now().year() >= 2024);
    }
}
