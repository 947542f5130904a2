//! Where the inbox reads the time: lease ends, retry times, completion times and the
//! retention's cut-off all come from a store's [`Clock`]. The system clock is the
//! default; [`ManualClock`] moves only when told, so tests of leases, backoff and
//! retention do not wait for real time to pass.
//!
//! Timers that run inside a server are not the store's to move: JetStream redelivers a
//! released message after a real delay (see [`crate::nats`]), so a NATS store under a
//! manual clock still hands a message back only once that real delay has passed; what it
//! then does with the message (claim it, or release it again) follows the clock.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The time now.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until it is advanced or set; clones share one time, so a
/// test keeps a clone and moves the store's clock with it.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: SystemTime) -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// A clock showing the system time now, truncated to whole milliseconds (the
    /// precision stores keep), so times read from it come back from a store unchanged.
    pub fn starting_now() -> Self {
        let ms = crate::store::to_ms(SystemTime::now());
        ManualClock::new(crate::store::from_ms(ms))
    }

    /// The time it shows (also [`Clock::now`], without the trait in scope).
    pub fn now(&self) -> SystemTime {
        *self.lock()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        *now += by;
    }

    /// Sets the clock to `to` (backwards too).
    pub fn set(&self, to: SystemTime) {
        *self.lock() = to;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SystemTime> {
        // A time cannot be left half-written: use it as it is.
        self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        ManualClock::now(self)
    }
}

/// The clock a store holds.
pub(crate) type SharedClock = Arc<dyn Clock>;

pub(crate) fn system() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = ManualClock::starting_now();
        let other = clock.clone();
        let t0 = clock.now();
        assert_eq!(crate::store::from_ms(crate::store::to_ms(t0)), t0);
        other.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), t0 + Duration::from_secs(90));
        clock.set(t0);
        assert_eq!(other.now(), t0);
    }
}
