//! The exchange over HTTP: queries for signed-in callers, and each person's own access log
//! (who looked at their data, for what, and what came of it) as JSON and as a page.

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use identity::{Account, ApiCaller, Holder, Identity, SignedIn};
use kernel::{ApiJson, Msg, Problem};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use web::{Ctx, Shell};

use crate::audit;
use crate::query::{
    Answer, Exchange, Provided, Purpose, QueryError, Requester, Subject, Unavailable,
};

pub const TEMPLATES: &[(&str, &str)] = &[(
    "exchange/accesses.html",
    include_str!("../templates/accesses.html"),
)];

#[derive(Clone)]
pub struct ExchangeState {
    pub exchange: Exchange,
    pub identity: Identity,
    pub shell: Shell,
}

impl FromRef<ExchangeState> for Identity {
    fn from_ref(s: &ExchangeState) -> Identity {
        s.identity.clone()
    }
}

pub fn routes(state: ExchangeState) -> Router {
    Router::new()
        .route("/api/v1/exchange/query", post(query))
        .route("/api/v1/me/data-accesses", get(my_accesses))
        .route("/account/data-accesses", get(accesses_page))
        .with_state(state)
}

/// The requester an account is.
pub fn requester_of(a: &Account) -> Requester {
    match &a.holder {
        Holder::Citizen { id_number } => Requester::Citizen {
            account_id: a.id.clone(),
            id_number: id_number.as_str().to_string(),
        },
        Holder::Company { credit_code } => Requester::Company {
            account_id: a.id.clone(),
            credit_code: credit_code.as_str().to_string(),
        },
        Holder::Staff { department_id } => Requester::Staff {
            account_id: a.id.clone(),
            label: format!("{}（{department_id}）", a.name),
        },
    }
}

/// The subject an account's own data is about.
fn own_subject(a: &Account) -> Option<(&'static str, String)> {
    match &a.holder {
        Holder::Citizen { id_number } => Some(("person", id_number.as_str().to_string())),
        Holder::Company { credit_code } => Some(("company", credit_code.as_str().to_string())),
        Holder::Staff { .. } => None,
    }
}

#[derive(Deserialize, ToSchema)]
pub struct QueryBody {
    /// A resident ID number or a credit code.
    subject: String,
    elements: Vec<String>,
    /// A service item's code.
    item: String,
}

fn parse_subject(s: &str) -> Result<Subject, Problem> {
    let s = s.trim();
    if let Ok(id) = kernel::IdNumber::parse(s) {
        return Ok(Subject::Person(id));
    }
    if let Ok(c) = kernel::CreditCode::parse(s) {
        return Ok(Subject::Company(c));
    }
    Err(Problem::bad_request(
        "bad_subject",
        Msg::new(
            "subject 应为有效的公民身份号码或统一社会信用代码",
            "subject must be a valid resident ID number or unified social credit code",
        ),
    ))
}

fn problem(e: QueryError) -> Problem {
    match &e {
        QueryError::NotYours => Problem::new(StatusCode::FORBIDDEN, "not_yours", e.message()),
        QueryError::NotCovered(_) => {
            Problem::new(StatusCode::FORBIDDEN, "purpose_does_not_cover", e.message())
        }
        QueryError::UnknownPurpose => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_purpose",
            e.message(),
        ),
        QueryError::Db(err) => {
            tracing::error!(error = %err, "exchange query failed");
            Problem::internal()
        }
    }
}

#[utoipa::path(post, path = "/api/v1/exchange/query", tag = "exchange",
    request_body(content = QueryBody, description = "Data elements about a subject, for the purpose of a service item"),
    responses(
        (status = 200, body = Answer, description = "each value with its provenance; unavailable sources and elements without a record named"),
        (status = 400, description = "bad subject or element list, problem+json"),
        (status = 401, description = "no valid token"),
        (status = 403, description = "the subject is not the caller's own (`not_yours`) or the item's declared needs do not cover the elements (`purpose_does_not_cover`)"),
        (status = 422, description = "no such service item (`unknown_purpose`)")),
    security(("bearer" = [])))]
async fn query(
    State(s): State<ExchangeState>,
    ApiCaller(account): ApiCaller,
    ApiJson(body): ApiJson<QueryBody>,
) -> Response {
    let subject = match parse_subject(&body.subject) {
        Ok(s) => s,
        Err(p) => return p.into_response(),
    };
    if body.elements.is_empty() || body.elements.len() > 200 {
        return Problem::bad_request(
            "bad_elements",
            Msg::new(
                "elements 应列出 1 至 200 个数据元",
                "elements must list 1 to 200 data elements",
            ),
        )
        .into_response();
    }
    match s
        .exchange
        .query(
            &requester_of(&account),
            &subject,
            &body.elements,
            &Purpose::Item(body.item),
        )
        .await
    {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => problem(e).into_response(),
    }
}

/// One access as the person concerned sees it.
#[derive(Serialize, ToSchema)]
pub struct AccessLine {
    seq: i64,
    at: String,
    who: String,
    who_kind: String,
    purpose_kind: String,
    purpose: String,
    purpose_name: Option<String>,
    elements: Vec<String>,
    element_names: Vec<String>,
    outcome: String,
}

async fn lines(s: &ExchangeState, a: &Account) -> Result<Vec<AccessLine>, Problem> {
    let Some((kind, id)) = own_subject(a) else {
        return Ok(Vec::new());
    };
    let entries = audit::about(s.exchange.db(), kind, &id, 200)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "access log read failed");
            Problem::internal()
        })?;
    let c = s.exchange.catalog().current();
    Ok(entries
        .into_iter()
        .map(|e| {
            let elements: Vec<String> = serde_json::from_str(&e.elements).unwrap_or_default();
            let element_names = elements
                .iter()
                .map(|code| {
                    c.element(code)
                        .map_or_else(|| code.clone(), |el| el.name.clone())
                })
                .collect();
            AccessLine {
                seq: e.seq,
                at: local_time(&e.at),
                who: e.actor_label,
                who_kind: e.actor_kind,
                purpose_name: c.item(&e.purpose_ref).map(|i| i.name.clone()),
                purpose_kind: e.purpose_kind,
                purpose: e.purpose_ref,
                elements,
                element_names,
                outcome: e.outcome,
            }
        })
        .collect())
}

fn local_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&kernel::calendar::china_time())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// The caller's access log, the newest first.
#[derive(Serialize, ToSchema)]
pub struct AccessLog {
    pub accesses: Vec<AccessLine>,
}

#[utoipa::path(get, path = "/api/v1/me/data-accesses", tag = "exchange",
    responses(
        (status = 200, body = AccessLog, description = "who looked at the caller's data, for what, and what came of it; empty for staff"),
        (status = 401, description = "no valid token")),
    security(("bearer" = [])))]
async fn my_accesses(State(s): State<ExchangeState>, ApiCaller(account): ApiCaller) -> Response {
    match lines(&s, &account).await {
        Ok(accesses) => Json(AccessLog { accesses }).into_response(),
        Err(p) => p.into_response(),
    }
}

async fn accesses_page(
    State(s): State<ExchangeState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
) -> Response {
    match lines(&s, &account).await {
        Ok(l) => s
            .shell
            .render("exchange/accesses.html", &ctx, json!({ "accesses": l })),
        Err(p) => p.into_response(),
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(query, my_accesses),
    components(schemas(QueryBody, Answer, Provided, Unavailable, AccessLog, AccessLine)),
    tags((name = "exchange", description = "Data shared between departments, by purpose, and each person's log of accesses to their data"))
)]
pub struct ExchangeApi;
