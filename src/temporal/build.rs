//! Building temporal values the ways Cypher's constructor functions do: from a map of
//! fields (`date({year: 1984, week: 10, dayOfWeek: 3})`), optionally selecting fields of
//! other temporal values (`datetime({date: d, time: t, timezone: '+05:00'})`), by converting
//! another temporal value (`date(datetime)`), from the clock, and by truncation.
//!
//! Selection rules: fields given in the map override the selected value's fields; when the
//! selected time has a zone and the map names another zone, the instant is kept and shown in
//! the new zone; a zone-less selection just takes the named zone.

use std::collections::BTreeMap;

use super::truncate::{self, Unit};
use super::{
    invalid, Date, DateTime, LocalDateTime, LocalTime, Time, Zone, NANOS_PER_DAY, NANOS_PER_SECOND,
};
use crate::error::{Error, Result};
use crate::value::Value;

/// The temporal type a constructor builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Date,
    LocalTime,
    Time,
    LocalDateTime,
    DateTime,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Date => "date",
            Target::LocalTime => "localtime",
            Target::Time => "time",
            Target::LocalDateTime => "localdatetime",
            Target::DateTime => "datetime",
        }
    }
}

#[derive(Default)]
struct Fields {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    week: Option<i64>,
    day_of_week: Option<i64>,
    ordinal_day: Option<i64>,
    quarter: Option<i64>,
    day_of_quarter: Option<i64>,
    hour: Option<i64>,
    minute: Option<i64>,
    second: Option<i64>,
    millisecond: Option<i64>,
    microsecond: Option<i64>,
    nanosecond: Option<i64>,
    timezone: Option<Zone>,
    date: Option<Value>,
    time: Option<Value>,
    datetime: Option<Value>,
    epoch_seconds: Option<i64>,
    epoch_millis: Option<i64>,
}

fn int_field(name: &str, v: &Value) -> Result<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(Error::type_error(format!(
            "temporal field `{name}` must be an Integer, got {}",
            other.type_name()
        ))),
    }
}

impl Fields {
    fn parse(target: &str, map: &BTreeMap<String, Value>) -> Result<Fields> {
        let mut f = Fields::default();
        for (key, v) in map {
            if v.is_null() {
                continue;
            }
            let int = || int_field(key, v);
            match key.to_ascii_lowercase().as_str() {
                "year" => f.year = Some(int()?),
                "month" => f.month = Some(int()?),
                "day" => f.day = Some(int()?),
                "week" => f.week = Some(int()?),
                "dayofweek" | "weekday" => f.day_of_week = Some(int()?),
                "ordinalday" => f.ordinal_day = Some(int()?),
                "quarter" => f.quarter = Some(int()?),
                "dayofquarter" => f.day_of_quarter = Some(int()?),
                "hour" => f.hour = Some(int()?),
                "minute" => f.minute = Some(int()?),
                "second" => f.second = Some(int()?),
                "millisecond" => f.millisecond = Some(int()?),
                "microsecond" => f.microsecond = Some(int()?),
                "nanosecond" => f.nanosecond = Some(int()?),
                "epochseconds" => f.epoch_seconds = Some(int()?),
                "epochmillis" => f.epoch_millis = Some(int()?),
                "timezone" => match v {
                    Value::String(s) => f.timezone = Some(Zone::parse(s)?),
                    other => {
                        return Err(Error::type_error(format!(
                            "temporal field `timezone` must be a String, got {}",
                            other.type_name()
                        )))
                    }
                },
                "date" => f.date = Some(v.clone()),
                "time" => f.time = Some(v.clone()),
                "datetime" => f.datetime = Some(v.clone()),
                _ => {
                    return Err(invalid(format!(
                        "{target}() does not know the field `{key}`; use year, month, day, week, dayOfWeek, ordinalDay, quarter, dayOfQuarter, hour, minute, second, millisecond, microsecond, nanosecond, timezone, date, time or datetime"
                    )))
                }
            }
        }
        Ok(f)
    }

