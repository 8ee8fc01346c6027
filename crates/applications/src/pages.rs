//! The applicant's pages: start an application for an item or a bundle, answer its form one
//! screen at a time (back links, errors next to each field, prefilled answers with their
//! source), check the answers with a change link for each, and come back to a draft later.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use catalog::flow::{Answers, Flow, Input, Question, show};
use catalog::{Catalog, CatalogService};
use chrono::Utc;
use identity::SignedIn;
use kernel::{Db, Lang};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use web::{Ctx, Shell, VerifiedForm};

use crate::domain::{Application, State as AppState, Target, may_apply, prefill_from_account};
use crate::{materials, store};

pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "applications/start.html",
        include_str!("../templates/start.html"),
    ),
    (
        "applications/screen.html",
        include_str!("../templates/screen.html"),
    ),
    (
        "applications/check.html",
        include_str!("../templates/check.html"),
    ),
    (
        "applications/list.html",
        include_str!("../templates/list.html"),
    ),
];

#[derive(Clone)]
pub struct PagesState {
    pub db: Db,
    pub catalog: CatalogService,
    pub shell: Shell,
    /// Shared data for the materials.
    pub exchange: exchange::Exchange,
    /// The applicant's wallet, for the materials.
    pub licences: licences::Licences,
}

pub fn routes(state: PagesState) -> Router {
    Router::new()
        .route(
            "/services/items/{code}/apply",
            get(start_item).post(create_item),
        )
        .route(
            "/services/bundles/{code}/apply",
            get(start_bundle).post(create_bundle),
        )
        .route("/applications", get(list))
        .route("/applications/{id}", get(resume))
        .route(
            "/applications/{id}/pages/{n}",
            get(screen).post(answer_screen),
        )
        .route("/applications/{id}/check", get(check))
        .route("/applications/{id}/delete", post(delete))
        .with_state(state)
}

/// After a form: `Redirect::to` answers 303, so the browser follows with GET.
fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

fn not_found(s: &PagesState, ctx: &Ctx) -> Response {
    web::not_found_page(&s.shell, ctx)
}

fn failure(s: &PagesState, ctx: &Ctx, e: sqlx::Error) -> Response {
    tracing::error!(error = %e, "applications store failed");
    let p = kernel::Problem::internal();
    s.shell.render_status(
        p.status,
        "error.html",
        ctx,
        json!({"heading": "出错了 Error", "message": p.message.get(ctx.lang())}),
    )
}

fn pick(lang: Lang, zh: &str, en: Option<&str>) -> String {
    match (lang, en) {
        (Lang::En, Some(en)) => en.to_string(),
        _ => zh.to_string(),
    }
}

// ------------------------------------------------------------------ start

#[derive(Serialize)]
struct StartPage {
    kind: &'static str,
    code: String,
    name: String,
    guide: String,
    action: String,
    optional: Vec<String>,
    screens: usize,
    questions: usize,
    prefilled: usize,
    refused: Option<String>,
    drafts: Vec<DraftLine>,
    materials: Vec<MaterialLine>,
    /// Why the materials could not be worked out, when they could not.
    materials_error: Option<String>,
    uploads: usize,
}

/// One material on the start page: how this applicant will provide it, and why.
#[derive(Serialize)]
struct MaterialLine {
    code: String,
    name: String,
    required: bool,
    /// `licence`, `shared_data`, `commitment` or `upload`: how it is provided, not how the
    /// catalog allows it.
    how: &'static str,
    label: String,
    reason: String,
    commitment: Option<String>,
    retry_later: bool,
}

#[derive(Serialize)]
struct DraftLine {
    id: String,
    name: String,
    updated_at: String,
    answered: usize,
}

async fn start_item(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path(code): Path<String>,
) -> Response {
    start(s, ctx, account, Target::Item(code)).await
}

async fn start_bundle(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path(code): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let optional = catalog::pages::chosen_optional(
        url::form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned(),
    );
    start(s, ctx, account, Target::Bundle { code, optional }).await
}

fn guide_path(t: &Target) -> String {
    match t {
        Target::Item(code) => format!("/services/items/{code}"),
        Target::Bundle { code, optional } if optional.is_empty() => {
            format!("/services/bundles/{code}")
        }
        Target::Bundle { code, optional } => {
            format!("/services/bundles/{code}?optional={}", optional.join(","))
        }
    }
}

