//! The licence API under `/api/v1/licences`. Thin: the operations are in `service`.
//!
//! Who may do what:
//! - issue, revoke, cancel: staff with the `dept_admin` or `reviewer` role in the licence
//!   type's issuing department (a reviewer decides applications, and the licence is their
//!   result; an administrator corrects and withdraws);
//! - read one licence: its holder, or such staff of its issuing department; anyone else gets
//!   404, as if it did not exist;
//! - list: the holder's own;
//! - verify and list public keys: anyone, no sign-in;
//! - rotate keys: a platform administrator.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use catalog::CatalogService;
use chrono::{DateTime, NaiveDate, Utc};
use identity::{Account, ApiCaller, Identity, Role};
use kernel::{ApiJson, FieldError, Msg, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::Shell;

use crate::canonical::public_fields;
use crate::domain::{Licence, Verdict};
use crate::service::{IssueError, Licences, NewLicence, holder_of};
use crate::sign::Algorithm;
use crate::store::KeyInfo;

#[derive(Clone)]
pub struct LicencesState {
    pub licences: Licences,
    pub catalog: CatalogService,
    pub identity: Identity,
    pub shell: Shell,
    /// Scheme, host and port the QR codes point at.
    pub origin: String,
}

impl FromRef<LicencesState> for Identity {
    fn from_ref(s: &LicencesState) -> Identity {
        s.identity.clone()
    }
}

pub fn routes(state: LicencesState) -> Router {
    Router::new()
        .route("/api/v1/licences", get(list).post(issue))
        .route("/api/v1/licences/verify", post(verify))
        .route("/api/v1/licences/keys", get(keys))
        .route("/api/v1/licences/keys/rotate", post(rotate))
        .route("/api/v1/licences/{id}", get(one))
        .route("/api/v1/licences/{id}/revoke", post(revoke))
        .route("/api/v1/licences/{id}/cancel", post(cancel))
        .merge(crate::pages::routes())
        .with_state(state)
}

/// A licence as shown: the holder's number and sensitive fields masked.
#[derive(Serialize, ToSchema)]
pub struct LicenceView {
    pub id: String,
    #[serde(rename = "type")]
    pub type_code: String,
    pub type_name: String,
    pub issuer: String,
    pub issuer_name: String,
    pub holder: HolderView,
    pub issued_at: DateTime<Utc>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub fields: BTreeMap<String, String>,
    pub kid: String,
    pub algorithm: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub state_changed_at: Option<DateTime<Utc>>,
    /// The verdict of verifying it now.
    pub status: String,
    /// What its QR code carries.
    pub payload: String,
}

#[derive(Serialize, ToSchema)]
pub struct HolderView {
    pub kind: String,
    pub name: String,
    pub number_masked: String,
}

pub fn view(l: &Licence, status: Verdict) -> LicenceView {
    LicenceView {
        id: l.id.to_string(),
        type_code: l.type_code.clone(),
        type_name: l.type_name.clone(),
        issuer: l.issuer.clone(),
        issuer_name: l.issuer_name.clone(),
        holder: HolderView {
            kind: l.holder.kind.as_str().to_string(),
            name: l.holder.name.clone(),
            number_masked: l.holder.masked_number(),
        },
        issued_at: l.issued_at,
        valid_from: l.valid_from,
        valid_until: l.valid_until,
        fields: public_fields(&l.salt, &l.fields).0,
        kid: l.kid.clone(),
        algorithm: l.algorithm.as_str().to_string(),
        state: l.state.code().to_string(),
        state_reason: l.state_reason.clone(),
        state_changed_at: l.state_changed_at,
        status: status.code().to_string(),
        payload: l.payload(),
    }
}

fn internal(e: sqlx::Error) -> Problem {
    tracing::error!(error = %e, "licences store failed");
    Problem::internal()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The codes of the departments in which `account` holds an issuing role.
pub async fn issuing_departments(
    identity: &Identity,
    account: &Account,
) -> Result<Vec<String>, Problem> {
    let mut codes = Vec::new();
    for (role, dept) in &account.roles {
        if !matches!(role, Role::DeptAdmin | Role::Reviewer) {
            continue;
        }
        if let Some(d) = identity::store::department(identity.db(), dept)
            .await
            .map_err(internal)?
        {
            codes.push(d.code);
        }
    }
    Ok(codes)
}

async fn may_act_for(
    identity: &Identity,
    account: &Account,
    issuer: &str,
) -> Result<bool, Problem> {
    Ok(issuing_departments(identity, account)
        .await?
        .iter()
        .any(|c| c == issuer))
}

#[derive(Deserialize, ToSchema)]
pub struct IssueRequest {
    /// The licence type's code in the catalog.
    #[serde(rename = "type")]
    type_code: String,
    /// ID number for a person, credit code for a company.
    holder_number: String,
    holder_name: String,
    /// Printed fields by data element code; each must be one the type prints.
    #[serde(default)]
    fields: BTreeMap<String, String>,
    /// Default: the day of issue.
    valid_from: Option<NaiveDate>,
    /// Default: from the type's validity; none when permanent.
    valid_until: Option<NaiveDate>,
}

/// The caller's licences.
#[derive(Serialize, ToSchema)]
pub struct LicenceList {
    pub total: usize,
    pub licences: Vec<LicenceView>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyInfo>,
}

/// A message in Chinese and English.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Message {
    zh: String,
    en: String,
}

#[utoipa::path(post, path = "/api/v1/licences", tag = "licences",
    request_body(content = IssueRequest, description = "A new licence; the type's definition decides the issuer, the holder's kind and which fields may be printed"),
    responses(
        (status = 201, body = LicenceView, description = "issued and signed"),
        (status = 400, description = "invalid body or field, problem+json"),
        (status = 401, description = "no valid token"),
        (status = 403, description = "the caller issues nothing for the type's department")),
    security(("bearer" = [])))]