    fn has_date_fields(&self) -> bool {
        [
            self.year,
            self.month,
            self.day,
            self.week,
            self.day_of_week,
            self.ordinal_day,
            self.quarter,
            self.day_of_quarter,
        ]
        .iter()
        .any(Option::is_some)
    }

    fn has_time_fields(&self) -> bool {
        [
            self.hour,
            self.minute,
            self.second,
            self.millisecond,
            self.microsecond,
            self.nanosecond,
        ]
        .iter()
        .any(Option::is_some)
    }

    fn is_only_timezone(&self) -> bool {
        !self.has_date_fields()
            && !self.has_time_fields()
            && self.date.is_none()
            && self.time.is_none()
            && self.datetime.is_none()
            && self.epoch_seconds.is_none()
            && self.epoch_millis.is_none()
    }
}

/// The date part of a temporal value.
pub fn date_of(v: &Value) -> Option<Date> {
    match v {
        Value::Date(d) => Some(*d),
        Value::LocalDateTime(l) => Some(l.date),
        Value::DateTime(dt) => Some(dt.local.date),
        _ => None,
    }
}

/// The local time part of a temporal value.
pub fn time_of(v: &Value) -> Option<LocalTime> {
    match v {
        Value::LocalTime(t) => Some(*t),
        Value::Time(t) => Some(t.time),
        Value::LocalDateTime(l) => Some(l.time),
        Value::DateTime(dt) => Some(dt.local.time),
        _ => None,
    }
}

/// The zone of a temporal value that has one.
fn zone_of(v: &Value) -> Option<Zone> {
    match v {
        Value::Time(t) => Some(Zone::Offset(t.offset)),
        Value::DateTime(dt) => Some(dt.zone()),
        _ => None,
    }
}

fn selected<'a>(v: &'a Option<Value>, what: &str, ok: bool) -> Result<Option<&'a Value>> {
    match v {
        Some(v) if !ok => Err(Error::type_error(format!(
            "`{what}` must select a temporal value with a {what}, got {}",
            v.type_name()
        ))),
        other => Ok(other.as_ref()),
    }
}

fn mixed(a: &str, b: &str) -> Error {
    invalid(format!(
        "cannot combine {a} fields with {b} fields when building a date; use one way to name the day"
    ))
}

fn build_date(f: &Fields, base: Option<Date>) -> Result<Option<Date>> {
    let week = f.week.is_some() || f.day_of_week.is_some();
    let ordinal = f.ordinal_day.is_some();
    let quarter = f.quarter.is_some() || f.day_of_quarter.is_some();
    let calendar = f.month.is_some() || f.day.is_some();
    let groups = [
        (week, "week"),
        (ordinal, "ordinal"),
        (quarter, "quarter"),
        (calendar, "calendar"),
    ];
    let used: Vec<&str> = groups.iter().filter(|g| g.0).map(|g| g.1).collect();
    if let [a, b, ..] = used.as_slice() {
        return Err(mixed(a, b));
    }
    if f.year.is_none() && used.is_empty() && base.is_none() {
        return Ok(None);
    }
    let need_year = || invalid("a date needs a `year` (or a `date` to take it from)");
    let year = |from_base: Option<i64>| f.year.or(from_base).ok_or_else(need_year);
    let d = if week {
        let (bwy, bw) = base.map(Date::iso_week).unzip();
        let wy = year(bwy)?;
        let w = f.week.or(bw.map(i64::from)).unwrap_or(1);
        let dow = f
            .day_of_week
            .or(base.map(|b| i64::from(b.day_of_week())))
            .unwrap_or(1);
        Date::from_week(wy, w, dow)?
    } else if ordinal {
        let y = year(base.map(Date::year))?;
        Date::from_ordinal(y, f.ordinal_day.unwrap_or(1))?
    } else if quarter {
        let y = year(base.map(Date::year))?;
        match (f.quarter, f.day_of_quarter, base) {
            (Some(q), None, Some(b)) => {
                // Keep the month within the quarter and the day, like java.time.
                if !(1..=4).contains(&q) {
                    return Date::from_quarter(y, q, 1).map(Some);
                }
                let month = (q - 1) * 3 + i64::from((b.month() - 1) % 3) + 1;
                let last = super::civil::days_in_month(y, month as u32);
                Date::from_ymd(y, month, i64::from(b.day().min(last)))?
            }
            (q, doq, b) => Date::from_quarter(
                y,
                q.or(b.map(|b| i64::from(b.quarter()))).unwrap_or(1),
                doq.unwrap_or(1),
            )?,
        }
    } else {
        let y = year(base.map(Date::year))?;
        let m = f.month.or(base.map(|b| i64::from(b.month()))).unwrap_or(1);
        let d = match (f.day, base) {
            (Some(d), _) => d,
            // A day taken over from the selected date clamps to the new month's length.
            (None, Some(b)) if (1..=12).contains(&m) => {
                i64::from(b.day().min(super::civil::days_in_month(y, m as u32)))
            }
            _ => 1,
        };
        Date::from_ymd(y, m, d)?
    };
    Ok(Some(d))
}

