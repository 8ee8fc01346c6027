//! Each system's credentials and the check in front of its routes. Credentials are derived
//! from the city's seed, so a client configured once keeps working after a restart.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use kernel::secret::constant_time_eq;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Spec;

/// How far a signed request's timestamp may be from the system's clock.
pub const MAX_SKEW_SECONDS: i64 = 300;
pub const HMAC_KEY_HEADER: &str = "X-App-Key";
pub const HMAC_TIMESTAMP_HEADER: &str = "X-Timestamp";
pub const HMAC_NONCE_HEADER: &str = "X-Nonce";
pub const HMAC_SIGNATURE_HEADER: &str = "X-Signature";

/// How a system wants to be called, as the system declares it.
pub(crate) enum Scheme {
    ApiKey {
        header: &'static str,
        scheme: Option<&'static str>,
    },
    ClientSecret {
        id_header: &'static str,
        secret_header: &'static str,
    },
    Basic {
        realm: &'static str,
    },
    Bearer {
        token_path: &'static str,
        grant: &'static str,
    },
    Hmac,
}

/// A system's credentials, with what a client needs to know to present them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credentials {
    /// A key in a header, after a scheme word when there is one (`Authorization: APPCODE k`).
    ApiKey {
        header: String,
        scheme: Option<String>,
        key: String,
    },
    /// A client id and a secret, each in its own header.
    ClientSecret {
        id_header: String,
        secret_header: String,
        client_id: String,
        client_secret: String,
    },
    /// HTTP Basic.
    Basic { username: String, password: String },
    /// `Authorization: Bearer <token>`, the token from the system's own token endpoint in
    /// exchange for the client id and secret. `grant` names how that endpoint is called.
    Bearer {
        token_path: String,
        grant: String,
        client_id: String,
        client_secret: String,
        ttl_seconds: u64,
    },
    /// Every request signed: see [`hmac_signature`].
    Hmac {
        app_key: String,
        secret: String,
        key_header: String,
        timestamp_header: String,
        nonce_header: String,
        signature_header: String,
        max_skew_seconds: i64,
    },
}

impl Credentials {
    /// A few words for people: `api key`, `basic`, …
    pub fn describe(&self) -> &'static str {
        match self {
            Credentials::ApiKey { .. } => "api key",
            Credentials::ClientSecret { .. } => "client id and secret headers",
            Credentials::Basic { .. } => "http basic",
            Credentials::Bearer { .. } => "bearer token",
            Credentials::Hmac { .. } => "hmac-sha256 signature",
        }
    }

    /// Whether `id` and `secret` are this system's client id and secret.
    pub(crate) fn client_ok(&self, id: &str, secret: &str) -> bool {
        match self {
            Credentials::Bearer {
                client_id,
                client_secret,
                ..
            } => constant_time_eq(id, client_id) & constant_time_eq(secret, client_secret),
            _ => false,
        }
    }
}

/// `len` hex characters derived from the seed, the system and what the value is for.
pub(crate) fn derive(seed: u64, key: &str, what: &str, len: usize) -> String {
    let d = Sha256::digest(format!("haoban-sim:{seed}:{key}:{what}").as_bytes());
    let mut h = hex::encode(d);
    h.truncate(len);
    h
}

pub(crate) fn credentials(spec: &Spec, seed: u64, ttl: Duration) -> Credentials {
    let key = spec.key;
    match spec.auth {
        Scheme::ApiKey { header, scheme } => Credentials::ApiKey {
            header: header.to_string(),
            scheme: scheme.map(str::to_string),
            key: derive(seed, key, "api-key", 32),
        },
        Scheme::ClientSecret {
            id_header,
            secret_header,
        } => Credentials::ClientSecret {
            id_header: id_header.to_string(),
            secret_header: secret_header.to_string(),
            client_id: format!("{key}-{}", derive(seed, key, "client-id", 8)),
            client_secret: derive(seed, key, "client-secret", 40),
        },
        Scheme::Basic { .. } => Credentials::Basic {
            username: format!("{key}_svc"),
            password: derive(seed, key, "password", 20),
        },
        Scheme::Bearer { token_path, grant } => Credentials::Bearer {
            token_path: token_path.to_string(),
            grant: grant.to_string(),
            client_id: format!("{key}-{}", derive(seed, key, "client-id", 8)),
            client_secret: derive(seed, key, "client-secret", 40),
            ttl_seconds: ttl.as_secs(),
        },
        Scheme::Hmac => Credentials::Hmac {
            app_key: derive(seed, key, "app-key", 16),
            secret: derive(seed, key, "app-secret", 48),
            key_header: HMAC_KEY_HEADER.to_string(),
            timestamp_header: HMAC_TIMESTAMP_HEADER.to_string(),
            nonce_header: HMAC_NONCE_HEADER.to_string(),
            signature_header: HMAC_SIGNATURE_HEADER.to_string(),
            max_skew_seconds: MAX_SKEW_SECONDS,
        },
    }
}

