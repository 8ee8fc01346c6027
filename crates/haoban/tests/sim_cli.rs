//! `haoban sim` by running the real binary: it generates a city into an empty database,
//! prints a line per system and the manifest, serves, and stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn sim_prints_its_systems_and_serves_until_sigterm() {
    let dir = std::env::temp_dir().join(format!("haoban-sim-cli-{}", std::process::id()));
    let url = format!("sqlite://{}", dir.join("h.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_haoban"))
        .args(["sim", "--persons", "300"])
        .env("HAOBAN_DATABASE_URL", &url)
        .env("HAOBAN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let manifest: serde_json::Value = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "output ended: {lines:?}"
        );
        if line.starts_with('{') {
            break serde_json::from_str(&line).unwrap();
        }
        lines.push(line.trim_end().to_string());
    };
    let systems = manifest["systems"].as_array().unwrap();
    assert_eq!(lines.len(), systems.len());
    assert_eq!(systems.len(), sim::systems::keys().count());
    for (line, s) in lines.iter().zip(systems) {
        let key = s["key"].as_str().unwrap();
        let base = s["base_url"].as_str().unwrap();
        assert!(line.starts_with(key), "{line}");
        assert!(line.contains(s["name"].as_str().unwrap()), "{line}");
        assert!(line.contains(base) && line.ends_with(')'), "{line}");
        let health: serde_json::Value = reqwest::get(format!("{base}/_sim/health"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health["key"], key);
    }
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
    let _ = std::fs::remove_dir_all(&dir);
}
