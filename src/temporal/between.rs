//! `duration.between(a, b)` and its `inMonths` / `inDays` / `inSeconds` forms.
//!
//! The two values are completed from each other: a value without a date takes the other's
//! date, a value without a zone takes the other's zone (a date has midnight as its time).
//! If either had no date, only the time difference counts. Otherwise months and days are
//! counted on local date-times (the end seen in the start's zone) as java.time's `until`
//! does — whole units only, so a shorter time of day at the end borrows a day — and the
//! rest is the exact difference of instants, which is right across daylight-saving changes.

use super::{Date, DateTime, Duration, LocalDateTime, LocalTime, Zone};
use crate::error::Result;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    All,
    Months,
    Days,
    Seconds,
}

#[derive(Clone, Copy)]
struct Point {
    date: Option<Date>,
    time: Option<LocalTime>,
    zone: Option<Zone>,
}

fn point(v: &Value) -> Option<Point> {
    Some(match v {
        Value::Date(d) => Point {
            date: Some(*d),
            time: None,
            zone: None,
        },
        Value::LocalTime(t) => Point {
            date: None,
            time: Some(*t),
            zone: None,
        },
        Value::Time(t) => Point {
            date: None,
            time: Some(t.time),
            zone: Some(Zone::Offset(t.offset)),
        },
        Value::LocalDateTime(l) => Point {
            date: Some(l.date),
            time: Some(l.time),
            zone: None,
        },
        Value::DateTime(dt) => Point {
            date: Some(dt.local.date),
            time: Some(dt.local.time),
            zone: Some(dt.zone()),
        },
        _ => return None,
    })
}

/// The local date-time and the instant (nanoseconds; the local reading when zone-less).
fn resolve(date: Date, time: LocalTime, zone: Option<Zone>) -> Result<(LocalDateTime, i128)> {
    let local = LocalDateTime { date, time };
    match zone {
        Some(z) => {
            let dt = DateTime::from_local(local, z)?;
            Ok((dt.local, dt.epoch_nanos()))
        }
        None => Ok((local, local.epoch_nanos())),
    }
}

/// The end date moved so that whole date units are counted (java.time `until`).
fn adjusted_end(start: LocalDateTime, end: LocalDateTime) -> Result<Date> {
    if end.date > start.date && end.time < start.time {
        end.date.plus_days(-1)
    } else if end.date < start.date && end.time > start.time {
        end.date.plus_days(1)
    } else {
        Ok(end.date)
    }
}

fn months_between(start: LocalDateTime, end: LocalDateTime) -> Result<i64> {
    let end_date = adjusted_end(start, end)?;
    let packed = |d: Date| {
        let (y, m, day) = d.ymd();
        (i128::from(y) * 12 + i128::from(m) - 1) * 32 + i128::from(day)
    };
    let months = (packed(end_date) - packed(start.date)) / 32;
    i64::try_from(months).map_err(|_| super::overflow("duration"))
}

fn days_between(start: LocalDateTime, end: LocalDateTime) -> Result<i64> {
    Ok(adjusted_end(start, end)?.epoch_day() - start.date.epoch_day())
}

/// The duration from `a` to `b`; `None` when either is not a temporal instant.
pub fn between(a: &Value, b: &Value, unit: Unit) -> Option<Result<Duration>> {
    let (pa, pb) = (point(a)?, point(b)?);
    Some(compute(pa, pb, unit))
}

fn compute(pa: Point, pb: Point, unit: Unit) -> Result<Duration> {
    let date_less = pa.date.is_none() || pb.date.is_none();
    let epoch = Date::from_epoch_day(0)?;
    let da = pa.date.or(pb.date).unwrap_or(epoch);
    let db = pb.date.or(pa.date).unwrap_or(epoch);
    let za = pa.zone.or(pb.zone);
    let zb = pb.zone.or(pa.zone);
    let ta = pa.time.unwrap_or(LocalTime::MIDNIGHT);
    let tb = pb.time.unwrap_or(LocalTime::MIDNIGHT);
    let (local_a, ia) = resolve(da, ta, za)?;
    let (local_b, ib) = resolve(db, tb, zb)?;
    if date_less || unit == Unit::Seconds {
        return match unit {
            Unit::Months | Unit::Days => Ok(Duration::ZERO),
            Unit::All | Unit::Seconds => Duration::from_parts(0, 0, ib - ia),
        };
    }
    // The end as a wall-clock reading in the start's zone.
    let end = match za {
        Some(z) => DateTime::from_instant(ib, z)?.local,
        None => local_b,
    };
    match unit {
        Unit::Days => Duration::from_parts(0, days_between(local_a, end)?.into(), 0),
        Unit::Months => Duration::from_parts(months_between(local_a, end)?.into(), 0, 0),
        _ => {
            let months = months_between(local_a, end)?;
            let after_months = LocalDateTime {
                date: local_a.date.plus_months(months)?,
                time: local_a.time,
            };
            let days = days_between(after_months, end)?;
            let after_days = LocalDateTime {
                date: after_months.date.plus_days(days)?,
                time: local_a.time,
            };
            let (_, i_mid) = resolve(after_days.date, after_days.time, za)?;
            Duration::from_parts(months.into(), days.into(), ib - i_mid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn ldt(s: &str) -> Value {
        Value::LocalDateTime(parse::local_date_time(s).unwrap())
    }
    fn show(a: &Value, b: &Value, unit: Unit) -> String {
        between(a, b, unit).unwrap().unwrap().to_string()
    }

    #[test]
    fn whole_units_borrow_from_shorter_end_times() {
        let a = ldt("2018-01-01T12:00");
        let b = ldt("2018-01-02T10:00");
        assert_eq!(show(&a, &b, Unit::All), "PT22H");
        assert_eq!(show(&b, &a, Unit::All), "PT-22H");
        let a = Value::Date(parse::date("2015-01-31").unwrap());
        let b = Value::Date(parse::date("2015-03-01").unwrap());
        assert_eq!(show(&a, &b, Unit::All), "P1M1D");
        assert_eq!(show(&b, &a, Unit::All), "P-1M-1D");
        assert_eq!(show(&a, &b, Unit::Days), "P29D");
    }

    #[test]
    fn extreme_dates_do_not_overflow() {
        let a = Value::Date(parse::date("-999999999-01-01").unwrap());
        let b = Value::Date(parse::date("+999999999-12-31").unwrap());
        assert_eq!(show(&a, &b, Unit::All), "P1999999998Y11M30D");
        let a = ldt("-999999999-01-01");
        let b = ldt("+999999999-12-31T23:59:59");
        assert_eq!(show(&a, &b, Unit::Seconds), "PT17531639991215H59M59S");
    }

    #[test]
    fn non_temporals_are_refused() {
        assert!(between(&Value::Int(1), &ldt("2018-01-01"), Unit::All).is_none());
    }
}
