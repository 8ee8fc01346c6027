//! Vaccination records of the health commission, derived from the birth medical certificates
//! rather than generated: a child's doses follow the national schedule from the date of birth,
//! so the city's pinned registries stay as they are and every answer is the same each time.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Months, NaiveDate};
use sha2::{Digest, Sha256};

/// 国家免疫规划疫苗儿童免疫程序（2021年版）: vaccine code as the schedule abbreviates it, its
/// name, and the age of each dose in months. The live vaccines are listed where the schedule
/// offers a live or an inactivated one (乙脑, 甲肝). The 2025 change to the 百白破 ages is not
/// modelled, and every child follows this schedule whatever the year of birth.
const SCHEDULE: &[(&str, &str, &[u32])] = &[
    ("HepB", "乙肝疫苗", &[0, 1, 6]),
    ("BCG", "卡介苗", &[0]),
    ("IPV", "脊灰灭活疫苗", &[2, 3]),
    ("bOPV", "脊灰减毒活疫苗", &[4, 48]),
    ("DTaP", "百白破疫苗", &[3, 4, 5, 18]),
    ("DT", "白破疫苗", &[72]),
    ("MMR", "麻腮风疫苗", &[8, 18]),
    ("JE-L", "乙脑减毒活疫苗", &[8, 24]),
    ("MPSV-A", "A群流脑多糖疫苗", &[6, 9]),
    ("MPSV-AC", "A群C群流脑多糖疫苗", &[36, 72]),
    ("HepA-L", "甲肝减毒活疫苗", &[18]),
];

/// Doses given this many days after they fall due, at most.
const MAX_DELAY_DAYS: u64 = 6;
/// Doses missed, per mille.
const MISSED_PER_MILLE: u64 = 30;

/// One dose given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dose {
    pub code: &'static str,
    pub name: &'static str,
    pub dose_no: u32,
    pub given_on: NaiveDate,
    pub clinic: String,
}

/// What the record of a child holds on `as_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// The doses given, in the order given.
    pub doses: Vec<Dose>,
    /// Whether every dose due by `as_of` was given.
    pub complete: bool,
}

/// The record of a child born on `born` at `hospital`.
pub(crate) fn record(child_id: &str, born: NaiveDate, hospital: &str, as_of: NaiveDate) -> Record {
    let mut doses = Vec::new();
    let mut complete = true;
    for &(code, name, ages) in SCHEDULE {
        for (i, &months) in ages.iter().enumerate() {
            let dose_no = i as u32 + 1;
            let Some(due) = born.checked_add_months(Months::new(months)) else {
                continue;
            };
            if due > as_of {
                continue;
            }
            let h = hash(child_id, code, dose_no);
            // The birth doses are given on the ward before discharge, so every child on
            // record has at least those: an empty result means an unknown child.
            if months > 0 && h[1] % 1000 < MISSED_PER_MILLE {
                complete = false;
                continue;
            }
            let delay = if months == 0 {
                0
            } else {
                h[0] % (MAX_DELAY_DAYS + 1)
            };
            let given_on = (due + chrono::Days::new(delay)).min(as_of);
            let clinic = if months == 0 {
                hospital.to_string()
            } else {
                clinic_of(child_id)
            };
            doses.push(Dose {
                code,
                name,
                dose_no,
                given_on,
                clinic,
            });
        }
    }
    doses.sort_by_key(|d| d.given_on);
    Record { doses, complete }
}

fn hash(child_id: &str, code: &str, dose_no: u32) -> [u64; 2] {
    let d = Sha256::digest(format!("vaccination:{child_id}:{code}:{dose_no}").as_bytes());
    let word = |i: usize| u64::from_be_bytes(d[i..i + 8].try_into().expect("eight bytes"));
    [word(0), word(8)]
}

/// Clinic names by district code, one per sub-district: a community health centre's for a
/// 街道, a township hospital's for a town or township.
fn clinics() -> &'static HashMap<String, Vec<String>> {
    static CLINICS: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    CLINICS.get_or_init(|| {
        crate::zhengzhou()
            .into_iter()
            .map(|d| {
                let names = d
                    .sub_districts
                    .iter()
                    .map(|s| {
                        let centre = if s.kind == "subdistrict" {
                            "社区卫生服务中心"
                        } else {
                            "卫生院"
                        };
                        format!("{}{}{centre}预防接种门诊", d.name, s.name)
                    })
                    .collect();
                (d.code, names)
            })
            .collect()
    })
}

/// The child's clinic after the birth doses: one in the district of the ID number, or any in
/// the city for a number registered elsewhere.
fn clinic_of(child_id: &str) -> String {
    let all = clinics();
    let h = hash(child_id, "clinic", 0)[0];
    if let Some(here) = child_id.get(..6).and_then(|d| all.get(d))
        && !here.is_empty()
    {
        return here[(h % here.len() as u64) as usize].clone();
    }
    let mut districts: Vec<&String> = all.keys().collect();
    districts.sort();
    let every: Vec<&String> = districts.into_iter().flat_map(|d| &all[d]).collect();
    every[(h % every.len() as u64) as usize].clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_newborn_has_the_birth_doses_at_the_hospital() {
        let r = record(
            "41010220251230001X",
            day(2025, 12, 30),
            "某医院",
            day(2025, 12, 31),
        );
        let codes: Vec<&str> = r.doses.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["HepB", "BCG"]);
        assert!(r.doses.iter().all(|d| d.clinic == "某医院"));
        assert!(r.doses.iter().all(|d| d.given_on == day(2025, 12, 30)));
        assert!(r.complete);
    }

    #[test]
    fn doses_follow_the_schedule_and_never_come_after_the_day() {
        let as_of = day(2025, 12, 31);
        let mut missed = 0;
        let mut total = 0;
        for n in 0..400 {
            let id = format!("4101022018010{n:04}X");
            let born = day(2018, 1, 1);
            let r = record(&id, born, "某医院", as_of);
            let slots: usize = SCHEDULE.iter().map(|s| s.2.len()).sum();
            total += slots;
            missed += slots - r.doses.len();
            assert_eq!(r.complete, r.doses.len() == slots);
            for d in &r.doses {
                let months =
                    SCHEDULE.iter().find(|s| s.0 == d.code).unwrap().2[d.dose_no as usize - 1];
                let due = born.checked_add_months(Months::new(months)).unwrap();
                assert!(d.given_on >= due && d.given_on <= due + chrono::Days::new(6));
                assert!(d.given_on <= as_of);
                if months > 0 {
                    assert!(d.clinic.ends_with("预防接种门诊"), "{}", d.clinic);
                }
            }
            assert_eq!(r, record(&id, born, "某医院", as_of));
        }
        // About 3 in 100 of the doses after birth.
        let share = missed as f64 / total as f64;
        assert!((0.01..0.06).contains(&share), "{share}");
    }
}