/// The local time from the fields over `base`. With `add_subsecond` (truncation), given
/// sub-second fields add to the base's fraction instead of replacing it.
fn build_time(
    f: &Fields,
    base: Option<LocalTime>,
    add_subsecond: bool,
) -> Result<Option<LocalTime>> {
    if !f.has_time_fields() {
        return Ok(base);
    }
    if base.is_none() && f.hour.is_none() {
        return Err(invalid(
            "a time needs an `hour` when it gives minutes or smaller units (or a `time` to take it from)",
        ));
    }
    let h = f.hour.or(base.map(LocalTime::hour)).unwrap_or(0);
    let m = f.minute.or(base.map(LocalTime::minute)).unwrap_or(0);
    let s = f.second.or(base.map(LocalTime::second)).unwrap_or(0);
    let sub_given = f.millisecond.is_some() || f.microsecond.is_some() || f.nanosecond.is_some();
    let nanos = if sub_given {
        let limit = |name: &str, v: i64, max: i64| -> Result<i64> {
            if (0..=max).contains(&v) {
                Ok(v)
            } else {
                Err(invalid(format!(
                    "invalid {name} {v}: it must be between 0 and {max}"
                )))
            }
        };
        let ms = limit("millisecond", f.millisecond.unwrap_or(0), 999)?;
        let us_max = if f.millisecond.is_some() {
            999
        } else {
            999_999
        };
        let us = limit("microsecond", f.microsecond.unwrap_or(0), us_max)?;
        let ns_max = if f.microsecond.is_some() {
            999
        } else if f.millisecond.is_some() {
            999_999
        } else {
            NANOS_PER_SECOND - 1
        };
        let ns = limit("nanosecond", f.nanosecond.unwrap_or(0), ns_max)?;
        let v = ms * 1_000_000 + us * 1_000 + ns;
        if add_subsecond {
            base.map_or(0, LocalTime::nanosecond) + v
        } else {
            v
        }
    } else {
        base.map_or(0, LocalTime::nanosecond)
    };
    LocalTime::from_hms_nano(h, m, s, nanos).map(Some)
}

/// The current value of `target` in `zone` at instant `now` (nanoseconds since the epoch).
pub fn now_in(target: Target, zone: Zone, now: i128) -> Result<Value> {
    let dt = DateTime::from_instant(now, zone)?;
    Ok(match target {
        Target::Date => Value::Date(dt.local.date),
        Target::LocalTime => Value::LocalTime(dt.local.time),
        Target::Time => Value::Time(dt.time()),
        Target::LocalDateTime => Value::LocalDateTime(dt.local),
        Target::DateTime => Value::DateTime(dt),
    })
}

