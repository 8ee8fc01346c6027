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

pub(crate) fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The `p` quantile of timings sorted ascending; 0 when there are none.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

/// The median of `runs` timings of `f`, in milliseconds.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Loading (parse and validate) a catalog, against parsing the same files as YAML alone.
fn catalog_load(files: Vec<(String, String)>, runs: usize) -> anyhow::Result<serde_json::Value> {
    let catalog = catalog::Catalog::load_files(files.clone())
        .map_err(|e| anyhow::anyhow!("catalog refused: {} errors, first: {}", e.len(), e[0]))?;
    let load = median_ms(runs, || {
        let _ = catalog::Catalog::load_files(files.clone());
    });
    let parse = median_ms(runs, || {
        for (_, text) in &files {
            let _ = marked_yaml::parse_yaml(0, text);
        }
    });
    Ok(json!({
        "files": files.len(),
        "items": catalog.items().len(),
        "bundles": catalog.bundles().len(),
        "load_ms": round(load),
        "baseline": { "what": "parsing the same files as YAML, nothing else", "ms": round(parse) },
        "ratio_to_baseline": round(load / parse.max(0.001)),
    }))
}

/// Requests `paths` round-robin from `clients` concurrent clients for `seconds`; answers
/// requests per second and latency percentiles in milliseconds.
async fn drive(base: &str, paths: &[String], clients: usize, seconds: f64) -> serde_json::Value {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + std::time::Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let urls: Vec<String> = paths.iter().map(|p| format!("{base}{p}")).collect();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut i = c;
            while Instant::now() < deadline {
                let start = Instant::now();
                match http.get(&urls[i % urls.len()]).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(start.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => errors += 1,
                }
                i += 1;
            }
            (latencies, errors)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds);
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| percentile(&all, p);
    json!({
        "requests": all.len(),
        "errors": errors,
        "requests_per_second": (all.len() as f64 / elapsed).round(),
        "p50_ms": round(pct(0.50)),
        "p99_ms": round(pct(0.99)),
    })
}

/// Everyday queries, Chinese and pinyin, for the search load.
const QUERIES: &[&str] = &[
    "孩子出生",
    "开公司",
    "提取公积金",
    "办居住证",
    "换驾照",
    "租房补贴",
    "上户口",
    "社保卡",
    "结婚",
    "退休",
    "gongjijin",
    "gjj",
    "身份证",
    "健康证",
    "残疾人证",
    "营业执照",
];

pub async fn catalog(quick: bool, demo_dir: &str) -> anyhow::Result<serde_json::Value> {
    let runs = if quick { 3 } else { 7 };
    let demo_files = catalog::Catalog::load_dir(std::path::Path::new(demo_dir))
        .map_err(|e| anyhow::anyhow!("{demo_dir} is not a valid catalog: {}", e[0]))?
        .files()
        .to_vec();
    let demo = catalog_load(demo_files, runs)?;
    let generated = catalog_load(catalog::synthetic(if quick { 1000 } else { 5000 }), runs)?;

    // Search over HTTP against the real server, beside a trivial endpoint of the same server.
    let (db, url) = kernel::scratch::fresh(Engine::Sqlite).await?;
    db.migrate(&crate::migrations()).await?;
    let config = crate::Config {
        listen: "127.0.0.1:0".into(),
        database_url: url,
        catalog_dir: demo_dir.to_string(),
        log: "warn".into(),
        ..Default::default()
    };
    let running = crate::serve(&config, db).await?;
    let base = format!("http://{}", running.addr);
    let seconds = if quick { 3.0 } else { 10.0 };
    let clients = 16;
    let search_paths: Vec<String> = QUERIES
        .iter()
        .map(|q| {
            format!(
                "/api/v1/catalog/search?q={}",
                url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            )
        })
        .collect();
    let trivial = drive(&base, &["/healthz".to_string()], clients, seconds).await;
    let search = drive(&base, &search_paths, clients, seconds).await;
    running.stop().await;
    let ratio = search["requests_per_second"].as_f64().unwrap_or(0.0)
        / trivial["requests_per_second"]
            .as_f64()
            .unwrap_or(1.0)
            .max(1.0);
    Ok(json!({
        "scenario": "catalog",
        "quick": quick,
        "load_demo": demo,
        "load_generated": generated,
        "search": {
            "clients": clients,
            "seconds": seconds,
            "queries": QUERIES.len(),
            "search": search,
            "baseline": { "what": "GET /healthz on the same server", "result": trivial },
            "ratio_to_baseline": round(ratio),
        },
    }))
}

