//! The identity context's operations: sign up, sign in with lockout, sessions, API tokens.
//! Every sign-in, failure, sign-up and sign-out is written to `auth_audit`.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use kernel::{Db, Lang, Msg, Problem};

use crate::domain::{
    Account, Holder, MAX_FAILURES, MAX_FAILURES_PER_ADDRESS, NewAccount, Password, Role, login_key,
    mask_login,
};
use crate::store::{self, AccountInsert, AuditEntry, InsertError};

/// Web sessions end after this long without use; API sessions after this long in total.
pub const WEB_IDLE: Duration = Duration::hours(8);
pub const API_TTL: Duration = Duration::hours(12);

/// Where a request came from, for the audit table. No credentials in here.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Web,
    Api,
}

impl SessionKind {
    fn code(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
}

#[derive(Debug)]
pub enum SignUpError {
    Duplicate,
    /// The population registry knows the ID number under another name, or not at all.
    NameMismatch,
    /// The registry could not be asked; nothing was created.
    CannotVerify,
    Internal(Problem),
}

/// What the population registry says of a name and an ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealName {
    Matches,
    Mismatch,
    Unavailable,
}

/// Real-name binding: checks a citizen's name and ID number against the population registry
/// before an account is created. Supplied by whoever can reach the registry (the exchange),
/// so identity does not depend on it.
pub trait RealNameCheck: Send + Sync {
    fn check<'a>(
        &'a self,
        id_number: &'a kernel::IdNumber,
        name: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = RealName> + Send + 'a>>;
}

#[derive(Debug)]
pub enum SignInError {
    /// Wrong login or password: deliberately one case, so nobody learns which accounts exist.
    Rejected,
    Locked {
        until: DateTime<Utc>,
    },
    Internal(Problem),
}

impl SignInError {
    pub fn message(&self) -> Msg {
        match self {
            SignInError::Rejected => {
                Msg::new("账号或密码不正确", "The login or password is not correct")
            }
            SignInError::Locked { until } => {
                let minutes = ((*until - Utc::now()).num_seconds().max(60) + 59) / 60;
                Msg::owned(
                    format!("登录失败次数过多，请{minutes}分钟后再试"),
                    format!("Too many failed sign-ins; try again in {minutes} minutes"),
                )
            }
            SignInError::Internal(p) => p.message.clone(),
        }
    }

    pub fn problem(&self) -> Problem {
        match self {
            SignInError::Rejected => Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                self.message(),
            ),
            SignInError::Locked { .. } => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "locked_out", self.message())
            }
            SignInError::Internal(p) => p.clone(),
        }
    }
}

impl From<sqlx::Error> for SignInError {
    fn from(e: sqlx::Error) -> Self {
        SignInError::Internal(e.into())
    }
}

#[derive(Clone)]
pub struct Identity {
    db: Db,
    real_name: Option<std::sync::Arc<dyn RealNameCheck>>,
    /// A hash of nothing, checked against when the login is unknown so that the answer takes
    /// as long as for a known login.
    decoy_hash: std::sync::Arc<String>,
}

async fn hash_password(password: &Password) -> Result<String, Problem> {
    let pw = password.expose().to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| Problem::internal())?
    .map_err(|_| Problem::internal())
}