/// `target(otherTemporal)`: `None` when `v` cannot become a `target`.
pub fn convert(target: Target, v: &Value) -> Option<Value> {
    Some(match target {
        Target::Date => Value::Date(date_of(v)?),
        Target::LocalTime => Value::LocalTime(time_of(v)?),
        Target::Time => match v {
            Value::Time(t) => Value::Time(*t),
            Value::DateTime(dt) => Value::Time(dt.time()),
            other => Value::Time(Time {
                time: time_of(other)?,
                offset: 0,
            }),
        },
        Target::LocalDateTime => match v {
            Value::Date(d) => Value::LocalDateTime(LocalDateTime {
                date: *d,
                time: LocalTime::MIDNIGHT,
            }),
            Value::LocalDateTime(l) => Value::LocalDateTime(*l),
            Value::DateTime(dt) => Value::LocalDateTime(dt.local),
            _ => return None,
        },
        Target::DateTime => match v {
            Value::Date(d) => Value::DateTime(DateTime {
                local: LocalDateTime {
                    date: *d,
                    time: LocalTime::MIDNIGHT,
                },
                offset: 0,
                zone: None,
            }),
            Value::LocalDateTime(l) => Value::DateTime(DateTime {
                local: *l,
                offset: 0,
                zone: None,
            }),
            Value::DateTime(dt) => Value::DateTime(*dt),
            _ => return None,
        },
    })
}

/// `target({...})`.
pub fn from_map(target: Target, map: &BTreeMap<String, Value>, now: i128) -> Result<Value> {
    let f = Fields::parse(target.name(), map)?;
    if f.is_only_timezone() {
        return now_in(target, f.timezone.unwrap_or(Zone::UTC), now);
    }
    let date_base = match &f.date {
        Some(v) => selected(&f.date, "date", date_of(v).is_some())?,
        None => selected(
            &f.datetime,
            "date",
            f.datetime.as_ref().and_then(date_of).is_some(),
        )?,
    };
    let time_base = match &f.time {
        Some(v) => selected(&f.time, "time", time_of(v).is_some())?,
        None => selected(
            &f.datetime,
            "time",
            f.datetime.as_ref().and_then(time_of).is_some(),
        )?,
    };
    let base_date = date_base.and_then(date_of);
    let base_time = time_base.and_then(time_of);
    let base_zone = time_base.and_then(zone_of);
    let need_date = || invalid(format!("{}() needs a `year` or a `date`", target.name()));
    let need_time = || invalid(format!("{}() needs an `hour` or a `time`", target.name()));
    match target {
        Target::Date => Ok(Value::Date(
            build_date(&f, base_date)?.ok_or_else(need_date)?,
        )),
        Target::LocalTime => Ok(Value::LocalTime(
            build_time(&f, base_time, false)?.ok_or_else(need_time)?,
        )),
        Target::Time => {
            let local = build_time(&f, base_time, false)?.ok_or_else(need_time)?;
            let base_offset = match time_base {
                Some(Value::Time(t)) => Some(t.offset),
                Some(Value::DateTime(dt)) => Some(dt.offset),
                _ => None,
            };
            // A named zone's offset for a bare time: the one in force at the selected
            // date-time, else now.
            let at = match time_base {
                Some(Value::DateTime(dt)) => dt.epoch_nanos(),
                _ => now,
            };
            Ok(Value::Time(match (f.timezone, base_offset) {
                (Some(z), Some(bo)) => {
                    let offset = z.offset_at(at);
                    let shift = i64::from(offset - bo) * NANOS_PER_SECOND;
                    Time {
                        time: LocalTime::from_nanos_wrapping(
                            (local.nanos_of_day() + shift).rem_euclid(NANOS_PER_DAY),
                        ),
                        offset,
                    }
                }
                (Some(z), None) => Time {
                    time: local,
                    offset: z.offset_at(at),
                },
                (None, bo) => Time {
                    time: local,
                    offset: bo.unwrap_or(0),
                },
            }))
        }
        Target::LocalDateTime => {
            let date = build_date(&f, base_date)?.ok_or_else(need_date)?;
            let time = build_time(&f, base_time, false)?.unwrap_or(LocalTime::MIDNIGHT);
            Ok(Value::LocalDateTime(LocalDateTime { date, time }))
        }
        Target::DateTime => {
            if f.epoch_seconds.is_some() || f.epoch_millis.is_some() {
                return from_epoch_fields(&f);
            }
            let date = build_date(&f, base_date)?.ok_or_else(need_date)?;
            let time = build_time(&f, base_time, false)?.unwrap_or(LocalTime::MIDNIGHT);
            let local = LocalDateTime { date, time };
            let dt = match (f.timezone, base_zone) {
                (Some(z), Some(bz)) => {
                    DateTime::from_instant(DateTime::from_local(local, bz)?.epoch_nanos(), z)?
                }
                (Some(z), None) => DateTime::from_local(local, z)?,
                (None, Some(bz)) => DateTime::from_local(local, bz)?,
                (None, None) => DateTime::from_local(local, Zone::UTC)?,
            };
            Ok(Value::DateTime(dt))
        }
    }
}

