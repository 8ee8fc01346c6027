//! Configuration: defaults, then an optional TOML file, then `HAOBAN_*` environment variables.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/haoban.db";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on (`HAOBAN_LISTEN`); port 0 picks a free port.
    pub listen: String,
    /// `sqlite://path` or `postgres://…` (`HAOBAN_DATABASE_URL`).
    pub database_url: String,
    /// The address people reach the platform at (`HAOBAN_PUBLIC_URL`); an `https://` address
    /// makes every cookie `Secure`.
    pub public_url: Option<String>,
    /// `text` or `json` (`HAOBAN_LOG_FORMAT`).
    pub log_format: String,
    /// A tracing filter (`HAOBAN_LOG`), e.g. `info` or `info,sqlx=warn`.
    pub log: String,
    /// The largest request body accepted, in bytes (`HAOBAN_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Database connections in the pool (`HAOBAN_DB_POOL`).
    pub db_pool: u32,
    /// The service catalog's definition files, published as the first version when the
    /// database has none (`HAOBAN_CATALOG_DIR`).
    pub catalog_dir: String,
    /// How often an instance looks for a catalog version published elsewhere, in seconds
    /// (`HAOBAN_CATALOG_REFRESH_SECS`).
    pub catalog_refresh_secs: u64,
    /// The exchange's connector definitions (`HAOBAN_CONNECTORS_DIR`).
    pub connectors_dir: String,
    /// A JSON file saying where each department system is and its credentials, in the shape
    /// `haoban sim` prints (`HAOBAN_EXCHANGE_ACCESS`). Without one, no system is reached.
    pub exchange_access: Option<String>,
    /// How long a query waits for the slowest system, in milliseconds
    /// (`HAOBAN_EXCHANGE_DEADLINE_MS`).
    pub exchange_deadline_ms: u64,
    /// Access given in process (by `haoban demo`, which starts the simulated systems).
    #[serde(skip)]
    pub exchange_access_inline: Option<serde_json::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".to_string(),
            database_url: DEFAULT_DATABASE_URL.to_string(),
            public_url: None,
            log_format: "text".to_string(),
            log: "info,sqlx=warn".to_string(),
            max_body_bytes: 1024 * 1024,
            db_pool: 16,
            catalog_dir: "catalog".to_string(),
            catalog_refresh_secs: 5,
            connectors_dir: "connectors".to_string(),
            exchange_access: None,
            exchange_deadline_ms: 2000,
            exchange_access_inline: None,
        }
    }
}

impl Config {
    /// Loads the configuration; `file` is the `--config` argument or `HAOBAN_CONFIG`.
    pub fn load(file: Option<&str>) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        let file = file
            .map(str::to_string)
            .or_else(|| std::env::var("HAOBAN_CONFIG").ok());
        if let Some(path) = file {
            if !std::path::Path::new(&path).exists() {
                return Err(Box::new(figment::Error::from(format!(
                    "config file {path} does not exist"
                ))));
            }
            fig = fig.merge(Toml::file(path));
        }
        fig.merge(Env::prefixed("HAOBAN_").ignore(&["CONFIG"]))
            .extract()
            .map_err(Box::new)
    }

    /// Where people reach the platform: the public URL, else `http://localhost:<port>` —
    /// a host name, because passkeys cannot be bound to an IP address.
    pub fn public_origin(&self, addr: std::net::SocketAddr) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://localhost:{}", addr.port()),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail decides the closure's type
    fn file_then_environment_override_defaults() {
        let dir = std::env::temp_dir().join(format!("haoban-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("haoban.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\n").unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("HAOBAN_LISTEN", "127.0.0.1:9100");
            let c = Config::load(Some(file.to_str().unwrap())).unwrap();
            assert_eq!(c.listen, "127.0.0.1:9100");
            assert_eq!(c.log_format, "json");
            assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
            assert!(!c.secure_cookies());
            Ok(())
        });
        assert!(Config::load(Some("/nonexistent/haoban.toml")).is_err());
    }
}
