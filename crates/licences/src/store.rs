//! Every SQL statement of the licences context, for both engines.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use catalog::HolderKind;
use chrono::{DateTime, Utc};
use kernel::{Db, with_db};
use sqlx::FromRow;

use crate::domain::{Holder, Licence, State};
use crate::ident::LicenceId;
use crate::sign::{Algorithm, KeyPair, PublicKey};

pub static MIGRATIONS: kernel::db::MigrationSet =
    kernel::migrations!("licences", [(1, "0001_licences")]);

// ------------------------------------------------------------------ keys

/// A key as listed: never with its private half.
#[derive(Debug, Clone, serde::Serialize, FromRow, utoipa::ToSchema)]
pub struct KeyInfo {
    pub kid: String,
    pub algorithm: String,
    /// Base64url of the public key.
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

pub async fn insert_key(db: &Db, key: &KeyPair, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO licence_keys (kid, algorithm, public_key, private_key, created_at) \
               VALUES ($1, $2, $3, $4, $5)";
    let public = URL_SAFE_NO_PAD.encode(key.public().to_bytes());
    let private = URL_SAFE_NO_PAD.encode(key.secret_bytes());
    with_db!(db, pool => sqlx::query(sql)
        .bind(&key.kid).bind(key.algorithm().as_str()).bind(public).bind(private).bind(now)
        .execute(pool).await.map(|_| ()))
}

/// Makes `key` the only active key of its algorithm, in one transaction.
pub async fn rotate_to(db: &Db, key: &KeyPair, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let public = URL_SAFE_NO_PAD.encode(key.public().to_bytes());
    let private = URL_SAFE_NO_PAD.encode(key.secret_bytes());
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        // The write comes first, so SQLite takes its write lock at once.
        sqlx::query("UPDATE licence_keys SET retired_at = $1 WHERE algorithm = $2 AND retired_at IS NULL")
            .bind(now).bind(key.algorithm().as_str())
            .execute(&mut *tx).await?;
        sqlx::query("INSERT INTO licence_keys (kid, algorithm, public_key, private_key, created_at) \
                     VALUES ($1, $2, $3, $4, $5)")
            .bind(&key.kid).bind(key.algorithm().as_str()).bind(public).bind(private).bind(now)
            .execute(&mut *tx).await?;
        tx.commit().await
    }.await)
}

/// The active key of an algorithm, with its private half, for signing.
pub async fn active_key(db: &Db, alg: Algorithm) -> Result<Option<KeyPair>, sqlx::Error> {
    let sql = "SELECT kid, private_key FROM licence_keys WHERE algorithm = $1 AND retired_at IS NULL \
               ORDER BY created_at DESC, kid LIMIT 1";
    let row: Option<(String, String)> = with_db!(db, pool => sqlx::query_as(sql)
        .bind(alg.as_str()).fetch_optional(pool).await)?;
    Ok(row.and_then(|(kid, private)| {
        let bytes = URL_SAFE_NO_PAD.decode(private).ok()?;
        KeyPair::from_secret(alg, kid, &bytes).ok()
    }))
}

/// The public key of `kid`, active or retired.
pub async fn public_key(db: &Db, kid: &str) -> Result<Option<PublicKey>, sqlx::Error> {
    let sql = "SELECT algorithm, public_key FROM licence_keys WHERE kid = $1";
    let row: Option<(String, String)> = with_db!(db, pool => sqlx::query_as(sql)
        .bind(kid).fetch_optional(pool).await)?;
    Ok(row.and_then(|(alg, public)| {
        let alg = Algorithm::parse(&alg)?;
        PublicKey::from_bytes(alg, &URL_SAFE_NO_PAD.decode(public).ok()?).ok()
    }))
}

pub async fn keys(db: &Db) -> Result<Vec<KeyInfo>, sqlx::Error> {
    let sql = "SELECT kid, algorithm, public_key, created_at, retired_at FROM licence_keys \
               ORDER BY created_at, kid";
    with_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)
}

// --------------------------------------------------------------- serials

/// Takes the next serial number of a type at an issuer.
pub async fn next_serial(db: &Db, type_code: &str, issuer: &str) -> Result<u64, sqlx::Error> {
    let n: (i64,) = with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO licence_serials (type_code, issuer_code, next_serial) \
                     VALUES ($1, $2, 1) ON CONFLICT (type_code, issuer_code) DO NOTHING")
            .bind(type_code).bind(issuer).execute(&mut *tx).await?;
        let n: (i64,) = sqlx::query_as("UPDATE licence_serials SET next_serial = next_serial + 1 \
                     WHERE type_code = $1 AND issuer_code = $2 RETURNING next_serial - 1")
            .bind(type_code).bind(issuer).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(n)
    }.await)?;
    Ok(u64::try_from(n.0).unwrap_or(0))
}

// --------------------------------------------------------------- licences

