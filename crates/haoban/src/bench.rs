//! `haoban bench <scenario>`: measurements that print one JSON object as their last line, each
//! beside a baseline measured in the same run on the same machine, so the ratio means
//! something on a noisy host.
//!
//! - `gen`: generating the synthetic city into a fresh database, against a baseline of plain
//!   multi-row inserts of as many rows of similar width into one table of the same engine.

use std::time::Instant;

use kernel::{Db, Engine, with_db};
use serde_json::json;

/// Size of the database in bytes, after folding SQLite's write-ahead log into the file.
async fn database_size(db: &Db, url: &str) -> anyhow::Result<u64> {
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await?;
            let path = url.trim_start_matches("sqlite://");
            std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        }
        Db::Postgres(pool) => {
            let (n,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
                .fetch_one(pool)
                .await?;
            n as u64
        }
    })
}

/// Inserts `rows` rows of six columns in batches of 500, in one transaction: what the engine
/// does for bulk loading with nothing of ours around it.
async fn baseline_inserts(db: &Db, rows: u64) -> anyhow::Result<f64> {
    let create = "CREATE TABLE bench_baseline (a TEXT NOT NULL, b TEXT NOT NULL, c TEXT NOT NULL, \
                  d TEXT NOT NULL, e BIGINT NOT NULL, f TEXT NOT NULL)";
    with_db!(db, pool => sqlx::query(create).execute(pool).await.map(|_| ()))?;
    let start = Instant::now();
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let mut done = 0u64;
        while done < rows {
            let n = (rows - done).min(500);
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO bench_baseline (a, b, c, d, e, f) ");
            qb.push_values(done..done + n, |mut b, i| {
                b.push_bind(format!("4101051985{i:08}"))
                    .push_bind(format!("名字{i}"))
                    .push_bind("河南省郑州市金水区某某路某某号")
                    .push_bind(format!("1390000{:04}", i % 10_000))
                    .push_bind(i as i64)
                    .push_bind("2026-11-23");
            });
            qb.build().execute(&mut *tx).await?;
            done += n;
        }
        tx.commit().await
    }
    .await)?;
    Ok(start.elapsed().as_secs_f64())
}

pub async fn generation(
    engine: Engine,
    persons: u64,
    seed: u64,
) -> anyhow::Result<serde_json::Value> {
    let (db, url) = kernel::scratch::fresh(engine).await?;
    db.migrate(&[&sim::MIGRATIONS]).await?;
    let report = sim::generate(&db, &sim::GenOptions { persons, seed }).await?;
    let rows: u64 = report.counts.values().sum();
    let size = database_size(&db, &url).await?;
    let seconds = report.elapsed_seconds;
    db.close().await;

    let (base_db, _) = kernel::scratch::fresh(engine).await?;
    let base_seconds = baseline_inserts(&base_db, rows).await?;
    base_db.close().await;

    let rate = rows as f64 / seconds;
    let base_rate = rows as f64 / base_seconds;
    Ok(json!({
        "scenario": "gen",
        "engine": engine.name(),
        "persons": persons,
        "seed": seed,
        "rows": rows,
        "seconds": round(seconds),
        "rows_per_second": rate.round(),
        "database_bytes": size,
        "database_mib": round(size as f64 / (1024.0 * 1024.0)),
        "baseline": {
            "what": "plain multi-row INSERTs of as many 6-column rows, one transaction",
            "seconds": round(base_seconds),
            "rows_per_second": base_rate.round(),
        },
        "ratio_to_baseline": round(rate / base_rate),
    }))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
