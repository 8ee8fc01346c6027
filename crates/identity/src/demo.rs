//! The departments and demo accounts of the demo city. The areas and the people come from the
//! synthetic city through the caller; this context does not read other contexts' tables.

use chrono::Utc;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::{CitizenForm, CompanyForm, NewAccount, NewCitizen, NewCompany, Password, Role};
use crate::service::{Identity, RequestMeta, SignUpError};
use crate::store::{self, Department};

/// An area of the city with the areas inside it: district, sub-district, community.
#[derive(Debug, Clone)]
pub struct Area {
    pub code: String,
    pub name: String,
    pub children: Vec<Area>,
}

#[derive(Debug, Clone)]
pub struct DemoPeople {
    pub citizen_name: String,
    pub citizen_id_number: String,
    pub citizen_phone: String,
    pub company_name: String,
    pub company_credit_code: String,
    pub company_phone: String,
    /// People of the population registry who may try signing up, as (name, ID number), in
    /// order of preference; the first without an account is shown as the newcomer.
    pub newcomers: Vec<(String, String)>,
}

/// One line of `haoban demo --accounts`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DemoAccount {
    pub role: String,
    pub login: String,
    /// None for the newcomer, who has no account yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub name: String,
}

/// The role of the registry person without an account, shown so that a visitor can try
/// signing up with real-name binding.
pub const NEWCOMER: &str = "newcomer";

/// City-level departments of the demo city: (code suffix, name, English name).
const BUREAUS: &[(&str, &str, &str)] = &[
    ("GA", "郑州市公安局", "Zhengzhou Public Security Bureau"),
    ("MZ", "郑州市民政局", "Zhengzhou Civil Affairs Bureau"),
    (
        "RS",
        "郑州市人力资源和社会保障局",
        "Zhengzhou Human Resources and Social Security Bureau",
    ),
    (
        "GJJ",
        "郑州住房公积金管理中心",
        "Zhengzhou Housing Provident Fund Centre",
    ),
    ("JY", "郑州市教育局", "Zhengzhou Education Bureau"),
    ("SW", "国家税务总局郑州市税务局", "Zhengzhou Tax Service"),
    (
        "SCJG",
        "郑州市市场监督管理局",
        "Zhengzhou Market Regulation Administration",
    ),
    ("WJ", "郑州市卫生健康委员会", "Zhengzhou Health Commission"),
    (
        "BDC",
        "郑州市不动产登记中心",
        "Zhengzhou Real Estate Registration Centre",
    ),
    (
        "FG",
        "郑州市住房保障和房地产管理局",
        "Zhengzhou Housing Administration",
    ),
    (
        "CL",
        "郑州市残疾人联合会",
        "Zhengzhou Disabled Persons' Federation",
    ),
    (
        "CG",
        "郑州市城市管理局",
        "Zhengzhou Urban Management Bureau",
    ),
    (
        "DSJ",
        "郑州市大数据管理局",
        "Zhengzhou Big Data Administration",
    ),
    (
        "YXZX",
        "郑州市城市运行管理中心",
        "Zhengzhou City Operations Centre",
    ),
];

pub const CITY_CODE: &str = "410100";

/// The demo password of a role: derived from the city's seed, so `demo --accounts` can print
/// it again later without storing it anywhere.
pub fn demo_password(seed: u64, role: &str) -> String {
    let d = Sha256::digest(format!("haoban-demo:{seed}:{role}").as_bytes());
    let n = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 1_000_000;
    format!("Hb-{role}-{n:06}")
}

const STAFF: &[(&str, &str, &str, Role)] = &[
    ("reviewer", "reviewer01", "MZ", Role::Reviewer),
    ("dept_admin", "deptadmin01", "MZ", Role::DeptAdmin),
    ("platform_admin", "admin", "DSJ", Role::PlatformAdmin),
    ("grid_worker", "grid01", "", Role::GridWorker),
    ("ops_centre", "ops01", "YXZX", Role::OpsCentre),
];

const STAFF_NAMES: &[&str] = &["李审批", "王管理", "赵平台", "周网格", "陈调度"];

fn dept(code: &str, name: &str, name_en: &str, level: &str, parent: Option<&str>) -> Department {
    Department {
        id: uuid::Uuid::now_v7().to_string(),
        code: code.to_string(),
        name: name.to_string(),
        name_en: name_en.to_string(),
        level: level.to_string(),
        parent_id: parent.map(str::to_string),
    }
}

