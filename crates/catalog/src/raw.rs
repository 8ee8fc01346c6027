//! The parse layer: one serde struct per definition, as written in the YAML, with spans on
//! every value an error may need to point at. Unknown keys are refused everywhere so that a
//! misspelt key is an error rather than a silently missing setting.

use marked_yaml::Spanned;
use serde::Deserialize;

use crate::model::{
    Applicant, DataLevel, DeptLevel, ElementType, HolderKind, ItemKind, Satisfaction,
};

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDepartment {
    pub code: S<String>,
    pub name: S<String>,
    pub name_en: Option<S<String>>,
    pub level: S<DeptLevel>,
    pub parent: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLifeEvent {
    pub code: S<String>,
    pub name: S<String>,
    pub name_en: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCodeList {
    pub code: S<String>,
    pub name: S<String>,
    pub name_en: Option<S<String>>,
    pub values: S<Vec<RawCodeValue>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCodeValue {
    pub code: S<String>,
    pub name: S<String>,
    pub name_en: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawElement {
    pub code: S<String>,
    pub name: S<String>,
    pub name_en: Option<S<String>>,
    #[serde(rename = "type")]
    pub r#type: S<ElementType>,
    pub level: S<DataLevel>,
    pub code_list: Option<S<String>>,
    pub min_length: Option<S<u64>>,
    pub max_length: Option<S<u64>>,
    pub pattern: Option<S<String>>,
    pub hint: Option<S<String>>,
    pub hint_en: Option<S<String>>,
    pub minimum: Option<S<f64>>,
    pub maximum: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaterial {
    pub code: S<String>,
    pub name: S<String>,
    pub name_en: Option<S<String>>,
    pub satisfied_by: S<Satisfaction>,
    pub elements: Option<S<Vec<S<String>>>>,
    pub licence_type: Option<S<String>>,
    pub text: Option<S<String>>,
    pub text_en: Option<S<String>>,
    pub accept: Option<S<Vec<S<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLicenceType {
    pub code: S<String>,
    pub name: S<String>,
    pub name_en: Option<S<String>>,
    pub type_code: S<String>,
    pub issuer: S<String>,
    pub holder: S<HolderKind>,
    /// A number of years, or `none` for a permanent licence; checked, not parsed, here.
    pub validity: S<String>,
    pub elements: S<Vec<S<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub code: S<String>,
    pub expr: S<String>,
    pub message: S<String>,
    pub message_en: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConditions {
    pub text: Option<S<String>>,
    pub text_en: Option<S<String>>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    pub element: S<String>,
    pub required: Option<S<bool>>,
    pub label: Option<S<String>>,
    pub label_en: Option<S<String>>,
    pub when: Option<S<String>>,
    #[serde(rename = "type")]
    pub r#type: Option<S<ElementType>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPage {
    pub title: S<String>,
    pub title_en: Option<S<String>>,
    pub fields: S<Vec<RawField>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawForm {
    pub pages: Vec<RawPage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawItemMaterial {
    pub material: S<String>,
    pub required: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeLimit {
    pub legal: Option<S<i64>>,
    pub promised: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFee {
    pub amount: S<f64>,
    pub basis: Option<S<String>>,
    pub basis_en: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResult {
    pub name: S<String>,
    pub name_en: Option<S<String>>,
    pub licence_type: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhones {
    pub consult: Option<S<String>>,
    pub complaint: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawItem {
    pub code: S<String>,
    pub name: S<String>,
    pub name_en: Option<S<String>>,
    #[serde(default)]
    pub aliases: Vec<S<String>>,
    #[serde(default)]
    pub keywords: Vec<S<String>>,
    pub department: S<String>,
    pub kind: S<ItemKind>,
    pub applicant: S<Applicant>,
    #[serde(default)]
    pub life_events: Vec<S<String>>,
    #[serde(default)]
    pub legal_basis: Vec<S<String>>,
    pub conditions: Option<RawConditions>,
    #[serde(default)]
    pub shared_data: Vec<S<String>>,
    pub form: RawForm,
    #[serde(default)]
    pub materials: Vec<RawItemMaterial>,
    #[serde(default)]
    pub process: Vec<S<String>>,
    pub time_limit: Option<RawTimeLimit>,
    pub fee: Option<RawFee>,
    pub result: Option<RawResult>,
    pub online_depth: S<i64>,
    pub visits: S<i64>,
    pub instant: Option<S<bool>>,
    pub window: Option<S<String>>,
    pub phones: Option<RawPhones>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBundleItem {
    pub item: S<String>,
    pub required: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBundle {
    pub code: S<String>,
    pub name: S<String>,
    pub name_en: Option<S<String>>,
    #[serde(default)]
    pub aliases: Vec<S<String>>,
    #[serde(default)]
    pub keywords: Vec<S<String>>,
    #[serde(default)]
    pub life_events: Vec<S<String>>,
    pub description: Option<S<String>>,
    pub description_en: Option<S<String>>,
    pub items: S<Vec<RawBundleItem>>,
    #[serde(default)]
    pub includes: Vec<S<String>>,
    pub time_limit: Option<RawTimeLimit>,
}
