//! # Simulated department systems
//!
//! **Simulators serving the synthetic city's data**, not connections to real government
//! systems. Each department's registry is served by its own HTTP listener, and each listener
//! behaves like a system built by a different vendor: its own field names (snake_case,
//! camelCase, pinyin abbreviations), date format, paging, envelope, credentials and even
//! format (two answer in XML). The data-exchange layer talks to them over real sockets, so
//! it has to cope with what it will meet in a real city.
//!
//! | key | system | auth | format |
//! |---|---|---|---|
//! | `police` | 公安人口库 | API key header | JSON, snake_case, ISO dates |
//! | `civil` | 民政婚姻登记系统 | HTTP Basic | JSON, pinyin, `20240131` |
//! | `dpf` | 残联残疾人证系统 | `APPCODE` header | bare JSON, camelCase, `2024/01/31` |
//! | `health` | 卫健出生医学证明系统 | OAuth2 client credentials | JSON, camelCase, epoch ms |
//! | `realestate` | 不动产登记系统 | HTTP Basic | XML, ISO dates |
//! | `housing` | 房管合同备案系统 | client id and secret headers | JSON, snake_case, `2024/01/31` |
//! | `hrss` | 人社就业和社保系统 | bearer token | JSON, camelCase, epoch ms |
//! | `fund` | 住房公积金系统 | HTTP Basic | XML, pinyin, `20240131` |
//! | `education` | 教育学籍系统 | API key header | bare JSON, snake_case, ISO dates |
//! | `tax` | 税务契税系统 | HMAC-SHA256 signature | JSON, camelCase, `20240131` |
//! | `market` | 市场监管企业登记系统 | `Token` header | JSON, camelCase, ISO dates |
//!
//! Every system also serves `GET /_sim/health` (open) and `GET`/`PUT /_sim/knobs` (behind
//! the admin token in [`ADMIN_HEADER`]); knobs add latency, errors and outages. The full
//! description, with examples, is `docs/simulated-departments.md`.

mod auth;
mod immunization;
mod knobs;
mod net;
mod queries;
mod wire;

mod civil;
mod dpf;
mod education;
mod fund;
mod health;
mod housing;
mod hrss;
mod market;
mod police;
mod realestate;
mod tax;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kernel::Db;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use auth::{
    Credentials, HMAC_KEY_HEADER, HMAC_NONCE_HEADER, HMAC_SIGNATURE_HEADER, HMAC_TIMESTAMP_HEADER,
    MAX_SKEW_SECONDS, canonical_query, hmac_signature,
};
pub use knobs::{InvalidKnobs, KnobHandle, Knobs, Outage};

/// The header that carries the admin token for `/_sim/knobs`.
pub const ADMIN_HEADER: &str = "X-Sim-Admin-Token";

/// The systems in the order they take ports from `base_port`.
static SYSTEMS: &[&Spec] = &[
    &police::SPEC,
    &civil::SPEC,
    &dpf::SPEC,
    &health::SPEC,
    &realestate::SPEC,
    &housing::SPEC,
    &hrss::SPEC,
    &fund::SPEC,
    &education::SPEC,
    &tax::SPEC,
    &market::SPEC,
];

/// The keys of every system, in port order.
pub fn keys() -> impl Iterator<Item = &'static str> {
    SYSTEMS.iter().map(|s| s.key)
}

#[derive(Debug, Clone)]
pub struct SystemsConfig {
    pub host: IpAddr,
    /// The first system listens on this port, the next on the one after, in the order of
    /// [`keys`]; `None` lets the operating system pick free ports.
    pub base_port: Option<u16>,
    /// Credentials are derived from it, so the same seed gives the same credentials.
    pub seed: u64,
    /// Guards `/_sim/knobs` on every system; not any system's own credential.
    pub admin_token: String,
    /// Knobs at start, by system key; absent systems start with none.
    pub knobs: HashMap<String, Knobs>,
    /// Lifetime of the bearer tokens that `health` and `hrss` issue.
    pub token_ttl: Duration,
}

impl SystemsConfig {
    /// Loopback, random ports, and an admin token derived from the seed.
    pub fn new(seed: u64) -> SystemsConfig {
        SystemsConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            base_port: None,
            seed,
            admin_token: default_admin_token(seed),
            knobs: HashMap::new(),
            token_ttl: Duration::from_secs(3600),
        }
    }
}