/// Creates the departments and the demo accounts, unless accounts exist already.
pub async fn seed(
    identity: &Identity,
    seed: u64,
    areas: &[Area],
    people: &DemoPeople,
) -> anyhow::Result<()> {
    let db = identity.db();
    if store::count_accounts(db).await? > 0 {
        return Ok(());
    }
    let now = Utc::now();
    let city = dept(
        CITY_CODE,
        "郑州市人民政府",
        "Zhengzhou Municipal Government",
        "city",
        None,
    );
    let mut all = vec![city.clone()];
    for (suffix, name, name_en) in BUREAUS {
        let code = format!("{CITY_CODE}-{suffix}");
        all.push(dept(&code, name, name_en, "city", Some(&city.id)));
    }
    let mut first_community = None;
    for district in areas {
        let name_en = format!("District government {}", district.code);
        let dd = dept(
            &district.code,
            &format!("{}人民政府", district.name),
            &name_en,
            "district",
            Some(&city.id),
        );
        for sub in &district.children {
            let name_en = format!("Sub-district office {}", sub.code);
            let sd = dept(
                &sub.code,
                &format!("{}办事处", sub.name),
                &name_en,
                "subdistrict",
                Some(&dd.id),
            );
            for community in &sub.children {
                let name_en = format!("Community committee {}", community.code);
                let cd = dept(
                    &community.code,
                    &format!("{}居民委员会", community.name),
                    &name_en,
                    "community",
                    Some(&sd.id),
                );
                first_community.get_or_insert(cd.id.clone());
                all.push(cd);
            }
            all.push(sd);
        }
        all.push(dd);
    }
    // Parents before children, for the foreign key.
    all.sort_by_key(|d| {
        ["city", "district", "subdistrict", "community"]
            .iter()
            .position(|l| *l == d.level)
    });
    store::insert_departments(db, &all, now).await?;
    let meta = RequestMeta::default();
    let citizen = NewCitizen::parse(&CitizenForm {
        name: people.citizen_name.clone(),
        id_number: people.citizen_id_number.clone(),
        phone: people.citizen_phone.clone(),
        password: demo_password(seed, "citizen"),
    })
    .map_err(|e| anyhow::anyhow!("demo citizen: {e:?}"))?;
    identity
        .sign_up(&NewAccount::Citizen(citizen), &meta)
        .await
        .map_err(sign_up_err)?;
    let company = NewCompany::parse(&CompanyForm {
        name: people.company_name.clone(),
        credit_code: people.company_credit_code.clone(),
        phone: people.company_phone.clone(),
        password: demo_password(seed, "company"),
    })
    .map_err(|e| anyhow::anyhow!("demo company: {e:?}"))?;
    identity
        .sign_up(&NewAccount::Company(company), &meta)
        .await
        .map_err(sign_up_err)?;
    for ((role_name, login, suffix, role), name) in STAFF.iter().zip(STAFF_NAMES) {
        let department_id = if suffix.is_empty() {
            first_community.clone().unwrap_or_else(|| city.id.clone())
        } else {
            store::department_by_code(db, &format!("{CITY_CODE}-{suffix}"))
                .await?
                .map(|d| d.id)
                .unwrap_or_else(|| city.id.clone())
        };
        let password = Password::new_for(&demo_password(seed, role_name), &[])
            .map_err(|e| anyhow::anyhow!("demo password: {e:?}"))?;
        identity
            .create_staff(login, name, &department_id, &[*role], &password)
            .await
            .map_err(sign_up_err)?;
    }
    Ok(())
}

fn sign_up_err(e: SignUpError) -> anyhow::Error {
    anyhow::anyhow!("demo account: {e:?}")
}

/// The demo accounts, one per role, with their passwords; then the newcomer, if one of the
/// candidates has no account yet.
pub async fn accounts(
    identity: &Identity,
    seed: u64,
    people: &DemoPeople,
) -> anyhow::Result<Vec<DemoAccount>> {
    let mut logins = vec![
        ("citizen", people.citizen_id_number.to_ascii_uppercase()),
        ("company", people.company_credit_code.to_ascii_uppercase()),
    ];
    logins.extend(
        STAFF
            .iter()
            .map(|(role, login, _, _)| (*role, login.to_string())),
    );
    let mut out = Vec::new();
    for (role, login) in logins {
        let Some((account, _)) = store::credentials(identity.db(), &login).await? else {
            return Err(anyhow::anyhow!("demo account {role} is missing"));
        };
        out.push(DemoAccount {
            role: role.to_string(),
            login,
            password: Some(demo_password(seed, role)),
            name: account.name,
        });
    }
    for (name, id_number) in &people.newcomers {
        let login = id_number.to_ascii_uppercase();
        if store::credentials(identity.db(), &login).await?.is_none() {
            out.push(DemoAccount {
                role: NEWCOMER.to_string(),
                login,
                password: None,
                name: name.clone(),
            });
            break;
        }
    }
    Ok(out)
}
