//! The temporal functions: `date()`, `localtime()`, `time()`, `localdatetime()`,
//! `datetime()` with their `.transaction` / `.statement` / `.realtime` clock forms and
//! `.truncate`, `datetime.fromepoch[millis]`, `duration()` and `duration.between` /
//! `inMonths` / `inDays` / `inSeconds`. The work is done in [`crate::temporal`]; this is
//! argument handling. A null argument gives null.

use super::{bad_type, one, two};
use crate::cypher::eval::EvalContext;
use crate::error::{Error, Result};
use crate::temporal::between::{self, Unit as Between};
use crate::temporal::build::{self, Target};
use crate::temporal::duration::{Components, Num};
use crate::temporal::truncate::Unit;
use crate::temporal::{clock, compare, parse, Duration, Zone};
use crate::value::Value;

fn parse_as(target: Target, s: &str) -> Result<Value> {
    Ok(match target {
        Target::Date => Value::Date(parse::date(s)?),
        Target::LocalTime => Value::LocalTime(parse::local_time(s)?),
        Target::Time => Value::Time(parse::time(s)?),
        Target::LocalDateTime => Value::LocalDateTime(parse::local_date_time(s)?),
        Target::DateTime => Value::DateTime(parse::date_time(s)?),
    })
}

/// `date(x)` and its siblings: no argument reads the clock `now`.
fn construct(target: Target, args: Vec<Value>, now: i128) -> Result<Value> {
    let Some(arg) = args.into_iter().next() else {
        return build::now_in(target, Zone::UTC, now);
    };
    match arg {
        Value::Null => Ok(Value::Null),
        Value::String(s) => parse_as(target, &s),
        Value::Map(m) => build::from_map(target, &m, now),
        v if compare::is_temporal(&v) => build::convert(target, &v).ok_or_else(|| {
            Error::type_error(format!(
                "{}() cannot be built from a {}",
                target.name(),
                v.type_name()
            ))
        }),
        other => Err(bad_type(
            target.name(),
            "a String, a Map or a temporal value",
            &other,
        )),
    }
}

/// `date.statement(tz)` and the other clock forms: the optional argument is a time zone.
fn clock_form(target: Target, args: Vec<Value>, now: i128) -> Result<Value> {
    match args.into_iter().next() {
        None => build::now_in(target, Zone::UTC, now),
        Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(tz)) => build::now_in(target, Zone::parse(&tz)?, now),
        Some(Value::Map(m)) => build::from_map(target, &m, now),
        Some(other) => Err(bad_type(target.name(), "a time zone String", &other)),
    }
}

fn truncate_form(target: Target, args: Vec<Value>) -> Result<Value> {
    let mut it = args.into_iter();
    let (unit, value, map) = (it.next(), it.next(), it.next());
    let (Some(unit), Some(value)) = (unit, value) else {
        return Ok(Value::Null);
    };
    if unit.is_null() || value.is_null() {
        return Ok(Value::Null);
    }
    let Value::String(unit) = unit else {
        return Err(bad_type("truncate", "a unit String", &unit));
    };
    let unit = Unit::parse(&unit)?;
    match map {
        None | Some(Value::Null) => build::truncate(target, unit, &value, None),
        Some(Value::Map(m)) => build::truncate(target, unit, &value, Some(&m)),
        Some(other) => Err(bad_type("truncate", "a Map of fields", &other)),
    }
}

macro_rules! temporal_fns {
    ($target:expr, $make:ident, $tx:ident, $stmt:ident, $real:ident, $trunc:ident) => {
        pub(super) fn $make(args: Vec<Value>, ctx: &EvalContext) -> Result<Value> {
            construct($target, args, ctx.control.clock.now())
        }
        pub(super) fn $tx(args: Vec<Value>, ctx: &EvalContext) -> Result<Value> {
            clock_form($target, args, ctx.control.transaction_now())
        }
        pub(super) fn $stmt(args: Vec<Value>, ctx: &EvalContext) -> Result<Value> {
            clock_form($target, args, ctx.control.clock.now())
        }
        pub(super) fn $real(args: Vec<Value>) -> Result<Value> {
            clock_form($target, args, clock::realtime())
        }
        pub(super) fn $trunc(args: Vec<Value>) -> Result<Value> {
            truncate_form($target, args)
        }
    };
}