/// Why this account may not apply, in the page's language.
fn refusal(c: &Catalog, account: &identity::Account, t: &Target, lang: Lang) -> Option<String> {
    let applicant = t.applicant(c)?;
    if may_apply(account, applicant) {
        return None;
    }
    let m = match applicant {
        catalog::Applicant::Company => kernel::Msg::new(
            "此事项由企业办理，请使用法人账户登录后申请。",
            "This service is for businesses: sign in with a business account to apply.",
        ),
        _ => kernel::Msg::new(
            "此事项由个人办理，请使用个人账户登录后申请。",
            "This service is for individuals: sign in with a personal account to apply.",
        ),
    };
    Some(m.get(lang).to_string())
}

async fn start(s: PagesState, ctx: Ctx, account: identity::Account, target: Target) -> Response {
    let c = s.catalog.current();
    let lang = ctx.lang();
    let Some((name, name_en)) = target.name(&c) else {
        return not_found(&s, &ctx);
    };
    let flow = match target.flow(&c) {
        Ok(f) => f,
        Err(e) => {
            return s.shell.render_status(
                StatusCode::BAD_REQUEST,
                "error.html",
                &ctx,
                json!({"heading": pick(lang, "无法办理", Some("Cannot apply")), "message": e.message().get(lang)}),
            );
        }
    };
    let (prefilled, _) = prefill_from_account(&account, &flow);
    let drafts = match store::list_of(&s.db, &account.id).await {
        Ok(list) => list
            .into_iter()
            .filter(|a| a.target.code() == target.code() && a.target.kind() == target.kind())
            .map(|a| draft_line(&c, &a, lang))
            .collect(),
        Err(e) => return failure(&s, &ctx, e),
    };
    let refused = refusal(&c, &account, &target, lang);
    let (materials, materials_error) = if refused.is_some() {
        (Vec::new(), None)
    } else {
        match materials::resolve(&c, &s.exchange, &s.licences, &account, &target).await {
            Ok(r) => (
                r.materials.iter().map(|m| material_line(m, lang)).collect(),
                None,
            ),
            Err(e) => {
                tracing::error!(error = %e, target = target.code(), "materials not resolved");
                (
                    Vec::new(),
                    Some(pick(
                        lang,
                        "暂时无法确定所需材料的提供方式，请稍后刷新本页。",
                        Some(
                            "How each material will be provided cannot be worked out just now; please reload this page later.",
                        ),
                    )),
                )
            }
        }
    };
    let uploads = materials
        .iter()
        .filter(|m: &&MaterialLine| m.required && m.how == "upload")
        .count();
    let page = StartPage {
        kind: target.kind(),
        code: target.code().to_string(),
        name: pick(lang, &name, name_en.as_deref()),
        guide: guide_path(&target),
        action: format!("/services/{}s/{}/apply", target.kind(), target.code()),
        optional: match &target {
            Target::Bundle { optional, .. } => optional.clone(),
            Target::Item(_) => Vec::new(),
        },
        screens: flow.screens().len(),
        questions: flow.screens().iter().map(|s| s.questions.len()).sum(),
        prefilled: prefilled.len(),
        refused,
        drafts,
        materials,
        materials_error,
        uploads,
    };
    s.shell.render("applications/start.html", &ctx, page)
}

fn material_line(m: &materials::Resolution, lang: Lang) -> MaterialLine {
    let (how, commitment, retry_later) = match &m.how {
        materials::How::Licence { .. } => ("licence", None, false),
        materials::How::SharedData { .. } => ("shared_data", None, false),
        materials::How::Commitment { text, text_en } => (
            "commitment",
            Some(pick(lang, text, text_en.as_deref())),
            false,
        ),
        materials::How::Upload { retry_later, .. } => ("upload", None, *retry_later),
    };
    MaterialLine {
        code: m.material.clone(),
        name: pick(lang, &m.name, m.name_en.as_deref()),
        required: m.required,
        how,
        label: m.label().get(lang).to_string(),
        reason: m.reason.get(lang).to_string(),
        commitment,
        retry_later,
    }
}

fn draft_line(c: &Catalog, a: &Application, lang: Lang) -> DraftLine {
    let name = a
        .target
        .name(c)
        .map(|(zh, en)| pick(lang, &zh, en.as_deref()))
        .unwrap_or_else(|| a.target.code().to_string());
    DraftLine {
        id: a.id.clone(),
        name,
        updated_at: a
            .updated_at
            .with_timezone(&kernel::calendar::china_time())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        answered: a.answers.len(),
    }
}

