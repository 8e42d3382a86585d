//! The clock `date()`, `datetime.statement()` and friends read.
//!
//! One statement sees one instant: the first read of [`StatementClock::now`] fixes it, so
//! `duration.inSeconds(time(), time())` is `PT0S`. `*.transaction()` reads the instant the
//! connection's explicit transaction began (the statement's instant in auto-commit), and
//! `*.realtime()` reads the system clock each time.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The system clock as nanoseconds since the epoch (before 1970 reads as negative).
pub fn realtime() -> i128 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// Fixed on first use for the rest of the statement.
#[derive(Debug, Clone, Default)]
pub struct StatementClock(OnceLock<i128>);

impl StatementClock {
    /// A clock fixed at this moment (a statement's start); `default()` fixes it on first use.
    pub fn started_now() -> StatementClock {
        let c = StatementClock::default();
        c.now();
        c
    }

    pub fn now(&self) -> i128 {
        *self.0.get_or_init(realtime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_clock_is_fixed_after_first_read() {
        let c = StatementClock::default();
        let a = c.now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(c.now(), a);
        assert!(realtime() > a);
    }
}
