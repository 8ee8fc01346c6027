//! The simulated department systems over real sockets, on both engines: each serves its
//! registry in its own format, refuses callers without its credentials, pages without gaps
//! or repeats, and obeys its knobs.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use kernel::{Db, Engine};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use sim::systems::{
    self, Credentials, Knobs, Outage, RunningSystem, RunningSystems, SystemsConfig,
};

/// Runs an engine-generic test once on SQLite and once on PostgreSQL.
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
    each_system_serves_its_registry_in_its_own_format,
    unknown_subjects_and_bad_parameters_get_each_vendors_answer,
    wrong_or_missing_credentials_are_refused,
    signed_requests_are_checked,
    bearer_tokens_are_issued_and_expire,
    paging_returns_every_row_exactly_once,
    knobs_slow_break_and_stop_a_system,
    vaccination_records_follow_the_national_schedule,
);

const PERSONS: u64 = 2500;
const SEED: u64 = 4242;

async fn city(engine: Engine) -> Db {
    let (db, _) = kernel::scratch::fresh(engine)
        .await
        .expect("scratch database");
    db.migrate(&[&sim::MIGRATIONS]).await.expect("migrations");
    sim::generate(
        &db,
        &sim::GenOptions {
            persons: PERSONS,
            seed: SEED,
        },
    )
    .await
    .expect("generate");
    db
}

async fn start(db: &Db, cfg: SystemsConfig) -> RunningSystems {
    systems::start(db.clone(), cfg)
        .await
        .expect("systems start")
}

async fn texts(db: &Db, sql: &str) -> Vec<String> {
    kernel::with_db!(db, pool => sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await.unwrap())
}

async fn text(db: &Db, sql: &str) -> String {
    texts(db, sql)
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no row: {sql}"))
}

