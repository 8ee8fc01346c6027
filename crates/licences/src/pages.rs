//! The pages: the holder's wallet (`/licences`), one licence with its QR code, share links
//! and the record of uses (`/licences/{id}`), the public verification page a QR code opens
//! (`/v/{payload}`), and the page a share link opens (`/share/{token}`), which asks the
//! third party who they are and why they use the licence (用证事由) before showing it.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use catalog::Catalog;
use chrono::{DateTime, Utc};
use identity::SignedIn;
use kernel::Lang;
use serde::{Deserialize, Serialize};
use serde_json::json;
use web::{Ctx, VerifiedForm};

use crate::canonical::public_fields;
use crate::domain::{Licence, Verdict, decode_payload};
use crate::http::LicencesState;
use crate::qr;
use crate::service::holder_of;

pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "licences/wallet.html",
        include_str!("../templates/wallet.html"),
    ),
    (
        "licences/licence.html",
        include_str!("../templates/licence.html"),
    ),
    (
        "licences/verify.html",
        include_str!("../templates/verify.html"),
    ),
    (
        "licences/share.html",
        include_str!("../templates/share.html"),
    ),
];

/// Lengths a share link may be given, in hours.
const SHARE_HOURS: &[i64] = &[1, 24, 72, 168];

pub(crate) fn routes() -> Router<LicencesState> {
    Router::new()
        .route("/licences", get(wallet))
        .route("/licences/{id}", get(licence_page))
        .route("/licences/{id}/shares", post(create_share))
        .route("/v/{payload}", get(public_verify))
        .route("/share/{token}", get(share_page).post(use_share))
}

fn failure(s: &LicencesState, ctx: &Ctx, e: sqlx::Error) -> Response {
    tracing::error!(error = %e, "licences store failed");
    let p = kernel::Problem::internal();
    s.shell.render_status(
        p.status,
        "error.html",
        ctx,
        json!({"heading": "出错了 Error", "message": p.message.get(ctx.lang())}),
    )
}

fn not_found(s: &LicencesState, ctx: &Ctx) -> Response {
    web::not_found_page(&s.shell, ctx)
}

