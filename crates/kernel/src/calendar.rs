//! Working days on the Chinese calendar: weekends are rest days, except the make-up working
//! days (调休上班) the State Council announces each year with the statutory holidays, which are
//! rest days even on a weekday. Legal and promised time limits of services are counted in
//! these working days.
//!
//! The State Council publishes each year's holidays in the November before; a year with no
//! arrangement given counts weekends only, and says so ([`WorkCalendar::is_arranged`]), so a
//! deadline computed from it can be flagged until the year is configured.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// China Standard Time (UTC+8): the time people read, and the day a deadline counts from.
pub fn china_time() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// One year's arrangement: holidays (rest days on weekdays included) and make-up working
/// days (working weekends).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearArrangement {
    pub holidays: BTreeSet<NaiveDate>,
    pub workdays: BTreeSet<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarError {
    /// A date given for another year than the one it is filed under.
    WrongYear { year: i32, date: NaiveDate },
    /// A date that is both a holiday and a working day.
    Both(NaiveDate),
}

impl std::fmt::Display for CalendarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CalendarError::WrongYear { year, date } => {
                write!(f, "{date} is not in {year}")
            }
            CalendarError::Both(d) => write!(f, "{d} is both a holiday and a working day"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearArrangement>,
}

/// (first day, last day) of each holiday period and the make-up working days, as announced.
type Announced = (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

/// 国务院办公厅关于2025年部分节假日安排的通知.
const Y2025: Announced = (
    &[
        ("2025-01-01", "2025-01-01"),
        ("2025-01-28", "2025-02-04"),
        ("2025-04-04", "2025-04-06"),
        ("2025-05-01", "2025-05-05"),
        ("2025-05-31", "2025-06-02"),
        ("2025-10-01", "2025-10-08"),
    ],
    &[
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
    ],
);

/// 国务院办公厅关于2026年部分节假日安排的通知 (4 November 2025).
const Y2026: Announced = (
    &[
        ("2026-01-01", "2026-01-03"),
        ("2026-02-15", "2026-02-23"),
        ("2026-04-04", "2026-04-06"),
        ("2026-05-01", "2026-05-05"),
        ("2026-06-19", "2026-06-21"),
        ("2026-09-25", "2026-09-27"),
        ("2026-10-01", "2026-10-07"),
    ],
    &[
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ],
);

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date of the built-in arrangements")
}

fn arrangement((periods, workdays): Announced) -> YearArrangement {
    let mut holidays = BTreeSet::new();
    for (from, to) in periods {
        let (mut d, to) = (day(from), day(to));
        while d <= to {
            holidays.insert(d);
            d += Duration::days(1);
        }
    }
    YearArrangement {
        holidays,
        workdays: workdays.iter().map(|s| day(s)).collect(),
    }
}

impl WorkCalendar {
    /// The arrangements announced so far (2025 and 2026); others are added with
    /// [`WorkCalendar::with_year`].
    pub fn china() -> WorkCalendar {
        let mut c = WorkCalendar::default();
        c.years.insert(2025, arrangement(Y2025));
        c.years.insert(2026, arrangement(Y2026));
        c
    }

    /// Sets (or replaces) one year's arrangement.
    pub fn with_year(
        mut self,
        year: i32,
        a: YearArrangement,
    ) -> Result<WorkCalendar, CalendarError> {
        for d in a.holidays.iter().chain(&a.workdays) {
            if d.year() != year {
                return Err(CalendarError::WrongYear { year, date: *d });
            }
        }
        if let Some(d) = a.holidays.intersection(&a.workdays).next() {
            return Err(CalendarError::Both(*d));
        }
        self.years.insert(year, a);
        Ok(self)
    }

    /// Whether the year's holidays are known, rather than assumed to be weekends only.
    pub fn is_arranged(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if let Some(a) = self.years.get(&d.year()) {
            if a.workdays.contains(&d) {
                return true;
            }
            if a.holidays.contains(&d) {
                return false;
            }
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The day a limit of `n` working days ends when counting starts the day after `start`
    /// (the day an application is accepted does not count). `n == 0` is `start` itself: done
    /// on the spot.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not after `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekends_holidays_and_make_up_days() {
        let c = WorkCalendar::china();
        assert!(c.is_working_day(day("2026-02-13")), "a Friday");
        assert!(c.is_working_day(day("2026-02-14")), "a make-up Saturday");
        assert!(
            !c.is_working_day(day("2026-02-16")),
            "Spring Festival on a Monday"
        );
        assert!(
            !c.is_working_day(day("2026-02-21")),
            "a Saturday in the holiday"
        );
        assert!(
            c.is_working_day(day("2026-02-28")),
            "the second make-up Saturday"
        );
        assert!(!c.is_working_day(day("2026-03-01")), "an ordinary Sunday");
        assert!(
            !c.is_working_day(day("2025-10-08")),
            "the eighth day of 2025's Golden Week"
        );
        assert!(
            c.is_working_day(day("2025-10-11")),
            "2025's make-up Saturday"
        );
    }

    #[test]
    fn limits_skip_the_spring_festival() {
        let c = WorkCalendar::china();
        // Accepted on Friday 13 February 2026: the make-up Saturday is day 1, the holiday
        // to Monday 23rd counts nothing, then Tuesday 24th to Friday 27th are days 2 to 5.
        assert_eq!(c.add_working_days(day("2026-02-13"), 5), day("2026-02-27"));
        assert_eq!(c.add_working_days(day("2026-02-13"), 6), day("2026-02-28"));
        assert_eq!(c.add_working_days(day("2026-02-13"), 0), day("2026-02-13"));
        assert_eq!(
            c.working_days_between(day("2026-02-13"), day("2026-02-27")),
            5
        );
        assert_eq!(
            c.working_days_between(day("2026-02-27"), day("2026-02-13")),
            0
        );
        // Across National Day 2026: from Wednesday 30 September, Thursday 8 and Friday 9
        // October are days 1 and 2, and the make-up Saturday 10 October is day 3.
        assert_eq!(c.add_working_days(day("2026-09-30"), 3), day("2026-10-10"));
    }

    #[test]
    fn a_year_not_yet_arranged_counts_weekends_only_and_says_so() {
        let c = WorkCalendar::china();
        assert!(!c.is_arranged(2027));
        // 1 January 2027 is a Friday: a working day until the year is configured.
        assert!(c.is_working_day(day("2027-01-01")));
        let a = YearArrangement {
            holidays: [day("2027-01-01")].into(),
            workdays: BTreeSet::new(),
        };
        let c = c.with_year(2027, a).unwrap();
        assert!(c.is_arranged(2027));
        assert!(!c.is_working_day(day("2027-01-01")));
    }

    #[test]
    fn inconsistent_arrangements_are_refused() {
        let wrong_year = YearArrangement {
            holidays: [day("2026-01-01")].into(),
            workdays: BTreeSet::new(),
        };
        assert_eq!(
            WorkCalendar::china().with_year(2027, wrong_year),
            Err(CalendarError::WrongYear {
                year: 2027,
                date: day("2026-01-01")
            })
        );
        let both = YearArrangement {
            holidays: [day("2027-05-01")].into(),
            workdays: [day("2027-05-01")].into(),
        };
        assert_eq!(
            WorkCalendar::china().with_year(2027, both),
            Err(CalendarError::Both(day("2027-05-01")))
        );
    }
}
