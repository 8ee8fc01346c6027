//! `housing`, 房管合同备案系统: filed purchase contracts by buyer (or co-buyer) or by number.
//! JSON, snake_case, dates `2024/01/31`, money in yuan as decimal strings, an opaque cursor
//! for lists, a client id and a secret in their own headers. Nothing on record is HTTP 404.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::auth::Scheme;
use super::queries::{self, Contract};
use super::wire::{self, Dates};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "housing",
    name: "房管合同备案系统",
    name_en: "Housing Administration contract filing system",
    format: Format::Json,
    naming: "snake_case",
    dates: Dates::Slash,
    paging: "opaque cursor: pass next_cursor back as cursor; limit 1-50, default 20",
    envelope: r#"{"status":"ok","data":…}; errors {"status":"not_found"|"invalid"|"unauthorized"|"error","message":…}"#,
    auth: Scheme::ClientSecret {
        id_header: "X-Client-Id",
        secret_header: "X-Client-Secret",
    },
    endpoints: &[
        "GET /fdc/v2/contracts?buyer_id_no=<ID number>&limit=20&cursor=<next_cursor>",
        "GET /fdc/v2/contracts/{contract_no}",
    ],
    error,
    routes,
};

const DATES: Dates = Dates::Slash;

fn error(status: StatusCode, msg: &str) -> Response {
    let word = match status.as_u16() {
        400 => "invalid",
        401 => "unauthorized",
        404 => "not_found",
        _ => "error",
    };
    (
        status,
        axum::Json(json!({ "status": word, "message": msg })),
    )
        .into_response()
}

fn ok(data: Value) -> Response {
    axum::Json(json!({ "status": "ok", "data": data })).into_response()
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/fdc/v2/contracts", get(by_buyer))
        .route("/fdc/v2/contracts/{contract_no}", get(by_number))
        .with_state(ctx);
    (guarded, Router::new())
}

fn contract(c: &Contract) -> Value {
    json!({
        "contract_no": c.contract_no,
        "buyer_id_no": c.buyer_id,
        "buyer_name": c.buyer_name,
        "co_buyer_id_no": c.co_buyer_id,
        "co_buyer_name": c.co_buyer_name,
        "seller_type": c.seller_kind,
        "seller_id_no": c.seller_id,
        "seller_name": c.seller_name,
        "house_address": c.address,
        "district_code": c.district_code,
        "building_area": (c.area_m2 * 100.0).round() / 100.0,
        "house_usage": c.usage,
        "total_price": wire::yuan(c.price_cents),
        "sign_date": DATES.text(&c.signed_on),
        "filing_status": c.status,
    })
}

async fn by_buyer(State(ctx): State<Ctx>, uri: Uri) -> Result<Response, Response> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m);
    let p = wire::params(&uri).map_err(bad)?;
    let id = wire::id_number(wire::required(&p, "buyer_id_no").map_err(bad)?).map_err(bad)?;
    let limit = wire::int_param(&p, "limit", 20, 1, 50).map_err(bad)?;
    let after = wire::after(&p, "cursor").map_err(bad)?;
    // One row more than asked says whether there is a next page.
    let mut rows =
        queries::contracts_of_buyer(&ctx.db, &id, after.as_deref().unwrap_or(""), limit + 1)
            .await
            .map_err(|e| wire::db_failed(&SPEC, e))?;
    if rows.is_empty() && after.is_none() {
        return Err(error(StatusCode::NOT_FOUND, "该购房人无备案合同"));
    }
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = match rows.last() {
        Some(last) if more => Value::from(wire::cursor(&last.contract_no)),
        _ => Value::Null,
    };
    Ok(ok(json!({
        "items": rows.iter().map(contract).collect::<Vec<_>>(),
        "has_more": more,
        "next_cursor": next,
    })))
}

async fn by_number(State(ctx): State<Ctx>, Path(no): Path<String>) -> Result<Response, Response> {
    if no.is_empty() || no.len() > 32 || !no.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(error(StatusCode::BAD_REQUEST, "malformed contract_no"));
    }
    match queries::contract(&ctx.db, &no).await {
        Ok(Some(c)) => Ok(ok(contract(&c))),
        Ok(None) => Err(error(StatusCode::NOT_FOUND, "合同不存在")),
        Err(e) => Err(wire::db_failed(&SPEC, e)),
    }
}
