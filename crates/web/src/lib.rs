//! The page shell every context renders into: one layout, the two languages, the elderly mode
//! (大字版), the CSRF guard on forms, and the embedded static assets.
//!
//! Pages are server-rendered HTML that works without JavaScript. Contexts bring their own
//! templates (registered at start with [`ShellBuilder::templates`]) and extend `layout.html`.
//! Text in templates is written in both languages side by side: `{{ tr("登录", "Sign in") }}`.
//!
//! This crate must not depend on any context crate.

mod assets;
mod csrf;
mod ctx;
mod prefs;
mod shell;

pub use assets::routes as asset_routes;
pub use csrf::{CSRF_COOKIE, CsrfHeader, CsrfToken, VerifiedForm, csrf_layer};
pub use ctx::{Ctx, LANG_COOKIE, MODE_COOKIE, Viewer, cookie_value, set_cookie};
pub use prefs::{PrefsHook, routes as prefs_routes};
pub use shell::{Shell, ShellBuilder, not_found_page};

/// Whether cookies get the `Secure` attribute: true when the platform is served over HTTPS.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
}
