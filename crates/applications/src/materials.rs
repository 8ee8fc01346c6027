//! Materials resolution: for each material of an item or a bundle, how this applicant will
//! provide it and why: an e-licence from their wallet, data the exchange fetched from the
//! department that keeps it, a commitment they sign, or a file they upload.
//!
//! Nothing is decided from the catalog alone: a licence counts only when the applicant holds
//! a valid one, and shared data only when every element of the material came back. Whatever
//! cannot be resolved falls back to an upload, with the reason in both languages.

use std::collections::BTreeMap;

use catalog::{Catalog, HolderKind, MergeError, Satisfaction};
use chrono::NaiveDate;
use exchange::{Answer, Exchange, Provided, Purpose, QueryError, Subject};
use identity::{Account, Holder};
use kernel::Msg;
use licences::Licences;
use serde::Serialize;

use crate::domain::Target;

/// A department system that provided some of the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRef {
    pub key: String,
    pub name: String,
}

/// How one material will be provided.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum How {
    /// A valid e-licence in the applicant's wallet.
    Licence {
        id: String,
        type_code: String,
        name: String,
        name_en: Option<String>,
    },
    /// Every element fetched through the exchange, each value with its provenance.
    SharedData {
        values: BTreeMap<String, Provided>,
        sources: Vec<SourceRef>,
    },
    /// The applicant signs this text instead of bringing proof.
    Commitment {
        text: String,
        text_en: Option<String>,
    },
    /// The applicant uploads a file. `retry_later`: the data exists somewhere the platform
    /// could not reach just now, so trying again later may spare the upload.
    Upload {
        accept: Vec<String>,
        retry_later: bool,
    },
}

/// One material of the target, resolved for one applicant.
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    pub material: String,
    pub name: String,
    pub name_en: Option<String>,
    pub required: bool,
    /// How the catalog says it may be satisfied.
    pub satisfied_by: Satisfaction,
    /// The item whose purpose any data lookup was made for.
    pub item: String,
    pub how: How,
    /// Why it is provided this way.
    pub reason: Msg,
}

impl Resolution {
    pub fn is_upload(&self) -> bool {
        matches!(self.how, How::Upload { .. })
    }

    /// A short label of how it is provided: "电子证照：结婚证（自动调取）".
    pub fn label(&self) -> Msg {
        match &self.how {
            How::Licence { name, name_en, .. } => Msg::owned(
                format!("电子证照：{name}（自动调取）"),
                format!(
                    "E-licence: {} (fetched for you)",
                    name_en.as_deref().unwrap_or(name)
                ),
            ),
            How::SharedData { sources, .. } => {
                let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
                Msg::owned(
                    format!("共享数据：{}（已核验）", names.join("、")),
                    format!("Shared data: {} (verified)", names.join(", ")),
                )
            }
            How::Commitment { .. } => Msg::new("承诺", "Commitment"),
            How::Upload {
                retry_later: true, ..
            } => Msg::new("需上传（或稍后再试）", "Upload (or try later)"),
            How::Upload { .. } => Msg::new("需上传", "Upload"),
        }
    }
}

/// The materials of a target for one applicant.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub materials: Vec<Resolution>,
    /// No required material is left to upload (零材料) for this applicant.
    pub zero_material: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no such item or bundle")]
    UnknownTarget,
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// Staff accounts apply for nothing, so hold no materials.
    #[error("the account is not a person or a business")]
    NotAnApplicant,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A material of the target with the item that lists it.
struct Wanted<'c> {
    def: &'c catalog::Material,
    item: String,
    required: bool,
}

fn wanted<'c>(c: &'c Catalog, target: &Target) -> Result<Vec<Wanted<'c>>, ResolveError> {
    let mut out = Vec::new();
    match target {
        Target::Item(code) => {
            let item = c.item(code).ok_or(ResolveError::UnknownTarget)?;
            for m in &item.materials {
                if let Some(def) = c.material(&m.material) {
                    out.push(Wanted {
                        def,
                        item: item.code.clone(),
                        required: m.required,
                    });
                }
            }
        }
        Target::Bundle { code, optional } => {
            let merged = c.merge(code, optional)?;
            for m in &merged.materials {
                let (Some(def), Some(item)) = (c.material(&m.material), m.items.first()) else {
                    continue;
                };
                // The first chosen item that lists the material asks for it; its purpose
                // covers the lookup.
                out.push(Wanted {
                    def,
                    item: item.clone(),
                    required: m.required,
                });
            }
        }
    }
    Ok(out)
}

