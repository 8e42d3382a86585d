//! Instant ± duration.
//!
//! Months apply first (the day clamps to the month's end), then days, then the seconds part:
//! - a date adds only whole days of the seconds part (truncated toward zero);
//! - times wrap around midnight and ignore months and days;
//! - a date-time in a named zone applies months and days to its local date-time (keeping the
//!   wall-clock time across daylight-saving changes) and the seconds part to its instant.

use super::{overflow, Date, DateTime, Duration, LocalDateTime, LocalTime, Time, NANOS_PER_DAY};
use crate::error::Result;
use crate::value::Value;

fn plus_date(d: Date, dur: Duration, with_seconds_as_days: bool) -> Result<Date> {
    let d = d.plus_months(dur.months())?.plus_days(dur.days())?;
    if with_seconds_as_days {
        let whole_days = dur.total_nanos() / i128::from(NANOS_PER_DAY);
        let whole_days = i64::try_from(whole_days).map_err(|_| overflow("date"))?;
        d.plus_days(whole_days)
    } else {
        Ok(d)
    }
}

fn plus_time(t: LocalTime, dur: Duration) -> LocalTime {
    let day = i128::from(NANOS_PER_DAY);
    let shift = dur.total_nanos().rem_euclid(day) as i64;
    LocalTime::from_nanos_wrapping(t.nanos_of_day() + shift)
}

fn plus_local(l: LocalDateTime, dur: Duration) -> Result<LocalDateTime> {
    let date = plus_date(l.date, dur, false)?;
    LocalDateTime { date, time: l.time }.plus_nanos(dur.total_nanos())
}

/// `v + dur` for a temporal instant `v`; `None` when `v` is not one.
pub fn add(v: &Value, dur: Duration) -> Option<Result<Value>> {
    Some(match v {
        Value::Date(d) => plus_date(*d, dur, true).map(Value::Date),
        Value::LocalTime(t) => Ok(Value::LocalTime(plus_time(*t, dur))),
        Value::Time(t) => Ok(Value::Time(Time {
            time: plus_time(t.time, dur),
            offset: t.offset,
        })),
        Value::LocalDateTime(l) => plus_local(*l, dur).map(Value::LocalDateTime),
        Value::DateTime(dt) => plus_date_time(*dt, dur).map(Value::DateTime),
        _ => return None,
    })
}

fn plus_date_time(dt: DateTime, dur: Duration) -> Result<DateTime> {
    let date = plus_date(dt.local.date, dur, false)?;
    let moved = DateTime::from_local(
        LocalDateTime {
            date,
            time: dt.local.time,
        },
        dt.zone(),
    )?;
    DateTime::from_instant(moved.epoch_nanos() + dur.total_nanos(), dt.zone())
}

/// `v - dur`.
pub fn sub(v: &Value, dur: Duration) -> Option<Result<Value>> {
    match dur.checked_neg() {
        Ok(neg) => add(v, neg),
        Err(e) => Some(Err(e)),
    }
}

/// The arithmetic operators temporal values take part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

fn number(v: &Value) -> Option<super::duration::Num> {
    match v {
        Value::Int(i) => Some(super::duration::Num::Int(*i)),
        Value::Float(f) => Some(super::duration::Num::Float(*f)),
        _ => None,
    }
}

fn scale(d: Duration, k: super::duration::Num) -> Result<Duration> {
    match k {
        super::duration::Num::Int(i) => d.mul_int(i),
        super::duration::Num::Float(f) => d.mul_float(f),
    }
}

/// `a op b` when a temporal value is involved and the pair is defined (instant ± duration,
/// duration ± duration, duration * number, number * duration, duration / number); `None`
/// otherwise, so the caller reports its usual type error. Neither operand is null.
pub fn binary(op: Op, a: &Value, b: &Value) -> Option<Result<Value>> {
    let dur = Value::Duration;
    match (op, a, b) {
        (Op::Add, Value::Duration(x), Value::Duration(y)) => Some(x.checked_add(*y).map(dur)),
        (Op::Sub, Value::Duration(x), Value::Duration(y)) => Some(x.checked_sub(*y).map(dur)),
        (Op::Add, Value::Duration(d), v) => add(v, *d),
        (Op::Add, v, Value::Duration(d)) => add(v, *d),
        (Op::Sub, v, Value::Duration(d)) => sub(v, *d),
        (Op::Mul, Value::Duration(d), k) | (Op::Mul, k, Value::Duration(d)) => {
            Some(scale(*d, number(k)?).map(dur))
        }
        (Op::Div, Value::Duration(d), k) => Some(d.div_num(number(k)?).map(dur)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Value {
        Value::Date(super::super::parse::date(s).unwrap())
    }

    #[test]
    fn month_end_clamps() {
        let one_month = Duration::new(1, 0, 0, 0).unwrap();
        let got = add(&date("2015-01-31"), one_month).unwrap().unwrap();
        assert_eq!(got, date("2015-02-28"));
        let got = add(&date("2016-01-31"), one_month).unwrap().unwrap();
        assert_eq!(got, date("2016-02-29"));
        let year = Duration::new(12, 0, 0, 0).unwrap();
        assert_eq!(
            add(&date("2016-02-29"), year).unwrap().unwrap(),
            date("2017-02-28")
        );
    }

    #[test]
    fn dates_take_whole_days_of_the_seconds_part() {
        let d = Duration::new(0, 0, 86_399, 0).unwrap();
        assert_eq!(
            add(&date("2015-01-01"), d).unwrap().unwrap(),
            date("2015-01-01")
        );
        let d = Duration::new(0, 0, -86_400, 0).unwrap();
        assert_eq!(
            add(&date("2015-01-01"), d).unwrap().unwrap(),
            date("2014-12-31")
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let huge = Duration::new(i64::MAX / 2, 0, 0, 0).unwrap();
        assert!(add(&date("2015-01-01"), huge).unwrap().is_err());
        let far = Duration::new(0, 0, i64::MAX, 0).unwrap();
        let ldt = Value::LocalDateTime(super::super::parse::local_date_time("2015-01-01").unwrap());
        assert!(add(&ldt, far).unwrap().is_err());
        assert!(add(&Value::Int(1), far).is_none());
    }

    #[test]
    fn named_zone_keeps_wall_clock_across_dst_for_days() {
        let dt = super::super::parse::date_time("2017-03-25T12:00[Europe/Stockholm]").unwrap();
        let one_day = Duration::new(0, 1, 0, 0).unwrap();
        let got = add(&Value::DateTime(dt), one_day).unwrap().unwrap();
        let Value::DateTime(got) = got else {
            panic!("not a datetime")
        };
        assert_eq!(got.to_string(), "2017-03-26T12:00+02:00[Europe/Stockholm]");
        let day_of_hours = Duration::new(0, 0, 86_400, 0).unwrap();
        let got = add(&Value::DateTime(dt), day_of_hours).unwrap().unwrap();
        let Value::DateTime(got) = got else {
            panic!("not a datetime")
        };
        assert_eq!(got.to_string(), "2017-03-26T13:00+02:00[Europe/Stockholm]");
    }
}
