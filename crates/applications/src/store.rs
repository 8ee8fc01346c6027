//! Every SQL statement of the applications context, for both engines.

use std::collections::BTreeMap;

use catalog::flow::Answers;
use chrono::{DateTime, Utc};
use kernel::{Db, with_db};
use sqlx::FromRow;

use crate::domain::{Application, Prefilled, State, Target};

pub static MIGRATIONS: kernel::db::MigrationSet =
    kernel::migrations!("applications", [(1, "0001_drafts")]);

#[derive(FromRow)]
struct Row {
    id: String,
    applicant_id: String,
    target_kind: String,
    target_code: String,
    optional_items: String,
    answers: String,
    prefill: String,
    state: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, applicant_id, target_kind, target_code, optional_items, answers, \
     prefill, state, created_at, updated_at";

impl Row {
    /// `None` for a row this version cannot read (an unknown kind or state).
    fn into_application(self) -> Option<Application> {
        let target = match self.target_kind.as_str() {
            "item" => Target::Item(self.target_code),
            "bundle" => Target::Bundle {
                code: self.target_code,
                optional: serde_json::from_str(&self.optional_items).ok()?,
            },
            _ => return None,
        };
        Some(Application {
            id: self.id,
            applicant_id: self.applicant_id,
            target,
            answers: serde_json::from_str(&self.answers).ok()?,
            prefill: serde_json::from_str(&self.prefill).ok()?,
            state: State::parse(&self.state)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub async fn insert(db: &Db, a: &Application) -> Result<(), sqlx::Error> {
    let optional = match &a.target {
        Target::Bundle { optional, .. } => serde_json::to_string(optional),
        Target::Item(_) => Ok("[]".to_string()),
    }
    .expect("codes serialise");
    let answers = serde_json::to_string(&a.answers).expect("answers serialise");
    let prefill = serde_json::to_string(&a.prefill).expect("prefill serialises");
    let sql = format!(
        "INSERT INTO applications ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    with_db!(db, pool => sqlx::query(&sql)
        .bind(&a.id)
        .bind(&a.applicant_id)
        .bind(a.target.kind())
        .bind(a.target.code())
        .bind(optional)
        .bind(answers)
        .bind(prefill)
        .bind(a.state.code())
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// An application of an applicant; `None` when there is none or it is someone else's.
pub async fn get_of(
    db: &Db,
    id: &str,
    applicant_id: &str,
) -> Result<Option<Application>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1 AND applicant_id = $2");
    let row: Option<Row> = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(id).bind(applicant_id).fetch_optional(pool).await)?;
    Ok(row.and_then(Row::into_application))
}

/// An applicant's applications, the most recently changed first.
pub async fn list_of(db: &Db, applicant_id: &str) -> Result<Vec<Application>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE applicant_id = $1 \
         ORDER BY updated_at DESC, id DESC LIMIT 200"
    );
    let rows: Vec<Row> = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(applicant_id).fetch_all(pool).await)?;
    Ok(rows.into_iter().filter_map(Row::into_application).collect())
}

/// Saves a draft's answers. False when there is no such draft of this applicant.
pub async fn save_answers(
    db: &Db,
    id: &str,
    applicant_id: &str,
    answers: &Answers,
    prefill: &BTreeMap<String, Prefilled>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let answers = serde_json::to_string(answers).expect("answers serialise");
    let prefill = serde_json::to_string(prefill).expect("prefill serialises");
    let sql = "UPDATE applications SET answers = $1, prefill = $2, updated_at = $3 \
               WHERE id = $4 AND applicant_id = $5 AND state = 'draft'";
    let n = with_db!(db, pool => sqlx::query(sql)
        .bind(answers).bind(prefill).bind(now).bind(id).bind(applicant_id)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Discards a draft. False when there is no such draft of this applicant.
pub async fn delete_draft(db: &Db, id: &str, applicant_id: &str) -> Result<bool, sqlx::Error> {
    let sql = "DELETE FROM applications WHERE id = $1 AND applicant_id = $2 AND state = 'draft'";
    let n = with_db!(db, pool => sqlx::query(sql)
        .bind(id).bind(applicant_id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
