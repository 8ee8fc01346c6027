//! One department system as the exchange sees it: its connector and access, an HTTP client,
//! a cache of recent answers, a rate limit, a circuit breaker, and its way of
//! authenticating. All of it is per instance: a cache or an open circuit is this instance's
//! own view of the system, which is what protecting the system from this instance needs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use catalog::ElementType;

use crate::connector::{
    Aggregate, Condition, Connector, Credentials, Derive, FieldMap, Format, Lookup, Method,
    SourceAccess, TokenRequest, date_format,
};
use crate::extract::{age_on, at, list_at, number, parse_date, scalar_text, xml_to_value};

/// Why a system gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("the circuit is open after repeated failures")]
    CircuitOpen,
    #[error("the deadline passed")]
    Timeout,
    #[error("over the system's rate limit")]
    RateLimited,
    #[error("the system failed: {0}")]
    Failed(String),
    #[error("the system refused our credentials")]
    Unauthorized,
    #[error("no access configured for this system")]
    NotConfigured,
}

impl SourceError {
    pub fn code(&self) -> &'static str {
        match self {
            SourceError::CircuitOpen => "circuit_open",
            SourceError::Timeout => "timeout",
            SourceError::RateLimited => "rate_limited",
            SourceError::Failed(_) => "failed",
            SourceError::Unauthorized => "unauthorized",
            SourceError::NotConfigured => "not_configured",
        }
    }
}

/// An answer turned into element values.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub values: Map<String, Value>,
    pub fetched_at: DateTime<Utc>,
    pub cached: bool,
    /// The system has no record of the subject.
    pub not_found: bool,
}

