//! Test harness: a real `haoban` server on a random port over a fresh database of either
//! engine, and an HTTP client that keeps cookies like a browser.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use haoban::{Config, Running};
use kernel::{Db, Engine};

/// Declares a test once and runs it on both engines: `both_engines!(name, body_fn)`.
#[macro_export]
macro_rules! both_engines {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::common::TestServer::start(kernel::Engine::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body($crate::common::TestServer::start(kernel::Engine::Postgres).await)
                    .await;
            }
        }
    };
}

/// Everything the server logged in this process, to check nothing secret gets there.
pub fn logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).to_string()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| Arc::new(Mutex::new(Vec::new())))
}

struct BufWriter;
impl Write for BufWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        log_buffer().lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,sqlx=info,hyper=info,h2=info")
            .json()
            .with_writer(|| BufWriter)
            .try_init();
    });
}

pub struct TestServer {
    pub base: String,
    pub db: Db,
    pub url_of_db: String,
    pub engine: Engine,
    pub client: reqwest::Client,
    running: Option<Running>,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestServer {
    pub async fn start(engine: Engine) -> TestServer {
        init_logs();
        let (db, url) = kernel::scratch::fresh(engine)
            .await
            .expect("scratch database");
        db.migrate(&haoban::migrations()).await.expect("migrations");
        let config = test_config(url.clone());
        let running = haoban::serve(&config, db.clone())
            .await
            .expect("server starts");
        TestServer {
            base: format!("http://{}", running.addr),
            db,
            url_of_db: url,
            engine,
            client: client(),
            running: Some(running),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let row: (i64,) =
            kernel::with_db!(&self.db, pool => sqlx::query_as(&sql).fetch_one(pool).await).unwrap();
        row.0
    }

    /// Fetches a page and returns the CSRF token of its forms.
    pub async fn csrf(&self, client: &reqwest::Client, path: &str) -> String {
        let html = client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let marker = "name=\"csrf\" value=\"";
        let start = html
            .find(marker)
            .expect("page has a form with a CSRF token")
            + marker.len();
        html[start..start + 48].to_string()
    }
}

/// The small catalog the catalog crate tests with: fast to load, known codes.
pub fn fixture_catalog() -> String {
    format!(
        "{}/../catalog/tests/fixtures/good",
        env!("CARGO_MANIFEST_DIR")
    )
}

pub fn test_config(database_url: String) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        database_url,
        catalog_dir: fixture_catalog(),
        catalog_refresh_secs: 1,
        ..Config::default()
    }
}

impl TestServer {
    /// A second instance on the same database, as a second machine would run.
    pub async fn another_instance(&self) -> Running {
        let db = Db::connect(&self.url_of_db).await.unwrap();
        haoban::serve(&test_config(self.url_of_db.clone()), db)
            .await
            .unwrap()
    }

    /// Signs in through the API and answers the bearer token.
    pub async fn token(&self, login: &str, password: &str) -> String {
        let body: serde_json::Value = self
            .client
            .post(self.url("/api/v1/sessions"))
            .json(&serde_json::json!({"login": login, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["token"].as_str().expect("signed in").to_string()
    }

    /// Creates a member of staff with one role in a fresh department.
    pub async fn staff(&self, login: &str, role: identity::Role) -> String {
        let identity = identity::Identity::new(self.db.clone()).await;
        let dept = identity::store::Department {
            id: format!("d-{login}"),
            code: format!("T-{login}"),
            name: "测试部门".into(),
            name_en: "Test department".into(),
            level: "city".into(),
            parent_id: None,
        };
        identity::store::insert_department(&self.db, &dept, chrono::Utc::now())
            .await
            .unwrap();
        let pw = identity::domain::Password::new_for("staff passphrase", &[]).unwrap();
        identity
            .create_staff(login, "测试人员", &dept.id, &[role], &pw)
            .await
            .unwrap();
        self.token(login, "staff passphrase").await
    }
}

/// A valid ID number for tests, different for each `n`.
pub fn id_number(n: u16) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1985, 6, 15).unwrap();
    kernel::IdNumber::from_parts(410105, birth, n)
        .as_str()
        .to_string()
}

pub fn citizen_json(n: u16) -> serde_json::Value {
    serde_json::json!({
        "name": "测试居民",
        "id_number": id_number(n),
        "phone": format!("139{:08}", n),
        "password": "a sound passphrase",
    })
}

/// A server over a generated city, with the simulated department systems running and the
/// exchange given their access, as `haoban demo` runs them.
pub struct CityServer {
    pub db: Db,
    pub url: String,
    pub base: String,
    pub systems: sim::systems::RunningSystems,
    pub running: Running,
    pub citizen: sim::DemoCitizen,
}

/// What the city holds besides its registries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CityAccounts {
    /// Registries only: nobody has an account yet.
    None,
    /// The demo accounts and the demo citizen's and company's licences.
    Demo,
}

fn repo_path(p: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(p)
        .to_string_lossy()
        .to_string()
}

impl CityServer {
    pub async fn start(engine: Engine, seed: u64, accounts: CityAccounts) -> CityServer {
        init_logs();
        let (db, url) = kernel::scratch::fresh(engine)
            .await
            .expect("scratch database");
        db.migrate(&haoban::migrations()).await.expect("migrations");
        let catalog_dir = repo_path("catalog");
        match accounts {
            CityAccounts::None => sim::generate(
                &db,
                &sim::GenOptions {
                    persons: 1500,
                    seed,
                },
            )
            .await
            .map(|_| ())
            .expect("generate"),
            CityAccounts::Demo => {
                haoban::demo::ensure_city(&db, 1500, seed)
                    .await
                    .expect("city");
                let issued = haoban::demo::licences(&db, &catalog_dir)
                    .await
                    .expect("licences");
                assert!(issued > 0);
            }
        }
        let systems = sim::systems::start(db.clone(), sim::systems::SystemsConfig::new(seed))
            .await
            .expect("systems");
        let config = Config {
            listen: "127.0.0.1:0".into(),
            database_url: url.clone(),
            catalog_dir,
            connectors_dir: repo_path("connectors"),
            exchange_access_inline: Some(systems.manifest()),
            ..Config::default()
        };
        let running = haoban::serve(&config, db.clone())
            .await
            .expect("server starts");
        let citizen = sim::demo_subjects(&db).await.unwrap().citizen;
        CityServer {
            base: format!("http://{}", running.addr),
            db,
            url,
            systems,
            running,
            citizen,
        }
    }
}