async fn issue(
    State(s): State<LicencesState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(req): ApiJson<IssueRequest>,
) -> Result<Response, Problem> {
    let catalog = s.catalog.current();
    let Some(t) = catalog.licence_type(req.type_code.trim()) else {
        return Err(Problem::validation(vec![FieldError::new(
            "type",
            "unknown_licence_type",
            Msg::new("没有这种证照类型", "no such licence type"),
        )]));
    };
    if !may_act_for(&s.identity, &caller, &t.issuer).await? {
        return Err(Problem::forbidden());
    }
    let new = NewLicence {
        type_code: req.type_code,
        holder_number: req.holder_number,
        holder_name: req.holder_name,
        fields: req.fields,
        valid_from: req.valid_from,
        valid_until: req.valid_until,
    };
    match s.licences.issue(&catalog, &new, &caller.id).await {
        Ok(l) => {
            let status = l.period_on(today()).unwrap_or(Verdict::Valid);
            Ok((StatusCode::CREATED, axum::Json(view(&l, status))).into_response())
        }
        Err(IssueError::Invalid(errors)) => Err(Problem::validation(errors)),
        Err(IssueError::Db(e)) => Err(internal(e)),
    }
}

#[utoipa::path(get, path = "/api/v1/licences", tag = "licences",
    responses(
        (status = 200, body = LicenceList, description = "the caller's own licences, the newest first; none for staff"),
        (status = 401, description = "no valid token")),
    security(("bearer" = [])))]
