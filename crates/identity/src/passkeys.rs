//! Passkeys (WebAuthn): the platform's "刷脸" sign-in. A person registers a passkey on the
//! account page; later they type their login and confirm with the phone's face or
//! fingerprint check instead of a password.
//!
//! Ceremony state lives in the database, not in memory, so the challenge can be answered on
//! any instance, and each challenge once.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{Duration, Utc};
use kernel::{ApiJson, Msg, Problem};
use serde::{Deserialize, Serialize};
use web::CsrfHeader;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Webauthn,
    WebauthnBuilder,
};

use crate::domain::Account;
use crate::http::{IdentityState, Meta, SignedIn};
use crate::service::{Identity, RequestMeta, SessionKind, normalise_login};
use crate::store::{self, InsertError};

/// How long a person has to answer a challenge.
const CEREMONY_TTL: Duration = Duration::minutes(5);

#[derive(Clone)]
pub struct Passkeys {
    webauthn: Arc<Webauthn>,
    identity: Identity,
}

fn refused() -> Problem {
    Problem::bad_request(
        "passkey_refused",
        Msg::new(
            "无法使用通行密钥登录，请确认账号后重试，或使用密码登录",
            "Signing in with a passkey did not work; check the login and try again, or use your password",
        ),
    )
}

fn expired() -> Problem {
    Problem::bad_request(
        "passkey_expired",
        Msg::new(
            "验证已过期，请重试",
            "The check has expired; please try again",
        ),
    )
}

impl Passkeys {
    /// `origin` is where people reach the platform; its host is the relying party.
    pub fn new(identity: Identity, origin: &Url) -> anyhow::Result<Passkeys> {
        let rp_id = origin
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("public URL {origin} has no host"))?;
        let webauthn = WebauthnBuilder::new(rp_id, origin)?
            .rp_name("好办 Haoban")
            // A local demo may run on any port.
            .allow_any_port(rp_id == "localhost")
            .build()?;
        Ok(Passkeys {
            webauthn: Arc::new(webauthn),
            identity,
        })
    }

    fn user_uuid(account: &Account) -> uuid::Uuid {
        uuid::Uuid::parse_str(&account.id).unwrap_or_else(|_| {
            use sha2::Digest;
            let d = sha2::Sha256::digest(account.id.as_bytes());
            let mut b = [0u8; 16];
            b.copy_from_slice(&d[..16]);
            uuid::Uuid::from_bytes(b)
        })
    }

    async fn credentials(&self, account_id: &str) -> Result<Vec<(String, Passkey)>, Problem> {
        let rows = store::passkeys_of(self.identity.db(), account_id).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                serde_json::from_str::<Passkey>(&r.credential)
                    .ok()
                    .map(|p| (r.id, p))
            })
            .collect())
    }

    pub async fn start_registration(
        &self,
        account: &Account,
    ) -> Result<(String, CreationChallengeResponse), Problem> {
        let existing: Vec<_> = self
            .credentials(&account.id)
            .await?
            .into_iter()
            .map(|(_, p)| p.cred_id().clone())
            .collect();
        let display = account
            .masked_id_number()
            .unwrap_or_else(|| account.login.clone());
        let (challenge, state) = self
            .webauthn
            .start_passkey_registration(
                Self::user_uuid(account),
                &display,
                &account.name,
                Some(existing),
            )
            .map_err(|e| {
                tracing::warn!(error = %e, "passkey registration could not start");
                Problem::internal()
            })?;
        let id = uuid::Uuid::new_v4().to_string();
        let state = serde_json::to_string(&state).map_err(|_| Problem::internal())?;
        store::insert_ceremony(
            self.identity.db(),
            &id,
            "register",
            &account.id,
            &state,
            Utc::now() + CEREMONY_TTL,
        )
        .await?;
        Ok((id, challenge))
    }

    pub async fn finish_registration(
        &self,
        account: &Account,
        ceremony: &str,
        credential: &RegisterPublicKeyCredential,
        name: &str,
        meta: &RequestMeta,
    ) -> Result<String, Problem> {
        let db = self.identity.db();
        let (owner, state) = store::take_ceremony(db, ceremony, "register", Utc::now())
            .await?
            .ok_or_else(expired)?;
        if owner != account.id {
            return Err(expired());
        }
        let state: PasskeyRegistration =
            serde_json::from_str(&state).map_err(|_| Problem::internal())?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(credential, &state)
            .map_err(|e| {
                tracing::info!(error = %e, "passkey registration refused");
                Problem::bad_request(
                    "passkey_not_registered",
                    Msg::new(
                        "通行密钥未能添加，请重试",
                        "The passkey could not be added; please try again",
                    ),
                )
            })?;
        let id = base64_url(passkey.cred_id().as_ref());
        let json = serde_json::to_string(&passkey).map_err(|_| Problem::internal())?;
        let name = if name.trim().is_empty() {
            "通行密钥 Passkey"
        } else {
            name.trim()
        };
        let name: String = name.chars().take(60).collect();
        match store::insert_passkey(db, &id, &account.id, &name, &json, Utc::now()).await {
            Ok(()) => {}
            Err(InsertError::Duplicate) => {
                return Err(Problem::new(
                    StatusCode::CONFLICT,
                    "passkey_exists",
                    Msg::new("该通行密钥已添加", "This passkey has been added already"),
                ));
            }
            Err(InsertError::Db(e)) => return Err(e.into()),
        }
        self.identity
            .audit(
                "passkey_registered",
                "ok",
                Some(&account.id),
                &account.login,
                meta,
            )
            .await;
        Ok(id)
    }

    pub async fn start_sign_in(
        &self,
        login: &str,
    ) -> Result<(String, RequestChallengeResponse), Problem> {
        let db = self.identity.db();
        let login = normalise_login(login);
        let Some((account, _)) = store::credentials(db, &login).await? else {
            return Err(refused());
        };
        let keys: Vec<Passkey> = self
            .credentials(&account.id)
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        if keys.is_empty() {
            return Err(refused());
        }
        let (challenge, state) = self
            .webauthn
            .start_passkey_authentication(&keys)
            .map_err(|_| refused())?;
        let id = uuid::Uuid::new_v4().to_string();
        let state = serde_json::to_string(&state).map_err(|_| Problem::internal())?;
        store::insert_ceremony(
            db,
            &id,
            "sign_in",
            &account.id,
            &state,
            Utc::now() + CEREMONY_TTL,
        )
        .await?;
        Ok((id, challenge))
    }

    pub async fn finish_sign_in(
        &self,
        ceremony: &str,
        credential: &PublicKeyCredential,
        meta: &RequestMeta,
    ) -> Result<(Account, String), Problem> {
        let db = self.identity.db();
        let (account_id, state) = store::take_ceremony(db, ceremony, "sign_in", Utc::now())
            .await?
            .ok_or_else(expired)?;
        let account = store::account_by_id(db, &account_id)
            .await?
            .ok_or_else(refused)?;
        let state: PasskeyAuthentication =
            serde_json::from_str(&state).map_err(|_| Problem::internal())?;
        let result = match self
            .webauthn
            .finish_passkey_authentication(credential, &state)
        {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = %e, "passkey sign-in refused");
                self.identity
                    .audit(
                        "sign_in_passkey",
                        "rejected",
                        Some(&account.id),
                        &account.login,
                        meta,
                    )
                    .await;
                return Err(refused());
            }
        };
        // Keep the signature counter current so a cloned authenticator shows up.
        for (id, mut key) in self.credentials(&account.id).await? {
            if key.update_credential(&result).is_some() {
                let json = serde_json::to_string(&key).map_err(|_| Problem::internal())?;
                store::update_passkey(db, &id, &json, Utc::now()).await?;
            }
        }
        let (token, _) = self
            .identity
            .open_session(&account, SessionKind::Web, "sign_in_passkey", meta)
            .await?;
        Ok((account, token))
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Clone)]
pub struct PasskeyState {
    pub passkeys: Passkeys,
    pub identity: IdentityState,
}

