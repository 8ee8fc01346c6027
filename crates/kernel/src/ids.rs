//! Identifiers of people and companies, parsed once at the edge so the rest of the code
//! never sees an unchecked one.
//!
//! - [`IdNumber`]: the 18-character resident identity number of GB 11643: a six-digit region
//!   code, the birth date, a three-digit sequence (odd for men, even for women) and an
//!   ISO 7064 MOD 11-2 check character.
//! - [`CreditCode`]: the 18-character unified social credit code of GB 32100, whose ninth to
//!   seventeenth characters are an organisation code of GB 11714 with its own check, and whose
//!   last character is a MOD 31 check.
//! - [`Phone`]: a mainland mobile number.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::msg::Msg;

/// Why an identifier was refused; each reason has a stable code and a message in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("wrong length")]
    Length,
    #[error("character not allowed")]
    Charset,
    #[error("unknown region")]
    Region,
    #[error("invalid birth date")]
    BirthDate,
    #[error("check character does not match")]
    Checksum,
}

impl IdError {
    pub fn code(self) -> &'static str {
        match self {
            IdError::Length => "length",
            IdError::Charset => "charset",
            IdError::Region => "region",
            IdError::BirthDate => "birth_date",
            IdError::Checksum => "checksum",
        }
    }
}

/// Province-level codes in use as the first two digits of a region code.
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// The check character of the first 17 digits of a resident ID number.
pub fn id_check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    ID_CHECK[(sum % 11) as usize] as char
}

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses a resident ID number. A lower-case `x` is accepted and stored upper-case.
    /// `today` bounds the birth date: nobody is born in the future.
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<IdNumber, IdError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 {
            return Err(IdError::Length);
        }
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdError::Charset);
        }
        let province = (b[0] - b'0') * 10 + (b[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(IdError::Region);
        }
        let birth = parse_birth(&s[6..14]).ok_or(IdError::BirthDate)?;
        if birth > today || birth < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date") {
            return Err(IdError::BirthDate);
        }
        if id_check_char(&b[..17]) != b[17] as char {
            return Err(IdError::Checksum);
        }
        Ok(IdNumber(s))
    }

    pub fn parse(input: &str) -> Result<IdNumber, IdError> {
        IdNumber::parse_on(input, chrono::Local::now().date_naive())
    }

    /// Builds a valid number from its parts, computing the check character.
    pub fn from_parts(region: u32, birth: NaiveDate, sequence: u16) -> IdNumber {
        let body = format!(
            "{:06}{}{:03}",
            region,
            birth.format("%Y%m%d"),
            sequence % 1000
        );
        let check = id_check_char(body.as_bytes());
        IdNumber(format!("{body}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        parse_birth(&self.0[6..14]).expect("checked at parse")
    }

    pub fn region(&self) -> &str {
        &self.0[..6]
    }

    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }

    /// The form shown on screens and in logs: first four and last four characters.
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }
}

fn parse_birth(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

/// Masks anything that looks like an ID number; safe on malformed input too.
pub fn mask_id_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

impl fmt::Debug for IdNumber {
    // Debug output ends up in logs; never the full number there.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        IdNumber::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(v: IdNumber) -> String {
        v.0
    }
}

pub fn id_number_error_message(e: IdError) -> Msg {
    match e {
        IdError::Length => Msg::new(
            "身份证号码应为18位",
            "The ID number must have 18 characters",
        ),
        IdError::Charset => Msg::new(
            "身份证号码前17位应为数字，最后一位为数字或X",
            "The ID number must be 17 digits followed by a digit or X",
        ),
        IdError::Region => Msg::new(
            "身份证号码的地区码不正确",
            "The region code of the ID number is not valid",
        ),
        IdError::BirthDate => Msg::new(
            "身份证号码中的出生日期不正确",
            "The birth date in the ID number is not valid",
        ),
        IdError::Checksum => Msg::new(
            "身份证号码校验位不正确，请核对后重新输入",
            "The ID number's check digit does not match; please check it and try again",
        ),
    }
}

/// Characters of a unified social credit code: digits and upper-case letters but I, O, Z, S, V.
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

fn uscc_value(c: u8) -> Option<u32> {
    USCC_ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The GB 11714 check character of an organisation code's first eight characters.
fn org_check_char(first8: &[u8]) -> Option<char> {
    let mut sum = 0u32;
    for (c, w) in first8.iter().zip(ORG_WEIGHTS) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).expect("digit"),
    })
}

/// The GB 32100 check character of a credit code's first seventeen characters.
fn uscc_check_char(first17: &[u8]) -> Option<char> {
    let mut sum = 0u32;
    for (c, w) in first17.iter().zip(USCC_WEIGHTS) {
        sum += uscc_value(*c)? * w;
    }
    let v = (31 - sum % 31) % 31;
    Some(USCC_ALPHABET[v as usize] as char)
}

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    pub fn parse(input: &str) -> Result<CreditCode, IdError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 {
            return Err(IdError::Length);
        }
        if !b.iter().all(|c| uscc_value(*c).is_some()) || !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(IdError::Charset);
        }
        let province = (b[2] - b'0') * 10 + (b[3] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(IdError::Region);
        }
        if org_check_char(&b[8..16]) != Some(b[16] as char) {
            return Err(IdError::Checksum);
        }
        if uscc_check_char(&b[..17]) != Some(b[17] as char) {
            return Err(IdError::Checksum);
        }
        Ok(CreditCode(s))
    }

    /// Builds a valid code: registration authority and type (e.g. "91" for a company
    /// registered by market regulation), region, and an eight-character organisation body.
    pub fn from_parts(kind: &str, region: u32, org_body: &str) -> Option<CreditCode> {
        let org = org_body.to_ascii_uppercase();
        if kind.len() != 2 || org.len() != 8 {
            return None;
        }
        let org_check = org_check_char(org.as_bytes())?;
        let body = format!("{kind}{region:06}{org}{org_check}");
        let check = uscc_check_char(body.as_bytes())?;
        let code = format!("{body}{check}");
        CreditCode::parse(&code).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CreditCode({})", self.0)
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CreditCode::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(v: CreditCode) -> String {
        v.0
    }
}

