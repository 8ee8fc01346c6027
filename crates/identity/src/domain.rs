//! Accounts, roles and the rules of signing up and in, without any I/O.

use chrono::{DateTime, Duration, Utc};
use kernel::ids::{credit_code_error_message, id_number_error_message, phone_error_message};
use kernel::{CreditCode, FieldError, IdNumber, Msg, Phone};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Citizen,
    Company,
    Staff,
}

impl AccountKind {
    pub fn code(self) -> &'static str {
        match self {
            AccountKind::Citizen => "citizen",
            AccountKind::Company => "company",
            AccountKind::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<AccountKind> {
        match s {
            "citizen" => Some(AccountKind::Citizen),
            "company" => Some(AccountKind::Company),
            "staff" => Some(AccountKind::Staff),
            _ => None,
        }
    }
}

/// What a member of staff may do, always within one department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Reviewer,
    DeptAdmin,
    PlatformAdmin,
    GridWorker,
    OpsCentre,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Reviewer,
        Role::DeptAdmin,
        Role::PlatformAdmin,
        Role::GridWorker,
        Role::OpsCentre,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Reviewer => "reviewer",
            Role::DeptAdmin => "dept_admin",
            Role::PlatformAdmin => "platform_admin",
            Role::GridWorker => "grid_worker",
            Role::OpsCentre => "ops_centre",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }

    pub fn label(self) -> Msg {
        match self {
            Role::Reviewer => Msg::new("审批人员", "Reviewer"),
            Role::DeptAdmin => Msg::new("部门管理员", "Department administrator"),
            Role::PlatformAdmin => Msg::new("平台管理员", "Platform administrator"),
            Role::GridWorker => Msg::new("网格员", "Grid worker"),
            Role::OpsCentre => Msg::new("城市运行管理中心", "Operations centre"),
        }
    }
}

/// The four levels of government a department sits at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeptLevel {
    City,
    District,
    Subdistrict,
    Community,
}

impl DeptLevel {
    pub fn code(self) -> &'static str {
        match self {
            DeptLevel::City => "city",
            DeptLevel::District => "district",
            DeptLevel::Subdistrict => "subdistrict",
            DeptLevel::Community => "community",
        }
    }

    pub fn parse(s: &str) -> Option<DeptLevel> {
        match s {
            "city" => Some(DeptLevel::City),
            "district" => Some(DeptLevel::District),
            "subdistrict" => Some(DeptLevel::Subdistrict),
            "community" => Some(DeptLevel::Community),
            _ => None,
        }
    }

    /// The level a child department must have; communities have none.
    pub fn child(self) -> Option<DeptLevel> {
        match self {
            DeptLevel::City => Some(DeptLevel::District),
            DeptLevel::District => Some(DeptLevel::Subdistrict),
            DeptLevel::Subdistrict => Some(DeptLevel::Community),
            DeptLevel::Community => None,
        }
    }
}

/// Who an account belongs to. Illegal combinations (a citizen without an ID number, a company
/// with one) cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Citizen { id_number: IdNumber },
    Company { credit_code: CreditCode },
    Staff { department_id: String },
}

