//! The exchange against the simulated department systems over real sockets, on both
//! engines: values with provenance, purposes that bound what may be asked, slow and dead
//! sources, the circuit breaker, real-name checks and the audit chain.

use std::path::Path;
use std::time::{Duration, Instant};

use catalog::CatalogService;
use exchange::audit::{self, Broken};
use exchange::{
    AccessFile, Connectors, Exchange, Purpose, QueryError, Requester, Subject, access_by_key,
};
use kernel::{Db, Engine, IdNumber};
use sim::systems::{Outage, RunningSystems, SystemsConfig};

macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(kernel::Engine::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(kernel::Engine::Postgres).await
                }
            }
        )*
    };
}

on_both_engines!(
    values_come_with_their_source,
    the_purpose_bounds_what_may_be_asked,
    slow_and_dead_sources_are_named_and_the_circuit_opens,
    real_names_are_checked_against_the_population_registry,
    the_audit_chain_names_the_first_bad_entry,
    vaccinations_come_from_health_for_the_child,
);

const SEED: u64 = 4343;

struct World {
    db: Db,
    systems: RunningSystems,
    exchange: Exchange,
    citizen: sim::DemoCitizen,
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

async fn world(engine: Engine, deadline: Duration, open_s: u64) -> World {
    let (db, _) = kernel::scratch::fresh(engine)
        .await
        .expect("scratch database");
    db.migrate(&[
        &sim::MIGRATIONS,
        &catalog::MIGRATIONS,
        &exchange::MIGRATIONS,
    ])
    .await
    .expect("migrations");
    sim::generate(
        &db,
        &sim::GenOptions {
            persons: 2000,
            seed: SEED,
        },
    )
    .await
    .expect("generate");
    let systems = sim::systems::start(db.clone(), SystemsConfig::new(SEED))
        .await
        .expect("systems start");
    let catalog = CatalogService::open(db.clone(), &root().join("catalog"))
        .await
        .expect("catalog");
    let mut connectors = Connectors::load_dir(&root().join("connectors"), &catalog.current())
        .expect("the shipped connectors are valid");
    for c in &mut connectors.list {
        c.breaker.open_s = open_s;
        c.breaker.failures = 3;
        c.retries = 0;
    }
    let access: AccessFile = serde_json::from_value(systems.manifest()).expect("manifest");
    let exchange = Exchange::new(
        db.clone(),
        catalog,
        connectors,
        access_by_key(access),
        deadline,
    );
    let citizen = sim::demo_subjects(&db)
        .await
        .expect("demo subjects")
        .citizen;
    World {
        db,
        systems,
        exchange,
        citizen,
    }
}

fn me(w: &World) -> (Requester, Subject) {
    (
        Requester::Citizen {
            account_id: "acct-1".into(),
            id_number: w.citizen.id_number.clone(),
        },
        Subject::Person(IdNumber::parse(&w.citizen.id_number).unwrap()),
    )
}

/// The item whose declared needs the connectors serve best, and those elements.
fn best_item(w: &World) -> (String, Vec<String>) {
    let c = w.exchange.catalog().current();
    let connectors = Connectors::load_dir(&root().join("connectors"), &c).unwrap();
    c.items()
        .iter()
        .filter(|i| i.applicant != catalog::Applicant::Company)
        .map(|i| {
            let allowed = w.exchange.allowed(&Purpose::Item(i.code.clone())).unwrap();
            let served: Vec<String> = allowed
                .into_iter()
                .filter(|e| connectors.by_element.contains_key(e) && e.starts_with("person."))
                .collect();
            (i.code.clone(), served)
        })
        .max_by_key(|(_, s)| s.len())
        .unwrap()
}

async fn values_come_with_their_source(engine: Engine) {
    let w = world(engine, Duration::from_secs(5), 30).await;
    let (req, subject) = me(&w);
    let (item, elements) = best_item(&w);
    assert!(
        elements.contains(&"person.name".to_string()),
        "{item}: {elements:?}"
    );
    let a = w
        .exchange
        .query(&req, &subject, &elements, &Purpose::Item(item.clone()))
        .await
        .unwrap();
    assert!(a.unavailable.is_empty(), "{:?}", a.unavailable);
    let name = &a.values["person.name"];
    assert_eq!(name.value, serde_json::json!(w.citizen.name));
    assert_eq!(name.source, "police");
    assert!(!name.cached);
    // Asked again: from the cache, still with its source and time.
    let again = w
        .exchange
        .query(&req, &subject, &elements, &Purpose::Item(item))
        .await
        .unwrap();
    assert!(again.values["person.name"].cached);
    assert_eq!(again.values["person.name"].fetched_at, name.fetched_at);

    // Every connector maps real answers: the demo citizen has a home, a job, a fund
    // account and a marriage on record. Asked as staff for an item allowing each.
    let staff = Requester::Staff {
        account_id: "staff-1".into(),
        label: "测试".into(),
    };
    let c = w.exchange.catalog().current();
    let mut checked = 0;
    for (element, source) in [
        ("housing_fund.balance", "fund"),
        ("household.property_count", "realestate"),
        ("person.marital_status", "police"),
        ("social_insurance.pension_months", "hrss"),
        ("person.registered_companies", "market"),
    ] {
        let Some(item) = c.items().iter().find(|i| {
            w.exchange
                .allowed(&Purpose::Item(i.code.clone()))
                .unwrap()
                .contains(&element.to_string())
        }) else {
            continue;
        };
        let a = w
            .exchange
            .query(
                &staff,
                &subject,
                &[element.to_string()],
                &Purpose::Item(item.code.clone()),
            )
            .await
            .unwrap();
        let p = a
            .values
            .get(element)
            .unwrap_or_else(|| panic!("{element}: {a:?}"));
        assert_eq!(p.source, source, "{element}");
        checked += 1;
    }
    assert!(
        checked >= 4,
        "only {checked} elements had an item allowing them"
    );

    // The other party of a marriage record, read from either spouse's side.
    if let (Some(spouse_id), Some(spouse_name)) =
        (&w.citizen.spouse_id_number, &w.citizen.spouse_name)
    {
        let item = c
            .items()
            .iter()
            .find(|i| {
                let allowed = w.exchange.allowed(&Purpose::Item(i.code.clone())).unwrap();
                allowed.contains(&"spouse.id_number".to_string())
                    && allowed.contains(&"spouse.name".to_string())
            })
            .expect("an item declares the spouse's data")
            .code
            .clone();
        let both = ["spouse.id_number".to_string(), "spouse.name".to_string()];
        let a = w
            .exchange
            .query(&staff, &subject, &both, &Purpose::Item(item.clone()))
            .await
            .unwrap();
        assert_eq!(
            a.values["spouse.id_number"].value,
            serde_json::json!(spouse_id)
        );
        assert_eq!(
            a.values["spouse.name"].value,
            serde_json::json!(spouse_name)
        );
        let other = Subject::Person(IdNumber::parse(spouse_id).unwrap());
        let b = w
            .exchange
            .query(&staff, &other, &both, &Purpose::Item(item))
            .await
            .unwrap();
        assert_eq!(
            b.values["spouse.id_number"].value,
            serde_json::json!(w.citizen.id_number)
        );
        assert_eq!(
            b.values["spouse.name"].value,
            serde_json::json!(w.citizen.name)
        );
    } else {
        panic!("the demo citizen is married");
    }
    w.systems.shutdown().await;
}

async fn the_purpose_bounds_what_may_be_asked(engine: Engine) {
    let w = world(engine, Duration::from_secs(5), 30).await;
    let (req, subject) = me(&w);
    let (item, _) = best_item(&w);
    let before = audit::verify(&w.db).await.unwrap().unwrap();
    let e = w
        .exchange
        .query(
            &req,
            &subject,
            &["tax.annual_income".to_string(), "person.name".into()],
            &Purpose::Item(item.clone()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, QueryError::NotCovered(ref l) if l == &vec!["tax.annual_income".to_string()]),
        "{e:?}"
    );
    // Another person's data, even for a good purpose.
    let other = Subject::Person(IdNumber::parse("11010519491231002X").unwrap());
    let e = w
        .exchange
        .query(
            &req,
            &other,
            &["person.name".to_string()],
            &Purpose::Item(item.clone()),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, QueryError::NotYours));
    let e = w
        .exchange
        .query(
            &req,
            &subject,
            &["person.name".to_string()],
            &Purpose::Item("NO-SUCH".into()),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, QueryError::UnknownPurpose));
    // Refusals are audited too.
    let after = audit::verify(&w.db).await.unwrap().unwrap();
    assert_eq!(after, before + 3);
    let mine = audit::about(&w.db, "person", &w.citizen.id_number, 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 2, "the two refusals about the citizen");
    assert!(mine.iter().all(|e| e.outcome == "refused"));
    assert!(!mine[0].subject_masked.contains(&w.citizen.id_number[6..14]));
    w.systems.shutdown().await;
}

