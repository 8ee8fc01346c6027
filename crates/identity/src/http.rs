//! Thin HTTP handlers: the JSON API under `/api/v1` and the sign-up, sign-in and account
//! pages. They parse, call [`Identity`], and render; no rule lives here.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use kernel::{ApiJson, FieldError, Lang, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::{CookiePolicy, Ctx, Shell, VerifiedForm, cookie_value, set_cookie};

use crate::domain::{Account, CitizenForm, CompanyForm, Holder, Password, SignUpForm};
use crate::service::{Audience, Identity, RequestMeta, SessionKind, SignInError, SignUpError};
use crate::store;

pub const SESSION_COOKIE: &str = "hb_session";

#[derive(Clone)]
pub struct IdentityState {
    pub identity: Identity,
    pub shell: Shell,
    pub policy: CookiePolicy,
}

impl FromRef<IdentityState> for Identity {
    fn from_ref(s: &IdentityState) -> Identity {
        s.identity.clone()
    }
}

pub fn meta_from_parts(parts: &Parts) -> RequestMeta {
    RequestMeta {
        ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect()),
    }
}

/// Request metadata for the audit, as an extractor.
pub struct Meta(pub RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Meta(meta_from_parts(parts)))
    }
}

/// The signed-in account of a web page, resolved by [`session_layer`].
#[derive(Clone)]
pub struct SignedIn(pub Account);

/// Resolves the session cookie on every request and puts the account and its
/// [`web::Viewer`] into the request's extensions.
pub async fn session_layer(
    State(identity): State<Identity>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(token) = cookie_value(req.headers(), SESSION_COOKIE) {
        match identity.session(&token, SessionKind::Web).await {
            Ok(Some(account)) => {
                req.extensions_mut().insert(account.viewer());
                req.extensions_mut().insert(SignedIn(account));
            }
            Ok(None) => {}
            Err(p) => return p.into_response(),
        }
    }
    next.run(req).await
}

/// A page that needs a signed-in person: others are sent to sign in and brought back.
impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<SignedIn>().cloned().ok_or_else(|| {
            let next = parts.uri.path();
            Redirect::to(&format!("/sign-in?next={}", urlencode(next))).into_response()
        })
    }
}

/// The caller of an API request, from `Authorization: Bearer …`.
pub struct ApiCaller(pub Account);

impl<S> FromRequestParts<S> for ApiCaller
where
    S: Send + Sync,
    Identity: FromRef<S>,
{
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let identity = Identity::from_ref(state);
        let token = bearer_token(&parts.headers).ok_or_else(Problem::unauthorized)?;
        identity
            .bearer(token)
            .await?
            .map(ApiCaller)
            .ok_or_else(Problem::unauthorized)
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/account".to_string(),
    }
}

pub fn routes(state: IdentityState) -> Router {
    Router::new()
        .route("/api/v1/citizens", post(api_create_citizen))
        .route("/api/v1/companies", post(api_create_company))
        .route("/api/v1/sessions", post(api_create_session))
        .route(
            "/api/v1/sessions/current",
            axum::routing::delete(api_delete_session),
        )
        .route("/api/v1/me", get(api_me))
        .route("/api/v1/me/sign-ins", get(api_my_sign_ins))
        .route(
            "/api/v1/tokens",
            post(api_create_token).get(api_list_tokens),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(api_revoke_token),
        )
        .route(
            "/sign-up",
            get(sign_up_page::<CitizenForm>).post(sign_up_submit::<CitizenForm>),
        )
        .route(
            "/sign-up/company",
            get(sign_up_page::<CompanyForm>).post(sign_up_submit::<CompanyForm>),
        )
        .route("/sign-in", get(sign_in_page).post(sign_in_submit))
        .route(
            "/staff/sign-in",
            get(staff_sign_in_page).post(staff_sign_in_submit),
        )
        .route("/sign-out", post(sign_out))
        .route("/account", get(account_page))
        .with_state(state)
}

// ---------------------------------------------------------------- API

