//! The catalog's JSON API under `/api/v1/catalog`. Thin: it reads the live catalog and shapes
//! answers; publishing goes through [`CatalogService`].

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use identity::{ApiCaller, Identity, Role};
use kernel::{ApiJson, FieldError, Msg, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::service::{CatalogService, PublishError, Published};
use crate::{Applicant, Bundle, Catalog, Hit, Item, LoadError, MergedBundle, TimeLimit};

#[derive(Clone)]
pub struct CatalogState {
    pub service: CatalogService,
    pub identity: Identity,
}

impl FromRef<CatalogState> for Identity {
    fn from_ref(s: &CatalogState) -> Identity {
        s.identity.clone()
    }
}

pub fn routes(state: CatalogState) -> Router {
    Router::new()
        .route("/api/v1/catalog/items", get(list_items))
        .route("/api/v1/catalog/items/{code}", get(get_item))
        .route("/api/v1/catalog/items/{code}/schema", get(get_item_schema))
        .route("/api/v1/catalog/bundles", get(list_bundles))
        .route("/api/v1/catalog/bundles/{code}", get(get_bundle))
        .route("/api/v1/catalog/departments", get(list_departments))
        .route("/api/v1/catalog/life-events", get(list_life_events))
        .route("/api/v1/catalog/search", get(search))
        .route(
            "/api/v1/catalog/versions",
            get(current_version).post(publish_version),
        )
        .with_state(state)
}

/// Paging: `page` from 1, `per_page` from 1 to 100 (default 20).
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    page: Option<usize>,
    per_page: Option<usize>,
    /// Only what this department provides.
    department: Option<String>,
    /// Only what belongs to this life event.
    life_event: Option<String>,
    /// `person` or `company`: only items open to this kind of applicant.
    applicant: Option<String>,
}

struct Paging {
    page: usize,
    per_page: usize,
}

impl ListQuery {
    fn paging(&self) -> Result<Paging, Problem> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        let mut errors = Vec::new();
        if page == 0 {
            errors.push(FieldError::new(
                "page",
                "out_of_range",
                Msg::new("页码从1开始", "page starts at 1"),
            ));
        }
        if !(1..=100).contains(&per_page) {
            errors.push(FieldError::new(
                "per_page",
                "out_of_range",
                Msg::new("每页条数应在1至100之间", "per_page must be from 1 to 100"),
            ));
        }
        if errors.is_empty() {
            Ok(Paging { page, per_page })
        } else {
            Err(Problem::validation(errors))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Page<T: Serialize> {
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub results: Vec<T>,
}

fn page_of<T: Serialize>(all: Vec<T>, p: &Paging) -> Page<T> {
    let total = all.len();
    let results = all
        .into_iter()
        .skip((p.page - 1) * p.per_page)
        .take(p.per_page)
        .collect();
    Page {
        total,
        page: p.page,
        per_page: p.per_page,
        results,
    }
}

/// One line of the item list.
#[derive(Serialize, ToSchema)]
pub struct ItemSummary {
    pub kind: &'static str,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub department: String,
    pub department_name: String,
    pub item_kind: String,
    #[schema(value_type = String)]
    pub applicant: Applicant,
    pub life_events: Vec<String>,
    pub zero_material: bool,
    pub instant: bool,
    pub online_depth: u8,
    pub visits: u8,
    #[schema(value_type = Object)]
    pub time_limit: Option<TimeLimit>,
}

fn summary(c: &Catalog, i: &Item) -> ItemSummary {
    ItemSummary {
        kind: "item",
        code: i.code.clone(),
        name: i.name.clone(),
        name_en: i.name_en.clone(),
        department: i.department.clone(),
        department_name: c
            .department(&i.department)
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        item_kind: i.kind.as_str().to_string(),
        applicant: i.applicant,
        life_events: i.life_events.clone(),
        zero_material: i.zero_material,
        instant: i.instant,
        online_depth: i.online_depth,
        visits: i.visits,
        time_limit: i.time_limit,
    }
}

#[utoipa::path(get, path = "/api/v1/catalog/items", tag = "catalog", params(ListQuery),
    responses((status = 200, description = "items of the live catalog, paged, with `total`")))]
