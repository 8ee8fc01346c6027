//! Every form carries a token that must match the visitor's `hb_csrf` cookie (double submit).
//! The cookie is SameSite and HttpOnly; a page on another site can neither read it nor send a
//! form that matches it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use rand::RngCore;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::CookiePolicy;
use crate::ctx::{Ctx, cookie_value, set_cookie};

pub const CSRF_COOKIE: &str = "hb_csrf";

/// The visitor's CSRF token, placed in request extensions by [`csrf_layer`].
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

fn new_token() -> String {
    let mut b = [0u8; 24];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Gives every visitor a CSRF token, setting the cookie on the first response.
pub async fn csrf_layer(policy: CookiePolicy, mut req: Request, next: Next) -> Response {
    let existing = cookie_value(req.headers(), CSRF_COOKIE).filter(|t| t.len() == 48);
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (new_token(), true),
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut res = next.run(req).await;
    if fresh {
        let cookie = set_cookie(CSRF_COOKIE, &token, None, policy.secure)
            .replace("SameSite=Lax", "SameSite=Strict");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A URL-encoded form whose `csrf` field matched the cookie. Anything else is refused with a
/// page that tells the person to go back and submit again; nothing is changed.
pub struct VerifiedForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for VerifiedForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let ctx = Ctx::from_parts(&parts);
        let cookie = cookie_value(&parts.headers, CSRF_COOKIE).unwrap_or_default();
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let field: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| refused(&ctx))?;
        if cookie.is_empty() || !kernel::secret::constant_time_eq(&cookie, &field.csrf) {
            return Err(refused(&ctx));
        }
        let value = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            tracing::debug!(error = %e, "form not understood");
            (
                StatusCode::BAD_REQUEST,
                Html(simple_page(
                    &ctx,
                    "无法识别提交的表单，请返回重试。",
                    "The form could not be read; please go back and try again.",
                )),
            )
                .into_response()
        })?;
        Ok(VerifiedForm(value))
    }
}

fn refused(ctx: &Ctx) -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(simple_page(
            ctx,
            "页面已过期或表单来源不明，为保护您的安全未作任何更改。请返回上一页刷新后重新提交。",
            "This page has expired or the form did not come from us, so nothing was changed. \
             Please go back, reload the page and submit again.",
        )),
    )
        .into_response()
}

fn simple_page(ctx: &Ctx, zh: &str, en: &str) -> String {
    let text = if ctx.lang == "en" { en } else { zh };
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"stylesheet\" href=\"/assets/haoban.css\"><title>好办 Haoban</title></head>\
         <body><main id=\"main\" class=\"container\"><h1>{}</h1><p>{}</p>\
         <p><a href=\"/\">{}</a></p></main></body></html>",
        ctx.html_lang,
        if ctx.lang == "en" {
            "We could not accept this form"
        } else {
            "无法受理该表单"
        },
        text,
        if ctx.lang == "en" {
            "Go to the home page"
        } else {
            "返回首页"
        },
    )
}

/// For script requests that act on the cookie session: the `X-CSRF-Token` header must match
/// the cookie, which a page on another site cannot read.
pub struct CsrfHeader;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CsrfHeader {
    type Rejection = kernel::Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let cookie = cookie_value(&parts.headers, CSRF_COOKIE).unwrap_or_default();
        let header = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if cookie.is_empty() || !kernel::secret::constant_time_eq(&cookie, header) {
            return Err(kernel::Problem::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                kernel::Msg::new(
                    "页面已过期，请刷新后重试",
                    "This page has expired; reload it and try again",
                ),
            ));
        }
        Ok(CsrfHeader)
    }
}
