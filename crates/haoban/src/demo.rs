//! The demo city: the synthetic registries from `sim`, then the departments and one account
//! per role in `identity`. Everything is derived from the seed, so it can be rebuilt.

use identity::Identity;
use identity::demo::{Area, DemoAccount, DemoPeople};
use kernel::Db;

pub const DEFAULT_SEED: u64 = sim::DEFAULT_SEED;

async fn people(db: &Db) -> anyhow::Result<DemoPeople> {
    let s = sim::demo_subjects(db).await?;
    // The demo citizen is the demo company's legal person: the company's contact phone is theirs.
    let phone = s
        .citizen
        .phone
        .ok_or_else(|| anyhow::anyhow!("the demo citizen has no phone number"))?;
    Ok(DemoPeople {
        citizen_name: s.citizen.name,
        citizen_id_number: s.citizen.id_number,
        citizen_phone: phone.clone(),
        company_name: s.company.name,
        company_credit_code: s.company.credit_code,
        company_phone: phone,
    })
}

async fn areas(db: &Db) -> anyhow::Result<Vec<Area>> {
    let districts = sim::geography(db).await?;
    Ok(districts
        .into_iter()
        .map(|d| Area {
            code: d.code,
            name: d.name,
            children: d
                .sub_districts
                .into_iter()
                .map(|s| Area {
                    code: s.code,
                    name: s.name,
                    children: s
                        .communities
                        .into_iter()
                        .map(|c| Area {
                            code: c.code,
                            name: c.name,
                            children: Vec::new(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect())
}

async fn seed_identity(db: &Db, seed: u64) -> anyhow::Result<()> {
    let identity = Identity::new(db.clone()).await;
    identity::demo::seed(&identity, seed, &areas(db).await?, &people(db).await?).await
}

/// Generates a city into an empty database, with its departments and demo accounts.
pub async fn generate(db: &Db, persons: u64, seed: u64) -> anyhow::Result<sim::GenReport> {
    if let Some(meta) = sim::city_exists(db).await? {
        anyhow::bail!(
            "the database holds a city already (seed {}, {} persons); use an empty database",
            meta.seed,
            meta.persons
        );
    }
    let report = sim::generate(db, &sim::GenOptions { persons, seed }).await?;
    seed_identity(db, seed).await?;
    Ok(report)
}

/// Makes sure the database holds a demo city and its accounts; answers the city's seed.
pub async fn ensure_city(db: &Db, persons: u64, seed: u64) -> anyhow::Result<u64> {
    let seed = match sim::city_exists(db).await? {
        Some(meta) => meta.seed,
        None => {
            tracing::info!(persons, seed, "generating the demo city");
            sim::generate(db, &sim::GenOptions { persons, seed }).await?;
            seed
        }
    };
    seed_identity(db, seed).await?;
    Ok(seed)
}

pub async fn accounts(db: &Db, seed: u64) -> anyhow::Result<Vec<DemoAccount>> {
    let identity = Identity::new(db.clone()).await;
    identity::demo::accounts(&identity, seed, &people(db).await?).await
}
