//! Connector definitions: for each department system, how to ask it about a subject and
//! which data element each field of its answer is. YAML files (format: docs/exchange.md),
//! checked as a whole against the catalog's data elements before any is used.
//!
//! Where a system is and its credentials are not in these files: they are deployment
//! secrets, given by an access file (see [`Access`]).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use catalog::{Catalog, ElementType};
use serde::Deserialize;
use serde_json::Value;

use crate::extract::DateFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Xml,
}

/// Who a lookup is about, and so which identifier fills `{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// By resident ID number.
    Person,
    /// By unified social credit code.
    Company,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    None,
    ApiKey,
    Basic,
    ClientSecret,
    Bearer,
    Hmac,
}

/// How a bearer token is obtained from the system's token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenStyle {
    /// `oauth2_form`: a form with grant_type=client_credentials, client_id, client_secret;
    /// `json_app`: a JSON body `{"appId","appSecret"}`.
    pub request: TokenRequest,
    /// Where the token is in the answer (`access_token`, `data.accessToken`).
    pub token_path: String,
    /// Where its lifetime in seconds is, if the answer says.
    #[serde(default)]
    pub expires_path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenRequest {
    Oauth2Form,
    JsonApp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
}

/// A test on the answer: the value at `path` equals `equals` (compared as text, so `0` and
/// `"0"` are the same code).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub path: String,
    pub equals: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// The first record (after `where`).
    First,
    /// How many records.
    Count,
    /// Whether there is any.
    Exists,
    /// The sum of the numbers at `path`.
    Sum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Derive {
    /// Whole years from the date to today.
    Age,
}

/// One data element from the answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    pub element: String,
    /// Path in the record; a leading `/` means from the top of the answer instead.
    #[serde(default)]
    pub path: String,
    /// `epoch_ms`, or a chrono pattern such as `%Y%m%d`.
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub derive: Option<Derive>,
    /// The source's values to the element's codes.
    #[serde(default)]
    pub map: Option<BTreeMap<String, String>>,
    /// A factor: 10000 turns 万元 into yuan.
    #[serde(default)]
    pub scale: Option<f64>,
    /// For list lookups: how the records become one value (default `first`).
    #[serde(default)]
    pub aggregate: Option<Aggregate>,
    /// For list lookups: only the records where this holds.
    #[serde(default, rename = "where")]
    pub filter: Option<Condition>,
    /// Paths tried in order, each under a condition on the record; instead of `path`. In
    /// conditions `"{id}"` is the subject's identifier, so "the other party" of a record
    /// naming two people can be read whichever of them is asked about.
    #[serde(default)]
    pub choose: Vec<Choice>,
    /// The element's type, filled in from the catalog when the connectors are checked.
    #[serde(skip)]
    pub kind: Option<ElementType>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub when: Condition,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    pub key: String,
    pub subject: SubjectKind,
    #[serde(default = "get")]
    pub method: Method,
    /// Path and query, `{id}` standing for the subject's identifier.
    pub path: String,
    /// A JSON body for POST, its string `"{id}"` replaced by the identifier.
    #[serde(default)]
    pub body: Option<Value>,
    /// Whether a failed call may be repeated; reads are, so GET defaults to yes.
    #[serde(default)]
    pub idempotent: Option<bool>,
    /// HTTP statuses that mean "no record of this subject" (default 404).
    #[serde(default)]
    pub not_found_status: Option<Vec<u16>>,
    /// An answer meaning "no record", for systems that say it with a 200.
    #[serde(default)]
    pub not_found: Option<Condition>,
    /// What a good answer says; another answer is the system failing.
    #[serde(default)]
    pub ok: Option<Condition>,
    /// Where the record (or the list of records) is.
    #[serde(default)]
    pub record: String,
    #[serde(default)]
    pub list: bool,
    pub fields: Vec<FieldMap>,
}

fn get() -> Method {
    Method::Get
}

impl Lookup {
    pub fn is_idempotent(&self) -> bool {
        self.idempotent.unwrap_or(self.method == Method::Get)
    }

