//! openCypher temporal values: `Date`, `LocalTime`, `Time`, `LocalDateTime`, `DateTime` and
//! `Duration`, with their ISO 8601 parsing and Cypher string forms, arithmetic, truncation,
//! comparison and `duration.between`.
//!
//! Representation (all exact integers, nanosecond precision):
//! - a date is an epoch day (years -999,999,999..=999,999,999, proleptic Gregorian);
//! - a local time is nanoseconds since midnight (`0..NANOS_PER_DAY`);
//! - an offset is whole seconds east of UTC (`-18h..=18h`);
//! - a date-time keeps its local date-time, its offset at that instant, and its named zone
//!   when it has one (offsets of named zones come from the tz database via chrono-tz);
//! - a duration is `(months, days, seconds, nanos)` with `0 <= nanos < 1e9`, the openCypher
//!   model: the three units are not convertible into each other in general.

pub mod access;
pub mod arith;
pub mod between;
pub mod build;
pub mod civil;
pub mod clock;
pub mod compare;
pub mod duration;
mod format;
pub mod parse;
pub mod truncate;
pub mod zone;

pub use duration::Duration;
pub use zone::Zone;

use crate::error::{Error, ErrorKind, Result};

pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
pub const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;
pub const SECONDS_PER_DAY: i64 = 86_400;

/// A calendar date without time or zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    days: i64,
}

/// A time of day without zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalTime {
    nanos: i64,
}

/// A time of day with a fixed UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Time {
    pub time: LocalTime,
    /// Seconds east of UTC.
    pub offset: i32,
}

/// A date and time of day without zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalDateTime {
    pub date: Date,
    pub time: LocalTime,
}

/// A date and time of day in a zone: `offset` is the zone's offset at this instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    pub local: LocalDateTime,
    /// Seconds east of UTC.
    pub offset: i32,
    /// The named zone (`Europe/Stockholm`), or `None` for a plain offset.
    pub zone: Option<Zone>,
}

/// An invalid temporal value or argument (openCypher: a runtime error, not a type error).
pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Error, msg.into())
}

/// A value beyond the supported range (years ±999,999,999, durations in 64 bits).
pub(crate) fn overflow(what: &str) -> Error {
    Error::new(
        ErrorKind::Error,
        format!("{what} is out of range: temporal values support years -999999999 to 999999999 and durations that fit in 64-bit seconds"),
    )
}

impl Date {
    /// The date `year-month-day`; an error when the fields do not form a valid date.
    pub fn from_ymd(year: i64, month: i64, day: i64) -> Result<Date> {
        check_year(year)?;
        if !(1..=12).contains(&month) {
            return Err(invalid(format!(
                "invalid month {month}: months run from 1 to 12"
            )));
        }
        let month = month as u32;
        let last = i64::from(civil::days_in_month(year, month));
        if !(1..=last).contains(&day) {
            return Err(invalid(format!(
                "invalid day {day} for {year}-{month:02}: that month has {last} days"
            )));
        }
        Ok(Date {
            days: civil::days_from_civil(year, month, day as u32),
        })
    }

    /// The Monday-based ISO week date.
    pub fn from_week(week_year: i64, week: i64, day_of_week: i64) -> Result<Date> {
        check_year(week_year)?;
        let weeks = i64::from(civil::weeks_in_year(week_year));
        if !(1..=weeks).contains(&week) {
            return Err(invalid(format!(
                "invalid week {week}: week-year {week_year} has {weeks} weeks"
            )));
        }
        if !(1..=7).contains(&day_of_week) {
            return Err(invalid(format!(
                "invalid dayOfWeek {day_of_week}: days of the week run from 1 (Monday) to 7"
            )));
        }
        Date::from_epoch_day(civil::week_one_start(week_year) + (week - 1) * 7 + day_of_week - 1)
    }

    pub fn from_ordinal(year: i64, ordinal: i64) -> Result<Date> {
        check_year(year)?;
        let n = civil::days_in_year(year);
        if !(1..=n).contains(&ordinal) {
            return Err(invalid(format!(
                "invalid ordinalDay {ordinal}: {year} has {n} days"
            )));
        }
        Date::from_epoch_day(civil::days_from_civil(year, 1, 1) + ordinal - 1)
    }

