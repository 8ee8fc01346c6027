//! The validated domain model. Values of these types come only from a catalog that loaded
//! without a single error, so every reference in them resolves.

use serde::{Deserialize, Serialize};

/// The level of a department. Ordered from the top: a department's level is its parent's or
/// the one just below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeptLevel {
    City,
    District,
    Subdistrict,
    Community,
}

impl DeptLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            DeptLevel::City => "city",
            DeptLevel::District => "district",
            DeptLevel::Subdistrict => "subdistrict",
            DeptLevel::Community => "community",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            DeptLevel::City => "市级",
            DeptLevel::District => "区县级",
            DeptLevel::Subdistrict => "街道（乡镇）级",
            DeptLevel::Community => "社区（村）级",
        }
    }

    /// 0 for the city, 3 for a community.
    pub fn depth(self) -> u8 {
        self as u8
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Department {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub level: DeptLevel,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifeEvent {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeList {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub values: Vec<CodeValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeValue {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
}

/// The type of a data element; it decides the field's input and its validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementType {
    String,
    Text,
    Integer,
    Number,
    Boolean,
    Date,
    Month,
    Code,
    IdNumber,
    CreditCode,
    Phone,
    Money,
    Address,
}

impl ElementType {
    pub fn as_str(self) -> &'static str {
        match self {
            ElementType::String => "string",
            ElementType::Text => "text",
            ElementType::Integer => "integer",
            ElementType::Number => "number",
            ElementType::Boolean => "boolean",
            ElementType::Date => "date",
            ElementType::Month => "month",
            ElementType::Code => "code",
            ElementType::IdNumber => "id_number",
            ElementType::CreditCode => "credit_code",
            ElementType::Phone => "phone",
            ElementType::Money => "money",
            ElementType::Address => "address",
        }
    }

    /// Types that take `min_length`, `max_length` and `pattern`.
    pub fn is_free_text(self) -> bool {
        matches!(
            self,
            ElementType::String | ElementType::Text | ElementType::Address
        )
    }

    /// Types that take `minimum` and `maximum`.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ElementType::Integer | ElementType::Number | ElementType::Money
        )
    }
}

/// How sensitive a data element is: who may see it and whether it is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataLevel {
    Public,
    Internal,
    Sensitive,
    Core,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Element {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    #[serde(rename = "type")]
    pub r#type: ElementType,
    pub level: DataLevel,
    pub code_list: Option<String>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    /// The expected form in plain words ("6 digits"), shown beside the field and in its
    /// error; required with a `pattern`, which applicants cannot be expected to read.
    pub hint: Option<String>,
    pub hint_en: Option<String>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
}

impl Element {
    /// The subject: the part of the code before the first dot (`person` of `person.age`).
    pub fn subject(&self) -> &str {
        self.code.split('.').next().unwrap_or(&self.code)
    }
}

/// How a material is satisfied. Only `upload` needs paper (or its scan) from the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Licence,
    SharedData,
    Commitment,
    Upload,
}

impl Satisfaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::Licence => "licence",
            Satisfaction::SharedData => "shared_data",
            Satisfaction::Commitment => "commitment",
            Satisfaction::Upload => "upload",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Material {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub satisfied_by: Satisfaction,
    /// `shared_data`: the data elements the lookup returns.
    pub elements: Vec<String>,
    /// `licence`: the e-licence type that satisfies it.
    pub licence_type: Option<String>,
    /// `commitment`: the text the applicant signs.
    pub text: Option<String>,
    pub text_en: Option<String>,
    /// `upload`: accepted file types.
    pub accept: Vec<String>,
}

impl Material {
    pub fn is_zero_paper(&self) -> bool {
        self.satisfied_by != Satisfaction::Upload
    }
}

/// Who holds a licence of a type: a person (by resident ID number) or a company (by unified
/// social credit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderKind {
    Person,
    Company,
}

impl HolderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HolderKind::Person => "person",
            HolderKind::Company => "company",
        }
    }

    pub fn parse(s: &str) -> Option<HolderKind> {
        match s {
            "person" => Some(HolderKind::Person),
            "company" => Some(HolderKind::Company),
            _ => None,
        }
    }
}

/// A type of e-licence (电子证照类型): what a department issues, to whom, for how long, and
/// which data elements are printed on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LicenceType {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    /// The catalogue code of the type in the manner of GB/T 36902: four characters of 0-9
    /// and A-Z, the first part of every identifier of this type (GB/T 36903).
    pub type_code: String,
    /// The issuing department (a department code of the catalog).
    pub issuer: String,
    pub holder: HolderKind,
    /// Years of validity from the day of issue; `None`: permanent (长期有效).
    pub validity_years: Option<u32>,
    /// The data elements printed on the licence, in order.
    pub elements: Vec<String>,
}

