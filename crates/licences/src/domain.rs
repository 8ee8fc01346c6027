//! Licences, their states, the signed content, the QR payload and the verdicts of
//! verification. Pure: no I/O.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use catalog::HolderKind;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::canonical::{public_fields, salted_digest, to_canonical};
use crate::ident::LicenceId;
use crate::sign::{Algorithm, PublicKey};

/// The version prefix of a QR payload.
pub const PAYLOAD_PREFIX: &str = "HBL1";

/// Who holds a licence: a person by ID number, a company by credit code.
#[derive(Clone, PartialEq, Eq)]
pub struct Holder {
    pub kind: HolderKind,
    /// The full ID number or credit code. Shown and logged only masked.
    pub number: String,
    pub name: String,
}

impl Holder {
    pub fn masked_number(&self) -> String {
        kernel::ids::mask_id_number(&self.number)
    }
}

impl fmt::Debug for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Holder({}, {}, {})",
            self.kind.as_str(),
            self.masked_number(),
            self.name
        )
    }
}

/// The stored state. `expired` and `not yet valid` are not states: they follow from the
/// validity period and the day of asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Valid,
    Revoked,
    Cancelled,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::Valid => "valid",
            State::Revoked => "revoked",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        match s {
            "valid" => Some(State::Valid),
            "revoked" => Some(State::Revoked),
            "cancelled" => Some(State::Cancelled),
            _ => None,
        }
    }
}

/// An issued licence, as stored.
#[derive(Debug, Clone)]
pub struct Licence {
    pub id: LicenceId,
    /// The licence type's code in the catalog.
    pub type_code: String,
    pub type_name: String,
    pub issuer: String,
    pub issuer_name: String,
    pub holder: Holder,
    pub issued_at: DateTime<Utc>,
    pub valid_from: NaiveDate,
    /// Inclusive; `None`: permanent.
    pub valid_until: Option<NaiveDate>,
    pub fields: BTreeMap<String, String>,
    /// Random per licence; never leaves the server.
    pub salt: String,
    pub kid: String,
    pub algorithm: Algorithm,
    pub signature: Vec<u8>,
    pub state: State,
    pub state_reason: Option<String>,
    pub state_changed_at: Option<DateTime<Utc>>,
    pub issued_by: String,
}

/// What is signed: everything in [`Licence`] but the signature and the state.
pub struct Content<'a> {
    pub id: &'a LicenceId,
    pub type_code: &'a str,
    pub type_name: &'a str,
    pub issuer: &'a str,
    pub issuer_name: &'a str,
    pub holder: &'a Holder,
    pub issued_at: DateTime<Utc>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub fields: &'a BTreeMap<String, String>,
    pub salt: &'a str,
    pub kid: &'a str,
    pub algorithm: Algorithm,
}

impl Content<'_> {
    /// The content as a JSON value (see `canonical` for the keys).
    pub fn to_value(&self) -> Value {
        let (shown, digests) = public_fields(self.salt, self.fields);
        let mut m = Map::new();
        m.insert("v".into(), json!(1));
        m.insert("id".into(), json!(self.id.as_str()));
        m.insert("t".into(), json!(self.type_code));
        m.insert("tn".into(), json!(self.type_name));
        m.insert("i".into(), json!(self.issuer));
        m.insert("in".into(), json!(self.issuer_name));
        m.insert(
            "h".into(),
            json!({
                "k": self.holder.kind.as_str(),
                "n": self.holder.name,
                "m": self.holder.masked_number(),
                "d": salted_digest(self.salt, "holder", &self.holder.number),
            }),
        );
        m.insert(
            "ia".into(),
            json!(self.issued_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        );
        m.insert("vf".into(), json!(self.valid_from.to_string()));
        if let Some(u) = self.valid_until {
            m.insert("vu".into(), json!(u.to_string()));
        }
        m.insert("f".into(), json!(shown));
        if !digests.is_empty() {
            m.insert("fd".into(), json!(digests));
        }
        m.insert("kid".into(), json!(self.kid));
        m.insert("alg".into(), json!(self.algorithm.as_str()));
        Value::Object(m)
    }

    /// The canonical bytes that are signed.
    pub fn canonical(&self) -> Vec<u8> {
        to_canonical(&self.to_value()).into_bytes()
    }
}

impl Licence {
    pub fn content(&self) -> Content<'_> {
        Content {
            id: &self.id,
            type_code: &self.type_code,
            type_name: &self.type_name,
            issuer: &self.issuer,
            issuer_name: &self.issuer_name,
            holder: &self.holder,
            issued_at: self.issued_at,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            fields: &self.fields,
            salt: &self.salt,
            kid: &self.kid,
            algorithm: self.algorithm,
        }
    }

    pub fn canonical(&self) -> Vec<u8> {
        self.content().canonical()
    }

    /// The QR payload: `HBL1.` base64url(canonical bytes) `.` base64url(signature).
    pub fn payload(&self) -> String {
        encode_payload(&self.canonical(), &self.signature)
    }

    /// The period's verdict on `today`, ignoring the stored state.
    pub fn period_on(&self, today: NaiveDate) -> Option<Verdict> {
        period_verdict(self.valid_from, self.valid_until, today)
    }
}