/// Resolves every material of `target` for `account`: licences from the wallet, shared data
/// through the exchange (one query per item, for that item's purpose, so each access is
/// audited where the applicant can see it), commitments, uploads.
pub async fn resolve(
    catalog: &Catalog,
    exchange: &Exchange,
    licences: &Licences,
    account: &Account,
    target: &Target,
) -> Result<Resolved, ResolveError> {
    let (kind, subject) = match &account.holder {
        Holder::Citizen { id_number } => (HolderKind::Person, Subject::Person(id_number.clone())),
        Holder::Company { credit_code } => {
            (HolderKind::Company, Subject::Company(credit_code.clone()))
        }
        Holder::Staff { .. } => return Err(ResolveError::NotAnApplicant),
    };
    let wanted = wanted(catalog, target)?;

    let needs_wallet = wanted
        .iter()
        .any(|w| w.def.satisfied_by == Satisfaction::Licence);
    let wallet = if needs_wallet {
        licences.list_for_holder(kind, subject.id()).await?
    } else {
        Vec::new()
    };

    // One query per purpose item, with the elements of all its shared-data materials.
    let mut per_item: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for w in &wanted {
        if w.def.satisfied_by == Satisfaction::SharedData {
            per_item
                .entry(w.item.clone())
                .or_default()
                .extend(w.def.elements.iter().cloned());
        }
    }
    let requester = exchange::http::requester_of(account);
    let queries = per_item.iter().map(|(item, elements)| {
        let requester = &requester;
        let subject = &subject;
        async move {
            let purpose = Purpose::Item(item.clone());
            let res = exchange.query(requester, subject, elements, &purpose).await;
            (item.clone(), res)
        }
    });
    let mut answers: BTreeMap<String, Result<Answer, QueryError>> = BTreeMap::new();
    for (item, res) in futures::future::join_all(queries).await {
        match res {
            // The audit could not be written, so nothing was answered; not the applicant's
            // to fix by uploading.
            Err(QueryError::Db(e)) => return Err(ResolveError::Db(e)),
            other => {
                answers.insert(item, other);
            }
        }
    }

    let today = chrono::Utc::now().date_naive();
    let materials: Vec<Resolution> = wanted
        .into_iter()
        .map(|w| {
            let (how, reason) = match w.def.satisfied_by {
                Satisfaction::Licence => by_licence(catalog, w.def, &wallet, today),
                Satisfaction::SharedData => by_shared_data(catalog, w.def, answers.get(&w.item)),
                Satisfaction::Commitment => (
                    How::Commitment {
                        text: w.def.text.clone().unwrap_or_default(),
                        text_en: w.def.text_en.clone(),
                    },
                    Msg::new(
                        "签署承诺即可，无需提交证明材料",
                        "Signing the commitment replaces the proof",
                    ),
                ),
                Satisfaction::Upload => (
                    upload(w.def, false),
                    Msg::new(
                        "此材料只能由您上传",
                        "Only you can provide this material, as a file",
                    ),
                ),
            };
            Resolution {
                material: w.def.code.clone(),
                name: w.def.name.clone(),
                name_en: w.def.name_en.clone(),
                required: w.required,
                satisfied_by: w.def.satisfied_by,
                item: w.item,
                how,
                reason,
            }
        })
        .collect();
    let zero_material = !materials.iter().any(|r| r.required && r.is_upload());
    Ok(Resolved {
        materials,
        zero_material,
    })
}

fn upload(def: &catalog::Material, retry_later: bool) -> How {
    How::Upload {
        accept: def.accept.clone(),
        retry_later,
    }
}

