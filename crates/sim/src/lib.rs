//! # The synthetic city
//!
//! A seeded generator of the registries a city's departments keep, for a city modelled on
//! Zhengzhou (郑州). **Every person, household, company and record is synthetic**: names are
//! drawn from frequency tables, ID numbers and credit codes are made up (valid in form, owned
//! by nobody), phone numbers are random. Only the map is real in outline: the twelve
//! county-level divisions with their real names and region codes; sub-district names resemble
//! the real ones, and communities, their codes and everything below them are invented.
//!
//! The same seed and size always give the same city, byte for byte, on SQLite and on
//! PostgreSQL ([`digest`] proves it). The default is 10,000 persons; a million take about 45
//! seconds on two cores, on either engine; time it with
//! `cargo run --release -p sim --example generate_city -- --persons 1000000 --engine postgres`.
//!
//! ## Registries and who keeps them
//!
//! Each department keeps its own tables, named with its prefix, and none refers to another's:
//! they are joined only by ID number and credit code, as the real systems are, so each can be
//! served later by its own simulated department system.
//!
//! | prefix | keeper | tables |
//! |---|---|---|
//! | `geo_` | shared reference (民政 区划) | `geo_districts`, `geo_sub_districts`, `geo_communities`: city → district → sub-district → community |
//! | `pop_` | 公安 public security, household registration | `pop_households`, `pop_persons` (alive or deceased) |
//! | `civil_` | 民政 civil affairs | `civil_marriages`: registrations, marked when divorced |
//! | `dpf_` | 残联 disabled persons' federation | `dpf_disabilities`: certificates, category and grade 1–4 |
//! | `health_` | 卫健委 health commission | `health_births`: birth medical certificates naming mother and father |
//! | `prop_` | 不动产登记中心 and 房管局 | `prop_properties` (title certificates), `prop_contracts` (filed purchase contracts) |
//! | `tax_` | 税务局 taxation | `tax_deed_tax`: deed tax (契税) paid on purchase contracts |
//! | `hrss_` | 人社局 human resources and social security | `hrss_employment` (spells), `hrss_insurance` (months per person and insurance) |
//! | `hf_` | 住房公积金管理中心 housing provident fund | `hf_accounts` |
//! | `edu_` | 教育局 education | `edu_schools`, `edu_school_districts` (communities each school serves), `edu_students` |
//! | `mr_` | 市场监管局 market regulation | `mr_companies`: market entities with their legal persons |
//! | `sim_` | this generator | `sim_city`: seed, size, counts and the demo subjects of the city |
//!
//! All dates are ISO text (`YYYY-MM-DD`), money is in cents (分), every date is on or before
//! [`AS_OF`], the day the registries were "extracted".
//!
//! ## Simulated department systems
//!
//! [`systems`] serves each registry from its own HTTP listener, each in the manner of a
//! different vendor, for the data-exchange layer to talk to over real sockets.
//!
//! ## Use
//!
//! ```no_run
//! # async fn demo(db: &kernel::Db) -> anyhow::Result<()> {
//! db.migrate(&[&sim::MIGRATIONS]).await?;
//! if sim::city_exists(db).await?.is_none() {
//!     let report = sim::generate(db, &sim::GenOptions::default()).await?;
//!     println!("{} persons in {:.1}s", report.persons, report.elapsed_seconds);
//! }
//! let demo = sim::demo_subjects(db).await?;
//! println!("sign in as {}", demo.citizen.name);
//! # Ok(()) }
//! ```

mod generate;
mod geo;
mod names;
mod pick;
mod rows;
mod store;
pub mod systems;

use std::collections::BTreeMap;
use std::time::Instant;

use kernel::Db;
use kernel::db::MigrationSet;
use serde::{Deserialize, Serialize};

pub use generate::{AS_OF, school_grade};
pub use geo::{Community, District, SubDistrict, zhengzhou};

/// The tables of this context.
pub static MIGRATIONS: MigrationSet = kernel::migrations!("sim", [(1, "0001_registries")]);

/// Zhengzhou's telephone area code, 0371.
pub const DEFAULT_SEED: u64 = 371;
pub const DEFAULT_PERSONS: u64 = 10_000;
/// Recorded with each city, so a city made by a different generator is recognisable.
pub const GENERATOR: &str = concat!("sim/", env!("CARGO_PKG_VERSION"), "/1");