/// The query's `name=value` pairs exactly as sent (still percent-encoded), sorted bytewise
/// and joined with `&`; empty when there is no query.
pub fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    pairs.sort_unstable();
    pairs.join("&")
}

fn string_to_sign(method: &str, path: &str, query: Option<&str>, ts: &str, nonce: &str) -> String {
    format!(
        "{}\n{path}\n{}\n{ts}\n{nonce}",
        method.to_ascii_uppercase(),
        canonical_query(query)
    )
}

fn mac(secret: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length")
}

/// The signature a signed system expects: base64 of HMAC-SHA256 with the secret over
/// `METHOD\npath\ncanonical query\ntimestamp\nnonce` (see [`canonical_query`]); the path
/// as sent, the timestamp in Unix seconds as sent in its header.
pub fn hmac_signature(
    secret: &str,
    method: &str,
    path: &str,
    query: Option<&str>,
    timestamp: &str,
    nonce: &str,
) -> String {
    let mut m = mac(secret);
    m.update(string_to_sign(method, path, query, timestamp, nonce).as_bytes());
    B64.encode(m.finalize().into_bytes())
}

/// Bearer tokens a system has issued, each until it expires.
pub(crate) struct Tokens {
    ttl: Duration,
    live: Mutex<HashMap<String, Instant>>,
}

impl Tokens {
    pub fn new(ttl: Duration) -> Tokens {
        Tokens {
            ttl,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// A new token and its lifetime in seconds.
    pub fn issue(&self) -> (String, u64) {
        let token = kernel::secret::new_token("");
        let now = Instant::now();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, until| *until > now);
        live.insert(token.clone(), now + self.ttl);
        (token, self.ttl.as_secs())
    }

    fn check(&self, token: &str) -> Result<(), &'static str> {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        match live.get(token) {
            None => Err("unknown token"),
            Some(until) if *until <= Instant::now() => Err("token expired"),
            Some(_) => Ok(()),
        }
    }
}

/// Nonces seen in signed requests, kept for twice the allowed skew: a request older than
/// that fails on its timestamp, so its nonce need not be remembered.
#[derive(Default)]
struct Nonces {
    inner: Mutex<NonceLog>,
}

#[derive(Default)]
struct NonceLog {
    seen: HashSet<String>,
    /// The same nonces, oldest first, to forget them in order.
    order: VecDeque<(Instant, String)>,
}

impl Nonces {
    /// False when the nonce was seen already.
    fn first_use(&self, nonce: &str) -> bool {
        let keep = Duration::from_secs(2 * MAX_SKEW_SECONDS as u64);
        let now = Instant::now();
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let NonceLog { seen, order } = &mut *guard;
        while let Some((at, _)) = order.front() {
            if now.duration_since(*at) < keep {
                break;
            }
            if let Some((_, n)) = order.pop_front() {
                seen.remove(&n);
            }
        }
        if !seen.insert(nonce.to_string()) {
            return false;
        }
        order.push_back((now, nonce.to_string()));
        true
    }
}

/// The check in front of one system's routes.
#[derive(Clone)]
pub(crate) struct Guard {
    spec: &'static Spec,
    creds: Arc<Credentials>,
    tokens: Arc<Tokens>,
    nonces: Arc<Nonces>,
}

impl Guard {
    pub fn new(spec: &'static Spec, creds: Arc<Credentials>, tokens: Arc<Tokens>) -> Guard {
        Guard {
            spec,
            creds,
            tokens,
            nonces: Arc::new(Nonces::default()),
        }
    }

