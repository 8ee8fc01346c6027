//! Operations endpoints: liveness, readiness, Prometheus metrics, and the OpenAPI document
//! with a page that people can read.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kernel::{Db, Problem};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use web::{Ctx, Shell};

pub const TEMPLATES: &[(&str, &str)] = &[(
    "ops/api_docs.html",
    include_str!("../templates/api_docs.html"),
)];

#[derive(Clone)]
struct OpsState {
    db: Db,
    shell: Shell,
    metrics: PrometheusHandle,
}

/// One recorder per process, however many servers a test starts in it.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[
                        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    ],
                )
                .expect("valid buckets")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed already");
            }
            handle
        })
        .clone()
}

pub fn routes(db: Db, shell: Shell) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/docs", get(api_docs))
        .with_state(OpsState {
            db,
            shell,
            metrics: metrics_handle(),
        })
}

/// Counts requests and their durations by route template (never by raw path, which would
/// put identifiers into metric labels).
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    res
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "the process is alive")))]
async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "the database answers"), (status = 503, description = "the database does not answer")))]
async fn readyz(State(s): State<OpsState>) -> Response {
    match tokio::time::timeout(std::time::Duration::from_secs(2), s.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        _ => Problem::unavailable().into_response(),
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
async fn metrics_text(State(s): State<OpsState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Haoban API", description = "The JSON API of Haoban (好办), a city's digital government platform. Errors are RFC 9457 problem details with a stable `code` and messages in Chinese and English."),
    paths(healthz, readyz, metrics_text),
    tags((name = "operations", description = "Health and metrics"))
)]
struct OpsApi;

pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = OpsApi::openapi();
    doc.merge(identity::IdentityApi::openapi());
    doc.merge(catalog::http::CatalogApi::openapi());
    doc.merge(exchange::http::ExchangeApi::openapi());
    doc.merge(licences::http::LicencesApi::openapi());
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc
}

async fn openapi_json() -> Response {
    match openapi().to_json() {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => Problem::internal().into_response(),
    }
}

#[derive(Serialize)]
struct Operation {
    method: String,
    path: String,
    summary: String,
    tag: String,
    auth: bool,
    responses: Vec<(String, String)>,
}

/// The OpenAPI document as a page, grouped in the order the document lists it.
async fn api_docs(State(s): State<OpsState>, ctx: Ctx) -> Response {
    let doc = serde_json::to_value(openapi()).unwrap_or_default();
    let mut ops = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            let Some(methods) = item.as_object() else {
                continue;
            };
            for (method, op) in methods {
                let mut responses: Vec<(String, String)> = op["responses"]
                    .as_object()
                    .map(|r| {
                        r.iter()
                            .map(|(code, v)| {
                                (
                                    code.clone(),
                                    v["description"].as_str().unwrap_or("").to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                responses.sort();
                ops.push(Operation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: op["summary"]
                        .as_str()
                        .or(op["description"].as_str())
                        .unwrap_or("")
                        .to_string(),
                    tag: op["tags"][0].as_str().unwrap_or("").to_string(),
                    auth: op.get("security").is_some(),
                    responses,
                });
            }
        }
    }
    ops.sort_by(|a, b| (&a.tag, &a.path).cmp(&(&b.tag, &b.path)));
    #[derive(Serialize)]
    struct Page {
        operations: Vec<Operation>,
        version: &'static str,
    }
    s.shell.render(
        "ops/api_docs.html",
        &ctx,
        Page {
            operations: ops,
            version: env!("CARGO_PKG_VERSION"),
        },
    )
}