impl Default for SystemsConfig {
    fn default() -> Self {
        SystemsConfig::new(crate::DEFAULT_SEED)
    }
}

/// The admin token [`SystemsConfig::new`] derives from a seed.
pub fn default_admin_token(seed: u64) -> String {
    format!("simadm-{}", auth::derive(seed, "_sim", "admin", 24))
}

/// Whether a system answers JSON or XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }
}

/// What a system is: its conventions, its routes and how it says something went wrong.
pub(crate) struct Spec {
    pub key: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
    pub format: Format,
    pub naming: &'static str,
    pub dates: wire::Dates,
    pub paging: &'static str,
    pub envelope: &'static str,
    pub auth: auth::Scheme,
    pub endpoints: &'static [&'static str],
    /// The vendor's own error body for a status and a message.
    pub error: fn(StatusCode, &str) -> Response,
    /// (routes behind the system's credentials, open routes such as a token endpoint).
    pub routes: fn(Ctx) -> (Router, Router),
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// What a system's handlers share.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub db: Db,
    pub creds: Arc<Credentials>,
    pub tokens: Arc<auth::Tokens>,
}

/// One running system.
#[derive(Debug, Clone)]
pub struct RunningSystem {
    pub key: &'static str,
    /// The Chinese name, e.g. 公安人口库.
    pub name: &'static str,
    pub name_en: &'static str,
    pub addr: SocketAddr,
    pub base_url: String,
    pub credentials: Credentials,
    pub format: Format,
    knobs: KnobHandle,
    spec: &'static Spec,
}

impl RunningSystem {
    pub fn knobs(&self) -> KnobHandle {
        self.knobs.clone()
    }

    /// The system's entry in [`RunningSystems::manifest`].
    pub fn manifest(&self) -> Value {
        let s = self.spec;
        json!({
            "key": s.key,
            "name": s.name,
            "name_en": s.name_en,
            "base_url": self.base_url,
            "format": s.format.name(),
            "naming": s.naming,
            "dates": s.dates.name(),
            "paging": s.paging,
            "envelope": s.envelope,
            "auth": self.credentials,
            "endpoints": s.endpoints,
        })
    }
}

/// The systems while they run; [`RunningSystems::shutdown`] stops them and waits, and
/// dropping this stops them without waiting.
pub struct RunningSystems {
    systems: Vec<RunningSystem>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningSystems {
    pub fn systems(&self) -> &[RunningSystem] {
        &self.systems
    }

    pub fn get(&self, key: &str) -> Option<&RunningSystem> {
        self.systems.iter().find(|s| s.key == key)
    }

    pub fn knobs(&self, key: &str) -> Option<KnobHandle> {
        self.get(key).map(|s| s.knobs.clone())
    }

    /// Everything a client needs to reach each system: base URL, auth scheme and
    /// credentials, format and conventions. The admin token is not in it.
    pub fn manifest(&self) -> Value {
        json!({
            "simulated": true,
            "note": "simulators serving the synthetic city generated by sim; not real government systems",
            "admin_header": ADMIN_HEADER,
            "systems": self.systems.iter().map(RunningSystem::manifest).collect::<Vec<_>>(),
        })
    }

    /// Stops every listener, letting requests in flight finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        tracing::info!("simulated department systems stopped");
    }
}

