//! Applications as the person sees them before submitting: what is applied for, the answers
//! so far, and which answers came from where.

use std::collections::BTreeMap;

use catalog::flow::{Answers, Flow};
use catalog::{Applicant, Catalog, MergeError};
use chrono::{DateTime, Utc};
use identity::{Account, Holder};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What an application is for: one item, or a bundle with the optional items chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Item(String),
    Bundle { code: String, optional: Vec<String> },
}

impl Target {
    pub fn code(&self) -> &str {
        match self {
            Target::Item(c) | Target::Bundle { code: c, .. } => c,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Target::Item(_) => "item",
            Target::Bundle { .. } => "bundle",
        }
    }

    /// The form of the target in the given catalog version.
    pub fn flow(&self, c: &Catalog) -> Result<Flow, MergeError> {
        match self {
            Target::Item(code) => c
                .item_flow(code)
                .ok_or_else(|| MergeError::UnknownBundle(code.clone())),
            Target::Bundle { code, optional } => c.bundle_flow(code, optional),
        }
    }

    /// Name of the item or bundle (Chinese, English), if the catalog still has it.
    pub fn name(&self, c: &Catalog) -> Option<(String, Option<String>)> {
        match self {
            Target::Item(code) => c.item(code).map(|i| (i.name.clone(), i.name_en.clone())),
            Target::Bundle { code, .. } => {
                c.bundle(code).map(|b| (b.name.clone(), b.name_en.clone()))
            }
        }
    }

    /// Who may apply: a bundle is for the kind of applicant its required items are for.
    pub fn applicant(&self, c: &Catalog) -> Option<Applicant> {
        match self {
            Target::Item(code) => c.item(code).map(|i| i.applicant),
            Target::Bundle { code, .. } => {
                let b = c.bundle(code)?;
                let kinds: Vec<Applicant> = b
                    .items
                    .iter()
                    .filter(|bi| bi.required)
                    .filter_map(|bi| c.item(&bi.item).map(|i| i.applicant))
                    .collect();
                Some(if kinds.contains(&Applicant::Company) {
                    Applicant::Company
                } else if kinds.iter().all(|k| *k == Applicant::Both) && !kinds.is_empty() {
                    Applicant::Both
                } else {
                    Applicant::Person
                })
            }
        }
    }
}

/// Where a prefilled answer came from, and whether the applicant may change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefilled {
    pub source: String,
    pub source_en: String,
    /// Verified facts (the applicant's own name and ID number) cannot be changed in a form.
    pub locked: bool,
}

/// The stages of an application. Only drafts exist so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::Draft => "draft",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        match s {
            "draft" => Some(State::Draft),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Application {
    pub id: String,
    pub applicant_id: String,
    pub target: Target,
    pub answers: Answers,
    pub prefill: BTreeMap<String, Prefilled>,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Application {
    pub fn locked(&self) -> Vec<String> {
        self.prefill
            .iter()
            .filter(|(_, p)| p.locked)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// May this account apply for something that is for `applicant`?
pub fn may_apply(account: &Account, applicant: Applicant) -> bool {
    matches!(
        (&account.holder, applicant),
        (Holder::Citizen { .. }, Applicant::Person | Applicant::Both)
            | (Holder::Company { .. }, Applicant::Company | Applicant::Both)
    )
}

/// Answers known from the applicant's verified account, for the elements `flow` asks.
pub fn prefill_from_account(
    account: &Account,
    flow: &Flow,
) -> (Answers, BTreeMap<String, Prefilled>) {
    let verified = |locked| Prefilled {
        source: "实名认证信息".into(),
        source_en: "Your verified account".into(),
        locked,
    };
    let mut known: Vec<(&str, serde_json::Value, bool)> = Vec::new();
    match &account.holder {
        Holder::Citizen { id_number } => {
            known.push(("person.name", json!(account.name), true));
            known.push(("person.id_number", json!(id_number.as_str()), true));
            known.push((
                "person.birth_date",
                json!(id_number.birth_date().format("%Y-%m-%d").to_string()),
                true,
            ));
            let gender = if id_number.is_male() { "1" } else { "2" };
            known.push(("person.gender", json!(gender), true));
            if let Some(p) = &account.phone {
                known.push(("person.phone", json!(p.as_str()), false));
            }
        }
        Holder::Company { credit_code } => {
            known.push(("company.name", json!(account.name), true));
            known.push(("company.credit_code", json!(credit_code.as_str()), true));
            if let Some(p) = &account.phone {
                known.push(("company.contact_phone", json!(p.as_str()), false));
            }
        }
        Holder::Staff { .. } => {}
    }
    let asked = |element: &str| {
        flow.screens()
            .iter()
            .any(|s| s.questions.iter().any(|q| q.element == element))
    };
    let mut answers = Answers::new();
    let mut prefill = BTreeMap::new();
    for (element, value, locked) in known {
        if asked(element) {
            answers.insert(element.to_string(), value);
            prefill.insert(element.to_string(), verified(locked));
        }
    }
    (answers, prefill)
}
