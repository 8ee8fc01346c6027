//! Turning a department system's answer into values of data elements: JSON or XML into one
//! tree, paths into it, and the transforms a connector names (dates, code maps, scales,
//! aggregates over lists). Pure: no I/O, so every vendor quirk is unit-tested.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone};
use serde_json::{Map, Value};

/// XML as the same tree JSON gives: an element with children is an object of its children
/// (a repeated name becomes an array), an element with only text is its text, an empty
/// element is null. The root element itself is the top object.
pub fn xml_to_value(text: &str) -> Result<Value, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| e.to_string())?;
    Ok(element(doc.root_element()))
}

fn element(node: roxmltree::Node) -> Value {
    let children: Vec<roxmltree::Node> = node.children().filter(|c| c.is_element()).collect();
    if children.is_empty() {
        let text: String = node
            .children()
            .filter(|c| c.is_text())
            .filter_map(|c| c.text())
            .collect();
        let text = text.trim();
        return if text.is_empty() {
            Value::Null
        } else {
            Value::String(text.to_string())
        };
    }
    let mut map = Map::new();
    for c in children {
        let name = c.tag_name().name().to_string();
        let v = element(c);
        match map.get_mut(&name) {
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                map.insert(name, v);
            }
        }
    }
    Value::Object(map)
}

/// The value at a dotted path (`data.items.0.name`); numbers index arrays. An empty path is
/// the value itself.
pub fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(v);
    }
    let mut cur = v;
    for part in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A list at a path: an array as it is, a single object (XML's one-element list) as a list of
/// one, null or absent as empty.
pub fn list_at(v: &Value, path: &str) -> Vec<Value> {
    match at(v, path) {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

/// Text of a scalar, for comparisons and maps: strings as they are, numbers and booleans
/// printed.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// How a source writes dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateFormat {
    /// A chrono format such as `%Y%m%d`.
    Pattern(String),
    /// Milliseconds since the epoch, at midnight China Standard Time of the day.
    EpochMillis,
}

/// A source's date as a calendar day.
pub fn parse_date(v: &Value, format: &DateFormat) -> Option<NaiveDate> {
    match format {
        DateFormat::EpochMillis => {
            let ms = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))?;
            let t: DateTime<FixedOffset> = kernel::calendar::china_time()
                .timestamp_millis_opt(ms)
                .single()?;
            Some(t.date_naive())
        }
        DateFormat::Pattern(p) => NaiveDate::parse_from_str(v.as_str()?.trim(), p).ok(),
    }
}

/// Whole years from `born` to `today`.
pub fn age_on(born: NaiveDate, today: NaiveDate) -> i64 {
    let mut years = i64::from(today.year() - born.year());
    if (today.month(), today.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years
}

/// A number from a JSON number or a decimal string ("121921.24").
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('%').parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn xml_becomes_the_json_shape() {
        let x = r#"<?xml version="1.0" encoding="UTF-8"?>
<root><head><retcode>000000</retcode></head><body><zhsl>2</zhsl><list>
<grzhxx><grzh>1</grzh><grzhye>10.50</grzhye></grzhxx>
<grzhxx><grzh>2</grzh><grzhye></grzhye></grzhxx></list></body></root>"#;
        let v = xml_to_value(x).unwrap();
        assert_eq!(at(&v, "head.retcode"), Some(&json!("000000")));
        assert_eq!(list_at(&v, "body.list.grzhxx").len(), 2);
        assert_eq!(at(&v, "body.list.grzhxx.1.grzhye"), Some(&Value::Null));
        let one = xml_to_value("<r><list><a><b>x</b></a></list></r>").unwrap();
        assert_eq!(list_at(&one, "list.a"), vec![json!({"b": "x"})]);
        assert!(xml_to_value("<r><unclosed></r>").is_err());
    }

    #[test]
    fn paths_and_lists() {
        let v = json!({"data": {"items": [{"n": 1}, {"n": 2}]}, "empty": null});
        assert_eq!(at(&v, "data.items.1.n"), Some(&json!(2)));
        assert_eq!(at(&v, "data.items.9.n"), None);
        assert_eq!(list_at(&v, "empty"), Vec::<Value>::new());
        assert_eq!(list_at(&v, "missing"), Vec::<Value>::new());
    }

    #[test]
    fn dates_of_every_vendor() {
        let day = NaiveDate::from_ymd_opt(2017, 11, 12).unwrap();
        let iso = DateFormat::Pattern("%Y-%m-%d".into());
        let compact = DateFormat::Pattern("%Y%m%d".into());
        let slashed = DateFormat::Pattern("%Y/%m/%d".into());
        assert_eq!(parse_date(&json!("2017-11-12"), &iso), Some(day));
        assert_eq!(parse_date(&json!("20171112"), &compact), Some(day));
        assert_eq!(parse_date(&json!("2017/11/12"), &slashed), Some(day));
        // Midnight in Beijing is the previous day in UTC: still the 12th.
        assert_eq!(
            parse_date(&json!(1510416000000i64), &DateFormat::EpochMillis),
            Some(day)
        );
        assert_eq!(parse_date(&json!("2017-13-40"), &iso), None);
    }

    #[test]
    fn ages_count_whole_years() {
        let born = NaiveDate::from_ymd_opt(1990, 8, 31).unwrap();
        assert_eq!(
            age_on(born, NaiveDate::from_ymd_opt(2026, 8, 30).unwrap()),
            35
        );
        assert_eq!(
            age_on(born, NaiveDate::from_ymd_opt(2026, 8, 31).unwrap()),
            36
        );
    }
}