fn when(t: DateTime<Utc>) -> String {
    // China Standard Time, which is what holders and issuers read.
    (t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// One printed field as a row: the element's name in the page's language, the value masked
/// when it is an ID or phone number.
#[derive(Serialize)]
struct FieldRow {
    label: String,
    value: String,
}

fn field_rows(
    c: &Catalog,
    lang: Lang,
    fields: &BTreeMap<String, String>,
    order: &[String],
) -> Vec<FieldRow> {
    let label = |code: &str| match c.element(code) {
        Some(e) => match (lang, &e.name_en) {
            (Lang::En, Some(en)) => en.clone(),
            _ => e.name.clone(),
        },
        None => code.to_string(),
    };
    // In the order the type prints them, then any others.
    let mut keys: Vec<&String> = order.iter().filter(|k| fields.contains_key(*k)).collect();
    keys.extend(fields.keys().filter(|k| !order.contains(k)));
    keys.into_iter()
        .map(|k| FieldRow {
            label: label(k),
            value: fields[k].clone(),
        })
        .collect()
}

#[derive(Serialize)]
struct Card {
    id: String,
    type_name: String,
    issuer_name: String,
    holder_name: String,
    holder_number: String,
    issued_at: String,
    valid_from: String,
    valid_until: Option<String>,
    status: &'static str,
    status_text: String,
    fields: Vec<FieldRow>,
    qr: String,
    verify_url: String,
    state_reason: Option<String>,
}

fn standing(l: &Licence) -> Verdict {
    match l.state {
        crate::domain::State::Revoked => Verdict::Revoked,
        crate::domain::State::Cancelled => Verdict::Cancelled,
        crate::domain::State::Valid => l
            .period_on(Utc::now().date_naive())
            .unwrap_or(Verdict::Valid),
    }
}

fn card(s: &LicencesState, c: &Catalog, lang: Lang, l: &Licence, status: Verdict) -> Card {
    let order = c
        .licence_type(&l.type_code)
        .map(|t| t.elements.clone())
        .unwrap_or_default();
    let url = qr::verify_url(&s.origin, &l.payload());
    Card {
        id: l.id.to_string(),
        type_name: c
            .licence_type(&l.type_code)
            .and_then(|t| (lang == Lang::En).then(|| t.name_en.clone()).flatten())
            .unwrap_or_else(|| l.type_name.clone()),
        issuer_name: l.issuer_name.clone(),
        holder_name: l.holder.name.clone(),
        holder_number: l.holder.masked_number(),
        issued_at: when(l.issued_at),
        valid_from: l.valid_from.to_string(),
        valid_until: l.valid_until.map(|u| u.to_string()),
        status: status.code(),
        status_text: status.message().get(lang).to_string(),
        fields: field_rows(c, lang, &public_fields(&l.salt, &l.fields).0, &order),
        qr: qr::svg(&url).unwrap_or_default(),
        verify_url: url,
        state_reason: l.state_reason.clone(),
    }
}

// ------------------------------------------------------------------ wallet

async fn wallet(State(s): State<LicencesState>, ctx: Ctx, SignedIn(account): SignedIn) -> Response {
    let Some((kind, number)) = holder_of(&account) else {
        return s.shell.render(
            "licences/wallet.html",
            &ctx,
            json!({"staff": true, "cards": [], "holder": ""}),
        );
    };
    let list = match s.licences.list_for_holder(kind, &number).await {
        Ok(l) => l,
        Err(e) => return failure(&s, &ctx, e),
    };
    let c = s.catalog.current();
    let cards: Vec<Card> = list
        .iter()
        .map(|l| card(&s, &c, ctx.lang(), l, standing(l)))
        .collect();
    s.shell.render(
        "licences/wallet.html",
        &ctx,
        json!({
            "staff": false,
            "cards": cards,
            "holder": kernel::ids::mask_id_number(&number),
        }),
    )
}

// ----------------------------------------------------------------- licence

#[derive(Serialize, Default)]
struct Shared {
    url: String,
    qr: String,
    expires_at: String,
}

async fn own_licence(
    s: &LicencesState,
    account: &identity::Account,
    id: &str,
) -> Result<Option<Licence>, sqlx::Error> {
    let Some((kind, number)) = holder_of(account) else {
        return Ok(None);
    };
    s.licences.get_of_holder(id, kind, &number).await
}

async fn render_licence(
    s: &LicencesState,
    ctx: &Ctx,
    l: &Licence,
    status: StatusCode,
    shared: Option<Shared>,
    errors: BTreeMap<String, String>,
    values: BTreeMap<String, String>,
) -> Response {
    let verdict = match s
        .licences
        .verify_id(l.id.as_str(), Utc::now().date_naive())
        .await
    {
        Ok(v) => v.map_or(Verdict::UnknownLicence, |v| v.verdict),
        Err(e) => return failure(s, ctx, e),
    };
    let uses = match s.licences.uses(l).await {
        Ok(u) => u,
        Err(e) => return failure(s, ctx, e),
    };
    let uses: Vec<serde_json::Value> = uses
        .iter()
        .map(|u| json!({"used_by": u.used_by, "purpose": u.purpose, "used_at": when(u.used_at)}))
        .collect();
    let c = s.catalog.current();
    s.shell.render_status(
        status,
        "licences/licence.html",
        ctx,
        json!({
            "card": card(s, &c, ctx.lang(), l, verdict),
            "uses": uses,
            "shared": shared,
            "hours": SHARE_HOURS,
            "errors": errors,
            "values": values,
            "may_share": verdict == Verdict::Valid,
        }),
    )
}

async fn licence_page(
    State(s): State<LicencesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path(id): Path<String>,
) -> Response {
    match own_licence(&s, &account, &id).await {
        Ok(Some(l)) => {
            render_licence(
                &s,
                &ctx,
                &l,
                StatusCode::OK,
                None,
                BTreeMap::new(),
                BTreeMap::new(),
            )
            .await
        }
        Ok(None) => not_found(&s, &ctx),
        Err(e) => failure(&s, &ctx, e),
    }
}

#[derive(Deserialize)]
struct ShareForm {
    #[serde(default)]
    hours: String,
}

async fn create_share(
    State(s): State<LicencesState>,
    ctx: Ctx,
    SignedIn(account): SignedIn,
    Path(id): Path<String>,
    VerifiedForm(form): VerifiedForm<ShareForm>,
) -> Response {
    let l = match own_licence(&s, &account, &id).await {
        Ok(Some(l)) => l,
        Ok(None) => return not_found(&s, &ctx),
        Err(e) => return failure(&s, &ctx, e),
    };
    let hours = form
        .hours
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|h| SHARE_HOURS.contains(h));
    let mut values = BTreeMap::new();
    values.insert("hours".to_string(), form.hours.clone());
    let Some(hours) = hours else {
        let mut errors = BTreeMap::new();
        let m = kernel::Msg::new("请选择链接的有效时长", "Choose how long the link works");
        errors.insert("hours".to_string(), m.get(ctx.lang()).to_string());
        return render_licence(
            &s,
            &ctx,
            &l,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            errors,
            values,
        )
        .await;
    };
    if standing(&l) != Verdict::Valid {
        let mut errors = BTreeMap::new();
        let m = kernel::Msg::new("只能分享有效的证照", "Only a valid licence can be shared");
        errors.insert("hours".to_string(), m.get(ctx.lang()).to_string());
        return render_licence(&s, &ctx, &l, StatusCode::CONFLICT, None, errors, values).await;
    }
    let (token, expires) = match s.licences.share(&l, hours).await {
        Ok(t) => t,
        Err(e) => return failure(&s, &ctx, e),
    };
    let url = format!("{}/share/{token}", s.origin.trim_end_matches('/'));
    let shared = Shared {
        qr: qr::svg(&url).unwrap_or_default(),
        url,
        expires_at: when(expires),
    };
    render_licence(
        &s,
        &ctx,
        &l,
        StatusCode::OK,
        Some(shared),
        BTreeMap::new(),
        values,
    )
    .await
}

// ------------------------------------------------------------ verification

async fn public_verify(
    State(s): State<LicencesState>,
    ctx: Ctx,
    Path(payload): Path<String>,
) -> Response {
    let v = match s
        .licences
        .verify_payload(&payload, Utc::now().date_naive())
        .await
    {
        Ok(v) => v,
        Err(e) => return failure(&s, &ctx, e),
    };
    let c = s.catalog.current();
    let lang = ctx.lang();
    // What the QR code itself says, masked already: shown when the register has no copy.
    let presented = decode_payload(&payload).map(|p| {
        let fields: BTreeMap<String, String> = p
            .content
            .get("f")
            .and_then(|f| serde_json::from_value(f.clone()).ok())
            .unwrap_or_default();
        json!({
            "type_name": p.str_of("tn").unwrap_or_default(),
            "issuer_name": p.str_of("in").unwrap_or_default(),
            "holder_name": p.content.pointer("/h/n").and_then(|x| x.as_str()).unwrap_or_default(),
            "fields": field_rows(&c, lang, &fields, &[]),
        })
    });
    let status = if v.verdict.is_valid() {
        StatusCode::OK
    } else if v.verdict == Verdict::Malformed {
        StatusCode::BAD_REQUEST
    } else {
        // The page answered; the licence did not pass.
        StatusCode::OK
    };
    s.shell.render_status(
        status,
        "licences/verify.html",
        &ctx,
        json!({
            "verdict": v.verdict.code(),
            "valid": v.verdict.is_valid(),
            "message": v.verdict.message().get(lang),
            "card": v.licence.as_ref().map(|l| card(&s, &c, lang, l, v.verdict)),
            "presented": presented,
            "share": serde_json::Value::Null,
        }),
    )
}

// ------------------------------------------------------------------ shares

async fn share_page(
    State(s): State<LicencesState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Response {
    match s.licences.open_share(&token).await {
        Ok(Some((l, expires))) => s.shell.render(
            "licences/share.html",
            &ctx,
            json!({
                "type_name": l.type_name,
                "holder_name": l.holder.name,
                "expires_at": when(expires),
                "token": token,
                "errors": {},
                "values": {},
            }),
        ),
        Ok(None) => share_gone(&s, &ctx),
        Err(e) => failure(&s, &ctx, e),
    }
}

fn share_gone(s: &LicencesState, ctx: &Ctx) -> Response {
    let m = kernel::Msg::new(
        "分享链接不存在或已过期，请向持证人重新索取。",
        "This share link does not exist or has expired; ask the holder for a new one.",
    );
    s.shell.render_status(
        StatusCode::NOT_FOUND,
        "error.html",
        ctx,
        json!({"heading": kernel::Msg::new("链接已失效", "Link no longer works").get(ctx.lang()), "message": m.get(ctx.lang())}),
    )
}

#[derive(Deserialize)]
struct UseForm {
    #[serde(default)]
    used_by: String,
    #[serde(default)]
    purpose: String,
}

async fn use_share(
    State(s): State<LicencesState>,
    ctx: Ctx,
    Path(token): Path<String>,
    VerifiedForm(form): VerifiedForm<UseForm>,
) -> Response {
    let (l, expires) = match s.licences.open_share(&token).await {
        Ok(Some(x)) => x,
        Ok(None) => return share_gone(&s, &ctx),
        Err(e) => return failure(&s, &ctx, e),
    };
    let lang = ctx.lang();
    let mut errors = BTreeMap::new();
    let used_by = form.used_by.trim();
    let purpose = form.purpose.trim();
    if used_by.is_empty() || used_by.chars().count() > 100 {
        let m = kernel::Msg::new(
            "请填写用证单位或个人（不超过100字）",
            "Enter who is using the licence (at most 100 characters)",
        );
        errors.insert("used_by".to_string(), m.get(lang).to_string());
    }
    if purpose.is_empty() || purpose.chars().count() > 200 {
        let m = kernel::Msg::new(
            "请填写用证事由（不超过200字）",
            "Enter why you are using the licence (at most 200 characters)",
        );
        errors.insert("purpose".to_string(), m.get(lang).to_string());
    }
    if !errors.is_empty() {
        return s.shell.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "licences/share.html",
            &ctx,
            json!({
                "type_name": l.type_name,
                "holder_name": l.holder.name,
                "expires_at": when(expires),
                "token": token,
                "errors": errors,
                "values": {"used_by": form.used_by, "purpose": form.purpose},
            }),
        );
    }
    if let Err(e) = s.licences.record_use(&l, &token, used_by, purpose).await {
        return failure(&s, &ctx, e);
    }
    tracing::info!(licence = %l.id, "licence used through a share link");
    let v = match s
        .licences
        .verify_id(l.id.as_str(), Utc::now().date_naive())
        .await
    {
        Ok(v) => v.map_or(Verdict::UnknownLicence, |v| v.verdict),
        Err(e) => return failure(&s, &ctx, e),
    };
    let c = s.catalog.current();
    s.shell.render(
        "licences/verify.html",
        &ctx,
        json!({
            "verdict": v.code(),
            "valid": v.is_valid(),
            "message": v.message().get(lang),
            "card": card(&s, &c, lang, &l, v),
            "presented": serde_json::Value::Null,
            "share": {"used_by": used_by, "purpose": purpose},
        }),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_compile() {
        let shell = web::Shell::builder().templates(super::TEMPLATES).build();
        let ctx = web::Ctx {
            lang: "zh",
            html_lang: "zh-CN",
            elderly: false,
            csrf: "x".into(),
            path: "/".into(),
            viewer: None,
        };
        let card = serde_json::json!({"id": "X", "type_name": "结婚证", "issuer_name": "民政局", "holder_name": "张三",
            "holder_number": "4101**", "issued_at": "2026", "valid_from": "2026-01-01", "valid_until": null,
            "status": "valid", "status_text": "有效", "fields": [{"label": "姓名", "value": "张三"}], "qr": "<svg></svg>",
            "verify_url": "http://x/v/y", "state_reason": null});
        for (name, page) in [
            (
                "licences/wallet.html",
                serde_json::json!({"staff": false, "cards": [card.clone()], "holder": "4101"}),
            ),
            (
                "licences/licence.html",
                serde_json::json!({"card": card.clone(), "uses": [], "shared": null, "hours": [1, 24], "errors": {"hours": "x"}, "values": {"hours": "1"}, "may_share": true}),
            ),
            (
                "licences/licence.html",
                serde_json::json!({"card": card.clone(), "uses": [{"used_by": "a", "purpose": "b", "used_at": "c"}], "shared": {"url": "u", "qr": "q", "expires_at": "e"}, "hours": [1, 24], "errors": {}, "values": {}, "may_share": false}),
            ),
            (
                "licences/verify.html",
                serde_json::json!({"verdict": "valid", "valid": true, "message": "ok", "card": card.clone(), "presented": null, "share": null}),
            ),
            (
                "licences/share.html",
                serde_json::json!({"type_name": "x", "holder_name": "y", "expires_at": "z", "token": "t", "errors": {}, "values": {}}),
            ),
        ] {
            shell
                .render_string(name, &ctx, page)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }
}
