use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, header, request::Parts};
use kernel::Lang;
use serde::Serialize;
use std::convert::Infallible;

use crate::csrf::CsrfToken;

pub const LANG_COOKIE: &str = "hb_lang";
pub const MODE_COOKIE: &str = "hb_mode";

/// Who is signed in, as far as pages need to know: put into request extensions by the
/// identity context's session layer.
#[derive(Debug, Clone, Serialize)]
pub struct Viewer {
    pub account_id: String,
    pub name: String,
    /// `citizen`, `company` or `staff`.
    pub kind: String,
    pub roles: Vec<String>,
}

/// What every page needs from the request: language, elderly mode, the CSRF token for its
/// forms, where it is, and who is looking.
#[derive(Debug, Clone, Serialize)]
pub struct Ctx {
    pub lang: &'static str,
    pub html_lang: &'static str,
    pub elderly: bool,
    pub csrf: String,
    pub path: String,
    pub viewer: Option<Viewer>,
}

impl Ctx {
    pub fn lang(&self) -> Lang {
        Lang::parse(self.lang).unwrap_or_default()
    }

    pub fn from_parts(parts: &Parts) -> Ctx {
        let headers = &parts.headers;
        let lang = cookie_value(headers, LANG_COOKIE)
            .and_then(|v| Lang::parse(&v))
            .unwrap_or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .map(Lang::from_accept_language)
                    .unwrap_or_default()
            });
        let elderly = cookie_value(headers, MODE_COOKIE).as_deref() == Some("elderly");
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        Ctx {
            lang: lang.code(),
            html_lang: lang.html(),
            elderly,
            csrf,
            path: parts.uri.path().to_string(),
            viewer: parts.extensions.get::<Viewer>().cloned(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Ctx::from_parts(parts))
    }
}

/// The value of one cookie from the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when served over HTTPS.
/// `max_age` in seconds; `None` for a cookie that ends with the browser session, `Some(0)`
/// to delete it.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_cookies_across_headers() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; hb_lang=en"));
        h.append(header::COOKIE, HeaderValue::from_static("hb_mode=elderly"));
        assert_eq!(cookie_value(&h, "hb_lang").as_deref(), Some("en"));
        assert_eq!(cookie_value(&h, "hb_mode").as_deref(), Some("elderly"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }

    #[test]
    fn cookies_are_http_only_and_same_site() {
        let c = set_cookie("x", "y", Some(60), true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!set_cookie("x", "y", None, false).contains("Secure"));
    }
}
