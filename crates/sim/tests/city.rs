//! The generated city on both engines: deterministic, valid identifiers, registries that
//! agree with each other, and a refusal to overwrite a city.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use kernel::{CreditCode, Db, Engine, IdNumber, Phone};
use sim::{GenOptions, SimError};

/// Runs an engine-generic test once on SQLite and once on PostgreSQL.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(kernel::Engine::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name(kernel::Engine::Postgres).await
                }
            }
        )*
    };
}

on_both_engines!(
    same_seed_gives_the_same_city_and_another_seed_another,
    identifiers_are_valid_and_unique,
    couples_are_adults_of_opposite_sex_and_births_name_existing_parents,
    pupils_fit_their_grades_and_school_districts,
    companies_and_employers_exist_and_legal_persons_are_adults,
    property_contracts_tax_and_titles_agree,
    refuses_to_generate_into_an_existing_city,
    counts_scale_with_size,
    demo_subjects_are_rich_and_geography_matches_the_map,
    indexes_are_rebuilt_after_the_bulk_load,
    a_failed_generation_leaves_nothing_behind,
);

async fn empty(engine: Engine) -> Db {
    let (db, _) = kernel::scratch::fresh(engine)
        .await
        .expect("scratch database");
    db.migrate(&[&sim::MIGRATIONS]).await.expect("migrations");
    db
}

async fn city(engine: Engine, persons: u64, seed: u64) -> Db {
    let db = empty(engine).await;
    let report = sim::generate(&db, &GenOptions { persons, seed })
        .await
        .expect("generate");
    assert_eq!(report.counts["pop_persons"], persons);
    db
}

async fn texts(db: &Db, sql: &str) -> Vec<String> {
    kernel::with_db!(db, pool => sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await.unwrap())
}

async fn pairs(db: &Db, sql: &str) -> Vec<(String, String)> {
    kernel::with_db!(db, pool => sqlx::query_as::<_, (String, String)>(sql).fetch_all(pool).await.unwrap())
}

async fn count(db: &Db, sql: &str) -> i64 {
    kernel::with_db!(db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap())
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| panic!("not a date: {s}"))
}

fn age(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut a = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a
}

struct Person {
    gender: String,
    birth: NaiveDate,
    status: String,
    community: String,
}