/// The account as the API shows it: identifiers masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// The resident ID number, masked: `4101**********1234`.
    pub id_number: Option<String>,
    pub credit_code: Option<String>,
    /// The phone number, masked: `138****8000`.
    pub phone: Option<String>,
    pub department_id: Option<String>,
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        let (credit_code, department_id) = match &a.holder {
            Holder::Company { credit_code } => (Some(credit_code.to_string()), None),
            Holder::Staff { department_id } => (None, Some(department_id.clone())),
            Holder::Citizen { .. } => (None, None),
        };
        AccountView {
            id: a.id.clone(),
            kind: a.kind().code().to_string(),
            name: a.name.clone(),
            id_number: a.masked_id_number(),
            credit_code,
            phone: a.phone.as_ref().map(|p| p.masked()),
            department_id,
            roles: a.roles.iter().map(|(r, _)| r.code().to_string()).collect(),
            created_at: a.created_at,
        }
    }
}

/// The top-level code of a sign-up refusal names the first invalid field, so a client can
/// branch on it; `errors` lists every field.
fn sign_up_problem(errors: Vec<FieldError>) -> Problem {
    let code = match errors.first().map(|e| e.field.as_str()) {
        Some("id_number") => "invalid_id_number",
        Some("credit_code") => "invalid_credit_code",
        Some("phone") => "invalid_phone",
        Some("name") => "invalid_name",
        Some("password") => "invalid_password",
        _ => "validation_failed",
    };
    let mut p = Problem::validation(errors);
    p.code = code;
    p
}

fn order_id_first(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    // The identifier is what a client most needs to hear about.
    errors.sort_by_key(|e| !matches!(e.field.as_str(), "id_number" | "credit_code"));
    errors
}

fn duplicate_problem(field: &str) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "account_exists",
        kernel::Msg::new(
            "该证件号码已注册账户，请直接登录",
            "An account with this identifier exists already; please sign in",
        ),
    )
    .with_errors(vec![FieldError::new(field, "duplicate", duplicate_msg())])
}

fn name_mismatch_msg() -> kernel::Msg {
    kernel::Msg::new(
        "姓名与公民身份号码不一致，请核对后重试（已与公安人口信息核验）",
        "The name does not match the ID number in the population registry; please check both",
    )
}

fn cannot_verify_problem() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "real_name_unavailable",
        kernel::Msg::new(
            "暂时无法核验实名信息，账户未创建，请稍后再试",
            "Your name cannot be checked right now; no account was created. Please try again later",
        ),
    )
}

fn duplicate_msg() -> kernel::Msg {
    kernel::Msg::new(
        "该证件号码已注册账户，请直接登录",
        "An account with this identifier exists already; please sign in",
    )
}

async fn api_sign_up<F: SignUpForm>(
    s: &IdentityState,
    meta: &RequestMeta,
    form: &F,
) -> Result<(StatusCode, Json<AccountView>), Problem> {
    let a = form
        .parse()
        .map_err(|e| sign_up_problem(order_id_first(e)))?;
    match s.identity.sign_up(&a, meta).await {
        Ok(a) => Ok((StatusCode::CREATED, Json(AccountView::from(&a)))),
        Err(SignUpError::Duplicate) => Err(duplicate_problem(F::IDENTIFIER)),
        Err(SignUpError::NameMismatch) => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "real_name_mismatch",
            name_mismatch_msg(),
        )
        .with_errors(vec![FieldError::new(
            "name",
            "real_name_mismatch",
            name_mismatch_msg(),
        )])),
        Err(SignUpError::CannotVerify) => Err(cannot_verify_problem()),
        Err(SignUpError::Internal(p)) => Err(p),
    }
}

#[utoipa::path(post, path = "/api/v1/citizens", tag = "identity",
    request_body(content = CitizenSignUp, description = "A citizen's sign-up"),
    responses((status = 201, body = AccountView), (status = 400, description = "invalid field, problem+json"), (status = 409, description = "account exists")))]
pub async fn api_create_citizen(
    State(s): State<IdentityState>,
    Meta(meta): Meta,
    ApiJson(form): ApiJson<CitizenForm>,
) -> Result<(StatusCode, Json<AccountView>), Problem> {
    api_sign_up(&s, &meta, &form).await
}

/// Documentation shape of a citizen's sign-up.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CitizenSignUp {
    name: String,
    /// 18-character resident ID number (GB 11643)
    id_number: String,
    phone: String,
    password: String,
}

/// Documentation shape of a company's sign-up.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CompanySignUp {
    name: String,
    /// 18-character unified social credit code (GB 32100)
    credit_code: String,
    phone: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/companies", tag = "identity",
    request_body(content = CompanySignUp),
    responses((status = 201, body = AccountView), (status = 400, description = "invalid field, problem+json"), (status = 409, description = "account exists")))]