#[derive(FromRow)]
struct Row {
    id: String,
    type_code: String,
    type_name: String,
    issuer: String,
    issuer_name: String,
    holder_kind: String,
    holder_number: String,
    holder_name: String,
    issued_at: DateTime<Utc>,
    valid_from: String,
    valid_until: Option<String>,
    fields: String,
    salt: String,
    kid: String,
    algorithm: String,
    signature: String,
    state: String,
    state_reason: Option<String>,
    state_changed_at: Option<DateTime<Utc>>,
    issued_by: String,
}

const COLUMNS: &str = "id, type_code, type_name, issuer, issuer_name, holder_kind, holder_number, \
     holder_name, issued_at, valid_from, valid_until, fields, salt, kid, algorithm, signature, \
     state, state_reason, state_changed_at, issued_by";

impl Row {
    /// `None` for a row this version cannot read.
    fn into_licence(self) -> Option<Licence> {
        Some(Licence {
            // Read as stored: a row changed behind our back must still be read, so that
            // verification can say it no longer matches its signature.
            id: LicenceId::parse(&self.id).ok()?,
            type_code: self.type_code,
            type_name: self.type_name,
            issuer: self.issuer,
            issuer_name: self.issuer_name,
            holder: Holder {
                kind: HolderKind::parse(&self.holder_kind)?,
                number: self.holder_number,
                name: self.holder_name,
            },
            issued_at: self.issued_at,
            valid_from: self.valid_from.parse().ok()?,
            valid_until: match self.valid_until {
                Some(u) => Some(u.parse().ok()?),
                None => None,
            },
            fields: serde_json::from_str(&self.fields).ok()?,
            salt: self.salt,
            kid: self.kid,
            algorithm: Algorithm::parse(&self.algorithm)?,
            signature: URL_SAFE_NO_PAD.decode(self.signature).ok()?,
            state: State::parse(&self.state)?,
            state_reason: self.state_reason,
            state_changed_at: self.state_changed_at,
            issued_by: self.issued_by,
        })
    }
}

pub async fn insert(db: &Db, l: &Licence) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO licences ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    );
    let fields = serde_json::to_string(&l.fields).expect("fields serialise");
    with_db!(db, pool => sqlx::query(&sql)
        .bind(l.id.as_str())
        .bind(&l.type_code)
        .bind(&l.type_name)
        .bind(&l.issuer)
        .bind(&l.issuer_name)
        .bind(l.holder.kind.as_str())
        .bind(&l.holder.number)
        .bind(&l.holder.name)
        .bind(l.issued_at)
        .bind(l.valid_from.to_string())
        .bind(l.valid_until.map(|u| u.to_string()))
        .bind(fields)
        .bind(&l.salt)
        .bind(&l.kid)
        .bind(l.algorithm.as_str())
        .bind(URL_SAFE_NO_PAD.encode(&l.signature))
        .bind(l.state.code())
        .bind(&l.state_reason)
        .bind(l.state_changed_at)
        .bind(&l.issued_by)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Rows per INSERT statement: well under either engine's limit of bound parameters.
const ROWS_PER_STATEMENT: usize = 100;

/// Reserves `counts` serial numbers per (type, issuer), has `make` number and sign the
/// licences from the first serial of each, and stores them, all in one transaction.
///
/// The counters stay locked until the commit, so another issuer waits rather than taking
/// the same numbers, and a rollback returns the numbers unused. They are locked in key
/// order, so two batches cannot deadlock.
pub async fn insert_numbered<F>(
    db: &Db,
    counts: &BTreeMap<(String, String), u64>,
    make: F,
) -> Result<Vec<Licence>, sqlx::Error>
where
    F: FnOnce(&BTreeMap<(String, String), u64>) -> Vec<Licence>,
{
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let mut firsts = BTreeMap::new();
        for ((type_code, issuer), n) in counts {
            let n = i64::try_from(*n).unwrap_or(i64::MAX);
            sqlx::query("INSERT INTO licence_serials (type_code, issuer_code, next_serial) \
                         VALUES ($1, $2, 1) ON CONFLICT (type_code, issuer_code) DO NOTHING")
                .bind(type_code).bind(issuer).execute(&mut *tx).await?;
            let first: (i64,) = sqlx::query_as("UPDATE licence_serials SET next_serial = next_serial + $3 \
                         WHERE type_code = $1 AND issuer_code = $2 RETURNING next_serial - $3")
                .bind(type_code).bind(issuer).bind(n).fetch_one(&mut *tx).await?;
            firsts.insert((type_code.clone(), issuer.clone()), u64::try_from(first.0).unwrap_or(0));
        }
        let licences = make(&firsts);
        for chunk in licences.chunks(ROWS_PER_STATEMENT) {
            let mut q = sqlx::QueryBuilder::new(format!("INSERT INTO licences ({COLUMNS}) "));
            q.push_values(chunk, |mut b, l| {
                b.push_bind(l.id.as_str())
                    .push_bind(&l.type_code)
                    .push_bind(&l.type_name)
                    .push_bind(&l.issuer)
                    .push_bind(&l.issuer_name)
                    .push_bind(l.holder.kind.as_str())
                    .push_bind(&l.holder.number)
                    .push_bind(&l.holder.name)
                    .push_bind(l.issued_at)
                    .push_bind(l.valid_from.to_string())
                    .push_bind(l.valid_until.map(|u| u.to_string()))
                    .push_bind(serde_json::to_string(&l.fields).expect("fields serialise"))
                    .push_bind(&l.salt)
                    .push_bind(&l.kid)
                    .push_bind(l.algorithm.as_str())
                    .push_bind(URL_SAFE_NO_PAD.encode(&l.signature))
                    .push_bind(l.state.code())
                    .push_bind(&l.state_reason)
                    .push_bind(l.state_changed_at)
                    .push_bind(&l.issued_by);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(licences)
    }.await)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Licence>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM licences WHERE id = $1");
    let row: Option<Row> = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(id).fetch_optional(pool).await)?;
    Ok(row.and_then(Row::into_licence))
}

/// A holder's licences, the newest first.
pub async fn of_holder(
    db: &Db,
    kind: HolderKind,
    number: &str,
) -> Result<Vec<Licence>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM licences WHERE holder_kind = $1 AND holder_number = $2 \
         ORDER BY issued_at DESC, id DESC LIMIT 500"
    );
    let rows: Vec<Row> = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(kind.as_str()).bind(number).fetch_all(pool).await)?;
    Ok(rows.into_iter().filter_map(Row::into_licence).collect())
}

