//! Component access on temporal values: `d.year`, `t.timezone`, `dur.minutesOfHour`, ...
//! Names are case-insensitive; an unknown component is an error.

use super::zone::format_offset;
use super::{invalid, Date, LocalTime, Zone, NANOS_PER_SECOND};
use crate::error::Result;
use crate::value::Value;

fn date_field(d: Date, key: &str) -> Option<i64> {
    Some(match key {
        "year" => d.year(),
        "quarter" => i64::from(d.quarter()),
        "month" => i64::from(d.month()),
        "week" => i64::from(d.iso_week().1),
        "weekyear" => d.iso_week().0,
        "day" => i64::from(d.day()),
        "ordinalday" => i64::from(d.ordinal_day()),
        "weekday" | "dayofweek" => i64::from(d.day_of_week()),
        "dayofquarter" => i64::from(d.day_of_quarter()),
        _ => return None,
    })
}

fn time_field(t: LocalTime, key: &str) -> Option<i64> {
    Some(match key {
        "hour" => t.hour(),
        "minute" => t.minute(),
        "second" => t.second(),
        "millisecond" => t.nanosecond() / 1_000_000,
        "microsecond" => t.nanosecond() / 1_000,
        "nanosecond" => t.nanosecond(),
        _ => return None,
    })
}

fn zone_field(offset: i32, zone: Option<Zone>, key: &str) -> Option<Value> {
    Some(match key {
        "timezone" => Value::String(match zone {
            Some(Zone::Named(tz)) => tz.name().to_string(),
            _ => format_offset(offset),
        }),
        "offset" => Value::String(format_offset(offset)),
        "offsetminutes" => Value::Int(i64::from(offset / 60)),
        "offsetseconds" => Value::Int(i64::from(offset)),
        _ => return None,
    })
}

/// `v.key` for a temporal value `v`; `None` when `v` is not temporal.
pub fn component(v: &Value, key: &str) -> Option<Result<Value>> {
    let k = key.to_ascii_lowercase();
    let k = k.as_str();
    let int = |x: Option<i64>| x.map(Value::Int);
    let found = match v {
        Value::Date(d) => int(date_field(*d, k)),
        Value::LocalTime(t) => int(time_field(*t, k)),
        Value::Time(t) => int(time_field(t.time, k)).or_else(|| zone_field(t.offset, None, k)),
        Value::LocalDateTime(l) => {
            int(date_field(l.date, k)).or_else(|| int(time_field(l.time, k)))
        }
        Value::DateTime(dt) => int(date_field(dt.local.date, k))
            .or_else(|| int(time_field(dt.local.time, k)))
            .or_else(|| zone_field(dt.offset, dt.zone, k))
            .or_else(|| {
                let n = dt.epoch_nanos();
                let per = |unit: i128| i64::try_from(n.div_euclid(unit)).ok().map(Value::Int);
                match k {
                    "epochseconds" => per(i128::from(NANOS_PER_SECOND)),
                    "epochmillis" => per(1_000_000),
                    _ => None,
                }
            }),
        Value::Duration(d) => int(d.component(k)),
        _ => return None,
    };
    Some(found.ok_or_else(|| invalid(format!("a {} has no component `{key}`", v.type_name()))))
}