#[derive(Debug)]
enum BreakerState {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial call is out; others are refused until it comes back.
    HalfOpen,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct Source {
    pub def: Connector,
    access: Option<SourceAccess>,
    client: reqwest::Client,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
    breaker: Mutex<BreakerState>,
    bucket: Mutex<Bucket>,
    cache: Mutex<HashMap<(String, String), (Fetched, Instant)>>,
}

/// Answers kept per system at most; the oldest go first.
const CACHE_ENTRIES: usize = 50_000;

impl Source {
    pub fn new(def: Connector, access: Option<SourceAccess>) -> Source {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(32)
            .build()
            .expect("an HTTP client without TLS always builds");
        let burst = def.rate_limit_per_s.max(1.0);
        Source {
            def,
            access,
            client,
            token: tokio::sync::Mutex::new(None),
            breaker: Mutex::new(BreakerState::Closed { failures: 0 }),
            bucket: Mutex::new(Bucket {
                tokens: burst,
                at: Instant::now(),
            }),
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_configured(&self) -> bool {
        self.access.is_some()
    }

    /// `open`, `half_open` or `closed`, for the status page and tests.
    pub fn circuit(&self) -> &'static str {
        match *self.breaker.lock().expect("breaker") {
            BreakerState::Closed { .. } => "closed",
            BreakerState::Open { .. } => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// Whether a call may go out now; moves an open circuit whose time is up to half-open.
    fn admit(&self) -> bool {
        let mut b = self.breaker.lock().expect("breaker");
        match *b {
            BreakerState::Closed { .. } => true,
            BreakerState::HalfOpen => false,
            BreakerState::Open { until } if Instant::now() >= until => {
                *b = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } => false,
        }
    }

    fn record(&self, ok: bool) {
        let mut b = self.breaker.lock().expect("breaker");
        *b = match (&*b, ok) {
            (_, true) => BreakerState::Closed { failures: 0 },
            (BreakerState::Closed { failures }, false)
                if failures + 1 < self.def.breaker.failures =>
            {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            (_, false) => {
                tracing::warn!(source = %self.def.source, "circuit opened");
                BreakerState::Open {
                    until: Instant::now() + Duration::from_secs(self.def.breaker.open_s),
                }
            }
        };
    }

    /// Waits for a rate-limit token, but not past the deadline.
    async fn take_token(&self, deadline: Instant) -> Result<(), SourceError> {
        loop {
            let wait = {
                let mut b = self.bucket.lock().expect("bucket");
                let now = Instant::now();
                let rate = self.def.rate_limit_per_s;
                b.tokens =
                    (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(rate.max(1.0));
                b.at = now;
                if b.tokens >= 1.0 {
                    b.tokens -= 1.0;
                    return Ok(());
                }
                Duration::from_secs_f64((1.0 - b.tokens) / rate)
            };
            if Instant::now() + wait > deadline {
                return Err(SourceError::RateLimited);
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn cached(&self, lookup: &str, id: &str) -> Option<Fetched> {
        let cache = self.cache.lock().expect("cache");
        let (f, at) = cache.get(&(lookup.to_string(), id.to_string()))?;
        (at.elapsed() < Duration::from_secs(self.def.cache_ttl_s)).then(|| Fetched {
            cached: true,
            ..f.clone()
        })
    }

    fn remember(&self, lookup: &str, id: &str, f: &Fetched) {
        if self.def.cache_ttl_s == 0 {
            return;
        }
        let mut cache = self.cache.lock().expect("cache");
        if cache.len() >= CACHE_ENTRIES {
            let ttl = Duration::from_secs(self.def.cache_ttl_s);
            cache.retain(|_, (_, at)| at.elapsed() < ttl);
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(
            (lookup.to_string(), id.to_string()),
            (f.clone(), Instant::now()),
        );
    }

    /// Asks the system about `id` by one lookup, within the deadline.
    pub async fn fetch(
        &self,
        lookup: &Lookup,
        id: &str,
        deadline: Instant,
    ) -> Result<Fetched, SourceError> {
        if let Some(f) = self.cached(&lookup.key, id) {
            return Ok(f);
        }
        let Some(access) = &self.access else {
            return Err(SourceError::NotConfigured);
        };
        if !self.admit() {
            return Err(SourceError::CircuitOpen);
        }
        let result = self.fetch_fresh(access, lookup, id, deadline).await;
        // Only the system's own failures count against it; our deadline or rate limit
        // say nothing about its health.
        match &result {
            Ok(_) => self.record(true),
            Err(SourceError::Failed(_) | SourceError::Timeout) => self.record(false),
            Err(_) => {
                let mut b = self.breaker.lock().expect("breaker");
                if matches!(*b, BreakerState::HalfOpen) {
                    *b = BreakerState::Closed { failures: 0 };
                }
            }
        }
        if let Ok(f) = &result {
            self.remember(&lookup.key, id, f);
        }
        result
    }

    async fn fetch_fresh(
        &self,
        access: &SourceAccess,
        lookup: &Lookup,
        id: &str,
        deadline: Instant,
    ) -> Result<Fetched, SourceError> {
        let attempts = if lookup.is_idempotent() {
            1 + self.def.retries
        } else {
            1
        };
        let mut last = SourceError::Timeout;
        for attempt in 0..attempts {
            if attempt > 0 {
                let backoff = Duration::from_millis(50 * (1 << attempt.min(4)));
                if Instant::now() + backoff >= deadline {
                    break;
                }
                tokio::time::sleep(backoff).await;
            }
            self.take_token(deadline).await?;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(SourceError::Timeout);
            }
            let budget = left.min(Duration::from_millis(self.def.timeout_ms));
            match tokio::time::timeout(budget, self.call(access, lookup, id, deadline)).await {
                Ok(Ok(f)) => return Ok(f),
                Ok(Err(SourceError::Unauthorized)) => return Err(SourceError::Unauthorized),
                Ok(Err(e)) => last = e,
                Err(_) => last = SourceError::Timeout,
            }
        }
        Err(last)
    }

    async fn call(
        &self,
        access: &SourceAccess,
        lookup: &Lookup,
        id: &str,
        deadline: Instant,
    ) -> Result<Fetched, SourceError> {
        let path = lookup.path.replace("{id}", &urlencode(id));
        let url = format!("{}{}", access.base_url.trim_end_matches('/'), path);
        let mut req = match lookup.method {
            Method::Get => self.client.get(&url),
            Method::Post => self.client.post(&url),
        };
        if let Some(body) = &lookup.body {
            req = req.json(&fill(body, id));
        }
        req = self
            .authenticate(req, access, lookup, &path, deadline)
            .await?;
        let res = req
            .send()
            .await
            .map_err(|e| SourceError::Failed(e.without_url().to_string()))?;
        let status = res.status().as_u16();
        if status == 401 || status == 403 {
            // A token may have expired early: the next call fetches a new one.
            *self.token.lock().await = None;
            return Err(SourceError::Unauthorized);
        }
        let not_found_status = lookup.not_found_statuses().contains(&status);
        if status >= 400 && !not_found_status {
            return Err(SourceError::Failed(format!("HTTP {status}")));
        }
        let text = res
            .text()
            .await
            .map_err(|e| SourceError::Failed(e.without_url().to_string()))?;
        let now = Utc::now();
        if not_found_status {
            return Ok(Fetched {
                values: Map::new(),
                fetched_at: now,
                cached: false,
                not_found: true,
            });
        }
        let answer = match self.def.format {
            Format::Json => serde_json::from_str(&text)
                .map_err(|e| SourceError::Failed(format!("not JSON: {e}")))?,
            Format::Xml => {
                xml_to_value(&text).map_err(|e| SourceError::Failed(format!("not XML: {e}")))?
            }
        };
        if lookup.not_found.as_ref().is_some_and(|c| holds(c, &answer)) {
            return Ok(Fetched {
                values: Map::new(),
                fetched_at: now,
                cached: false,
                not_found: true,
            });
        }
        if lookup.ok.as_ref().is_some_and(|c| !holds(c, &answer)) {
            return Err(SourceError::Failed("the answer reports an error".into()));
        }
        Ok(Fetched {
            values: map_fields(lookup, &answer, id, now.date_naive()),
            fetched_at: now,
            cached: false,
            not_found: false,
        })
    }

    async fn authenticate(
        &self,
        req: reqwest::RequestBuilder,
        access: &SourceAccess,
        lookup: &Lookup,
        path: &str,
        deadline: Instant,
    ) -> Result<reqwest::RequestBuilder, SourceError> {
        Ok(match &access.auth {
            Credentials::None => req,
            Credentials::ApiKey {
                header,
                scheme,
                key,
            } => {
                let v = match scheme {
                    Some(s) => format!("{s} {key}"),
                    None => key.clone(),
                };
                req.header(header.as_str(), v)
            }
            Credentials::ClientSecret {
                id_header,
                secret_header,
                client_id,
                client_secret,
            } => req
                .header(id_header.as_str(), client_id)
                .header(secret_header.as_str(), client_secret),
            Credentials::Basic { username, password } => req.basic_auth(username, Some(password)),
            Credentials::Bearer { .. } => {
                let token = self.bearer(access, deadline).await?;
                req.bearer_auth(token)
            }
            Credentials::Hmac {
                app_key,
                secret,
                key_header,
                timestamp_header,
                nonce_header,
                signature_header,
            } => {
                let (p, q) = path.split_once('?').unwrap_or((path, ""));
                let mut pairs: Vec<&str> = q.split('&').filter(|s| !s.is_empty()).collect();
                pairs.sort_unstable();
                let ts = Utc::now().timestamp().to_string();
                let nonce = hex::encode(rand::random::<[u8; 12]>());
                let method = match lookup.method {
                    Method::Get => "GET",
                    Method::Post => "POST",
                };
                let text = format!("{method}\n{p}\n{}\n{ts}\n{nonce}", pairs.join("&"));
                let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                    .expect("HMAC takes any key length");
                mac.update(text.as_bytes());
                let sig =
                    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
                req.header(key_header.as_str(), app_key)
                    .header(timestamp_header.as_str(), ts)
                    .header(nonce_header.as_str(), nonce)
                    .header(signature_header.as_str(), sig)
            }
        })
    }

    /// A valid bearer token, fetched once and shared until shortly before it expires.
    async fn bearer(
        &self,
        access: &SourceAccess,
        deadline: Instant,
    ) -> Result<String, SourceError> {
        let mut slot = self.token.lock().await;
        if let Some((t, until)) = &*slot
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let (
            Credentials::Bearer {
                token_path,
                client_id,
                client_secret,
            },
            Some(style),
        ) = (&access.auth, &self.def.token)
        else {
            return Err(SourceError::NotConfigured);
        };
        let url = format!("{}{}", access.base_url.trim_end_matches('/'), token_path);
        let req = match style.request {
            TokenRequest::Oauth2Form => self.client.post(&url).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_secret", client_secret.as_str()),
            ]),
            TokenRequest::JsonApp => self
                .client
                .post(&url)
                .json(&json!({"appId": client_id, "appSecret": client_secret})),
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let res = tokio::time::timeout(left, req.send())
            .await
            .map_err(|_| SourceError::Timeout)?
            .map_err(|e| SourceError::Failed(e.without_url().to_string()))?;
        if res.status().as_u16() == 401 || res.status().as_u16() == 400 {
            return Err(SourceError::Unauthorized);
        }
        if !res.status().is_success() {
            return Err(SourceError::Failed(format!(
                "token endpoint: HTTP {}",
                res.status()
            )));
        }
        let body: Value = res
            .json()
            .await
            .map_err(|e| SourceError::Failed(format!("token endpoint: {e}")))?;
        let token = at(&body, &style.token_path)
            .and_then(Value::as_str)
            .ok_or_else(|| SourceError::Failed("token endpoint: no token in the answer".into()))?
            .to_string();
        let ttl = style
            .expires_path
            .as_deref()
            .and_then(|p| at(&body, p))
            .and_then(Value::as_u64)
            .unwrap_or(300);
        let until = Instant::now() + Duration::from_secs(ttl.saturating_sub(30).max(1));
        *slot = Some((token.clone(), until));
        Ok(token)
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The body template with every string `"{id}"` replaced.
fn fill(v: &Value, id: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("{id}", id)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, id)).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), fill(x, id))).collect())
        }
        other => other.clone(),
    }
}

fn holds(c: &Condition, v: &Value) -> bool {
    holds_for(c, v, "")
}

/// `holds`, with `"{id}"` in the expected value standing for the subject's identifier.
fn holds_for(c: &Condition, v: &Value, id: &str) -> bool {
    let expected = scalar_text(&c.equals).map(|e| e.replace("{id}", id));
    at(v, &c.path).and_then(scalar_text) == expected
}

/// Element values from an answer, by the lookup's field maps. A field whose value is absent
/// or does not convert gives no value rather than a wrong one.
pub fn map_fields(
    lookup: &Lookup,
    answer: &Value,
    id: &str,
    today: chrono::NaiveDate,
) -> Map<String, Value> {
    let mut out = Map::new();
    let records: Vec<Value> = if lookup.list {
        list_at(answer, &lookup.record)
    } else {
        at(answer, &lookup.record).cloned().into_iter().collect()
    };
    for f in &lookup.fields {
        if let Some(v) = field_value(f, answer, &records, id, today) {
            out.insert(f.element.clone(), v);
        }
    }
    out
}

fn field_value(
    f: &FieldMap,
    answer: &Value,
    records: &[Value],
    id: &str,
    today: chrono::NaiveDate,
) -> Option<Value> {
    if let Some(root_path) = f.path.strip_prefix('/') {
        return convert(f, at(answer, root_path)?, today);
    }
    let chosen: Vec<&Value> = records
        .iter()
        .filter(|r| f.filter.as_ref().is_none_or(|c| holds(c, r)))
        .collect();
    match f.aggregate.unwrap_or(Aggregate::First) {
        Aggregate::Count => Some(json!(chosen.len())),
        Aggregate::Exists => Some(json!(!chosen.is_empty())),
        Aggregate::Sum => {
            let total: f64 = chosen
                .iter()
                .filter_map(|r| at(r, &f.path))
                .filter_map(number)
                .sum();
            convert(f, &json!(total), today)
        }
        Aggregate::First if !f.choose.is_empty() => {
            let record = chosen.first()?;
            let arm = f.choose.iter().find(|c| holds_for(&c.when, record, id))?;
            convert(f, at(record, &arm.path)?, today)
        }
        Aggregate::First => convert(f, at(chosen.first()?, &f.path)?, today),
    }
}

fn convert(f: &FieldMap, v: &Value, today: chrono::NaiveDate) -> Option<Value> {
    if v.is_null() {
        return None;
    }
    if let Some(fmt) = &f.date {
        let day = parse_date(v, &date_format(fmt).ok()?)?;
        return Some(match f.derive {
            Some(Derive::Age) => json!(age_on(day, today)),
            None => json!(day.format("%Y-%m-%d").to_string()),
        });
    }
    if let Some(map) = &f.map {
        let mapped = map.get(&scalar_text(v)?)?;
        return Some(match mapped.as_str() {
            "true" => json!(true),
            "false" => json!(false),
            code => json!(code),
        });
    }
    let n = || number(v).map(|n| n * f.scale.unwrap_or(1.0));
    match f.kind? {
        ElementType::Integer => Some(json!(n()?.round() as i64)),
        ElementType::Money => Some(json!((n()? * 100.0).round() / 100.0)),
        ElementType::Number => Some(json!(n()?)),
        ElementType::Boolean => match v {
            Value::Bool(b) => Some(json!(*b)),
            _ => match scalar_text(v)?.as_str() {
                "true" | "1" | "Y" | "是" => Some(json!(true)),
                "false" | "0" | "N" | "否" => Some(json!(false)),
                _ => None,
            },
        },
        _ => Some(json!(scalar_text(v)?)),
    }
}