async fn list_items(
    State(s): State<CatalogState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<ItemSummary>>, Problem> {
    let paging = q.paging()?;
    let c = s.service.current();
    let items: Vec<ItemSummary> = c
        .items()
        .iter()
        .filter(|i| q.department.as_ref().is_none_or(|d| &i.department == d))
        .filter(|i| {
            q.life_event
                .as_ref()
                .is_none_or(|e| i.life_events.contains(e))
        })
        .filter(|i| match q.applicant.as_deref() {
            Some("person") => i.applicant != Applicant::Company,
            Some("company") => i.applicant != Applicant::Person,
            _ => true,
        })
        .map(|i| summary(&c, i))
        .collect();
    Ok(Json(page_of(items, &paging)))
}

fn unknown(what: &'static str, code: &str) -> Problem {
    let (zh, en) = match what {
        "item" => ("事项", "item"),
        _ => ("一件事", "bundle"),
    };
    Problem::new(
        StatusCode::NOT_FOUND,
        "not_found",
        Msg::owned(
            format!("没有编码为“{code}”的{zh}"),
            format!("There is no {en} with code \"{code}\""),
        ),
    )
}

#[utoipa::path(get, path = "/api/v1/catalog/items/{code}", tag = "catalog",
    params(("code" = String, Path)), responses((status = 200, description = "the item's full implementation list"), (status = 404, description = "no such item")))]
async fn get_item(
    State(s): State<CatalogState>,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    let c = s.service.current();
    let item = c.item(&code).ok_or_else(|| unknown("item", &code))?;
    let mut v = serde_json::to_value(item).map_err(|_| Problem::internal())?;
    v["department_name"] = c
        .department(&item.department)
        .map(|d| d.name.clone())
        .into();
    Ok(Json(v))
}

#[utoipa::path(get, path = "/api/v1/catalog/items/{code}/schema", tag = "catalog",
    params(("code" = String, Path)), responses((status = 200, description = "JSON Schema (2020-12) of the item's form")))]
async fn get_item_schema(
    State(s): State<CatalogState>,
    Path(code): Path<String>,
) -> Result<Response, Problem> {
    let schema = s
        .service
        .current()
        .item_schema(&code)
        .ok_or_else(|| unknown("item", &code))?;
    Ok((
        [(header::CONTENT_TYPE, "application/schema+json")],
        schema.to_string(),
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct BundleSummary {
    pub kind: &'static str,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub life_events: Vec<String>,
    pub items: usize,
    pub optional_items: usize,
}

fn bundle_summary(b: &Bundle) -> BundleSummary {
    BundleSummary {
        kind: "bundle",
        code: b.code.clone(),
        name: b.name.clone(),
        name_en: b.name_en.clone(),
        life_events: b.life_events.clone(),
        items: b.items.len(),
        optional_items: b.items.iter().filter(|i| !i.required).count(),
    }
}

#[utoipa::path(get, path = "/api/v1/catalog/bundles", tag = "catalog", params(ListQuery),
    responses((status = 200, description = "bundles (一件事), paged, with `total`")))]
async fn list_bundles(
    State(s): State<CatalogState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<BundleSummary>>, Problem> {
    let paging = q.paging()?;
    let c = s.service.current();
    let bundles = c
        .bundles()
        .iter()
        .filter(|b| {
            q.life_event
                .as_ref()
                .is_none_or(|e| b.life_events.contains(e))
        })
        .map(bundle_summary)
        .collect();
    Ok(Json(page_of(bundles, &paging)))
}

#[derive(Deserialize, IntoParams)]
pub struct BundleQuery {
    /// Comma-separated codes of the optional items the applicant picked.
    optional: Option<String>,
}

/// A bundle with its merged application for the chosen optional items.
#[derive(Serialize)]
struct BundleView<'a> {
    #[serde(flatten)]
    bundle: &'a Bundle,
    item_names: Vec<(String, String, bool)>,
    fields_before_merge: usize,
    fields_after_merge: usize,
    materials_before_merge: usize,
    materials_after_merge: usize,
    merged: &'a MergedBundle,
}

#[utoipa::path(get, path = "/api/v1/catalog/bundles/{code}", tag = "catalog",
    params(("code" = String, Path), BundleQuery),
    responses((status = 200, description = "the bundle with `fields_before_merge`, `fields_after_merge` and the merged form and materials"), (status = 404, description = "no such bundle")))]