    fn verify(&self, req: &Request) -> Result<(), &'static str> {
        let h = req.headers();
        match &*self.creds {
            Credentials::ApiKey {
                header,
                scheme,
                key,
            } => {
                let value = text(h, header).ok_or("missing API key")?;
                let given = match scheme {
                    Some(word) => strip_word(value, word).ok_or("wrong authorization scheme")?,
                    None => value,
                };
                if constant_time_eq(given, key) {
                    Ok(())
                } else {
                    Err("invalid API key")
                }
            }
            Credentials::ClientSecret {
                id_header,
                secret_header,
                client_id,
                client_secret,
            } => {
                let id = text(h, id_header).ok_or("missing client id")?;
                let secret = text(h, secret_header).ok_or("missing client secret")?;
                if constant_time_eq(id, client_id) & constant_time_eq(secret, client_secret) {
                    Ok(())
                } else {
                    Err("invalid client id or secret")
                }
            }
            Credentials::Basic { username, password } => {
                let value = text(h, header::AUTHORIZATION.as_str()).ok_or("missing credentials")?;
                let encoded = strip_word(value, "Basic").ok_or("HTTP Basic expected")?;
                let decoded = B64
                    .decode(encoded)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or("malformed Basic credentials")?;
                let (u, p) = decoded
                    .split_once(':')
                    .ok_or("malformed Basic credentials")?;
                if constant_time_eq(u, username) & constant_time_eq(p, password) {
                    Ok(())
                } else {
                    Err("wrong user name or password")
                }
            }
            Credentials::Bearer { .. } => {
                let value = text(h, header::AUTHORIZATION.as_str()).ok_or("missing token")?;
                let token = strip_word(value, "Bearer").ok_or("bearer token expected")?;
                self.tokens.check(token)
            }
            Credentials::Hmac {
                app_key, secret, ..
            } => {
                let key = text(h, HMAC_KEY_HEADER).ok_or("missing app key")?;
                let ts = text(h, HMAC_TIMESTAMP_HEADER).ok_or("missing timestamp")?;
                let nonce = text(h, HMAC_NONCE_HEADER).ok_or("missing nonce")?;
                let sig = text(h, HMAC_SIGNATURE_HEADER).ok_or("missing signature")?;
                if !constant_time_eq(key, app_key) {
                    return Err("unknown app key");
                }
                let when: i64 = ts.parse().map_err(|_| "timestamp is not Unix seconds")?;
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                if (now - when).abs() > MAX_SKEW_SECONDS {
                    return Err("timestamp more than 300 s off");
                }
                if nonce.len() < 8 || nonce.len() > 64 {
                    return Err("nonce must have 8 to 64 characters");
                }
                let given = B64.decode(sig).map_err(|_| "signature is not base64")?;
                let mut m = mac(secret);
                let uri = req.uri();
                m.update(
                    string_to_sign(req.method().as_str(), uri.path(), uri.query(), ts, nonce)
                        .as_bytes(),
                );
                m.verify_slice(&given).map_err(|_| "signature mismatch")?;
                // Recorded only once the signature holds, so forgeries cannot burn nonces.
                if !self.nonces.first_use(nonce) {
                    return Err("nonce already used");
                }
                Ok(())
            }
        }
    }

    fn challenge(&self) -> Option<HeaderValue> {
        match (&self.spec.auth, &*self.creds) {
            (Scheme::Basic { realm }, _) => {
                HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")).ok()
            }
            (_, Credentials::Bearer { .. }) => {
                Some(HeaderValue::from_static("Bearer error=\"invalid_token\""))
            }
            _ => None,
        }
    }
}

fn text<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The rest of `value` after the scheme word `word` (any case) and a space.
fn strip_word<'a>(value: &'a str, word: &str) -> Option<&'a str> {
    let (w, rest) = value.split_once(' ')?;
    w.eq_ignore_ascii_case(word).then(|| rest.trim())
}

pub(crate) async fn check(State(g): State<Guard>, req: Request, next: Next) -> Response {
    match g.verify(&req) {
        Ok(()) => next.run(req).await,
        Err(reason) => {
            tracing::debug!(system = g.spec.key, reason, "request refused");
            let mut res = (g.spec.error)(StatusCode::UNAUTHORIZED, reason);
            if let Some(c) = g.challenge() {
                res.headers_mut().insert(header::WWW_AUTHENTICATE, c);
            }
            res
        }
    }
}