pub async fn api_create_company(
    State(s): State<IdentityState>,
    Meta(meta): Meta,
    ApiJson(form): ApiJson<CompanyForm>,
) -> Result<(StatusCode, Json<AccountView>), Problem> {
    api_sign_up(&s, &meta, &form).await
}

#[derive(Deserialize, ToSchema)]
pub struct SessionRequest {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    expires_at: DateTime<Utc>,
    account: AccountView,
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "identity",
    request_body = SessionRequest,
    responses((status = 200, body = SessionResponse), (status = 401, description = "wrong login or password"), (status = 429, description = "locked out after repeated failures")))]
pub async fn api_create_session(
    State(s): State<IdentityState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<SessionRequest>,
) -> Result<Json<SessionResponse>, Problem> {
    let (account, token, expires_at) = s
        .identity
        .sign_in(
            &req.login,
            &Password::offered(&req.password),
            SessionKind::Api,
            Audience::Any,
            &meta,
        )
        .await
        .map_err(|e| e.problem())?;
    Ok(Json(SessionResponse {
        token,
        expires_at,
        account: AccountView::from(&account),
    }))
}

#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "identity",
    responses((status = 204, description = "signed out")), security(("bearer" = [])))]
pub async fn api_delete_session(
    State(s): State<IdentityState>,
    Meta(meta): Meta,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    let token = bearer_token(&headers).ok_or_else(Problem::unauthorized)?;
    s.identity.sign_out(token, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "identity",
    responses((status = 200, body = AccountView), (status = 401, description = "no valid token")), security(("bearer" = [])))]
pub async fn api_me(ApiCaller(a): ApiCaller) -> Json<AccountView> {
    Json(AccountView::from(&a))
}

#[utoipa::path(get, path = "/api/v1/me/sign-ins", tag = "identity",
    responses((status = 200, description = "the caller's recent sign-in events")), security(("bearer" = [])))]
pub async fn api_my_sign_ins(
    State(s): State<IdentityState>,
    ApiCaller(a): ApiCaller,
) -> Result<Json<Vec<store::AuditRow>>, Problem> {
    Ok(Json(
        store::audit_of_account(s.identity.db(), &a.id, 50).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    /// What the machine client is, e.g. "hospital booking system".
    name: String,
    /// Days until the token expires; none for a token that lives until revoked.
    valid_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    id: String,
    /// Shown once; store it in the client's secret store.
    token: String,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "identity", request_body = TokenRequest,
    responses((status = 201, body = TokenCreated)), security(("bearer" = [])))]
pub async fn api_create_token(
    State(s): State<IdentityState>,
    Meta(meta): Meta,
    ApiCaller(a): ApiCaller,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<TokenCreated>), Problem> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Problem::validation(vec![FieldError::new(
            "name",
            "invalid",
            kernel::Msg::new(
                "请填写1至100个字符的名称",
                "Give a name of 1 to 100 characters",
            ),
        )]));
    }
    if req.valid_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(Problem::validation(vec![FieldError::new(
            "valid_days",
            "out_of_range",
            kernel::Msg::new(
                "有效天数应在1至3650之间",
                "valid_days must be from 1 to 3650",
            ),
        )]));
    }
    let (id, token) = s
        .identity
        .create_api_token(&a, name, req.valid_days, &meta)
        .await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { id, token })))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "identity",
    responses((status = 200, description = "the caller's API tokens, without their secrets")), security(("bearer" = [])))]
