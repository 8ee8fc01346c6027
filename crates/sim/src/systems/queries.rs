//! Every SQL statement the simulated systems run. Each system reads only its own
//! department's tables; the SQL is portable, so one text serves both engines.

use kernel::Db;

type R<T> = Result<T, sqlx::Error>;

macro_rules! all {
    ($db:expr, $t:ty, $sql:expr $(, $b:expr)* $(,)?) => {
        kernel::with_db!($db, pool => sqlx::query_as::<_, $t>($sql)$(.bind($b))*.fetch_all(pool).await)
    };
}

macro_rules! one {
    ($db:expr, $t:ty, $sql:expr $(, $b:expr)* $(,)?) => {
        kernel::with_db!($db, pool => sqlx::query_as::<_, $t>($sql)$(.bind($b))*.fetch_optional(pool).await)
    };
}

macro_rules! count {
    ($db:expr, $sql:expr $(, $b:expr)* $(,)?) => {
        kernel::with_db!($db, pool => sqlx::query_scalar::<_, i64>($sql)$(.bind($b))*.fetch_one(pool).await)
    };
}

// 公安: population.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Person {
    pub id_number: String,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub ethnicity: String,
    pub household_id: String,
    pub relation: String,
    pub marital_status: String,
    pub community_code: String,
    pub district_code: String,
    pub address: String,
    pub phone: Option<String>,
    pub status: String,
    pub died_on: Option<String>,
}

const PERSON: &str = "SELECT id_number, name, gender, birth_date, ethnicity, household_id, relation, \
                      marital_status, community_code, district_code, address, phone, status, died_on \
                      FROM pop_persons";

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Household {
    pub household_id: String,
    pub householder_id: String,
    pub kind: String,
    pub address: String,
    pub community_code: String,
    pub district_code: String,
    pub registered_on: String,
}

pub(crate) async fn person(db: &Db, id: &str) -> R<Option<Person>> {
    one!(db, Person, &format!("{PERSON} WHERE id_number = $1"), id)
}

pub(crate) async fn household(db: &Db, household_id: &str) -> R<Option<Household>> {
    one!(
        db,
        Household,
        "SELECT household_id, householder_id, kind, address, community_code, district_code, \
         registered_on FROM pop_households WHERE household_id = $1",
        household_id
    )
}

/// A page of a household's members, the householder first; and how many there are.
pub(crate) async fn household_members(
    db: &Db,
    household_id: &str,
    offset: i64,
    limit: i64,
) -> R<(Vec<Person>, i64)> {
    let rows = all!(
        db,
        Person,
        &format!(
            "{PERSON} WHERE household_id = $1 \
             ORDER BY CASE WHEN relation = 'householder' THEN 0 ELSE 1 END, birth_date, id_number \
             LIMIT $2 OFFSET $3"
        ),
        household_id,
        limit,
        offset
    )?;
    let total = count!(
        db,
        "SELECT COUNT(*) FROM pop_persons WHERE household_id = $1",
        household_id
    )?;
    Ok((rows, total))
}

// 民政: marriages.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Marriage {
    pub registration_no: String,
    pub husband_id: String,
    pub husband_name: String,
    pub wife_id: String,
    pub wife_name: String,
    pub registered_on: String,
    pub registry_office: String,
    pub status: String,
    pub divorced_on: Option<String>,
}

/// Registrations naming the person as either spouse, oldest first.
pub(crate) async fn marriages(db: &Db, id: &str) -> R<Vec<Marriage>> {
    all!(
        db,
        Marriage,
        "SELECT registration_no, husband_id, husband_name, wife_id, wife_name, registered_on, \
         registry_office, status, divorced_on FROM civil_marriages \
         WHERE husband_id = $1 OR wife_id = $1 ORDER BY registered_on, registration_no",
        id
    )
}

// 残联: disability certificates.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Disability {
    pub cert_no: String,
    pub id_number: String,
    pub name: String,
    pub category: String,
    pub grade: i64,
    pub issued_on: String,
}

pub(crate) async fn disabilities(db: &Db, id: &str) -> R<Vec<Disability>> {
    all!(
        db,
        Disability,
        "SELECT cert_no, id_number, name, category, grade, issued_on FROM dpf_disabilities \
         WHERE id_number = $1 ORDER BY issued_on, cert_no",
        id
    )
}

