//! The operations of the licence library: issue, verify, revoke and cancel, rotate keys, the
//! holder's list, shares and uses. Other contexts call these; the HTTP layer is thin over them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use catalog::{Catalog, HolderKind, LicenceType};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use kernel::{Db, FieldError, Msg};
use rand::RngCore;

use crate::domain::{Holder, Licence, State, Verdict, decode_payload};
use crate::ident::{LicenceId, issuer_code};
use crate::sign::{Algorithm, KeyPair, PublicKey};
use crate::store;

/// Longest text of a printed field.
const MAX_FIELD_CHARS: usize = 500;

/// What an issuer says about a new licence. The type's definition in the catalog decides the
/// issuer, the holder's kind, the default validity and which fields may be printed.
#[derive(Debug, Clone, Default)]
pub struct NewLicence {
    /// The licence type's code in the catalog (`marriage_certificate`).
    pub type_code: String,
    /// ID number for a person, credit code for a company.
    pub holder_number: String,
    pub holder_name: String,
    /// Printed fields by data element code; each must be one the type prints.
    pub fields: BTreeMap<String, String>,
    /// Default: the day of issue.
    pub valid_from: Option<NaiveDate>,
    /// Default: from the type's validity (the day before the anniversary); none when
    /// permanent.
    pub valid_until: Option<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("the licence is not acceptable")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The outcome of a verification: the verdict and, when the register holds it, the licence.
#[derive(Debug, Clone)]
pub struct Verification {
    pub verdict: Verdict,
    pub licence: Option<Licence>,
}

#[derive(Clone)]
pub struct Licences {
    db: Db,
    algorithm: Algorithm,
    /// Public keys by id. A kid never changes its key, so entries never go stale.
    keys: Arc<RwLock<HashMap<String, PublicKey>>>,
}

fn invalid(field: &str, code: &str, zh: &str, en: &str) -> FieldError {
    FieldError::new(field, code, Msg::owned(zh, en))
}

/// `from` plus `years`, less a day: a five-year licence from 2026-05-20 runs to 2031-05-19.
pub fn until_after(from: NaiveDate, years: u32) -> NaiveDate {
    let year = from.year() + i32::try_from(years).unwrap_or(100);
    let anniversary = from
        .with_year(year)
        // 29 February in a year without one: the anniversary is 1 March.
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        .unwrap_or(from);
    anniversary - Duration::days(1)
}

/// The holder kind and number of a signed-in account; `None` for staff.
pub fn holder_of(account: &identity::Account) -> Option<(HolderKind, String)> {
    match &account.holder {
        identity::Holder::Citizen { id_number } => {
            Some((HolderKind::Person, id_number.as_str().to_string()))
        }
        identity::Holder::Company { credit_code } => {
            Some((HolderKind::Company, credit_code.as_str().to_string()))
        }
        identity::Holder::Staff { .. } => None,
    }
}

/// A checked licence, numbered and signed.
fn build(
    catalog: &Catalog,
    new: &NewLicence,
    (t, holder, valid_from, valid_until): (&LicenceType, Holder, NaiveDate, Option<NaiveDate>),
    serial: u64,
    key: &KeyPair,
    now: DateTime<Utc>,
    issued_by: &str,
) -> Licence {
    let issuer = issuer_code(&t.issuer);
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let mut licence = Licence {
        id: LicenceId::new(&t.type_code, &issuer, serial, 1),
        type_code: t.code.clone(),
        type_name: t.name.clone(),
        issuer: t.issuer.clone(),
        issuer_name: catalog
            .department(&t.issuer)
            .map_or_else(|| t.issuer.clone(), |d| d.name.clone()),
        holder,
        // To the second, as the canonical encoding has it.
        issued_at: DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now),
        valid_from,
        valid_until,
        fields: new
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.trim().to_string()))
            .collect(),
        salt: hex::encode(salt),
        kid: key.kid.clone(),
        algorithm: key.algorithm(),
        signature: Vec::new(),
        state: State::Valid,
        state_reason: None,
        state_changed_at: None,
        issued_by: issued_by.to_string(),
    };
    licence.signature = key.sign(&licence.canonical());
    licence
}

impl Licences {
    /// Signs with Ed25519.
    pub fn new(db: Db) -> Licences {
        Licences::with_algorithm(db, Algorithm::Ed25519)
    }