async fn slow_and_dead_sources_are_named_and_the_circuit_opens(engine: Engine) {
    let deadline = Duration::from_millis(800);
    let w = world(engine, deadline, 1).await;
    let staff = Requester::Staff {
        account_id: "staff-1".into(),
        label: "测试".into(),
    };
    let (_, subject) = me(&w);
    let (item, elements) = best_item(&w);

    // A slow police system: the answer comes by the deadline, police marked unavailable.
    w.systems
        .knobs("police")
        .unwrap()
        .update(|k| k.latency_ms = 5000)
        .unwrap();
    let t = Instant::now();
    let a = w
        .exchange
        .query(&staff, &subject, &elements, &Purpose::Item(item.clone()))
        .await
        .unwrap();
    let took = t.elapsed();
    assert!(took < deadline + Duration::from_secs(2), "took {took:?}");
    assert!(
        a.unavailable
            .iter()
            .any(|u| u.source == "police" && u.reason == "timeout"),
        "{a:?}"
    );
    assert!(!a.values.contains_key("person.name"));
    w.systems.knobs("police").unwrap().reset();

    // A dead fund system: refused connections open its circuit after three failures.
    let fund_item = {
        let c = w.exchange.catalog().current();
        c.items()
            .iter()
            .find(|i| {
                w.exchange
                    .allowed(&Purpose::Item(i.code.clone()))
                    .unwrap()
                    .contains(&"housing_fund.balance".to_string())
            })
            .unwrap()
            .code
            .clone()
    };
    w.systems
        .knobs("fund")
        .unwrap()
        .update(|k| k.outage = Outage::Unavailable)
        .unwrap();
    // A different subject each time, so no answer comes from the cache.
    let people: Vec<String> = kernel::with_db!(&w.db, pool =>
        sqlx::query_scalar("SELECT id_number FROM hf_accounts ORDER BY id_number LIMIT 6").fetch_all(pool).await)
    .unwrap();
    let ask = |id: &str| {
        let subject = Subject::Person(IdNumber::parse(id).unwrap());
        let ex = w.exchange.clone();
        let staff = staff.clone();
        let item = fund_item.clone();
        async move {
            ex.query(
                &staff,
                &subject,
                &["housing_fund.balance".to_string()],
                &Purpose::Item(item),
            )
            .await
            .unwrap()
        }
    };
    for id in &people[..3] {
        let a = ask(id).await;
        assert_eq!(a.unavailable[0].reason, "failed", "{a:?}");
    }
    assert_eq!(w.exchange.circuits()["fund"], "open");
    let a = ask(&people[3]).await;
    assert_eq!(a.unavailable[0].reason, "circuit_open");
    // Back up, and after the open period one trial call closes the circuit again.
    w.systems.knobs("fund").unwrap().reset();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let a = ask(&people[4]).await;
    assert!(a.unavailable.is_empty(), "{a:?}");
    assert!(a.values.contains_key("housing_fund.balance"));
    assert_eq!(w.exchange.circuits()["fund"], "closed");
    w.systems.shutdown().await;
}