// 卫健: birth medical certificates.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Birth {
    pub certificate_no: String,
    pub child_id: String,
    pub child_name: String,
    pub gender: String,
    pub born_on: String,
    pub weight_g: i64,
    pub hospital: String,
    pub mother_id: String,
    pub mother_name: String,
    pub father_id: String,
    pub father_name: String,
}

const BIRTH: &str = "SELECT certificate_no, child_id, child_name, gender, born_on, weight_g, \
                     hospital, mother_id, mother_name, father_id, father_name FROM health_births";

pub(crate) async fn births_of_child(db: &Db, child_id: &str) -> R<Vec<Birth>> {
    all!(
        db,
        Birth,
        &format!("{BIRTH} WHERE child_id = $1 ORDER BY certificate_no"),
        child_id
    )
}

pub(crate) async fn births_by_mother(
    db: &Db,
    mother_id: &str,
    offset: i64,
    limit: i64,
) -> R<(Vec<Birth>, i64)> {
    let rows = all!(
        db,
        Birth,
        &format!(
            "{BIRTH} WHERE mother_id = $1 ORDER BY born_on, certificate_no LIMIT $2 OFFSET $3"
        ),
        mother_id,
        limit,
        offset
    )?;
    let total = count!(
        db,
        "SELECT COUNT(*) FROM health_births WHERE mother_id = $1",
        mother_id
    )?;
    Ok((rows, total))
}

// 不动产登记: title certificates.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Property {
    pub cert_no: String,
    pub owner_id: String,
    pub owner_name: String,
    pub co_owner_id: Option<String>,
    pub co_owner_name: Option<String>,
    pub address: String,
    pub district_code: String,
    pub area_m2: f64,
    pub usage: String,
    pub registered_on: String,
    pub contract_no: Option<String>,
}

const PROPERTY: &str = "SELECT cert_no, owner_id, owner_name, co_owner_id, co_owner_name, address, \
                        district_code, area_m2, usage, registered_on, contract_no FROM prop_properties";

/// A page of the certificates naming the person as owner or co-owner, and their number.
pub(crate) async fn properties_of(
    db: &Db,
    id: &str,
    offset: i64,
    limit: i64,
) -> R<(Vec<Property>, i64)> {
    let rows = all!(
        db,
        Property,
        &format!(
            "{PROPERTY} WHERE owner_id = $1 OR co_owner_id = $1 \
             ORDER BY registered_on, cert_no LIMIT $2 OFFSET $3"
        ),
        id,
        limit,
        offset
    )?;
    let total = count!(
        db,
        "SELECT COUNT(*) FROM prop_properties WHERE owner_id = $1 OR co_owner_id = $1",
        id
    )?;
    Ok((rows, total))
}

pub(crate) async fn property(db: &Db, cert_no: &str) -> R<Option<Property>> {
    one!(
        db,
        Property,
        &format!("{PROPERTY} WHERE cert_no = $1"),
        cert_no
    )
}

// 房管: filed purchase contracts.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Contract {
    pub contract_no: String,
    pub buyer_id: String,
    pub buyer_name: String,
    pub co_buyer_id: Option<String>,
    pub co_buyer_name: Option<String>,
    pub seller_kind: String,
    pub seller_id: String,
    pub seller_name: String,
    pub address: String,
    pub district_code: String,
    pub area_m2: f64,
    pub usage: String,
    pub price_cents: i64,
    pub signed_on: String,
    pub status: String,
}

const CONTRACT: &str = "SELECT contract_no, buyer_id, buyer_name, co_buyer_id, co_buyer_name, \
                        seller_kind, seller_id, seller_name, address, district_code, area_m2, usage, \
                        price_cents, signed_on, status FROM prop_contracts";

/// Up to `limit` contracts naming the person as buyer or co-buyer, after contract number
/// `after`, in contract-number order.
pub(crate) async fn contracts_of_buyer(
    db: &Db,
    id: &str,
    after: &str,
    limit: i64,
) -> R<Vec<Contract>> {
    all!(
        db,
        Contract,
        &format!(
            "{CONTRACT} WHERE (buyer_id = $1 OR co_buyer_id = $1) AND contract_no > $2 \
             ORDER BY contract_no LIMIT $3"
        ),
        id,
        after,
        limit
    )
}

