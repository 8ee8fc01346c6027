//! Generates a city into a fresh scratch database (or the one `--url` names) and prints the
//! report with the database's size, to time large cities:
//!
//! ```text
//! cargo run --release -p sim --example generate_city -- --persons 1000000 --engine sqlite
//! cargo run --release -p sim --example generate_city -- --persons 1000000 --engine postgres
//! ```

use kernel::{Db, Engine};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut opts = sim::GenOptions::default();
    let mut engine = Engine::Sqlite;
    let mut url = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{a} needs a value"))
        };
        match a.as_str() {
            "--persons" => opts.persons = value()?.parse()?,
            "--seed" => opts.seed = value()?.parse()?,
            "--engine" => {
                engine = match value()?.as_str() {
                    "sqlite" => Engine::Sqlite,
                    "postgres" => Engine::Postgres,
                    other => anyhow::bail!("unknown engine {other}"),
                }
            }
            "--url" => url = Some(value()?),
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let (db, url) = match url {
        Some(u) => (Db::connect(&u).await?, u),
        None => kernel::scratch::fresh(engine).await?,
    };
    db.migrate(&[&sim::MIGRATIONS]).await?;
    let report = sim::generate(&db, &opts).await?;
    let size = match &db {
        Db::Sqlite(pool) => {
            // Fold the write-ahead log into the database file, so the size is the data's.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await?;
            let path = url.trim_start_matches("sqlite://");
            let file = |p: String| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            file(path.to_string()) + file(format!("{path}-wal"))
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                .fetch_one(pool)
                .await? as u64
        }
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    println!("database: {url}");
    println!("size: {:.1} MiB", size as f64 / (1024.0 * 1024.0));
    Ok(())
}
