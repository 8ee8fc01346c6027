//! Materials resolution on the application start page, through the real server with the
//! simulated department systems, on both engines: the demo citizen's e-licence and data on
//! record resolve their materials; a revoked licence turns into an upload with the reason;
//! a department system that is down says so and offers the upload instead.

mod common;

use kernel::Engine;
use serde_json::{Value, json};

const SEED: u64 = 4646;

/// Divorce registration: ID card and marriage certificate (e-licences), a declaration
/// (commitment).
const LICENCE_ITEM: &str = "410100-MZ-0003";
/// Deed-tax subsidy: the deed-tax receipt comes from the tax system.
const SHARED_ITEM: &str = "410100-FG-0003";

/// The city server, and a browser-like client signed in as the demo citizen.
struct Setup {
    city: common::CityServer,
    client: reqwest::Client,
}

impl std::ops::Deref for Setup {
    type Target = common::CityServer;
    fn deref(&self) -> &common::CityServer {
        &self.city
    }
}

async fn setup(engine: Engine) -> Setup {
    let s = Setup {
        city: common::CityServer::start(engine, SEED, common::CityAccounts::Demo).await,
        client: common::client(),
    };
    sign_in(&s).await;
    s
}

async fn csrf(s: &Setup, path: &str) -> String {
    let html = s
        .client
        .get(format!("{}{path}", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form") + marker.len();
    html[start..start + 48].to_string()
}

async fn sign_in(s: &Setup) {
    let token = csrf(s, "/sign-in").await;
    let res = s
        .client
        .post(format!("{}/sign-in", s.base))
        .form(&[
            ("login", s.citizen.id_number.as_str()),
            ("password", &identity::demo::demo_password(SEED, "citizen")),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the demo citizen signs in");
}

/// One row of the materials table: how it is provided, the label and the reason.
#[derive(Debug)]
struct Row {
    how: String,
    retry_later: bool,
    label: String,
    reason: String,
}

fn cell(row: &str, testid: &str) -> String {
    let marker = format!("data-testid=\"{testid}\">");
    let start = row.find(&marker).map(|i| i + marker.len()).unwrap_or(0);
    let end = row[start..].find("</td>").map_or(row.len(), |e| start + e);
    row[start..end].to_string()
}

/// The materials table of a start page, by material code.
async fn materials(s: &Setup, item: &str) -> std::collections::BTreeMap<String, Row> {
    let res = s
        .client
        .get(format!("{}/services/items/{item}/apply", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-testid=\"materials\""), "{html}");
    let mut out = std::collections::BTreeMap::new();
    for part in html.split("<tr data-testid=\"material\"").skip(1) {
        let row = &part[..part.find("</tr>").unwrap()];
        let attr = |name: &str| {
            let marker = format!("{name}=\"");
            row.find(&marker).map(|i| {
                let rest = &row[i + marker.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
        };
        out.insert(
            attr("data-material").unwrap(),
            Row {
                how: attr("data-how").unwrap(),
                retry_later: attr("data-retry-later").is_some(),
                label: cell(row, "material-how"),
                reason: cell(row, "material-reason"),
            },
        );
    }
    out
}

async fn staff_token(s: &Setup, login: &str, role: &str) -> String {
    let res: Value = s
        .client
        .post(format!("{}/api/v1/sessions", s.base))
        .json(&json!({"login": login, "password": identity::demo::demo_password(SEED, role)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["token"].as_str().expect("staff signed in").to_string()
}

async fn marriage_licence(s: &Setup) -> String {
    let lib = licences::Licences::new(s.db.clone());
    lib.list_for_holder(catalog::HolderKind::Person, &s.citizen.id_number)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.type_code == "marriage_certificate")
        .expect("the demo citizen holds a marriage certificate")
        .id
        .as_str()
        .to_string()
}

async fn materials_are_resolved_for_the_applicant(engine: Engine) {
    let s = setup(engine).await;
    assert!(
        s.citizen.spouse_name.is_some(),
        "the demo citizen is married"
    );

    // The tax system down before anything was asked of it (a fresh answer would be cached):
    // the material offers the upload, or a later try.
    s.systems
        .knobs("tax")
        .unwrap()
        .update(|k| k.outage = sim::systems::Outage::Unavailable)
        .unwrap();
    let down = materials(&s, SHARED_ITEM).await;
    let receipt = &down["deed_tax_receipt"];
    assert_eq!(receipt.how, "upload", "{down:?}");
    assert!(receipt.retry_later, "{down:?}");
    assert!(receipt.reason.contains("暂时无法访问"), "{down:?}");
    assert!(receipt.reason.contains("稍后再试"), "{down:?}");
    s.systems.knobs("tax").unwrap().reset();

    // Up again: fetched from the tax system.
    let up = materials(&s, SHARED_ITEM).await;
    let receipt = &up["deed_tax_receipt"];
    assert_eq!(receipt.how, "shared_data", "{up:?}");
    assert!(receipt.label.contains("税务契税系统"), "{up:?}");
    assert!(receipt.label.contains("已核验"), "{up:?}");
    // The licence in the wallet stands in for the ID card here too.
    assert_eq!(up["id_card"].how, "licence", "{up:?}");

    // Licences and a commitment: nothing to upload.
    let rows = materials(&s, LICENCE_ITEM).await;
    assert_eq!(rows["marriage_certificate"].how, "licence", "{rows:?}");
    assert_eq!(
        rows["marriage_certificate"].label,
        "电子证照：结婚证（自动调取）"
    );
    let id = marriage_licence(&s).await;
    assert!(rows["marriage_certificate"].reason.contains(&id));
    assert_eq!(rows["divorce_declaration"].how, "commitment");
    assert!(
        rows["divorce_declaration"]
            .reason
            .contains("本人与对方自愿离婚")
    );

    // The civil affairs bureau's administrator revokes the marriage certificate: from then
    // on it has to be uploaded, and the page says why.
    let token = staff_token(&s, "deptadmin01", "dept_admin").await;
    let res = s
        .client
        .post(format!("{}/api/v1/licences/{id}/revoke", s.base))
        .bearer_auth(&token)
        .json(&json!({"reason": "登记错误"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rows = materials(&s, LICENCE_ITEM).await;
    let m = &rows["marriage_certificate"];
    assert_eq!(m.how, "upload", "{rows:?}");
    assert!(!m.retry_later);
    assert!(m.reason.contains("钱包中没有有效的结婚证"), "{rows:?}");
    assert!(m.reason.contains("撤销"), "{rows:?}");
    assert_eq!(rows["id_card"].how, "licence");

    // In English too.
    let html = s
        .client
        .get(format!("{}/services/items/{LICENCE_ITEM}/apply", s.base))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("No valid Marriage certificate in your wallet"),
        "{html}"
    );

    // Each lookup was made for the item's purpose and is in the applicant's access log.
    let (n,): (i64,) = kernel::with_db!(&s.db, pool =>
        sqlx::query_as("SELECT COUNT(*) FROM exchange_audit WHERE purpose_ref = $1")
            .bind(SHARED_ITEM).fetch_one(pool).await)
    .unwrap();
    assert_eq!(n, 2);
    let log = s
        .client
        .get(format!("{}/account/data-accesses", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains(SHARED_ITEM), "{log}");

    s.city.running.stop().await;
    s.city.systems.shutdown().await;
}

mod materials_on_the_start_page {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::materials_are_resolved_for_the_applicant(kernel::Engine::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::materials_are_resolved_for_the_applicant(kernel::Engine::Postgres).await;
    }
}