pub async fn count_of_holder(db: &Db, kind: HolderKind, number: &str) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM licences WHERE holder_kind = $1 AND holder_number = $2";
    let n: (i64,) = with_db!(db, pool => sqlx::query_as(sql)
        .bind(kind.as_str()).bind(number).fetch_one(pool).await)?;
    Ok(n.0)
}

/// Moves a valid licence to `state`. False when there is no such licence or it is no longer
/// valid (a revoked or cancelled licence stays so).
pub async fn set_state(
    db: &Db,
    id: &str,
    state: State,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE licences SET state = $1, state_reason = $2, state_changed_at = $3 \
               WHERE id = $4 AND state = 'valid'";
    let n = with_db!(db, pool => sqlx::query(sql)
        .bind(state.code()).bind(reason).bind(now).bind(id)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

// ----------------------------------------------------------- shares, uses

pub async fn insert_share(
    db: &Db,
    digest: &str,
    licence_id: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO licence_shares (token_digest, licence_id, expires_at, created_at) \
               VALUES ($1, $2, $3, $4)";
    with_db!(db, pool => sqlx::query(sql)
        .bind(digest).bind(licence_id).bind(expires_at).bind(now)
        .execute(pool).await.map(|_| ()))
}

/// The licence a share link opens, while the link has not expired.
pub async fn share(
    db: &Db,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, DateTime<Utc>)>, sqlx::Error> {
    let sql = "SELECT licence_id, expires_at FROM licence_shares \
               WHERE token_digest = $1 AND expires_at > $2";
    with_db!(db, pool => sqlx::query_as(sql).bind(digest).bind(now).fetch_optional(pool).await)
}

#[derive(Debug, Clone, serde::Serialize, FromRow)]
pub struct Use {
    pub used_by: String,
    pub purpose: String,
    pub used_at: DateTime<Utc>,
}

pub async fn insert_use(
    db: &Db,
    licence_id: &str,
    share_digest: Option<&str>,
    used_by: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO licence_uses (id, licence_id, share_digest, used_by, purpose, used_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    with_db!(db, pool => sqlx::query(sql)
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(licence_id).bind(share_digest).bind(used_by).bind(purpose).bind(now)
        .execute(pool).await.map(|_| ()))
}

pub async fn uses(db: &Db, licence_id: &str) -> Result<Vec<Use>, sqlx::Error> {
    let sql = "SELECT used_by, purpose, used_at FROM licence_uses WHERE licence_id = $1 \
               ORDER BY used_at DESC, id DESC LIMIT 500";
    with_db!(db, pool => sqlx::query_as(sql).bind(licence_id).fetch_all(pool).await)
}

/// For tests and the bench: the fields column written directly, as a tamperer would.
pub async fn overwrite_fields(
    db: &Db,
    id: &str,
    fields: &BTreeMap<String, String>,
) -> Result<(), sqlx::Error> {
    let fields = serde_json::to_string(fields).expect("fields serialise");
    with_db!(db, pool => sqlx::query("UPDATE licences SET fields = $1 WHERE id = $2")
        .bind(fields).bind(id).execute(pool).await.map(|_| ()))
}
