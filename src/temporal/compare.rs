//! Equality and ordering of temporal values.
//!
//! Values of the same type compare by their position on the time line: dates by day, local
//! times and local date-times by their reading, times and date-times by instant (so
//! `12:00+01:00 = 11:00Z`). Durations are equal when months, days and the seconds part are
//! all equal, and have no `<` order (the result is null); ORDER BY still needs a total order,
//! so it sorts them by months, then days, then seconds. Different temporal types are unequal
//! and incomparable.

use std::cmp::Ordering;

use crate::value::Value;

/// Whether `v` is one of the six temporal types.
pub fn is_temporal(v: &Value) -> bool {
    matches!(
        v,
        Value::Date(_)
            | Value::LocalTime(_)
            | Value::Time(_)
            | Value::LocalDateTime(_)
            | Value::DateTime(_)
            | Value::Duration(_)
    )
}

/// The normalized key: `(type tag, major, minor)`; equal keys mean equal values.
pub fn key(v: &Value) -> Option<(u8, i128, i128, i128)> {
    Some(match v {
        Value::DateTime(d) => (0, d.epoch_nanos(), 0, 0),
        Value::LocalDateTime(l) => (1, l.epoch_nanos(), 0, 0),
        Value::Date(d) => (2, i128::from(d.epoch_day()), 0, 0),
        Value::Time(t) => (3, i128::from(t.utc_nanos()), 0, 0),
        Value::LocalTime(t) => (4, i128::from(t.nanos_of_day()), 0, 0),
        Value::Duration(d) => (
            5,
            i128::from(d.months()),
            i128::from(d.days()),
            d.total_nanos(),
        ),
        _ => return None,
    })
}

/// `a < b` family for two values of which at least one is temporal: `None` when they are
/// of different types or durations.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let (ka, kb) = (key(a)?, key(b)?);
    if ka.0 != kb.0 || ka.0 == 5 {
        return None;
    }
    Some(ka.cmp(&kb))
}

/// `a = b` for two values of which at least one is temporal.
pub fn equals(a: &Value, b: &Value) -> bool {
    match (key(a), key(b)) {
        (Some(ka), Some(kb)) => ka == kb,
        _ => false,
    }
}

/// Total order within one temporal type (ORDER BY); callers rank types first.
pub fn order(a: &Value, b: &Value) -> Ordering {
    key(a).cmp(&key(b))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn instants_compare_across_offsets() {
        let a = Value::Time(parse::time("12:00+01:00").unwrap());
        let b = Value::Time(parse::time("11:00Z").unwrap());
        assert!(equals(&a, &b));
        let c = Value::DateTime(parse::date_time("2015-01-01T00:00+05:00").unwrap());
        let d = Value::DateTime(parse::date_time("2014-12-31T20:00Z").unwrap());
        assert_eq!(compare(&c, &d), Some(Ordering::Less));
    }

    #[test]
    fn durations_are_equal_or_not_but_never_ordered() {
        let a = Value::Duration(parse::duration("PT70S").unwrap());
        let b = Value::Duration(parse::duration("PT1M10S").unwrap());
        let c = Value::Duration(parse::duration("P1D").unwrap());
        let d = Value::Duration(parse::duration("PT24H").unwrap());
        assert!(equals(&a, &b));
        assert!(!equals(&c, &d));
        assert_eq!(compare(&a, &b), None);
        let date = Value::Date(parse::date("2015-01-01").unwrap());
        assert!(!equals(&a, &date));
        assert_eq!(compare(&date, &a), None);
    }
}
