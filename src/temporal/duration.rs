//! Durations: `(months, days, seconds, nanos)` as openCypher models them, their
//! construction from (possibly fractional) components, arithmetic and string form.
//!
//! Fractions cascade to the next smaller unit the way java.time-based Cypher does: a
//! fraction of a month becomes days (and seconds) by the average Gregorian month of
//! 30.436875 days, a fraction of a day becomes seconds; hours, minutes and smaller units
//! all go into seconds and nanoseconds. Days never roll into months and seconds never into
//! days, so `P1D` and `PT24H` are different durations.

use std::fmt;

use super::format::fraction;
use super::{overflow, NANOS_PER_SECOND, SECONDS_PER_DAY};
use crate::error::Result;

/// Average Gregorian month (365.2425 / 12 days), in seconds.
pub const SECONDS_PER_MONTH: f64 = 2_629_746.0;

/// Invariant: `0 <= nanos < 1_000_000_000`; the sign of the seconds part lives in `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Duration {
    months: i64,
    days: i64,
    seconds: i64,
    nanos: i32,
}

/// A component value: exact integer or float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// The components a duration is built from (`duration({...})` keys, ISO designators).
#[derive(Debug, Clone, Copy, Default)]
pub struct Components {
    pub years: Option<Num>,
    pub quarters: Option<Num>,
    pub months: Option<Num>,
    pub weeks: Option<Num>,
    pub days: Option<Num>,
    pub hours: Option<Num>,
    pub minutes: Option<Num>,
    pub seconds: Option<Num>,
    pub milliseconds: Option<Num>,
    pub microseconds: Option<Num>,
    pub nanoseconds: Option<Num>,
}

fn f64_to_i128(x: f64) -> Result<i128> {
    if x.is_finite() && x.abs() < 1.0e37 {
        Ok(x.trunc() as i128)
    } else {
        Err(overflow("duration"))
    }
}

/// Accumulates a duration exactly where inputs are integers, cascading fractions.
#[derive(Default)]
struct Acc {
    months: i128,
    months_frac: f64,
    days: i128,
    days_frac: f64,
    nanos: i128,
    nanos_frac: f64,
}