    pub fn from_quarter(year: i64, quarter: i64, day_of_quarter: i64) -> Result<Date> {
        check_year(year)?;
        if !(1..=4).contains(&quarter) {
            return Err(invalid(format!(
                "invalid quarter {quarter}: quarters run from 1 to 4"
            )));
        }
        let first_month = (quarter as u32) * 3 - 2;
        let start = civil::days_from_civil(year, first_month, 1);
        let end = if quarter == 4 {
            civil::days_from_civil(year + 1, 1, 1)
        } else {
            civil::days_from_civil(year, first_month + 3, 1)
        };
        if !(1..=end - start).contains(&day_of_quarter) {
            return Err(invalid(format!(
                "invalid dayOfQuarter {day_of_quarter}: quarter {quarter} of {year} has {} days",
                end - start
            )));
        }
        Date::from_epoch_day(start + day_of_quarter - 1)
    }

    /// The date `days` after 1970-01-01; an error outside the supported years.
    pub fn from_epoch_day(days: i64) -> Result<Date> {
        let lo = civil::days_from_civil(civil::MIN_YEAR, 1, 1);
        let hi = civil::days_from_civil(civil::MAX_YEAR, 12, 31);
        if !(lo..=hi).contains(&days) {
            return Err(overflow("date"));
        }
        Ok(Date { days })
    }

    pub fn epoch_day(self) -> i64 {
        self.days
    }
    pub fn ymd(self) -> (i64, u32, u32) {
        civil::civil_from_days(self.days)
    }
    pub fn year(self) -> i64 {
        self.ymd().0
    }
    pub fn month(self) -> u32 {
        self.ymd().1
    }
    pub fn day(self) -> u32 {
        self.ymd().2
    }
    pub fn day_of_week(self) -> u32 {
        civil::day_of_week(self.days)
    }
    /// `(week_year, week)`.
    pub fn iso_week(self) -> (i64, u32) {
        civil::iso_week(self.days)
    }
    pub fn ordinal_day(self) -> u32 {
        civil::ordinal_day(self.days)
    }
    pub fn quarter(self) -> u32 {
        civil::quarter_of(self.month())
    }
    pub fn day_of_quarter(self) -> u32 {
        civil::day_of_quarter(self.days)
    }

    /// Adds calendar months, clamping the day to the end of the target month
    /// (2015-01-31 + 1 month = 2015-02-28).
    pub fn plus_months(self, months: i64) -> Result<Date> {
        let (y, m, d) = self.ymd();
        let total = y
            .checked_mul(12)
            .and_then(|t| t.checked_add(i64::from(m) - 1))
            .and_then(|t| t.checked_add(months))
            .ok_or_else(|| overflow("date"))?;
        let year = total.div_euclid(12);
        let month = (total.rem_euclid(12) + 1) as u32;
        check_year(year)?;
        let day = d.min(civil::days_in_month(year, month));
        Ok(Date {
            days: civil::days_from_civil(year, month, day),
        })
    }

    pub fn plus_days(self, days: i64) -> Result<Date> {
        Date::from_epoch_day(
            self.days
                .checked_add(days)
                .ok_or_else(|| overflow("date"))?,
        )
    }
}

fn check_year(year: i64) -> Result<()> {
    if (civil::MIN_YEAR..=civil::MAX_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(invalid(format!(
            "invalid year {year}: years run from -999999999 to 999999999"
        )))
    }
}

impl LocalTime {
    pub const MIDNIGHT: LocalTime = LocalTime { nanos: 0 };

    pub fn from_hms_nano(hour: i64, minute: i64, second: i64, nano: i64) -> Result<LocalTime> {
        let checks = [
            ("hour", hour, 23),
            ("minute", minute, 59),
            ("second", second, 59),
            ("nanosecond", nano, NANOS_PER_SECOND - 1),
        ];
        for (name, v, max) in checks {
            if !(0..=max).contains(&v) {
                return Err(invalid(format!(
                    "invalid {name} {v}: it must be between 0 and {max}"
                )));
            }
        }
        Ok(LocalTime {
            nanos: ((hour * 60 + minute) * 60 + second) * NANOS_PER_SECOND + nano,
        })
    }

    /// The time `nanos` after midnight; an error outside one day.
    pub fn from_nanos_of_day(nanos: i64) -> Result<LocalTime> {
        if (0..NANOS_PER_DAY).contains(&nanos) {
            Ok(LocalTime { nanos })
        } else {
            Err(invalid(format!("{nanos} ns is not a time of day")))
        }
    }

