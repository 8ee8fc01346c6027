//! `police`, 公安人口库: persons and households of the household registration.
//! JSON, snake_case, ISO dates, `{"code":0,"msg":…,"data":…}`, page/size paging, an API key
//! in `X-Api-Key`. A person not on record is HTTP 200 with code 40400.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::auth::Scheme;
use super::queries::{self, Household, Person};
use super::wire::{self, Dates};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "police",
    name: "公安人口库",
    name_en: "Public Security population registry",
    format: Format::Json,
    naming: "snake_case",
    dates: Dates::Iso,
    paging: "page (from 1) and size (1-100, default 20); total in the answer",
    envelope: r#"{"code":0,"msg":"success","data":…}; not found: HTTP 200 with code 40400"#,
    auth: Scheme::ApiKey {
        header: "X-Api-Key",
        scheme: None,
    },
    endpoints: &[
        "GET /api/v1/persons/{id_number}",
        "GET /api/v1/households/{household_id}",
        "GET /api/v1/households/{household_id}/members?page=1&size=20",
    ],
    error,
    routes,
};

const DATES: Dates = Dates::Iso;

fn error(status: StatusCode, msg: &str) -> Response {
    let code = match status.as_u16() {
        400 => 40000,
        401 => 40100,
        404 => 40401,
        s => i64::from(s) * 100,
    };
    (
        status,
        axum::Json(json!({ "code": code, "msg": msg, "data": null })),
    )
        .into_response()
}

fn ok(data: Value) -> Response {
    axum::Json(json!({ "code": 0, "msg": "success", "data": data })).into_response()
}

fn not_on_record(msg: &str) -> Response {
    axum::Json(json!({ "code": 40400, "msg": msg, "data": null })).into_response()
}

fn bad(msg: String) -> Response {
    error(StatusCode::BAD_REQUEST, &msg)
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/api/v1/persons/{id_number}", get(person))
        .route("/api/v1/households/{household_id}", get(household))
        .route("/api/v1/households/{household_id}/members", get(members))
        .with_state(ctx);
    (guarded, Router::new())
}

/// GB/T 2261.1 sex codes and GB/T 2261.2 marital-status codes, as household registers use.
fn gender_code(g: &str) -> &'static str {
    if g == "M" { "1" } else { "2" }
}

fn marital_code(m: &str) -> &'static str {
    match m {
        "single" => "10",
        "married" => "20",
        "widowed" => "30",
        "divorced" => "40",
        _ => "90",
    }
}

fn person_json(p: &Person) -> Value {
    json!({
        "id_number": p.id_number,
        "name": p.name,
        "gender": gender_code(&p.gender),
        "gender_name": if p.gender == "M" { "男" } else { "女" },
        "birth_date": DATES.json(&p.birth_date),
        "ethnicity": p.ethnicity,
        "household_id": p.household_id,
        "relation_to_head": p.relation,
        "marital_status": marital_code(&p.marital_status),
        "address": p.address,
        "community_code": p.community_code,
        "district_code": p.district_code,
        "phone": p.phone,
        "status": p.status,
        "date_of_death": DATES.json_opt(p.died_on.as_deref()),
    })
}

fn household_json(h: &Household) -> Value {
    json!({
        "household_id": h.household_id,
        "head_id_number": h.householder_id,
        "household_type": h.kind,
        "address": h.address,
        "community_code": h.community_code,
        "district_code": h.district_code,
        "registered_on": DATES.json(&h.registered_on),
    })
}

fn household_id(s: &str) -> Result<&str, String> {
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s)
    } else {
        Err("household_id must be 14 digits".into())
    }
}

async fn person(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<Response, Response> {
    let id = wire::id_number(&id).map_err(bad)?;
    match queries::person(&ctx.db, &id).await {
        Ok(Some(p)) => Ok(ok(person_json(&p))),
        Ok(None) => Ok(not_on_record("查无此人")),
        Err(e) => Err(wire::db_failed(&SPEC, e)),
    }
}

async fn household(State(ctx): State<Ctx>, Path(hid): Path<String>) -> Result<Response, Response> {
    let hid = household_id(&hid).map_err(bad)?;
    match queries::household(&ctx.db, hid).await {
        Ok(Some(h)) => Ok(ok(household_json(&h))),
        Ok(None) => Ok(not_on_record("查无此户")),
        Err(e) => Err(wire::db_failed(&SPEC, e)),
    }
}

async fn members(
    State(ctx): State<Ctx>,
    Path(hid): Path<String>,
    uri: Uri,
) -> Result<Response, Response> {
    let hid = household_id(&hid).map_err(bad)?;
    let p = wire::params(&uri).map_err(bad)?;
    let page = wire::int_param(&p, "page", 1, 1, 1_000_000).map_err(bad)?;
    let size = wire::int_param(&p, "size", 20, 1, 100).map_err(bad)?;
    let (rows, total) = queries::household_members(&ctx.db, hid, (page - 1) * size, size)
        .await
        .map_err(|e| wire::db_failed(&SPEC, e))?;
    if total == 0 {
        return Ok(not_on_record("查无此户"));
    }
    Ok(ok(json!({
        "household_id": hid,
        "page": page,
        "size": size,
        "total": total,
        "list": rows.iter().map(person_json).collect::<Vec<_>>(),
    })))
}
