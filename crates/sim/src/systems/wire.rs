//! What the systems share on the wire: date styles, parameters and paging, cursors, XML, and
//! masking for logs.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use serde_json::Value;

use super::Spec;

/// How a system writes a date the registries keep as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dates {
    /// `2024-01-31`
    Iso,
    /// `20240131`
    Compact,
    /// `2024/01/31`
    Slash,
    /// Milliseconds since the Unix epoch at midnight, China Standard Time (UTC+8).
    EpochMillis,
}

/// China Standard Time, for dates given as instants.
const CST_OFFSET_MS: i64 = 8 * 3600 * 1000;

impl Dates {
    pub fn name(self) -> &'static str {
        match self {
            Dates::Iso => "iso (2024-01-31)",
            Dates::Compact => "compact (20240131)",
            Dates::Slash => "slash (2024/01/31)",
            Dates::EpochMillis => "epoch milliseconds at 00:00 UTC+8",
        }
    }

    pub fn text(self, iso: &str) -> String {
        match self {
            Dates::Iso => iso.to_string(),
            Dates::Compact => iso.replace('-', ""),
            Dates::Slash => iso.replace('-', "/"),
            Dates::EpochMillis => epoch_millis(iso).map_or_else(String::new, |m| m.to_string()),
        }
    }

    /// The date as a JSON value: a number for epoch milliseconds, else a string.
    pub fn json(self, iso: &str) -> Value {
        match self {
            Dates::EpochMillis => epoch_millis(iso).map_or(Value::Null, Value::from),
            _ => Value::from(self.text(iso)),
        }
    }

    pub fn json_opt(self, iso: Option<&str>) -> Value {
        iso.map_or(Value::Null, |d| self.json(d))
    }
}

fn epoch_millis(iso: &str) -> Option<i64> {
    let d = NaiveDate::parse_from_str(iso, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis() - CST_OFFSET_MS)
}

/// Cents as yuan with two decimals: `123456` → `"1234.56"`.
pub(crate) fn yuan(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

pub(crate) type Params = HashMap<String, String>;

/// The query string as names and values; an error when it is not form-encoded.
pub(crate) fn params(uri: &Uri) -> Result<Params, String> {
    Query::<Params>::try_from_uri(uri)
        .map(|Query(p)| p)
        .map_err(|e| format!("query string not understood: {e}"))
}

/// A whole number parameter within bounds, or its default when absent.
pub(crate) fn int_param(
    p: &Params,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, String> {
    match p.get(name).map(|s| s.trim()) {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("{name} must be a whole number from {min} to {max}")),
        },
    }
}

/// A resident ID number in its canonical form (upper-case check character).
pub(crate) fn id_number(s: &str) -> Result<String, String> {
    kernel::IdNumber::parse(s)
        .map(|id| id.as_str().to_string())
        .map_err(|e| format!("invalid ID number: {e}"))
}

pub(crate) fn credit_code(s: &str) -> Result<String, String> {
    kernel::CreditCode::parse(s)
        .map(|c| c.as_str().to_string())
        .map_err(|e| format!("invalid unified social credit code: {e}"))
}

/// A parameter that must be present and not blank.
pub(crate) fn required<'a>(p: &'a Params, name: &str) -> Result<&'a str, String> {
    p.get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{name} is required"))
}

const CURSOR_TAG: &str = "c1:";

/// An opaque cursor that resumes after `key`.
pub(crate) fn cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_TAG}{key}"))
}

/// The key a cursor resumes after; `None` for no cursor (the first page).
pub(crate) fn after(p: &Params, name: &str) -> Result<Option<String>, String> {
    let Some(c) = p.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix(CURSOR_TAG).map(str::to_string))
        .map(Some)
        .ok_or_else(|| format!("{name} is not a cursor this system issued"))
}

/// The answer for a database failure: logged here, the vendor's 500 to the client.
pub(crate) fn db_failed(spec: &Spec, e: sqlx::Error) -> Response {
    tracing::error!(system = spec.key, name = spec.name, error = %e, "registry query failed");
    (spec.error)(StatusCode::INTERNAL_SERVER_ERROR, "系统内部错误")
}

/// Writes XML by hand; every text goes through [`escape`].
pub(crate) struct Xml {
    out: String,
    open: Vec<&'static str>,
}

impl Xml {
    pub fn new() -> Xml {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            open: Vec::new(),
        }
    }

    pub fn open(&mut self, tag: &'static str) -> &mut Xml {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        self.open.push(tag);
        self
    }

    pub fn close(&mut self) -> &mut Xml {
        if let Some(tag) = self.open.pop() {
            self.out.push_str("</");
            self.out.push_str(tag);
            self.out.push('>');
        }
        self
    }

    pub fn leaf(&mut self, tag: &str, text: impl AsRef<str>) -> &mut Xml {
        let text = text.as_ref();
        if text.is_empty() {
            self.out.push('<');
            self.out.push_str(tag);
            self.out.push_str("/>");
            return self;
        }
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        escape(text, &mut self.out);
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    pub fn leaf_opt(&mut self, tag: &str, text: Option<&str>) -> &mut Xml {
        self.leaf(tag, text.unwrap_or(""))
    }

    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out.push('\n');
        self.out
    }
}

/// Escapes text for an XML element or attribute; drops characters XML 1.0 cannot carry.
pub(crate) fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

pub(crate) fn xml_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Masks every run of digits (and a trailing X) that could be an ID number or a phone
/// number, so request targets can be logged.
pub(crate) fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], 'X' | 'x')) {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        if run.len() >= 15 {
            out.push_str(&kernel::ids::mask_id_number(&run));
        } else if run.len() == 11 && run.starts_with('1') {
            out.push_str(&kernel::ids::mask_phone(&run));
        } else {
            out.push_str(&run);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_every_style() {
        assert_eq!(Dates::Iso.text("2024-01-31"), "2024-01-31");
        assert_eq!(Dates::Compact.text("2024-01-31"), "20240131");
        assert_eq!(Dates::Slash.text("2024-01-31"), "2024/01/31");
        // 2024-01-31T00:00+08:00 is 2024-01-30T16:00Z.
        assert_eq!(
            Dates::EpochMillis.json("2024-01-31"),
            Value::from(1_706_630_400_000i64)
        );
    }

    #[test]
    fn money_in_yuan() {
        assert_eq!(yuan(123456), "1234.56");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-250), "-2.50");
    }

    #[test]
    fn xml_is_escaped_and_balanced() {
        let mut x = Xml::new();
        x.open("a").leaf("b", "x<y & \"z\"\u{1}").leaf("c", "");
        let s = x.finish();
        assert!(
            s.ends_with("<a><b>x&lt;y &amp; &quot;z&quot;</b><c/></a>\n"),
            "{s}"
        );
    }

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let mut p = Params::new();
        p.insert("cursor".into(), cursor("ZZ2020-00000042"));
        assert_eq!(
            after(&p, "cursor").unwrap().as_deref(),
            Some("ZZ2020-00000042")
        );
        p.insert("cursor".into(), "bm90LWEtY3Vyc29y".into());
        assert!(after(&p, "cursor").is_err());
        assert_eq!(after(&Params::new(), "cursor").unwrap(), None);
    }

    #[test]
    fn identifiers_are_masked_in_log_targets() {
        let m = mask("/api/v1/persons/41010219900101123X?phone=13812345678&page=2");
        assert!(!m.contains("41010219900101123X"), "{m}");
        assert!(!m.contains("13812345678"), "{m}");
        assert!(m.contains("page=2"), "{m}");
        assert_eq!(mask("/schools/S4101020001"), "/schools/S4101020001");
    }
}