/// The kind of power or service an item is (事项类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemKind {
    #[serde(rename = "行政许可")]
    Licensing,
    #[serde(rename = "行政确认")]
    Confirmation,
    #[serde(rename = "行政给付")]
    Payment,
    #[serde(rename = "行政征收")]
    Levy,
    #[serde(rename = "行政奖励")]
    Reward,
    #[serde(rename = "行政裁决")]
    Adjudication,
    #[serde(rename = "其他行政权力")]
    OtherPower,
    #[serde(rename = "公共服务")]
    PublicService,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Licensing => "行政许可",
            ItemKind::Confirmation => "行政确认",
            ItemKind::Payment => "行政给付",
            ItemKind::Levy => "行政征收",
            ItemKind::Reward => "行政奖励",
            ItemKind::Adjudication => "行政裁决",
            ItemKind::OtherPower => "其他行政权力",
            ItemKind::PublicService => "公共服务",
        }
    }
}

/// Who may apply for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applicant {
    Person,
    Company,
    Both,
}

/// A rule of an item's conditions: a CEL expression over data elements that must hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub code: String,
    pub expr: String,
    pub message: String,
    pub message_en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Conditions {
    pub text: Option<String>,
    pub text_en: Option<String>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Form {
    pub pages: Vec<FormPage>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormPage {
    pub title: String,
    pub title_en: Option<String>,
    pub fields: Vec<FormField>,
}

/// A field of a form. `label` and `type` are resolved from the element when the definition
/// leaves them out, so a renderer needs nothing else.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormField {
    pub element: String,
    pub required: bool,
    pub label: String,
    pub label_en: Option<String>,
    /// A CEL rule deciding whether the field is asked; `None`: always asked.
    pub when: Option<String>,
    #[serde(rename = "type")]
    pub r#type: ElementType,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemMaterial {
    pub material: String,
    pub required: bool,
}

/// Working days. `promised` is at most `legal` when both are given; 0 means on the spot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TimeLimit {
    pub legal: Option<u32>,
    pub promised: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fee {
    /// Yuan; 0 when free.
    pub amount: f64,
    pub basis: Option<String>,
    pub basis_en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemResult {
    pub name: String,
    pub name_en: Option<String>,
    pub licence_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Phones {
    pub consult: Option<String>,
    pub complaint: Option<String>,
}

/// A service item (事项) with its implementation list (实施清单).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub aliases: Vec<String>,
    pub keywords: Vec<String>,
    pub department: String,
    pub kind: ItemKind,
    pub applicant: Applicant,
    pub life_events: Vec<String>,
    pub legal_basis: Vec<String>,
    pub conditions: Conditions,
    pub shared_data: Vec<String>,
    pub form: Form,
    pub materials: Vec<ItemMaterial>,
    pub process: Vec<String>,
    pub time_limit: Option<TimeLimit>,
    pub fee: Option<Fee>,
    pub result: Option<ItemResult>,
    pub online_depth: u8,
    pub visits: u8,
    pub instant: bool,
    pub window: Option<String>,
    pub phones: Option<Phones>,
    /// Derived: none of the required materials is `upload` (零材料).
    pub zero_material: bool,
}

impl Item {
    /// Every field of the form, page by page.
    pub fn fields(&self) -> impl Iterator<Item = &FormField> {
        self.form.pages.iter().flat_map(|p| p.fields.iter())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleItem {
    pub item: String,
    pub required: bool,
}

/// 一件事: items of several departments applied for together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bundle {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub aliases: Vec<String>,
    pub keywords: Vec<String>,
    pub life_events: Vec<String>,
    pub description: Option<String>,
    pub description_en: Option<String>,
    pub items: Vec<BundleItem>,
    pub includes: Vec<String>,
    pub time_limit: Option<TimeLimit>,
}

/// One material of a merged bundle: each material once, with the items that need it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedMaterial {
    pub material: String,
    pub name: String,
    pub name_en: Option<String>,
    pub satisfied_by: Satisfaction,
    /// The chosen items that list this material.
    pub items: Vec<String>,
    /// Required by at least one of them.
    pub required: bool,
}

/// The one application of a bundle: the chosen items, their merged form and material set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedBundle {
    pub bundle: String,
    /// The chosen items in order: the bundle's own, then those of included bundles.
    pub items: Vec<String>,
    pub fields_before_merge: usize,
    pub fields_after_merge: usize,
    pub materials_before_merge: usize,
    pub materials_after_merge: usize,
    pub pages: Vec<FormPage>,
    pub materials: Vec<MergedMaterial>,
    /// JSON Schema (draft 2020-12) of the merged form.
    pub schema: serde_json::Value,
}
