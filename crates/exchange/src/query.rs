//! Queries: values of data elements about a subject, for a declared purpose, from the
//! systems that hold them, in parallel and within a deadline, each value with where it came
//! from. Every query, answered or refused, is appended to the audit chain.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::{CatalogService, Satisfaction};
use chrono::{DateTime, Utc};
use kernel::{CreditCode, Db, IdNumber, Msg};
use serde::Serialize;
use serde_json::{Value, json};

use crate::audit::{self, NewEntry};
use crate::connector::{Connectors, SourceAccess, SubjectKind};
use crate::source::{Source, SourceError};

/// Whose data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Person(IdNumber),
    Company(CreditCode),
}

impl Subject {
    pub fn kind(&self) -> SubjectKind {
        match self {
            Subject::Person(_) => SubjectKind::Person,
            Subject::Company(_) => SubjectKind::Company,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Subject::Person(i) => i.as_str(),
            Subject::Company(c) => c.as_str(),
        }
    }

    fn kind_code(&self) -> &'static str {
        match self {
            Subject::Person(_) => "person",
            Subject::Company(_) => "company",
        }
    }
}

/// Why the data is wanted. Its declared sharing needs bound what may be asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Applying for, or handling, a service item: its `shared_data` and the elements of its
    /// shared-data materials.
    Item(String),
    /// Checking a name against the population registry when an account is created.
    RealNameCheck,
}

impl Purpose {
    fn kind(&self) -> &'static str {
        match self {
            Purpose::Item(_) => "item",
            Purpose::RealNameCheck => "sign_up",
        }
    }

    fn reference(&self) -> String {
        match self {
            Purpose::Item(c) => c.clone(),
            Purpose::RealNameCheck => String::new(),
        }
    }
}

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// A person about themselves.
    Citizen {
        account_id: String,
        id_number: String,
    },
    /// A business about itself.
    Company {
        account_id: String,
        credit_code: String,
    },
    /// A member of staff, for their work.
    Staff { account_id: String, label: String },
    /// The platform itself (real-name checks at sign-up).
    System(&'static str),
}

impl Requester {
    fn actor(&self) -> (String, String, &'static str) {
        match self {
            Requester::Citizen { account_id, .. } => {
                (account_id.clone(), "本人 Self".into(), "citizen")
            }
            Requester::Company { account_id, .. } => {
                (account_id.clone(), "本单位 The business".into(), "company")
            }
            Requester::Staff { account_id, label } => (account_id.clone(), label.clone(), "staff"),
            Requester::System(what) => (format!("system:{what}"), (*what).to_string(), "system"),
        }
    }
}