/// Verifications per second for `seconds`, one after another on this task.
async fn per_second<F, Fut>(seconds: f64, mut f: F) -> anyhow::Result<(u64, f64)>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        f(n as usize).await?;
        n += 1;
    }
    Ok((n, n as f64 / start.elapsed().as_secs_f64()))
}

/// `POST /api/v1/licences/verify` with the payloads round-robin from `clients` concurrent
/// clients for `seconds`; every answer must be `valid`.
async fn drive_verify(
    base: &str,
    payloads: &[String],
    clients: usize,
    seconds: f64,
) -> serde_json::Value {
    let http = reqwest::Client::new();
    let url = format!("{base}/api/v1/licences/verify");
    let deadline = Instant::now() + std::time::Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, url, payloads) = (http.clone(), url.clone(), payloads.to_vec());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors, mut i) = (Vec::new(), 0u64, c);
            while Instant::now() < deadline {
                let start = Instant::now();
                let body = json!({ "payload": payloads[i % payloads.len()] });
                let ok = match http.post(&url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => r
                        .json::<serde_json::Value>()
                        .await
                        .is_ok_and(|v| v["result"] == "valid"),
                    _ => false,
                };
                if ok {
                    latencies.push(start.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors += 1;
                }
                i += 1;
            }
            (latencies, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds);
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| percentile(&all, p);
    json!({
        "requests": all.len(),
        "errors": errors,
        "verifications_per_second": (all.len() as f64 / elapsed).round(),
        "p50_ms": round(pct(0.50)),
        "p99_ms": round(pct(0.99)),
    })
}

