//! `hrss`, 人社就业和社保系统: employment history and social insurance by ID number.
//! A bearer token from `POST /api/auth/token` (JSON appId and appSecret); camelCase; dates as
//! epoch milliseconds, months `yyyyMM`; `{"code":200,"message":…,"data":…}`; an opaque cursor
//! for employment. Nobody on record is HTTP 200 with code 404.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::auth::Scheme;
use super::queries::{self, Employment, Insurance};
use super::wire::{self, Dates};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "hrss",
    name: "人社就业和社保系统",
    name_en: "Human Resources and Social Security employment and insurance system",
    format: Format::Json,
    naming: "camelCase",
    dates: Dates::EpochMillis,
    paging: "opaque cursor: pass nextCursor back as cursor; size 1-50, default 10",
    envelope: r#"{"code":200,"message":"success","data":…}; nobody on record: HTTP 200 with code 404"#,
    auth: Scheme::Bearer {
        token_path: "/api/auth/token",
        grant: r#"JSON body {"appId":…,"appSecret":…}; token in data.accessToken"#,
    },
    endpoints: &[
        r#"POST /api/auth/token  body {"appId":"…","appSecret":"…"}"#,
        "GET /api/persons/{idNumber}/employment?size=10&cursor=<nextCursor>",
        "GET /api/persons/{idNumber}/insurance",
    ],
    error,
    routes,
};

const DATES: Dates = Dates::EpochMillis;

fn error(status: StatusCode, msg: &str) -> Response {
    (
        status,
        Json(json!({ "code": status.as_u16(), "message": msg, "data": null })),
    )
        .into_response()
}

fn ok(data: Value) -> Response {
    Json(json!({ "code": 200, "message": "success", "data": data })).into_response()
}

fn not_on_record() -> Response {
    Json(json!({ "code": 404, "message": "未找到该人员的就业和参保信息", "data": null }))
        .into_response()
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/api/persons/{id_number}/employment", get(employment))
        .route("/api/persons/{id_number}/insurance", get(insurance))
        .with_state(ctx.clone());
    let open = Router::new()
        .route("/api/auth/token", post(token))
        .with_state(ctx);
    (guarded, open)
}

async fn token(State(ctx): State<Ctx>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "JSON body with appId and appSecret expected",
        );
    };
    let id = v.get("appId").and_then(Value::as_str).unwrap_or("");
    let secret = v.get("appSecret").and_then(Value::as_str).unwrap_or("");
    if id.is_empty() || secret.is_empty() {
        return error(StatusCode::BAD_REQUEST, "appId and appSecret are required");
    }
    if !ctx.creds.client_ok(id, secret) {
        return error(StatusCode::UNAUTHORIZED, "appId or appSecret is wrong");
    }
    let (token, ttl) = ctx.tokens.issue();
    ok(json!({ "accessToken": token, "tokenType": "Bearer", "expiresIn": ttl }))
}

fn spell(e: &Employment) -> Value {
    json!({
        "idNumber": e.id_number,
        "name": e.name,
        "employerCreditCode": e.employer_code,
        "employerName": e.employer_name,
        "startDate": DATES.json(&e.since),
        "endDate": DATES.json_opt(e.until.as_deref()),
        "monthlyWage": e.monthly_wage_cents as f64 / 100.0,
    })
}

/// Insurance codes as social-security systems number them, and their names.
fn insurance_type(i: &str) -> (&'static str, &'static str) {
    match i {
        "pension" => ("110", "企业职工基本养老保险"),
        "unemployment" => ("210", "失业保险"),
        _ => ("310", "职工基本医疗保险"),
    }
}

fn insurance_status(s: &str) -> (&'static str, &'static str) {
    match s {
        "contributing" => ("1", "正常参保"),
        "suspended" => ("2", "暂停缴费"),
        _ => ("3", "离退休"),
    }
}

fn policy(i: &Insurance) -> Value {
    let (code, name) = insurance_type(&i.insurance);
    let (status, status_name) = insurance_status(&i.status);
    json!({
        "insuranceType": code,
        "insuranceName": name,
        "paidMonths": i.months,
        "firstMonth": i.first_month.replace('-', ""),
        "lastMonth": i.last_month.replace('-', ""),
        "status": status,
        "statusName": status_name,
    })
}

async fn employment(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Response> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m);
    let id = wire::id_number(&id).map_err(bad)?;
    let p = wire::params(&uri).map_err(bad)?;
    let size = wire::int_param(&p, "size", 10, 1, 50).map_err(bad)?;
    let after = wire::after(&p, "cursor").map_err(bad)?;
    let db_failed = |e| wire::db_failed(&SPEC, e);
    let mut rows = queries::employment(&ctx.db, &id, after.as_deref().unwrap_or(""), size + 1)
        .await
        .map_err(db_failed)?;
    if rows.is_empty()
        && after.is_none()
        && !queries::insured_or_employed(&ctx.db, &id)
            .await
            .map_err(db_failed)?
    {
        return Ok(not_on_record());
    }
    let more = rows.len() as i64 > size;
    rows.truncate(size as usize);
    let next = match rows.last() {
        Some(last) if more => Value::from(wire::cursor(&last.since)),
        _ => Value::Null,
    };
    Ok(ok(json!({
        "list": rows.iter().map(spell).collect::<Vec<_>>(),
        "hasMore": more,
        "nextCursor": next,
    })))
}

async fn insurance(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<Response, Response> {
    let id = wire::id_number(&id).map_err(|m| error(StatusCode::BAD_REQUEST, &m))?;
    let db_failed = |e| wire::db_failed(&SPEC, e);
    let rows = queries::insurance(&ctx.db, &id).await.map_err(db_failed)?;
    if rows.is_empty()
        && !queries::insured_or_employed(&ctx.db, &id)
            .await
            .map_err(db_failed)?
    {
        return Ok(not_on_record());
    }
    Ok(ok(Value::from(rows.iter().map(policy).collect::<Vec<_>>())))
}
