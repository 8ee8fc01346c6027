//! Identity: the accounts of citizens (by resident ID number), companies (by unified social
//! credit code) and staff (in departments, with roles); sign-up, sign-in with password and
//! lockout, web sessions, API sessions and tokens for machine clients, and the audit of every
//! sign-in.
//!
//! - `domain`: pure types and rules (parsing sign-ups, the lockout rule, roles, levels).
//! - `store`: all of this context's SQL, for SQLite and PostgreSQL.
//! - `service`: the operations, which audit as they go.
//! - `http`: the API and pages; thin.
//! - `demo`: the departments and staff of the demo city.

pub mod demo;
pub mod domain;
pub mod http;
pub mod passkeys;
pub mod service;
pub mod store;

pub use domain::{Account, AccountKind, DeptLevel, Holder, Role};
pub use http::{ApiCaller, IdentityApi, IdentityState, SignedIn, routes, session_layer};
pub use passkeys::{PasskeyState, Passkeys};
pub use service::{Identity, RealName, RealNameCheck, RequestMeta, SignUpError};
pub use store::MIGRATIONS;

/// This context's page templates, registered into the shell at start.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "identity/sign_up.html",
        include_str!("../templates/sign_up.html"),
    ),
    (
        "identity/sign_up_company.html",
        include_str!("../templates/sign_up_company.html"),
    ),
    (
        "identity/sign_in.html",
        include_str!("../templates/sign_in.html"),
    ),
    (
        "identity/staff_sign_in.html",
        include_str!("../templates/staff_sign_in.html"),
    ),
    (
        "identity/account.html",
        include_str!("../templates/account.html"),
    ),
];

/// Saves preferences switched in the page header with the signed-in account.
pub struct AccountPrefs(pub Identity);

impl web::PrefsHook for AccountPrefs {
    fn save(
        &self,
        account_id: String,
        lang: Option<kernel::Lang>,
        elderly: Option<bool>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let identity = self.0.clone();
        Box::pin(async move {
            if let Err(e) = identity.set_prefs(&account_id, lang, elderly).await {
                tracing::warn!(error = %e, "preferences not saved with the account");
            }
        })
    }
}