async fn create_item(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path(code): Path<String>,
    VerifiedForm(_): VerifiedForm<Vec<(String, String)>>,
) -> Response {
    create(s, ctx, account, Target::Item(code)).await
}

async fn create_bundle(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path(code): Path<String>,
    VerifiedForm(form): VerifiedForm<Vec<(String, String)>>,
) -> Response {
    let optional = catalog::pages::chosen_optional(form);
    create(s, ctx, account, Target::Bundle { code, optional }).await
}

async fn create(s: PagesState, ctx: Ctx, account: identity::Account, target: Target) -> Response {
    let c = s.catalog.current();
    if target.name(&c).is_none() {
        return not_found(&s, &ctx);
    }
    let Ok(flow) = target.flow(&c) else {
        // The start page explains what is wrong with the choice.
        return see_other(&guide_path(&target));
    };
    if refusal(&c, &account, &target, ctx.lang()).is_some() {
        return start(s, ctx, account, target).await;
    }
    let (answers, prefill) = prefill_from_account(&account, &flow);
    let now = Utc::now();
    let app = Application {
        id: uuid::Uuid::now_v7().to_string(),
        applicant_id: account.id.clone(),
        target,
        answers,
        prefill,
        state: AppState::Draft,
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = store::insert(&s.db, &app).await {
        return failure(&s, &ctx, e);
    }
    tracing::info!(application = %app.id, target = app.target.code(), "draft started");
    match flow.first(&app.answers) {
        Some(first) => see_other(&screen_path(&app.id, first)),
        None => see_other(&format!("/applications/{}/check", app.id)),
    }
}

fn screen_path(id: &str, screen: usize) -> String {
    format!("/applications/{id}/pages/{}", screen + 1)
}

// ------------------------------------------------------------------ drafts

async fn list(State(s): State<PagesState>, ctx: Ctx, SignedIn(account): SignedIn) -> Response {
    let c = s.catalog.current();
    let lang = ctx.lang();
    match store::list_of(&s.db, &account.id).await {
        Ok(apps) => {
            let drafts: Vec<DraftLine> = apps.iter().map(|a| draft_line(&c, a, lang)).collect();
            s.shell
                .render("applications/list.html", &ctx, json!({"drafts": drafts}))
        }
        Err(e) => failure(&s, &ctx, e),
    }
}

/// The application with its form in the current catalog, or the response to give instead.
async fn load(
    s: &PagesState,
    ctx: &Ctx,
    account: &identity::Account,
    id: &str,
) -> Result<(Application, Flow, std::sync::Arc<Catalog>), Response> {
    let app = match store::get_of(&s.db, id, &account.id).await {
        Ok(Some(a)) => a,
        // Someone else's application is as absent as a missing one.
        Ok(None) => return Err(not_found(s, ctx)),
        Err(e) => return Err(failure(s, ctx, e)),
    };
    let c = s.catalog.current();
    match app.target.flow(&c) {
        Ok(flow) => Ok((app, flow, c)),
        Err(_) => {
            let lang = ctx.lang();
            Err(s.shell.render_status(
                StatusCode::GONE,
                "error.html",
                ctx,
                json!({
                    "heading": pick(lang, "此事项已调整", Some("This service has changed")),
                    "message": pick(lang, "此申请对应的事项已下线或调整，请重新选择事项办理。", Some("The service this draft was for has been withdrawn or changed; please start again from the service guide.")),
                }),
            ))
        }
    }
}

async fn resume(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path(id): Path<String>,
) -> Response {
    let (app, flow, _) = match load(&s, &ctx, &account, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // Where the applicant left off: the first screen with something missing.
    match flow.check(&app.answers).first() {
        Some((screen, _)) => see_other(&screen_path(&app.id, *screen)),
        None => see_other(&format!("/applications/{}/check", app.id)),
    }
}

async fn delete(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path(id): Path<String>,
    VerifiedForm(_): VerifiedForm<Vec<(String, String)>>,
) -> Response {
    match store::delete_draft(&s.db, &id, &account.id).await {
        Ok(true) => see_other("/applications?deleted=1"),
        Ok(false) => not_found(&s, &ctx),
        Err(e) => failure(&s, &ctx, e),
    }
}

// ------------------------------------------------------------------ screens

#[derive(Deserialize)]
struct ScreenQuery {
    change: Option<String>,
}

#[derive(Serialize)]
struct ChoiceView {
    code: String,
    name: String,
    checked: bool,
}

#[derive(Serialize)]
struct QuestionView {
    element: String,
    /// An HTML id: element codes have dots, which CSS selectors and some tools dislike.
    id: String,
    label: String,
    required: bool,
    input: Input,
    hint: Option<String>,
    inputmode: Option<&'static str>,
    autocomplete: Option<&'static str>,
    max_length: Option<u64>,
    choices: Vec<ChoiceView>,
    value: String,
    error: Option<String>,
    locked: bool,
    shown: String,
    source: Option<String>,
}

#[derive(Serialize)]
struct ScreenPage {
    id: String,
    name: String,
    title: String,
    number: usize,
    of: usize,
    back: String,
    action: String,
    change: bool,
    questions: Vec<QuestionView>,
    errors: BTreeMap<String, String>,
    step: usize,
}

fn html_id(element: &str) -> String {
    format!("f-{}", element.replace('.', "-"))
}

fn as_input(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn render_screen(
    s: &PagesState,
    ctx: &Ctx,
    app: &Application,
    flow: &Flow,
    c: &Catalog,
    index: usize,
    change: bool,
    typed: &serde_json::Map<String, Value>,
    errors: &[kernel::FieldError],
) -> Response {
    let lang = ctx.lang();
    let screen = &flow.screens()[index];
    let answers = &app.answers;
    let questions: Vec<QuestionView> = flow
        .asked_questions(index, answers)
        .into_iter()
        .map(|q: &Question| {
            let value = typed
                .get(&q.element)
                .or_else(|| answers.get(&q.element))
                .map(as_input)
                .unwrap_or_default();
            let prefill = app.prefill.get(&q.element);
            let locked = prefill.is_some_and(|p| p.locked);
            let shown = answers
                .get(&q.element)
                .map(|v| {
                    let (zh, en) = show(q, v);
                    if lang == Lang::En { en } else { zh }
                })
                .unwrap_or_default();
            QuestionView {
                element: q.element.clone(),
                id: html_id(&q.element),
                label: pick(lang, &q.label, q.label_en.as_deref()),
                required: q.required,
                input: q.input,
                hint: q
                    .hint
                    .as_deref()
                    .map(|h| pick(lang, h, q.hint_en.as_deref())),
                inputmode: q.inputmode,
                autocomplete: q.autocomplete,
                max_length: q.max_length,
                choices: q
                    .choices
                    .iter()
                    .map(|ch| ChoiceView {
                        code: ch.code.clone(),
                        name: pick(lang, &ch.name, ch.name_en.as_deref()),
                        checked: ch.code == value,
                    })
                    .collect(),
                error: errors
                    .iter()
                    .find(|e| e.field == q.element)
                    .map(|e| e.message.get(lang).to_string()),
                locked,
                shown,
                source: prefill.map(|p| {
                    if lang == Lang::En {
                        p.source_en.clone()
                    } else {
                        p.source.clone()
                    }
                }),
                value,
            }
        })
        .collect();
    let name = app
        .target
        .name(c)
        .map(|(zh, en)| pick(lang, &zh, en.as_deref()))
        .unwrap_or_default();
    let back = if change {
        format!("/applications/{}/check", app.id)
    } else {
        match flow.previous(index, answers) {
            Some(p) => screen_path(&app.id, p),
            None => guide_path(&app.target),
        }
    };
    let shown: Vec<usize> = (0..flow.screens().len())
        .filter(|&i| flow.is_shown(i, answers))
        .collect();
    let page = ScreenPage {
        id: app.id.clone(),
        name,
        title: pick(lang, &screen.title, screen.title_en.as_deref()),
        number: shown.iter().position(|&i| i == index).map_or(1, |p| p + 1),
        of: shown.len().max(1),
        back,
        action: screen_path(&app.id, index),
        change,
        errors: errors
            .iter()
            .map(|e| (html_id(&e.field), e.message.get(lang).to_string()))
            .collect(),
        questions,
        step: screen.step,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    s.shell
        .render_status(status, "applications/screen.html", ctx, page)
}

async fn screen(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path((id, n)): Path<(String, usize)>,
    Query(q): Query<ScreenQuery>,
) -> Response {
    let (app, flow, c) = match load(&s, &ctx, &account, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(index) = n.checked_sub(1).filter(|i| *i < flow.screens().len()) else {
        return not_found(&s, &ctx);
    };
    if !flow.is_shown(index, &app.answers) {
        // Nothing on this screen applies (any more): go on to the next that does.
        return match flow.next(index, &app.answers) {
            Some(next) => see_other(&screen_path(&app.id, next)),
            None => see_other(&format!("/applications/{}/check", app.id)),
        };
    }
    let change = q.change.is_some();
    render_screen(
        &s,
        &ctx,
        &app,
        &flow,
        &c,
        index,
        change,
        &Default::default(),
        &[],
    )
}

async fn answer_screen(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path((id, n)): Path<(String, usize)>,
    VerifiedForm(form): VerifiedForm<Vec<(String, String)>>,
) -> Response {
    let (mut app, flow, c) = match load(&s, &ctx, &account, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(index) = n.checked_sub(1).filter(|i| *i < flow.screens().len()) else {
        return not_found(&s, &ctx);
    };
    let change = form.iter().any(|(k, v)| k == "return" && v == "check");
    let locked = app.locked();
    let answers: Answers = match flow.answer(index, &form, &app.answers, &locked) {
        Ok(a) => a,
        Err(refused) => {
            return render_screen(
                &s,
                &ctx,
                &app,
                &flow,
                &c,
                index,
                change,
                &refused.typed,
                &refused.errors,
            );
        }
    };
    // A prefilled answer the applicant changed is theirs now, no longer the source's.
    app.prefill
        .retain(|element, p| p.locked || answers.get(element) == app.answers.get(element));
    if let Err(e) = store::save_answers(
        &s.db,
        &app.id,
        &account.id,
        &answers,
        &app.prefill,
        Utc::now(),
    )
    .await
    {
        return failure(&s, &ctx, e);
    }
    let next = flow.next(index, &answers);
    if change {
        // Back to the check, unless the change opened a follow-up that still needs answers.
        let pending = flow
            .check(&answers)
            .into_iter()
            .map(|(screen, _)| screen)
            .find(|&screen| screen > index && Some(screen) == next);
        return match pending {
            Some(screen) => see_other(&format!("{}?change=1", screen_path(&app.id, screen))),
            None => see_other(&format!("/applications/{}/check", app.id)),
        };
    }
    match next {
        Some(next) => see_other(&screen_path(&app.id, next)),
        None => see_other(&format!("/applications/{}/check", app.id)),
    }
}

// ------------------------------------------------------------------ check your answers

#[derive(Serialize)]
struct CheckRow {
    label: String,
    shown: String,
    answered: bool,
    source: Option<String>,
    locked: bool,
    change: String,
}

#[derive(Serialize)]
struct CheckSection {
    title: String,
    rows: Vec<CheckRow>,
}

async fn check(
    State(s): State<PagesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path(id): Path<String>,
) -> Response {
    let (app, flow, c) = match load(&s, &ctx, &account, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lang = ctx.lang();
    let sections: Vec<CheckSection> = flow
        .summary(&app.answers)
        .into_iter()
        .map(|sum| CheckSection {
            title: pick(lang, &sum.title, sum.title_en.as_deref()),
            rows: sum
                .rows
                .into_iter()
                .map(|r| {
                    let prefill = app.prefill.get(&r.element);
                    CheckRow {
                        label: pick(lang, &r.label, r.label_en.as_deref()),
                        shown: if lang == Lang::En {
                            r.shown_en
                        } else {
                            r.shown
                        },
                        answered: r.answered,
                        source: prefill.map(|p| {
                            if lang == Lang::En {
                                p.source_en.clone()
                            } else {
                                p.source.clone()
                            }
                        }),
                        locked: prefill.is_some_and(|p| p.locked),
                        change: format!(
                            "{}?change=1#{}",
                            screen_path(&app.id, sum.screen),
                            html_id(&r.element)
                        ),
                    }
                })
                .collect(),
        })
        .collect();
    let problems: Vec<Value> = flow
        .check(&app.answers)
        .into_iter()
        .map(|(screen, e)| {
            json!({
                "href": format!("{}?change=1#{}", screen_path(&app.id, screen), html_id(&e.field)),
                "message": e.message.get(lang),
            })
        })
        .collect();
    let name = app
        .target
        .name(&c)
        .map(|(zh, en)| pick(lang, &zh, en.as_deref()))
        .unwrap_or_default();
    let back = flow
        .screens()
        .len()
        .checked_sub(1)
        .and_then(|last| {
            if flow.is_shown(last, &app.answers) {
                Some(last)
            } else {
                flow.previous(last, &app.answers)
            }
        })
        .map_or_else(|| guide_path(&app.target), |i| screen_path(&app.id, i));
    s.shell.render(
        "applications/check.html",
        &ctx,
        json!({
            "id": app.id,
            "name": name,
            "sections": sections,
            "problems": problems,
            "back": back,
        }),
    )
}
