//! `education`, 教育学籍系统: schools, the communities each serves, and pupils by ID number.
//! Bare JSON in the style of a Django REST service: snake_case, ISO dates, offset/limit lists
//! as `{"count","next","previous","results"}`, errors as `{"detail":…}`, an API key in the
//! `apikey` header. Nothing on record is HTTP 404.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::auth::Scheme;
use super::queries::{self, School, Student};
use super::wire::{self, Dates};
use super::{Ctx, Format, Spec};

pub(super) static SPEC: Spec = Spec {
    key: "education",
    name: "教育学籍系统",
    name_en: "Education Bureau schools and pupil registry",
    format: Format::Json,
    naming: "snake_case",
    dates: Dates::Iso,
    paging: "offset (from 0) and limit (1-100, default 20); count, next and previous in the answer",
    envelope: r#"bare objects; lists {"count":n,"next":…,"previous":…,"results":[…]}; errors {"detail":…}"#,
    auth: Scheme::ApiKey {
        header: "apikey",
        scheme: None,
    },
    endpoints: &[
        "GET /edu/v1/schools?community_code=<12-digit code>&offset=0&limit=20",
        "GET /edu/v1/schools/{school_id}",
        "GET /edu/v1/students/{id_number}",
    ],
    error,
    routes,
};

const DATES: Dates = Dates::Iso;

fn error(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(json!({ "detail": msg }))).into_response()
}

fn routes(ctx: Ctx) -> (Router, Router) {
    let guarded = Router::new()
        .route("/edu/v1/schools", get(schools))
        .route("/edu/v1/schools/{school_id}", get(school))
        .route("/edu/v1/students/{id_number}", get(student))
        .with_state(ctx);
    (guarded, Router::new())
}

fn school_json(s: &School) -> Value {
    json!({
        "school_id": s.school_id,
        "name": s.name,
        "level": s.level,
        "district_code": s.district_code,
        "sub_district_code": s.sub_district_code,
        "address": s.address,
    })
}

fn student_json(s: &Student) -> Value {
    json!({
        "id_number": s.id_number,
        "student_no": s.student_no,
        "name": s.name,
        "school_id": s.school_id,
        "school_name": s.school_name,
        "grade": s.grade,
        "class_no": s.class_no,
        "enrolled_on": DATES.json(&s.enrolled_on),
    })
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn page_link(community: Option<&str>, offset: i64, limit: i64) -> String {
    match community {
        Some(c) => {
            format!("/edu/v1/schools?community_code={c}&offset={offset}&limit={limit}")
        }
        None => format!("/edu/v1/schools?offset={offset}&limit={limit}"),
    }
}

async fn schools(State(ctx): State<Ctx>, uri: Uri) -> Result<Response, Response> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m);
    let p = wire::params(&uri).map_err(bad)?;
    let community = p
        .get("community_code")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    if community.is_some_and(|c| !digits(c, 12)) {
        return Err(bad("community_code must be 12 digits".into()));
    }
    let offset = wire::int_param(&p, "offset", 0, 0, 1_000_000).map_err(bad)?;
    let limit = wire::int_param(&p, "limit", 20, 1, 100).map_err(bad)?;
    let (rows, count) = queries::schools(&ctx.db, community, offset, limit)
        .await
        .map_err(|e| wire::db_failed(&SPEC, e))?;
    let next = (offset + limit < count).then(|| page_link(community, offset + limit, limit));
    let previous = (offset > 0).then(|| page_link(community, (offset - limit).max(0), limit));
    Ok(axum::Json(json!({
        "count": count,
        "next": next,
        "previous": previous,
        "results": rows.iter().map(school_json).collect::<Vec<_>>(),
    }))
    .into_response())
}

async fn school(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<Response, Response> {
    if !digits(&id, 10) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "school_id must be 10 digits",
        ));
    }
    let db_failed = |e| wire::db_failed(&SPEC, e);
    let Some(s) = queries::school(&ctx.db, &id).await.map_err(db_failed)? else {
        return Err(error(StatusCode::NOT_FOUND, "Not found."));
    };
    let communities = queries::school_district(&ctx.db, &id)
        .await
        .map_err(db_failed)?;
    let mut v = school_json(&s);
    v["communities"] = Value::from(communities);
    Ok(axum::Json(v).into_response())
}

async fn student(State(ctx): State<Ctx>, Path(id): Path<String>) -> Result<Response, Response> {
    let id = wire::id_number(&id).map_err(|m| error(StatusCode::BAD_REQUEST, &m))?;
    match queries::student(&ctx.db, &id).await {
        Ok(Some(s)) => Ok(axum::Json(student_json(&s)).into_response()),
        Ok(None) => Err(error(StatusCode::NOT_FOUND, "Not found.")),
        Err(e) => Err(wire::db_failed(&SPEC, e)),
    }
}