async fn get_bundle(
    State(s): State<CatalogState>,
    Path(code): Path<String>,
    Query(q): Query<BundleQuery>,
) -> Result<Response, Problem> {
    let c = s.service.current();
    let bundle = c.bundle(&code).ok_or_else(|| unknown("bundle", &code))?;
    let chosen: Vec<String> = q
        .optional
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let merged = c
        .merge(&code, &chosen)
        .map_err(|e| Problem::bad_request(e.code(), e.message()))?;
    let item_names = bundle
        .items
        .iter()
        .map(|bi| {
            (
                bi.item.clone(),
                c.item(&bi.item).map(|i| i.name.clone()).unwrap_or_default(),
                bi.required,
            )
        })
        .collect();
    let view = BundleView {
        bundle,
        item_names,
        fields_before_merge: merged.fields_before_merge,
        fields_after_merge: merged.fields_after_merge,
        materials_before_merge: merged.materials_before_merge,
        materials_after_merge: merged.materials_after_merge,
        merged: &merged,
    };
    Ok(Json(view).into_response())
}

#[utoipa::path(get, path = "/api/v1/catalog/departments", tag = "catalog", responses((status = 200, description = "all departments")))]
async fn list_departments(State(s): State<CatalogState>) -> Response {
    let c: Arc<Catalog> = s.service.current();
    Json(serde_json::json!({ "total": c.departments().len(), "results": c.departments() }))
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/catalog/life-events", tag = "catalog", responses((status = 200, description = "life events to browse by")))]
async fn list_life_events(State(s): State<CatalogState>) -> Response {
    let c = s.service.current();
    Json(serde_json::json!({ "total": c.life_events().len(), "results": c.life_events() }))
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/catalog/versions", tag = "catalog", responses((status = 200, description = "the live version")))]
async fn current_version(State(s): State<CatalogState>) -> Response {
    let c = s.service.current();
    Json(serde_json::json!({
        "version": s.service.version(),
        "digest": c.digest(),
        "items": c.items().len(),
        "bundles": c.bundles().len(),
    }))
    .into_response()
}

#[derive(Deserialize, ToSchema)]
pub struct PublishRequest {
    files: Vec<PublishFile>,
    /// True: the files are the whole new catalog. False (default): they are added to the live
    /// catalog, replacing files of the same path.
    #[serde(default)]
    replace: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct PublishFile {
    path: String,
    content: String,
}

/// A refused catalog as problem details, with every located error.
pub fn invalid_catalog(errors: &[LoadError]) -> Response {
    let mut body = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_catalog",
        Msg::owned(
            format!("目录定义有{}处错误，未生效", errors.len()),
            format!(
                "The catalog has {} errors and was not published",
                errors.len()
            ),
        ),
    )
    .to_json();
    body["load_errors"] = serde_json::to_value(errors).unwrap_or_default();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

pub(crate) fn valid_path(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 200
        && p.ends_with(".yaml")
        && !p.starts_with('/')
        && p.split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

#[utoipa::path(post, path = "/api/v1/catalog/versions", tag = "catalog", request_body = PublishRequest,
    responses((status = 201, description = "published and live"), (status = 422, description = "refused, with `load_errors` located by file, path, line and column"), (status = 403, description = "not a platform administrator")),
    security(("bearer" = [])))]
async fn publish_version(
    State(s): State<CatalogState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(req): ApiJson<PublishRequest>,
) -> Result<Response, Problem> {
    if !caller.has_role(Role::PlatformAdmin) {
        return Err(Problem::forbidden());
    }
    if req.files.is_empty() || req.files.iter().any(|f| !valid_path(&f.path)) {
        return Err(Problem::bad_request(
            "invalid_files",
            Msg::new(
                "请提供至少一个 .yaml 文件，路径为相对路径",
                "Give at least one .yaml file with a relative path",
            ),
        ));
    }
    let files = req.files.into_iter().map(|f| (f.path, f.content)).collect();
    let result = if req.replace {
        s.service.publish(files, &caller.login).await
    } else {
        s.service.publish_added(files, &caller.login).await
    };
    match result {
        Ok(p) => Ok((StatusCode::CREATED, Json::<Published>(p)).into_response()),
        Err(PublishError::Invalid(errors)) => Ok(invalid_catalog(&errors)),
        Err(PublishError::Db(e)) => Err(e.into()),
    }
}

// --- search -------------------------------------------------------------------------------

/// `q` is what the citizen typed: Chinese (孩子出生), pinyin in full or initials (gongjijin,
/// gjj), English, or a mix.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// 1 to 100 characters, not only spaces.
    q: Option<String>,
    /// How many results, 1 to 50 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50)]
    limit: Option<String>,
}

/// What is wrong with a search query, if anything; shared by the API and the search page.
pub(crate) fn query_error(q: &str) -> Option<FieldError> {
    let q = q.trim();
    if q.is_empty() {
        Some(FieldError::new(
            "q",
            "required",
            Msg::new("请输入要搜索的内容", "Enter what you are looking for"),
        ))
    } else if q.chars().count() > 100 {
        Some(FieldError::new(
            "q",
            "too_long",
            Msg::new("搜索内容不能超过100个字", "Use at most 100 characters"),
        ))
    } else {
        None
    }
}

impl SearchQuery {
    /// The query text and the limit, or every error at once.
    fn checked(&self) -> Result<(&str, usize), Problem> {
        let q = self.q.as_deref().unwrap_or("").trim();
        let mut errors: Vec<FieldError> = query_error(q).into_iter().collect();
        let limit = match self.limit.as_deref().map(str::trim) {
            None | Some("") => Some(10),
            Some(l) => l.parse::<usize>().ok().filter(|l| (1..=50).contains(l)),
        };
        if limit.is_none() {
            errors.push(FieldError::new(
                "limit",
                "out_of_range",
                Msg::new("结果条数应在1至50之间", "limit must be from 1 to 50"),
            ));
        }
        match limit {
            Some(limit) if errors.is_empty() => Ok((q, limit)),
            _ => Err(Problem::validation(errors)),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    /// Best first; empty when nothing matches.
    pub results: Vec<Hit>,
}

#[utoipa::path(get, path = "/api/v1/catalog/search", tag = "catalog", params(SearchQuery),
    responses((status = 200, description = "items and bundles (`kind`) matching `q`, best first", body = SearchResults),
        (status = 400, description = "`q` empty or over 100 characters, or `limit` not from 1 to 50", content_type = "application/problem+json")))]
async fn search(
    State(s): State<CatalogState>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchResults>, Problem> {
    let (text, limit) = q.checked()?;
    let results = s.service.current_index().search(text, limit);
    Ok(Json(SearchResults { results }))
}

// --- end of search --------------------------------------------------------------------------

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_items, get_item, get_item_schema, list_bundles, get_bundle, list_departments, list_life_events, current_version, publish_version, search),
    components(schemas(ItemSummary, BundleSummary, PublishRequest, PublishFile, SearchResults, Hit)),
    tags((name = "catalog", description = "Service items, bundles (一件事), departments and life events"))
)]
pub struct CatalogApi;
