//! One row type per table. The field names are the column names, so the store writes every
//! table through one generic path and a column can never be bound to the wrong place.

use chrono::NaiveDate;

/// A column value as the store binds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Text(&'a str),
    Int(i64),
    Real(f64),
    Date(NaiveDate),
    Null,
}

pub trait ToValue {
    fn to_value(&self) -> Value<'_>;
}

impl ToValue for String {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl ToValue for &'static str {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value<'_> {
        Value::Int(*self)
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}

impl ToValue for NaiveDate {
    fn to_value(&self) -> Value<'_> {
        Value::Date(*self)
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

/// A row of one table.
pub trait Record {
    const TABLE: &'static str;
    const COLUMNS: &'static [&'static str];
    fn values<'a>(&'a self, out: &mut Vec<Value<'a>>);
}

macro_rules! records {
    ($(
        $(#[$meta:meta])*
        $name:ident => $table:literal {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    )*) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq)]
            pub struct $name {
                $( $(#[$fmeta])* pub $field: $ty, )*
            }

            impl Record for $name {
                const TABLE: &'static str = $table;
                const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
                fn values<'a>(&'a self, out: &mut Vec<Value<'a>>) {
                    $( out.push(self.$field.to_value()); )*
                }
            }
        )*

        /// Every table a city fills, with its columns, in the order they are written.
        pub const TABLES: &[(&str, &[&str])] = &[$(($table, <$name as Record>::COLUMNS)),*];
    };
}

records! {
    /// 市辖区, 县 and 县级市 of the city.
    GeoDistrictRow => "geo_districts" {
        code: String,
        name: &'static str,
        kind: &'static str,
        city_code: &'static str,
        city_name: &'static str,
    }

    /// 街道, 镇 and 乡.
    GeoSubDistrictRow => "geo_sub_districts" {
        code: String,
        district_code: String,
        name: &'static str,
        kind: &'static str,
        area: Option<&'static str>,
    }

    /// 社区 and 村.
    GeoCommunityRow => "geo_communities" {
        code: String,
        sub_district_code: String,
        district_code: String,
        name: String,
        kind: &'static str,
    }

    /// 公安: a registered household (户).
    HouseholdRow => "pop_households" {
        household_id: String,
        householder_id: String,
        kind: &'static str,
        address: String,
        community_code: String,
        district_code: String,
        registered_on: NaiveDate,
    }

    /// 公安: a registered resident (常住人口).
    PersonRow => "pop_persons" {
        id_number: String,
        name: String,
        gender: &'static str,
        birth_date: NaiveDate,
        ethnicity: &'static str,
        household_id: String,
        relation: &'static str,
        marital_status: &'static str,
        community_code: String,
        district_code: String,
        address: String,
        phone: Option<String>,
        status: &'static str,
        died_on: Option<NaiveDate>,
    }

    /// 民政: a marriage registration (结婚登记), marked when dissolved by divorce.
    MarriageRow => "civil_marriages" {
        registration_no: String,
        husband_id: String,
        husband_name: String,
        wife_id: String,
        wife_name: String,
        registered_on: NaiveDate,
        registry_office: String,
        status: &'static str,
        divorced_on: Option<NaiveDate>,
    }

    /// 残联: a disability certificate (残疾人证).
    DisabilityRow => "dpf_disabilities" {
        cert_no: String,
        id_number: String,
        name: String,
        category: &'static str,
        grade: i64,
        issued_on: NaiveDate,
    }

    /// 卫健: a birth medical certificate (出生医学证明).
    BirthRow => "health_births" {
        certificate_no: String,
        child_id: String,
        child_name: String,
        gender: &'static str,
        born_on: NaiveDate,
        weight_g: i64,
        hospital: &'static str,
        mother_id: String,
        mother_name: String,
        father_id: String,
        father_name: String,
    }

    /// 不动产登记: a property right certificate (不动产权证书).
    PropertyRow => "prop_properties" {
        cert_no: String,
        owner_id: String,
        owner_name: String,
        co_owner_id: Option<String>,
        co_owner_name: Option<String>,
        address: String,
        district_code: String,
        area_m2: f64,
        usage: &'static str,
        registered_on: NaiveDate,
        contract_no: Option<String>,
    }

    /// 住房保障和房地产管理: a filed purchase contract (网签备案合同).
    ContractRow => "prop_contracts" {
        contract_no: String,
        buyer_id: String,
        buyer_name: String,
        co_buyer_id: Option<String>,
        co_buyer_name: Option<String>,
        seller_kind: &'static str,
        seller_id: String,
        seller_name: String,
        address: String,
        district_code: String,
        area_m2: f64,
        usage: &'static str,
        price_cents: i64,
        signed_on: NaiveDate,
        status: &'static str,
    }

    /// 税务: a deed-tax payment (契税完税凭证) for a purchase contract.
    DeedTaxRow => "tax_deed_tax" {
        voucher_no: String,
        contract_no: String,
        payer_id: String,
        payer_name: String,
        taxable_cents: i64,
        rate_permille: i64,
        amount_cents: i64,
        paid_on: NaiveDate,
    }

    /// 人社: an employment spell as recorded by social insurance registration.
    EmploymentRow => "hrss_employment" {
        id_number: String,
        name: String,
        employer_code: String,
        employer_name: String,
        since: NaiveDate,
        until: Option<NaiveDate>,
        monthly_wage_cents: i64,
    }

    /// 人社: contributions of one person to one insurance, summed over months.
    InsuranceRow => "hrss_insurance" {
        id_number: String,
        insurance: &'static str,
        months: i64,
        first_month: String,
        last_month: String,
        status: &'static str,
    }

    /// 住房公积金中心: a housing-fund account.
    HousingFundRow => "hf_accounts" {
        account_no: String,
        id_number: String,
        name: String,
        employer_code: Option<String>,
        balance_cents: i64,
        monthly_deposit_cents: i64,
        opened_on: NaiveDate,
        status: &'static str,
    }

    /// 教育: a primary or junior middle school.
    SchoolRow => "edu_schools" {
        school_id: String,
        name: String,
        level: &'static str,
        district_code: String,
        sub_district_code: String,
        address: String,
    }

    /// 教育: a community served by a school (学区划分).
    SchoolDistrictRow => "edu_school_districts" {
        school_id: String,
        community_code: String,
    }

    /// 教育: a pupil in compulsory education (学籍).
    StudentRow => "edu_students" {
        id_number: String,
        student_no: String,
        name: String,
        school_id: String,
        grade: i64,
        class_no: i64,
        enrolled_on: NaiveDate,
    }

    /// 市场监管: a registered market entity (市场主体).
    CompanyRow => "mr_companies" {
        credit_code: String,
        name: String,
        kind: &'static str,
        industry: &'static str,
        legal_person_id: String,
        legal_person_name: String,
        registered_capital_cents: i64,
        registered_on: NaiveDate,
        address: String,
        district_code: String,
        status: &'static str,
        business_scope: &'static str,
    }
}

