//! Throw-away databases for tests and benchmarks: a fresh SQLite file in a temporary folder, or
//! a fresh PostgreSQL database created beside the one `HAOBAN_TEST_PG_URL` names
//! (default `postgres://postgres@127.0.0.1:5432/test`).

use crate::db::{Db, DbError, Engine};

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn pg_admin_url() -> String {
    std::env::var("HAOBAN_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

/// A fresh, empty database and the URL that reaches it.
pub async fn fresh(engine: Engine) -> Result<(Db, String), DbError> {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    match engine {
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join(format!("haoban-test-{tag}"));
            std::fs::create_dir_all(&dir)
                .map_err(|e| DbError::Folder(dir.display().to_string(), e))?;
            let url = format!("sqlite://{}", dir.join("haoban.db").display());
            Ok((Db::connect(&url).await?, url))
        }
        Engine::Postgres => {
            let admin_url = pg_admin_url();
            let name = format!("haoban_t_{tag}");
            let admin = Db::connect_with(&admin_url, 1).await?;
            if let Db::Postgres(pool) = &admin {
                let sql = format!("CREATE DATABASE {name}");
                sqlx::raw_sql(&sql).execute(pool).await?;
            }
            admin.close().await;
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .ok_or_else(|| DbError::Url(admin_url.clone()))?;
            let url = format!("{base}/{name}");
            Ok((Db::connect_with(&url, 8).await?, url))
        }
    }
}
