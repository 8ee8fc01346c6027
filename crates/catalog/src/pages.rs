//! The catalog's pages: browse by life event and by department, the item guide (办事指南),
//! the bundle page with its optional-item picker and merged form, and the platform
//! administrator's upload page. Server-rendered; no script needed.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use identity::{Role, SignedIn};
use serde::{Deserialize, Serialize};
use web::{Ctx, Shell, VerifiedForm};

use crate::service::{CatalogService, PublishError};
use crate::{Catalog, DeptLevel, Item, Satisfaction};

pub const TEMPLATES: &[(&str, &str)] = &[
    ("catalog/home.html", include_str!("../templates/home.html")),
    (
        "catalog/life_event.html",
        include_str!("../templates/life_event.html"),
    ),
    (
        "catalog/departments.html",
        include_str!("../templates/departments.html"),
    ),
    (
        "catalog/department.html",
        include_str!("../templates/department.html"),
    ),
    ("catalog/item.html", include_str!("../templates/item.html")),
    (
        "catalog/bundle.html",
        include_str!("../templates/bundle.html"),
    ),
    (
        "catalog/admin.html",
        include_str!("../templates/admin.html"),
    ),
    (
        "catalog/search.html",
        include_str!("../templates/search.html"),
    ),
];

#[derive(Clone)]
pub struct PagesState {
    pub service: CatalogService,
    pub shell: Shell,
}

pub fn routes(state: PagesState) -> Router {
    Router::new()
        .route("/services", get(home))
        .route("/services/search", get(search))
        .route("/services/life-events/{code}", get(life_event))
        .route("/services/departments", get(departments))
        .route("/services/departments/{code}", get(department))
        .route("/services/items/{code}", get(item))
        .route("/services/bundles/{code}", get(bundle))
        .route("/admin/catalog", get(admin).post(admin_publish))
        .with_state(state)
}

fn not_found(s: &PagesState, ctx: &Ctx) -> Response {
    web::not_found_page(&s.shell, ctx)
}

/// An item as a line in a list.
#[derive(Serialize)]
struct ItemLine {
    code: String,
    name: String,
    department: String,
    promised: Option<u32>,
    zero_material: bool,
    instant: bool,
    visits: u8,
}

fn item_line(c: &Catalog, i: &Item) -> ItemLine {
    ItemLine {
        code: i.code.clone(),
        name: i.name.clone(),
        department: c
            .department(&i.department)
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        promised: i.time_limit.and_then(|t| t.promised),
        zero_material: i.zero_material,
        instant: i.instant,
        visits: i.visits,
    }
}

async fn home(State(s): State<PagesState>, ctx: Ctx) -> Response {
    let c = s.service.current();
    let events: Vec<_> = c
        .life_events()
        .iter()
        .map(|e| {
            let (items, bundles) = c.by_life_event(&e.code);
            serde_json::json!({
                "code": e.code, "name": e.name, "name_en": e.name_en,
                "count": items.len() + bundles.len(),
            })
        })
        .collect();
    let bundles: Vec<_> = c
        .bundles()
        .iter()
        .map(|b| serde_json::json!({"code": b.code, "name": b.name, "name_en": b.name_en, "description": b.description}))
        .collect();
    let page = serde_json::json!({
        "events": events,
        "bundles": bundles,
        "items": c.items().len(),
        "zero_material": c.items().iter().filter(|i| i.zero_material).count(),
        "departments": c.departments().len(),
    });
    s.shell.render("catalog/home.html", &ctx, page)
}

#[derive(Deserialize)]
struct SearchForm {
    #[serde(default)]
    q: String,
}

