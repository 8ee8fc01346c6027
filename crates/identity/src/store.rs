//! Every SQL statement of the identity context, for both engines.

use chrono::{DateTime, Utc};
use kernel::{CreditCode, Db, IdNumber, Lang, Phone, with_db};
use sqlx::FromRow;

use crate::domain::{Account, Holder, Role, Throttle};

pub static MIGRATIONS: kernel::db::MigrationSet =
    kernel::migrations!("identity", [(1, "0001_identity"), (2, "0002_passkeys")]);

#[derive(FromRow)]
struct AccountRow {
    id: String,
    kind: String,
    login: String,
    name: String,
    id_number: Option<String>,
    credit_code: Option<String>,
    phone: Option<String>,
    department_id: Option<String>,
    lang: Option<String>,
    elderly: Option<bool>,
    created_at: DateTime<Utc>,
}

const ACCOUNT_COLUMNS: &str = "id, kind, login, name, id_number, credit_code, phone, \
     department_id, lang, elderly, created_at";

impl AccountRow {
    fn into_account(self, roles: Vec<(Role, String)>) -> Option<Account> {
        let holder = match self.kind.as_str() {
            "citizen" => Holder::Citizen {
                id_number: IdNumber::parse(self.id_number.as_deref()?).ok()?,
            },
            "company" => Holder::Company {
                credit_code: CreditCode::parse(self.credit_code.as_deref()?).ok()?,
            },
            "staff" => Holder::Staff {
                department_id: self.department_id?,
            },
            _ => return None,
        };
        Some(Account {
            id: self.id,
            login: self.login,
            name: self.name,
            holder,
            phone: self.phone.and_then(|p| Phone::parse(&p).ok()),
            roles,
            lang: self.lang.and_then(|l| Lang::parse(&l)),
            elderly: self.elderly,
            created_at: self.created_at,
        })
    }
}

/// A new row for `accounts`; the password already hashed.
pub struct AccountInsert<'a> {
    pub id: &'a str,
    pub login: &'a str,
    pub name: &'a str,
    pub holder: &'a Holder,
    pub phone: Option<&'a str>,
    pub password_hash: &'a str,
    pub now: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("an account with this login or identifier exists")]
    Duplicate,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

pub async fn insert_account(db: &Db, a: &AccountInsert<'_>) -> Result<(), InsertError> {
    let (id_number, credit_code, department_id) = match a.holder {
        Holder::Citizen { id_number } => (Some(id_number.as_str()), None, None),
        Holder::Company { credit_code } => (None, Some(credit_code.as_str()), None),
        Holder::Staff { department_id } => (None, None, Some(department_id.as_str())),
    };
    let sql = "INSERT INTO accounts (id, kind, login, name, id_number, credit_code, phone, \
               password_hash, department_id, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    let res = with_db!(db, pool => sqlx::query(sql)
        .bind(a.id)
        .bind(a.holder.kind().code())
        .bind(a.login)
        .bind(a.name)
        .bind(id_number)
        .bind(credit_code)
        .bind(a.phone)
        .bind(a.password_hash)
        .bind(department_id)
        .bind(a.now)
        .execute(pool)
        .await
        .map(|_| ()));
    match res {
        Err(e) if is_unique_violation(&e) => Err(InsertError::Duplicate),
        other => Ok(other?),
    }
}

pub async fn add_role(
    db: &Db,
    account_id: &str,
    role: Role,
    department_id: &str,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO account_roles (account_id, role, department_id) VALUES ($1, $2, $3) \
               ON CONFLICT DO NOTHING";
    with_db!(db, pool => sqlx::query(sql)
        .bind(account_id)
        .bind(role.code())
        .bind(department_id)
        .execute(pool)
        .await
        .map(|_| ()))
}

async fn roles_of(db: &Db, account_id: &str) -> Result<Vec<(Role, String)>, sqlx::Error> {
    let sql = "SELECT role, department_id FROM account_roles WHERE account_id = $1 ORDER BY role";
    let rows: Vec<(String, String)> =
        with_db!(db, pool => sqlx::query_as(sql).bind(account_id).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(r, d)| Role::parse(&r).map(|r| (r, d)))
        .collect())
}