async fn list(
    State(s): State<LicencesState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, Problem> {
    let Some((kind, number)) = holder_of(&caller) else {
        return Ok(axum::Json(LicenceList {
            total: 0,
            licences: Vec::new(),
        })
        .into_response());
    };
    let list = s
        .licences
        .list_for_holder(kind, &number)
        .await
        .map_err(internal)?;
    let today = today();
    let views: Vec<LicenceView> = list.iter().map(|l| view(l, standing(l, today))).collect();
    Ok(axum::Json(LicenceList {
        total: views.len(),
        licences: views,
    })
    .into_response())
}

/// The stored state and period, without checking the signature (lists).
fn standing(l: &Licence, today: NaiveDate) -> Verdict {
    match l.state {
        crate::domain::State::Revoked => Verdict::Revoked,
        crate::domain::State::Cancelled => Verdict::Cancelled,
        crate::domain::State::Valid => l.period_on(today).unwrap_or(Verdict::Valid),
    }
}

/// A licence the caller may see: the holder's own, or one of a department they issue for.
async fn visible(s: &LicencesState, caller: &Account, id: &str) -> Result<Licence, Problem> {
    let Some(l) = s.licences.get(id).await.map_err(internal)? else {
        return Err(Problem::not_found());
    };
    let own = holder_of(caller)
        .is_some_and(|(kind, number)| l.holder.kind == kind && l.holder.number == number);
    if own || may_act_for(&s.identity, caller, &l.issuer).await? {
        Ok(l)
    } else {
        Err(Problem::not_found())
    }
}

#[utoipa::path(get, path = "/api/v1/licences/{id}", tag = "licences",
    params(("id" = String, Path, description = "the licence's identifier")),
    responses(
        (status = 200, body = LicenceView, description = "the licence, with the verdict of verifying it now"),
        (status = 401, description = "no valid token"),
        (status = 404, description = "no such licence, or neither the caller's nor one of a department they issue for")),
    security(("bearer" = [])))]
async fn one(
    State(s): State<LicencesState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let l = visible(&s, &caller, &id).await?;
    let v = s
        .licences
        .verify_id(l.id.as_str(), today())
        .await
        .map_err(internal)?
        .map_or(Verdict::UnknownLicence, |v| v.verdict);
    Ok(axum::Json(view(&l, v)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct ReasonRequest {
    /// At most 500 characters.
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/licences/{id}/revoke", tag = "licences",
    params(("id" = String, Path, description = "the licence's identifier")),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = LicenceView, description = "revoked (撤销)"),
        (status = 400, description = "invalid body or missing reason, problem+json"),
        (status = 401, description = "no valid token"),
        (status = 404, description = "no such licence of a department the caller issues for"),
        (status = 409, description = "already revoked or cancelled")),
    security(("bearer" = [])))]
async fn revoke(
    State(s): State<LicencesState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> Result<Response, Problem> {
    change_state(s, caller, id, req, true).await
}

#[utoipa::path(post, path = "/api/v1/licences/{id}/cancel", tag = "licences",
    params(("id" = String, Path, description = "the licence's identifier")),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = LicenceView, description = "cancelled (注销)"),
        (status = 400, description = "invalid body or missing reason, problem+json"),
        (status = 401, description = "no valid token"),
        (status = 404, description = "no such licence of a department the caller issues for"),
        (status = 409, description = "already revoked or cancelled")),
    security(("bearer" = [])))]