impl Holder {
    pub fn kind(&self) -> AccountKind {
        match self {
            Holder::Citizen { .. } => AccountKind::Citizen,
            Holder::Company { .. } => AccountKind::Company,
            Holder::Staff { .. } => AccountKind::Staff,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub login: String,
    pub name: String,
    pub holder: Holder,
    pub phone: Option<Phone>,
    pub roles: Vec<(Role, String)>,
    pub lang: Option<kernel::Lang>,
    pub elderly: Option<bool>,
    pub created_at: DateTime<Utc>,
}

impl Account {
    pub fn kind(&self) -> AccountKind {
        self.holder.kind()
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|(r, _)| *r == role)
    }

    pub fn masked_id_number(&self) -> Option<String> {
        match &self.holder {
            Holder::Citizen { id_number } => Some(id_number.masked()),
            _ => None,
        }
    }

    pub fn viewer(&self) -> web::Viewer {
        web::Viewer {
            account_id: self.id.clone(),
            name: self.name.clone(),
            kind: self.kind().code().to_string(),
            roles: self
                .roles
                .iter()
                .map(|(r, _)| r.code().to_string())
                .collect(),
        }
    }
}

/// A password as typed. Never printed: `Debug` shows nothing of it.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

impl Password {
    /// A new password: long enough, not absurdly long, and not one of the person's own
    /// identifiers (the first guess of anyone who knows them).
    pub fn new_for(raw: &str, identifiers: &[&str]) -> Result<Password, FieldError> {
        let n = raw.chars().count();
        if n < PASSWORD_MIN {
            return Err(FieldError::new(
                "password",
                "too_short",
                Msg::new(
                    "密码至少需要8个字符",
                    "The password must have at least 8 characters",
                ),
            ));
        }
        if n > PASSWORD_MAX {
            return Err(FieldError::new(
                "password",
                "too_long",
                Msg::new(
                    "密码不能超过128个字符",
                    "The password must have at most 128 characters",
                ),
            ));
        }
        let lowered = raw.to_ascii_lowercase();
        if identifiers
            .iter()
            .any(|id| !id.is_empty() && lowered.contains(&id.to_ascii_lowercase()))
        {
            return Err(FieldError::new(
                "password",
                "contains_identifier",
                Msg::new(
                    "密码不能包含身份证号码、信用代码或手机号码",
                    "The password must not contain your ID number, credit code or phone number",
                ),
            ));
        }
        if raw.chars().all(|c| raw.starts_with(c)) {
            return Err(FieldError::new(
                "password",
                "too_simple",
                Msg::new("密码过于简单", "The password is too easy to guess"),
            ));
        }
        Ok(Password(raw.to_string()))
    }

    /// A password offered at sign-in: checked against the hash, never against the policy.
    pub fn offered(raw: &str) -> Password {
        Password(raw.chars().take(PASSWORD_MAX * 4).collect())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn parse_name(raw: &str, field: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new(
            field,
            "required",
            Msg::new("请输入姓名或名称", "Enter the name"),
        ));
    }
    if name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "invalid",
            Msg::new(
                "名称不能超过60个字符，且不能含控制字符",
                "The name must be at most 60 characters with no control characters",
            ),
        ));
    }
    Ok(name.to_string())
}

/// A citizen's sign-up, parsed: every field valid, or every problem listed at once.
#[derive(Debug, Clone)]
pub struct NewCitizen {
    pub name: String,
    pub id_number: IdNumber,
    pub phone: Phone,
    pub password: Password,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CitizenForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub password: String,
}

/// An identifier field: present, then parsed; what is wrong goes into `errors`.
fn identifier<T>(
    raw: &str,
    field: &str,
    missing: Msg,
    parse: impl Fn(&str) -> Result<T, kernel::ids::IdError>,
    message: impl Fn(kernel::ids::IdError) -> Msg,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    if raw.trim().is_empty() {
        errors.push(FieldError::new(field, "required", missing));
        return None;
    }
    parse(raw)
        .map_err(|e| errors.push(FieldError::new(field, e.code(), message(e))))
        .ok()
}

