//! `haoban bench exchange`: the public rental housing checks (12 elements from 8 department
//! systems) through the exchange, beside the slowest of those systems asked alone, in the
//! same run. The fan-out should add little to its slowest source.

use std::path::Path;
use std::time::{Duration, Instant};

use exchange::{AccessFile, Connectors, Exchange, Purpose, Requester, Subject, access_by_key};
use kernel::{Engine, IdNumber};
use serde_json::json;

use crate::bench::{percentile, round};

/// The item whose checks are measured, and its twelve elements.
const ITEM: &str = "410100-FG-0001";
const ELEMENTS: [&str; 12] = [
    "person.household_district",
    "person.age",
    "person.marital_status",
    "marriage.certificate_no",
    "household.property_count",
    "property.contract_filed",
    "social_insurance.pension_months",
    "social_insurance.medical_status",
    "employment.employer_name",
    "housing_fund.status",
    "property.deed_tax_paid",
    "person.registered_companies",
];

/// Each system's own delay (fixed, jitter) in ms: department systems answer in tens of
/// milliseconds, not in the microseconds of a loopback call.
const DELAYS: [(&str, u64, u64); 8] = [
    ("police", 10, 10),
    ("civil", 25, 10),
    ("realestate", 40, 10),
    ("housing", 15, 10),
    ("hrss", 30, 10),
    ("fund", 35, 10),
    ("tax", 20, 10),
    ("market", 10, 10),
];

fn stats(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    (percentile(&ms, 0.5), percentile(&ms, 0.99))
}

pub async fn run(
    quick: bool,
    catalog_dir: &str,
    connectors_dir: &str,
) -> anyhow::Result<serde_json::Value> {
    let (persons, queries) = if quick { (1_500, 60) } else { (10_000, 400) };
    let seed = 8_100;
    let (db, _) = kernel::scratch::fresh(Engine::Sqlite).await?;
    db.migrate(&[
        &sim::MIGRATIONS,
        &catalog::MIGRATIONS,
        &exchange::MIGRATIONS,
    ])
    .await?;
    sim::generate(&db, &sim::GenOptions { persons, seed }).await?;
    let mut cfg = sim::systems::SystemsConfig::new(seed);
    for (key, latency, jitter) in DELAYS {
        cfg.knobs.insert(
            key.to_string(),
            sim::systems::Knobs {
                latency_ms: latency,
                jitter_ms: jitter,
                ..Default::default()
            },
        );
    }
    let systems = sim::systems::start(db.clone(), cfg).await?;
    let catalog = catalog::CatalogService::open(db.clone(), Path::new(catalog_dir)).await?;
    let mut connectors = Connectors::load_dir(Path::new(connectors_dir), &catalog.current())
        .map_err(|e| anyhow::anyhow!("connectors: {}", e.join("; ")))?;
    for c in &mut connectors.list {
        // Every call goes to the system: the cache would measure nothing.
        c.cache_ttl_s = 0;
        c.rate_limit_per_s = 100_000.0;
    }
    let access: AccessFile = serde_json::from_value(systems.manifest())?;
    let ex = Exchange::new(
        db.clone(),
        catalog,
        connectors.clone(),
        access_by_key(access),
        Duration::from_secs(5),
    );
    let ids: Vec<String> = kernel::with_db!(&db, pool => sqlx::query_scalar(
        "SELECT id_number FROM pop_persons WHERE status = 'alive' ORDER BY id_number LIMIT $1")
        .bind(queries as i64).fetch_all(pool).await)?;
    let staff = Requester::Staff {
        account_id: "bench".into(),
        label: "bench".into(),
    };
    let purpose = Purpose::Item(ITEM.into());
    let elements: Vec<String> = ELEMENTS.iter().map(|e| e.to_string()).collect();
    let sources: std::collections::BTreeSet<String> = elements
        .iter()
        .filter_map(|e| connectors.by_element.get(e).map(|(s, _)| s.clone()))
        .collect();

    // Each source alone: one of its elements per query.
    let mut per_source = serde_json::Map::new();
    let mut slowest = (String::new(), 0.0f64, 0.0f64);
    for source in &sources {
        let element = elements
            .iter()
            .find(|e| {
                connectors
                    .by_element
                    .get(*e)
                    .is_some_and(|(s, _)| s == source)
            })
            .expect("a source of the list has an element in it")
            .clone();
        let mut ms = Vec::with_capacity(ids.len());
        for id in &ids {
            let subject = Subject::Person(IdNumber::parse(id)?);
            let t = Instant::now();
            let a = ex
                .query(&staff, &subject, std::slice::from_ref(&element), &purpose)
                .await?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(
                a.unavailable.is_empty(),
                "{source} unavailable: {:?}",
                a.unavailable
            );
        }
        let (p50, p99) = stats(ms);
        per_source.insert(
            source.clone(),
            json!({"p50_ms": round(p50), "p99_ms": round(p99)}),
        );
        if p50 > slowest.1 {
            slowest = (source.clone(), p50, p99);
        }
    }

    // All twelve at once.
    let mut ms = Vec::with_capacity(ids.len());
    let mut answered = 0usize;
    for id in &ids {
        let subject = Subject::Person(IdNumber::parse(id)?);
        let t = Instant::now();
        let a = ex.query(&staff, &subject, &elements, &purpose).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(a.unavailable.is_empty(), "unavailable: {:?}", a.unavailable);
        answered += a.values.len();
    }
    let (p50, p99) = stats(ms);
    systems.shutdown().await;
    db.close().await;
    Ok(json!({
        "scenario": "exchange",
        "engine": "sqlite",
        "item": ITEM,
        "elements": ELEMENTS.len(),
        "sources": sources.len(),
        "queries": ids.len(),
        "values_answered_per_query": round(answered as f64 / ids.len().max(1) as f64),
        "fanout_p50_ms": round(p50),
        "fanout_p99_ms": round(p99),
        "slowest_source": slowest.0,
        "slowest_source_p50_ms": round(slowest.1),
        "slowest_source_p99_ms": round(slowest.2),
        "ratio_p50": round(p50 / slowest.1.max(0.001)),
        "ratio_p99": round(p99 / slowest.2.max(0.001)),
        "per_source": per_source,
    }))
}
