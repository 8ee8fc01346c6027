//! The catalog's SQL: published versions of the definition files. The newest version is the
//! live catalog on every instance.

use chrono::{DateTime, Utc};
use kernel::{Db, with_db};

pub static MIGRATIONS: kernel::db::MigrationSet =
    kernel::migrations!("catalog", [(1, "0001_catalog_versions")]);

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct VersionInfo {
    pub id: i64,
    pub digest: String,
    pub published_at: DateTime<Utc>,
    pub published_by: String,
}

pub async fn latest(db: &Db) -> Result<Option<VersionInfo>, sqlx::Error> {
    let sql = "SELECT id, digest, published_at, published_by FROM catalog_versions \
               ORDER BY id DESC LIMIT 1";
    with_db!(db, pool => sqlx::query_as(sql).fetch_optional(pool).await)
}

pub async fn versions(db: &Db, limit: i64) -> Result<Vec<VersionInfo>, sqlx::Error> {
    let sql = "SELECT id, digest, published_at, published_by FROM catalog_versions \
               ORDER BY id DESC LIMIT $1";
    with_db!(db, pool => sqlx::query_as(sql).bind(limit).fetch_all(pool).await)
}

/// The files of a version, as (path, content).
pub async fn files(db: &Db, id: i64) -> Result<Option<Vec<(String, String)>>, sqlx::Error> {
    let row: Option<(String,)> = with_db!(db, pool =>
        sqlx::query_as("SELECT files FROM catalog_versions WHERE id = $1").bind(id).fetch_optional(pool).await)?;
    Ok(row.and_then(|(json,)| serde_json::from_str(&json).ok()))
}

pub async fn insert(
    db: &Db,
    digest: &str,
    files: &[(String, String)],
    by: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let json = serde_json::to_string(files).expect("files serialise");
    let sql = "INSERT INTO catalog_versions (digest, files, published_at, published_by) \
               VALUES ($1, $2, $3, $4) RETURNING id";
    let (id,): (i64,) = with_db!(db, pool => sqlx::query_as(sql)
        .bind(digest).bind(json).bind(now).bind(by)
        .fetch_one(pool).await)?;
    Ok(id)
}
