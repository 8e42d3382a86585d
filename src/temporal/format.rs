//! The Cypher string forms (ISO 8601 extended format) of dates and times.
//!
//! Years outside 0000..=9999 get an explicit sign (`+10000`, `-0001`), minutes are always
//! shown, seconds only when they or the fraction are non-zero, and the fraction without
//! trailing zeros: `12:00`, `12:31:14`, `12:31:14.645`.

use std::fmt;

use super::zone::{format_offset, Zone};
use super::{Date, DateTime, LocalDateTime, LocalTime, Time, NANOS_PER_SECOND};

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        if y > 9999 {
            write!(f, "+{y}")?;
        } else if y < 0 {
            write!(f, "-{:04}", y.unsigned_abs())?;
        } else {
            write!(f, "{y:04}")?;
        }
        write!(f, "-{m:02}-{d:02}")
    }
}

/// The fraction of a second without trailing zeros (empty for zero).
pub(crate) fn fraction(nanos: i64) -> String {
    if nanos == 0 {
        return String::new();
    }
    let s = format!("{nanos:09}");
    format!(".{}", s.trim_end_matches('0'))
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())?;
        let (s, n) = (self.second(), self.nanosecond());
        if s != 0 || n != 0 {
            write!(f, ":{s:02}{}", fraction(n))?;
        }
        debug_assert!(n < NANOS_PER_SECOND);
        Ok(())
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.time, format_offset(self.offset))
    }
}

impl fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}T{}", self.date, self.time)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.local, format_offset(self.offset))?;
        if let Some(Zone::Named(tz)) = self.zone {
            write!(f, "[{}]", tz.name())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;

    #[test]
    fn dates_pad_and_sign_years() {
        assert_eq!(
            Date::from_ymd(28, 11, 11).unwrap().to_string(),
            "0028-11-11"
        );
        assert_eq!(Date::from_ymd(-1, 1, 1).unwrap().to_string(), "-0001-01-01");
        assert_eq!(
            Date::from_ymd(999_999_999, 12, 31).unwrap().to_string(),
            "+999999999-12-31"
        );
    }

    #[test]
    fn times_show_seconds_and_fractions_only_when_present() {
        let t = |h, m, s, n| LocalTime::from_hms_nano(h, m, s, n).unwrap().to_string();
        assert_eq!(t(12, 0, 0, 0), "12:00");
        assert_eq!(t(12, 31, 14, 0), "12:31:14");
        assert_eq!(t(12, 31, 14, 645_000_000), "12:31:14.645");
        assert_eq!(t(12, 31, 0, 3), "12:31:00.000000003");
    }
}
