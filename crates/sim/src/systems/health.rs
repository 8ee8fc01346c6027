//! `health`, 卫健出生医学证明系统: birth medical certificates by child or by mother, and a
//! child's vaccination record.
//! OAuth2 client credentials (`POST /oauth/token`, form-encoded) then `Authorization: Bearer`;
//! camelCase; dates as epoch milliseconds; `{"result":[…],"total":n}`; offset/limit paging.
//! Nothing on record is HTTP 200 with an empty result and total 0. Vaccination records carry
//! `complete` beside the result: whether every dose due so far was given.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::auth::Scheme;
use super::immunization;
use super::queries::{self, Birth};
use super::wire::{self, Dates};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "health",
    name: "卫健出生医学证明系统",
    name_en: "Health Commission birth certificate system",
    format: Format::Json,
    naming: "camelCase",
    dates: Dates::EpochMillis,
    paging: "offset (from 0) and limit (1-100, default 20); total in the answer",
    envelope: r#"{"result":[…],"total":n}; errors {"result":null,"total":0,"errorCode":…,"errorMessage":…}"#,
    auth: Scheme::Bearer {
        token_path: "/oauth/token",
        grant: "oauth2 client_credentials, form-encoded grant_type, client_id, client_secret",
    },
    endpoints: &[
        "POST /oauth/token  grant_type=client_credentials&client_id=…&client_secret=…",
        "GET /api/birth-certificates?childIdNumber=<ID number>",
        "GET /api/birth-certificates?motherIdNumber=<ID number>&offset=0&limit=20",
        "GET /api/vaccinations?childIdNumber=<ID number>",
    ],
    error,
    routes,
};

const DATES: Dates = Dates::EpochMillis;

fn error(status: StatusCode, msg: &str) -> Response {
    let code = match status.as_u16() {
        400 => "INVALID_PARAMETER",
        401 => "INVALID_TOKEN",
        404 => "NOT_FOUND",
        _ => "SYSTEM_ERROR",
    };
    (
        status,
        Json(json!({ "result": null, "total": 0, "errorCode": code, "errorMessage": msg })),
    )
        .into_response()
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/api/birth-certificates", get(certificates))
        .route("/api/vaccinations", get(vaccinations))
        .with_state(ctx.clone());
    let open = Router::new()
        .route("/oauth/token", post(token))
        .with_state(ctx);
    (guarded, open)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

async fn token(
    State(ctx): State<Ctx>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "form-encoded body expected",
        );
    };
    if f.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials",
        );
    }
    let id = f.get("client_id").map_or("", String::as_str);
    let secret = f.get("client_secret").map_or("", String::as_str);
    if !ctx.creds.client_ok(id, secret) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    let (token, ttl) = ctx.tokens.issue();
    Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": ttl }))
        .into_response()
}

fn certificate(b: &Birth) -> Value {
    json!({
        "certificateNo": b.certificate_no,
        "childIdNumber": b.child_id,
        "childName": b.child_name,
        "childGender": if b.gender == "M" { "male" } else { "female" },
        "birthTime": DATES.json(&b.born_on),
        "birthWeightGrams": b.weight_g,
        "hospitalName": b.hospital,
        "motherIdNumber": b.mother_id,
        "motherName": b.mother_name,
        "fatherIdNumber": b.father_id,
        "fatherName": b.father_name,
    })
}

async fn certificates(State(ctx): State<Ctx>, uri: Uri) -> Result<Response, Response> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m);
    let p = wire::params(&uri).map_err(bad)?;
    let child = p.get("childIdNumber").filter(|s| !s.trim().is_empty());
    let mother = p.get("motherIdNumber").filter(|s| !s.trim().is_empty());
    let (rows, total) = match (child, mother) {
        (Some(c), None) => {
            let id = wire::id_number(c).map_err(bad)?;
            let rows = queries::births_of_child(&ctx.db, &id)
                .await
                .map_err(|e| wire::db_failed(&SPEC, e))?;
            let n = rows.len() as i64;
            (rows, n)
        }
        (None, Some(m)) => {
            let id = wire::id_number(m).map_err(bad)?;
            let offset = wire::int_param(&p, "offset", 0, 0, 1_000_000).map_err(bad)?;
            let limit = wire::int_param(&p, "limit", 20, 1, 100).map_err(bad)?;
            queries::births_by_mother(&ctx.db, &id, offset, limit)
                .await
                .map_err(|e| wire::db_failed(&SPEC, e))?
        }
        _ => {
            return Err(bad(
                "give exactly one of childIdNumber and motherIdNumber".into()
            ));
        }
    };
    Ok(Json(json!({
        "result": rows.iter().map(certificate).collect::<Vec<_>>(),
        "total": total,
    }))
    .into_response())
}

/// A child's vaccination record as of the day the registries were extracted. A child without
/// a birth certificate here is unknown to this system.
async fn vaccinations(State(ctx): State<Ctx>, uri: Uri) -> Result<Response, Response> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m);
    let p = wire::params(&uri).map_err(bad)?;
    let child = wire::required(&p, "childIdNumber").map_err(bad)?;
    let id = wire::id_number(child).map_err(bad)?;
    let births = queries::births_of_child(&ctx.db, &id)
        .await
        .map_err(|e| wire::db_failed(&SPEC, e))?;
    let Some(b) = births.first() else {
        return Ok(Json(json!({ "result": [], "total": 0 })).into_response());
    };
    let Ok(born) = chrono::NaiveDate::parse_from_str(&b.born_on, "%Y-%m-%d") else {
        return Err(error(StatusCode::INTERNAL_SERVER_ERROR, "出生日期格式错误"));
    };
    let r = immunization::record(&b.child_id, born, &b.hospital, crate::AS_OF);
    let result: Vec<Value> = r
        .doses
        .iter()
        .map(|d| {
            json!({
                "childIdNumber": b.child_id,
                "vaccineCode": d.code,
                "vaccineName": d.name,
                "doseNo": d.dose_no,
                "vaccinationTime": DATES.json(&d.given_on.format("%Y-%m-%d").to_string()),
                "clinicName": d.clinic,
            })
        })
        .collect();
    Ok(Json(json!({
        "result": result,
        "total": result.len(),
        "complete": r.complete,
    }))
    .into_response())
}
