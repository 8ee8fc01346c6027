//! Licence identifiers (电子证照标识) in the structure of GB/T 36903:
//!
//! ```text
//! 1301 11410100MB1234567X 0000000042 01 K
//! type issuing authority  serial     ver check
//! ```
//!
//! - type code: the four characters of the licence type's catalogue code (`type_code` in
//!   the catalog, GB/T 36902 style);
//! - issuing authority: the eighteen-character unified social credit code of the issuer;
//! - serial: ten digits, counted per type and issuer;
//! - version: two digits, 01 for a first issue;
//! - check: one character of 0-9A-Z by ISO 7064 MOD 37,36 (hybrid system) over the 34
//!   characters before it.
//!
//! Written without separators: 35 characters of 0-9 and A-Z, safe in a URL path.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

pub const LEN: usize = 35;

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// The ISO 7064 MOD 37,36 check character of `s` (characters 0-9 and A-Z), or `None` when
/// `s` has another character.
pub fn mod37_36_check(s: &str) -> Option<char> {
    const M: u32 = 36;
    let mut p = M;
    for c in s.bytes() {
        let mut sum = (p + value(c)?) % M;
        if sum == 0 {
            sum = M;
        }
        p = (sum * 2) % (M + 1);
    }
    Some(ALPHABET[((M + 1 - p) % M) as usize] as char)
}

/// Whether `s` ends with its correct MOD 37,36 check character.
pub fn mod37_36_valid(s: &str) -> bool {
    let Some((body, last)) = s.len().checked_sub(1).map(|n| s.split_at(n)) else {
        return false;
    };
    !body.is_empty() && mod37_36_check(body).is_some_and(|c| last.starts_with(c))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    #[error("a licence identifier has 35 characters")]
    Length,
    #[error("a licence identifier has only the characters 0-9 and A-Z")]
    Charset,
    #[error("the serial and the version are digits")]
    Digits,
    #[error("the issuing authority is not a valid unified social credit code")]
    Issuer,
    #[error("the check character does not match")]
    Check,
}

/// A licence identifier whose check character is right.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LicenceId(String);

impl LicenceId {
    /// Builds an identifier: `type_code` four characters of 0-9A-Z, `issuer` a credit code.
    pub fn new(
        type_code: &str,
        issuer: &kernel::CreditCode,
        serial: u64,
        version: u8,
    ) -> LicenceId {
        let body = format!(
            "{type_code}{}{:010}{:02}",
            issuer.as_str(),
            serial % 10_000_000_000,
            version % 100
        );
        let check = mod37_36_check(&body).expect("type codes and credit codes are 0-9A-Z");
        LicenceId(format!("{body}{check}"))
    }

    pub fn parse(input: &str) -> Result<LicenceId, IdentError> {
        let s = input.trim().to_ascii_uppercase();
        if s.len() != LEN {
            return Err(IdentError::Length);
        }
        if !s.bytes().all(|c| value(c).is_some()) {
            return Err(IdentError::Charset);
        }
        if !s[22..34].bytes().all(|c| c.is_ascii_digit()) {
            return Err(IdentError::Digits);
        }
        if kernel::CreditCode::parse(&s[4..22]).is_err() {
            return Err(IdentError::Issuer);
        }
        if !mod37_36_valid(&s) {
            return Err(IdentError::Check);
        }
        Ok(LicenceId(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn type_code(&self) -> &str {
        &self.0[..4]
    }

    pub fn issuer(&self) -> &str {
        &self.0[4..22]
    }

    pub fn serial(&self) -> u64 {
        self.0[22..32].parse().unwrap_or(0)
    }

    pub fn version(&self) -> u8 {
        self.0[32..34].parse().unwrap_or(0)
    }
}

impl fmt::Display for LicenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LicenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LicenceId({})", self.0)
    }
}

impl FromStr for LicenceId {
    type Err = IdentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LicenceId::parse(s)
    }
}