async fn account_where(db: &Db, clause: &str, value: &str) -> Result<Option<Account>, sqlx::Error> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {clause} = $1 AND disabled_at IS NULL"
    );
    let row: Option<AccountRow> =
        with_db!(db, pool => sqlx::query_as(&sql).bind(value).fetch_optional(pool).await)?;
    match row {
        Some(row) => {
            let roles = roles_of(db, &row.id).await?;
            Ok(row.into_account(roles))
        }
        None => Ok(None),
    }
}

pub async fn account_by_id(db: &Db, id: &str) -> Result<Option<Account>, sqlx::Error> {
    account_where(db, "id", id).await
}

/// The account and its password hash, for checking a sign-in.
pub async fn credentials(
    db: &Db,
    login: &str,
) -> Result<Option<(Account, Option<String>)>, sqlx::Error> {
    let sql = "SELECT id, password_hash FROM accounts WHERE login = $1 AND disabled_at IS NULL";
    let row: Option<(String, Option<String>)> =
        with_db!(db, pool => sqlx::query_as(sql).bind(login).fetch_optional(pool).await)?;
    let Some((id, hash)) = row else {
        return Ok(None);
    };
    Ok(account_by_id(db, &id).await?.map(|a| (a, hash)))
}

pub async fn set_prefs(
    db: &Db,
    account_id: &str,
    lang: Option<Lang>,
    elderly: Option<bool>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE accounts SET lang = COALESCE($2, lang), elderly = COALESCE($3, elderly) WHERE id = $1";
    with_db!(db, pool => sqlx::query(sql)
        .bind(account_id)
        .bind(lang.map(|l| l.code()))
        .bind(elderly)
        .execute(pool)
        .await
        .map(|_| ()))
}

pub async fn count_accounts(db: &Db) -> Result<i64, sqlx::Error> {
    let row: (i64,) = with_db!(db, pool => sqlx::query_as("SELECT COUNT(*) FROM accounts").fetch_one(pool).await)?;
    Ok(row.0)
}

// ---- sessions and tokens ----

pub async fn insert_session(
    db: &Db,
    digest: &str,
    account_id: &str,
    kind: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO sessions (digest, account_id, kind, created_at, expires_at, last_seen_at) \
               VALUES ($1, $2, $3, $4, $5, $4)";
    with_db!(db, pool => sqlx::query(sql)
        .bind(digest)
        .bind(account_id)
        .bind(kind)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ()))
}

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub account_id: String,
    pub kind: String,
    pub expires_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

pub async fn session(
    db: &Db,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let sql = "SELECT account_id, kind, expires_at, last_seen_at FROM sessions \
               WHERE digest = $1 AND expires_at > $2";
    with_db!(db, pool => sqlx::query_as(sql).bind(digest).bind(now).fetch_optional(pool).await)
}

pub async fn touch_session(
    db: &Db,
    digest: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE digest = $1";
    with_db!(db, pool => sqlx::query(sql).bind(digest).bind(now).bind(expires_at).execute(pool).await.map(|_| ()))
}

pub async fn delete_session(db: &Db, digest: &str) -> Result<Option<String>, sqlx::Error> {
    let sql = "DELETE FROM sessions WHERE digest = $1 RETURNING account_id";
    let row: Option<(String,)> =
        with_db!(db, pool => sqlx::query_as(sql).bind(digest).fetch_optional(pool).await)?;
    Ok(row.map(|r| r.0))
}

pub async fn delete_expired_sessions(db: &Db, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    with_db!(db, pool => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now).execute(pool).await.map(|r| r.rows_affected()))
}