    pub fn with_algorithm(db: Db, algorithm: Algorithm) -> Licences {
        Licences {
            db,
            algorithm,
            keys: Arc::new(RwLock::new(HashMap::new())),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The active signing key, made on first use.
    async fn signing_key(&self) -> Result<KeyPair, sqlx::Error> {
        if let Some(k) = store::active_key(&self.db, self.algorithm).await? {
            return Ok(k);
        }
        let k = KeyPair::generate(self.algorithm);
        store::insert_key(&self.db, &k, Utc::now()).await?;
        tracing::info!(kid = %k.kid, algorithm = %k.algorithm(), "first licence signing key made");
        // Another instance may have made one at the same moment: both verify, the newest signs.
        Ok(store::active_key(&self.db, self.algorithm)
            .await?
            .unwrap_or(k))
    }

    /// Retires the active key of `alg` and makes a new one; licences signed by any older key
    /// still verify.
    pub async fn rotate(&self, alg: Algorithm) -> Result<store::KeyInfo, sqlx::Error> {
        let k = KeyPair::generate(alg);
        let now = Utc::now();
        store::rotate_to(&self.db, &k, now).await?;
        tracing::info!(kid = %k.kid, algorithm = %alg, "licence signing key rotated");
        Ok(store::keys(&self.db)
            .await?
            .into_iter()
            .find(|i| i.kid == k.kid)
            .expect("the new key is stored"))
    }

    /// Every key's public half, for offline verifiers.
    pub async fn keys(&self) -> Result<Vec<store::KeyInfo>, sqlx::Error> {
        store::keys(&self.db).await
    }

    pub async fn public_key(&self, kid: &str) -> Result<Option<PublicKey>, sqlx::Error> {
        if let Some(k) = self.keys.read().expect("key cache").get(kid) {
            return Ok(Some(k.clone()));
        }
        let k = store::public_key(&self.db, kid).await?;
        if let Some(k) = &k {
            self.keys
                .write()
                .expect("key cache")
                .insert(kid.to_string(), k.clone());
        }
        Ok(k)
    }

    /// Checks a new licence against its type; every problem at once.
    pub fn check<'c>(
        catalog: &'c Catalog,
        new: &NewLicence,
        today: NaiveDate,
    ) -> Result<(&'c LicenceType, Holder, NaiveDate, Option<NaiveDate>), Vec<FieldError>> {
        let mut errors = Vec::new();
        let Some(t) = catalog.licence_type(new.type_code.trim()) else {
            return Err(vec![invalid(
                "type",
                "unknown_licence_type",
                "没有这种证照类型",
                "no such licence type",
            )]);
        };
        let number = match t.holder {
            HolderKind::Person => kernel::IdNumber::parse(&new.holder_number)
                .map(|n| n.as_str().to_string())
                .map_err(|e| {
                    FieldError::new(
                        "holder_number",
                        e.code(),
                        kernel::ids::id_number_error_message(e),
                    )
                }),
            HolderKind::Company => kernel::CreditCode::parse(&new.holder_number)
                .map(|n| n.as_str().to_string())
                .map_err(|e| {
                    FieldError::new(
                        "holder_number",
                        e.code(),
                        kernel::ids::credit_code_error_message(e),
                    )
                }),
        };
        let number = number.map_err(|e| errors.push(e)).unwrap_or_default();
        let name = new.holder_name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(invalid(
                "holder_name",
                "bad_name",
                "请填写持证人名称（不超过100字）",
                "enter the holder's name (at most 100 characters)",
            ));
        }
        for (k, v) in &new.fields {
            let path = format!("fields.{k}");
            if !t.elements.iter().any(|e| e == k) {
                errors.push(FieldError::new(
                    &path,
                    "not_printed",
                    Msg::owned(
                        format!("{}不印制“{k}”", t.name),
                        format!(
                            "a {} does not print \"{k}\"",
                            t.name_en.as_deref().unwrap_or(&t.name)
                        ),
                    ),
                ));
            } else if v.trim().is_empty() || v.chars().count() > MAX_FIELD_CHARS {
                errors.push(invalid(
                    &path,
                    "bad_value",
                    "证面内容不能为空，且不超过500字",
                    "a printed field must not be empty and has at most 500 characters",
                ));
            }
        }
        let from = new.valid_from.unwrap_or(today);
        let until = new
            .valid_until
            .or_else(|| t.validity_years.map(|y| until_after(from, y)));
        if until.is_some_and(|u| u < from) {
            errors.push(invalid(
                "valid_until",
                "before_valid_from",
                "有效期截止日不能早于起始日",
                "the licence cannot end before it starts",
            ));
        }
        if errors.is_empty() {
            let holder = Holder {
                kind: t.holder,
                number,
                name,
            };
            Ok((t, holder, from, until))
        } else {
            Err(errors)
        }
    }