/// A value with its provenance.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Provided {
    #[schema(value_type = Object)]
    pub value: Value,
    pub source: String,
    pub source_name: String,
    pub fetched_at: DateTime<Utc>,
    pub cached: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Unavailable {
    pub source: String,
    pub source_name: String,
    pub reason: &'static str,
    pub elements: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Answer {
    pub values: BTreeMap<String, Provided>,
    /// Sources that did not answer in time or failed; their elements are missing.
    pub unavailable: Vec<Unavailable>,
    /// Elements whose source has no record of the subject.
    pub no_record: Vec<String>,
    /// Elements no connected system provides.
    pub not_held: Vec<String>,
    pub audit_seq: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("the purpose does not cover {0:?}")]
    NotCovered(Vec<String>),
    #[error("unknown purpose")]
    UnknownPurpose,
    #[error("may not query another's data")]
    NotYours,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl QueryError {
    pub fn message(&self) -> Msg {
        match self {
            QueryError::NotCovered(list) => Msg::owned(
                format!("办事用途未声明需要这些数据：{}", list.join("、")),
                format!(
                    "The purpose does not declare a need for: {}",
                    list.join(", ")
                ),
            ),
            QueryError::UnknownPurpose => {
                Msg::new("没有这个办事事项", "There is no such service item")
            }
            QueryError::NotYours => Msg::new(
                "只能查询本人（本单位）的数据",
                "You may only query your own data",
            ),
            QueryError::Db(_) => Msg::new("系统繁忙，请稍后再试", "Please try again later"),
        }
    }
}

struct Inner {
    db: Db,
    catalog: CatalogService,
    connectors: Connectors,
    sources: HashMap<String, Source>,
    deadline: Duration,
}

/// The exchange: cheap to clone, shared by every handler.
#[derive(Clone)]
pub struct Exchange {
    inner: Arc<Inner>,
}

impl Exchange {
    /// `access` says where each system is; a connector without access answers
    /// `not_configured`.
    pub fn new(
        db: Db,
        catalog: CatalogService,
        connectors: Connectors,
        access: HashMap<String, SourceAccess>,
        deadline: Duration,
    ) -> Exchange {
        let sources = connectors
            .list
            .iter()
            .map(|c| {
                (
                    c.source.clone(),
                    Source::new(c.clone(), access.get(&c.source).cloned()),
                )
            })
            .collect();
        Exchange {
            inner: Arc::new(Inner {
                db,
                catalog,
                connectors,
                sources,
                deadline,
            }),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn catalog(&self) -> &CatalogService {
        &self.inner.catalog
    }

    /// The circuit of each source: `closed`, `open` or `half_open`.
    pub fn circuits(&self) -> BTreeMap<String, &'static str> {
        self.inner
            .sources
            .iter()
            .map(|(k, s)| (k.clone(), s.circuit()))
            .collect()
    }

    /// The elements the purpose allows.
    pub fn allowed(&self, purpose: &Purpose) -> Result<Vec<String>, QueryError> {
        match purpose {
            Purpose::RealNameCheck => Ok(vec!["person.name".into()]),
            Purpose::Item(code) => {
                let c = self.inner.catalog.current();
                let item = c.item(code).ok_or(QueryError::UnknownPurpose)?;
                let mut out = item.shared_data.clone();
                for m in &item.materials {
                    if let Some(def) = c.material(&m.material)
                        && def.satisfied_by == Satisfaction::SharedData
                    {
                        out.extend(def.elements.iter().cloned());
                    }
                }
                out.sort();
                out.dedup();
                Ok(out)
            }
        }
    }

    /// Values of `elements` about `subject` for `purpose`, asked by `requester`.
    pub async fn query(
        &self,
        requester: &Requester,
        subject: &Subject,
        elements: &[String],
        purpose: &Purpose,
    ) -> Result<Answer, QueryError> {
        let mut elements: Vec<String> = elements.to_vec();
        elements.sort();
        elements.dedup();
        if let Err(e) = self.check(requester, subject, &elements, purpose) {
            self.audit(
                requester,
                subject,
                &elements,
                purpose,
                "refused",
                json!({"reason": e.to_string()}),
            )
            .await?;
            return Err(e);
        }
        let deadline = Instant::now() + self.inner.deadline;
        // One call per lookup, whatever the number of its elements asked.
        let mut calls: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let mut not_held = Vec::new();
        for e in &elements {
            match self.inner.connectors.by_element.get(e) {
                Some((source, lookup)) => calls
                    .entry((source.clone(), lookup.clone()))
                    .or_default()
                    .push(e.clone()),
                None => not_held.push(e.clone()),
            }
        }
        let futures = calls.iter().map(|((source, lookup), wanted)| {
            let src = &self.inner.sources[source];
            let lk = src
                .def
                .lookups
                .iter()
                .find(|l| &l.key == lookup)
                .expect("by_element names a lookup of its connector");
            async move {
                let res = if lk.subject != subject.kind() {
                    Err(None)
                } else {
                    src.fetch(lk, subject.id(), deadline).await.map_err(Some)
                };
                (source.clone(), src.def.name.clone(), wanted.clone(), res)
            }
        });
        let results = futures::future::join_all(futures).await;
        let mut answer = Answer {
            values: BTreeMap::new(),
            unavailable: Vec::new(),
            no_record: Vec::new(),
            not_held,
            audit_seq: 0,
        };
        let mut detail = serde_json::Map::new();
        for (source, source_name, wanted, res) in results {
            match res {
                Ok(f) if f.not_found => {
                    detail.insert(source.clone(), json!("no_record"));
                    answer.no_record.extend(wanted);
                }
                Ok(f) => {
                    detail.insert(
                        source.clone(),
                        json!(if f.cached { "cached" } else { "fresh" }),
                    );
                    for e in wanted {
                        match f.values.get(&e) {
                            Some(v) => {
                                answer.values.insert(
                                    e,
                                    Provided {
                                        value: v.clone(),
                                        source: source.clone(),
                                        source_name: source_name.clone(),
                                        fetched_at: f.fetched_at,
                                        cached: f.cached,
                                    },
                                );
                            }
                            None => answer.no_record.push(e),
                        }
                    }
                }
                // The element is about another kind of subject than the one asked about.
                Err(None) => answer.not_held.extend(wanted),
                Err(Some(e)) => {
                    let reason = e.code();
                    if !matches!(e, SourceError::NotConfigured) {
                        tracing::warn!(source = %source, reason, "source unavailable");
                    }
                    detail.insert(source.clone(), json!(reason));
                    answer.unavailable.push(Unavailable {
                        source,
                        source_name,
                        reason,
                        elements: wanted,
                    });
                }
            }
        }
        let outcome = if answer.unavailable.is_empty() {
            "ok"
        } else {
            "partial"
        };
        answer.audit_seq = self
            .audit(
                requester,
                subject,
                &elements,
                purpose,
                outcome,
                Value::Object(detail),
            )
            .await?;
        Ok(answer)
    }

    fn check(
        &self,
        requester: &Requester,
        subject: &Subject,
        elements: &[String],
        purpose: &Purpose,
    ) -> Result<(), QueryError> {
        let own = match requester {
            Requester::Citizen { id_number, .. } => Some(id_number.as_str()),
            Requester::Company { credit_code, .. } => Some(credit_code.as_str()),
            Requester::Staff { .. } | Requester::System(_) => None,
        };
        if own.is_some_and(|own| own != subject.id()) {
            return Err(QueryError::NotYours);
        }
        if *purpose == Purpose::RealNameCheck && !matches!(requester, Requester::System(_)) {
            return Err(QueryError::UnknownPurpose);
        }
        let allowed = self.allowed(purpose)?;
        let outside: Vec<String> = elements
            .iter()
            .filter(|e| !allowed.contains(e))
            .cloned()
            .collect();
        if outside.is_empty() {
            Ok(())
        } else {
            Err(QueryError::NotCovered(outside))
        }
    }

    async fn audit(
        &self,
        requester: &Requester,
        subject: &Subject,
        elements: &[String],
        purpose: &Purpose,
        outcome: &str,
        detail: Value,
    ) -> Result<i64, sqlx::Error> {
        let (actor, actor_label, actor_kind) = requester.actor();
        let entry = NewEntry {
            actor,
            actor_label,
            actor_kind: actor_kind.into(),
            subject_kind: subject.kind_code().into(),
            subject_id: subject.id().to_string(),
            purpose_kind: purpose.kind().into(),
            purpose_ref: purpose.reference(),
            elements: elements.to_vec(),
            outcome: outcome.into(),
            detail,
        };
        audit::append(&self.inner.db, &entry, Utc::now()).await
    }

    /// Checks a name against the population registry: `Some(true)` when it matches,
    /// `Some(false)` when the registry knows the ID number under another name or not at all,
    /// `None` when the registry could not be asked.
    pub async fn real_name_matches(
        &self,
        id: &IdNumber,
        name: &str,
    ) -> Result<Option<bool>, QueryError> {
        let answer = self
            .query(
                &Requester::System("实名核验 real-name check"),
                &Subject::Person(id.clone()),
                &["person.name".to_string()],
                &Purpose::RealNameCheck,
            )
            .await?;
        if let Some(p) = answer.values.get("person.name") {
            return Ok(Some(p.value.as_str() == Some(name.trim())));
        }
        if answer.no_record.iter().any(|e| e == "person.name") {
            return Ok(Some(false));
        }
        Ok(None)
    }
}

/// Real-name binding for identity: the population registry through the exchange.
impl identity::RealNameCheck for Exchange {
    fn check<'a>(
        &'a self,
        id_number: &'a IdNumber,
        name: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = identity::RealName> + Send + 'a>> {
        Box::pin(async move {
            match self.real_name_matches(id_number, name).await {
                Ok(Some(true)) => identity::RealName::Matches,
                Ok(Some(false)) => identity::RealName::Mismatch,
                Ok(None) => identity::RealName::Unavailable,
                Err(e) => {
                    tracing::error!(error = %e, "real-name check failed");
                    identity::RealName::Unavailable
                }
            }
        })
    }
}

impl Exchange {
    /// Whether a source has access configured (the real-name check needs `police`).
    pub fn has_source(&self, source: &str) -> bool {
        self.inner
            .sources
            .get(source)
            .is_some_and(Source::is_configured)
    }
}