async fn search(State(s): State<PagesState>, ctx: Ctx, Query(form): Query<SearchForm>) -> Response {
    let q = form.q.trim();
    let lang = ctx.lang();
    let error = crate::http::query_error(q).map(|e| e.message);
    let results = match &error {
        None => s.service.current_index().search(q, 20),
        Some(_) => Vec::new(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = serde_json::json!({
        "q": form.q.chars().take(100).collect::<String>(),
        "error": error.map(|e| e.get(lang).to_string()),
        "results": results,
    });
    s.shell
        .render_status(status, "catalog/search.html", &ctx, page)
}

async fn life_event(State(s): State<PagesState>, ctx: Ctx, Path(code): Path<String>) -> Response {
    let c = s.service.current();
    let Some(event) = c.life_event(&code) else {
        return not_found(&s, &ctx);
    };
    let (items, bundles) = c.by_life_event(&code);
    let page = serde_json::json!({
        "event": event,
        "items": items.iter().map(|i| item_line(&c, i)).collect::<Vec<_>>(),
        "bundles": bundles.iter().map(|b| serde_json::json!({"code": b.code, "name": b.name, "description": b.description})).collect::<Vec<_>>(),
    });
    s.shell.render("catalog/life_event.html", &ctx, page)
}

async fn departments(State(s): State<PagesState>, ctx: Ctx) -> Response {
    let c = s.service.current();
    let mut levels: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for level in [
        DeptLevel::City,
        DeptLevel::District,
        DeptLevel::Subdistrict,
        DeptLevel::Community,
    ] {
        let list: Vec<_> = c
            .departments()
            .iter()
            .filter(|d| d.level == level)
            .map(|d| {
                let n = c.items_of_department(&d.code).count();
                serde_json::json!({"code": d.code, "name": d.name, "name_en": d.name_en, "items": n})
            })
            .collect();
        if !list.is_empty() {
            levels.push((level.as_str().to_string(), list));
        }
    }
    s.shell.render(
        "catalog/departments.html",
        &ctx,
        serde_json::json!({ "levels": levels }),
    )
}

async fn department(State(s): State<PagesState>, ctx: Ctx, Path(code): Path<String>) -> Response {
    let c = s.service.current();
    let Some(d) = c.department(&code) else {
        return not_found(&s, &ctx);
    };
    let items: Vec<_> = c
        .items_of_department(&code)
        .map(|i| item_line(&c, i))
        .collect();
    let parent = d.parent.as_deref().and_then(|p| c.department(p));
    s.shell.render(
        "catalog/department.html",
        &ctx,
        serde_json::json!({ "department": d, "parent": parent, "items": items }),
    )
}

/// How a material is satisfied, in words a citizen understands.
fn satisfaction_label(sat: Satisfaction) -> kernel::Msg {
    match sat {
        Satisfaction::Licence => kernel::Msg::new(
            "电子证照自动调取，无需提交",
            "Taken from your e-licence; nothing to submit",
        ),
        Satisfaction::SharedData => kernel::Msg::new(
            "部门共享数据核验，无需提交",
            "Checked with shared department data; nothing to submit",
        ),
        Satisfaction::Commitment => kernel::Msg::new("签署承诺即可", "Sign a commitment"),
        Satisfaction::Upload => kernel::Msg::new("需上传", "Upload needed"),
    }
}

async fn item(State(s): State<PagesState>, ctx: Ctx, Path(code): Path<String>) -> Response {
    let c = s.service.current();
    let Some(i) = c.item(&code) else {
        return not_found(&s, &ctx);
    };
    let lang = ctx.lang();
    let materials: Vec<_> = i
        .materials
        .iter()
        .filter_map(|m| {
            let def = c.material(&m.material)?;
            Some(serde_json::json!({
                "name": def.name, "name_en": def.name_en, "required": m.required,
                "satisfied_by": def.satisfied_by.as_str(),
                "how": satisfaction_label(def.satisfied_by).get(lang),
            }))
        })
        .collect();
    let events: Vec<_> = i
        .life_events
        .iter()
        .filter_map(|e| c.life_event(e))
        .collect();
    let page = serde_json::json!({
        "item": i,
        "department": c.department(&i.department),
        "materials": materials,
        "events": events,
        "bundles": c.bundles().iter().filter(|b| b.items.iter().any(|bi| bi.item == i.code)).map(|b| serde_json::json!({"code": b.code, "name": b.name})).collect::<Vec<_>>(),
    });
    s.shell.render("catalog/item.html", &ctx, page)
}

/// The optional items chosen for a bundle, from form or query pairs: `optional` may repeat
/// (`?optional=a&optional=b`, as a form of checkboxes sends it) or be comma-separated; each
/// code once, in the order given.
pub fn chosen_optional(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (k, v) in pairs {
        if k != "optional" {
            continue;
        }
        for code in v.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if !out.iter().any(|x| x == code) {
                out.push(code.to_string());
            }
        }
    }
    out
}

async fn bundle(
    State(s): State<PagesState>,
    ctx: Ctx,
    Path(code): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let c = s.service.current();
    let Some(b) = c.bundle(&code) else {
        return not_found(&s, &ctx);
    };
    let chosen = chosen_optional(
        url::form_urlencoded::parse(q.as_deref().unwrap_or_default().as_bytes()).into_owned(),
    );
    let (merged, error) = match c.merge(&code, &chosen) {
        Ok(m) => (m, None),
        Err(e) => match c.merge(&code, &[]) {
            Ok(m) => (m, Some(e.message().get(ctx.lang()).to_string())),
            Err(_) => return not_found(&s, &ctx),
        },
    };
    let lang = ctx.lang();
    let items: Vec<_> = b
        .items
        .iter()
        .filter_map(|bi| {
            let i = c.item(&bi.item)?;
            Some(serde_json::json!({
                "code": i.code, "name": i.name, "required": bi.required,
                "chosen": bi.required || merged.items.contains(&i.code),
                "department": c.department(&i.department).map(|d| d.name.clone()),
            }))
        })
        .collect();
    let materials: Vec<_> = merged
        .materials
        .iter()
        .map(|m| serde_json::json!({
            "name": m.name, "name_en": m.name_en, "required": m.required, "items": m.items.len(),
            "satisfied_by": m.satisfied_by.as_str(), "how": satisfaction_label(m.satisfied_by).get(lang),
        }))
        .collect();
    let mut by_way: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &merged.materials {
        *by_way.entry(m.satisfied_by.as_str()).or_default() += 1;
    }
    let page = serde_json::json!({
        "bundle": b,
        "items": items,
        "included": merged.items.len(),
        "merged": {
            "fields_before_merge": merged.fields_before_merge,
            "fields_after_merge": merged.fields_after_merge,
            "materials_before_merge": merged.materials_before_merge,
            "materials_after_merge": merged.materials_after_merge,
            "pages": merged.pages,
        },
        "materials": materials,
        "uploads": by_way.get("upload").copied().unwrap_or(0),
        "error": error,
        "apply": apply_path(&b.code, if error.is_none() { &chosen } else { &[] }),
    });
    s.shell.render("catalog/bundle.html", &ctx, page)
}

/// Where to start an application for the bundle with the optional items chosen.
fn apply_path(code: &str, optional: &[String]) -> String {
    if optional.is_empty() {
        format!("/services/bundles/{code}/apply")
    } else {
        format!(
            "/services/bundles/{code}/apply?optional={}",
            optional.join(",")
        )
    }
}

fn is_admin(account: &identity::Account) -> bool {
    account.has_role(Role::PlatformAdmin)
}

#[derive(Serialize, Default)]
struct AdminPage {
    version: i64,
    digest: String,
    items: usize,
    bundles: usize,
    files: usize,
    path: String,
    content: String,
    errors: Vec<String>,
    field_errors: BTreeMap<String, String>,
    published: Option<i64>,
}

fn admin_page(s: &PagesState) -> AdminPage {
    let c = s.service.current();
    AdminPage {
        version: s.service.version(),
        digest: c.digest().chars().take(12).collect(),
        items: c.items().len(),
        bundles: c.bundles().len(),
        files: c.files().len(),
        ..Default::default()
    }
}

fn forbidden(s: &PagesState, ctx: &Ctx) -> Response {
    let lang = ctx.lang();
    let page = serde_json::json!({
        "heading": if lang == kernel::Lang::En { "You cannot use this page" } else { "您无权使用此页面" },
        "message": kernel::Problem::forbidden().message.get(lang),
    });
    s.shell
        .render_status(StatusCode::FORBIDDEN, "error.html", ctx, page)
}

#[derive(Deserialize)]
struct PublishedQuery {
    published: Option<i64>,
}

async fn admin(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Query(q): Query<PublishedQuery>,
) -> Response {
    if !is_admin(&account) {
        return forbidden(&s, &ctx);
    }
    let page = AdminPage {
        published: q.published,
        ..admin_page(&s)
    };
    s.shell.render("catalog/admin.html", &ctx, page)
}

#[derive(Deserialize)]
struct UploadForm {
    #[serde(default)]
    path: String,
    #[serde(default)]
    content: String,
}

async fn admin_publish(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    VerifiedForm(form): VerifiedForm<UploadForm>,
) -> Response {
    if !is_admin(&account) {
        return forbidden(&s, &ctx);
    }
    let lang = ctx.lang();
    let path = form.path.trim().trim_start_matches("./").to_string();
    let mut field_errors = BTreeMap::new();
    if !crate::http::valid_path(&path) {
        let m = kernel::Msg::new(
            "请填写以 .yaml 结尾的相对路径，如 bundles/new.yaml",
            "Give a relative path ending in .yaml, such as bundles/new.yaml",
        );
        field_errors.insert("path".to_string(), m.get(lang).to_string());
    }
    if form.content.trim().is_empty() {
        let m = kernel::Msg::new(
            "请粘贴定义文件的内容",
            "Paste the definition file's content",
        );
        field_errors.insert("content".to_string(), m.get(lang).to_string());
    }
    let mut errors = Vec::new();
    if field_errors.is_empty() {
        match s
            .service
            .publish_added(vec![(path.clone(), form.content.clone())], &account.login)
            .await
        {
            Ok(p) => {
                // 303: the browser fetches the page with GET.
                return Redirect::to(&format!("/admin/catalog?published={}", p.version))
                    .into_response();
            }
            Err(PublishError::Invalid(list)) => {
                errors = list
                    .iter()
                    .map(|e| {
                        format!(
                            "{}:{}:{}: {}{}",
                            e.file,
                            e.line,
                            e.column,
                            if e.path.is_empty() {
                                String::new()
                            } else {
                                format!("{}: ", e.path)
                            },
                            e.message.get(lang)
                        )
                    })
                    .collect();
                field_errors.insert(
                    "content".to_string(),
                    kernel::Msg::owned(
                        format!("定义有{}处错误，未生效", list.len()),
                        format!("{} errors; nothing was published", list.len()),
                    )
                    .get(lang)
                    .to_string(),
                );
            }
            Err(PublishError::Db(e)) => {
                tracing::error!(error = %e, "catalog publication failed");
                let p = kernel::Problem::internal();
                return s.shell.render_status(
                    p.status,
                    "error.html",
                    &ctx,
                    serde_json::json!({"heading": "出错了 Error", "message": p.message.get(lang)}),
                );
            }
        }
    }
    let page = AdminPage {
        path,
        content: form.content,
        errors,
        field_errors,
        ..admin_page(&s)
    };
    s.shell
        .render_status(StatusCode::BAD_REQUEST, "catalog/admin.html", &ctx, page)
}
