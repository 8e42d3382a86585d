//! `X.truncate(unit, value)`: the value with every field smaller than `unit` reset.

use super::{civil, invalid, Date, LocalDateTime, LocalTime, NANOS_PER_SECOND};
use crate::error::Result;

/// The units `truncate` accepts, largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    Millennium,
    Century,
    Decade,
    Year,
    WeekYear,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
}

impl Unit {
    pub fn parse(s: &str) -> Result<Unit> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "millennium" => Unit::Millennium,
            "century" => Unit::Century,
            "decade" => Unit::Decade,
            "year" => Unit::Year,
            "weekyear" => Unit::WeekYear,
            "quarter" => Unit::Quarter,
            "month" => Unit::Month,
            "week" => Unit::Week,
            "day" => Unit::Day,
            "hour" => Unit::Hour,
            "minute" => Unit::Minute,
            "second" => Unit::Second,
            "millisecond" => Unit::Millisecond,
            "microsecond" => Unit::Microsecond,
            _ => {
                return Err(invalid(format!(
                    "unknown truncation unit '{s}': use millennium, century, decade, year, weekYear, quarter, month, week, day, hour, minute, second, millisecond or microsecond"
                )))
            }
        })
    }

    /// Whether truncating to this unit changes the date (time units keep it).
    pub fn is_date_unit(self) -> bool {
        self <= Unit::Day
    }
}

fn year_start(year: i64, multiple: i64) -> Result<Date> {
    Date::from_ymd(year.div_euclid(multiple) * multiple, 1, 1)
}

pub fn date(d: Date, unit: Unit) -> Result<Date> {
    let (y, m, _) = d.ymd();
    match unit {
        Unit::Millennium => year_start(y, 1000),
        Unit::Century => year_start(y, 100),
        Unit::Decade => year_start(y, 10),
        Unit::Year => year_start(y, 1),
        Unit::WeekYear => Date::from_epoch_day(civil::week_one_start(d.iso_week().0)),
        Unit::Quarter => Date::from_ymd(y, i64::from((m - 1) / 3 * 3 + 1), 1),
        Unit::Month => Date::from_ymd(y, i64::from(m), 1),
        Unit::Week => d.plus_days(1 - i64::from(d.day_of_week())),
        _ => Ok(d),
    }
}

pub fn time(t: LocalTime, unit: Unit) -> LocalTime {
    let step = match unit {
        Unit::Hour => 3600 * NANOS_PER_SECOND,
        Unit::Minute => 60 * NANOS_PER_SECOND,
        Unit::Second => NANOS_PER_SECOND,
        Unit::Millisecond => 1_000_000,
        Unit::Microsecond => 1_000,
        _ => return LocalTime::MIDNIGHT,
    };
    let n = t.nanos_of_day();
    LocalTime::from_nanos_wrapping(n - n % step)
}

pub fn local_date_time(l: LocalDateTime, unit: Unit) -> Result<LocalDateTime> {
    Ok(LocalDateTime {
        date: date(l.date, unit)?,
        time: time(l.time, unit),
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn date_units() {
        let d = parse::date("1984-01-01").unwrap();
        let t = |u| date(d, u).unwrap().to_string();
        assert_eq!(t(Unit::Millennium), "1000-01-01");
        assert_eq!(t(Unit::WeekYear), "1983-01-03");
        assert_eq!(t(Unit::Week), "1983-12-26");
        let neg = parse::date("-0001-06-01").unwrap();
        assert_eq!(date(neg, Unit::Decade).unwrap().to_string(), "-0010-01-01");
    }

    #[test]
    fn time_units_and_unknown_units() {
        let t = parse::local_time("12:31:14.645876123").unwrap();
        assert_eq!(time(t, Unit::Millisecond).to_string(), "12:31:14.645");
        assert_eq!(time(t, Unit::Hour).to_string(), "12:00");
        assert_eq!(time(t, Unit::Day).to_string(), "00:00");
        assert!(Unit::parse("fortnight").is_err());
        assert_eq!(Unit::parse("WEEKYEAR").unwrap(), Unit::WeekYear);
    }
}