async fn real_names_are_checked_against_the_population_registry(engine: Engine) {
    let w = world(engine, Duration::from_secs(5), 30).await;
    let id = IdNumber::parse(&w.citizen.id_number).unwrap();
    assert_eq!(
        w.exchange
            .real_name_matches(&id, &w.citizen.name)
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(
        w.exchange.real_name_matches(&id, "冒名").await.unwrap(),
        Some(false)
    );
    // A valid number nobody in the city holds.
    let nobody = IdNumber::parse("11010519491231002X").unwrap();
    assert_eq!(
        w.exchange.real_name_matches(&nobody, "张三").await.unwrap(),
        Some(false)
    );
    w.systems
        .knobs("police")
        .unwrap()
        .update(|k| k.outage = Outage::Unavailable)
        .unwrap();
    let fresh = {
        let ids: Vec<String> = kernel::with_db!(&w.db, pool =>
            sqlx::query_scalar("SELECT id_number FROM pop_persons ORDER BY id_number LIMIT 1").fetch_all(pool).await)
        .unwrap();
        IdNumber::parse(&ids[0]).unwrap()
    };
    assert_eq!(
        w.exchange.real_name_matches(&fresh, "谁").await.unwrap(),
        None
    );
    w.systems.shutdown().await;
}

async fn the_audit_chain_names_the_first_bad_entry(engine: Engine) {
    let w = world(engine, Duration::from_secs(5), 30).await;
    let (req, subject) = me(&w);
    let (item, elements) = best_item(&w);
    for _ in 0..5 {
        w.exchange
            .query(&req, &subject, &elements[..1], &Purpose::Item(item.clone()))
            .await
            .unwrap();
    }
    assert_eq!(audit::verify(&w.db).await.unwrap(), Ok(5));
    let exec = |sql: &'static str| {
        let db = w.db.clone();
        async move {
            kernel::with_db!(&db, pool => sqlx::query(sql).execute(pool).await.map(|_| ()))
                .unwrap();
        }
    };
    exec("UPDATE exchange_audit SET purpose_ref = 'X' WHERE seq = 3").await;
    assert_eq!(
        audit::verify(&w.db).await.unwrap(),
        Err(Broken::Altered { seq: 3 })
    );
    w.systems.shutdown().await;

    // Deleting an entry, or the last ones.
    let w = world(engine, Duration::from_secs(5), 30).await;
    let (req, subject) = me(&w);
    for _ in 0..5 {
        w.exchange
            .query(&req, &subject, &elements[..1], &Purpose::Item(item.clone()))
            .await
            .unwrap();
    }
    let exec = |sql: &'static str| {
        let db = w.db.clone();
        async move {
            kernel::with_db!(&db, pool => sqlx::query(sql).execute(pool).await.map(|_| ()))
                .unwrap();
        }
    };
    exec("DELETE FROM exchange_audit WHERE seq = 5").await;
    assert_eq!(
        audit::verify(&w.db).await.unwrap(),
        Err(Broken::Truncated {
            expected_last: 5,
            found_last: 4
        })
    );
    exec("DELETE FROM exchange_audit WHERE seq = 2").await;
    assert_eq!(
        audit::verify(&w.db).await.unwrap(),
        Err(Broken::Missing { seq: 2 })
    );
    w.systems.shutdown().await;
}