/// Licence verification: through the API and in process, beside raw Ed25519 signature
/// verifications of the same library over the same bytes in the same run.
pub async fn verify(quick: bool, demo_dir: &str) -> anyhow::Result<serde_json::Value> {
    let seconds = if quick { 2.0 } else { 10.0 };
    let clients = 16;
    let (db, url) = kernel::scratch::fresh(Engine::Sqlite).await?;
    db.migrate(&crate::migrations()).await?;
    let catalog = catalog::Catalog::load_dir(std::path::Path::new(demo_dir))
        .map_err(|e| anyhow::anyhow!("{demo_dir} is not a valid catalog: {}", e[0]))?;
    let lib = licences::Licences::new(db.clone());
    let mut issued = Vec::new();
    for n in 0..64u16 {
        let birth =
            chrono::NaiveDate::from_ymd_opt(1980 + i32::from(n % 20), 3, 1).expect("a date");
        let id = kernel::IdNumber::from_parts(410105, birth, 100 + n);
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("person.name".to_string(), format!("测试{n}"));
        fields.insert("person.id_number".to_string(), id.as_str().to_string());
        let new = licences::NewLicence {
            type_code: "marriage_certificate".into(),
            holder_number: id.as_str().to_string(),
            holder_name: format!("测试{n}"),
            fields,
            ..Default::default()
        };
        issued.push(
            lib.issue(&catalog, &new, "bench")
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    let payloads: Vec<String> = issued.iter().map(|l| l.payload()).collect();
    let key = lib
        .public_key(&issued[0].kid)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the signing key is missing"))?;
    let signed: Vec<(Vec<u8>, Vec<u8>)> = issued
        .iter()
        .map(|l| (l.canonical(), l.signature.clone()))
        .collect();

    let (raw_n, raw) = per_second(seconds, |i| {
        let (bytes, sig) = &signed[i % signed.len()];
        let ok = key.verify(bytes, sig);
        async move {
            ok.then_some(())
                .ok_or_else(|| anyhow::anyhow!("raw verification failed"))
        }
    })
    .await?;
    let today = chrono::Utc::now().date_naive();
    let (in_n, in_process) = per_second(seconds, |i| {
        let (lib, p) = (lib.clone(), payloads[i % payloads.len()].clone());
        async move {
            let v = lib.verify_payload(&p, today).await?;
            v.verdict
                .is_valid()
                .then_some(())
                .ok_or_else(|| anyhow::anyhow!("in-process verification said {}", v.verdict.code()))
        }
    })
    .await?;

    let config = crate::Config {
        listen: "127.0.0.1:0".into(),
        database_url: url,
        catalog_dir: demo_dir.to_string(),
        log: "warn".into(),
        ..Default::default()
    };
    let running = crate::serve(&config, db).await?;
    let api = drive_verify(
        &format!("http://{}", running.addr),
        &payloads,
        clients,
        seconds,
    )
    .await;
    running.stop().await;
    let api_rate = api["verifications_per_second"].as_f64().unwrap_or(0.0);
    Ok(json!({
        "scenario": "verify",
        "quick": quick,
        "algorithm": "Ed25519",
        "licences": payloads.len(),
        "seconds": seconds,
        "api": { "clients": clients, "result": api },
        "in_process": {
            "what": "Licences::verify_payload on one task: decode, key, register copy, state",
            "verifications": in_n,
            "verifications_per_second": in_process.round(),
            "ratio_to_baseline": round(in_process / raw.max(1.0)),
        },
        "figure": { "what": "licence verifications per second through POST /api/v1/licences/verify", "per_second": api_rate },
        "baseline": {
            "what": "raw Ed25519 signature verifications of the same bytes, one thread",
            "verifications": raw_n,
            "per_second": raw.round(),
        },
        "ratio_to_baseline": round(api_rate / raw.max(1.0)),
    }))
}

/// `haoban bench import`: licences imported from CSV per second (parse, check, sign, store,
/// committed in batches), beside raw signatures per second with the same key type in
/// the same run, on a fresh SQLite database.
pub async fn import(quick: bool, demo_dir: &str) -> anyhow::Result<serde_json::Value> {
    let rows: u32 = if quick { 2_000 } else { 20_000 };
    let (db, _) = kernel::scratch::fresh(Engine::Sqlite).await?;
    db.migrate(&crate::migrations()).await?;
    let catalog = catalog::Catalog::load_dir(std::path::Path::new(demo_dir))
        .map_err(|e| anyhow::anyhow!("{demo_dir} is not a valid catalog: {}", e[0]))?;
    let mut csv = String::from("type,holder_number,holder_name,person.name,person.id_number\n");
    for n in 0..rows {
        let birth = chrono::NaiveDate::from_ymd_opt(
            1950 + (n % 50) as i32,
            1 + (n / 50 % 12),
            1 + (n / 600 % 28),
        )
        .expect("a date");
        let id = kernel::IdNumber::from_parts(410105, birth, (n % 997) as u16);
        let name = format!("导入{n}");
        csv.push_str(&format!(
            "social_security_card,{},{name},{name},{}\n",
            id.as_str(),
            id.as_str()
        ));
    }
    let lib = licences::Licences::new(db.clone());
    let started = Instant::now();
    let report = licences::import::import(&lib, &catalog, csv.as_bytes(), "bench").await?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.rejected.is_empty(),
        "{} rows rejected, first at line {}",
        report.rejected.len(),
        report.rejected[0].line
    );
    // The baseline: signing alone, over messages the size of a licence's canonical bytes.
    let key = licences::sign::KeyPair::generate(licences::sign::Algorithm::Ed25519);
    let message = vec![b'x'; 420];
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed().as_secs_f64() < secs.min(3.0) {
        std::hint::black_box(key.sign(&message));
        n += 1;
    }
    let raw = n as f64 / t.elapsed().as_secs_f64();
    let per_s = report.imported as f64 / secs;
    db.close().await;
    Ok(json!({
        "scenario": "import",
        "engine": "sqlite",
        "rows": rows,
        "imported": report.imported,
        "seconds": round(secs),
        "licences_per_s": round(per_s),
        "raw_signatures_per_s": round(raw),
        "ratio": round(per_s / raw),
    }))
}
