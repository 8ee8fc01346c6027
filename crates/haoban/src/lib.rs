//! The `haoban` binary's library half: configuration, wiring of the contexts into one router,
//! operations endpoints (`/healthz`, `/readyz`, `/metrics`, the OpenAPI document) and the
//! server loop. Integration tests start the real server through [`serve`].

pub mod bench;
pub mod bench_exchange;
pub mod config;
pub mod demo;
mod ops;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use identity::{Identity, IdentityState};
use kernel::{Db, Problem};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use web::{CookiePolicy, Ctx, Shell};

pub use config::Config;

/// Every context's migrations, in the order they apply.
pub fn migrations() -> Vec<&'static kernel::db::MigrationSet> {
    vec![
        &identity::MIGRATIONS,
        &sim::MIGRATIONS,
        &catalog::MIGRATIONS,
        &applications::MIGRATIONS,
        &licences::MIGRATIONS,
        &exchange::MIGRATIONS,
    ]
}

pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect_with(&config.database_url, config.db_pool).await?;
    db.migrate(&migrations()).await?;
    Ok(db)
}

pub fn shell() -> Shell {
    Shell::builder()
        .templates(identity::TEMPLATES)
        .templates(catalog::pages::TEMPLATES)
        .templates(applications::TEMPLATES)
        .templates(licences::TEMPLATES)
        .templates(exchange::http::TEMPLATES)
        .templates(ops::TEMPLATES)
        .build()
}

#[derive(Clone)]
struct AppState {
    shell: Shell,
}

/// The whole platform as one router, and the background tasks it needs; `addr` is where it
/// listens.
pub async fn app(
    config: &Config,
    db: Db,
    addr: SocketAddr,
) -> anyhow::Result<(Router, Vec<tokio::task::JoinHandle<()>>)> {
    let shell = shell();
    let policy = CookiePolicy {
        secure: config.secure_cookies(),
    };
    let catalog =
        catalog::CatalogService::open(db.clone(), std::path::Path::new(&config.catalog_dir))
            .await?;
    let exchange = open_exchange(config, db.clone(), catalog.clone())?;
    let mut identity = Identity::new(db.clone()).await;
    if exchange.has_source("police") {
        identity = identity.with_real_name_check(Arc::new(exchange.clone()));
    } else {
        tracing::warn!("no access to the population registry: sign-ups are not checked against it");
    }
    let id_state = IdentityState {
        identity: identity.clone(),
        shell: shell.clone(),
        policy,
    };
    let prefs_hook: Arc<dyn web::PrefsHook> = Arc::new(identity::AccountPrefs(identity.clone()));
    let max_body = config.max_body_bytes;
    let origin = url::Url::parse(&config.public_origin(addr))?;
    let passkeys = identity::Passkeys::new(identity.clone(), &origin)?;
    let tasks = vec![catalog.follow(Duration::from_secs(config.catalog_refresh_secs.max(1)))];
    let catalog_pages = catalog::pages::PagesState {
        service: catalog.clone(),
        shell: shell.clone(),
    };
    let application_pages = applications::PagesState {
        db: db.clone(),
        catalog: catalog.clone(),
        shell: shell.clone(),
        exchange: exchange.clone(),
        licences: licences::Licences::new(db.clone()),
    };
    let licence_state = licences::LicencesState {
        licences: licences::Licences::new(db.clone()),
        catalog: catalog.clone(),
        identity: identity.clone(),
        shell: shell.clone(),
        origin: config.public_origin(addr),
    };
    let catalog_state = catalog::http::CatalogState {
        service: catalog,
        identity: identity.clone(),
    };

    let pages = Router::new()
        .route("/", get(home))
        .fallback(fallback)
        .with_state(AppState {
            shell: shell.clone(),
        });

    let router = Router::new()
        .merge(catalog::http::routes(catalog_state))
        .merge(catalog::pages::routes(catalog_pages))
        .merge(applications::routes(application_pages))
        .merge(licences::routes(licence_state))
        .merge(exchange::http::routes(exchange::http::ExchangeState {
            exchange,
            identity: identity.clone(),
            shell: shell.clone(),
        }))
        .merge(identity::passkeys::routes(identity::PasskeyState {
            passkeys,
            identity: id_state.clone(),
        }))
        .merge(identity::routes(id_state))
        .merge(web::prefs_routes(policy, Some(prefs_hook)))
        .merge(web::asset_routes())
        .merge(ops::routes(db.clone(), shell.clone()))
        .merge(pages)
        .layer(middleware::from_fn_with_state(
            identity,
            identity::session_layer,
        ))
        .layer(middleware::from_fn(move |req, next| {
            web::csrf_layer(policy, req, next)
        }))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(move |req, next| {
            limit_body(max_body, req, next)
        }))
        .layer(middleware::from_fn(ops::track_metrics))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            // The path only: query strings may carry personal data.
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
        }))
        .layer(CatchPanicLayer::custom(|_| {
            Problem::internal().into_response()
        }));
    Ok((router, tasks))
}