    /// The time `nanos` after midnight, wrapping around the day.
    pub fn from_nanos_wrapping(nanos: i64) -> LocalTime {
        LocalTime {
            nanos: nanos.rem_euclid(NANOS_PER_DAY),
        }
    }

    pub fn nanos_of_day(self) -> i64 {
        self.nanos
    }
    pub fn hour(self) -> i64 {
        self.nanos / (3600 * NANOS_PER_SECOND)
    }
    pub fn minute(self) -> i64 {
        self.nanos / (60 * NANOS_PER_SECOND) % 60
    }
    pub fn second(self) -> i64 {
        self.nanos / NANOS_PER_SECOND % 60
    }
    pub fn nanosecond(self) -> i64 {
        self.nanos % NANOS_PER_SECOND
    }
}

impl Time {
    /// Nanoseconds of the day in UTC, not wrapped: the value times compare by.
    pub fn utc_nanos(self) -> i64 {
        self.time.nanos - i64::from(self.offset) * NANOS_PER_SECOND
    }
}

impl LocalDateTime {
    /// Seconds since the epoch and nanoseconds of the second, reading the value as UTC.
    pub fn epoch_parts(self) -> (i64, i64) {
        let secs = self.date.days * SECONDS_PER_DAY + self.time.nanos / NANOS_PER_SECOND;
        (secs, self.time.nanos % NANOS_PER_SECOND)
    }

    /// Nanoseconds since the epoch reading the value as UTC (i128: years ±1e9 need 86 bits).
    pub fn epoch_nanos(self) -> i128 {
        i128::from(self.date.days) * i128::from(NANOS_PER_DAY) + i128::from(self.time.nanos)
    }

    pub fn from_epoch_nanos(nanos: i128) -> Result<LocalDateTime> {
        let day_len = i128::from(NANOS_PER_DAY);
        let days = i64::try_from(nanos.div_euclid(day_len)).map_err(|_| overflow("date-time"))?;
        let rest = nanos.rem_euclid(day_len) as i64;
        Ok(LocalDateTime {
            date: Date::from_epoch_day(days)?,
            time: LocalTime { nanos: rest },
        })
    }

    pub fn plus_nanos(self, nanos: i128) -> Result<LocalDateTime> {
        LocalDateTime::from_epoch_nanos(self.epoch_nanos() + nanos)
    }
}

impl DateTime {
    /// The instant as nanoseconds since the epoch.
    pub fn epoch_nanos(self) -> i128 {
        self.local.epoch_nanos() - i128::from(self.offset) * i128::from(NANOS_PER_SECOND)
    }

    /// The date-time at local `local` in `zone`, resolving gaps and overlaps as java.time
    /// does (a time in a gap moves forward by the gap; an ambiguous one takes the earlier
    /// offset).
    pub fn from_local(local: LocalDateTime, zone: Zone) -> Result<DateTime> {
        match zone {
            Zone::Offset(offset) => Ok(DateTime {
                local,
                offset,
                zone: None,
            }),
            Zone::Named(tz) => {
                let (local, offset) = zone::resolve_local(tz, local)?;
                Ok(DateTime {
                    local,
                    offset,
                    zone: Some(Zone::Named(tz)),
                })
            }
        }
    }

    /// The date-time at instant `epoch_nanos` seen in `zone`.
    pub fn from_instant(epoch_nanos: i128, zone: Zone) -> Result<DateTime> {
        let offset = match zone {
            Zone::Offset(o) => o,
            Zone::Named(tz) => zone::offset_at_instant(tz, epoch_nanos),
        };
        let local = LocalDateTime::from_epoch_nanos(
            epoch_nanos + i128::from(offset) * i128::from(NANOS_PER_SECOND),
        )?;
        Ok(DateTime {
            local,
            offset,
            zone: match zone {
                Zone::Offset(_) => None,
                named => Some(named),
            },
        })
    }

    /// The zone: the named one, else the fixed offset.
    pub fn zone(self) -> Zone {
        self.zone.unwrap_or(Zone::Offset(self.offset))
    }

    pub fn time(self) -> Time {
        Time {
            time: self.local.time,
            offset: self.offset,
        }
    }
}
