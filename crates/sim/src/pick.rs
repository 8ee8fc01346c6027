//! Small sampling helpers. Choices are made with integer arithmetic; floating point only
//! shapes amounts (wages, areas, prices), whose last digits could in principle differ between
//! C maths libraries, never between two runs on one machine.

use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;

/// Picks from a fixed list by integer weights.
#[derive(Debug, Clone)]
pub struct Weighted<T> {
    items: Vec<T>,
    cumulative: Vec<u64>,
}

impl<T: Copy> Weighted<T> {
    pub fn new(pairs: &[(T, u32)]) -> Weighted<T> {
        let mut total = 0u64;
        let mut items = Vec::with_capacity(pairs.len());
        let mut cumulative = Vec::with_capacity(pairs.len());
        for (item, w) in pairs {
            total += u64::from(*w);
            items.push(*item);
            cumulative.push(total);
        }
        assert!(total > 0, "weights must not all be zero");
        Weighted { items, cumulative }
    }

    pub fn sample<R: Rng>(&self, rng: &mut R) -> T {
        self.items[self.sample_index(rng)]
    }

    pub fn sample_index<R: Rng>(&self, rng: &mut R) -> usize {
        let total = *self.cumulative.last().expect("not empty");
        let x = rng.random_range(0..total);
        self.cumulative.partition_point(|&c| c <= x)
    }
}

/// True with probability `per_mille / 1000`.
pub fn chance<R: Rng>(rng: &mut R, per_mille: u32) -> bool {
    rng.random_range(0..1000) < per_mille
}

/// A uniformly chosen day in `[from, to]`; `from` when the range is empty.
pub fn date_between<R: Rng>(rng: &mut R, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days();
    if span <= 0 {
        return from;
    }
    from + Days::new(rng.random_range(0..=span) as u64)
}

/// The day a person born on `birth` turns `years` old (29 February birthdays move to 1 March).
pub fn birthday(birth: NaiveDate, years: i32) -> NaiveDate {
    let y = birth.year() + years;
    NaiveDate::from_ymd_opt(y, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, 3, 1))
        .expect("valid date")
}

/// Completed years of age on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// A birth date that makes the person exactly `age` years old on `on`.
pub fn birth_for_age<R: Rng>(rng: &mut R, age: i32, on: NaiveDate) -> NaiveDate {
    let latest = birthday(on, -age);
    let earliest = birthday(on, -age - 1) + Days::new(1);
    date_between(rng, earliest, latest)
}

/// A standard normal deviate (Box–Muller), for wages and similar skewed amounts.
pub fn normal<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Whole months from the month of `from` to the month of `to`, both counted.
pub fn months_inclusive(from: NaiveDate, to: NaiveDate) -> i64 {
    let m = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 + 1;
    i64::from(m.max(0))
}

/// `YYYY-MM-DD`, without going through chrono's general formatter (it is hot at a million rows).
pub fn fmt_date(d: NaiveDate, out: &mut String) {
    let (y, m, day) = (d.year() as u32, d.month(), d.day());
    let bytes = [
        b'0' + (y / 1000 % 10) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + (m / 10) as u8,
        b'0' + (m % 10) as u8,
        b'-',
        b'0' + (day / 10) as u8,
        b'0' + (day % 10) as u8,
    ];
    for b in bytes {
        out.push(b as char);
    }
}

pub fn date_string(d: NaiveDate) -> String {
    let mut s = String::with_capacity(10);
    fmt_date(d, &mut s);
    s
}

/// `YYYY-MM`, the way social insurance counts contribution months.
pub fn month_string(d: NaiveDate) -> String {
    let mut s = date_string(d);
    s.truncate(7);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weighted_sampling_respects_weights() {
        let w = Weighted::new(&[("a", 1), ("b", 0), ("c", 3)]);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            counts[w.sample_index(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((9_000..11_000).contains(&counts[0]), "{counts:?}");
    }

    #[test]
    fn ages_and_birthdays() {
        assert_eq!(age_on(d(2000, 2, 29), d(2025, 2, 28)), 24);
        assert_eq!(age_on(d(2000, 2, 29), d(2025, 3, 1)), 25);
        assert_eq!(birthday(d(2000, 2, 29), 1), d(2001, 3, 1));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for age in [0, 1, 17, 18, 64, 95] {
            for _ in 0..200 {
                let b = birth_for_age(&mut rng, age, d(2025, 12, 31));
                assert_eq!(age_on(b, d(2025, 12, 31)), age);
            }
        }
    }

    #[test]
    fn dates_format_like_iso() {
        assert_eq!(date_string(d(1930, 1, 5)), "1930-01-05");
        assert_eq!(date_string(d(2025, 12, 31)), "2025-12-31");
        assert_eq!(month_string(d(2025, 12, 31)), "2025-12");
        assert_eq!(months_inclusive(d(2024, 11, 30), d(2025, 2, 1)), 4);
    }
}