pub(crate) async fn contract(db: &Db, contract_no: &str) -> R<Option<Contract>> {
    one!(
        db,
        Contract,
        &format!("{CONTRACT} WHERE contract_no = $1"),
        contract_no
    )
}

// 人社: employment and social insurance.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Employment {
    pub id_number: String,
    pub name: String,
    pub employer_code: String,
    pub employer_name: String,
    pub since: String,
    pub until: Option<String>,
    pub monthly_wage_cents: i64,
}

/// Up to `limit` spells of employment starting after `after` (a date, `""` for all).
pub(crate) async fn employment(db: &Db, id: &str, after: &str, limit: i64) -> R<Vec<Employment>> {
    all!(
        db,
        Employment,
        "SELECT id_number, name, employer_code, employer_name, since, until, monthly_wage_cents \
         FROM hrss_employment WHERE id_number = $1 AND since > $2 ORDER BY since LIMIT $3",
        id,
        after,
        limit
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Insurance {
    pub insurance: String,
    pub months: i64,
    pub first_month: String,
    pub last_month: String,
    pub status: String,
}

pub(crate) async fn insurance(db: &Db, id: &str) -> R<Vec<Insurance>> {
    all!(
        db,
        Insurance,
        "SELECT insurance, months, first_month, last_month, status FROM hrss_insurance \
         WHERE id_number = $1 ORDER BY insurance",
        id
    )
}

/// Whether the social-security registry knows the person at all.
pub(crate) async fn insured_or_employed(db: &Db, id: &str) -> R<bool> {
    let n = count!(
        db,
        "SELECT (SELECT COUNT(*) FROM hrss_employment WHERE id_number = $1) \
              + (SELECT COUNT(*) FROM hrss_insurance WHERE id_number = $1)",
        id
    )?;
    Ok(n > 0)
}

// 住房公积金: accounts.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct FundAccount {
    pub account_no: String,
    pub id_number: String,
    pub name: String,
    pub employer_code: Option<String>,
    pub balance_cents: i64,
    pub monthly_deposit_cents: i64,
    pub opened_on: String,
    pub status: String,
}

pub(crate) async fn fund_accounts(db: &Db, id: &str) -> R<Vec<FundAccount>> {
    all!(
        db,
        FundAccount,
        "SELECT account_no, id_number, name, employer_code, balance_cents, monthly_deposit_cents, \
         opened_on, status FROM hf_accounts WHERE id_number = $1 ORDER BY opened_on, account_no",
        id
    )
}

// 教育: schools, school districts, pupils.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct School {
    pub school_id: String,
    pub name: String,
    pub level: String,
    pub district_code: String,
    pub sub_district_code: String,
    pub address: String,
}

const SCHOOL: &str = "SELECT s.school_id, s.name, s.level, s.district_code, s.sub_district_code, \
                      s.address FROM edu_schools s";

/// A page of schools, of those serving `community` when given; and their number.
pub(crate) async fn schools(
    db: &Db,
    community: Option<&str>,
    offset: i64,
    limit: i64,
) -> R<(Vec<School>, i64)> {
    match community {
        None => {
            let rows = all!(
                db,
                School,
                &format!("{SCHOOL} ORDER BY s.school_id LIMIT $1 OFFSET $2"),
                limit,
                offset
            )?;
            let total = count!(db, "SELECT COUNT(*) FROM edu_schools")?;
            Ok((rows, total))
        }
        Some(c) => {
            let rows = all!(
                db,
                School,
                &format!(
                    "{SCHOOL} JOIN edu_school_districts d ON d.school_id = s.school_id \
                     WHERE d.community_code = $1 ORDER BY s.school_id LIMIT $2 OFFSET $3"
                ),
                c,
                limit,
                offset
            )?;
            let total = count!(
                db,
                "SELECT COUNT(*) FROM edu_school_districts WHERE community_code = $1",
                c
            )?;
            Ok((rows, total))
        }
    }
}

pub(crate) async fn school(db: &Db, school_id: &str) -> R<Option<School>> {
    one!(
        db,
        School,
        &format!("{SCHOOL} WHERE s.school_id = $1"),
        school_id
    )
}