/// Rows produced together, written together.
#[derive(Debug, Default)]
pub struct Batch {
    pub districts: Vec<GeoDistrictRow>,
    pub sub_districts: Vec<GeoSubDistrictRow>,
    pub communities: Vec<GeoCommunityRow>,
    pub schools: Vec<SchoolRow>,
    pub school_districts: Vec<SchoolDistrictRow>,
    pub households: Vec<HouseholdRow>,
    pub persons: Vec<PersonRow>,
    pub marriages: Vec<MarriageRow>,
    pub disabilities: Vec<DisabilityRow>,
    pub births: Vec<BirthRow>,
    pub properties: Vec<PropertyRow>,
    pub contracts: Vec<ContractRow>,
    pub deed_taxes: Vec<DeedTaxRow>,
    pub employment: Vec<EmploymentRow>,
    pub insurance: Vec<InsuranceRow>,
    pub housing_funds: Vec<HousingFundRow>,
    pub students: Vec<StudentRow>,
    pub companies: Vec<CompanyRow>,
}

impl Batch {
    pub fn rows(&self) -> usize {
        self.districts.len()
            + self.sub_districts.len()
            + self.communities.len()
            + self.schools.len()
            + self.school_districts.len()
            + self.households.len()
            + self.persons.len()
            + self.marriages.len()
            + self.disabilities.len()
            + self.births.len()
            + self.properties.len()
            + self.contracts.len()
            + self.deed_taxes.len()
            + self.employment.len()
            + self.insurance.len()
            + self.housing_funds.len()
            + self.students.len()
            + self.companies.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_fields() {
        assert_eq!(PersonRow::COLUMNS[0], "id_number");
        assert_eq!(PersonRow::COLUMNS.len(), 14);
        assert_eq!(TABLES.len(), 18);
        let row = SchoolDistrictRow {
            school_id: "4101050001".into(),
            community_code: "410105001001".into(),
        };
        let mut v = Vec::new();
        row.values(&mut v);
        assert_eq!(
            v,
            vec![Value::Text("4101050001"), Value::Text("410105001001")]
        );
    }
}
