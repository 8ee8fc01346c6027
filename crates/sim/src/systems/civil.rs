//! `civil`, 民政婚姻登记系统: marriage registrations, found by either spouse's ID number.
//! A query is a POST with a JSON body; fields are pinyin abbreviations (`sfzh` 身份证号,
//! `djrq` 登记日期, …), dates `20240131`, absent values empty strings, HTTP Basic. Nobody on
//! record is HTTP 200 with `retCode` 0001 and no records.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::auth::Scheme;
use super::queries::{self, Marriage};
use super::wire::{self, Dates};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "civil",
    name: "民政婚姻登记系统",
    name_en: "Civil Affairs marriage registry",
    format: Format::Json,
    naming: "pinyin abbreviations",
    dates: Dates::Compact,
    paging: "none: every registration of the person in one answer",
    envelope: r#"{"retCode":"0000","retMsg":"查询成功","total":n,"records":[…]}; none on record: retCode "0001""#,
    auth: Scheme::Basic { realm: "hydj" },
    endpoints: &[r#"POST /hydj/api/hyxx/cx  body {"sfzh":"<ID number>"}"#],
    error,
    routes,
};

const DATES: Dates = Dates::Compact;

fn error(status: StatusCode, msg: &str) -> Response {
    let code = match status.as_u16() {
        400 => "9001",
        401 => "9401",
        404 => "9404",
        _ => "9999",
    };
    (
        status,
        axum::Json(json!({ "retCode": code, "retMsg": msg, "total": 0, "records": [] })),
    )
        .into_response()
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/hydj/api/hyxx/cx", post(query))
        .with_state(ctx);
    (guarded, Router::new())
}

fn record(m: &Marriage) -> Value {
    let married = m.status == "married";
    json!({
        "djzh": m.registration_no,
        "nfxm": m.husband_name,
        "nfsfzh": m.husband_id,
        "nvfxm": m.wife_name,
        "nvfsfzh": m.wife_id,
        "djrq": DATES.text(&m.registered_on),
        "djjg": m.registry_office,
        "hyzt": if married { "1" } else { "2" },
        "hyztmc": if married { "结婚" } else { "离婚" },
        "lhrq": m.divorced_on.as_deref().map(|d| DATES.text(d)).unwrap_or_default(),
    })
}

async fn query(State(ctx): State<Ctx>, body: Bytes) -> Result<Response, Response> {
    let bad = |m: &str| error(StatusCode::BAD_REQUEST, m);
    let v: Value = serde_json::from_slice(&body).map_err(|_| bad("请求报文不是合法的JSON"))?;
    let sfzh = v
        .get("sfzh")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("缺少参数sfzh"))?;
    let id = wire::id_number(sfzh).map_err(|_| bad("身份证号格式错误"))?;
    let rows = queries::marriages(&ctx.db, &id)
        .await
        .map_err(|e| wire::db_failed(&SPEC, e))?;
    if rows.is_empty() {
        return Ok(axum::Json(json!({
            "retCode": "0001",
            "retMsg": "未查询到婚姻登记信息",
            "total": 0,
            "records": [],
        }))
        .into_response());
    }
    Ok(axum::Json(json!({
        "retCode": "0000",
        "retMsg": "查询成功",
        "total": rows.len(),
        "records": rows.iter().map(record).collect::<Vec<_>>(),
    }))
    .into_response())
}