/// The communities a school serves.
pub(crate) async fn school_district(db: &Db, school_id: &str) -> R<Vec<String>> {
    kernel::with_db!(db, pool => {
        sqlx::query_scalar::<_, String>(
            "SELECT community_code FROM edu_school_districts WHERE school_id = $1 \
             ORDER BY community_code",
        )
        .bind(school_id)
        .fetch_all(pool)
        .await
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Student {
    pub id_number: String,
    pub student_no: String,
    pub name: String,
    pub school_id: String,
    pub school_name: String,
    pub grade: i64,
    pub class_no: i64,
    pub enrolled_on: String,
}

pub(crate) async fn student(db: &Db, id: &str) -> R<Option<Student>> {
    one!(
        db,
        Student,
        "SELECT p.id_number, p.student_no, p.name, p.school_id, s.name AS school_name, p.grade, \
         p.class_no, p.enrolled_on FROM edu_students p JOIN edu_schools s ON s.school_id = p.school_id \
         WHERE p.id_number = $1",
        id
    )
}

// 税务: deed tax.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct DeedTax {
    pub voucher_no: String,
    pub contract_no: String,
    pub payer_id: String,
    pub payer_name: String,
    pub taxable_cents: i64,
    pub rate_permille: i64,
    pub amount_cents: i64,
    pub paid_on: String,
}

const DEED_TAX: &str = "SELECT voucher_no, contract_no, payer_id, payer_name, taxable_cents, \
                        rate_permille, amount_cents, paid_on FROM tax_deed_tax";

pub(crate) async fn deed_tax_of_payer(
    db: &Db,
    id: &str,
    offset: i64,
    limit: i64,
) -> R<(Vec<DeedTax>, i64)> {
    let rows = all!(
        db,
        DeedTax,
        &format!("{DEED_TAX} WHERE payer_id = $1 ORDER BY paid_on, voucher_no LIMIT $2 OFFSET $3"),
        id,
        limit,
        offset
    )?;
    let total = count!(
        db,
        "SELECT COUNT(*) FROM tax_deed_tax WHERE payer_id = $1",
        id
    )?;
    Ok((rows, total))
}

pub(crate) async fn deed_tax_of_contract(
    db: &Db,
    contract_no: &str,
    offset: i64,
    limit: i64,
) -> R<(Vec<DeedTax>, i64)> {
    let rows = all!(
        db,
        DeedTax,
        &format!(
            "{DEED_TAX} WHERE contract_no = $1 ORDER BY paid_on, voucher_no LIMIT $2 OFFSET $3"
        ),
        contract_no,
        limit,
        offset
    )?;
    let total = count!(
        db,
        "SELECT COUNT(*) FROM tax_deed_tax WHERE contract_no = $1",
        contract_no
    )?;
    Ok((rows, total))
}

// 市场监管: companies.

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Company {
    pub credit_code: String,
    pub name: String,
    pub kind: String,
    pub industry: String,
    pub legal_person_id: String,
    pub legal_person_name: String,
    pub registered_capital_cents: i64,
    pub registered_on: String,
    pub address: String,
    pub district_code: String,
    pub status: String,
    pub business_scope: String,
}

const COMPANY: &str = "SELECT credit_code, name, kind, industry, legal_person_id, legal_person_name, \
                       registered_capital_cents, registered_on, address, district_code, status, \
                       business_scope FROM mr_companies";

pub(crate) async fn company(db: &Db, credit_code: &str) -> R<Option<Company>> {
    one!(
        db,
        Company,
        &format!("{COMPANY} WHERE credit_code = $1"),
        credit_code
    )
}

/// Which companies a list asks for.
pub(crate) enum CompanyFilter<'a> {
    LegalPerson(&'a str),
    District(&'a str),
}

/// Up to `limit` companies after credit code `after`, in credit-code order.
pub(crate) async fn companies(
    db: &Db,
    filter: CompanyFilter<'_>,
    after: &str,
    limit: i64,
) -> R<Vec<Company>> {
    let (column, value) = match filter {
        CompanyFilter::LegalPerson(v) => ("legal_person_id", v),
        CompanyFilter::District(v) => ("district_code", v),
    };
    all!(
        db,
        Company,
        &format!(
            "{COMPANY} WHERE {column} = $1 AND credit_code > $2 ORDER BY credit_code LIMIT $3"
        ),
        value,
        after,
        limit
    )
}