    /// Issues and signs a licence. `issued_by` is recorded: an account id, `import` or the
    /// context that issued it.
    pub async fn issue(
        &self,
        catalog: &Catalog,
        new: &NewLicence,
        issued_by: &str,
    ) -> Result<Licence, IssueError> {
        let now = Utc::now();
        let checked =
            Licences::check(catalog, new, now.date_naive()).map_err(IssueError::Invalid)?;
        let key = self.signing_key().await?;
        let issuer = issuer_code(&checked.0.issuer);
        let serial = store::next_serial(&self.db, &checked.0.type_code, issuer.as_str()).await?;
        let licence = build(catalog, new, checked, serial, &key, now, issued_by);
        store::insert(&self.db, &licence).await?;
        tracing::info!(
            licence = %licence.id,
            r#type = %licence.type_code,
            holder = %licence.holder.masked_number(),
            kid = %licence.kid,
            "licence issued"
        );
        Ok(licence)
    }

    /// Issues many licences in one transaction: all of the acceptable ones are stored, or
    /// none. Answers, in the order given, each licence or why it is not acceptable.
    ///
    /// Serial numbers are taken in the same transaction, so a failure gives none away; the
    /// counters are locked in key order, so concurrent batches cannot deadlock.
    pub async fn issue_many(
        &self,
        catalog: &Catalog,
        news: &[NewLicence],
        issued_by: &str,
    ) -> Result<Vec<Result<Licence, Vec<FieldError>>>, sqlx::Error> {
        let now = Utc::now();
        let mut out: Vec<Option<Result<Licence, Vec<FieldError>>>> = Vec::new();
        let mut good = Vec::new();
        let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (i, new) in news.iter().enumerate() {
            match Licences::check(catalog, new, now.date_naive()) {
                Ok(c) => {
                    let group = (
                        c.0.type_code.clone(),
                        issuer_code(&c.0.issuer).as_str().to_string(),
                    );
                    *counts.entry(group.clone()).or_default() += 1;
                    good.push((i, group, c));
                    out.push(None);
                }
                Err(e) => out.push(Some(Err(e))),
            }
        }
        if !good.is_empty() {
            let key = self.signing_key().await?;
            let positions: Vec<usize> = good.iter().map(|(i, ..)| *i).collect();
            let made = store::insert_numbered(&self.db, &counts, |firsts| {
                let mut next = firsts.clone();
                good.into_iter()
                    .map(|(i, group, c)| {
                        let serial = next.get_mut(&group).expect("a serial for every group");
                        let l = build(catalog, &news[i], c, *serial, &key, now, issued_by);
                        *serial += 1;
                        l
                    })
                    .collect()
            })
            .await?;
            tracing::info!(
                issued = made.len(),
                kid = %key.kid,
                by = issued_by,
                "licences issued in one transaction"
            );
            for (i, l) in positions.into_iter().zip(made) {
                out[i] = Some(Ok(l));
            }
        }
        Ok(out
            .into_iter()
            .map(|r| r.expect("every licence answered"))
            .collect())
    }

    pub async fn get(&self, id: &str) -> Result<Option<Licence>, sqlx::Error> {
        let Ok(id) = LicenceId::parse(id) else {
            return Ok(None);
        };
        store::get(&self.db, id.as_str()).await
    }

    /// A licence only if `holder` holds it; someone else's is `None`, as if there were none.
    pub async fn get_of_holder(
        &self,
        id: &str,
        kind: HolderKind,
        number: &str,
    ) -> Result<Option<Licence>, sqlx::Error> {
        Ok(self
            .get(id)
            .await?
            .filter(|l| l.holder.kind == kind && l.holder.number == number))
    }

    /// A holder's licences, the newest first.
    pub async fn list_for_holder(
        &self,
        kind: HolderKind,
        number: &str,
    ) -> Result<Vec<Licence>, sqlx::Error> {
        store::of_holder(&self.db, kind, number).await
    }

    /// Revokes (撤销) a valid licence. False when it is not valid or not there.
    pub async fn revoke(&self, id: &str, reason: &str, by: &str) -> Result<bool, sqlx::Error> {
        self.set_state(id, State::Revoked, reason, by).await
    }

    /// Cancels (注销) a valid licence. False when it is not valid or not there.
    pub async fn cancel(&self, id: &str, reason: &str, by: &str) -> Result<bool, sqlx::Error> {
        self.set_state(id, State::Cancelled, reason, by).await
    }

    async fn set_state(
        &self,
        id: &str,
        state: State,
        reason: &str,
        by: &str,
    ) -> Result<bool, sqlx::Error> {
        let done = store::set_state(&self.db, id, state, reason.trim(), Utc::now()).await?;
        if done {
            tracing::info!(licence = %id, state = state.code(), by, "licence state changed");
        }
        Ok(done)
    }

    /// Whether a stored licence still matches its signature, by its key.
    async fn record_verdict(&self, l: &Licence) -> Result<Option<Verdict>, sqlx::Error> {
        let Some(key) = self.public_key(&l.kid).await? else {
            return Ok(Some(Verdict::UnknownKey));
        };
        if key.algorithm() != l.algorithm || !key.verify(&l.canonical(), &l.signature) {
            return Ok(Some(Verdict::Tampered));
        }
        Ok(None)
    }

