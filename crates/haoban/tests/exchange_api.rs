//! The exchange through the real server and the real binary, with the simulated department
//! systems on their own ports, on both engines: real-name binding at sign-up, queries over
//! HTTP, a person's own access log, and `haoban audit verify`.

mod common;

use std::process::Command;

use kernel::Engine;
use serde_json::{Value, json};

const SEED: u64 = 4545;

type Setup = common::CityServer;

async fn setup(engine: Engine) -> Setup {
    common::CityServer::start(engine, SEED, common::CityAccounts::None).await
}

async fn post(s: &Setup, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
    let mut req = common::client()
        .post(format!("{}{path}", s.base))
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn sign_up(s: &Setup, name: &str, id: &str, phone: &str) -> (u16, Value) {
    post(
        s,
        "/api/v1/citizens",
        json!({"name": name, "id_number": id, "phone": phone, "password": "a sound passphrase"}),
        None,
    )
    .await
}

async fn accounts(s: &Setup) -> i64 {
    let (n,): (i64,) = kernel::with_db!(&s.db, pool =>
        sqlx::query_as("SELECT COUNT(*) FROM accounts").fetch_one(pool).await)
    .unwrap();
    n
}

async fn real_name_binding_and_the_access_log(engine: Engine) {
    let s = setup(engine).await;
    let before = accounts(&s).await;
    // A name that is not the registry's for this ID number: nothing is created.
    let (status, body) = sign_up(&s, "冒名顶替", &s.citizen.id_number, "13900001111").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "real_name_mismatch");
    assert_eq!(body["errors"][0]["field"], "name");
    // A valid number nobody in the city holds.
    let (status, _) = sign_up(&s, "张三", "11010519491231002X", "13900001112").await;
    assert_eq!(status, 422);
    assert_eq!(accounts(&s).await, before);

    // The registry down: no account, and a clear answer to try later.
    s.systems
        .knobs("police")
        .unwrap()
        .update(|k| k.outage = sim::systems::Outage::Unavailable)
        .unwrap();
    // (Someone not asked about before: a recent answer would come from the cache.)
    let (other_id, other_name): (String, String) = kernel::with_db!(&s.db, pool =>
        sqlx::query_as("SELECT id_number, name FROM pop_persons WHERE id_number <> $1 ORDER BY id_number LIMIT 1")
            .bind(&s.citizen.id_number).fetch_one(pool).await)
    .unwrap();
    let (status, body) = sign_up(&s, &other_name, &other_id, "13900001113").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "real_name_unavailable");
    assert_eq!(accounts(&s).await, before);
    s.systems.knobs("police").unwrap().reset();

    // The true name: the account is created.
    let (status, body) = sign_up(&s, &s.citizen.name, &s.citizen.id_number, "13900001114").await;
    assert_eq!(status, 201, "{body}");
    let (_, session) = post(
        &s,
        "/api/v1/sessions",
        json!({"login": s.citizen.id_number, "password": "a sound passphrase"}),
        None,
    )
    .await;
    let token = session["token"].as_str().unwrap().to_string();

    // A query for one's own data, for an item that declares the need.
    let item = "410100-GJJ-0001";
    let (status, answer) = post(
        &s,
        "/api/v1/exchange/query",
        json!({"subject": s.citizen.id_number, "elements": ["housing_fund.balance"], "item": item}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["values"]["housing_fund.balance"]["source"], "fund");
    assert!(answer["values"]["housing_fund.balance"]["fetched_at"].is_string());
    // Another's data, or data the item does not declare: refused.
    let (status, body) = post(
        &s,
        "/api/v1/exchange/query",
        json!({"subject": "11010519491231002X", "elements": ["person.name"], "item": item}),
        Some(&token),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_yours")));
    let (status, body) = post(
        &s,
        "/api/v1/exchange/query",
        json!({"subject": s.citizen.id_number, "elements": ["vehicle.plate_no"], "item": item}),
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("purpose_does_not_cover"))
    );

    // The person sees every access about them: the sign-up checks and the queries.
    let res = common::client()
        .get(format!("{}/api/v1/me/data-accesses", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let log: Value = res.json().await.unwrap();
    let list = log["accesses"].as_array().unwrap();
    let kinds: Vec<&str> = list
        .iter()
        .map(|a| a["purpose_kind"].as_str().unwrap())
        .collect();
    // The mismatch and the successful sign-up; the other person's check is theirs.
    assert_eq!(
        kinds.iter().filter(|k| **k == "sign_up").count(),
        2,
        "{kinds:?}"
    );
    assert!(
        list.iter()
            .any(|a| a["purpose"] == item && a["outcome"] == "ok")
    );
    assert!(list.iter().any(|a| a["outcome"] == "refused"));

    s.running.stop().await;
    s.systems.shutdown().await;

    // The command line: intact, then an altered entry is named.
    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_haoban"))
            .args(["audit", "verify"])
            .env("HAOBAN_DATABASE_URL", &s.url)
            .env("HAOBAN_LOG", "warn")
            .output()
            .unwrap()
    };
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    kernel::with_db!(&s.db, pool =>
        sqlx::query("UPDATE exchange_audit SET outcome = 'tampered' WHERE seq = 2").execute(pool).await.map(|_| ()))
    .unwrap();
    let bad = verify();
    assert!(!bad.status.success());
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(out.contains("entry 2"), "{out}");
}
mod exchange_through_the_server {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::real_name_binding_and_the_access_log(kernel::Engine::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::real_name_binding_and_the_access_log(kernel::Engine::Postgres).await;
    }
}
