//! One database handle for both engines.
//!
//! SQLite (WAL) is the embedded default; PostgreSQL is chosen by a `postgres://` URL. Stores
//! write their SQL once where it is portable and once per engine where it is not, and run it
//! through [`with_db!`](crate::with_db), which expands the same code for each pool type.
//!
//! Rules the stores keep so one SQL text serves both engines:
//! - placeholders are `$1, $2, …` (SQLite reads them as numbered parameters);
//! - integers are `BIGINT` on PostgreSQL (decoded as `i64` on both);
//! - times are `TIMESTAMPTZ` on PostgreSQL and ISO text on SQLite, both `DateTime<Utc>` in Rust;
//! - a SQLite write transaction begins with a write, so it takes the write lock at once
//!   and waits on the busy timeout instead of failing on a stale read snapshot.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same body against whichever pool the handle holds: `with_db!(db, pool => expr)`.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL not understood: {0}")]
    Url(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("cannot create the database folder {0}: {1}")]
    Folder(String, std::io::Error),
}

impl Db {
    /// Opens a pool for `url`: `sqlite://path` (or a bare file path) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        Db::connect_with(url, 16).await
    }

    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Db, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| DbError::Url(e.to_string()))?
                .application_name("haoban");
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(DbError::Url(url.to_string()));
        }
        let memory = path == ":memory:";
        if !memory
            && let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbError::Folder(parent.display().to_string(), e))?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit that was acknowledged survives power loss, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            // Keep the write-ahead log from staying at the size of the largest transaction.
            .pragma("journal_size_limit", "67108864");
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { max_connections.min(8) })
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Db::Sqlite(pool))
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Answers whether the database takes a query now; for `/readyz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        with_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    pub async fn close(&self) {
        with_db!(self, pool => pool.close().await)
    }

    /// Applies every migration of the given sets that the database has not seen yet, each in
    /// its own transaction, recording it in `schema_migrations`. Safe when several instances
    /// start together: PostgreSQL serialises them on an advisory lock, SQLite on its write lock.
    pub async fn migrate(&self, sets: &[&MigrationSet]) -> Result<usize, sqlx::Error> {
        let create = "CREATE TABLE IF NOT EXISTS schema_migrations (
            context TEXT NOT NULL,
            version BIGINT NOT NULL,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL,
            PRIMARY KEY (context, version))";
        with_db!(self, pool => sqlx::query(create).execute(pool).await.map(|_| ()))?;
        let mut applied = 0;
        for set in sets {
            for m in set.migrations {
                let (lock, body) = match self {
                    // A write first takes SQLite's write lock before we look.
                    Db::Sqlite(_) => ("UPDATE schema_migrations SET name = name WHERE 0", m.sqlite),
                    Db::Postgres(_) => ("SELECT pg_advisory_xact_lock(7243301)", m.postgres),
                };
                let done = with_db!(self, pool => async {
                    let mut tx = pool.begin().await?;
                    sqlx::query(lock).execute(&mut *tx).await?;
                    let seen: Option<(i64,)> = sqlx::query_as(
                        "SELECT version FROM schema_migrations WHERE context = $1 AND version = $2",
                    )
                    .bind(set.context)
                    .bind(m.version)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if seen.is_some() {
                        return Ok::<bool, sqlx::Error>(false);
                    }
                    sqlx::raw_sql(body).execute(&mut *tx).await?;
                    sqlx::query(
                        "INSERT INTO schema_migrations (context, version, name, applied_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(set.context)
                    .bind(m.version)
                    .bind(m.name)
                    .bind(chrono::Utc::now().to_rfc3339())
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(true)
                }
                .await)?;
                if done {
                    tracing::info!(
                        context = set.context,
                        version = m.version,
                        name = m.name,
                        "migration applied"
                    );
                    applied += 1;
                }
            }
        }
        Ok(applied)
    }
}

/// One schema change of one context, written for each engine.
#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// The migrations a context owns; contexts never touch each other's tables.
#[derive(Debug)]
pub struct MigrationSet {
    pub context: &'static str,
    pub migrations: &'static [Migration],
}

/// Declares a context's migrations from `migrations/{sqlite,postgres}/NNNN_name.sql` files.
#[macro_export]
macro_rules! migrations {
    ($context:literal, [$(($version:literal, $name:literal)),* $(,)?]) => {
        $crate::db::MigrationSet {
            context: $context,
            migrations: &[$(
                $crate::db::Migration {
                    version: $version,
                    name: $name,
                    sqlite: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite/", $name, ".sql")),
                    postgres: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres/", $name, ".sql")),
                },
            )*],
        }
    };
}