pub async fn api_list_tokens(
    State(s): State<IdentityState>,
    ApiCaller(a): ApiCaller,
) -> Result<Json<Vec<store::TokenInfo>>, Problem> {
    Ok(Json(store::tokens_of(s.identity.db(), &a.id).await?))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "identity",
    params(("id" = String, Path, description = "the token's id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "no such live token of the caller's")), security(("bearer" = [])))]
pub async fn api_revoke_token(
    State(s): State<IdentityState>,
    Meta(meta): Meta,
    ApiCaller(a): ApiCaller,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<StatusCode, Problem> {
    if !store::revoke_api_token(s.identity.db(), &a.id, &id, Utc::now()).await? {
        return Err(Problem::not_found());
    }
    s.identity
        .audit("api_token_revoked", "ok", Some(&a.id), &a.login, &meta)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- pages

fn field_errors(errors: &[FieldError], lang: Lang) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for e in errors {
        map.entry(e.field.clone())
            .or_insert_with(|| e.message.get(lang).to_string());
    }
    map
}

#[derive(Serialize, Default)]
struct FormPage<V: Serialize> {
    values: V,
    errors: BTreeMap<String, String>,
    next: String,
}

/// The cookies of a fresh session: the session itself, and the account's preferences so they
/// follow the person from device to device.
pub(crate) fn session_cookies(
    policy: CookiePolicy,
    account: &Account,
    token: &str,
) -> Vec<HeaderValue> {
    let mut cookies = vec![set_cookie(SESSION_COOKIE, token, None, policy.secure)];
    if let Some(lang) = account.lang {
        cookies.push(set_cookie(
            web::LANG_COOKIE,
            lang.code(),
            Some(365 * 86400),
            policy.secure,
        ));
    }
    if let Some(elderly) = account.elderly {
        let v = if elderly { "elderly" } else { "standard" };
        cookies.push(set_cookie(
            web::MODE_COOKIE,
            v,
            Some(365 * 86400),
            policy.secure,
        ));
    }
    cookies
        .iter()
        .filter_map(|c| HeaderValue::from_str(c).ok())
        .collect()
}

fn signed_in_redirect(s: &IdentityState, account: &Account, token: &str, next: &str) -> Response {
    let mut res = Redirect::to(next).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    for c in session_cookies(s.policy, account, token) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn sign_up_template<F: SignUpForm>() -> &'static str {
    if F::IDENTIFIER == "credit_code" {
        "identity/sign_up_company.html"
    } else {
        "identity/sign_up.html"
    }
}

async fn sign_up_page<F: SignUpForm>(State(s): State<IdentityState>, ctx: Ctx) -> Response {
    let page = FormPage::<BTreeMap<&str, String>>::default();
    s.shell.render(sign_up_template::<F>(), &ctx, page)
}

async fn sign_up_submit<F: SignUpForm>(
    State(s): State<IdentityState>,
    ctx: Ctx,
    Meta(meta): Meta,
    VerifiedForm(form): VerifiedForm<F>,
) -> Response {
    let errors = match form.parse() {
        Ok(a) => match s.identity.sign_up(&a, &meta).await {
            Ok(_) => return sign_in_after_sign_up(&s, a.login(), a.password(), &meta).await,
            Err(SignUpError::Duplicate) => {
                vec![FieldError::new(F::IDENTIFIER, "duplicate", duplicate_msg())]
            }
            Err(SignUpError::NameMismatch) => {
                vec![FieldError::new(
                    "name",
                    "real_name_mismatch",
                    name_mismatch_msg(),
                )]
            }
            Err(SignUpError::CannotVerify) => {
                let p = cannot_verify_problem();
                vec![FieldError::new("name", p.code, p.message)]
            }
            Err(SignUpError::Internal(p)) => return error_page(&s, &ctx, &p),
        },
        Err(errors) => errors,
    };
    let page = FormPage {
        values: form.values(),
        errors: field_errors(&errors, ctx.lang()),
        next: String::new(),
    };
    s.shell
        .render_status(StatusCode::BAD_REQUEST, sign_up_template::<F>(), &ctx, page)
}

async fn sign_in_after_sign_up(
    s: &IdentityState,
    login: &str,
    password: &Password,
    meta: &RequestMeta,
) -> Response {
    match s
        .identity
        .sign_in(login, password, SessionKind::Web, Audience::Public, meta)
        .await
    {
        Ok((account, token, _)) => signed_in_redirect(s, &account, &token, "/account"),
        Err(_) => Redirect::to("/sign-in").into_response(),
    }
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Serialize, Default)]
struct LoginValues {
    login: String,
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn sign_in_page(
    State(s): State<IdentityState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Response {
    let page = FormPage {
        values: LoginValues::default(),
        errors: BTreeMap::new(),
        next: safe_next(q.next.as_deref()),
    };
    s.shell.render("identity/sign_in.html", &ctx, page)
}

async fn staff_sign_in_page(
    State(s): State<IdentityState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Response {
    let page = FormPage {
        values: LoginValues::default(),
        errors: BTreeMap::new(),
        next: safe_next(q.next.as_deref()),
    };
    s.shell.render("identity/staff_sign_in.html", &ctx, page)
}

async fn sign_in_submit(
    s: State<IdentityState>,
    ctx: Ctx,
    meta: Meta,
    form: VerifiedForm<SignInForm>,
) -> Response {
    sign_in_common(
        s,
        ctx,
        meta,
        form,
        Audience::Public,
        "identity/sign_in.html",
    )
    .await
}

async fn staff_sign_in_submit(
    s: State<IdentityState>,
    ctx: Ctx,
    meta: Meta,
    form: VerifiedForm<SignInForm>,
) -> Response {
    sign_in_common(
        s,
        ctx,
        meta,
        form,
        Audience::Staff,
        "identity/staff_sign_in.html",
    )
    .await
}

async fn sign_in_common(
    State(s): State<IdentityState>,
    ctx: Ctx,
    Meta(meta): Meta,
    VerifiedForm(form): VerifiedForm<SignInForm>,
    audience: Audience,
    template: &str,
) -> Response {
    let next = safe_next(Some(&form.next));
    let mut errors = Vec::new();
    if form.login.trim().is_empty() {
        errors.push(FieldError::new(
            "login",
            "required",
            kernel::Msg::new("请输入账号", "Enter your login"),
        ));
    }
    if form.password.is_empty() {
        errors.push(FieldError::new(
            "password",
            "required",
            kernel::Msg::new("请输入密码", "Enter your password"),
        ));
    }
    if errors.is_empty() {
        match s
            .identity
            .sign_in(
                &form.login,
                &Password::offered(&form.password),
                SessionKind::Web,
                audience,
                &meta,
            )
            .await
        {
            Ok((account, token, _)) => return signed_in_redirect(&s, &account, &token, &next),
            Err(SignInError::Internal(p)) => return error_page(&s, &ctx, &p),
            Err(e) => errors.push(FieldError::new("login", "rejected", e.message())),
        }
    }
    let page = FormPage {
        values: LoginValues { login: form.login },
        errors: field_errors(&errors, ctx.lang()),
        next,
    };
    s.shell
        .render_status(StatusCode::BAD_REQUEST, template, &ctx, page)
}

async fn sign_out(
    State(s): State<IdentityState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    VerifiedForm(_): VerifiedForm<serde::de::IgnoredAny>,
) -> Response {
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE)
        && let Err(p) = s.identity.sign_out(&token, &meta).await
    {
        return p.into_response();
    }
    let mut res = Redirect::to("/").into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", Some(0), s.policy.secure))
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[derive(Serialize)]
struct AccountPage {
    account: AccountView,
    department: Option<store::Department>,
    role_labels: Vec<String>,
    sign_ins: Vec<store::AuditRow>,
    passkeys: Vec<store::PasskeyRow>,
}

async fn account_page(
    State(s): State<IdentityState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
) -> Response {
    let db = s.identity.db();
    let department = match &account.holder {
        Holder::Staff { department_id } => {
            store::department(db, department_id).await.ok().flatten()
        }
        _ => None,
    };
    let sign_ins = match store::audit_of_account(db, &account.id, 10).await {
        Ok(rows) => rows,
        Err(e) => return error_page(&s, &ctx, &e.into()),
    };
    let passkeys = match store::passkeys_of(db, &account.id).await {
        Ok(rows) => rows,
        Err(e) => return error_page(&s, &ctx, &e.into()),
    };
    let lang = ctx.lang();
    let page = AccountPage {
        passkeys,
        role_labels: account
            .roles
            .iter()
            .map(|(r, _)| r.label().get(lang).to_string())
            .collect(),
        account: AccountView::from(&account),
        department,
        sign_ins,
    };
    s.shell.render("identity/account.html", &ctx, page)
}

fn error_page(s: &IdentityState, ctx: &Ctx, p: &Problem) -> Response {
    #[derive(Serialize)]
    struct E<'a> {
        heading: &'a str,
        message: &'a str,
    }
    let lang = ctx.lang();
    let heading = if lang == Lang::En {
        "Sorry, there is a problem"
    } else {
        "抱歉，出现了问题"
    };
    s.shell.render_status(
        p.status,
        "error.html",
        ctx,
        E {
            heading,
            message: p.message.get(lang),
        },
    )
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_create_citizen, api_create_company, api_create_session, api_delete_session, api_me, api_my_sign_ins, api_create_token, api_list_tokens, api_revoke_token),
    components(schemas(AccountView, CitizenSignUp, CompanySignUp, SessionRequest, SessionResponse, TokenRequest, TokenCreated)),
    tags((name = "identity", description = "Accounts, sign-in and tokens"))
)]
pub struct IdentityApi;