pub fn period_verdict(
    from: NaiveDate,
    until: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<Verdict> {
    if today < from {
        Some(Verdict::NotYetValid)
    } else if until.is_some_and(|u| today > u) {
        Some(Verdict::Expired)
    } else {
        None
    }
}

pub fn encode_payload(canonical: &[u8], signature: &[u8]) -> String {
    format!(
        "{PAYLOAD_PREFIX}.{}.{}",
        URL_SAFE_NO_PAD.encode(canonical),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A QR payload taken apart; the content parsed but not yet trusted.
#[derive(Debug, Clone)]
pub struct Presented {
    pub bytes: Vec<u8>,
    pub signature: Vec<u8>,
    pub content: Value,
}

impl Presented {
    pub fn str_of(&self, key: &str) -> Option<&str> {
        self.content.get(key).and_then(Value::as_str)
    }

    pub fn id(&self) -> Option<LicenceId> {
        self.str_of("id").and_then(|s| LicenceId::parse(s).ok())
    }

    pub fn kid(&self) -> Option<&str> {
        self.str_of("kid")
    }

    pub fn algorithm(&self) -> Option<Algorithm> {
        self.str_of("alg").and_then(Algorithm::parse)
    }

    fn date(&self, key: &str) -> Option<NaiveDate> {
        self.str_of(key).and_then(|s| s.parse().ok())
    }
}

/// Takes a payload apart. Accepts the payload itself or a URL ending in it (what a phone
/// reads from the QR code).
pub fn decode_payload(input: &str) -> Option<Presented> {
    let input = input.trim();
    let payload = match input.rfind('/') {
        Some(i) => &input[i + 1..],
        None => input,
    };
    let mut parts = payload.split('.');
    if parts.next()? != PAYLOAD_PREFIX {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    if parts.next().is_some() {
        return None;
    }
    let content: Value = serde_json::from_slice(&bytes).ok()?;
    if !content.is_object() || content.get("v") != Some(&json!(1)) {
        return None;
    }
    Some(Presented {
        bytes,
        signature,
        content,
    })
}

/// The answer of a verification: exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Genuine, in force and not revoked or cancelled.
    Valid,
    /// The signature is this licence's, but the content is not what was signed.
    Tampered,
    /// The content is the licence's, but the signature is not one of its key's.
    WrongSignature,
    /// No key with the given id.
    UnknownKey,
    Expired,
    NotYetValid,
    Revoked,
    Cancelled,
    /// A correctly signed payload of a licence the register does not hold.
    UnknownLicence,
    /// Not a licence payload at all.
    Malformed,
}

impl Verdict {
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Tampered => "tampered",
            Verdict::WrongSignature => "wrong_signature",
            Verdict::UnknownKey => "unknown_key",
            Verdict::Expired => "expired",
            Verdict::NotYetValid => "not_yet_valid",
            Verdict::Revoked => "revoked",
            Verdict::Cancelled => "cancelled",
            Verdict::UnknownLicence => "unknown_licence",
            Verdict::Malformed => "malformed",
        }
    }

    pub fn message(self) -> kernel::Msg {
        use kernel::Msg;
        match self {
            Verdict::Valid => Msg::new("证照真实有效", "Genuine and valid"),
            Verdict::Tampered => Msg::new(
                "证照内容已被篡改，与签名不符",
                "The content has been altered: it does not match its signature",
            ),
            Verdict::WrongSignature => Msg::new(
                "签名无效：不是签发机关的签名",
                "Wrong signature: not signed by the issuing authority",
            ),
            Verdict::UnknownKey => Msg::new(
                "签名密钥未知，无法确认签发机关",
                "Signed with an unknown key: the issuer cannot be confirmed",
            ),
            Verdict::Expired => Msg::new("证照已过有效期", "The licence has expired"),
            Verdict::NotYetValid => Msg::new("证照尚未生效", "The licence is not yet in force"),
            Verdict::Revoked => Msg::new("证照已被撤销", "The licence has been revoked"),
            Verdict::Cancelled => Msg::new("证照已注销", "The licence has been cancelled"),
            Verdict::UnknownLicence => {
                Msg::new("证照库中没有此证照", "The register holds no such licence")
            }
            Verdict::Malformed => Msg::new("无法识别的证照二维码", "Not a licence QR code"),
        }
    }

    pub fn is_valid(self) -> bool {
        self == Verdict::Valid
    }
}

/// Offline verification of a payload against known public keys: signature and validity
/// period only (revocation needs the register). A bad signature is reported as `Tampered`,
/// since without the register the two cannot be told apart.
pub fn verify_offline(
    input: &str,
    key: impl Fn(&str) -> Option<PublicKey>,
    today: NaiveDate,
) -> Verdict {
    let Some(p) = decode_payload(input) else {
        return Verdict::Malformed;
    };
    let (Some(kid), Some(alg)) = (p.kid(), p.algorithm()) else {
        return Verdict::Malformed;
    };
    let Some(public) = key(kid) else {
        return Verdict::UnknownKey;
    };
    if public.algorithm() != alg {
        return Verdict::WrongSignature;
    }
    if !public.verify(&p.bytes, &p.signature) {
        return Verdict::Tampered;
    }
    let Some(from) = p.date("vf") else {
        return Verdict::Malformed;
    };
    period_verdict(from, p.date("vu"), today).unwrap_or(Verdict::Valid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::issuer_code;
    use crate::sign::KeyPair;

    fn licence(key: &KeyPair) -> Licence {
        let mut fields = BTreeMap::new();
        fields.insert("person.name".into(), "张三".into());
        fields.insert("person.id_number".into(), "410105198506150011".into());
        fields.insert("spouse.name".into(), "李四".into());
        let mut l = Licence {
            id: LicenceId::new("1301", &issuer_code("410100-MZ"), 7, 1),
            type_code: "marriage_certificate".into(),
            type_name: "结婚证".into(),
            issuer: "410100-MZ".into(),
            issuer_name: "郑州市民政局".into(),
            holder: Holder {
                kind: HolderKind::Person,
                number: "410105198506150011".into(),
                name: "张三".into(),
            },
            issued_at: "2026-05-20T09:30:00Z".parse().unwrap(),
            valid_from: NaiveDate::from_ymd_opt(2026, 5, 20).unwrap(),
            valid_until: Some(NaiveDate::from_ymd_opt(2031, 5, 19).unwrap()),
            fields,
            salt: "00112233445566778899aabbccddeeff".into(),
            kid: key.kid.clone(),
            algorithm: key.algorithm(),
            signature: Vec::new(),
            state: State::Valid,
            state_reason: None,
            state_changed_at: None,
            issued_by: "test".into(),
        };
        l.signature = key.sign(&l.canonical());
        l
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_canonical_encoding_is_written_down_exactly() {
        let key = KeyPair::from_secret(Algorithm::Ed25519, "ed-test".into(), &[7u8; 32]).unwrap();
        let l = licence(&key);
        let text = String::from_utf8(l.canonical()).unwrap();
        let digest = salted_digest(&l.salt, "holder", "410105198506150011");
        let field_digest = salted_digest(&l.salt, "person.id_number", "410105198506150011");
        assert_eq!(
            text,
            format!(
                "{{\"alg\":\"Ed25519\",\"f\":{{\"person.id_number\":\"4101**********0011\",\"person.name\":\"张三\",\"spouse.name\":\"李四\"}},\"fd\":{{\"person.id_number\":\"{field_digest}\"}},\"h\":{{\"d\":\"{digest}\",\"k\":\"person\",\"m\":\"4101**********0011\",\"n\":\"张三\"}},\"i\":\"410100-MZ\",\"ia\":\"2026-05-20T09:30:00Z\",\"id\":\"{}\",\"in\":\"郑州市民政局\",\"kid\":\"ed-test\",\"t\":\"marriage_certificate\",\"tn\":\"结婚证\",\"v\":1,\"vf\":\"2026-05-20\",\"vu\":\"2031-05-19\"}}",
                l.id
            )
        );
        assert!(!text.contains("410105198506150011"), "no full ID number");
        assert!(!text.contains(&l.salt), "no salt");
    }

    #[test]
    fn payloads_round_trip_and_verify_offline() {
        for alg in [Algorithm::Ed25519, Algorithm::Sm2] {
            let key = KeyPair::generate(alg);
            let l = licence(&key);
            let payload = l.payload();
            assert!(payload.starts_with("HBL1."));
            let p = decode_payload(&format!("https://haoban.example/v/{payload}")).unwrap();
            assert_eq!(p.bytes, l.canonical());
            assert_eq!(p.id(), Some(l.id.clone()));
            let keys = |kid: &str| (kid == key.kid).then(|| key.public());
            let today = day(2027, 1, 1);
            assert_eq!(verify_offline(&payload, keys, today), Verdict::Valid);
            assert_eq!(
                verify_offline(&payload, keys, day(2031, 5, 19)),
                Verdict::Valid
            );
            assert_eq!(
                verify_offline(&payload, keys, day(2031, 5, 20)),
                Verdict::Expired
            );
            assert_eq!(
                verify_offline(&payload, keys, day(2026, 5, 19)),
                Verdict::NotYetValid
            );
            assert_eq!(
                verify_offline(&payload, |_| None, today),
                Verdict::UnknownKey
            );
            assert_eq!(verify_offline("HBL1.x.y", keys, today), Verdict::Malformed);
            assert_eq!(verify_offline("hello", keys, today), Verdict::Malformed);

            let mut changed = l.clone();
            changed.holder.name = "王五".into();
            let forged = encode_payload(&changed.canonical(), &l.signature);
            assert_eq!(verify_offline(&forged, keys, today), Verdict::Tampered);
        }
    }
}
