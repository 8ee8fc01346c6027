//! The canonical encoding of a licence: the exact bytes that are signed and that the QR code
//! carries.
//!
//! Canonical JSON: UTF-8; objects with their keys sorted by their UTF-8 bytes, at every
//! level; no whitespace; strings escaped as JSON requires and nothing more (`"` `\` and
//! control characters; no `\u` escapes of other characters); only strings, integers and
//! objects; absent values left out rather than `null`. The same licence always gives the same
//! bytes, and the bytes parse back to the same content.
//!
//! The content (short keys, to keep the QR code small):
//!
//! | key   | value |
//! |-------|-------|
//! | `v`   | 1, the version of this encoding |
//! | `id`  | the identifier (GB/T 36903 structure, see `ident`) |
//! | `t`   | licence type code in the catalog (`marriage_certificate`) |
//! | `tn`  | the type's Chinese name |
//! | `i`   | issuing department code; `in`: its name |
//! | `h`   | holder: `k` kind (`person`/`company`), `n` name, `m` masked ID number or credit code, `d` salted digest of the full number |
//! | `ia`  | issued at, RFC 3339 UTC to the second |
//! | `vf`  | valid from, `YYYY-MM-DD`; `vu`: valid until (inclusive), absent when permanent |
//! | `f`   | printed fields, element code to text; ID and phone numbers masked |
//! | `fd`  | for each masked field, the salted digest of its full value |
//! | `kid` | the signing key's id; `alg`: `Ed25519` or `SM2-SM3` |
//!
//! Digests are the first 16 bytes of SHA-256(salt ‖ 0x00 ‖ name ‖ 0x00 ‖ value), base64url
//! without padding. The salt is random per licence and stays on the server: with it, a
//! masked number's missing digits could be found by trying them all, so it is never put in
//! the QR code. The signature still covers the full numbers through their digests, so a
//! changed number in the database no longer matches its signature.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Writes `v` as canonical JSON.
pub fn to_canonical(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorted here whatever order the map keeps, so a serde_json feature elsewhere in
            // the build cannot change the bytes.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(&map[k], out);
            }
            out.push('}');
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether a printed field holds an ID or phone number, which the QR code shows masked.
pub fn is_sensitive_field(element: &str) -> bool {
    let last = element.rsplit('.').next().unwrap_or(element);
    last == "id_number"
        || last.ends_with("_id_number")
        || last == "phone"
        || last.ends_with("_phone")
}

/// The masked form of a sensitive field's value.
pub fn mask_field(element: &str, value: &str) -> String {
    let last = element.rsplit('.').next().unwrap_or(element);
    if last.ends_with("phone") {
        kernel::ids::mask_phone(value)
    } else {
        kernel::ids::mask_id_number(value)
    }
}

/// The salted digest of a full value (see the module documentation).
pub fn salted_digest(salt: &str, name: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(name.as_bytes());
    h.update([0]);
    h.update(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&h.finalize()[..16])
}

/// The printed fields as the QR code shows them, and the digests of the masked ones.
pub fn public_fields(
    salt: &str,
    fields: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut shown = BTreeMap::new();
    let mut digests = BTreeMap::new();
    for (k, v) in fields {
        if is_sensitive_field(k) {
            shown.insert(k.clone(), mask_field(k, v));
            digests.insert(k.clone(), salted_digest(salt, k, v));
        } else {
            shown.insert(k.clone(), v.clone());
        }
    }
    (shown, digests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_level_without_whitespace() {
        let v = json!({"b": 1, "a": {"z": "x", "m": "y"}, "A": "大写", "aa": [2, "q"]});
        assert_eq!(
            to_canonical(&v),
            r#"{"A":"大写","a":{"m":"y","z":"x"},"aa":[2,"q"],"b":1}"#
        );
    }

    #[test]
    fn strings_escape_only_what_json_requires() {
        let v = json!({"s": "引号\"反斜杠\\换行\n\u{1}é/"});
        assert_eq!(
            to_canonical(&v),
            "{\"s\":\"引号\\\"反斜杠\\\\换行\\n\\u0001é/\"}"
        );
        let back: Value = serde_json::from_str(&to_canonical(&v)).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn the_same_content_in_another_order_gives_the_same_bytes() {
        let a: Value = serde_json::from_str(r#"{"x":1,"y":{"b":"2","a":"1"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"y":{"a":"1","b":"2"},"x":1}"#).unwrap();
        assert_eq!(to_canonical(&a), to_canonical(&b));
    }

    #[test]
    fn sensitive_fields_are_masked_with_a_salted_digest() {
        assert!(is_sensitive_field("person.id_number"));
        assert!(is_sensitive_field("company.legal_rep_id_number"));
        assert!(is_sensitive_field("person.phone"));
        assert!(is_sensitive_field("company.contact_phone"));
        assert!(!is_sensitive_field("person.name"));
        let mut f = BTreeMap::new();
        f.insert(
            "person.id_number".to_string(),
            "410105198506150011".to_string(),
        );
        f.insert("person.name".to_string(), "张三".to_string());
        let (shown, digests) = public_fields("salt", &f);
        assert_eq!(shown["person.id_number"], "4101**********0011");
        assert_eq!(shown["person.name"], "张三");
        assert_eq!(digests.len(), 1);
        assert_eq!(digests["person.id_number"].len(), 22);
        let (_, other_salt) = public_fields("other", &f);
        assert_ne!(digests, other_salt);
    }
}