/// The exchange with its connectors and access. Connectors are checked against the live
/// catalog; a bad definition stops the start with its errors, as a bad catalog does.
fn open_exchange(
    config: &Config,
    db: Db,
    catalog: catalog::CatalogService,
) -> anyhow::Result<exchange::Exchange> {
    let dir = std::path::Path::new(&config.connectors_dir);
    let connectors = if dir.is_dir() {
        exchange::Connectors::load_dir(dir, &catalog.current()).map_err(|errors| {
            anyhow::anyhow!(
                "the connectors in {} are not valid:\n{}",
                dir.display(),
                errors.join("\n")
            )
        })?
    } else {
        tracing::warn!(dir = %dir.display(), "no connector folder: the exchange reaches no system");
        exchange::Connectors::default()
    };
    let access: Option<exchange::AccessFile> =
        match (&config.exchange_access_inline, &config.exchange_access) {
            (Some(v), _) => Some(serde_json::from_value(v.clone())?),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read the exchange access file {path}: {e}")
                })?;
                Some(serde_json::from_str(&text)?)
            }
            (None, None) => None,
        };
    Ok(exchange::Exchange::new(
        db,
        catalog,
        connectors,
        access.map(exchange::access_by_key).unwrap_or_default(),
        Duration::from_millis(config.exchange_deadline_ms.max(1)),
    ))
}

/// Refuses a declared body over the limit before reading any of it.
async fn limit_body(max: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return kernel::problem::too_large().into_response();
    }
    next.run(req).await
}

async fn home(axum::extract::State(s): axum::extract::State<AppState>, ctx: Ctx) -> Response {
    s.shell.render("home.html", &ctx, ())
}

async fn fallback(
    axum::extract::State(s): axum::extract::State<AppState>,
    ctx: Ctx,
    req: Request,
) -> Response {
    if req.uri().path().starts_with("/api/") {
        return Problem::not_found().into_response();
    }
    web::not_found_page(&s.shell, &ctx)
}

/// A running server: its address, and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub db: Db,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Binds, migrates and serves in the background until [`Running::stop`] or SIGTERM.
pub async fn serve(config: &Config, db: Db) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(&config.listen).await?;
    let addr = listener.local_addr()?;
    let (router, tasks) = app(config, db.clone(), addr).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let upkeep = tokio::spawn(upkeep(db.clone()));
    let task = tokio::spawn(async move {
        let res = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = stopped => {}
                _ = shutdown_signal() => {}
            }
            tracing::info!("shutting down: finishing requests in flight");
        })
        .await;
        upkeep.abort();
        for t in tasks {
            t.abort();
        }
        res
    });
    Ok(Running {
        addr,
        db,
        stop,
        task,
    })
}

impl Running {
    /// Waits until the server has stopped (after SIGTERM or Ctrl-C).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await??;
        self.db.close().await;
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Housekeeping every instance may do at the same time without harm.
async fn upkeep(db: Db) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match identity::store::delete_expired_sessions(&db, chrono::Utc::now()).await {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session clean-up failed"),
        }
    }
}

/// Sets up logging: JSON lines or text, filtered by `config.log`.
pub fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