/// The registry tables a city fills, in the order they are written.
pub fn registry_tables() -> impl Iterator<Item = &'static str> {
    rows::TABLES.iter().map(|(t, _)| *t)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenOptions {
    pub persons: u64,
    pub seed: u64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            persons: DEFAULT_PERSONS,
            seed: DEFAULT_SEED,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GenReport {
    pub engine: String,
    pub seed: u64,
    pub persons: u64,
    /// Rows written per table.
    pub counts: BTreeMap<String, u64>,
    pub elapsed_seconds: f64,
    pub demo_person_id: Option<String>,
    pub demo_company_code: Option<String>,
}

/// What the database says about the city it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CityMeta {
    pub seed: u64,
    pub persons: u64,
    pub as_of: String,
    pub generator: String,
    pub generated_at: Option<String>,
    pub elapsed_ms: Option<u64>,
    pub counts: BTreeMap<String, u64>,
    pub demo_person_id: Option<String>,
    pub demo_company_code: Option<String>,
}

/// A citizen and a company with rich records, for demonstrations and manual testing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoSubjects {
    pub citizen: DemoCitizen,
    pub company: DemoCompany,
}

/// An adult, married, with children whose births are on record, a registered home, a job
/// and a housing-fund account; also the legal person of the demo company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCitizen {
    pub id_number: String,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub phone: Option<String>,
    pub household_id: String,
    pub address: String,
    pub spouse_id_number: Option<String>,
    pub spouse_name: Option<String>,
    /// (ID number, name) of each child with a birth record, eldest first.
    pub children: Vec<(String, String)>,
    pub property_cert_no: Option<String>,
    pub housing_fund_account_no: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCompany {
    pub credit_code: String,
    pub name: String,
    pub legal_person_id: String,
    pub legal_person_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(
        "this database holds a city already (seed {seed}, {persons} persons); generate into an empty database"
    )]
    CityExists { seed: u64, persons: u64 },
    #[error(
        "the registry tables hold rows though no city is recorded; generate into an empty database"
    )]
    NotEmpty,
    #[error("no city has been generated in this database")]
    NoCity,
    #[error("the city lacks its demo subjects: {0}")]
    NoDemo(&'static str),
    #[error("invalid options: {0}")]
    Options(String),
    #[error("the generator stopped: {0}")]
    Generator(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Upper bound on the size, to refuse typos before they fill a disk.
pub const MAX_PERSONS: u64 = 20_000_000;

/// Generates a city into an empty database (migrated with [`MIGRATIONS`]). Refuses with
/// [`SimError::CityExists`] (inside the `anyhow::Error`) when the database holds a city.
pub async fn generate(db: &Db, opts: &GenOptions) -> anyhow::Result<GenReport> {
    Ok(generate_city(db, opts).await?)
}

async fn generate_city(db: &Db, opts: &GenOptions) -> Result<GenReport, SimError> {
    if opts.persons == 0 || opts.persons > MAX_PERSONS {
        return Err(SimError::Options(format!(
            "persons must be between 1 and {MAX_PERSONS}, not {}",
            opts.persons
        )));
    }
    if let Some(m) = city_exists(db).await? {
        return Err(SimError::CityExists {
            seed: m.seed,
            persons: m.persons,
        });
    }
    let clock = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let (persons, seed) = (opts.persons, opts.seed);
    // The generator runs on its own thread, a few batches ahead of the writer.
    let producer = tokio::task::spawn_blocking(move || {
        let mut g = generate::Generator::new(persons, seed);
        while let Some(batch) = g.next_batch() {
            if tx
                .blocking_send(store::Feed::Rows(Box::new(batch)))
                .is_err()
            {
                return;
            }
        }
        let _ = tx.blocking_send(store::Feed::Done(g.outcome().clone()));
    });
    let as_of = pick::date_string(AS_OF);
    let started_at = chrono::Utc::now().to_rfc3339();
    let start = store::Start {
        seed,
        persons,
        as_of: &as_of,
        generator: GENERATOR,
        started_at: &started_at,
        clock,
    };
    let written = store::write_city(db, &start, &mut rx).await;
    // Closing the channel stops a producer that is still running after a failed write.
    drop(rx);
    let joined = producer.await;
    let (counts, outcome) = match written {
        Ok(x) => x,
        Err(store::WriteError::Exists) => {
            let m = city_exists(db).await?;
            return Err(SimError::CityExists {
                seed: m.as_ref().map_or(0, |m| m.seed),
                persons: m.as_ref().map_or(0, |m| m.persons),
            });
        }
        Err(store::WriteError::NotEmpty) => return Err(SimError::NotEmpty),
        Err(store::WriteError::Stopped) => {
            let why = joined
                .err()
                .map_or_else(|| "no reason given".to_string(), |e| e.to_string());
            return Err(SimError::Generator(why));
        }
        Err(store::WriteError::Db(e)) => return Err(SimError::Db(e)),
    };
    let report = GenReport {
        engine: db.engine().name().to_string(),
        seed,
        persons,
        counts,
        elapsed_seconds: clock.elapsed().as_secs_f64(),
        demo_person_id: outcome.demo_person_id,
        demo_company_code: outcome.demo_company_code,
    };
    tracing::info!(
        engine = %report.engine,
        seed,
        persons,
        seconds = report.elapsed_seconds,
        "synthetic city generated"
    );
    Ok(report)
}

/// The city this database holds, if any.
pub async fn city_exists(db: &Db) -> Result<Option<CityMeta>, sqlx::Error> {
    let Some(m) = store::meta(db).await? else {
        return Ok(None);
    };
    Ok(Some(CityMeta {
        seed: m.seed as u64,
        persons: m.persons as u64,
        as_of: m.as_of,
        generator: m.generator,
        generated_at: m.generated_at,
        elapsed_ms: m.elapsed_ms.map(|x| x as u64),
        counts: m
            .counts
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default(),
        demo_person_id: m.demo_person_id,
        demo_company_code: m.demo_company_code,
    }))
}

/// The demo citizen and the demo company of the city, the same for the same seed.
pub async fn demo_subjects(db: &Db) -> Result<DemoSubjects, SimError> {
    let meta = city_exists(db).await?.ok_or(SimError::NoCity)?;
    let person_id = meta
        .demo_person_id
        .ok_or(SimError::NoDemo("no demo citizen recorded"))?;
    let company_code = meta
        .demo_company_code
        .ok_or(SimError::NoDemo("no demo company recorded"))?;
    let p = store::person(db, &person_id)
        .await?
        .ok_or(SimError::NoDemo(
            "the demo citizen is not in the population registry",
        ))?;
    let spouse = store::spouse(db, &person_id).await?;
    let company = store::company(db, &company_code)
        .await?
        .ok_or(SimError::NoDemo(
            "the demo company is not in the market registry",
        ))?;
    Ok(DemoSubjects {
        citizen: DemoCitizen {
            id_number: p.id_number,
            name: p.name,
            gender: p.gender,
            birth_date: p.birth_date,
            phone: p.phone,
            household_id: p.household_id,
            address: p.address,
            spouse_id_number: spouse.as_ref().map(|s| s.0.clone()),
            spouse_name: spouse.map(|s| s.1),
            children: store::children(db, &person_id).await?,
            property_cert_no: store::first_property(db, &person_id).await?,
            housing_fund_account_no: store::housing_fund_account(db, &person_id).await?,
        },
        company: DemoCompany {
            credit_code: company.0,
            name: company.1,
            legal_person_id: company.2,
            legal_person_name: company.3,
        },
    })
}

/// The city's map as stored with the city: districts with their sub-districts and
/// communities, ordered by code. Empty before a city is generated; [`zhengzhou`] gives the
/// same map without a database.
pub async fn geography(db: &Db) -> Result<Vec<District>, sqlx::Error> {
    store::geography(db).await
}

/// A SHA-256 per registry table over its rows in a canonical text form, independent of
/// row order and engine: equal digests mean equal registries. Reads every row; meant for
/// tests and for comparing two cities, not for hot paths.
pub async fn digest(db: &Db) -> Result<BTreeMap<String, String>, sqlx::Error> {
    store::digest(db).await
}