pub fn credit_code_error_message(e: IdError) -> Msg {
    match e {
        IdError::Length => Msg::new(
            "统一社会信用代码应为18位",
            "The unified social credit code must have 18 characters",
        ),
        IdError::Charset => Msg::new(
            "统一社会信用代码含有不允许的字符（不使用I、O、Z、S、V）",
            "The credit code has characters that are not allowed (I, O, Z, S and V are never used)",
        ),
        IdError::Region | IdError::BirthDate => Msg::new(
            "统一社会信用代码的登记管理机关行政区划码不正确",
            "The region code in the credit code is not valid",
        ),
        IdError::Checksum => Msg::new(
            "统一社会信用代码校验位不正确，请核对后重新输入",
            "The credit code's check character does not match; please check it and try again",
        ),
    }
}

/// A mainland mobile number: 11 digits starting with 1 and a second digit from 3 to 9.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, IdError> {
        let s: String = input
            .trim()
            .trim_start_matches("+86")
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        if s.len() != 11 {
            return Err(IdError::Length);
        }
        let b = s.as_bytes();
        if !b.iter().all(u8::is_ascii_digit) || b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(IdError::Charset);
        }
        Ok(Phone(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks a phone number as 138****5678; safe on malformed input.
pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl TryFrom<String> for Phone {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Phone::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(v: Phone) -> String {
        v.0
    }
}

pub fn phone_error_message(_: IdError) -> Msg {
    Msg::new(
        "手机号码应为11位数字，以1开头",
        "The mobile number must be 11 digits starting with 1",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn accepts_the_standard_example_id_number() {
        // The worked example of GB 11643: 11010519491231002X.
        let id = IdNumber::parse_on("11010519491231002x", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert!(!id.is_male());
        assert_eq!(id.masked(), "1101**********002X");
    }

    #[test]
    fn refuses_bad_id_numbers_with_the_reason() {
        let t = today();
        assert_eq!(
            IdNumber::parse_on("1101051949123100", t),
            Err(IdError::Length)
        );
        assert_eq!(
            IdNumber::parse_on("11010519491231002Y", t),
            Err(IdError::Charset)
        );
        assert_eq!(
            IdNumber::parse_on("99010519491231002X", t),
            Err(IdError::Region)
        );
        assert_eq!(
            IdNumber::parse_on("110105194913310028", t),
            Err(IdError::BirthDate)
        );
        assert_eq!(
            IdNumber::parse_on("110105194902300020", t),
            Err(IdError::BirthDate)
        );
        assert_eq!(
            IdNumber::parse_on("110105194912310021", t),
            Err(IdError::Checksum)
        );
        let future = IdNumber::from_parts(410102, NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(), 1);
        assert_eq!(
            IdNumber::parse_on(future.as_str(), t),
            Err(IdError::BirthDate)
        );
    }

    #[test]
    fn every_single_digit_change_is_caught() {
        let id = IdNumber::from_parts(410105, NaiveDate::from_ymd_opt(1990, 3, 7).unwrap(), 123);
        assert!(IdNumber::parse_on(id.as_str(), today()).is_ok());
        for pos in 0..17 {
            let mut b = id.as_str().as_bytes().to_vec();
            b[pos] = if b[pos] == b'9' { b'0' } else { b[pos] + 1 };
            let s = String::from_utf8(b).unwrap();
            assert!(IdNumber::parse_on(&s, today()).is_err(), "{s} accepted");
        }
    }

    #[test]
    fn credit_codes_round_trip_and_checks_bite() {
        let cc = CreditCode::from_parts("91", 410100, "MA3X5L2K").unwrap();
        assert_eq!(CreditCode::parse(&cc.as_str().to_lowercase()).unwrap(), cc);
        // A published code of a real company, to anchor the algorithm to the standard.
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
        let mut b = cc.as_str().as_bytes().to_vec();
        b[17] = if b[17] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            CreditCode::parse(std::str::from_utf8(&b).unwrap()),
            Err(IdError::Checksum)
        );
        assert_eq!(
            CreditCode::parse("91410100MA3X5L2KO0"),
            Err(IdError::Charset)
        );
        assert_eq!(CreditCode::parse("9141"), Err(IdError::Length));
    }

    #[test]
    fn phones_parse_and_mask() {
        let p = Phone::parse("+86 138-0013-8000").unwrap();
        assert_eq!(p.as_str(), "13800138000");
        assert_eq!(p.masked(), "138****8000");
        assert!(Phone::parse("12800138000").is_err());
        assert!(Phone::parse("1380013800").is_err());
        assert_eq!(format!("{p:?}"), "Phone(138****8000)");
    }

    #[test]
    fn masking_is_safe_on_short_input() {
        assert_eq!(mask_id_number("123"), "***");
        assert_eq!(mask_phone("12"), "**");
    }
}
