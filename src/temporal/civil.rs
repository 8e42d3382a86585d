//! Proleptic Gregorian calendar arithmetic on epoch days (days since 1970-01-01).
//!
//! Hand-written because Cypher dates span years -999,999,999 to +999,999,999, far beyond
//! what chrono's `NaiveDate` represents; the algorithms are Howard Hinnant's
//! `days_from_civil` / `civil_from_days`, exact for every i64 year in that range.

/// Smallest and largest year a Cypher temporal value may have.
pub const MIN_YEAR: i64 = -999_999_999;
pub const MAX_YEAR: i64 = 999_999_999;

pub fn is_leap(year: i64) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

pub fn days_in_year(year: i64) -> i64 {
    if is_leap(year) {
        366
    } else {
        365
    }
}

/// Epoch day of `year-month-day`; the caller guarantees a valid date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of an epoch day.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// ISO day of week: Monday = 1 .. Sunday = 7.
pub fn day_of_week(days: i64) -> u32 {
    // 1970-01-01 was a Thursday (4).
    ((days + 3).rem_euclid(7) + 1) as u32
}

/// Epoch day of the Monday that starts ISO week 1 of `week_year`.
pub fn week_one_start(week_year: i64) -> i64 {
    let jan4 = days_from_civil(week_year, 1, 4);
    jan4 - i64::from(day_of_week(jan4)) + 1
}

/// Number of ISO weeks (52 or 53) in `week_year`.
pub fn weeks_in_year(week_year: i64) -> u32 {
    ((week_one_start(week_year + 1) - week_one_start(week_year)) / 7) as u32
}

/// `(week_year, week)` of an epoch day.
pub fn iso_week(days: i64) -> (i64, u32) {
    let (year, _, _) = civil_from_days(days);
    let mut wy = year + 1;
    if days < week_one_start(wy) {
        wy = year;
        if days < week_one_start(wy) {
            wy = year - 1;
        }
    }
    (wy, ((days - week_one_start(wy)) / 7 + 1) as u32)
}

/// 1-based day of the year.
pub fn ordinal_day(days: i64) -> u32 {
    let (year, _, _) = civil_from_days(days);
    (days - days_from_civil(year, 1, 1) + 1) as u32
}

/// 1-based quarter of a month.
pub fn quarter_of(month: u32) -> u32 {
    (month - 1) / 3 + 1
}

/// 1-based day within the quarter.
pub fn day_of_quarter(days: i64) -> u32 {
    let (year, month, _) = civil_from_days(days);
    let first = quarter_of(month) * 3 - 2;
    (days - days_from_civil(year, first, 1) + 1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_across_eras_and_extremes() {
        for d in [-1_000_000i64, -719_468, -1, 0, 1, 59, 10_957, 2_932_896] {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
        let lo = days_from_civil(MIN_YEAR, 1, 1);
        assert_eq!(civil_from_days(lo), (MIN_YEAR, 1, 1));
        let hi = days_from_civil(MAX_YEAR, 12, 31);
        assert_eq!(civil_from_days(hi), (MAX_YEAR, 12, 31));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn leap_years() {
        assert!(is_leap(2000));
        assert!(!is_leap(1900));
        assert!(is_leap(1984));
        assert!(is_leap(-4));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(2100, 2), 28);
    }

    #[test]
    fn iso_weeks_at_year_boundaries() {
        // 1984-01-01 is a Sunday in week 52 of 1983.
        assert_eq!(iso_week(days_from_civil(1984, 1, 1)), (1983, 52));
        assert_eq!(day_of_week(days_from_civil(1984, 1, 1)), 7);
        // 2020-12-31 is in week 53 of 2020; 2021-01-03 too.
        assert_eq!(iso_week(days_from_civil(2020, 12, 31)), (2020, 53));
        assert_eq!(iso_week(days_from_civil(2021, 1, 3)), (2020, 53));
        // 2018-12-31 (Monday) is already week 1 of 2019.
        assert_eq!(iso_week(days_from_civil(2018, 12, 31)), (2019, 1));
        assert_eq!(weeks_in_year(2020), 53);
        assert_eq!(weeks_in_year(2021), 52);
        assert_eq!(week_one_start(1817), days_from_civil(1816, 12, 30));
    }

    #[test]
    fn ordinal_and_quarter_days() {
        let d = days_from_civil(1984, 10, 11);
        assert_eq!(ordinal_day(d), 285);
        assert_eq!(day_of_quarter(d), 11);
        assert_eq!(day_of_quarter(days_from_civil(1984, 11, 11)), 42);
        assert_eq!(quarter_of(12), 4);
    }
}