/// Binds one listener per system and serves each in the background.
pub async fn start(db: Db, cfg: SystemsConfig) -> anyhow::Result<RunningSystems> {
    for key in cfg.knobs.keys() {
        if !keys().any(|k| k == key) {
            anyhow::bail!(
                "knobs for an unknown system {key:?}; the systems are {}",
                keys().collect::<Vec<_>>().join(", ")
            );
        }
    }
    for (key, k) in &cfg.knobs {
        k.validate()
            .map_err(|e| anyhow::anyhow!("knobs of {key}: {e}"))?;
    }
    if cfg.admin_token.len() < 8 {
        anyhow::bail!("the admin token must have at least 8 characters");
    }
    // Dropping the sender on an early return stops whatever had started.
    let (stop, stopped) = watch::channel(false);
    let admin = Arc::new(cfg.admin_token.clone());
    let mut systems = Vec::with_capacity(SYSTEMS.len());
    let mut tasks = Vec::with_capacity(SYSTEMS.len());
    for (i, spec) in SYSTEMS.iter().copied().enumerate() {
        let port = match cfg.base_port {
            None => 0,
            Some(base) => base
                .checked_add(i as u16)
                .context("base port too high for every system")?,
        };
        let listener = tokio::net::TcpListener::bind((cfg.host, port))
            .await
            .with_context(|| {
                format!(
                    "{} {}: cannot listen on {}:{port}",
                    spec.key, spec.name, cfg.host
                )
            })?;
        let addr = listener.local_addr()?;
        let credentials = auth::credentials(spec, cfg.seed, cfg.token_ttl);
        let knobs = KnobHandle::new(cfg.knobs.get(spec.key).cloned().unwrap_or_default());
        let tokens = Arc::new(auth::Tokens::new(cfg.token_ttl));
        let ctx = Ctx {
            db: db.clone(),
            creds: Arc::new(credentials.clone()),
            tokens: tokens.clone(),
        };
        let app = assemble(spec, ctx, knobs.clone(), admin.clone());
        let mut stopped = stopped.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(
                net::SimListener::new(listener),
                app.into_make_service_with_connect_info::<net::Conn>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await;
            if let Err(e) = served {
                tracing::error!(system = spec.key, name = spec.name, error = %e, "simulated system failed");
            }
        });
        tasks.push(task);
        let base_url = format!("http://{}", addr);
        tracing::info!(
            system = spec.key,
            name = spec.name,
            url = %base_url,
            auth = credentials.describe(),
            format = spec.format.name(),
            "simulated department system listening"
        );
        systems.push(RunningSystem {
            key: spec.key,
            name: spec.name,
            name_en: spec.name_en,
            addr,
            base_url,
            credentials,
            format: spec.format,
            knobs,
            spec,
        });
    }
    Ok(RunningSystems {
        systems,
        stop,
        tasks,
    })
}

#[derive(Clone)]
struct SimState {
    spec: &'static Spec,
    knobs: KnobHandle,
    admin: Arc<String>,
}

fn assemble(spec: &'static Spec, ctx: Ctx, knobs: KnobHandle, admin: Arc<String>) -> Router {
    let guard = auth::Guard::new(spec, ctx.creds.clone(), ctx.tokens.clone());
    let (guarded, open) = (spec.routes)(ctx);
    let api = guarded
        .route_layer(middleware::from_fn_with_state(guard, auth::check))
        .merge(open)
        .fallback(move || async move { (spec.error)(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(middleware::from_fn_with_state(
            (spec, knobs.clone()),
            knobs::apply,
        ));
    let sim = Router::new()
        .route("/_sim/health", get(health))
        .route("/_sim/knobs", get(get_knobs).put(put_knobs))
        .with_state(SimState { spec, knobs, admin });
    sim.merge(api)
        .layer(middleware::from_fn_with_state(spec, log_request))
}

/// One line per request, with identifiers masked: paths and queries carry ID numbers.
async fn log_request(State(spec): State<&'static Spec>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let uri = wire::mask(
        req.uri()
            .path_and_query()
            .map_or(req.uri().path(), |p| p.as_str()),
    );
    let started = Instant::now();
    let res = next.run(req).await;
    tracing::debug!(
        system = spec.key,
        name = spec.name,
        %method,
        uri = %uri,
        status = res.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "simulated department request"
    );
    res
}

async fn health(State(s): State<SimState>) -> Response {
    let k = s.knobs.get();
    axum::Json(json!({
        "key": s.spec.key,
        "name": s.spec.name,
        "simulated": true,
        "status": if k.outage == Outage::None { "up" } else { "outage" },
        "knobs": k,
    }))
    .into_response()
}

fn admin_ok(s: &SimState, headers: &HeaderMap) -> bool {
    headers
        .get(ADMIN_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| kernel::secret::constant_time_eq(t, &s.admin))
}

fn admin_refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({ "error": format!("the {ADMIN_HEADER} header with the admin token is required") })),
    )
        .into_response()
}

async fn get_knobs(State(s): State<SimState>, headers: HeaderMap) -> Response {
    if !admin_ok(&s, &headers) {
        return admin_refused();
    }
    axum::Json(s.knobs.get()).into_response()
}

async fn put_knobs(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !admin_ok(&s, &headers) {
        return admin_refused();
    }
    let patch: knobs::KnobsPatch = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "error": format!("knobs not understood: {e}") })),
            )
                .into_response();
        }
    };
    match s.knobs.patch(&patch) {
        Ok(k) => {
            tracing::info!(system = s.spec.key, name = s.spec.name, knobs = ?k, "knobs changed");
            axum::Json(k).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}