    pub fn not_found_statuses(&self) -> Vec<u16> {
        self.not_found_status.clone().unwrap_or_else(|| vec![404])
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breaker {
    /// Consecutive failures that open the circuit.
    pub failures: u32,
    /// Seconds it stays open before one trial call.
    pub open_s: u64,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            failures: 5,
            open_s: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connector {
    pub source: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// The catalog department that keeps the system.
    #[serde(default)]
    pub department: Option<String>,
    pub format: Format,
    pub auth: AuthKind,
    #[serde(default)]
    pub token: Option<TokenStyle>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Extra attempts for idempotent reads.
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default = "default_ttl")]
    pub cache_ttl_s: u64,
    /// The most calls per second the system accepts from us.
    #[serde(default = "default_rate")]
    pub rate_limit_per_s: f64,
    #[serde(default)]
    pub breaker: Breaker,
    pub lookups: Vec<Lookup>,
}

fn default_timeout() -> u64 {
    1500
}
fn default_retries() -> u32 {
    1
}
fn default_ttl() -> u64 {
    300
}
fn default_rate() -> f64 {
    50.0
}

#[derive(Debug, Deserialize)]
struct File {
    connectors: Vec<Connector>,
}

/// Every connector, checked together.
#[derive(Debug, Clone, Default)]
pub struct Connectors {
    pub list: Vec<Connector>,
    /// element code → (source, lookup key): each element has one authoritative source.
    pub by_element: HashMap<String, (String, String)>,
}

impl Connectors {
    pub fn load_dir(dir: &Path, catalog: &Catalog) -> Result<Connectors, Vec<String>> {
        let mut files: Vec<(String, String)> = Vec::new();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| vec![format!("{}: cannot read the folder: {e}", dir.display())])?;
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        paths.sort();
        for p in paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&p).map_err(|e| vec![format!("{name}: {e}")])?;
            files.push((name, text));
        }
        Connectors::load(&files, catalog)
    }

    /// Parses and checks connector files (name, YAML) against the catalog; all errors at once.
    pub fn load(files: &[(String, String)], catalog: &Catalog) -> Result<Connectors, Vec<String>> {
        let mut errors = Vec::new();
        let mut list: Vec<Connector> = Vec::new();
        for (i, (name, text)) in files.iter().enumerate() {
            match marked_yaml::from_yaml::<File>(i, text) {
                Ok(f) => list.extend(f.connectors),
                Err(e) => errors.push(format!("{name}: {e}")),
            }
        }
        for c in &mut list {
            for l in &mut c.lookups {
                for f in &mut l.fields {
                    f.kind = catalog.element(&f.element).map(|e| e.r#type);
                }
            }
        }
        let mut by_element: HashMap<String, (String, String)> = HashMap::new();
        let mut sources: Vec<&str> = Vec::new();
        for c in &list {
            let here = |m: String| format!("connector {}: {m}", c.source);
            if sources.contains(&c.source.as_str()) {
                errors.push(here("defined twice".into()));
            }
            sources.push(&c.source);
            if let Some(d) = &c.department
                && catalog.department(d).is_none()
            {
                errors.push(here(format!("unknown department {d}")));
            }
            if c.auth == AuthKind::Bearer && c.token.is_none() {
                errors.push(here("bearer auth needs `token` (how to obtain one)".into()));
            }
            if c.rate_limit_per_s.is_nan() || c.rate_limit_per_s <= 0.0 || c.timeout_ms == 0 {
                errors.push(here(
                    "rate_limit_per_s and timeout_ms must be positive".into(),
                ));
            }
            let mut keys: Vec<&str> = Vec::new();
            for l in &c.lookups {
                let here = |m: String| format!("connector {} lookup {}: {m}", c.source, l.key);
                if keys.contains(&l.key.as_str()) {
                    errors.push(here("defined twice".into()));
                }
                keys.push(&l.key);
                let in_body = l
                    .body
                    .as_ref()
                    .is_some_and(|b| b.to_string().contains("{id}"));
                if !l.path.starts_with('/') || !(l.path.contains("{id}") || in_body) {
                    errors.push(here(
                        "path must start with / and {id} must be in the path or the body".into(),
                    ));
                }
                for f in &l.fields {
                    if let Err(m) = check_field(catalog, l, f) {
                        errors.push(here(format!("{}: {m}", f.element)));
                    }
                    match by_element.get(&f.element) {
                        Some((s, k)) => errors.push(here(format!(
                            "{} already comes from {s}/{k}: each element has one source",
                            f.element
                        ))),
                        None => {
                            by_element.insert(f.element.clone(), (c.source.clone(), l.key.clone()));
                        }
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(Connectors { list, by_element })
        } else {
            Err(errors)
        }
    }

    pub fn connector(&self, source: &str) -> Option<&Connector> {
        self.list.iter().find(|c| c.source == source)
    }
}

/// Whether a field can give a value of its element's type.
fn check_field(c: &Catalog, l: &Lookup, f: &FieldMap) -> Result<(), String> {
    let el = c
        .element(&f.element)
        .ok_or_else(|| "not a data element of the catalog".to_string())?;
    let ty = el.r#type;
    if !l.list && (f.aggregate.is_some() || f.filter.is_some()) {
        return Err("aggregate and where are for list lookups".into());
    }
    if !f.choose.is_empty()
        && (!f.path.is_empty() || f.aggregate.is_some_and(|a| a != Aggregate::First))
    {
        return Err("choose takes the place of path, for the first record".into());
    }
    if let Some(d) = &f.date {
        date_format(d)?;
        let fits = ty == ElementType::Date
            || (f.derive == Some(Derive::Age) && ty == ElementType::Integer);
        if !fits {
            return Err(format!("a date cannot fill a {} element", ty.as_str()));
        }
    } else if f.derive.is_some() {
        return Err("derive: age needs the date format of the source (`date`)".into());
    }
    match f.aggregate {
        Some(Aggregate::Count) if ty != ElementType::Integer => {
            return Err(format!("count gives an integer, not {}", ty.as_str()));
        }
        Some(Aggregate::Exists) if ty != ElementType::Boolean => {
            return Err(format!("exists gives a boolean, not {}", ty.as_str()));
        }
        Some(Aggregate::Sum) if !ty.is_numeric() => {
            return Err(format!("sum gives a number, not {}", ty.as_str()));
        }
        _ => {}
    }
    if f.scale.is_some() && !ty.is_numeric() {
        return Err("scale is for numeric elements".into());
    }
    if let Some(map) = &f.map {
        if ty == ElementType::Code {
            let list = el.code_list.as_deref().and_then(|l| c.code_list(l));
            for code in map.values() {
                if !list.is_some_and(|l| l.values.iter().any(|v| &v.code == code)) {
                    return Err(format!("\"{code}\" is not in the element's code list"));
                }
            }
        }
        if ty == ElementType::Boolean && map.values().any(|v| v != "true" && v != "false") {
            return Err("a boolean element maps to \"true\" or \"false\"".into());
        }
    }
    Ok(())
}

pub fn date_format(s: &str) -> Result<DateFormat, String> {
    if s == "epoch_ms" {
        return Ok(DateFormat::EpochMillis);
    }
    if ["%Y", "%m", "%d"].iter().all(|p| s.contains(p)) {
        Ok(DateFormat::Pattern(s.to_string()))
    } else {
        Err(format!(
            "date format \"{s}\" needs %Y, %m and %d, or is epoch_ms"
        ))
    }
}

/// Where each system is and how to authenticate: the access file (JSON), in the shape of the
/// simulated systems' manifest: `{"systems":[{"key","base_url","auth":{"kind",…}}]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessFile {
    pub systems: Vec<SourceAccess>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SourceAccess {
    pub key: String,
    pub base_url: String,
    pub auth: Credentials,
}

/// Credentials as the access file gives them.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credentials {
    None,
    ApiKey {
        header: String,
        #[serde(default)]
        scheme: Option<String>,
        key: String,
    },
    ClientSecret {
        id_header: String,
        secret_header: String,
        client_id: String,
        client_secret: String,
    },
    Basic {
        username: String,
        password: String,
    },
    Bearer {
        token_path: String,
        client_id: String,
        client_secret: String,
    },
    Hmac {
        app_key: String,
        secret: String,
        key_header: String,
        timestamp_header: String,
        nonce_header: String,
        signature_header: String,
    },
}

impl Credentials {
    pub fn kind(&self) -> AuthKind {
        match self {
            Credentials::None => AuthKind::None,
            Credentials::ApiKey { .. } => AuthKind::ApiKey,
            Credentials::ClientSecret { .. } => AuthKind::ClientSecret,
            Credentials::Basic { .. } => AuthKind::Basic,
            Credentials::Bearer { .. } => AuthKind::Bearer,
            Credentials::Hmac { .. } => AuthKind::Hmac,
        }
    }
}

/// The access entries by source key.
pub fn access_by_key(file: AccessFile) -> HashMap<String, SourceAccess> {
    file.systems
        .into_iter()
        .map(|s| (s.key.clone(), s))
        .collect()
}