temporal_fns!(
    Target::Date,
    date,
    date_tx,
    date_stmt,
    date_real,
    date_trunc
);
temporal_fns!(
    Target::LocalTime,
    localtime,
    localtime_tx,
    localtime_stmt,
    localtime_real,
    localtime_trunc
);
temporal_fns!(
    Target::Time,
    time,
    time_tx,
    time_stmt,
    time_real,
    time_trunc
);
temporal_fns!(
    Target::LocalDateTime,
    localdatetime,
    localdatetime_tx,
    localdatetime_stmt,
    localdatetime_real,
    localdatetime_trunc
);
temporal_fns!(
    Target::DateTime,
    datetime,
    datetime_tx,
    datetime_stmt,
    datetime_real,
    datetime_trunc
);

fn int_arg(func: &str, v: &Value) -> Result<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(bad_type(func, "an Integer", other)),
    }
}

/// `datetime.fromepoch(seconds, nanoseconds)`.
pub(super) fn from_epoch(args: Vec<Value>) -> Result<Value> {
    let (s, n) = two(args);
    if s.is_null() || n.is_null() {
        return Ok(Value::Null);
    }
    let nanos = i128::from(int_arg("datetime.fromepoch", &s)?) * 1_000_000_000
        + i128::from(int_arg("datetime.fromepoch", &n)?);
    build::from_epoch(nanos)
}

/// `datetime.fromepochmillis(milliseconds)`.
pub(super) fn from_epoch_millis(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        v => build::from_epoch(i128::from(int_arg("datetime.fromepochmillis", &v)?) * 1_000_000),
    }
}

fn component(key: &str, v: &Value) -> Result<Num> {
    match v {
        Value::Int(i) => Ok(Num::Int(*i)),
        Value::Float(f) => Ok(Num::Float(*f)),
        other => Err(Error::type_error(format!(
            "duration() field `{key}` must be a number, got {}",
            other.type_name()
        ))),
    }
}

/// `duration(x)`: from an ISO 8601 string or a map of components.
pub(super) fn duration(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::String(s) => parse::duration(&s).map(Value::Duration),
        Value::Duration(d) => Ok(Value::Duration(d)),
        Value::Map(m) => {
            let mut c = Components::default();
            for (k, v) in &m {
                if v.is_null() {
                    continue;
                }
                let n = component(k, v)?;
                let slot = match k.to_ascii_lowercase().as_str() {
                    "years" => &mut c.years,
                    "quarters" => &mut c.quarters,
                    "months" => &mut c.months,
                    "weeks" => &mut c.weeks,
                    "days" => &mut c.days,
                    "hours" => &mut c.hours,
                    "minutes" => &mut c.minutes,
                    "seconds" => &mut c.seconds,
                    "milliseconds" => &mut c.milliseconds,
                    "microseconds" => &mut c.microseconds,
                    "nanoseconds" => &mut c.nanoseconds,
                    _ => {
                        return Err(crate::temporal::invalid(format!(
                            "duration() does not know the component `{k}`; use years, quarters, months, weeks, days, hours, minutes, seconds, milliseconds, microseconds or nanoseconds"
                        )))
                    }
                };
                *slot = Some(n);
            }
            Duration::from_components(&c).map(Value::Duration)
        }
        other => Err(bad_type("duration", "a String or a Map", &other)),
    }
}

fn between_form(func: &str, unit: Between, args: Vec<Value>) -> Result<Value> {
    let (a, b) = two(args);
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    match between::between(&a, &b, unit) {
        Some(d) => d.map(Value::Duration),
        None => Err(Error::type_error(format!(
            "{func}() expects two temporal instants (dates, times or date-times), got {} and {}",
            a.type_name(),
            b.type_name()
        ))),
    }
}

pub(super) fn duration_between(args: Vec<Value>) -> Result<Value> {
    between_form("duration.between", Between::All, args)
}
pub(super) fn duration_in_months(args: Vec<Value>) -> Result<Value> {
    between_form("duration.inMonths", Between::Months, args)
}
pub(super) fn duration_in_days(args: Vec<Value>) -> Result<Value> {
    between_form("duration.inDays", Between::Days, args)
}
pub(super) fn duration_in_seconds(args: Vec<Value>) -> Result<Value> {
    between_form("duration.inSeconds", Between::Seconds, args)
}