fn from_epoch_fields(f: &Fields) -> Result<Value> {
    let sub = i128::from(f.millisecond.unwrap_or(0)) * 1_000_000
        + i128::from(f.microsecond.unwrap_or(0)) * 1_000
        + i128::from(f.nanosecond.unwrap_or(0));
    let instant = match (f.epoch_seconds, f.epoch_millis) {
        (Some(s), _) => i128::from(s) * i128::from(NANOS_PER_SECOND) + sub,
        (None, Some(ms)) => i128::from(ms) * 1_000_000 + sub,
        (None, None) => sub,
    };
    DateTime::from_instant(instant, f.timezone.unwrap_or(Zone::UTC)).map(Value::DateTime)
}

/// `datetime.fromepoch(seconds, nanoseconds)` / `datetime.fromepochmillis(ms)`.
pub fn from_epoch(nanos: i128) -> Result<Value> {
    DateTime::from_instant(nanos, Zone::UTC).map(Value::DateTime)
}

/// `target.truncate(unit, v, map)`.
pub fn truncate(
    target: Target,
    unit: Unit,
    v: &Value,
    map: Option<&BTreeMap<String, Value>>,
) -> Result<Value> {
    let empty = BTreeMap::new();
    let f = Fields::parse(target.name(), map.unwrap_or(&empty))?;
    let cannot = || {
        Error::type_error(format!(
            "{}.truncate() cannot truncate a {} to a {}",
            target.name(),
            v.type_name(),
            target.name()
        ))
    };
    let wrong_unit = || {
        invalid(format!(
            "{}.truncate() cannot truncate to {unit:?}: the unit is larger than the value's fields",
            target.name()
        ))
    };
    match target {
        Target::Date => {
            if !unit.is_date_unit() {
                return Err(wrong_unit());
            }
            let d = truncate::date(date_of(v).ok_or_else(cannot)?, unit)?;
            Ok(Value::Date(build_date(&f, Some(d))?.unwrap_or(d)))
        }
        Target::LocalTime | Target::Time => {
            if unit < Unit::Day {
                return Err(wrong_unit());
            }
            let t = truncate::time(time_of(v).ok_or_else(cannot)?, unit);
            let t = build_time(&f, Some(t), true)?.unwrap_or(t);
            if target == Target::LocalTime {
                return Ok(Value::LocalTime(t));
            }
            let offset = match (f.timezone, zone_of(v)) {
                (Some(z), _) => z.offset_at(super::clock::realtime()),
                (None, Some(Zone::Offset(o))) => o,
                (None, _) => match v {
                    Value::DateTime(dt) => dt.offset,
                    _ => 0,
                },
            };
            Ok(Value::Time(Time { time: t, offset }))
        }
        Target::LocalDateTime | Target::DateTime => {
            let local = match v {
                Value::Date(d) => LocalDateTime {
                    date: *d,
                    time: LocalTime::MIDNIGHT,
                },
                Value::LocalDateTime(l) => *l,
                Value::DateTime(dt) => dt.local,
                _ => return Err(cannot()),
            };
            let t = truncate::local_date_time(local, unit)?;
            let date = build_date(&f, Some(t.date))?.unwrap_or(t.date);
            let time = build_time(&f, Some(t.time), true)?.unwrap_or(t.time);
            let local = LocalDateTime { date, time };
            if target == Target::LocalDateTime {
                return Ok(Value::LocalDateTime(local));
            }
            let zone = f.timezone.or(zone_of(v)).unwrap_or(Zone::UTC);
            DateTime::from_local(local, zone).map(Value::DateTime)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn map(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
    fn i(x: i64) -> Value {
        Value::Int(x)
    }
    fn show(v: Value) -> String {
        match v {
            Value::Date(d) => d.to_string(),
            Value::LocalTime(t) => t.to_string(),
            Value::Time(t) => t.to_string(),
            Value::LocalDateTime(l) => l.to_string(),
            Value::DateTime(d) => d.to_string(),
            other => format!("{other:?}"),
        }
    }
    fn build(target: Target, pairs: &[(&str, Value)]) -> Result<String> {
        from_map(target, &map(pairs), 0).map(show)
    }

    #[test]
    fn week_dates_cross_year_boundaries() {
        let d = |y, w, dow| {
            build(
                Target::Date,
                &[("year", i(y)), ("week", i(w)), ("dayOfWeek", i(dow))],
            )
        };
        assert_eq!(d(1817, 1, 1).unwrap(), "1816-12-30");
        assert_eq!(d(2020, 53, 7).unwrap(), "2021-01-03");
        assert!(d(2021, 53, 1).is_err(), "2021 has 52 weeks");
        assert!(d(2021, 1, 8).is_err());
    }

    #[test]
    fn selected_dates_keep_unnamed_fields_and_clamp_days() {
        let leap = Value::Date(parse::date("2016-02-29").unwrap());
        let got = build(Target::Date, &[("date", leap.clone()), ("year", i(2017))]).unwrap();
        assert_eq!(got, "2017-02-28");
        let jan31 = Value::Date(parse::date("2015-01-31").unwrap());
        let got = build(Target::Date, &[("date", jan31), ("month", i(4))]).unwrap();
        assert_eq!(got, "2015-04-30");
        let nov11 = Value::Date(parse::date("1984-11-11").unwrap());
        let got = build(Target::Date, &[("date", nov11), ("quarter", i(3))]).unwrap();
        assert_eq!(got, "1984-08-11");
    }

    #[test]
    fn invalid_maps_are_errors() {
        let kind = |r: Result<String>| r.map_err(|e| e.kind());
        use crate::error::ErrorKind;
        let mixed = build(
            Target::Date,
            &[("year", i(2015)), ("month", i(2)), ("week", i(3))],
        );
        assert_eq!(kind(mixed), Err(ErrorKind::Error));
        assert_eq!(
            kind(build(Target::Date, &[("month", i(2))])),
            Err(ErrorKind::Error)
        );
        assert_eq!(
            kind(build(Target::Date, &[("year", i(2015)), ("month", i(0))])),
            Err(ErrorKind::Error)
        );
        assert_eq!(
            kind(build(Target::Date, &[("year", i(1_000_000_000))])),
            Err(ErrorKind::Error)
        );
        assert_eq!(
            kind(build(Target::Date, &[("yaer", i(2015))])),
            Err(ErrorKind::Error)
        );
        assert_eq!(
            kind(build(Target::Date, &[("year", Value::from("2015"))])),
            Err(ErrorKind::Type)
        );
        assert_eq!(
            kind(build(Target::LocalTime, &[("hour", i(24))])),
            Err(ErrorKind::Error)
        );
        assert_eq!(
            kind(build(Target::LocalTime, &[("minute", i(3))])),
            Err(ErrorKind::Error)
        );
        let too_fine = build(
            Target::LocalTime,
            &[
                ("hour", i(1)),
                ("millisecond", i(1)),
                ("microsecond", i(1000)),
            ],
        );
        assert_eq!(kind(too_fine), Err(ErrorKind::Error));
        let date_as_time = Value::Date(parse::date("2015-01-01").unwrap());
        assert_eq!(
            kind(build(Target::LocalTime, &[("time", date_as_time)])),
            Err(ErrorKind::Type)
        );
    }

    #[test]
    fn a_new_zone_keeps_the_instant_of_a_zoned_selection() {
        let t = Value::Time(parse::time("12:31+01:00").unwrap());
        let got = build(
            Target::Time,
            &[("time", t.clone()), ("timezone", Value::from("-02:00"))],
        )
        .unwrap();
        assert_eq!(got, "09:31-02:00");
        let lt = Value::LocalTime(parse::local_time("12:31").unwrap());
        let got = build(
            Target::Time,
            &[("time", lt), ("timezone", Value::from("-02:00"))],
        )
        .unwrap();
        assert_eq!(got, "12:31-02:00");
        let got = build(
            Target::DateTime,
            &[
                ("year", i(2015)),
                ("month", i(7)),
                ("day", i(21)),
                ("time", t),
                ("timezone", Value::from("Asia/Tokyo")),
            ],
        )
        .unwrap();
        assert_eq!(got, "2015-07-21T20:31+09:00[Asia/Tokyo]");
    }

    #[test]
    fn epoch_fields_and_clock() {
        let got = build(Target::DateTime, &[("epochMillis", i(237_821_673_987))]).unwrap();
        assert_eq!(got, "1977-07-15T13:34:33.987Z");
        let now = from_map(
            Target::Date,
            &map(&[("timezone", Value::from("+14:00"))]),
            0,
        )
        .unwrap();
        assert_eq!(show(now), "1970-01-01");
        let now = now_in(Target::Date, Zone::parse("-12:00").unwrap(), 0).unwrap();
        assert_eq!(show(now), "1969-12-31");
    }

    #[test]
    fn truncation_applies_fields_after_truncating() {
        let dt = Value::DateTime(parse::date_time("2017-10-11T12:31:14.645876123+01:00").unwrap());
        let ns = map(&[("nanosecond", i(2))]);
        let t = |target, unit, m: Option<&BTreeMap<String, Value>>| {
            truncate(target, unit, &dt, m).map(show).unwrap()
        };
        assert_eq!(
            t(Target::DateTime, Unit::Millisecond, Some(&ns)),
            "2017-10-11T12:31:14.645000002+01:00"
        );
        assert_eq!(t(Target::Date, Unit::Quarter, None), "2017-10-01");
        assert_eq!(t(Target::LocalTime, Unit::Minute, None), "12:31");
        let zone = map(&[("timezone", Value::from("Europe/Stockholm"))]);
        assert_eq!(
            t(Target::DateTime, Unit::Year, Some(&zone)),
            "2017-01-01T00:00+01:00[Europe/Stockholm]"
        );
        assert!(truncate(Target::Date, Unit::Hour, &dt, None).is_err());
        assert!(truncate(Target::LocalTime, Unit::Year, &dt, None).is_err());
        let lt = Value::LocalTime(parse::local_time("12:00").unwrap());
        assert_eq!(
            truncate(Target::Date, Unit::Day, &lt, None).map_err(|e| e.kind()),
            Err(crate::error::ErrorKind::Type)
        );
    }
}