pub fn routes(state: PasskeyState) -> Router {
    Router::new()
        .route("/passkeys/register/start", post(register_start))
        .route("/passkeys/register/finish", post(register_finish))
        .route("/passkeys/sign-in/start", post(sign_in_start))
        .route("/passkeys/sign-in/finish", post(sign_in_finish))
        .with_state(state)
}

#[derive(Serialize)]
struct Started<T: Serialize> {
    ceremony: String,
    options: T,
}

async fn register_start(
    State(s): State<PasskeyState>,
    _: CsrfHeader,
    SignedIn(account): SignedIn,
) -> Result<Json<Started<CreationChallengeResponse>>, Problem> {
    let (ceremony, options) = s.passkeys.start_registration(&account).await?;
    Ok(Json(Started { ceremony, options }))
}

#[derive(Deserialize)]
struct RegisterFinish {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
    #[serde(default)]
    name: String,
}

async fn register_finish(
    State(s): State<PasskeyState>,
    _: CsrfHeader,
    Meta(meta): Meta,
    SignedIn(account): SignedIn,
    ApiJson(body): ApiJson<RegisterFinish>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    let id = s
        .passkeys
        .finish_registration(
            &account,
            &body.ceremony,
            &body.credential,
            &body.name,
            &meta,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))))
}

#[derive(Deserialize)]
struct SignInStart {
    #[serde(default)]
    login: String,
}

async fn sign_in_start(
    State(s): State<PasskeyState>,
    _: CsrfHeader,
    ApiJson(body): ApiJson<SignInStart>,
) -> Result<Json<Started<RequestChallengeResponse>>, Problem> {
    let (ceremony, options) = s.passkeys.start_sign_in(&body.login).await?;
    Ok(Json(Started { ceremony, options }))
}

#[derive(Deserialize)]
struct SignInFinish {
    ceremony: String,
    credential: PublicKeyCredential,
    #[serde(default)]
    next: String,
}

async fn sign_in_finish(
    State(s): State<PasskeyState>,
    _: CsrfHeader,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<SignInFinish>,
) -> Result<Response, Problem> {
    let (account, token) = s
        .passkeys
        .finish_sign_in(&body.ceremony, &body.credential, &meta)
        .await?;
    let next = crate::http::safe_next(Some(&body.next));
    let mut res = Json(serde_json::json!({ "redirect": next })).into_response();
    for c in crate::http::session_cookies(s.identity.policy, &account, &token) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}