async fn people(db: &Db) -> HashMap<String, Person> {
    let rows: Vec<(String, String, String, String, String)> = kernel::with_db!(db, pool => {
        sqlx::query_as("SELECT id_number, gender, birth_date, status, community_code FROM pop_persons")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    rows.into_iter()
        .map(|(id, gender, birth, status, community)| {
            let birth = date(&birth);
            (
                id,
                Person {
                    gender,
                    birth,
                    status,
                    community,
                },
            )
        })
        .collect()
}

async fn same_seed_gives_the_same_city_and_another_seed_another(engine: Engine) {
    let a = sim::digest(&city(engine, 700, 7).await).await.unwrap();
    let b = sim::digest(&city(engine, 700, 7).await).await.unwrap();
    assert_eq!(a, b, "same seed, different cities");
    let c = sim::digest(&city(engine, 700, 8).await).await.unwrap();
    for table in [
        "pop_persons",
        "civil_marriages",
        "mr_companies",
        "hrss_employment",
    ] {
        assert_ne!(a[table], c[table], "{table} did not change with the seed");
    }
    // The map does not depend on the seed.
    assert_eq!(a["geo_communities"], c["geo_communities"]);
}

#[tokio::test]
async fn sqlite_and_postgres_hold_the_same_city() {
    let s = sim::digest(&city(Engine::Sqlite, 500, 99).await)
        .await
        .unwrap();
    let p = sim::digest(&city(Engine::Postgres, 500, 99).await)
        .await
        .unwrap();
    assert_eq!(s, p);
}

async fn identifiers_are_valid_and_unique(engine: Engine) {
    let db = city(engine, 1500, 11).await;
    let rows: Vec<(String, String, String)> = kernel::with_db!(&db, pool => {
        sqlx::query_as("SELECT id_number, gender, birth_date FROM pop_persons").fetch_all(pool).await.unwrap()
    });
    let mut seen = HashSet::new();
    for (id, gender, birth) in &rows {
        let parsed = IdNumber::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(parsed.birth_date(), date(birth), "{id}");
        assert_eq!(parsed.is_male(), gender == "M", "{id}");
        assert!(parsed.region().starts_with("4101"), "{id}");
        assert!(seen.insert(id.clone()), "duplicate ID number {id}");
    }
    let phones = texts(&db, "SELECT phone FROM pop_persons WHERE phone IS NOT NULL").await;
    assert!(phones.len() > rows.len() * 3 / 4, "{} phones", phones.len());
    let unique: HashSet<&String> = phones.iter().collect();
    assert_eq!(unique.len(), phones.len(), "duplicate phone numbers");
    for p in &phones {
        assert_eq!(Phone::parse(p).unwrap().as_str(), p);
    }
    let codes = texts(&db, "SELECT credit_code FROM mr_companies").await;
    assert_eq!(codes.len(), 1500 / 20);
    for c in &codes {
        CreditCode::parse(c).unwrap_or_else(|e| panic!("{c}: {e}"));
    }
    // Every person any registry names is in the population registry.
    let ids: HashSet<String> = rows.into_iter().map(|r| r.0).collect();
    for sql in [
        "SELECT husband_id FROM civil_marriages",
        "SELECT wife_id FROM civil_marriages",
        "SELECT id_number FROM dpf_disabilities",
        "SELECT owner_id FROM prop_properties",
        "SELECT buyer_id FROM prop_contracts",
        "SELECT payer_id FROM tax_deed_tax",
        "SELECT id_number FROM hrss_employment",
        "SELECT id_number FROM hrss_insurance",
        "SELECT id_number FROM hf_accounts",
        "SELECT id_number FROM edu_students",
        "SELECT householder_id FROM pop_households",
    ] {
        for id in texts(&db, sql).await {
            assert!(ids.contains(&id), "{sql}: {id} is nobody");
        }
    }
    // Disability certificates are the holder's ID number, category and grade.
    for (cert, id) in pairs(&db, "SELECT cert_no, id_number FROM dpf_disabilities").await {
        assert!(cert.starts_with(&id) && cert.len() == 20, "{cert}");
    }
}

async fn couples_are_adults_of_opposite_sex_and_births_name_existing_parents(engine: Engine) {
    let db = city(engine, 1500, 12).await;
    let people = people(&db).await;
    let as_of = sim::AS_OF;
    let marriages: Vec<(String, String, String, String)> = kernel::with_db!(&db, pool => {
        sqlx::query_as("SELECT husband_id, wife_id, registered_on, status FROM civil_marriages")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert!(marriages.len() > 300, "{} marriages", marriages.len());
    for (h, w, on, status) in &marriages {
        let (hp, wp) = (&people[h], &people[w]);
        assert_eq!((hp.gender.as_str(), wp.gender.as_str()), ("M", "F"));
        let on = date(on);
        assert!(
            age(hp.birth, on) >= 22 && age(wp.birth, on) >= 20,
            "{h} and {w} married under age"
        );
        assert!(on <= as_of);
        assert!(status == "married" || status == "divorced");
    }
    let married: i64 = count(
        &db,
        "SELECT COUNT(*) FROM pop_persons WHERE marital_status = 'married' AND status = 'alive'",
    )
    .await;
    assert!(married > 0);
    let births: Vec<(String, String, String, String)> = kernel::with_db!(&db, pool => {
        sqlx::query_as("SELECT child_id, mother_id, father_id, born_on FROM health_births")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert!(births.len() > 200, "{} births", births.len());
    let couples: HashSet<(&str, &str)> = marriages
        .iter()
        .map(|m| (m.0.as_str(), m.1.as_str()))
        .collect();
    for (child, mother, father, born) in &births {
        let c = &people[child];
        assert_eq!(c.birth, date(born));
        assert_eq!(people[mother].gender, "F");
        assert_eq!(people[father].gender, "M");
        let mother_age = age(people[mother].birth, c.birth);
        assert!((18..50).contains(&mother_age), "mother aged {mother_age}");
        assert!(
            couples.contains(&(father.as_str(), mother.as_str())),
            "parents of {child} never married"
        );
    }
    // Households hold their members; a living householder heads each.
    let heads = count(
        &db,
        "SELECT COUNT(*) FROM pop_households h JOIN pop_persons p ON p.id_number = h.householder_id \
         WHERE p.household_id = h.household_id AND p.status = 'alive'",
    )
    .await;
    assert_eq!(
        heads,
        count(&db, "SELECT COUNT(*) FROM pop_households").await
    );
}

async fn pupils_fit_their_grades_and_school_districts(engine: Engine) {
    let db = city(engine, 2000, 13).await;
    let people = people(&db).await;
    let students: Vec<(String, String, i64, String)> = kernel::with_db!(&db, pool => {
        sqlx::query_as(
            "SELECT s.id_number, s.school_id, s.grade, c.level FROM edu_students s \
             JOIN edu_schools c ON c.school_id = s.school_id",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    assert!(students.len() > 100, "{} pupils", students.len());
    let served: HashSet<(String, String)> = pairs(
        &db,
        "SELECT school_id, community_code FROM edu_school_districts",
    )
    .await
    .into_iter()
    .collect();
    for (id, school, grade, level) in &students {
        let p = &people[id];
        // In the autumn term of 2025 a first-grader turned six by 31 August 2025.
        let age_at_cutoff = age(p.birth, NaiveDate::from_ymd_opt(2025, 8, 31).unwrap());
        assert_eq!(
            i64::from(age_at_cutoff) - 5,
            *grade,
            "{id} born {} is in grade {grade}",
            p.birth
        );
        assert_eq!(level, if *grade <= 6 { "primary" } else { "junior" });
        assert!(
            served.contains(&(school.clone(), p.community.clone())),
            "{id} is outside the school district"
        );
    }
    // Every living child of school age is a pupil.
    let of_age = people
        .iter()
        .filter(|(_, p)| p.status == "alive" && sim::school_grade(p.birth, sim::AS_OF).is_some())
        .count();
    assert_eq!(of_age, students.len());
}

async fn companies_and_employers_exist_and_legal_persons_are_adults(engine: Engine) {
    let db = city(engine, 1200, 14).await;
    let people = people(&db).await;
    let legal = pairs(&db, "SELECT credit_code, legal_person_id FROM mr_companies").await;
    assert_eq!(legal.len(), 60);
    for (code, person) in &legal {
        let p = people
            .get(person)
            .unwrap_or_else(|| panic!("{code}: legal person {person} is nobody"));
        assert!(age(p.birth, sim::AS_OF) >= 18 && p.status == "alive");
    }
    let codes: HashSet<String> = legal.into_iter().map(|l| l.0).collect();
    for sql in [
        "SELECT employer_code FROM hrss_employment",
        "SELECT employer_code FROM hf_accounts WHERE employer_code IS NOT NULL",
        "SELECT seller_id FROM prop_contracts WHERE seller_kind = 'developer'",
    ] {
        let found = texts(&db, sql).await;
        assert!(!found.is_empty(), "{sql}");
        for c in found {
            assert!(codes.contains(&c), "{sql}: {c} is not registered");
        }
    }
    // Working-age people hold jobs, retired people none.
    let employed = count(
        &db,
        "SELECT COUNT(DISTINCT id_number) FROM hrss_employment WHERE until IS NULL",
    )
    .await;
    let adults = people
        .values()
        .filter(|p| (22..55).contains(&age(p.birth, sim::AS_OF)))
        .count() as i64;
    assert!(employed > adults / 2, "{employed} employed of {adults}");
    for (id, _) in pairs(
        &db,
        "SELECT id_number, since FROM hrss_employment WHERE until IS NULL",
    )
    .await
    {
        assert!(
            (18..60).contains(&age(people[&id].birth, sim::AS_OF)),
            "{id}"
        );
    }
}

async fn property_contracts_tax_and_titles_agree(engine: Engine) {
    let db = city(engine, 1500, 15).await;
    let contracts: Vec<(String, String, String)> = kernel::with_db!(&db, pool => {
        sqlx::query_as("SELECT contract_no, status, signed_on FROM prop_contracts").fetch_all(pool).await.unwrap()
    });
    assert!(!contracts.is_empty());
    let titled: HashSet<String> = texts(
        &db,
        "SELECT contract_no FROM prop_properties WHERE contract_no IS NOT NULL",
    )
    .await
    .into_iter()
    .collect();
    let taxed: HashMap<String, String> =
        pairs(&db, "SELECT contract_no, paid_on FROM tax_deed_tax")
            .await
            .into_iter()
            .collect();
    for (no, status, signed) in &contracts {
        assert_eq!(titled.contains(no), status == "registered", "{no}");
        if status == "registered" {
            let paid = taxed
                .get(no)
                .unwrap_or_else(|| panic!("{no} registered without deed tax"));
            assert!(date(paid) > date(signed));
        }
    }
    let wrong_tax = count(&db, "SELECT COUNT(*) FROM tax_deed_tax WHERE amount_cents * 1000 != taxable_cents * rate_permille").await;
    assert_eq!(wrong_tax, 0);
    let households = count(&db, "SELECT COUNT(*) FROM pop_households").await;
    let owning = count(
        &db,
        "SELECT COUNT(*) FROM pop_households h WHERE EXISTS \
         (SELECT 1 FROM prop_properties p WHERE p.owner_id = h.householder_id)",
    )
    .await;
    let share = owning as f64 / households as f64;
    assert!((0.45..0.75).contains(&share), "{share} of households own");
}

async fn refuses_to_generate_into_an_existing_city(engine: Engine) {
    let db = city(engine, 300, 16).await;
    let before = sim::digest(&db).await.unwrap();
    let err = sim::generate(
        &db,
        &GenOptions {
            persons: 300,
            seed: 17,
        },
    )
    .await
    .unwrap_err();
    match err.downcast_ref::<SimError>() {
        Some(SimError::CityExists {
            seed: 16,
            persons: 300,
        }) => {}
        other => panic!("expected CityExists, got {other:?}"),
    }
    assert!(err.to_string().contains("seed 16"), "{err}");
    assert_eq!(sim::digest(&db).await.unwrap(), before);
    let meta = sim::city_exists(&db).await.unwrap().expect("a city");
    assert_eq!((meta.seed, meta.persons), (16, 300));
    assert_eq!(meta.as_of, "2025-12-31");
    assert_eq!(meta.counts["pop_persons"], 300);
    assert!(meta.generated_at.is_some());
    // Nonsense sizes are refused before anything is written.
    let fresh = empty(engine).await;
    assert!(
        sim::generate(
            &fresh,
            &GenOptions {
                persons: 0,
                seed: 1
            }
        )
        .await
        .is_err()
    );
    assert!(sim::city_exists(&fresh).await.unwrap().is_none());
}

async fn counts_scale_with_size(engine: Engine) {
    let small = sim::city_exists(&city(engine, 400, 18).await)
        .await
        .unwrap()
        .unwrap()
        .counts;
    let large = sim::city_exists(&city(engine, 2000, 18).await)
        .await
        .unwrap()
        .unwrap()
        .counts;
    assert_eq!(small["pop_persons"], 400);
    assert_eq!(large["pop_persons"], 2000);
    assert_eq!((small["mr_companies"], large["mr_companies"]), (20, 100));
    for table in [
        "pop_households",
        "civil_marriages",
        "hrss_employment",
        "hf_accounts",
        "prop_properties",
    ] {
        let ratio = large[table] as f64 / small[table] as f64;
        assert!(
            (3.0..7.5).contains(&ratio),
            "{table}: {} → {}",
            small[table],
            large[table]
        );
    }
    // The map is the same whatever the size.
    assert_eq!(small["geo_communities"], large["geo_communities"]);
}

async fn demo_subjects_are_rich_and_geography_matches_the_map(engine: Engine) {
    let db = city(engine, 300, sim::DEFAULT_SEED).await;
    let demo = sim::demo_subjects(&db).await.unwrap();
    let c = &demo.citizen;
    IdNumber::parse(&c.id_number).unwrap();
    assert!(age(date(&c.birth_date), sim::AS_OF) >= 30);
    assert!(c.phone.is_some() && c.spouse_id_number.is_some() && c.spouse_name.is_some());
    assert_eq!(c.children.len(), 2);
    assert!(c.property_cert_no.is_some() && c.housing_fund_account_no.is_some());
    assert_eq!(demo.company.legal_person_id, c.id_number);
    assert_eq!(demo.company.legal_person_name, c.name);
    CreditCode::parse(&demo.company.credit_code).unwrap();
    // The same seed picks the same subjects in another database.
    let again = sim::demo_subjects(&city(engine, 300, sim::DEFAULT_SEED).await)
        .await
        .unwrap();
    assert_eq!(again, demo);
    let geo = sim::geography(&db).await.unwrap();
    assert_eq!(geo, sim::zhengzhou());
    assert_eq!(geo.len(), 12);
    assert!(geo.iter().all(|d| !d.sub_districts.is_empty()
        && d.sub_districts.iter().all(|s| !s.communities.is_empty())));
    // Before a city exists there is nothing to show, and no demo.
    let none = empty(engine).await;
    assert!(sim::geography(&none).await.unwrap().is_empty());
    assert!(matches!(
        sim::demo_subjects(&none).await,
        Err(SimError::NoCity)
    ));
}

async fn index_names(db: &Db) -> Vec<String> {
    let sql = match db.engine() {
        Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name",
        Engine::Postgres => {
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1"
        }
    };
    texts(db, sql).await
}

async fn indexes_are_rebuilt_after_the_bulk_load(engine: Engine) {
    let db = empty(engine).await;
    let before = index_names(&db).await;
    assert!(
        before.iter().any(|n| n == "pop_persons_phone"),
        "{before:?}"
    );
    sim::generate(
        &db,
        &GenOptions {
            persons: 300,
            seed: 19,
        },
    )
    .await
    .unwrap();
    assert_eq!(index_names(&db).await, before);
    // The rebuilt unique index still refuses a second person with the same phone.
    let phone = texts(
        &db,
        "SELECT phone FROM pop_persons WHERE phone IS NOT NULL LIMIT 1",
    )
    .await;
    let dup = format!(
        "INSERT INTO pop_persons (id_number, name, gender, birth_date, ethnicity, household_id, relation, \
         marital_status, community_code, district_code, address, phone, status) VALUES \
         ('11010519491231002X', '测试', 'F', '1949-12-31', '汉族', 'h', 'householder', 'single', 'c', 'd', 'a', '{}', 'alive')",
        phone[0]
    );
    let inserted = kernel::with_db!(&db, pool => sqlx::query(&dup).execute(pool).await.map(|_| ()));
    assert!(inserted.is_err(), "a duplicate phone was accepted");
}

async fn a_failed_generation_leaves_nothing_behind(engine: Engine) {
    let db = empty(engine).await;
    // A unique index on gender cannot be rebuilt over a population: the generation fails at
    // its very end, after every row was written.
    let sabotage = "DROP INDEX pop_persons_phone; \
                    CREATE UNIQUE INDEX pop_persons_phone ON pop_persons (gender)";
    kernel::with_db!(&db, pool => sqlx::raw_sql(sabotage).execute(pool).await.map(|_| ())).unwrap();
    let before = index_names(&db).await;
    let err = sim::generate(
        &db,
        &GenOptions {
            persons: 300,
            seed: 20,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err.downcast_ref::<SimError>(), Some(SimError::Db(_))),
        "{err:?}"
    );
    assert!(sim::city_exists(&db).await.unwrap().is_none());
    for table in sim::registry_tables() {
        assert_eq!(
            count(&db, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    assert_eq!(index_names(&db).await, before);
    // Rows in the registries without a city are refused before anything is written.
    let blocker = "INSERT INTO geo_districts (code, name, kind, city_code, city_name) \
                   VALUES ('410102', '占位', 'district', '410100', '郑州市')";
    let db = empty(engine).await;
    kernel::with_db!(&db, pool => sqlx::query(blocker).execute(pool).await.map(|_| ())).unwrap();
    let err = sim::generate(
        &db,
        &GenOptions {
            persons: 300,
            seed: 20,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err.downcast_ref::<SimError>(), Some(SimError::NotEmpty)),
        "{err:?}"
    );
}
