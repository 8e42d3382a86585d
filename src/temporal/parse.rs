//! ISO 8601 strings as Cypher's temporal functions accept them: basic (`20150721`,
//! `214032.142`) and extended (`2015-07-21`, `21:40:32.142`) formats, week dates
//! (`2015-W30-2`), ordinal dates (`2015-202`), reduced precision (`2015-07`, `21:40`),
//! offsets (`Z`, `+01:00`, `+0100`, `-02`), named zones (`[Europe/Stockholm]`), and
//! durations (`P14DT16H12M`, `P5M1.5D`, `PT-1.999S`, `P2012-02-02T14:37:21.545`).

use super::duration::{Components, Num};
use super::zone::{parse_offset, Zone};
use super::{invalid, Date, DateTime, Duration, LocalDateTime, LocalTime, Time};
use crate::error::Result;

fn bad(kind: &str, s: &str) -> crate::error::Error {
    invalid(format!(
        "cannot parse '{s}' as a {kind}: use ISO 8601, for example {}",
        match kind {
            "date" => "'2015-07-21', '2015-W30-2' or '2015-202'",
            "time" => "'21:40:32.142' or '21:40:32+01:00'",
            "date-time" => "'2015-07-21T21:40:32.142+01:00[Europe/Stockholm]'",
            _ => "'P14DT16H12M' or 'PT1.5S'",
        }
    ))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn num(s: &str) -> Option<i64> {
    if all_digits(s) && s.len() <= 18 {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses a date.
pub fn date(s: &str) -> Result<Date> {
    parse_date(s).ok_or_else(|| bad("date", s))?
}

fn parse_date(s: &str) -> Option<Result<Date>> {
    // Year: four digits, or a sign and any number of digits.
    let (year, rest) = match s.as_bytes().first()? {
        b'+' | b'-' => {
            let end = s[1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(s.len(), |i| i + 1);
            let y = num(&s[1..end])?;
            (if s.starts_with('-') { -y } else { y }, &s[end..])
        }
        _ => (num(s.get(0..4)?)?, &s[4..]),
    };
    if rest.is_empty() {
        return Some(Date::from_ymd(year, 1, 1));
    }
    let extended = rest.starts_with('-');
    let rest = if extended { &rest[1..] } else { rest };
    if let Some(w) = rest.strip_prefix('W') {
        let week = num(w.get(0..2)?)?;
        let tail = &w[2..];
        let dow = match (tail, extended) {
            ("", _) => 1,
            (t, true) => num(t.strip_prefix('-')?).filter(|_| t.len() == 2)?,
            (t, false) => num(t).filter(|_| t.len() == 1)?,
        };
        return Some(Date::from_week(year, week, dow));
    }
    if extended {
        return match rest.len() {
            2 => Some(Date::from_ymd(year, num(rest)?, 1)),
            3 => Some(Date::from_ordinal(year, num(rest)?)),
            5 if rest.as_bytes()[2] == b'-' => Some(Date::from_ymd(
                year,
                num(rest.get(0..2)?)?,
                num(rest.get(3..5)?)?,
            )),
            _ => None,
        };
    }
    match rest.len() {
        2 => Some(Date::from_ymd(year, num(rest)?, 1)),
        3 => Some(Date::from_ordinal(year, num(rest)?)),
        4 => Some(Date::from_ymd(
            year,
            num(rest.get(0..2)?)?,
            num(rest.get(2..4)?)?,
        )),
        _ => None,
    }
}

/// Parses a local time (no offset allowed).
pub fn local_time(s: &str) -> Result<LocalTime> {
    parse_local_time(s).ok_or_else(|| bad("time", s))?
}

fn parse_local_time(s: &str) -> Option<Result<LocalTime>> {
    let (main, frac) = match s.find(['.', ',']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits: String;
    let main = if main.contains(':') {
        let groups: Vec<&str> = main.split(':').collect();
        if groups.iter().any(|g| g.len() != 2) {
            return None;
        }
        digits = groups.concat();
        digits.as_str()
    } else {
        main
    };
    if !all_digits(main) {
        return None;
    }
    let (h, m, sec) = match main.len() {
        2 => (num(main)?, 0, 0),
        4 => (num(&main[0..2])?, num(&main[2..4])?, 0),
        6 => (num(&main[0..2])?, num(&main[2..4])?, num(&main[4..6])?),
        _ => return None,
    };
    let nanos = match frac {
        None => 0,
        // A fraction is only allowed after the seconds.
        Some(f) if main.len() == 6 && all_digits(f) && f.len() <= 9 => {
            num(f)? * 10i64.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
    };
    Some(LocalTime::from_hms_nano(h, m, sec, nanos))
}

/// Splits `21:40:32.142+01:00[Europe/Stockholm]` into the local time text, the offset text
/// and the zone name.
fn split_zone(s: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let (s, name) = match s.find('[') {
        Some(i) => {
            let name = s[i + 1..].strip_suffix(']')?;
            (&s[..i], Some(name))
        }
        None => (s, None),
    };
    match s.find(['Z', 'z', '+', '-']) {
        Some(i) => Some((&s[..i], Some(&s[i..]), name)),
        None => Some((s, None, name)),
    }
}

/// Parses a time with an optional offset (`Z` when none is given).
pub fn time(s: &str) -> Result<Time> {
    let (t, off, name) = split_zone(s).ok_or_else(|| bad("time", s))?;
    if name.is_some() {
        return Err(bad("time", s));
    }
    let time = local_time(t).map_err(|_| bad("time", s))?;
    let offset = match off {
        None => 0,
        Some(o) => parse_offset(o).ok_or_else(|| bad("time", s))?,
    };
    Ok(Time { time, offset })
}

fn split_t(s: &str) -> (&str, Option<&str>) {
    match s.find(['T', 't']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

pub fn local_date_time(s: &str) -> Result<LocalDateTime> {
    let (d, t) = split_t(s);
    let date = date(d).map_err(|_| bad("date-time", s))?;
    let time = match t {
        Some(t) => local_time(t).map_err(|_| bad("date-time", s))?,
        None => LocalTime::MIDNIGHT,
    };
    Ok(LocalDateTime { date, time })
}

/// Parses a date-time; with a `[Zone]` the zone's offset at that local time is used, else
/// the given offset, else UTC.
pub fn date_time(s: &str) -> Result<DateTime> {
    let (d, t) = split_t(s);
    let date = date(d).map_err(|_| bad("date-time", s))?;
    let (t, off, name) = match t {
        Some(t) => split_zone(t).ok_or_else(|| bad("date-time", s))?,
        None => ("00", None, None),
    };
    let time = local_time(t).map_err(|_| bad("date-time", s))?;
    let local = LocalDateTime { date, time };
    let offset = match off {
        Some(o) => Some(parse_offset(o).ok_or_else(|| bad("date-time", s))?),
        None => None,
    };
    match (name, offset) {
        (Some(n), _) => DateTime::from_local(local, Zone::parse(n)?),
        (None, Some(o)) => DateTime::from_local(local, Zone::Offset(o)),
        (None, None) => DateTime::from_local(local, Zone::UTC),
    }
}

/// Parses a duration.
pub fn duration(s: &str) -> Result<Duration> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let body = body
        .strip_prefix(['P', 'p'])
        .ok_or_else(|| bad("duration", s))?;
    let c = if body.len() >= 4
        && body.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && body.get(4..5) == Some("-")
    {
        alternative_duration(body).ok_or_else(|| bad("duration", s))?
    } else {
        designator_duration(body).ok_or_else(|| bad("duration", s))?
    };
    let d = Duration::from_components(&c)?;
    if neg {
        d.checked_neg()
    } else {
        Ok(d)
    }
}

fn number(s: &str) -> Option<Num> {
    let s = s.replace(',', ".");
    let body = s.strip_prefix(['-', '+']).unwrap_or(&s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(Num::Int(i));
    }
    s.parse::<f64>().ok().map(Num::Float)
}

/// Seconds with a fraction, exactly: `59.999` is 59 s and 999,000,000 ns.
fn seconds_exact(s: &str, c: &mut Components) -> Option<()> {
    let s = s.replace(',', ".");
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    if !all_digits(whole) || (!frac.is_empty() && !all_digits(frac)) || frac.len() > 9 {
        return None;
    }
    let secs = num(whole)?;
    let nanos = if frac.is_empty() {
        0
    } else {
        num(frac)? * 10i64.pow(9 - frac.len() as u32)
    };
    let sign = if neg { -1 } else { 1 };
    c.seconds = Some(Num::Int(sign * secs));
    c.nanoseconds = Some(Num::Int(sign * nanos));
    Some(())
}

fn designator_duration(body: &str) -> Option<Components> {
    let mut c = Components::default();
    let (date_part, time_part) = match body.find(['T', 't']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if date_part.is_empty() && time_part.map_or(true, str::is_empty) {
        return None;
    }
    let mut rest = date_part;
    while !rest.is_empty() {
        let i = rest.find(|ch: char| ch.is_ascii_alphabetic())?;
        let v = number(&rest[..i])?;
        let slot = match rest.as_bytes()[i].to_ascii_uppercase() {
            b'Y' => &mut c.years,
            b'M' => &mut c.months,
            b'W' => &mut c.weeks,
            b'D' => &mut c.days,
            _ => return None,
        };
        if slot.replace(v).is_some() {
            return None;
        }
        rest = &rest[i + 1..];
    }
    if let Some(t) = time_part {
        if t.is_empty() {
            return None;
        }
        let mut rest = t;
        while !rest.is_empty() {
            let i = rest.find(|ch: char| ch.is_ascii_alphabetic())?;
            let text = &rest[..i];
            match rest.as_bytes()[i].to_ascii_uppercase() {
                b'H' if c.hours.is_none() => c.hours = Some(number(text)?),
                b'M' if c.minutes.is_none() => c.minutes = Some(number(text)?),
                b'S' if c.seconds.is_none() => seconds_exact(text, &mut c)?,
                _ => return None,
            }
            rest = &rest[i + 1..];
        }
    }
    Some(c)
}

/// `YYYY-MM-DDThh:mm:ss.f`: a duration written like a date-time.
fn alternative_duration(body: &str) -> Option<Components> {
    let (d, t) = split_t(body);
    let parts: Vec<&str> = d.split('-').collect();
    let [y, m, dd] = parts.as_slice() else {
        return None;
    };
    let mut c = Components {
        years: Some(Num::Int(num(y)?)),
        months: Some(Num::Int(num(m)?)),
        days: Some(Num::Int(num(dd)?)),
        ..Components::default()
    };
    if let Some(t) = t {
        let (hms, frac) = t.split_once('.').unwrap_or((t, ""));
        let g: Vec<&str> = hms.split(':').collect();
        let [h, mi, s] = g.as_slice() else {
            return None;
        };
        c.hours = Some(Num::Int(num(h)?));
        c.minutes = Some(Num::Int(num(mi)?));
        let secs = if frac.is_empty() {
            s.to_string()
        } else {
            format!("{s}.{frac}")
        };
        seconds_exact(&secs, &mut c)?;
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_all_forms() {
        for (s, want) in [
            ("2015-07-21", "2015-07-21"),
            ("20150721", "2015-07-21"),
            ("2015-07", "2015-07-01"),
            ("201507", "2015-07-01"),
            ("2015-W30-2", "2015-07-21"),
            ("2015W302", "2015-07-21"),
            ("2015-W30", "2015-07-20"),
            ("2015W30", "2015-07-20"),
            ("2015-202", "2015-07-21"),
            ("2015202", "2015-07-21"),
            ("2015", "2015-01-01"),
            ("-999999999-01-01", "-999999999-01-01"),
            ("+999999999-12-31", "+999999999-12-31"),
        ] {
            assert_eq!(date(s).map(|d| d.to_string()), Ok(want.to_string()), "{s}");
        }
        for s in [
            "2015-13-01",
            "2015-02-29",
            "2016-W54",
            "2015-366",
            "15-07-21",
            "x",
            "",
        ] {
            assert!(date(s).is_err(), "{s} must not parse");
        }
        assert!(date("2016-02-29").is_ok());
    }

    #[test]
    fn times_and_offsets() {
        assert_eq!(
            local_time("214032.142").unwrap().to_string(),
            "21:40:32.142"
        );
        assert_eq!(local_time("21").unwrap().to_string(), "21:00");
        assert!(local_time("24:00").is_err());
        assert!(local_time("21:40.5").is_err());
        assert_eq!(time("2140-02").unwrap().to_string(), "21:40-02:00");
        assert_eq!(time("2140-00:00").unwrap().to_string(), "21:40Z");
        assert_eq!(time("22+18:00").unwrap().to_string(), "22:00+18:00");
        assert!(time("22+19:00").is_err());
    }

    #[test]
    fn date_times_with_zones() {
        let dt = |s: &str| date_time(s).unwrap().to_string();
        assert_eq!(dt("2015-W30T2140-02"), "2015-07-20T21:40-02:00");
        assert_eq!(
            dt("2015-07-21T21:40:32.142[Europe/London]"),
            "2015-07-21T21:40:32.142+01:00[Europe/London]"
        );
        assert_eq!(
            dt("1818-07-21T21:40:32.142[Europe/Stockholm]"),
            "1818-07-21T21:40:32.142+00:53:28[Europe/Stockholm]"
        );
        // 02:30 on 2017-03-26 does not exist in Stockholm: it moves forward by the gap.
        assert_eq!(
            dt("2017-03-26T02:30[Europe/Stockholm]"),
            "2017-03-26T03:30+02:00[Europe/Stockholm]"
        );
        assert!(date_time("2015-07-21T21:40[Nowhere/Special]").is_err());
    }

    #[test]
    fn durations() {
        let d = |s: &str| duration(s).unwrap().to_string();
        assert_eq!(d("P5M1.5D"), "P5M1DT12H");
        assert_eq!(d("PT0.75M"), "PT45S");
        assert_eq!(d("P12Y5M14DT16H12M70S"), "P12Y5M14DT16H13M10S");
        assert_eq!(d("P2012-02-02T14:37:21.545"), "P2012Y2M2DT14H37M21.545S");
        assert_eq!(d("PT-1M-0.001S"), "PT-1M-0.001S");
        assert_eq!(d("-P1D"), "P-1D");
        for s in ["P", "PT", "P1S", "PT1D", "1D", "P1Y1Y", "PxD"] {
            assert!(duration(s).is_err(), "{s} must not parse");
        }
    }
}
