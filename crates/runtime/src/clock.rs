//! The injectable clock. Production code asks a [`Clock`] for the time and for sleeps, so tests of
//! waits (lease expiry, retry backoff, alarm periods, canary intervals) run in milliseconds with a
//! [`ManualClock`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use time::OffsetDateTime;

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

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
    // implemented in clock.rs by the runtime work (see the crate README)
    _private: (),
}

impl ManualClock {
    pub fn new(_start: OffsetDateTime) -> std::sync::Arc<Self> {
        todo!()
    }
    pub fn advance(&self, _d: Duration) {
        todo!()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        todo!()
    }
    fn sleep(&self, _d: Duration) -> Sleep {
        todo!()
    }
}