/// `sql` with `$1` bound to `arg`, answering text.
async fn texts_for(db: &Db, sql: &str, arg: &str) -> Vec<String> {
    kernel::with_db!(db, pool => {
        sqlx::query_scalar::<_, String>(sql).bind(arg).fetch_all(pool).await.unwrap()
    })
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn epoch_ms(iso: &str) -> i64 {
    let d = NaiveDate::parse_from_str(iso, "%Y-%m-%d").unwrap();
    d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis() - 8 * 3600 * 1000
}

/// A valid ID number of somebody outside the city (Beijing, 110101).
fn stranger() -> String {
    kernel::IdNumber::from_parts(110101, NaiveDate::from_ymd_opt(1980, 5, 17).unwrap(), 321)
        .as_str()
        .to_string()
}

/// A caller that presents each system's credentials as the system wants them.
struct Caller {
    http: Client,
}

impl Caller {
    fn new() -> Caller {
        Caller {
            http: Client::builder().build().unwrap(),
        }
    }

    async fn token(&self, sys: &RunningSystem) -> String {
        let Credentials::Bearer {
            token_path,
            client_id,
            client_secret,
            ..
        } = &sys.credentials
        else {
            panic!("{} does not issue tokens", sys.key);
        };
        let url = format!("{}{token_path}", sys.base_url);
        if sys.key == "health" {
            let res = self
                .http
                .post(url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", client_secret),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let v: Value = res.json().await.unwrap();
            assert_eq!(v["token_type"], "Bearer");
            v["access_token"].as_str().unwrap().to_string()
        } else {
            let res = self
                .http
                .post(url)
                .json(&json!({ "appId": client_id, "appSecret": client_secret }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let v: Value = res.json().await.unwrap();
            assert_eq!(v["code"], 200);
            v["data"]["accessToken"].as_str().unwrap().to_string()
        }
    }

    /// `method path?query` with the system's credentials.
    async fn request(
        &self,
        sys: &RunningSystem,
        method: &str,
        path_and_query: &str,
    ) -> RequestBuilder {
        let url = format!("{}{path_and_query}", sys.base_url);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let rb = self.http.request(method.clone(), url);
        match &sys.credentials {
            Credentials::ApiKey {
                header,
                scheme,
                key,
            } => {
                let value = match scheme {
                    Some(w) => format!("{w} {key}"),
                    None => key.clone(),
                };
                rb.header(header, value)
            }
            Credentials::ClientSecret {
                id_header,
                secret_header,
                client_id,
                client_secret,
            } => rb
                .header(id_header, client_id)
                .header(secret_header, client_secret),
            Credentials::Basic { username, password } => rb.basic_auth(username, Some(password)),
            Credentials::Bearer { .. } => rb.bearer_auth(self.token(sys).await),
            Credentials::Hmac { .. } => {
                let (path, query) = match path_and_query.split_once('?') {
                    Some((p, q)) => (p, Some(q)),
                    None => (path_and_query, None),
                };
                let ts = now().to_string();
                let nonce = fresh_nonce();
                signed(rb, sys, method.as_str(), path, query, &ts, &nonce)
            }
        }
    }

    async fn get(&self, sys: &RunningSystem, path_and_query: &str) -> reqwest::Response {
        self.request(sys, "GET", path_and_query)
            .await
            .send()
            .await
            .unwrap()
    }

    async fn get_json(&self, sys: &RunningSystem, path_and_query: &str) -> (StatusCode, Value) {
        let res = self.get(sys, path_and_query).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        let v = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{} {path_and_query}: not JSON ({e}): {body}", sys.key));
        (status, v)
    }

    async fn get_xml(&self, sys: &RunningSystem, path_and_query: &str) -> (StatusCode, String) {
        let res = self.get(sys, path_and_query).await;
        let status = res.status();
        let ct = res.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        assert!(ct.starts_with("application/xml"), "{ct}");
        let body = res.text().await.unwrap();
        assert_well_formed(&body);
        (status, body)
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn fresh_nonce() -> String {
    uuid_like()
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("n{:x}{:012x}", std::process::id(), n)
        + &format!(
            "{:x}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        )
}

/// Signs independently of the system's own code: HMAC-SHA256 over
/// METHOD, path, sorted query pairs, timestamp and nonce, one per line.
fn sign(
    secret: &str,
    method: &str,
    path: &str,
    query: Option<&str>,
    ts: &str,
    nonce: &str,
) -> String {
    let mut pairs: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    pairs.sort();
    let canonical = format!("{method}\n{path}\n{}\n{ts}\n{nonce}", pairs.join("&"));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(canonical.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn signed(
    rb: RequestBuilder,
    sys: &RunningSystem,
    method: &str,
    path: &str,
    query: Option<&str>,
    ts: &str,
    nonce: &str,
) -> RequestBuilder {
    let Credentials::Hmac {
        app_key,
        secret,
        key_header,
        timestamp_header,
        nonce_header,
        signature_header,
        ..
    } = &sys.credentials
    else {
        panic!("{} does not sign", sys.key);
    };
    let sig = sign(secret, method, path, query, ts, nonce);
    assert_eq!(
        sig,
        systems::hmac_signature(secret, method, path, query, ts, nonce),
        "the published signing helper agrees"
    );
    rb.header(key_header, app_key)
        .header(timestamp_header, ts)
        .header(nonce_header, nonce)
        .header(signature_header, sig)
}

/// Balanced tags, one root, and nothing but text between them.
fn assert_well_formed(xml: &str) {
    let body = xml
        .trim()
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .expect("XML declaration")
        .trim();
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        assert!(entities_ok(text), "bad text {text:?}");
        let end = rest[start..].find('>').expect("tag closes") + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "mismatched </{name}> in {xml}");
        } else if let Some(name) = tag.strip_suffix('/') {
            if stack.is_empty() {
                roots += 1;
            }
            assert!(!name.is_empty());
        } else {
            if stack.is_empty() {
                roots += 1;
            }
            stack.push(tag);
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1, "one root element");
    assert!(rest.trim().is_empty());
}

fn entities_ok(text: &str) -> bool {
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        let after = &rest[i..];
        if !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
            .iter()
            .any(|e| after.starts_with(e))
        {
            return false;
        }
        rest = &rest[i + 1..];
    }
    !text.contains('>')
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The texts of every `<tag>…</tag>` in document order.
fn xml_texts(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let from = i + open.len();
        let to = rest[from..].find(&close).expect("closed") + from;
        out.push(unescape(&rest[from..to]));
        rest = &rest[to..];
    }
    out
}

fn sys<'a>(running: &'a RunningSystems, key: &str) -> &'a RunningSystem {
    running
        .get(key)
        .unwrap_or_else(|| panic!("no system {key}"))
}

async fn each_system_serves_its_registry_in_its_own_format(engine: Engine) {
    let db = city(engine).await;
    let running = start(&db, SystemsConfig::new(SEED)).await;
    let c = Caller::new();
    let demo = sim::demo_subjects(&db).await.unwrap();
    let me = &demo.citizen;

    // The manifest names every system once, each on its own port.
    let manifest = running.manifest();
    let listed: Vec<&str> = manifest["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(listed, systems::keys().collect::<Vec<_>>());
    let ports: HashSet<u16> = running.systems().iter().map(|s| s.addr.port()).collect();
    assert_eq!(ports.len(), running.systems().len());
    assert!(
        !manifest
            .to_string()
            .contains(&SystemsConfig::new(SEED).admin_token)
    );
    for s in running.systems() {
        let h: Value = c
            .http
            .get(format!("{}/_sim/health", s.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(h["status"], "up", "{}", s.key);
        assert_eq!(h["key"], s.key);
    }

    // police: snake_case in a code/data envelope, ISO dates.
    let police = sys(&running, "police");
    let (st, v) = c
        .get_json(police, &format!("/api/v1/persons/{}", me.id_number))
        .await;
    assert_eq!(st, 200);
    assert_eq!(v["code"], 0);
    assert_eq!(v["data"]["id_number"], me.id_number.as_str());
    assert_eq!(v["data"]["name"], me.name.as_str());
    assert_eq!(v["data"]["birth_date"], me.birth_date.as_str());
    assert_eq!(v["data"]["household_id"], me.household_id.as_str());
    assert_eq!(
        v["data"]["gender"],
        if me.gender == "M" { "1" } else { "2" }
    );
    assert_eq!(v["data"]["marital_status"], "20");
    let (st, v) = c
        .get_json(police, &format!("/api/v1/households/{}", me.household_id))
        .await;
    assert_eq!(st, 200);
    let head = texts_for(
        &db,
        "SELECT householder_id FROM pop_households WHERE household_id = $1",
        &me.household_id,
    )
    .await;
    assert_eq!(v["data"]["head_id_number"], head[0].as_str());

    // civil: pinyin fields, compact dates, either spouse finds the registration.
    let civil = sys(&running, "civil");
    let spouse = me.spouse_id_number.clone().unwrap();
    let expected = sorted(
        texts_for(
            &db,
            "SELECT registration_no FROM civil_marriages WHERE husband_id = $1 OR wife_id = $1",
            &me.id_number,
        )
        .await,
    );
    for who in [&me.id_number, &spouse] {
        let res = c
            .request(civil, "POST", "/hydj/api/hyxx/cx")
            .await
            .json(&json!({ "sfzh": who }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["retCode"], "0000");
        let records = v["records"].as_array().unwrap();
        let current = records
            .iter()
            .find(|r| r["hyzt"] == "1")
            .expect("a current marriage");
        assert!(current["nfsfzh"] == who.as_str() || current["nvfsfzh"] == who.as_str());
        if who == &me.id_number {
            let got = sorted(
                records
                    .iter()
                    .map(|r| r["djzh"].as_str().unwrap().to_string())
                    .collect(),
            );
            assert_eq!(got, expected);
            let iso = texts_for(
                &db,
                "SELECT registered_on FROM civil_marriages WHERE registration_no = $1",
                current["djzh"].as_str().unwrap(),
            )
            .await;
            assert_eq!(current["djrq"], iso[0].replace('-', ""));
        }
    }

    // dpf: a bare array, camelCase, slash dates.
    let dpf = sys(&running, "dpf");
    let holder = text(
        &db,
        "SELECT id_number FROM dpf_disabilities ORDER BY cert_no LIMIT 1",
    )
    .await;
    let certs = sorted(
        texts_for(
            &db,
            "SELECT cert_no FROM dpf_disabilities WHERE id_number = $1",
            &holder,
        )
        .await,
    );
    let (st, v) = c
        .get_json(
            dpf,
            &format!("/api/disability-certificates?idCard={holder}"),
        )
        .await;
    assert_eq!(st, 200);
    let arr = v.as_array().expect("a bare array");
    assert_eq!(
        sorted(
            arr.iter()
                .map(|c| c["certNo"].as_str().unwrap().to_string())
                .collect()
        ),
        certs
    );
    let issued = texts_for(
        &db,
        "SELECT issued_on FROM dpf_disabilities WHERE cert_no = $1",
        arr[0]["certNo"].as_str().unwrap(),
    )
    .await;
    assert_eq!(arr[0]["issueDate"], issued[0].replace('-', "/"));

    // health: a bearer token, result/total, epoch milliseconds.
    let health = sys(&running, "health");
    let (child_id, child_name) = me.children[0].clone();
    let (st, v) = c
        .get_json(
            health,
            &format!("/api/birth-certificates?childIdNumber={child_id}"),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(v["total"], 1);
    let b = &v["result"][0];
    assert_eq!(b["childName"], child_name.as_str());
    let born = texts_for(
        &db,
        "SELECT born_on FROM health_births WHERE child_id = $1",
        &child_id,
    )
    .await;
    assert_eq!(b["birthTime"], epoch_ms(&born[0]));
    let mother = b["motherIdNumber"].as_str().unwrap().to_string();
    let (_, v) = c
        .get_json(
            health,
            &format!("/api/birth-certificates?motherIdNumber={mother}"),
        )
        .await;
    let n = texts_for(
        &db,
        "SELECT certificate_no FROM health_births WHERE mother_id = $1",
        &mother,
    )
    .await
    .len();
    assert_eq!(v["total"], n as i64);

    // realestate: XML, owner or co-owner.
    let realestate = sys(&running, "realestate");
    let owned = sorted(
        texts_for(
            &db,
            "SELECT cert_no FROM prop_properties WHERE owner_id = $1 OR co_owner_id = $1",
            &me.id_number,
        )
        .await,
    );
    assert!(!owned.is_empty());
    let (st, xml) = c
        .get_xml(
            realestate,
            &format!(
                "/bdc/ws/certificates?ownerIdNumber={}&pageSize=50",
                me.id_number
            ),
        )
        .await;
    assert_eq!(st, 200, "{xml}");
    assert_eq!(xml_texts(&xml, "Status"), ["0"]);
    assert_eq!(sorted(xml_texts(&xml, "CertNo")), owned);
    assert_eq!(xml_texts(&xml, "Total"), [owned.len().to_string()]);
    let one = &owned[0];
    let (st, xml) = c
        .get_xml(
            realestate,
            &format!("/bdc/ws/certificate?certNo={}", urlencode(one)),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(xml_texts(&xml, "CertNo"), [one.as_str()]);
    let registered = texts_for(
        &db,
        "SELECT registered_on FROM prop_properties WHERE cert_no = $1",
        one,
    )
    .await;
    assert_eq!(xml_texts(&xml, "RegisteredOn"), registered);

    // housing: client id and secret, snake_case, slash dates, yuan strings.
    let housing = sys(&running, "housing");
    let buyer = text(
        &db,
        "SELECT buyer_id FROM prop_contracts ORDER BY contract_no LIMIT 1",
    )
    .await;
    let contracts = sorted(
        texts_for(
            &db,
            "SELECT contract_no FROM prop_contracts WHERE buyer_id = $1 OR co_buyer_id = $1",
            &buyer,
        )
        .await,
    );
    let (st, v) = c
        .get_json(
            housing,
            &format!("/fdc/v2/contracts?buyer_id_no={buyer}&limit=50"),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(v["status"], "ok");
    let items = v["data"]["items"].as_array().unwrap();
    assert_eq!(
        sorted(
            items
                .iter()
                .map(|i| i["contract_no"].as_str().unwrap().to_string())
                .collect()
        ),
        contracts
    );
    let (st, v) = c
        .get_json(housing, &format!("/fdc/v2/contracts/{}", contracts[0]))
        .await;
    assert_eq!(st, 200);
    let (signed_on, price): (String, i64) = kernel::with_db!(&db, pool => {
        sqlx::query_as("SELECT signed_on, price_cents FROM prop_contracts WHERE contract_no = $1")
            .bind(&contracts[0])
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(v["data"]["sign_date"], signed_on.replace('-', "/"));
    assert_eq!(
        v["data"]["total_price"],
        format!("{}.{:02}", price / 100, price % 100)
    );

    // hrss: a bearer token from a JSON endpoint, camelCase, epoch milliseconds.
    let hrss = sys(&running, "hrss");
    let worker = text(
        &db,
        "SELECT id_number FROM hrss_employment ORDER BY id_number LIMIT 1",
    )
    .await;
    let spells = texts_for(
        &db,
        "SELECT since FROM hrss_employment WHERE id_number = $1 ORDER BY since",
        &worker,
    )
    .await;
    let (st, v) = c
        .get_json(hrss, &format!("/api/persons/{worker}/employment?size=50"))
        .await;
    assert_eq!(st, 200);
    assert_eq!(v["code"], 200);
    let got: Vec<i64> = v["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["startDate"].as_i64().unwrap())
        .collect();
    assert_eq!(got, spells.iter().map(|s| epoch_ms(s)).collect::<Vec<_>>());
    let kinds = texts_for(
        &db,
        "SELECT insurance FROM hrss_insurance WHERE id_number = $1",
        &worker,
    )
    .await;
    let (_, v) = c
        .get_json(hrss, &format!("/api/persons/{worker}/insurance"))
        .await;
    assert_eq!(v["data"].as_array().unwrap().len(), kinds.len());

    // fund: XML with pinyin elements, compact dates, yuan.
    let fund = sys(&running, "fund");
    let account = me
        .housing_fund_account_no
        .clone()
        .expect("demo citizen has an account");
    let (st, xml) = c
        .get_xml(fund, &format!("/gjj/api/grzhxx?zjhm={}", me.id_number))
        .await;
    assert_eq!(st, 200);
    assert_eq!(xml_texts(&xml, "retcode"), ["000000"]);
    assert!(xml_texts(&xml, "grzh").contains(&account));
    let opened = texts_for(
        &db,
        "SELECT opened_on FROM hf_accounts WHERE account_no = $1",
        &account,
    )
    .await;
    assert!(xml_texts(&xml, "khrq").contains(&opened[0].replace('-', "")));
    assert_eq!(xml_texts(&xml, "xingming")[0], me.name);

    // education: bare objects, Django-style lists.
    let education = sys(&running, "education");
    let pupil = text(
        &db,
        "SELECT id_number FROM edu_students ORDER BY id_number LIMIT 1",
    )
    .await;
    let (st, v) = c
        .get_json(education, &format!("/edu/v1/students/{pupil}"))
        .await;
    assert_eq!(st, 200);
    let school_id = texts_for(
        &db,
        "SELECT school_id FROM edu_students WHERE id_number = $1",
        &pupil,
    )
    .await;
    assert_eq!(v["school_id"], school_id[0].as_str());
    let community = text(
        &db,
        "SELECT community_code FROM edu_school_districts ORDER BY community_code LIMIT 1",
    )
    .await;
    let serving = sorted(
        texts_for(
            &db,
            "SELECT school_id FROM edu_school_districts WHERE community_code = $1",
            &community,
        )
        .await,
    );
    let (_, v) = c
        .get_json(
            education,
            &format!("/edu/v1/schools?community_code={community}"),
        )
        .await;
    assert_eq!(v["count"], serving.len() as i64);
    assert_eq!(
        sorted(
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["school_id"].as_str().unwrap().to_string())
                .collect()
        ),
        serving
    );
    let (_, v) = c
        .get_json(education, &format!("/edu/v1/schools/{}", serving[0]))
        .await;
    assert!(
        v["communities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == community.as_str())
    );

    // tax: signed requests, compact dates, pageNo/pageSize.
    let tax = sys(&running, "tax");
    let payer = text(
        &db,
        "SELECT payer_id FROM tax_deed_tax ORDER BY voucher_no LIMIT 1",
    )
    .await;
    let vouchers = sorted(
        texts_for(
            &db,
            "SELECT voucher_no FROM tax_deed_tax WHERE payer_id = $1",
            &payer,
        )
        .await,
    );
    let (st, v) = c
        .get_json(
            tax,
            &format!("/api/deed-tax/payments?payerIdNumber={payer}&pageSize=100"),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["code"], "00000");
    let records = v["data"]["records"].as_array().unwrap();
    assert_eq!(
        sorted(
            records
                .iter()
                .map(|r| r["voucherNo"].as_str().unwrap().to_string())
                .collect()
        ),
        vouchers
    );
    let contract = records[0]["contractNo"].as_str().unwrap().to_string();
    let (_, v) = c
        .get_json(
            tax,
            &format!("/api/deed-tax/payments?contractNo={contract}"),
        )
        .await;
    assert!(
        v["data"]["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["contractNo"] == contract.as_str())
    );

    // market: the demo company, and its legal person's companies.
    let market = sys(&running, "market");
    let co = &demo.company;
    let (st, v) = c
        .get_json(market, &format!("/open/api/enterprises/{}", co.credit_code))
        .await;
    assert_eq!(st, 200);
    assert_eq!(v["success"], true);
    assert_eq!(v["data"]["enterpriseName"], co.name.as_str());
    assert_eq!(
        v["data"]["legalRepresentative"]["idNumber"],
        co.legal_person_id.as_str()
    );
    let (_, v) = c
        .get_json(
            market,
            &format!(
                "/open/api/enterprises?legalPersonIdNumber={}",
                co.legal_person_id
            ),
        )
        .await;
    assert!(
        v["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["creditCode"] == co.credit_code.as_str())
    );

    running.shutdown().await;
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn unknown_subjects_and_bad_parameters_get_each_vendors_answer(engine: Engine) {
    let db = city(engine).await;
    let running = start(&db, SystemsConfig::new(SEED)).await;
    let c = Caller::new();
    let nobody = stranger();

    let (st, v) = c
        .get_json(
            sys(&running, "police"),
            &format!("/api/v1/persons/{nobody}"),
        )
        .await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (200, Some(40400)));
    let (st, v) = c
        .get_json(sys(&running, "police"), "/api/v1/persons/12345")
        .await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (400, Some(40000)));
    assert!(v["msg"].as_str().unwrap().contains("ID number"));

    let res = c
        .request(sys(&running, "civil"), "POST", "/hydj/api/hyxx/cx")
        .await
        .json(&json!({ "sfzh": nobody }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        (v["retCode"].as_str(), v["total"].as_i64()),
        (Some("0001"), Some(0))
    );
    let res = c
        .request(sys(&running, "civil"), "POST", "/hydj/api/hyxx/cx")
        .await
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    let (st, v) = c
        .get_json(
            sys(&running, "dpf"),
            &format!("/api/disability-certificates?idCard={nobody}"),
        )
        .await;
    assert_eq!((st.as_u16(), v["error"].as_str()), (404, Some("NotFound")));
    let (st, _) = c
        .get_json(sys(&running, "dpf"), "/api/disability-certificates")
        .await;
    assert_eq!(st, 400);

    let (st, v) = c
        .get_json(
            sys(&running, "health"),
            &format!("/api/birth-certificates?motherIdNumber={nobody}"),
        )
        .await;
    assert_eq!((st.as_u16(), v["total"].as_i64()), (200, Some(0)));
    assert_eq!(v["result"], json!([]));
    let (st, v) = c
        .get_json(
            sys(&running, "health"),
            &format!("/api/birth-certificates?motherIdNumber={nobody}&limit=0"),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["errorCode"].as_str()),
        (400, Some("INVALID_PARAMETER"))
    );

    let (st, xml) = c
        .get_xml(
            sys(&running, "realestate"),
            &format!("/bdc/ws/certificates?ownerIdNumber={nobody}"),
        )
        .await;
    assert_eq!(st, 404);
    assert_eq!(xml_texts(&xml, "Status"), ["404"]);
    let (st, _) = c
        .get_xml(
            sys(&running, "realestate"),
            "/bdc/ws/certificates?ownerIdNumber=x&page=0",
        )
        .await;
    assert_eq!(st, 400);

    let (st, v) = c
        .get_json(
            sys(&running, "housing"),
            &format!("/fdc/v2/contracts?buyer_id_no={nobody}"),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["status"].as_str()),
        (404, Some("not_found"))
    );
    let (st, v) = c
        .get_json(
            sys(&running, "housing"),
            &format!("/fdc/v2/contracts?buyer_id_no={nobody}&cursor=forged"),
        )
        .await;
    assert_eq!((st.as_u16(), v["status"].as_str()), (400, Some("invalid")));

    let (st, v) = c
        .get_json(
            sys(&running, "hrss"),
            &format!("/api/persons/{nobody}/insurance"),
        )
        .await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (200, Some(404)));

    let (st, xml) = c
        .get_xml(
            sys(&running, "fund"),
            &format!("/gjj/api/grzhxx?zjhm={nobody}"),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(xml_texts(&xml, "retcode"), ["200001"]);
    let (st, xml) = c.get_xml(sys(&running, "fund"), "/gjj/api/grzhxx").await;
    assert_eq!(st, 400);
    assert_eq!(xml_texts(&xml, "retcode"), ["900400"]);

    let (st, v) = c
        .get_json(
            sys(&running, "education"),
            &format!("/edu/v1/students/{nobody}"),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["detail"].as_str()),
        (404, Some("Not found."))
    );

    let (st, v) = c
        .get_json(
            sys(&running, "tax"),
            &format!("/api/deed-tax/payments?payerIdNumber={nobody}"),
        )
        .await;
    assert_eq!((st.as_u16(), v["code"].as_str()), (200, Some("10404")));
    let (st, _) = c
        .get_json(sys(&running, "tax"), "/api/deed-tax/payments")
        .await;
    assert_eq!(st, 400);

    let (st, v) = c
        .get_json(
            sys(&running, "market"),
            "/open/api/enterprises/91410100MA00000000",
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["errorCode"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    let (st, v) = c
        .get_json(
            sys(&running, "market"),
            &format!("/open/api/enterprises?legalPersonIdNumber={nobody}"),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["errorCode"].as_str()),
        (404, Some("ENTERPRISE_NOT_FOUND"))
    );

    running.shutdown().await;
}

/// A request to each system's main endpoint that needs nothing but credentials.
fn probe(key: &str, id: &str) -> (&'static str, String) {
    match key {
        "police" => ("GET", format!("/api/v1/persons/{id}")),
        "civil" => ("POST", "/hydj/api/hyxx/cx".to_string()),
        "dpf" => ("GET", format!("/api/disability-certificates?idCard={id}")),
        "health" => ("GET", format!("/api/birth-certificates?childIdNumber={id}")),
        "realestate" => ("GET", format!("/bdc/ws/certificates?ownerIdNumber={id}")),
        "housing" => ("GET", format!("/fdc/v2/contracts?buyer_id_no={id}")),
        "hrss" => ("GET", format!("/api/persons/{id}/insurance")),
        "fund" => ("GET", format!("/gjj/api/grzhxx?zjhm={id}")),
        "education" => ("GET", format!("/edu/v1/students/{id}")),
        "tax" => ("GET", format!("/api/deed-tax/payments?payerIdNumber={id}")),
        "market" => (
            "GET",
            format!("/open/api/enterprises?legalPersonIdNumber={id}"),
        ),
        other => panic!("no probe for {other}"),
    }
}

async fn wrong_or_missing_credentials_are_refused(engine: Engine) {
    let db = city(engine).await;
    let running = start(&db, SystemsConfig::new(SEED)).await;
    // Another seed gives every system other credentials.
    let other = start(&db, SystemsConfig::new(SEED + 1)).await;
    let c = Caller::new();
    let me = sim::demo_subjects(&db).await.unwrap().citizen;
    for s in running.systems() {
        let (method, path) = probe(s.key, &me.id_number);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let body = json!({ "sfzh": me.id_number }).to_string();
        // Without credentials.
        let res = c
            .http
            .request(m.clone(), format!("{}{path}", s.base_url))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{} without credentials", s.key);
        // With another city's credentials, presented the right way.
        let impostor = RunningSystem::clone(other.get(s.key).unwrap());
        assert_ne!(impostor.credentials, s.credentials, "{}", s.key);
        let mut aimed = impostor.clone();
        aimed.base_url = s.base_url.clone();
        let res = match s.key {
            // Another system's token means nothing here.
            "health" | "hrss" => c
                .http
                .request(m.clone(), format!("{}{path}", s.base_url))
                .bearer_auth(c.token(other.get(s.key).unwrap()).await)
                .send()
                .await
                .unwrap(),
            _ => c
                .request(&aimed, method, &path)
                .await
                .body(body.clone())
                .send()
                .await
                .unwrap(),
        };
        assert_eq!(res.status(), 401, "{} with wrong credentials", s.key);
        let text = res.text().await.unwrap();
        assert!(!text.is_empty(), "{}: the refusal says why", s.key);
        // And with its own, accepted.
        let res = c
            .request(s, method, &path)
            .await
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let st = res.status();
        assert!(
            st != 401 && !st.is_server_error(),
            "{} with its credentials: {st}",
            s.key
        );
    }
    // Basic and bearer refusals carry a challenge.
    let res = c
        .http
        .get(format!(
            "{}/gjj/api/grzhxx?zjhm={}",
            sys(&running, "fund").base_url,
            me.id_number
        ))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    running.shutdown().await;
    other.shutdown().await;
}

async fn signed_requests_are_checked(engine: Engine) {
    let db = city(engine).await;
    let running = start(&db, SystemsConfig::new(SEED)).await;
    let c = Caller::new();
    let tax = sys(&running, "tax");
    let payer = text(
        &db,
        "SELECT payer_id FROM tax_deed_tax ORDER BY voucher_no LIMIT 1",
    )
    .await;
    let path = "/api/deed-tax/payments";
    // Parameters in any order sign the same.
    let query = format!("pageSize=5&payerIdNumber={payer}&pageNo=1");
    let url = format!("{}{path}?{query}", tax.base_url);
    let send = |ts: String, nonce: String, tamper: bool| {
        let rb = c.http.get(&url);
        let rb = signed(rb, tax, "GET", path, Some(&query), &ts, &nonce);
        let rb = if tamper {
            // Signed for one page, asking for another.
            let mut req = rb.build().unwrap();
            *req.url_mut() = format!(
                "{}{path}?pageSize=6&payerIdNumber={payer}&pageNo=1",
                tax.base_url
            )
            .parse()
            .unwrap();
            c.http.execute(req)
        } else {
            c.http.execute(rb.build().unwrap())
        };
        async move {
            let res = rb.await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let nonce = fresh_nonce();
    let (st, v) = send(now().to_string(), nonce.clone(), false).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["code"], "00000");
    // The same nonce again, even freshly signed.
    let (st, v) = send(now().to_string(), nonce, false).await;
    assert_eq!(st, 401);
    assert_eq!(v["message"], "nonce already used");
    // A query that is not the one signed.
    let (st, v) = send(now().to_string(), fresh_nonce(), true).await;
    assert_eq!(st, 401);
    assert_eq!(v["message"], "signature mismatch");
    // Stale and future timestamps.
    for ts in [now() - 301, now() + 400] {
        let (st, v) = send(ts.to_string(), fresh_nonce(), false).await;
        assert_eq!(st, 401);
        assert_eq!(v["message"], "timestamp more than 300 s off");
    }
    // A signature made with another secret.
    let Credentials::Hmac { app_key, .. } = &tax.credentials else {
        panic!()
    };
    let ts = now().to_string();
    let nonce = fresh_nonce();
    let res = c
        .http
        .get(&url)
        .header("X-App-Key", app_key)
        .header("X-Timestamp", &ts)
        .header("X-Nonce", &nonce)
        .header(
            "X-Signature",
            sign("not-the-secret", "GET", path, Some(&query), &ts, &nonce),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["message"], "signature mismatch");
    // Missing headers.
    let res = c
        .http
        .get(&url)
        .header("X-App-Key", app_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // The nonce of a refused forgery is still good for the real request.
    let (st, _) = send(ts, nonce, false).await;
    assert_eq!(st, 200);
    running.shutdown().await;
}

async fn bearer_tokens_are_issued_and_expire(engine: Engine) {
    let db = city(engine).await;
    let mut cfg = SystemsConfig::new(SEED);
    cfg.token_ttl = Duration::from_secs(1);
    let running = start(&db, cfg).await;
    let c = Caller::new();
    let me = sim::demo_subjects(&db).await.unwrap().citizen;
    for key in ["health", "hrss"] {
        let s = sys(&running, key);
        let (_, path) = probe(key, &me.children[0].0);
        let path = if key == "hrss" {
            format!("/api/persons/{}/insurance", me.id_number)
        } else {
            path
        };
        let url = format!("{}{path}", s.base_url);
        let token = c.token(s).await;
        let res = c.http.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200, "{key} with a fresh token");
        let res = c
            .http
            .get(&url)
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{key} with an unknown token");
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let res = c.http.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 401, "{key} with an expired token");
        assert!(res.text().await.unwrap().contains("token expired"));
    }
    // The token endpoints refuse a wrong secret, each in its own way.
    let health = sys(&running, "health");
    let Credentials::Bearer { client_id, .. } = &health.credentials else {
        panic!()
    };
    let res = c
        .http
        .post(format!("{}/oauth/token", health.base_url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let res = c
        .http
        .post(format!("{}/oauth/token", health.base_url))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let hrss = sys(&running, "hrss");
    let res = c
        .http
        .post(format!("{}/api/auth/token", hrss.base_url))
        .json(&json!({ "appId": "hrss-nobody", "appSecret": "wrong" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    running.shutdown().await;
}

/// Follows a list to its end; answers every key seen, in order.
async fn collect_pages(
    c: &Caller,
    s: &RunningSystem,
    first: String,
    next: impl Fn(&Value, &str) -> Option<String>,
    keys: impl Fn(&Value) -> Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut url = Some(first);
    let mut pages = 0;
    while let Some(u) = url {
        let (st, v) = c.get_json(s, &u).await;
        assert_eq!(st, 200, "{}: {u}: {v}", s.key);
        out.extend(keys(&v));
        url = next(&v, &u);
        pages += 1;
        assert!(pages < 1000, "{} pages without end", s.key);
    }
    assert!(
        pages >= 2,
        "{}: only {pages} page; the test needs more rows",
        s.key
    );
    out
}

fn assert_each_once(key: &str, got: Vec<String>, mut expected: Vec<String>) {
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "{key}: a row came twice");
    let mut got = got;
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "{key}: rows missing or extra");
}

async fn paging_returns_every_row_exactly_once(engine: Engine) {
    let db = city(engine).await;
    let running = start(&db, SystemsConfig::new(SEED)).await;
    let c = Caller::new();

    // page/size: the biggest household.
    let household = text(
        &db,
        "SELECT household_id FROM pop_persons GROUP BY household_id ORDER BY COUNT(*) DESC, household_id LIMIT 1",
    )
    .await;
    let members = texts_for(
        &db,
        "SELECT id_number FROM pop_persons WHERE household_id = $1",
        &household,
    )
    .await;
    let police = sys(&running, "police");
    let got = collect_pages(
        &c,
        police,
        format!("/api/v1/households/{household}/members?page=1&size=2"),
        |v, _| {
            let d = &v["data"];
            let (page, size, total) = (
                d["page"].as_i64()?,
                d["size"].as_i64()?,
                d["total"].as_i64()?,
            );
            (page * size < total).then(|| {
                format!(
                    "/api/v1/households/{household}/members?page={}&size={size}",
                    page + 1
                )
            })
        },
        |v| {
            v["data"]["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id_number"].as_str().unwrap().to_string())
                .collect()
        },
    )
    .await;
    assert_each_once("police", got, members);

    // offset/limit: every school.
    let education = sys(&running, "education");
    let got = collect_pages(
        &c,
        education,
        "/edu/v1/schools?offset=0&limit=100".to_string(),
        |v, _| v["next"].as_str().map(str::to_string),
        |v| {
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["school_id"].as_str().unwrap().to_string())
                .collect()
        },
    )
    .await;
    assert_each_once(
        "education",
        got,
        texts(&db, "SELECT school_id FROM edu_schools").await,
    );

    // cursor: the companies of the district with most.
    let district = text(
        &db,
        "SELECT district_code FROM mr_companies GROUP BY district_code ORDER BY COUNT(*) DESC, district_code LIMIT 1",
    )
    .await;
    let market = sys(&running, "market");
    let got = collect_pages(
        &c,
        market,
        format!("/open/api/enterprises?districtCode={district}&limit=3"),
        |v, _| {
            v["data"]["nextCursor"].as_str().map(|cur| {
                format!("/open/api/enterprises?districtCode={district}&limit=3&cursor={cur}")
            })
        },
        |v| {
            v["data"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["creditCode"].as_str().unwrap().to_string())
                .collect()
        },
    )
    .await;
    assert_each_once(
        "market",
        got,
        texts_for(
            &db,
            "SELECT credit_code FROM mr_companies WHERE district_code = $1",
            &district,
        )
        .await,
    );

    // cursor, one row a page: the longest employment history.
    let worker = text(
        &db,
        "SELECT id_number FROM hrss_employment GROUP BY id_number ORDER BY COUNT(*) DESC, id_number LIMIT 1",
    )
    .await;
    let hrss = sys(&running, "hrss");
    let got = collect_pages(
        &c,
        hrss,
        format!("/api/persons/{worker}/employment?size=1"),
        |v, _| {
            v["data"]["nextCursor"]
                .as_str()
                .map(|cur| format!("/api/persons/{worker}/employment?size=1&cursor={cur}"))
        },
        |v| {
            v["data"]["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["startDate"].to_string())
                .collect()
        },
    )
    .await;
    let spells = texts_for(
        &db,
        "SELECT since FROM hrss_employment WHERE id_number = $1",
        &worker,
    )
    .await;
    assert_each_once(
        "hrss",
        got,
        spells.iter().map(|s| epoch_ms(s).to_string()).collect(),
    );

    // pageNo/pageSize behind a signature, one payment a page.
    let payer = text(
        &db,
        "SELECT payer_id FROM tax_deed_tax GROUP BY payer_id ORDER BY COUNT(*) DESC, payer_id LIMIT 1",
    )
    .await;
    let vouchers = texts_for(
        &db,
        "SELECT voucher_no FROM tax_deed_tax WHERE payer_id = $1",
        &payer,
    )
    .await;
    let got = collect_pages(
        &c,
        sys(&running, "tax"),
        format!("/api/deed-tax/payments?payerIdNumber={payer}&pageNo=1&pageSize=1"),
        |v, _| {
            let d = &v["data"];
            let (page, size, total) = (
                d["pageNo"].as_i64()?,
                d["pageSize"].as_i64()?,
                d["total"].as_i64()?,
            );
            (page * size < total).then(|| {
                format!(
                    "/api/deed-tax/payments?payerIdNumber={payer}&pageNo={}&pageSize={size}",
                    page + 1
                )
            })
        },
        |v| {
            v["data"]["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["voucherNo"].as_str().unwrap().to_string())
                .collect()
        },
    )
    .await;
    assert_each_once("tax", got, vouchers);

    // offset/limit: the births of the mother with most children.
    let mother = text(
        &db,
        "SELECT mother_id FROM health_births GROUP BY mother_id ORDER BY COUNT(*) DESC, mother_id LIMIT 1",
    )
    .await;
    let got = collect_pages(
        &c,
        sys(&running, "health"),
        format!("/api/birth-certificates?motherIdNumber={mother}&offset=0&limit=1"),
        |v, u| {
            let offset: i64 = u
                .rsplit_once("offset=")?
                .1
                .split('&')
                .next()?
                .parse()
                .ok()?;
            (offset + 1 < v["total"].as_i64()?).then(|| {
                format!(
                    "/api/birth-certificates?motherIdNumber={mother}&offset={}&limit=1",
                    offset + 1
                )
            })
        },
        |v| {
            v["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["certificateNo"].as_str().unwrap().to_string())
                .collect()
        },
    )
    .await;
    assert_each_once(
        "health",
        got,
        texts_for(
            &db,
            "SELECT certificate_no FROM health_births WHERE mother_id = $1",
            &mother,
        )
        .await,
    );

    // page/pageSize in XML: the owner with most titles.
    let owner = text(
        &db,
        "SELECT owner_id FROM prop_properties GROUP BY owner_id ORDER BY COUNT(*) DESC, owner_id LIMIT 1",
    )
    .await;
    let realestate = sys(&running, "realestate");
    let mut got = Vec::new();
    let mut page = 1;
    loop {
        let (st, xml) = c
            .get_xml(
                realestate,
                &format!("/bdc/ws/certificates?ownerIdNumber={owner}&page={page}&pageSize=1"),
            )
            .await;
        assert_eq!(st, 200);
        got.extend(xml_texts(&xml, "CertNo"));
        let total: i64 = xml_texts(&xml, "Total")[0].parse().unwrap();
        if page >= total {
            break;
        }
        page += 1;
    }
    assert!(page >= 2);
    assert_each_once(
        "realestate",
        got,
        texts_for(
            &db,
            "SELECT cert_no FROM prop_properties WHERE owner_id = $1 OR co_owner_id = $1",
            &owner,
        )
        .await,
    );

    // cursor: the buyer with most contracts.
    let buyer = text(
        &db,
        "SELECT buyer_id FROM prop_contracts GROUP BY buyer_id ORDER BY COUNT(*) DESC, buyer_id LIMIT 1",
    )
    .await;
    let got = collect_pages(
        &c,
        sys(&running, "housing"),
        format!("/fdc/v2/contracts?buyer_id_no={buyer}&limit=1"),
        |v, _| {
            v["data"]["next_cursor"]
                .as_str()
                .map(|cur| format!("/fdc/v2/contracts?buyer_id_no={buyer}&limit=1&cursor={cur}"))
        },
        |v| {
            v["data"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["contract_no"].as_str().unwrap().to_string())
                .collect()
        },
    )
    .await;
    assert_each_once(
        "housing",
        got,
        texts_for(
            &db,
            "SELECT contract_no FROM prop_contracts WHERE buyer_id = $1 OR co_buyer_id = $1",
            &buyer,
        )
        .await,
    );

    running.shutdown().await;
}

async fn knobs_slow_break_and_stop_a_system(engine: Engine) {
    let db = city(engine).await;
    let mut cfg = SystemsConfig::new(SEED);
    cfg.knobs.insert(
        "dpf".to_string(),
        Knobs {
            outage: Outage::Unavailable,
            ..Knobs::default()
        },
    );
    let admin = cfg.admin_token.clone();
    let running = start(&db, cfg).await;
    let c = Caller::new();
    let me = sim::demo_subjects(&db).await.unwrap().citizen;
    let police = sys(&running, "police");
    let person = format!("/api/v1/persons/{}", me.id_number);
    let knobs_url = format!("{}/_sim/knobs", police.base_url);

    // Knobs from the config.
    let dpf = sys(&running, "dpf");
    let res = c.get(dpf, &probe("dpf", &me.id_number).1).await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let h: Value = c
        .http
        .get(format!("{}/_sim/health", dpf.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "outage");

    // The knobs endpoint wants the admin token, not the system's credentials.
    let res = c.http.get(&knobs_url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = c
        .request(police, "PUT", "/_sim/knobs")
        .await
        .json(&json!({ "error_rate": 1.0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = c
        .http
        .put(&knobs_url)
        .header(systems::ADMIN_HEADER, "wrong-admin-token")
        .json(&json!({ "error_rate": 1.0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(running.knobs("police").unwrap().get(), Knobs::default());
    let put = |body: Value| {
        c.http
            .put(&knobs_url)
            .header(systems::ADMIN_HEADER, &admin)
            .json(&body)
            .send()
    };
    assert_eq!(
        put(json!({ "error_rate": 2.0 })).await.unwrap().status(),
        400
    );
    assert_eq!(put(json!({ "typo": 1 })).await.unwrap().status(), 400);

    // error_rate 1: every answer is a server error.
    let res = put(json!({ "error_rate": 1.0 })).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["error_rate"], 1.0);
    for _ in 0..6 {
        let res = c.get(police, &person).await;
        assert!(res.status().is_server_error(), "{}", res.status());
    }
    let got: Value = c
        .http
        .get(&knobs_url)
        .header(systems::ADMIN_HEADER, &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["error_rate"], 1.0);

    // Latency: no answer before 300 ms.
    put(json!({ "error_rate": 0.0, "latency_ms": 300, "jitter_ms": 20 }))
        .await
        .unwrap();
    let started = Instant::now();
    let res = c.get(police, &person).await;
    assert_eq!(res.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );

    // Outage by the handle: 503, then closed connections, while /_sim stays reachable.
    let handle = running.knobs("police").unwrap();
    handle
        .set(Knobs {
            outage: Outage::Unavailable,
            ..Knobs::default()
        })
        .unwrap();
    assert_eq!(c.get(police, &person).await.status(), 503);
    handle.update(|k| k.outage = Outage::Close).unwrap();
    let fresh = Caller::new();
    let req = fresh.request(police, "GET", &person).await;
    let answer = req.send().await;
    assert!(
        answer.is_err(),
        "a closed connection, not {:?}",
        answer.map(|r| r.status())
    );
    let h: Value = fresh
        .http
        .get(format!("{}/_sim/health", police.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["knobs"]["outage"], "close");
    // Back over HTTP.
    let res = put(json!({ "outage": "none", "latency_ms": 0, "jitter_ms": 0 }))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(fresh.get(police, &person).await.status(), 200);
    assert!(
        handle
            .set(Knobs {
                error_rate: -0.5,
                ..Knobs::default()
            })
            .is_err()
    );
    // Other systems were never touched.
    assert_eq!(
        c.get(sys(&running, "education"), "/edu/v1/schools?limit=1")
            .await
            .status(),
        200
    );
    running.shutdown().await;
}

/// The national immunization programme's schedule for children (2021 edition), written out
/// again here so the test does not trust the system's own table: code, dose ages in months.
const SCHEDULE: &[(&str, &[u32])] = &[
    ("HepB", &[0, 1, 6]),
    ("BCG", &[0]),
    ("IPV", &[2, 3]),
    ("bOPV", &[4, 48]),
    ("DTaP", &[3, 4, 5, 18]),
    ("DT", &[72]),
    ("MMR", &[8, 18]),
    ("JE-L", &[8, 24]),
    ("MPSV-A", &[6, 9]),
    ("MPSV-AC", &[36, 72]),
    ("HepA-L", &[18]),
];

/// Checks one child's vaccination answer against the schedule; whether it is complete.
fn check_vaccinations(v: &Value, child: &str, born: &str, hospital: &str) -> bool {
    let born = NaiveDate::parse_from_str(born, "%Y-%m-%d").unwrap();
    let due_by: Vec<(&str, u32, NaiveDate)> = SCHEDULE
        .iter()
        .flat_map(|&(code, ages)| {
            ages.iter().enumerate().map(move |(i, &m)| {
                let due = born.checked_add_months(chrono::Months::new(m)).unwrap();
                (code, i as u32 + 1, due)
            })
        })
        .filter(|d| d.2 <= sim::AS_OF)
        .collect();
    let doses = v["result"].as_array().unwrap();
    assert_eq!(v["total"], doses.len(), "{child}");
    let mut seen = HashSet::new();
    let mut last = i64::MIN;
    for d in doses {
        assert_eq!(d["childIdNumber"], child);
        let code = d["vaccineCode"].as_str().unwrap();
        let no = d["doseNo"].as_u64().unwrap() as u32;
        assert!(
            seen.insert((code.to_string(), no)),
            "{child}: {code} {no} twice"
        );
        let &(_, _, due) = due_by
            .iter()
            .find(|x| x.0 == code && x.1 == no)
            .unwrap_or_else(|| panic!("{child}: {code} dose {no} is not due by the as-of day"));
        let given = d["vaccinationTime"].as_i64().unwrap();
        let latest = (due + chrono::Days::new(6)).min(sim::AS_OF);
        assert!(
            (epoch_ms(&due.to_string())..=epoch_ms(&latest.to_string())).contains(&given),
            "{child}: {code} {no} given {given}, due {due}"
        );
        assert!(given >= last, "{child}: not in the order given");
        last = given;
        assert!(!d["vaccineName"].as_str().unwrap().is_empty());
        let clinic = d["clinicName"].as_str().unwrap();
        if due == born {
            assert_eq!(
                clinic, hospital,
                "{child}: birth doses at the birth hospital"
            );
        } else {
            assert!(clinic.ends_with("预防接种门诊"), "{child}: {clinic}");
        }
    }
    // The birth doses are never missed.
    assert!(seen.contains(&("HepB".to_string(), 1)) && seen.contains(&("BCG".to_string(), 1)));
    let complete = doses.len() == due_by.len();
    assert_eq!(v["complete"], complete, "{child}");
    complete
}

async fn vaccination_records_follow_the_national_schedule(engine: Engine) {
    let db = city(engine).await;
    let running = start(&db, SystemsConfig::new(SEED)).await;
    let c = Caller::new();
    let health = sys(&running, "health");
    let born = |id: String| {
        let db = db.clone();
        async move {
            let row = texts_for(
                &db,
                "SELECT born_on || '|' || hospital FROM health_births WHERE child_id = $1",
                &id,
            )
            .await;
            let (b, h) = row[0].split_once('|').unwrap();
            (b.to_string(), h.to_string())
        }
    };

    // A child old enough for the whole schedule: every dose due, the same answer twice.
    let child = text(
        &db,
        "SELECT child_id FROM health_births WHERE born_on <= '2018-06-30' ORDER BY child_id",
    )
    .await;
    let (b, h) = born(child.clone()).await;
    let path = format!("/api/vaccinations?childIdNumber={child}");
    let (st, v) = c.get_json(health, &path).await;
    assert_eq!(st, 200);
    check_vaccinations(&v, &child, &b, &h);
    let slots: usize = SCHEDULE.iter().map(|s| s.1.len()).sum();
    assert!(v["total"].as_u64().unwrap() as usize >= slots - 3, "{v}");
    let (_, again) = c.get_json(health, &path).await;
    assert_eq!(again, v);

    // The youngest children: only what has fallen due.
    let young = texts(
        &db,
        "SELECT child_id FROM health_births ORDER BY born_on DESC, child_id LIMIT 5",
    )
    .await;
    for id in young {
        let (b, h) = born(id.clone()).await;
        let (_, v) = c
            .get_json(health, &format!("/api/vaccinations?childIdNumber={id}"))
            .await;
        check_vaccinations(&v, &id, &b, &h);
    }

    // Among school-age children, some have missed a dose and most have not.
    let older = texts(
        &db,
        "SELECT child_id FROM health_births WHERE born_on <= '2019-06-30' ORDER BY child_id LIMIT 40",
    )
    .await;
    assert_eq!(older.len(), 40);
    let mut complete = 0;
    for id in &older {
        let (b, h) = born(id.clone()).await;
        let (_, v) = c
            .get_json(health, &format!("/api/vaccinations?childIdNumber={id}"))
            .await;
        complete += usize::from(check_vaccinations(&v, id, &b, &h));
    }
    assert!((5..40).contains(&complete), "{complete} of 40 complete");

    // Unknown child: the vendor's empty answer; a malformed number: its 400.
    let (st, v) = c
        .get_json(
            health,
            &format!("/api/vaccinations?childIdNumber={}", stranger()),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(v, json!({"result": [], "total": 0}));
    let mut forged = stranger();
    let check = forged.pop().unwrap();
    forged.push(if check == '0' { '1' } else { '0' });
    let (st, v) = c
        .get_json(health, &format!("/api/vaccinations?childIdNumber={forged}"))
        .await;
    assert_eq!(
        (st.as_u16(), v["errorCode"].as_str()),
        (400, Some("INVALID_PARAMETER"))
    );
    let (st, _) = c.get_json(health, "/api/vaccinations").await;
    assert_eq!(st, 400);
    running.shutdown().await;
}

#[tokio::test]
async fn start_refuses_knobs_for_unknown_systems_and_bad_knobs() {
    let (db, _) = kernel::scratch::fresh(Engine::Sqlite).await.unwrap();
    db.migrate(&[&sim::MIGRATIONS]).await.unwrap();
    let mut cfg = SystemsConfig::new(SEED);
    cfg.knobs.insert("polce".into(), Knobs::default());
    assert!(systems::start(db.clone(), cfg).await.is_err());
    let mut cfg = SystemsConfig::new(SEED);
    cfg.knobs.insert(
        "police".into(),
        Knobs {
            error_rate: 1.5,
            ..Knobs::default()
        },
    );
    assert!(systems::start(db, cfg).await.is_err());
}

#[test]
fn credentials_follow_the_seed() {
    // Derived, not random: a client configured once keeps working after a restart.
    assert_eq!(
        systems::default_admin_token(1),
        systems::default_admin_token(1)
    );
    assert_ne!(
        systems::default_admin_token(1),
        systems::default_admin_token(2)
    );
}
