//! `tax`, 税务契税系统: deed-tax payments by payer or by purchase contract. Every request is
//! signed with HMAC-SHA256 ([`super::hmac_signature`]); camelCase; dates `20240131`; money in
//! yuan; pageNo/pageSize paging; `{"code":"00000","message":…,"data":…}`. Nothing on record
//! is HTTP 200 with code 10404.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::auth::Scheme;
use super::queries::{self, DeedTax};
use super::wire::{self, Dates};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "tax",
    name: "税务契税系统",
    name_en: "Tax Service deed-tax system",
    format: Format::Json,
    naming: "camelCase",
    dates: Dates::Compact,
    paging: "pageNo (from 1) and pageSize (1-100, default 10); total in the answer",
    envelope: r#"{"code":"00000","message":"成功","data":{"total":n,"pageNo":…,"pageSize":…,"records":[…]}}; nothing on record: code "10404""#,
    auth: Scheme::Hmac,
    endpoints: &[
        "GET /api/deed-tax/payments?payerIdNumber=<ID number>&pageNo=1&pageSize=10",
        "GET /api/deed-tax/payments?contractNo=<contract number>&pageNo=1&pageSize=10",
    ],
    error,
    routes,
};

const DATES: Dates = Dates::Compact;

fn error(status: StatusCode, msg: &str) -> Response {
    let code = match status.as_u16() {
        400 => "10400",
        401 => "10401",
        404 => "10405",
        _ => "19999",
    };
    (
        status,
        axum::Json(json!({ "code": code, "message": msg, "data": null })),
    )
        .into_response()
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/api/deed-tax/payments", get(payments))
        .with_state(ctx);
    (guarded, Router::new())
}

/// 30 ‰ → "3%", 15 ‰ → "1.5%".
fn rate(permille: i64) -> String {
    if permille % 10 == 0 {
        format!("{}%", permille / 10)
    } else {
        format!("{}.{}%", permille / 10, permille % 10)
    }
}

fn payment(t: &DeedTax) -> Value {
    json!({
        "voucherNo": t.voucher_no,
        "contractNo": t.contract_no,
        "payerIdNumber": t.payer_id,
        "payerName": t.payer_name,
        "taxBase": t.taxable_cents as f64 / 100.0,
        "taxRate": rate(t.rate_permille),
        "taxAmount": t.amount_cents as f64 / 100.0,
        "paymentDate": DATES.text(&t.paid_on),
    })
}

async fn payments(State(ctx): State<Ctx>, uri: Uri) -> Result<Response, Response> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m);
    let p = wire::params(&uri).map_err(bad)?;
    let page = wire::int_param(&p, "pageNo", 1, 1, 1_000_000).map_err(bad)?;
    let size = wire::int_param(&p, "pageSize", 10, 1, 100).map_err(bad)?;
    let offset = (page - 1) * size;
    let payer = p.get("payerIdNumber").filter(|s| !s.trim().is_empty());
    let contract = p.get("contractNo").filter(|s| !s.trim().is_empty());
    let found = match (payer, contract) {
        (Some(id), None) => {
            let id = wire::id_number(id).map_err(bad)?;
            queries::deed_tax_of_payer(&ctx.db, &id, offset, size).await
        }
        (None, Some(no)) => {
            if no.len() > 32 || !no.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad("malformed contractNo".into()));
            }
            queries::deed_tax_of_contract(&ctx.db, no, offset, size).await
        }
        _ => {
            return Err(bad(
                "give exactly one of payerIdNumber and contractNo".into()
            ));
        }
    };
    let (rows, total) = found.map_err(|e| wire::db_failed(&SPEC, e))?;
    if total == 0 {
        return Ok(axum::Json(json!({
            "code": "10404",
            "message": "未查询到完税信息",
            "data": null,
        }))
        .into_response());
    }
    Ok(axum::Json(json!({
        "code": "00000",
        "message": "成功",
        "data": {
            "total": total,
            "pageNo": page,
            "pageSize": size,
            "records": rows.iter().map(payment).collect::<Vec<_>>(),
        },
    }))
    .into_response())
}