impl Acc {
    fn add(whole: &mut i128, frac: &mut f64, v: Num, unit: i128) -> Result<()> {
        match v {
            Num::Int(i) => {
                *whole = whole
                    .checked_add(i128::from(i) * unit)
                    .ok_or_else(|| overflow("duration"))?;
            }
            Num::Float(f) => {
                let scaled = f * unit as f64;
                let t = f64_to_i128(scaled)?;
                *whole = whole.checked_add(t).ok_or_else(|| overflow("duration"))?;
                *frac += scaled - scaled.trunc();
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Duration> {
        // Whole parts of accumulated fractions move up; the rest cascades down.
        let mf = self.months_frac;
        self.months += mf.trunc() as i128;
        let days_f =
            (mf - mf.trunc()) * SECONDS_PER_MONTH / SECONDS_PER_DAY as f64 + self.days_frac;
        self.days += f64_to_i128(days_f)?;
        let nanos_f = (days_f - days_f.trunc()) * (SECONDS_PER_DAY * NANOS_PER_SECOND) as f64
            + self.nanos_frac;
        self.nanos += f64_to_i128(nanos_f.round())?;
        Duration::from_parts(self.months, self.days, self.nanos)
    }
}

impl Duration {
    pub const ZERO: Duration = Duration {
        months: 0,
        days: 0,
        seconds: 0,
        nanos: 0,
    };

    /// A duration from exact parts; `nanos` may be any size and sign (it is normalized).
    pub fn from_parts(months: i128, days: i128, nanos: i128) -> Result<Duration> {
        let ns = i128::from(NANOS_PER_SECOND);
        let too_big = || overflow("duration");
        Ok(Duration {
            months: i64::try_from(months).map_err(|_| too_big())?,
            days: i64::try_from(days).map_err(|_| too_big())?,
            seconds: i64::try_from(nanos.div_euclid(ns)).map_err(|_| too_big())?,
            nanos: nanos.rem_euclid(ns) as i32,
        })
    }

    pub fn new(months: i64, days: i64, seconds: i64, nanos: i64) -> Result<Duration> {
        Duration::from_parts(
            i128::from(months),
            i128::from(days),
            i128::from(seconds) * i128::from(NANOS_PER_SECOND) + i128::from(nanos),
        )
    }

    pub fn from_components(c: &Components) -> Result<Duration> {
        let mut a = Acc::default();
        let month_units = [(c.years, 12), (c.quarters, 3), (c.months, 1)];
        for (v, unit) in month_units {
            if let Some(v) = v {
                Acc::add(&mut a.months, &mut a.months_frac, v, unit)?;
            }
        }
        for (v, unit) in [(c.weeks, 7), (c.days, 1)] {
            if let Some(v) = v {
                Acc::add(&mut a.days, &mut a.days_frac, v, unit)?;
            }
        }
        let ns = i128::from(NANOS_PER_SECOND);
        let nano_units = [
            (c.hours, 3600 * ns),
            (c.minutes, 60 * ns),
            (c.seconds, ns),
            (c.milliseconds, 1_000_000),
            (c.microseconds, 1_000),
            (c.nanoseconds, 1),
        ];
        for (v, unit) in nano_units {
            if let Some(v) = v {
                Acc::add(&mut a.nanos, &mut a.nanos_frac, v, unit)?;
            }
        }
        a.finish()
    }

    pub fn months(self) -> i64 {
        self.months
    }
    pub fn days(self) -> i64 {
        self.days
    }
    pub fn seconds(self) -> i64 {
        self.seconds
    }
    /// Nanoseconds of the second, `0..1e9`.
    pub fn nanos(self) -> i64 {
        i64::from(self.nanos)
    }
    /// The seconds part as nanoseconds (exact).
    pub fn total_nanos(self) -> i128 {
        i128::from(self.seconds) * i128::from(NANOS_PER_SECOND) + i128::from(self.nanos)
    }

    pub fn checked_add(self, o: Duration) -> Result<Duration> {
        Duration::from_parts(
            i128::from(self.months) + i128::from(o.months),
            i128::from(self.days) + i128::from(o.days),
            self.total_nanos() + o.total_nanos(),
        )
    }

    pub fn checked_neg(self) -> Result<Duration> {
        Duration::from_parts(
            -i128::from(self.months),
            -i128::from(self.days),
            -self.total_nanos(),
        )
    }

    pub fn checked_sub(self, o: Duration) -> Result<Duration> {
        self.checked_add(o.checked_neg()?)
    }

    pub fn mul_int(self, k: i64) -> Result<Duration> {
        let k = i128::from(k);
        let m = i128::from(self.months).checked_mul(k);
        let d = i128::from(self.days).checked_mul(k);
        let n = self.total_nanos().checked_mul(k);
        match (m, d, n) {
            (Some(m), Some(d), Some(n)) => Duration::from_parts(m, d, n),
            _ => Err(overflow("duration")),
        }
    }

    /// Multiplies by a float: each unit is scaled and its fraction cascades down.
    pub fn mul_float(self, k: f64) -> Result<Duration> {
        if !k.is_finite() {
            return Err(overflow("duration"));
        }
        let mut a = Acc::default();
        Acc::add(
            &mut a.months,
            &mut a.months_frac,
            Num::Float(self.months as f64 * k),
            1,
        )?;
        Acc::add(
            &mut a.days,
            &mut a.days_frac,
            Num::Float(self.days as f64 * k),
            1,
        )?;
        // The seconds part is scaled as a whole and truncated to nanoseconds.
        a.nanos = f64_to_i128(self.total_nanos() as f64 * k)?;
        a.finish()
    }

    pub fn div_num(self, divisor: Num) -> Result<Duration> {
        let d = divisor.f();
        if d == 0.0 {
            return Err(super::invalid(
                "division of a duration by zero: divide by a non-zero number",
            ));
        }
        self.mul_float(1.0 / d)
    }

    /// Field of `duration.field` (`years`, `monthsOfYear`, `secondsOfMinute`, ...);
    /// `None` for an unknown name.
    pub fn component(self, name: &str) -> Option<i64> {
        let total = self.total_nanos();
        let whole_secs = self.seconds;
        let ns = i128::from(NANOS_PER_SECOND);
        Some(match name.to_ascii_lowercase().as_str() {
            "years" => self.months / 12,
            "quarters" => self.months / 3,
            "months" => self.months,
            "weeks" => self.days / 7,
            "days" => self.days,
            // Whole units truncate toward zero, as java.time-based Cypher does.
            "hours" => whole_secs / 3600,
            "minutes" => whole_secs / 60,
            "seconds" => whole_secs,
            "milliseconds" => i64::try_from(total.div_euclid(1_000_000)).ok()?,
            "microseconds" => i64::try_from(total.div_euclid(1_000)).ok()?,
            "nanoseconds" => i64::try_from(total).ok()?,
            "quartersofyear" => self.months / 3 % 4,
            "monthsofquarter" => self.months % 3,
            "monthsofyear" => self.months % 12,
            "daysofweek" => self.days % 7,
            "minutesofhour" => whole_secs / 60 % 60,
            "secondsofminute" => whole_secs % 60,
            "millisecondsofsecond" => i64::try_from(total.rem_euclid(ns) / 1_000_000).ok()?,
            "microsecondsofsecond" => i64::try_from(total.rem_euclid(ns) / 1_000).ok()?,
            "nanosecondsofsecond" => i64::try_from(total.rem_euclid(ns)).ok()?,
            _ => return None,
        })
    }
}

impl fmt::Display for Duration {
    /// `P[nY][nM][nD][T[nH][nM][n.fS]]`, each part with its own sign, `PT0S` when zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Duration::ZERO {
            return f.write_str("PT0S");
        }
        f.write_str("P")?;
        let (years, months) = (self.months / 12, self.months % 12);
        if years != 0 {
            write!(f, "{years}Y")?;
        }
        if months != 0 {
            write!(f, "{months}M")?;
        }
        if self.days != 0 {
            write!(f, "{}D", self.days)?;
        }
        let total = self.total_nanos();
        if total != 0 {
            f.write_str("T")?;
            let neg = total < 0;
            let abs = total.unsigned_abs();
            let ns = NANOS_PER_SECOND as u128;
            let secs = abs / ns;
            let sub = (abs % ns) as i64;
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            let sign = if neg { "-" } else { "" };
            if h != 0 {
                write!(f, "{sign}{h}H")?;
            }
            if m != 0 {
                write!(f, "{sign}{m}M")?;
            }
            if s != 0 || sub != 0 {
                write!(f, "{sign}{s}{}S", fraction(sub))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(f: impl FnOnce(&mut Components)) -> Duration {
        let mut c = Components::default();
        f(&mut c);
        Duration::from_components(&c).unwrap()
    }

    #[test]
    fn fractions_cascade_to_smaller_units() {
        let d = comps(|c| c.months = Some(Num::Float(0.75)));
        assert_eq!(d.to_string(), "P22DT19H51M49.5S");
        let d = comps(|c| c.weeks = Some(Num::Float(2.5)));
        assert_eq!(d.to_string(), "P17DT12H");
        let d = comps(|c| {
            c.minutes = Some(Num::Float(1.5));
            c.seconds = Some(Num::Int(1));
        });
        assert_eq!(d.to_string(), "PT1M31S");
    }

    #[test]
    fn negative_parts_format_with_their_own_signs() {
        assert_eq!(
            Duration::new(0, 0, -60, -1_000_000).unwrap().to_string(),
            "PT-1M-0.001S"
        );
        assert_eq!(
            Duration::new(0, 0, -2, 1_000_000).unwrap().to_string(),
            "PT-1.999S"
        );
        assert_eq!(
            Duration::new(149, -14, 57_600, 0).unwrap().to_string(),
            "P12Y5M-14DT16H"
        );
        assert_eq!(Duration::new(-6, 0, 0, 0).unwrap().to_string(), "P-6M");
        assert_eq!(Duration::ZERO.to_string(), "PT0S");
    }

    #[test]
    fn arithmetic_is_componentwise_and_checked() {
        let a = Duration::new(1, 2, 3, 4).unwrap();
        let b = Duration::new(10, 20, 30, 999_999_999).unwrap();
        assert_eq!(
            a.checked_add(b).unwrap(),
            Duration::new(11, 22, 34, 3).unwrap()
        );
        assert_eq!(a.checked_sub(a).unwrap(), Duration::ZERO);
        assert!(Duration::new(i64::MAX, 0, 0, 0)
            .unwrap()
            .mul_int(2)
            .is_err());
        assert!(Duration::new(i64::MAX, 0, 0, 0)
            .unwrap()
            .checked_add(Duration::new(1, 0, 0, 0).unwrap())
            .is_err());
        assert!(a.div_num(Num::Int(0)).is_err());
        assert!(a.mul_float(f64::INFINITY).is_err());
    }

    #[test]
    fn multiplication_by_fractions_cascades() {
        let d = Duration::new(149, 14, 58_390, 1).unwrap();
        assert_eq!(d.mul_float(0.5).unwrap().to_string(), "P6Y2M22DT13H21M8S");
        assert_eq!(d.div_num(Num::Float(0.5)).unwrap(), d.mul_int(2).unwrap());
    }

    #[test]
    fn components_of_negative_durations() {
        let d = Duration::new(-14, -10, -3_661, 0).unwrap();
        assert_eq!(d.component("years"), Some(-1));
        assert_eq!(d.component("monthsOfYear"), Some(-2));
        assert_eq!(d.component("seconds"), Some(-3_661));
        assert_eq!(d.component("hours"), Some(-1));
        assert_eq!(d.component("minutesOfHour"), Some(-1));
        assert_eq!(d.component("secondsOfMinute"), Some(-1));
        assert_eq!(d.component("bogus"), None);
    }
}
