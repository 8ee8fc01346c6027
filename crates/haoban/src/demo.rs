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
    // The newcomer is of the demo citizen's family: in the registry, so real-name binding
    // finds them, and with no account until they sign up.
    let mut newcomers: Vec<(String, String)> = Vec::new();
    if let (Some(name), Some(id)) = (&s.citizen.spouse_name, &s.citizen.spouse_id_number) {
        newcomers.push((name.clone(), id.clone()));
    }
    newcomers.extend(
        s.citizen
            .children
            .iter()
            .map(|(id, name)| (name.clone(), id.clone())),
    );
    Ok(DemoPeople {
        newcomers,
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

/// What a visitor can try with the demo accounts beyond signing in, one line per language:
/// signing up as the newcomer, and which staff may revoke the demo citizen's licence.
pub async fn notes(db: &Db, list: &[DemoAccount]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    if list.iter().any(|a| a.role == identity::demo::NEWCOMER) {
        out.push(
            "注：newcomer 是人口库中尚无账户的人，可在 /sign-up 用其姓名和身份证号注册（实名核验）"
                .into(),
        );
        out.push(
            "Note: the newcomer is in the population registry with no account yet; sign up at /sign-up with this name and ID number (checked against the registry)".into(),
        );
    }
    let s = sim::demo_subjects(db).await?;
    // The demo staff are in the civil affairs bureau, which issues marriage certificates;
    // docs/licences.md: only the issuing department's staff may revoke a licence.
    if s.citizen.spouse_id_number.is_some() {
        out.push(
            "注：reviewer、dept_admin 属郑州市民政局，可撤销演示市民的结婚证（由该局签发）：POST /api/v1/licences/{证照标识}/revoke".into(),
        );
        out.push(
            "Note: reviewer and dept_admin belong to the Civil Affairs Bureau, which issued the demo citizen's marriage certificate: they may revoke it with POST /api/v1/licences/{id}/revoke".into(),
        );
    }
    Ok(out)
}

/// Issues the demo citizen's and the demo company's e-licences from their registry facts,
/// so the wallets are not empty; does nothing when the citizen holds licences already.
pub async fn licences(db: &Db, catalog_dir: &str) -> anyhow::Result<usize> {
    use std::collections::BTreeMap;

    let s = sim::demo_subjects(db).await?;
    let lib = licences::Licences::new(db.clone());
    let c = &s.citizen;
    if !lib
        .list_for_holder(catalog::HolderKind::Person, &c.id_number)
        .await?
        .is_empty()
    {
        return Ok(0);
    }
    let catalog = catalog::CatalogService::open(db.clone(), std::path::Path::new(catalog_dir))
        .await?
        .current();
    let gender = match c.gender.as_str() {
        "male" | "1" | "男" => "男",
        "female" | "2" | "女" => "女",
        other => other,
    }
    .to_string();
    let person = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut wanted: Vec<(&str, String, String, BTreeMap<String, String>)> = vec![
        (
            "resident_id_card",
            c.id_number.clone(),
            c.name.clone(),
            person(&[
                ("person.name", &c.name),
                ("person.gender", &gender),
                ("person.birth_date", &c.birth_date),
                ("person.household_address", &c.address),
                ("person.id_number", &c.id_number),
            ]),
        ),
        (
            "household_register",
            c.id_number.clone(),
            c.name.clone(),
            person(&[
                ("household.id", &c.household_id),
                ("household.address", &c.address),
                ("person.name", &c.name),
                ("person.id_number", &c.id_number),
            ]),
        ),
        (
            "social_security_card",
            c.id_number.clone(),
            c.name.clone(),
            person(&[("person.name", &c.name), ("person.id_number", &c.id_number)]),
        ),
    ];
    if let (Some(spouse), Some(spouse_id)) = (&c.spouse_name, &c.spouse_id_number) {
        wanted.push((
            "marriage_certificate",
            c.id_number.clone(),
            c.name.clone(),
            person(&[
                ("person.name", &c.name),
                ("person.id_number", &c.id_number),
                ("spouse.name", spouse),
                ("spouse.id_number", spouse_id),
            ]),
        ));
    }
    if let Some(cert) = &c.property_cert_no {
        wanted.push((
            "real_estate_certificate",
            c.id_number.clone(),
            c.name.clone(),
            person(&[
                ("property.cert_no", cert),
                ("property.owner_name", &c.name),
                ("property.address", &c.address),
            ]),
        ));
    }
    let co = &s.company;
    wanted.push((
        "business_licence",
        co.credit_code.clone(),
        co.name.clone(),
        person(&[
            ("company.credit_code", &co.credit_code),
            ("company.name", &co.name),
            ("company.legal_rep_name", &co.legal_person_name),
        ]),
    ));
    let mut issued = 0;
    for (type_code, number, name, fields) in wanted {
        if catalog.licence_type(type_code).is_none() {
            continue;
        }
        let new = licences::NewLicence {
            type_code: type_code.to_string(),
            holder_number: number,
            holder_name: name,
            fields,
            ..Default::default()
        };
        match lib.issue(&catalog, &new, "demo").await {
            Ok(_) => issued += 1,
            Err(e) => tracing::warn!(r#type = type_code, error = %e, "demo licence not issued"),
        }
    }
    Ok(issued)
}
