//! `dpf`, 残联残疾人证系统: disability certificates by holder. Bare JSON (an array),
//! camelCase, dates `2024/01/31`, `Authorization: APPCODE <key>` as API gateways issue them.
//! Nobody on record is HTTP 404.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::auth::Scheme;
use super::queries::{self, Disability};
use super::wire::{self, Dates};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "dpf",
    name: "残联残疾人证系统",
    name_en: "Disabled Persons' Federation certificate system",
    format: Format::Json,
    naming: "camelCase",
    dates: Dates::Slash,
    paging: "none: every certificate of the person",
    envelope: r#"bare array of certificates; errors {"error":"NotFound","message":…}"#,
    auth: Scheme::ApiKey {
        header: "Authorization",
        scheme: Some("APPCODE"),
    },
    endpoints: &["GET /api/disability-certificates?idCard=<ID number>"],
    error,
    routes,
};

const DATES: Dates = Dates::Slash;

fn error(status: StatusCode, msg: &str) -> Response {
    let kind = match status.as_u16() {
        400 => "BadRequest",
        401 => "Unauthorized",
        404 => "NotFound",
        _ => "InternalError",
    };
    (status, axum::Json(json!({ "error": kind, "message": msg }))).into_response()
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/api/disability-certificates", get(by_holder))
        .with_state(ctx);
    (guarded, Router::new())
}

/// GB/T 26341 categories: code and name.
fn category(c: &str) -> (u8, &'static str) {
    match c {
        "visual" => (1, "视力残疾"),
        "hearing" => (2, "听力残疾"),
        "speech" => (3, "言语残疾"),
        "physical" => (4, "肢体残疾"),
        "intellectual" => (5, "智力残疾"),
        "mental" => (6, "精神残疾"),
        _ => (7, "多重残疾"),
    }
}

fn certificate(d: &Disability) -> Value {
    let (code, name) = category(&d.category);
    json!({
        "certNo": d.cert_no,
        "idCard": d.id_number,
        "holderName": d.name,
        "categoryCode": code,
        "categoryName": name,
        "grade": d.grade,
        "issueDate": DATES.text(&d.issued_on),
    })
}

async fn by_holder(State(ctx): State<Ctx>, uri: Uri) -> Result<Response, Response> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m);
    let p = wire::params(&uri).map_err(bad)?;
    let id = wire::id_number(wire::required(&p, "idCard").map_err(bad)?).map_err(bad)?;
    let rows = queries::disabilities(&ctx.db, &id)
        .await
        .map_err(|e| wire::db_failed(&SPEC, e))?;
    if rows.is_empty() {
        return Err(error(
            StatusCode::NOT_FOUND,
            "no disability certificate for this person",
        ));
    }
    Ok(axum::Json(rows.iter().map(certificate).collect::<Vec<_>>()).into_response())
}