    fn standing(l: &Licence, today: NaiveDate) -> Verdict {
        match l.state {
            State::Revoked => Verdict::Revoked,
            State::Cancelled => Verdict::Cancelled,
            State::Valid => l.period_on(today).unwrap_or(Verdict::Valid),
        }
    }

    /// Verifies a QR payload (or the URL carrying it) against the register: the signature,
    /// the register's copy, revocation and the validity period.
    pub async fn verify_payload(
        &self,
        input: &str,
        today: NaiveDate,
    ) -> Result<Verification, sqlx::Error> {
        let none = |verdict| Verification {
            verdict,
            licence: None,
        };
        let Some(p) = decode_payload(input) else {
            return Ok(none(Verdict::Malformed));
        };
        let (Some(kid), Some(alg)) = (p.kid(), p.algorithm()) else {
            return Ok(none(Verdict::Malformed));
        };
        let Some(key) = self.public_key(kid).await? else {
            return Ok(none(Verdict::UnknownKey));
        };
        let stored = match p.id() {
            Some(id) => store::get(&self.db, id.as_str()).await?,
            None => None,
        };
        let genuine = key.algorithm() == alg && key.verify(&p.bytes, &p.signature);
        let Some(stored) = stored else {
            let verdict = if genuine {
                Verdict::UnknownLicence
            } else {
                Verdict::WrongSignature
            };
            return Ok(none(verdict));
        };
        let verdict = if !genuine {
            // The register's copy tells which half was changed.
            if stored.canonical() == p.bytes {
                Verdict::WrongSignature
            } else {
                Verdict::Tampered
            }
        } else if stored.canonical() != p.bytes {
            // A genuine payload whose register copy no longer matches it.
            Verdict::Tampered
        } else if stored.signature != p.signature
            && let Some(v) = self.record_verdict(&stored).await?
        {
            // Same content, another signature: the register's own must hold too.
            v
        } else {
            Licences::standing(&stored, today)
        };
        Ok(Verification {
            verdict,
            licence: Some(stored),
        })
    }

    /// Verifies a licence of the register by its identifier.
    pub async fn verify_id(
        &self,
        id: &str,
        today: NaiveDate,
    ) -> Result<Option<Verification>, sqlx::Error> {
        let Some(l) = self.get(id).await? else {
            return Ok(None);
        };
        let verdict = match self.record_verdict(&l).await? {
            Some(v) => v,
            None => Licences::standing(&l, today),
        };
        Ok(Some(Verification {
            verdict,
            licence: Some(l),
        }))
    }

    /// Makes a share link for the holder's licence, valid for `hours`; answers the token
    /// (shown once, stored as a digest) and when it expires.
    pub async fn share(
        &self,
        licence: &Licence,
        hours: i64,
    ) -> Result<(String, DateTime<Utc>), sqlx::Error> {
        let token = kernel::secret::new_token("hls_");
        let now = Utc::now();
        let expires = now + Duration::hours(hours.clamp(1, 24 * 30));
        store::insert_share(
            &self.db,
            &kernel::secret::digest(&token),
            licence.id.as_str(),
            expires,
            now,
        )
        .await?;
        Ok((token, expires))
    }

    /// The licence a share token opens, while it has not expired.
    pub async fn open_share(
        &self,
        token: &str,
    ) -> Result<Option<(Licence, DateTime<Utc>)>, sqlx::Error> {
        let digest = kernel::secret::digest(token);
        let Some((id, expires)) = store::share(&self.db, &digest, Utc::now()).await? else {
            return Ok(None);
        };
        Ok(store::get(&self.db, &id).await?.map(|l| (l, expires)))
    }

    /// Records that `used_by` used a licence through a share link for `purpose`.
    pub async fn record_use(
        &self,
        licence: &Licence,
        token: &str,
        used_by: &str,
        purpose: &str,
    ) -> Result<(), sqlx::Error> {
        let digest = kernel::secret::digest(token);
        store::insert_use(
            &self.db,
            licence.id.as_str(),
            Some(&digest),
            used_by.trim(),
            purpose.trim(),
            Utc::now(),
        )
        .await
    }

    pub async fn uses(&self, licence: &Licence) -> Result<Vec<store::Use>, sqlx::Error> {
        store::uses(&self.db, licence.id.as_str()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_runs_to_the_day_before_the_anniversary() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(until_after(d(2026, 5, 20), 5), d(2031, 5, 19));
        assert_eq!(until_after(d(2024, 2, 29), 1), d(2025, 2, 28));
        assert_eq!(until_after(d(2026, 1, 1), 1), d(2026, 12, 31));
    }
}