async fn verify_password(password: &Password, hash: &str) -> bool {
    let pw = password.expose().to_string();
    let hash = hash.to_string();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

impl Identity {
    pub async fn new(db: Db) -> Identity {
        let decoy = hash_password(&Password::offered("decoy password for unknown logins"))
            .await
            .expect("argon2 works");
        Identity {
            db,
            real_name: None,
            decoy_hash: std::sync::Arc::new(decoy),
        }
    }

    /// Citizens' sign-ups are checked against the population registry from now on.
    pub fn with_real_name_check(mut self, check: std::sync::Arc<dyn RealNameCheck>) -> Identity {
        self.real_name = Some(check);
        self
    }

    pub fn checks_real_names(&self) -> bool {
        self.real_name.is_some()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) async fn audit(
        &self,
        event: &str,
        outcome: &str,
        account_id: Option<&str>,
        login: &str,
        meta: &RequestMeta,
    ) {
        let entry = AuditEntry {
            event,
            outcome,
            account_id,
            login_masked: &mask_login(login),
            ip: meta.ip.as_deref(),
            user_agent: meta.user_agent.as_deref(),
            at: Utc::now(),
        };
        if let Err(e) = store::audit(&self.db, &entry).await {
            // The audit must not silently vanish: this is an operations alarm.
            tracing::error!(error = %e, event, "audit write failed");
        }
        tracing::info!(event, outcome, login = %mask_login(login), "auth event");
    }

    async fn create(
        &self,
        login: &str,
        name: &str,
        holder: Holder,
        phone: Option<&str>,
        password: &Password,
        meta: &RequestMeta,
    ) -> Result<Account, SignUpError> {
        let hash = hash_password(password)
            .await
            .map_err(SignUpError::Internal)?;
        let id = uuid::Uuid::now_v7().to_string();
        let insert = AccountInsert {
            id: &id,
            login,
            name,
            holder: &holder,
            phone,
            password_hash: &hash,
            now: Utc::now(),
        };
        match store::insert_account(&self.db, &insert).await {
            Ok(()) => {}
            Err(InsertError::Duplicate) => {
                self.audit("sign_up", "duplicate", None, login, meta).await;
                return Err(SignUpError::Duplicate);
            }
            Err(InsertError::Db(e)) => return Err(SignUpError::Internal(e.into())),
        }
        self.audit("sign_up", "ok", Some(&id), login, meta).await;
        store::account_by_id(&self.db, &id)
            .await
            .map_err(|e| SignUpError::Internal(e.into()))?
            .ok_or_else(|| SignUpError::Internal(Problem::internal()))
    }

    pub async fn sign_up(
        &self,
        a: &NewAccount,
        meta: &RequestMeta,
    ) -> Result<Account, SignUpError> {
        if let (Some(check), Holder::Citizen { id_number }) = (&self.real_name, a.holder()) {
            match check.check(&id_number, a.name()).await {
                RealName::Matches => {}
                RealName::Mismatch => {
                    self.audit("sign_up", "real_name_mismatch", None, a.login(), meta)
                        .await;
                    return Err(SignUpError::NameMismatch);
                }
                RealName::Unavailable => return Err(SignUpError::CannotVerify),
            }
        }
        let phone = Some(a.phone().as_str());
        self.create(a.login(), a.name(), a.holder(), phone, a.password(), meta)
            .await
    }

    /// Creates a member of staff in a department with the given roles there.
    pub async fn create_staff(
        &self,
        login: &str,
        name: &str,
        department_id: &str,
        roles: &[Role],
        password: &Password,
    ) -> Result<Account, SignUpError> {
        let holder = Holder::Staff {
            department_id: department_id.to_string(),
        };
        let account = self
            .create(login, name, holder, None, password, &RequestMeta::default())
            .await?;
        for role in roles {
            store::add_role(&self.db, &account.id, *role, department_id)
                .await
                .map_err(|e| SignUpError::Internal(e.into()))?;
        }
        store::account_by_id(&self.db, &account.id)
            .await
            .map_err(|e| SignUpError::Internal(e.into()))?
            .ok_or_else(|| SignUpError::Internal(Problem::internal()))
    }

    /// Checks a login and password and opens a session. `staff_only` restricts the staff
    /// sign-in page to staff, and the public page to citizens and companies.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &Password,
        kind: SessionKind,
        audience: Audience,
        meta: &RequestMeta,
    ) -> Result<(Account, String, DateTime<Utc>), SignInError> {
        let login = normalise_login(login);
        let key = login_key(&login);
        let address_key = meta.ip.as_deref().map(|ip| format!("address:{ip}"));
        let now = Utc::now();
        for k in std::iter::once(&key).chain(address_key.as_ref()) {
            if let Some(until) = store::throttle(&self.db, k)
                .await?
                .and_then(|t| t.locked_at(now))
            {
                self.audit("sign_in", "locked", None, &login, meta).await;
                return Err(SignInError::Locked { until });
            }
        }
        let found = store::credentials(&self.db, &login).await?;
        let ok = match &found {
            Some((account, Some(hash))) if audience.admits(account) => {
                verify_password(password, hash).await
            }
            _ => {
                verify_password(password, &self.decoy_hash).await;
                false
            }
        };
        let Some((account, _)) = found.filter(|_| ok) else {
            let mut t = store::record_failure(&self.db, &key, now, MAX_FAILURES).await?;
            if let Some(k) = &address_key {
                let by_address =
                    store::record_failure(&self.db, k, now, MAX_FAILURES_PER_ADDRESS).await?;
                if by_address.locked_at(now).is_some() && t.locked_at(now).is_none() {
                    t = by_address;
                }
            }
            let account_id = None::<&str>;
            if let Some(until) = t.locked_at(now) {
                self.audit("sign_in", "locked", account_id, &login, meta)
                    .await;
                return Err(SignInError::Locked { until });
            }
            self.audit("sign_in", "rejected", account_id, &login, meta)
                .await;
            return Err(SignInError::Rejected);
        };
        store::clear_throttle(&self.db, &key).await?;
        let (token, expires) = self.open_session(&account, kind, "sign_in", meta).await?;
        Ok((account, token, expires))
    }

    /// Opens a session for an account whose credentials were just checked, and audits it
    /// under `event` (`sign_in` for a password, `sign_in_passkey` for a passkey).
    pub(crate) async fn open_session(
        &self,
        account: &Account,
        kind: SessionKind,
        event: &str,
        meta: &RequestMeta,
    ) -> Result<(String, DateTime<Utc>), sqlx::Error> {
        let now = Utc::now();
        let token = kernel::secret::new_token("hbs_");
        let expires = now
            + match kind {
                SessionKind::Web => WEB_IDLE,
                SessionKind::Api => API_TTL,
            };
        store::insert_session(
            &self.db,
            &kernel::secret::digest(&token),
            &account.id,
            kind.code(),
            now,
            expires,
        )
        .await?;
        self.audit(event, "ok", Some(&account.id), &account.login, meta)
            .await;
        Ok((token, expires))
    }

    /// The account behind a session token; web sessions slide forward when used.
    pub async fn session(
        &self,
        token: &str,
        kind: SessionKind,
    ) -> Result<Option<Account>, Problem> {
        if !token.starts_with("hbs_") || token.len() > 100 {
            return Ok(None);
        }
        let digest = kernel::secret::digest(token);
        let now = Utc::now();
        let Some(s) = store::session(&self.db, &digest, now).await? else {
            return Ok(None);
        };
        if s.kind != kind.code() {
            return Ok(None);
        }
        // Slide at most once a minute: a write per page view would be waste.
        if kind == SessionKind::Web && now - s.last_seen_at > Duration::minutes(1) {
            store::touch_session(&self.db, &digest, now, now + WEB_IDLE).await?;
        }
        Ok(store::account_by_id(&self.db, &s.account_id).await?)
    }

    /// The account behind a bearer token: an API session or a machine client's API token.
    pub async fn bearer(&self, token: &str) -> Result<Option<Account>, Problem> {
        if token.starts_with("hbs_") {
            return self.session(token, SessionKind::Api).await;
        }
        if !token.starts_with("hbt_") || token.len() > 100 {
            return Ok(None);
        }
        let Some(account_id) =
            store::use_api_token(&self.db, &kernel::secret::digest(token), Utc::now()).await?
        else {
            return Ok(None);
        };
        Ok(store::account_by_id(&self.db, &account_id).await?)
    }

    pub async fn sign_out(&self, token: &str, meta: &RequestMeta) -> Result<(), Problem> {
        if let Some(account_id) =
            store::delete_session(&self.db, &kernel::secret::digest(token)).await?
        {
            let login = store::account_by_id(&self.db, &account_id)
                .await?
                .map(|a| a.login)
                .unwrap_or_default();
            self.audit("sign_out", "ok", Some(&account_id), &login, meta)
                .await;
        }
        Ok(())
    }

    /// A long-lived token for a machine client, shown once.
    pub async fn create_api_token(
        &self,
        account: &Account,
        name: &str,
        valid_days: Option<i64>,
        meta: &RequestMeta,
    ) -> Result<(String, String), Problem> {
        let token = kernel::secret::new_token("hbt_");
        let id = uuid::Uuid::now_v7().to_string();
        let now = Utc::now();
        let expires = valid_days.map(|d| now + Duration::days(d));
        store::insert_api_token(
            &self.db,
            &id,
            &account.id,
            name,
            &kernel::secret::digest(&token),
            now,
            expires,
        )
        .await?;
        self.audit(
            "api_token_created",
            "ok",
            Some(&account.id),
            &account.login,
            meta,
        )
        .await;
        Ok((id, token))
    }

    pub async fn set_prefs(
        &self,
        account_id: &str,
        lang: Option<Lang>,
        elderly: Option<bool>,
    ) -> Result<(), Problem> {
        Ok(store::set_prefs(&self.db, account_id, lang, elderly).await?)
    }
}

/// Which sign-in page a person used: the public one admits citizens and companies, the staff
/// one admits staff, the API admits all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Public,
    Staff,
    Any,
}

impl Audience {
    fn admits(self, a: &Account) -> bool {
        match self {
            Audience::Public => !matches!(a.holder, Holder::Staff { .. }),
            Audience::Staff => matches!(a.holder, Holder::Staff { .. }),
            Audience::Any => true,
        }
    }
}

/// ID numbers end in X and credit codes have letters: people type them in lower case.
/// Staff logins keep their case.
pub fn normalise_login(login: &str) -> String {
    let l = login.trim();
    if l.len() == 18 && l.is_ascii() {
        l.to_ascii_uppercase()
    } else {
        l.to_string()
    }
}