async fn vaccinations_come_from_health_for_the_child(engine: Engine) {
    let w = world(engine, Duration::from_secs(5), 30).await;
    let staff = Requester::Staff {
        account_id: "staff-1".into(),
        label: "测试".into(),
    };
    let elements = vec![
        "child.vaccination_doses".to_string(),
        "child.vaccination_complete".to_string(),
    ];
    let vaccination_record = Purpose::Item("410100-WJ-0002".into());
    // The health system is asked with the child's own ID number.
    let (child_id, _) = w.citizen.children[0].clone();
    let child = Subject::Person(IdNumber::parse(&child_id).unwrap());
    let a = w
        .exchange
        .query(&staff, &child, &elements, &vaccination_record)
        .await
        .unwrap();
    assert!(a.unavailable.is_empty() && a.no_record.is_empty(), "{a:?}");
    let doses = &a.values["child.vaccination_doses"];
    let complete = &a.values["child.vaccination_complete"];
    assert_eq!(doses.source, "health");
    assert_eq!(complete.source, "health");
    // At least the two doses given at birth.
    assert!(doses.value.as_i64().is_some_and(|n| n >= 2), "{doses:?}");
    assert!(complete.value.is_boolean(), "{complete:?}");

    // School enrolment checks whether the schedule is complete, not the doses.
    let enrolment = Purpose::Item("410100-JY-0001".into());
    let a = w
        .exchange
        .query(&staff, &child, &elements[1..], &enrolment)
        .await
        .unwrap();
    assert_eq!(a.values["child.vaccination_complete"].value, complete.value);
    let e = w
        .exchange
        .query(&staff, &child, &elements[..1], &enrolment)
        .await
        .unwrap_err();
    assert!(matches!(e, QueryError::NotCovered(_)), "{e:?}");

    // Somebody the health system never saw born: no record, not zero doses.
    let stranger = Subject::Person(IdNumber::parse("11010519491231002X").unwrap());
    let a = w
        .exchange
        .query(&staff, &stranger, &elements, &vaccination_record)
        .await
        .unwrap();
    assert!(a.values.is_empty(), "{a:?}");
    assert_eq!(a.no_record.len(), 2, "{a:?}");
    w.systems.shutdown().await;
}