pub async fn insert_api_token(
    db: &Db,
    id: &str,
    account_id: &str,
    name: &str,
    digest: &str,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO api_tokens (id, account_id, name, digest, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    with_db!(db, pool => sqlx::query(sql)
        .bind(id).bind(account_id).bind(name).bind(digest).bind(now).bind(expires_at)
        .execute(pool).await.map(|_| ()))
}

/// The account a live API token belongs to, noting its use.
pub async fn use_api_token(
    db: &Db,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    let sql = "UPDATE api_tokens SET last_used_at = $2 WHERE digest = $1 AND revoked_at IS NULL \
               AND (expires_at IS NULL OR expires_at > $2) RETURNING account_id";
    let row: Option<(String,)> = with_db!(db, pool => sqlx::query_as(sql).bind(digest).bind(now).fetch_optional(pool).await)?;
    Ok(row.map(|r| r.0))
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn tokens_of(db: &Db, account_id: &str) -> Result<Vec<TokenInfo>, sqlx::Error> {
    let sql = "SELECT id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens \
               WHERE account_id = $1 ORDER BY created_at DESC";
    with_db!(db, pool => sqlx::query_as(sql).bind(account_id).fetch_all(pool).await)
}

pub async fn revoke_api_token(
    db: &Db,
    account_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL";
    with_db!(db, pool => sqlx::query(sql).bind(id).bind(account_id).bind(now)
        .execute(pool).await.map(|r| r.rows_affected() == 1))
}

// ---- sign-in throttle ----

#[derive(FromRow)]
struct ThrottleRow {
    failures: i64,
    window_started_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

pub async fn throttle(db: &Db, key: &str) -> Result<Option<Throttle>, sqlx::Error> {
    let sql =
        "SELECT failures, window_started_at, locked_until FROM login_throttle WHERE login_key = $1";
    let row: Option<ThrottleRow> =
        with_db!(db, pool => sqlx::query_as(sql).bind(key).fetch_optional(pool).await)?;
    Ok(row.map(|r| Throttle {
        failures: r.failures,
        window_started_at: r.window_started_at,
        locked_until: r.locked_until,
    }))
}

/// Counts one failed sign-in for `key` and answers the new state. The read and the write
/// are one transaction that starts with a write, so concurrent failures all count.
pub async fn record_failure(
    db: &Db,
    key: &str,
    now: DateTime<Utc>,
    max: i64,
) -> Result<Throttle, sqlx::Error> {
    let claim = "INSERT INTO login_throttle (login_key, failures, window_started_at) VALUES ($1, 0, $2) \
                 ON CONFLICT (login_key) DO UPDATE SET failures = login_throttle.failures";
    let read =
        "SELECT failures, window_started_at, locked_until FROM login_throttle WHERE login_key = $1";
    let write = "UPDATE login_throttle SET failures = $2, window_started_at = $3, locked_until = $4 \
                 WHERE login_key = $1";
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(claim).bind(key).bind(now).execute(&mut *tx).await?;
        let row: ThrottleRow = sqlx::query_as(read).bind(key).fetch_one(&mut *tx).await?;
        let prev = (row.failures > 0).then_some(Throttle {
            failures: row.failures,
            window_started_at: row.window_started_at,
            locked_until: row.locked_until,
        });
        let next = Throttle::after_failure(prev.as_ref(), now, max);
        sqlx::query(write)
            .bind(key)
            .bind(next.failures)
            .bind(next.window_started_at)
            .bind(next.locked_until)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(next)
    }.await)
}

pub async fn clear_throttle(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    with_db!(db, pool => sqlx::query("DELETE FROM login_throttle WHERE login_key = $1")
        .bind(key).execute(pool).await.map(|_| ()))
}

// ---- audit ----

pub struct AuditEntry<'a> {
    pub event: &'a str,
    pub outcome: &'a str,
    pub account_id: Option<&'a str>,
    pub login_masked: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub at: DateTime<Utc>,
}

pub async fn audit(db: &Db, e: &AuditEntry<'_>) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO auth_audit (at, event, outcome, account_id, login_masked, ip, user_agent) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    with_db!(db, pool => sqlx::query(sql)
        .bind(e.at).bind(e.event).bind(e.outcome).bind(e.account_id).bind(e.login_masked)
        .bind(e.ip).bind(e.user_agent)
        .execute(pool).await.map(|_| ()))
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub event: String,
    pub outcome: String,
    pub account_id: Option<String>,
    pub login_masked: String,
    pub ip: Option<String>,
}

pub async fn audit_of_account(
    db: &Db,
    account_id: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let sql = "SELECT id, at, event, outcome, account_id, login_masked, ip FROM auth_audit \
               WHERE account_id = $1 ORDER BY id DESC LIMIT $2";
    with_db!(db, pool => sqlx::query_as(sql).bind(account_id).bind(limit).fetch_all(pool).await)
}

