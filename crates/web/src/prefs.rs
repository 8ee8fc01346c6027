//! Language and elderly mode, switched by plain forms and kept in long-lived cookies (and in
//! the account, through [`PrefsHook`], so they follow a signed-in person to other devices).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use kernel::Lang;
use serde::Deserialize;

use crate::CookiePolicy;
use crate::csrf::VerifiedForm;
use crate::ctx::{Ctx, LANG_COOKIE, MODE_COOKIE, set_cookie};

const YEAR: i64 = 365 * 24 * 3600;

/// Saves a signed-in person's preferences with their account.
pub trait PrefsHook: Send + Sync {
    fn save(
        &self,
        account_id: String,
        lang: Option<Lang>,
        elderly: Option<bool>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

#[derive(Clone)]
struct PrefsState {
    policy: CookiePolicy,
    hook: Option<Arc<dyn PrefsHook>>,
}

pub fn routes(policy: CookiePolicy, hook: Option<Arc<dyn PrefsHook>>) -> Router {
    Router::new()
        .route("/prefs/lang", post(set_lang))
        .route("/prefs/mode", post(set_mode))
        .with_state(PrefsState { policy, hook })
}

#[derive(Deserialize)]
struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

#[derive(Deserialize)]
struct ModeForm {
    mode: String,
    #[serde(default)]
    back: String,
}

/// Only a path on this site; anything else would make the form an open redirect.
fn safe_back(back: &str) -> &str {
    if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
        back
    } else {
        "/"
    }
}

fn redirect_with_cookie(back: &str, cookie: String) -> Response {
    let mut res = Redirect::to(safe_back(back)).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn set_lang(
    State(st): State<PrefsState>,
    ctx: Ctx,
    VerifiedForm(form): VerifiedForm<LangForm>,
) -> Response {
    let Some(lang) = Lang::parse(&form.lang) else {
        return Redirect::to(safe_back(&form.back)).into_response();
    };
    if let (Some(hook), Some(v)) = (&st.hook, &ctx.viewer) {
        hook.save(v.account_id.clone(), Some(lang), None).await;
    }
    redirect_with_cookie(
        &form.back,
        set_cookie(LANG_COOKIE, lang.code(), Some(YEAR), st.policy.secure),
    )
}

async fn set_mode(
    State(st): State<PrefsState>,
    ctx: Ctx,
    VerifiedForm(form): VerifiedForm<ModeForm>,
) -> Response {
    let elderly = form.mode == "elderly";
    if let (Some(hook), Some(v)) = (&st.hook, &ctx.viewer) {
        hook.save(v.account_id.clone(), None, Some(elderly)).await;
    }
    redirect_with_cookie(
        &form.back,
        set_cookie(
            MODE_COOKIE,
            if elderly { "elderly" } else { "standard" },
            Some(YEAR),
            st.policy.secure,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::safe_back;

    #[test]
    fn back_links_stay_on_site() {
        assert_eq!(safe_back("/account"), "/account");
        assert_eq!(safe_back("//evil.example/"), "/");
        assert_eq!(safe_back("https://evil.example/"), "/");
        assert_eq!(safe_back("/\\evil.example"), "/");
        assert_eq!(safe_back(""), "/");
    }
}
