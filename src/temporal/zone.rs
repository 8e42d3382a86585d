//! Time zones: fixed UTC offsets and named zones of the tz database (chrono-tz).
//!
//! chrono's calendar covers years ±262,143 only; offsets of named zones for instants beyond
//! that are taken at the nearest instant chrono represents (rules that far out are the
//! zone's first or last rule anyway).

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;

use super::{invalid, LocalDateTime, NANOS_PER_SECOND};
use crate::error::Result;

/// The largest offset openCypher (like java.time) accepts: ±18:00.
const MAX_OFFSET: i32 = 18 * 3600;

/// A zone a date-time or time can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Zone {
    /// Seconds east of UTC.
    Offset(i32),
    Named(Tz),
}

impl Zone {
    pub const UTC: Zone = Zone::Offset(0);

    /// Parses `Z`, `+01:00`, `+0100`, `+01`, `-02:05:07`, or a tz database name.
    pub fn parse(s: &str) -> Result<Zone> {
        if let Some(o) = parse_offset(s) {
            return Ok(Zone::Offset(o));
        }
        s.parse::<Tz>().map(Zone::Named).map_err(|_| {
            invalid(format!(
                "invalid time zone '{s}': use an offset such as '+01:00' or 'Z', or a tz database name such as 'Europe/Stockholm'"
            ))
        })
    }

    /// The zone's offset at the instant `epoch_nanos`.
    pub fn offset_at(self, epoch_nanos: i128) -> i32 {
        match self {
            Zone::Offset(o) => o,
            Zone::Named(tz) => offset_at_instant(tz, epoch_nanos),
        }
    }
}

/// Parses an offset (`Z`, `±HH`, `±HHMM`, `±HH:MM`, `±HHMMSS`, `±HH:MM:SS`); `None` if `s`
/// is not one or is beyond ±18:00.
pub fn parse_offset(s: &str) -> Option<i32> {
    if s == "Z" || s == "z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Colons, when used, must separate two-digit groups.
    if rest.contains(':') && rest.split(':').any(|g| g.len() != 2) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|d| d.parse::<i32>().ok());
    let (h, m, sec) = match digits.len() {
        2 => (num(0..2)?, 0, 0),
        4 => (num(0..2)?, num(2..4)?, 0),
        6 => (num(0..2)?, num(2..4)?, num(4..6)?),
        _ => return None,
    };
    if m > 59 || sec > 59 {
        return None;
    }
    let total = h * 3600 + m * 60 + sec;
    (total <= MAX_OFFSET).then_some(sign * total)
}

/// Formats an offset as Cypher prints it: `Z`, `+01:00`, `+00:53:28`.
pub fn format_offset(offset: i32) -> String {
    if offset == 0 {
        return "Z".into();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    }
}

/// chrono's representable range, in epoch seconds (a margin inside ±262,143 years).
const CHRONO_MIN_SECS: i64 = -8_000_000_000_000;
const CHRONO_MAX_SECS: i64 = 8_000_000_000_000;

fn naive_utc(epoch_secs: i64) -> Option<chrono::NaiveDateTime> {
    let secs = epoch_secs.clamp(CHRONO_MIN_SECS, CHRONO_MAX_SECS);
    chrono::DateTime::from_timestamp(secs, 0).map(|d| d.naive_utc())
}

/// The offset of `tz` at the instant `epoch_nanos`.
pub fn offset_at_instant(tz: Tz, epoch_nanos: i128) -> i32 {
    let secs = epoch_nanos.div_euclid(i128::from(NANOS_PER_SECOND));
    let secs = i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX });
    naive_utc(secs).map_or(0, |n| {
        tz.offset_from_utc_datetime(&n).fix().local_minus_utc()
    })
}

/// Resolves local date-time `local` in `tz`: the (possibly moved) local date-time and its
/// offset. In a gap (spring forward) the time moves forward by the gap's length; in an
/// overlap (fall back) the earlier offset wins.
pub fn resolve_local(tz: Tz, local: LocalDateTime) -> Result<(LocalDateTime, i32)> {
    let (secs, _) = local.epoch_parts();
    let Some(naive) = naive_utc(secs) else {
        return Ok((local, 0));
    };
    let offset = match tz.offset_from_local_datetime(&naive) {
        chrono::LocalResult::Single(o) => o.fix().local_minus_utc(),
        chrono::LocalResult::Ambiguous(earlier, _) => earlier.fix().local_minus_utc(),
        chrono::LocalResult::None => {
            // In a gap: read the local time with the offset in force before it, and show
            // that instant with the offset after it.
            let before = naive_utc(secs - 86_400).map_or(0, |n| {
                tz.offset_from_utc_datetime(&n).fix().local_minus_utc()
            });
            let instant = local.epoch_nanos() - i128::from(before) * i128::from(NANOS_PER_SECOND);
            let after = offset_at_instant(tz, instant);
            let moved = LocalDateTime::from_epoch_nanos(
                instant + i128::from(after) * i128::from(NANOS_PER_SECOND),
            )?;
            return Ok((moved, after));
        }
    };
    Ok((local, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_in_every_iso_form() {
        assert_eq!(parse_offset("Z"), Some(0));
        assert_eq!(parse_offset("+01:00"), Some(3600));
        assert_eq!(parse_offset("+0100"), Some(3600));
        assert_eq!(parse_offset("-02"), Some(-7200));
        assert_eq!(parse_offset("-02:05:07"), Some(-(2 * 3600 + 5 * 60 + 7)));
        assert_eq!(parse_offset("+18:00"), Some(18 * 3600));
        assert_eq!(parse_offset("+18:01"), None);
        assert_eq!(parse_offset("+1:00"), None);
        assert_eq!(parse_offset("+01:60"), None);
        assert_eq!(parse_offset("Europe/Stockholm"), None);
    }

    #[test]
    fn offsets_format_with_seconds_only_when_needed() {
        assert_eq!(format_offset(0), "Z");
        assert_eq!(format_offset(3600), "+01:00");
        assert_eq!(format_offset(-(3600 + 30 * 60)), "-01:30");
        assert_eq!(format_offset(53 * 60 + 28), "+00:53:28");
    }

    #[test]
    fn named_zones_and_errors() {
        assert!(matches!(
            Zone::parse("Europe/Stockholm"),
            Ok(Zone::Named(_))
        ));
        assert_eq!(
            Zone::parse("Mars/Olympus").map_err(|e| e.kind()),
            Err(crate::error::ErrorKind::Error)
        );
    }
}