fn by_licence(
    c: &Catalog,
    def: &catalog::Material,
    wallet: &[licences::Licence],
    today: NaiveDate,
) -> (How, Msg) {
    let type_code = def.licence_type.as_deref().unwrap_or_default();
    let (type_name, type_name_en) = c.licence_type(type_code).map_or_else(
        || (def.name.clone(), def.name_en.clone()),
        |t| (t.name.clone(), t.name_en.clone()),
    );
    let type_en = type_name_en.clone().unwrap_or_else(|| type_name.clone());
    let of_type: Vec<&licences::Licence> =
        wallet.iter().filter(|l| l.type_code == type_code).collect();
    // Revoked, cancelled, expired or not yet valid licences prove nothing.
    let valid = of_type
        .iter()
        .find(|l| l.state == licences::State::Valid && l.period_on(today).is_none());
    if let Some(l) = valid {
        return (
            How::Licence {
                id: l.id.as_str().to_string(),
                type_code: type_code.to_string(),
                name: type_name.clone(),
                name_en: type_name_en,
            },
            Msg::owned(
                format!("您的电子证照中有有效的{type_name}（{}）", l.id.as_str()),
                format!("Your wallet holds a valid {type_en} ({})", l.id.as_str()),
            ),
        );
    }
    let reason = match of_type.first() {
        Some(l) => {
            let (zh, en) = match l.state {
                licences::State::Revoked => ("已被撤销", "has been revoked"),
                licences::State::Cancelled => ("已被注销", "has been cancelled"),
                licences::State::Valid => ("不在有效期内", "is outside its validity period"),
            };
            Msg::owned(
                format!("钱包中没有有效的{type_name}：您的{type_name}{zh}"),
                format!("No valid {type_en} in your wallet: yours {en}"),
            )
        }
        None => Msg::owned(
            format!("钱包中没有有效的{type_name}"),
            format!("No valid {type_en} in your wallet"),
        ),
    };
    (upload(def, false), reason)
}

fn element_names(c: &Catalog, codes: &[&String]) -> (String, String) {
    let zh: Vec<String> = codes
        .iter()
        .map(|e| {
            c.element(e)
                .map_or_else(|| (*e).clone(), |el| el.name.clone())
        })
        .collect();
    let en: Vec<String> = codes
        .iter()
        .map(|e| {
            c.element(e).map_or_else(
                || (*e).clone(),
                |el| el.name_en.clone().unwrap_or_else(|| el.name.clone()),
            )
        })
        .collect();
    (zh.join("、"), en.join(", "))
}

fn by_shared_data(
    c: &Catalog,
    def: &catalog::Material,
    answer: Option<&Result<Answer, QueryError>>,
) -> (How, Msg) {
    let answer = match answer {
        Some(Ok(a)) => a,
        Some(Err(e)) => return (upload(def, false), e.message()),
        None => {
            return (
                upload(def, false),
                Msg::new("未能查询共享数据", "The shared data could not be asked for"),
            );
        }
    };
    let mine = |list: &[String]| -> Vec<&String> {
        def.elements.iter().filter(|e| list.contains(e)).collect()
    };
    let down: Vec<&exchange::query::Unavailable> = answer
        .unavailable
        .iter()
        .filter(|u| u.elements.iter().any(|e| def.elements.contains(e)))
        .collect();
    if !down.is_empty() {
        let names: Vec<&str> = down.iter().map(|u| u.source_name.as_str()).collect();
        return (
            upload(def, true),
            Msg::owned(
                format!(
                    "部门系统（{}）暂时无法访问，您可以改为上传，或稍后再试",
                    names.join("、")
                ),
                format!(
                    "The department system is not reachable now ({}); you may upload it instead or try later",
                    names.join(", ")
                ),
            ),
        );
    }
    let no_record = mine(&answer.no_record);
    if !no_record.is_empty() {
        let (zh, en) = element_names(c, &no_record);
        return (
            upload(def, false),
            Msg::owned(
                format!("部门系统中没有您的相关记录（{zh}），请上传"),
                format!("The department holds no record of yours for: {en}; please upload it"),
            ),
        );
    }
    let missing: Vec<&String> = def
        .elements
        .iter()
        .filter(|e| !answer.values.contains_key(*e))
        .collect();
    if !missing.is_empty() {
        let (zh, en) = element_names(c, &missing);
        return (
            upload(def, false),
            Msg::owned(
                format!("部分数据尚未接入共享（{zh}），请上传"),
                format!("Some of the data is not shared yet ({en}); please upload it"),
            ),
        );
    }
    let mut values = BTreeMap::new();
    let mut sources: Vec<SourceRef> = Vec::new();
    for e in &def.elements {
        let p = answer.values[e].clone();
        if !sources.iter().any(|s| s.key == p.source) {
            sources.push(SourceRef {
                key: p.source.clone(),
                name: p.source_name.clone(),
            });
        }
        values.insert(e.clone(), p);
    }
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    let reason = Msg::owned(
        format!("已从{}调取并核验，无需提交", names.join("、")),
        format!(
            "Fetched from {} and verified: nothing to bring",
            names.join(", ")
        ),
    );
    (How::SharedData { values, sources }, reason)
}