/// The unified social credit code that stands for a department in identifiers.
///
/// The catalog names departments by code and carries no credit codes, so one is derived:
/// registration authority 1 and type 1 (a government organ, 机关), the department's region
/// (the first six digits of its code, else the city's), and an organisation body of eight
/// digits from SHA-256 of the department code, with both check characters computed. The
/// same department always gets the same code.
pub fn issuer_code(department: &str) -> kernel::CreditCode {
    let region = department
        .get(..6)
        .filter(|r| r.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|r| r.parse::<u32>().ok())
        .unwrap_or(410_100);
    let d = Sha256::digest(department.as_bytes());
    let n = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
    let body = format!("{:08}", n % 100_000_000);
    kernel::CreditCode::from_parts("11", region, &body)
        .or_else(|| kernel::CreditCode::from_parts("11", 410_100, &body))
        .expect("a government organ's code over a known region is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_characters_worked_by_hand() {
        // "0": p=36; s=(36+0) mod 36=0 -> 36; p=72 mod 37=35; check=(37-35) mod 36=2.
        assert_eq!(mod37_36_check("0"), Some('2'));
        // "A" (10): s=(36+10) mod 36=10; p=20; check=(37-20) mod 36=17 -> 'H'.
        assert_eq!(mod37_36_check("A"), Some('H'));
        // "A1": after A p=20; s=(20+1) mod 36=21; p=42 mod 37=5; check=32 -> 'W'.
        assert_eq!(mod37_36_check("A1"), Some('W'));
        // "Z9": Z=35: s=(36+35) mod 36=35; p=70 mod 37=33; s=(33+9) mod 36=6; p=12;
        // check=(37-12) mod 36=25 -> 'P'.
        assert_eq!(mod37_36_check("Z9"), Some('P'));
        assert!(mod37_36_valid("02"));
        assert!(mod37_36_valid("AH"));
        assert!(mod37_36_valid("A1W"));
        assert!(mod37_36_valid("Z9P"));
        assert!(!mod37_36_valid("Z9Q"));
        assert_eq!(mod37_36_check("a"), None);
    }

    #[test]
    fn every_single_substitution_is_caught() {
        let id = LicenceId::new("1301", &issuer_code("410100-MZ"), 42, 1);
        let s = id.as_str();
        for i in 0..s.len() {
            for c in ALPHABET.iter().map(|&b| b as char) {
                if s.as_bytes()[i] as char == c {
                    continue;
                }
                let mut t = s.to_string();
                t.replace_range(i..=i, &c.to_string());
                assert!(!mod37_36_valid(&t), "{t}");
            }
        }
    }

    #[test]
    fn adjacent_transpositions_are_caught() {
        let id = LicenceId::new("2901", &issuer_code("410100-SCJG"), 9_876_543_210, 3);
        let s = id.as_str().as_bytes().to_vec();
        for i in 0..s.len() - 1 {
            if s[i] == s[i + 1] {
                continue;
            }
            let mut t = s.clone();
            t.swap(i, i + 1);
            assert!(!mod37_36_valid(std::str::from_utf8(&t).unwrap()));
        }
    }

    #[test]
    fn identifiers_round_trip_and_bad_ones_are_refused() {
        let issuer = issuer_code("410100-MZ");
        assert!(issuer.as_str().starts_with("11410100"));
        assert_eq!(issuer, issuer_code("410100-MZ"));
        assert_ne!(issuer, issuer_code("410100-GA"));
        assert!(issuer_code("410105-MZ").as_str().starts_with("11410105"));
        let id = LicenceId::new("1301", &issuer, 42, 1);
        assert_eq!(id.as_str().len(), LEN);
        let back = LicenceId::parse(&id.as_str().to_ascii_lowercase()).unwrap();
        assert_eq!(back, id);
        assert_eq!(back.type_code(), "1301");
        assert_eq!(back.issuer(), issuer.as_str());
        assert_eq!((back.serial(), back.version()), (42, 1));
        assert_eq!(&id.as_str()[22..34], "000000004201");

        let mut wrong = id.as_str().to_string();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '0' { '1' } else { '0' });
        assert_eq!(LicenceId::parse(&wrong), Err(IdentError::Check));
        assert_eq!(LicenceId::parse("1301"), Err(IdentError::Length));
        let mut lower_dash = id.as_str().to_string();
        lower_dash.replace_range(0..1, "-");
        assert_eq!(LicenceId::parse(&lower_dash), Err(IdentError::Charset));
    }
}