pub async fn audit_all(db: &Db, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    let sql = "SELECT id, at, event, outcome, account_id, login_masked, ip FROM auth_audit \
               ORDER BY id DESC LIMIT $1";
    with_db!(db, pool => sqlx::query_as(sql).bind(limit).fetch_all(pool).await)
}

// ---- departments ----

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Department {
    pub id: String,
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub level: String,
    pub parent_id: Option<String>,
}

/// Inserts departments in one transaction: all of them, or none.
pub async fn insert_departments(
    db: &Db,
    departments: &[Department],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO departments (id, code, name, name_en, level, parent_id, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        for d in departments {
            sqlx::query(sql)
                .bind(&d.id)
                .bind(&d.code)
                .bind(&d.name)
                .bind(&d.name_en)
                .bind(&d.level)
                .bind(&d.parent_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
    .await)
}

pub async fn insert_department(
    db: &Db,
    d: &Department,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    insert_departments(db, std::slice::from_ref(d), now).await
}

pub async fn department(db: &Db, id: &str) -> Result<Option<Department>, sqlx::Error> {
    let sql = "SELECT id, code, name, name_en, level, parent_id FROM departments WHERE id = $1";
    with_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)
}

pub async fn department_by_code(db: &Db, code: &str) -> Result<Option<Department>, sqlx::Error> {
    let sql = "SELECT id, code, name, name_en, level, parent_id FROM departments WHERE code = $1";
    with_db!(db, pool => sqlx::query_as(sql).bind(code).fetch_optional(pool).await)
}

pub async fn departments(db: &Db) -> Result<Vec<Department>, sqlx::Error> {
    let sql = "SELECT id, code, name, name_en, level, parent_id FROM departments ORDER BY code";
    with_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)
}

// ---- passkeys ----

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PasskeyRow {
    pub id: String,
    pub name: String,
    #[serde(skip)]
    pub credential: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn insert_passkey(
    db: &Db,
    id: &str,
    account_id: &str,
    name: &str,
    credential: &str,
    now: DateTime<Utc>,
) -> Result<(), InsertError> {
    let sql = "INSERT INTO passkeys (id, account_id, name, credential, created_at) VALUES ($1, $2, $3, $4, $5)";
    let res = with_db!(db, pool => sqlx::query(sql)
        .bind(id).bind(account_id).bind(name).bind(credential).bind(now)
        .execute(pool).await.map(|_| ()));
    match res {
        Err(e) if is_unique_violation(&e) => Err(InsertError::Duplicate),
        other => Ok(other?),
    }
}

pub async fn passkeys_of(db: &Db, account_id: &str) -> Result<Vec<PasskeyRow>, sqlx::Error> {
    let sql = "SELECT id, name, credential, created_at, last_used_at FROM passkeys \
               WHERE account_id = $1 ORDER BY created_at";
    with_db!(db, pool => sqlx::query_as(sql).bind(account_id).fetch_all(pool).await)
}

pub async fn update_passkey(
    db: &Db,
    id: &str,
    credential: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE passkeys SET credential = $2, last_used_at = $3 WHERE id = $1";
    with_db!(db, pool => sqlx::query(sql).bind(id).bind(credential).bind(now).execute(pool).await.map(|_| ()))
}

pub async fn insert_ceremony(
    db: &Db,
    id: &str,
    kind: &str,
    account_id: &str,
    state: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO webauthn_ceremonies (id, kind, account_id, state, expires_at) VALUES ($1, $2, $3, $4, $5)";
    with_db!(db, pool => sqlx::query(sql)
        .bind(id).bind(kind).bind(account_id).bind(state).bind(expires_at)
        .execute(pool).await.map(|_| ()))
}

/// Takes a ceremony out of the table: each challenge can be answered once.
pub async fn take_ceremony(
    db: &Db,
    id: &str,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let sql = "DELETE FROM webauthn_ceremonies WHERE id = $1 AND kind = $2 AND expires_at > $3 \
               RETURNING account_id, state";
    with_db!(db, pool => sqlx::query_as(sql).bind(id).bind(kind).bind(now).fetch_optional(pool).await)
}

pub async fn delete_expired_ceremonies(db: &Db, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    with_db!(db, pool => sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
        .bind(now).execute(pool).await.map(|r| r.rows_affected()))
}