impl NewCitizen {
    pub fn parse(form: &CitizenForm) -> Result<NewCitizen, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = parse_name(&form.name, "name")
            .map_err(|e| errors.push(e))
            .ok();
        let id_number = identifier(
            &form.id_number,
            "id_number",
            Msg::new("请输入身份证号码", "Enter your ID number"),
            IdNumber::parse,
            id_number_error_message,
            &mut errors,
        );
        let phone = identifier(
            &form.phone,
            "phone",
            Msg::new("请输入手机号码", "Enter your mobile number"),
            Phone::parse,
            phone_error_message,
            &mut errors,
        );
        let ids: Vec<&str> = [
            id_number.as_ref().map(|i| i.as_str()),
            phone.as_ref().map(|p| p.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let password = Password::new_for(&form.password, &ids)
            .map_err(|e| errors.push(e))
            .ok();
        match (name, id_number, phone, password) {
            (Some(name), Some(id_number), Some(phone), Some(password)) if errors.is_empty() => {
                Ok(NewCitizen {
                    name,
                    id_number,
                    phone,
                    password,
                })
            }
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewCompany {
    pub name: String,
    pub credit_code: CreditCode,
    pub phone: Phone,
    pub password: Password,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CompanyForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub credit_code: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub password: String,
}

impl NewCompany {
    pub fn parse(form: &CompanyForm) -> Result<NewCompany, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = parse_name(&form.name, "name")
            .map_err(|e| errors.push(e))
            .ok();
        let credit_code = identifier(
            &form.credit_code,
            "credit_code",
            Msg::new(
                "请输入统一社会信用代码",
                "Enter the unified social credit code",
            ),
            CreditCode::parse,
            credit_code_error_message,
            &mut errors,
        );
        let phone = identifier(
            &form.phone,
            "phone",
            Msg::new("请输入手机号码", "Enter your mobile number"),
            Phone::parse,
            phone_error_message,
            &mut errors,
        );
        let ids: Vec<&str> = [
            credit_code.as_ref().map(|c| c.as_str()),
            phone.as_ref().map(|p| p.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let password = Password::new_for(&form.password, &ids)
            .map_err(|e| errors.push(e))
            .ok();
        match (name, credit_code, phone, password) {
            (Some(name), Some(credit_code), Some(phone), Some(password)) if errors.is_empty() => {
                Ok(NewCompany {
                    name,
                    credit_code,
                    phone,
                    password,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A sign-up of either kind, parsed and ready to store.
#[derive(Debug, Clone)]
pub enum NewAccount {
    Citizen(NewCitizen),
    Company(NewCompany),
}

impl NewAccount {
    /// The login is the identifier: the ID number or the credit code.
    pub fn login(&self) -> &str {
        match self {
            NewAccount::Citizen(c) => c.id_number.as_str(),
            NewAccount::Company(c) => c.credit_code.as_str(),
        }
    }

    pub fn holder(&self) -> Holder {
        match self {
            NewAccount::Citizen(c) => Holder::Citizen {
                id_number: c.id_number.clone(),
            },
            NewAccount::Company(c) => Holder::Company {
                credit_code: c.credit_code.clone(),
            },
        }
    }

    pub fn name(&self) -> &str {
        match self {
            NewAccount::Citizen(c) => &c.name,
            NewAccount::Company(c) => &c.name,
        }
    }

    pub fn phone(&self) -> &Phone {
        match self {
            NewAccount::Citizen(c) => &c.phone,
            NewAccount::Company(c) => &c.phone,
        }
    }

    pub fn password(&self) -> &Password {
        match self {
            NewAccount::Citizen(c) => &c.password,
            NewAccount::Company(c) => &c.password,
        }
    }
}

/// A submitted sign-up form of either kind.
pub trait SignUpForm: serde::de::DeserializeOwned + Send + 'static {
    /// The field that holds the identifier, where a duplicate account is reported.
    const IDENTIFIER: &'static str;
    fn parse(&self) -> Result<NewAccount, Vec<FieldError>>;
    /// What is shown again in the form after an error: everything but the password.
    fn values(&self) -> std::collections::BTreeMap<&'static str, String>;
}

impl SignUpForm for CitizenForm {
    const IDENTIFIER: &'static str = "id_number";
    fn parse(&self) -> Result<NewAccount, Vec<FieldError>> {
        NewCitizen::parse(self).map(NewAccount::Citizen)
    }
    fn values(&self) -> std::collections::BTreeMap<&'static str, String> {
        [
            ("name", &self.name),
            ("id_number", &self.id_number),
            ("phone", &self.phone),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }
}

impl SignUpForm for CompanyForm {
    const IDENTIFIER: &'static str = "credit_code";
    fn parse(&self) -> Result<NewAccount, Vec<FieldError>> {
        NewCompany::parse(self).map(NewAccount::Company)
    }
    fn values(&self) -> std::collections::BTreeMap<&'static str, String> {
        [
            ("name", &self.name),
            ("credit_code", &self.credit_code),
            ("phone", &self.phone),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }
}

/// The key under which failed sign-ins are counted: the login as typed, normalised, so that
/// unknown logins are throttled exactly like known ones.
pub fn login_key(login: &str) -> String {
    kernel::secret::digest(&login.trim().to_ascii_uppercase())
}

/// How a login is shown in the audit table: ID numbers and phones masked.
pub fn mask_login(login: &str) -> String {
    let l = login.trim();
    let n = l.chars().count();
    if n == 11 && l.chars().all(|c| c.is_ascii_digit()) {
        kernel::ids::mask_phone(l)
    } else if n >= 15 {
        kernel::ids::mask_id_number(l)
    } else {
        l.chars().take(40).collect()
    }
}

/// The lockout rule: `MAX_FAILURES` failures within `WINDOW` lock the login for `LOCKOUT`.
pub const MAX_FAILURES: i64 = 10;
/// Failures from one address, over all logins, before the address is locked out too: high
/// enough for a service hall whose counters share one address, low enough to stop someone
/// trying one password against many accounts.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 100;
pub const WINDOW: Duration = Duration::minutes(15);
pub const LOCKOUT: Duration = Duration::minutes(15);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub failures: i64,
    pub window_started_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Throttle {
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|t| *t > now)
    }

    /// The state after one more failure at `now`.
    pub fn after_failure(prev: Option<&Throttle>, now: DateTime<Utc>, max: i64) -> Throttle {
        let fresh = Throttle {
            failures: 1,
            window_started_at: now,
            locked_until: None,
        };
        let Some(p) = prev else { return fresh };
        if now - p.window_started_at > WINDOW && p.locked_at(now).is_none() {
            return fresh;
        }
        let failures = p.failures + 1;
        Throttle {
            failures,
            window_started_at: p.window_started_at,
            locked_until: if failures >= max {
                Some(now + LOCKOUT)
            } else {
                p.locked_until
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn citizen_form() -> CitizenForm {
        CitizenForm {
            name: " 张三 ".into(),
            id_number: "11010519491231002X".into(),
            phone: "13800138000".into(),
            password: "correct horse battery".into(),
        }
    }

    #[test]
    fn a_good_citizen_form_parses() {
        let c = NewCitizen::parse(&citizen_form()).unwrap();
        assert_eq!(c.name, "张三");
        assert_eq!(c.id_number.as_str(), "11010519491231002X");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let form = CitizenForm {
            name: "".into(),
            id_number: "110105194912310021".into(),
            phone: "123".into(),
            password: "short".into(),
        };
        let errs = NewCitizen::parse(&form).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "id_number", "phone", "password"]);
        assert_eq!(errs[1].code, "checksum");
    }

    #[test]
    fn passwords_may_not_contain_the_id_number() {
        let mut f = citizen_form();
        f.password = "x11010519491231002x".into();
        let errs = NewCitizen::parse(&f).unwrap_err();
        assert_eq!(errs[0].code, "contains_identifier");
        assert!(Password::new_for("aaaaaaaaaa", &[]).is_err());
        assert!(Password::new_for(&"ab".repeat(65), &[]).is_err());
        assert_eq!(
            format!("{:?}", Password::offered("secret")),
            "Password(***)"
        );
    }

    #[test]
    fn ten_failures_lock_and_the_window_resets() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z")
            .unwrap()
            .to_utc();
        let mut t = None;
        for i in 0..9 {
            t = Some(Throttle::after_failure(
                t.as_ref(),
                t0 + Duration::seconds(i),
                MAX_FAILURES,
            ));
        }
        assert!(
            t.as_ref()
                .unwrap()
                .locked_at(t0 + Duration::seconds(10))
                .is_none()
        );
        let locked = Throttle::after_failure(t.as_ref(), t0 + Duration::seconds(10), MAX_FAILURES);
        let until = locked.locked_at(t0 + Duration::seconds(11)).unwrap();
        assert_eq!(until, t0 + Duration::seconds(10) + LOCKOUT);
        assert!(locked.locked_at(until + Duration::seconds(1)).is_none());
        // After the window, counting starts again.
        let later =
            Throttle::after_failure(t.as_ref(), t0 + WINDOW + Duration::minutes(1), MAX_FAILURES);
        assert_eq!(later.failures, 1);
    }

    #[test]
    fn logins_are_masked_for_the_audit() {
        assert_eq!(mask_login("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_login("13800138000"), "138****8000");
        assert_eq!(mask_login("reviewer01"), "reviewer01");
        assert_eq!(login_key(" abc "), login_key("ABC"));
    }

    #[test]
    fn department_levels_nest_in_order() {
        assert_eq!(DeptLevel::City.child(), Some(DeptLevel::District));
        assert_eq!(DeptLevel::Community.child(), None);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(r));
        }
    }
}