async fn cancel(
    State(s): State<LicencesState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> Result<Response, Problem> {
    change_state(s, caller, id, req, false).await
}

async fn change_state(
    s: LicencesState,
    caller: Account,
    id: String,
    req: ReasonRequest,
    revoke: bool,
) -> Result<Response, Problem> {
    let Some(l) = s.licences.get(&id).await.map_err(internal)? else {
        return Err(Problem::not_found());
    };
    if !may_act_for(&s.identity, &caller, &l.issuer).await? {
        return Err(Problem::not_found());
    }
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Problem::validation(vec![FieldError::new(
            "reason",
            "required",
            Msg::new(
                "请说明原因（不超过500字）",
                "give the reason (at most 500 characters)",
            ),
        )]));
    }
    let id = l.id.as_str();
    let done = if revoke {
        s.licences.revoke(id, reason, &caller.id).await
    } else {
        s.licences.cancel(id, reason, &caller.id).await
    }
    .map_err(internal)?;
    if !done {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not_valid",
            Msg::new(
                "证照已被撤销或注销",
                "the licence is already revoked or cancelled",
            ),
        ));
    }
    let l = s
        .licences
        .get(id)
        .await
        .map_err(internal)?
        .ok_or_else(Problem::not_found)?;
    Ok(axum::Json(view(&l, standing(&l, today()))).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct VerifyRequest {
    payload: String,
}

#[derive(Serialize, ToSchema)]
pub struct VerifyAnswer {
    /// The verdict's code, e.g. `valid`, `revoked`, `tampered`.
    result: &'static str,
    valid: bool,
    #[schema(value_type = Message)]
    message: Msg,
    /// The register's copy, when it holds the licence.
    licence: Option<LicenceView>,
}

#[utoipa::path(post, path = "/api/v1/licences/verify", tag = "licences",
    request_body(content = VerifyRequest, description = "A QR code's content, or the URL carrying it; no sign-in"),
    responses(
        (status = 200, body = VerifyAnswer, description = "the verdict: signature, register copy, revocation and validity period"),
        (status = 400, description = "invalid body or payload too long, problem+json")))]
async fn verify(
    State(s): State<LicencesState>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Response, Problem> {
    if req.payload.len() > 16_384 {
        return Err(Problem::bad_request(
            "too_long",
            Msg::new("内容过长", "the payload is too long"),
        ));
    }
    let v = s
        .licences
        .verify_payload(&req.payload, today())
        .await
        .map_err(internal)?;
    Ok(axum::Json(VerifyAnswer {
        result: v.verdict.code(),
        valid: v.verdict.is_valid(),
        message: v.verdict.message(),
        licence: v.licence.as_ref().map(|l| view(l, v.verdict)),
    })
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/licences/keys", tag = "licences",
    responses((status = 200, body = KeyList, description = "every signing key's public half, active and retired, for offline verifiers")))]
async fn keys(State(s): State<LicencesState>) -> Result<Response, Problem> {
    let keys = s.licences.keys().await.map_err(internal)?;
    Ok(axum::Json(KeyList { keys }).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct RotateRequest {
    /// `Ed25519` or `SM2-SM3`; default: the algorithm the platform signs with.
    algorithm: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/licences/keys/rotate", tag = "licences",
    request_body = RotateRequest,
    responses(
        (status = 201, body = KeyInfo, description = "the new active key; older keys still verify"),
        (status = 400, description = "invalid body or unknown algorithm, problem+json"),
        (status = 401, description = "no valid token"),
        (status = 403, description = "not a platform administrator")),
    security(("bearer" = [])))]
async fn rotate(
    State(s): State<LicencesState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(req): ApiJson<RotateRequest>,
) -> Result<Response, Problem> {
    if !caller.has_role(Role::PlatformAdmin) {
        return Err(Problem::forbidden());
    }
    let alg = match req.algorithm.as_deref() {
        None => s.licences.algorithm(),
        Some(a) => Algorithm::parse(a).ok_or_else(|| {
            Problem::validation(vec![FieldError::new(
                "algorithm",
                "unknown_algorithm",
                Msg::new(
                    "算法应为 Ed25519 或 SM2-SM3",
                    "algorithm must be Ed25519 or SM2-SM3",
                ),
            )])
        })?,
    };
    let key = s.licences.rotate(alg).await.map_err(internal)?;
    Ok((StatusCode::CREATED, axum::Json(key)).into_response())
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(issue, list, one, revoke, cancel, verify, keys, rotate),
    components(schemas(IssueRequest, LicenceView, HolderView, LicenceList, ReasonRequest, VerifyRequest, VerifyAnswer, Message, KeyList, KeyInfo, RotateRequest)),
    tags((name = "licences", description = "E-licences: issue, revoke and cancel, the holder's own, and verification by anyone"))
)]
pub struct LicencesApi;
