//! The command-line contract, by running the real binary: `demo --accounts`, `gen`, `migrate`,
//! and `serve` with a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kernel::Engine;

fn haoban(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_haoban"))
        .args(args)
        .env("HAOBAN_DATABASE_URL", url)
        .env("HAOBAN_LOG", "warn")
        .output()
        .expect("haoban runs")
}

async fn demo_accounts_are_json_lines_and_sign_in(engine: Engine) {
    let (db, url) = kernel::scratch::fresh(engine).await.unwrap();
    db.close().await;
    let out = run_ok(&url, &["demo", "--accounts", "--persons", "300"]);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let roles: Vec<&str> = lines.iter().map(|l| l["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        [
            "citizen",
            "company",
            "reviewer",
            "dept_admin",
            "platform_admin",
            "grid_worker",
            "ops_centre"
        ]
    );
    for l in &lines {
        for key in ["login", "password", "name"] {
            assert!(
                l[key].as_str().is_some_and(|v| !v.is_empty()),
                "{key} in {l}"
            );
        }
    }
    // A second run finds the city and prints the same accounts.
    assert_eq!(run_ok(&url, &["demo", "--accounts"]), out);

    // Every demo account signs in through the API of a running server.
    let db = kernel::Db::connect(&url).await.unwrap();
    let config = haoban::Config {
        listen: "127.0.0.1:0".into(),
        database_url: url.clone(),
        ..Default::default()
    };
    let running = haoban::serve(&config, db).await.unwrap();
    let client = reqwest::Client::new();
    for l in &lines {
        let res = client
            .post(format!("http://{}/api/v1/sessions", running.addr))
            .json(&serde_json::json!({"login": l["login"], "password": l["password"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{} signs in", l["role"]);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["account"]["name"], l["name"]);
    }
    running.stop().await;
}

fn run_ok(url: &str, args: &[&str]) -> String {
    let out = haoban(url, args);
    assert!(
        out.status.success(),
        "haoban {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn demo_accounts_sqlite() {
    demo_accounts_are_json_lines_and_sign_in(Engine::Sqlite).await;
}

#[tokio::test]
async fn demo_accounts_postgres() {
    demo_accounts_are_json_lines_and_sign_in(Engine::Postgres).await;
}

#[tokio::test]
async fn gen_fills_an_empty_database_and_refuses_a_full_one() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let (db, url) = kernel::scratch::fresh(engine).await.unwrap();
        let out = run_ok(&url, &["gen", "--persons", "200", "--seed", "7"]);
        let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(report["persons"], 200, "{report}");
        let again = haoban(&url, &["gen", "--persons", "200"]);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("holds a city already"));
        let n: (i64,) = kernel::with_db!(&db, pool => sqlx::query_as("SELECT COUNT(*) FROM pop_persons").fetch_one(pool).await).unwrap();
        assert_eq!(n.0, 200);
    }
}

#[tokio::test]
async fn migrate_is_idempotent() {
    let (_, url) = kernel::scratch::fresh(Engine::Sqlite).await.unwrap();
    let first = run_ok(&url, &["migrate"]);
    assert!(!first.starts_with("0 "), "{first}");
    assert_eq!(run_ok(&url, &["migrate"]).trim(), "0 migrations applied");
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("haoban-cli-{}", std::process::id()));
    let url = format!("sqlite://{}", dir.join("h.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_haoban"))
        .arg("serve")
        .env("HAOBAN_DATABASE_URL", &url)
        .env("HAOBAN_LISTEN", "127.0.0.1:0")
        .env("HAOBAN_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_string();
    let health = std::net::TcpStream::connect(&addr).is_ok();
    assert!(health, "listening at {addr}");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_haoban"))
        .args(["--config", "/nonexistent/haoban.toml", "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

#[test]
fn catalog_check_locates_errors_and_exits_non_zero() {
    let good = format!(
        "{}/../catalog/tests/fixtures/good",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_haoban"))
        .args(["catalog", "check", &good])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("valid: "));

    // The same set with one bad bundle added.
    let dir = std::env::temp_dir().join(format!("haoban-bad-catalog-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(std::path::Path::new(&good), &dir);
    std::fs::write(
        dir.join("bundles/bad.yaml"),
        "bundles:\n  - code: bad\n    name: 坏\n    items:\n      - item: NO-SUCH-ITEM\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_haoban"))
        .args(["catalog", "check", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bundles/bad.yaml:5:"), "{err}");
    assert!(err.contains("bundles[0].items[0].item"), "{err}");
}

#[tokio::test]
async fn catalog_load_publishes_a_version() {
    let good = format!(
        "{}/../catalog/tests/fixtures/good",
        env!("CARGO_MANIFEST_DIR")
    );
    let (_, url) = kernel::scratch::fresh(Engine::Sqlite).await.unwrap();
    let out = run_ok(&url, &["catalog", "load", &good]);
    assert!(out.starts_with("version 1 is live"), "{out}");
    let again = run_ok(&url, &["catalog", "load", &good]);
    assert!(again.contains("(unchanged)"), "{again}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
