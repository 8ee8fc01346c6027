//! `market`, 市场监管企业登记系统: market entities by credit code, by legal person or by
//! district. `Authorization: Token <key>`; camelCase; ISO dates; capital in 万元; an opaque
//! cursor for lists; `{"success":true,"errorCode":null,"errorMsg":null,"data":…}`. Nothing on
//! record is HTTP 404 with errorCode ENTERPRISE_NOT_FOUND.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::auth::Scheme;
use super::queries::{self, Company, CompanyFilter};
use super::wire::{self, Dates};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "market",
    name: "市场监管企业登记系统",
    name_en: "Market Regulation enterprise registry",
    format: Format::Json,
    naming: "camelCase",
    dates: Dates::Iso,
    paging: "opaque cursor: pass data.nextCursor back as cursor; limit 1-100, default 20",
    envelope: r#"{"success":true,"errorCode":null,"errorMsg":null,"data":…}"#,
    auth: Scheme::ApiKey {
        header: "Authorization",
        scheme: Some("Token"),
    },
    endpoints: &[
        "GET /open/api/enterprises/{creditCode}",
        "GET /open/api/enterprises?legalPersonIdNumber=<ID number>&limit=20&cursor=<nextCursor>",
        "GET /open/api/enterprises?districtCode=<6-digit code>&limit=20&cursor=<nextCursor>",
    ],
    error,
    routes,
};

const DATES: Dates = Dates::Iso;

fn error(status: StatusCode, msg: &str) -> Response {
    let code = match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        404 => "ENTERPRISE_NOT_FOUND",
        _ => "INTERNAL",
    };
    (
        status,
        axum::Json(json!({ "success": false, "errorCode": code, "errorMsg": msg, "data": null })),
    )
        .into_response()
}

fn ok(data: Value) -> Response {
    axum::Json(json!({ "success": true, "errorCode": null, "errorMsg": null, "data": data }))
        .into_response()
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/open/api/enterprises", get(list))
        .route("/open/api/enterprises/{credit_code}", get(one))
        .with_state(ctx);
    (guarded, Router::new())
}

fn kind(k: &str) -> &'static str {
    match k {
        "llc" => "有限责任公司",
        "llc_sole" => "有限责任公司（自然人独资）",
        "joint_stock" => "股份有限公司",
        "sole_proprietorship" => "个人独资企业",
        "partnership" => "合伙企业",
        _ => "个体工商户",
    }
}

fn status(s: &str) -> &'static str {
    match s {
        "active" => "存续",
        "revoked" => "吊销",
        _ => "注销",
    }
}

fn enterprise(c: &Company) -> Value {
    json!({
        "creditCode": c.credit_code,
        "enterpriseName": c.name,
        "enterpriseType": kind(&c.kind),
        "industry": c.industry,
        "legalRepresentative": { "name": c.legal_person_name, "idNumber": c.legal_person_id },
        "registeredCapital": c.registered_capital_cents as f64 / 1_000_000.0,
        "registeredCapitalUnit": "万元人民币",
        "establishDate": DATES.json(&c.registered_on),
        "address": c.address,
        "districtCode": c.district_code,
        "registrationStatus": status(&c.status),
        "businessScope": c.business_scope,
    })
}

async fn one(State(ctx): State<Ctx>, Path(code): Path<String>) -> Result<Response, Response> {
    let code = wire::credit_code(&code).map_err(|m| error(StatusCode::BAD_REQUEST, &m))?;
    match queries::company(&ctx.db, &code).await {
        Ok(Some(c)) => Ok(ok(enterprise(&c))),
        Ok(None) => Err(error(StatusCode::NOT_FOUND, "未查询到该市场主体")),
        Err(e) => Err(wire::db_failed(&SPEC, e)),
    }
}

async fn list(State(ctx): State<Ctx>, uri: Uri) -> Result<Response, Response> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m);
    let p = wire::params(&uri).map_err(bad)?;
    let limit = wire::int_param(&p, "limit", 20, 1, 100).map_err(bad)?;
    let after = wire::after(&p, "cursor").map_err(bad)?;
    let person = p
        .get("legalPersonIdNumber")
        .filter(|s| !s.trim().is_empty());
    let district = p.get("districtCode").filter(|s| !s.trim().is_empty());
    let id;
    let filter = match (person, district) {
        (Some(v), None) => {
            id = wire::id_number(v).map_err(bad)?;
            CompanyFilter::LegalPerson(&id)
        }
        (None, Some(d)) if d.len() == 6 && d.bytes().all(|b| b.is_ascii_digit()) => {
            CompanyFilter::District(d)
        }
        (None, Some(_)) => return Err(bad("districtCode must be 6 digits".into())),
        _ => {
            return Err(bad(
                "give exactly one of legalPersonIdNumber and districtCode".into(),
            ));
        }
    };
    let mut rows = queries::companies(&ctx.db, filter, after.as_deref().unwrap_or(""), limit + 1)
        .await
        .map_err(|e| wire::db_failed(&SPEC, e))?;
    if rows.is_empty() && after.is_none() {
        return Err(error(StatusCode::NOT_FOUND, "未查询到市场主体"));
    }
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = match rows.last() {
        Some(last) if more => Value::from(wire::cursor(&last.credit_code)),
        _ => Value::Null,
    };
    Ok(ok(json!({
        "items": rows.iter().map(enterprise).collect::<Vec<_>>(),
        "nextCursor": next,
    })))
}
