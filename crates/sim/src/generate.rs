//! The pure generator: from a seed and a size to rows, in batches, without I/O.
//!
//! The city is built household by household, so every registry agrees with every other:
//! a child's birth record names the parents living with it, the parents' marriage was
//! registered before the birth, the home the family owns is at the household's address,
//! the employer in a social-insurance record is a registered company. Companies are drafted
//! first (employers and developers must exist before anyone works for or buys from them);
//! their legal persons are drawn from the adult population at the end.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{Datelike, Days, NaiveDate};
use kernel::{CreditCode, IdNumber};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::geo::CityMap;
use crate::names::Namer;
use crate::pick::{
    Weighted, age_on, birth_for_age, birthday, chance, date_between, month_string,
    months_inclusive, normal,
};
use crate::rows::*;

/// The day the registries were extracted: every date in the city is on or before it, and ages
/// and school grades are counted on it.
pub const AS_OF: NaiveDate = match NaiveDate::from_ymd_opt(2025, 12, 31) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// Rows per batch handed to the store; large enough to amortise a statement, small enough
/// to keep the producer and the writer overlapping.
const BATCH_ROWS: usize = 40_000;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// The grade (1–9) of compulsory education a child born on `birth` is in on `on`, if any.
/// Children start school in the September after they turn six (the cut-off is 31 August).
pub fn school_grade(birth: NaiveDate, on: NaiveDate) -> Option<i64> {
    let entry_year = if (birth.month(), birth.day()) <= (8, 31) {
        birth.year() + 6
    } else {
        birth.year() + 7
    };
    let school_year = if on.month() >= 9 {
        on.year()
    } else {
        on.year() - 1
    };
    let grade = i64::from(school_year - entry_year + 1);
    (1..=9).contains(&grade).then_some(grade)
}

const MOBILE_PREFIXES: &[u64] = &[
    134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 157, 158, 159, 178, 182, 183, 184, 187, 188,
    198, 130, 131, 132, 155, 156, 166, 175, 176, 185, 186, 133, 149, 153, 173, 177, 180, 181, 189,
    199,
];

const HOSPITALS: &[(&str, u32)] = &[
    ("郑州大学第一附属医院", 14),
    ("河南省人民医院", 12),
    ("河南省妇幼保健院", 12),
    ("郑州市妇幼保健院", 14),
    ("郑州市中心医院", 8),
    ("郑州人民医院", 8),
    ("郑州市第三人民医院", 6),
    ("郑州大学第三附属医院", 10),
    ("河南省中医院", 4),
    ("郑州市第一人民医院", 4),
    ("郑州市第七人民医院", 3),
    ("县（市）人民医院", 5),
];

/// Disability categories of GB/T 26341 with their national shares, and the digit the
/// certificate number carries for each.
const DISABILITY_CATEGORIES: &[((&str, char), u32)] = &[
    (("visual", '1'), 149),
    (("hearing", '2'), 241),
    (("speech", '3'), 15),
    (("physical", '4'), 291),
    (("intellectual", '5'), 67),
    (("mental", '6'), 74),
    (("multiple", '7'), 163),
];

const DISABILITY_GRADES: &[(i64, u32)] = &[(1, 15), (2, 25), (3, 30), (4, 30)];

/// (industry, business scope, weight).
const INDUSTRIES: &[(&str, &str, u32)] = &[
    (
        "科技",
        "技术开发、技术咨询、技术服务、技术转让；软件开发",
        10,
    ),
    ("商贸", "日用百货、五金交电、建筑材料、服装鞋帽的销售", 14),
    ("餐饮管理", "餐饮服务；餐饮管理；食品销售", 8),
    (
        "建筑工程",
        "房屋建筑工程、市政公用工程施工；建筑劳务分包",
        6,
    ),
    ("物业服务", "物业管理；保洁服务；停车场服务", 4),
    (
        "信息技术",
        "信息系统集成服务；计算机软硬件及辅助设备销售",
        8,
    ),
    ("房地产开发", "房地产开发与经营；房屋租赁", 2),
    (
        "文化传媒",
        "文化艺术交流活动策划；广告设计、制作、代理、发布",
        6,
    ),
    ("物流", "普通货物道路运输；仓储服务（不含危险化学品）", 5),
    ("食品", "食品销售；农副产品销售", 6),
    ("医药", "药品零售；第二类医疗器械销售", 3),
    (
        "教育咨询",
        "教育咨询服务（不含涉许可审批的教育培训活动）",
        4,
    ),
    ("汽车服务", "机动车维修；汽车零配件销售", 4),
    ("农业科技", "农作物种植；农业技术推广服务", 4),
    ("装饰工程", "住宅室内装饰装修；建筑装饰工程施工", 5),
    ("人力资源", "人力资源服务；劳务派遣服务", 2),
    ("机械设备", "机械设备销售、租赁；通用设备修理", 4),
    ("电子商务", "互联网销售；互联网信息服务", 5),
];

const SHOPS: &[&str] = &[
    "烩面馆",
    "胡辣汤店",
    "便利店",
    "理发店",
    "水果店",
    "五金店",
    "服装店",
    "早餐店",
    "烟酒店",
    "汽车修理部",
    "超市",
    "菜馆",
    "干洗店",
    "手机店",
    "粮油店",
    "面馆",
    "家电维修部",
];

const BRAND_FIRST: &[&str] = &[
    "华", "鑫", "宏", "瑞", "恒", "中", "嵩", "豫", "商", "金", "盛", "博", "天", "银", "鼎", "正",
    "安", "泰", "信", "德", "汇", "通", "远", "康", "明", "新", "同", "诚", "美", "佳", "龙", "凯",
    "东", "润", "和", "兴", "益", "海", "昌", "聚", "绿", "航", "启", "云", "卓", "蓝", "沃", "领",
];
const BRAND_SECOND: &[&str] = &[
    "源", "达", "泰", "丰", "创", "翔", "晟", "邦", "瑞", "祥", "通", "盛", "辉", "宇", "腾", "润",
    "发", "利", "诚", "信", "鼎", "航", "阳", "科", "安", "隆", "洋", "正", "昊", "嘉", "城", "原",
    "途", "峰", "远", "汇", "驰", "恒", "业", "威",
];

/// (kind, weight): limited companies dominate, then 个体工商户.
const COMPANY_KINDS: &[(&str, u32)] = &[
    ("llc", 55),
    ("llc_sole", 12),
    ("joint_stock", 3),
    ("sole_proprietorship", 5),
    ("partnership", 2),
    ("individual", 23),
];

fn industry_index(name: &str) -> usize {
    INDUSTRIES
        .iter()
        .position(|i| i.0 == name)
        .expect("industry listed")
}

/// Flat prices relative to the 2021 peak, by year of signing.
fn price_index(year: i32) -> f64 {
    match year {
        ..=2008 => 0.35,
        2009 => 0.38,
        2010 => 0.45,
        2011 => 0.50,
        2012 => 0.52,
        2013 => 0.58,
        2014 => 0.62,
        2015 => 0.65,
        2016 => 0.78,
        2017 => 0.92,
        2018 => 0.97,
        2019 => 0.99,
        2020 | 2021 => 1.0,
        2022 => 0.95,
        2023 => 0.90,
        2024 => 0.85,
        _ => 0.80,
    }
}

fn area_factor(area: Option<&str>) -> f64 {
    match area {
        Some("郑东新区") => 1.25,
        Some("高新区") => 0.9,
        Some("经开区") => 0.95,
        _ => 1.0,
    }
}

#[derive(Debug, Clone)]
struct Member {
    id: String,
    name: String,
    surname: &'static str,
    male: bool,
    birth: NaiveDate,
    ethnicity: &'static str,
    relation: &'static str,
    marital: &'static str,
    died_on: Option<NaiveDate>,
}

impl Member {
    fn alive(&self) -> bool {
        self.died_on.is_none()
    }
    fn who(&self) -> (String, String) {
        (self.id.clone(), self.name.clone())
    }
}

struct Couple {
    husband: (String, String),
    wife: (String, String),
    married_on: NaiveDate,
    divorced_on: Option<NaiveDate>,
}

/// A child's birth record to be written: the child's index and both parents.
struct Parents {
    child: usize,
    mother: (String, String),
    father: (String, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Single,
    Couple,
    Nuclear,
    ThreeGenerations,
    SingleParent,
}

struct Family {
    shape: Shape,
    members: Vec<Member>,
    couples: Vec<Couple>,
    parents: Vec<Parents>,
    registered_on: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Map,
    Households,
    Companies,
    Done,
}

/// What the generator decided that the store keeps beside the rows.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub demo_person_id: Option<String>,
    pub demo_company_code: Option<String>,
}

/// Produces a city batch by batch. The same seed and size always give the same batches.
pub struct Generator {
    map: CityMap,
    namer: Namer,
    rng: ChaCha8Rng,
    target: u64,
    emitted: u64,
    phase: Phase,
    district_pick: Weighted<usize>,
    community_pick: Vec<Weighted<usize>>,
    urban_pick: Vec<Weighted<usize>>,
    used_ids: HashSet<u64>,
    used_phones: HashSet<u64>,
    companies: Vec<CompanyRow>,
    employers: Weighted<usize>,
    developers: Vec<usize>,
    legal_pool: Vec<(String, String)>,
    legal_seen: u64,
    recent_adults: VecDeque<(String, String)>,
    hospitals: Weighted<&'static str>,
    disability_categories: Weighted<(&'static str, char)>,
    disability_grades: Weighted<i64>,
    households: u64,
    marriage_seq: HashMap<(u32, i32), u32>,
    cert_seq: HashMap<(&'static str, i32), u32>,
    births: u64,
    contracts: u64,
    vouchers: u64,
    hf_accounts: u64,
    companies_emitted: usize,
    out: Batch,
    outcome: Outcome,
    demo_person: Option<(String, String)>,
}

impl Generator {
    pub fn new(persons: u64, seed: u64) -> Generator {
        let map = CityMap::build();
        let district_pick = Weighted::new(
            &map.districts
                .iter()
                .enumerate()
                .map(|(i, d)| (i, d.residents))
                .collect::<Vec<_>>(),
        );
        let mut community_pick = Vec::new();
        let mut urban_pick = Vec::new();
        for di in 0..map.districts.len() {
            // An urban community houses about three times the people of a village.
            let all: Vec<(usize, u32)> = map
                .communities
                .iter()
                .enumerate()
                .filter(|(_, c)| c.district == di)
                .map(|(i, c)| (i, if c.village { 1 } else { 3 }))
                .collect();
            let urban: Vec<(usize, u32)> = all
                .iter()
                .copied()
                .filter(|(i, _)| !map.communities[*i].village)
                .collect();
            community_pick.push(Weighted::new(&all));
            urban_pick.push(Weighted::new(&urban));
        }
        // Companies come from their own stream, so the population does not shift when the
        // company rules change, and the other way round.
        let mut company_rng = ChaCha8Rng::seed_from_u64(seed);
        company_rng.set_stream(1);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(2);
        let mut g = Generator {
            map,
            namer: Namer::new(),
            rng,
            target: persons,
            emitted: 0,
            phase: Phase::Map,
            district_pick,
            community_pick,
            urban_pick,
            used_ids: HashSet::with_capacity(persons as usize),
            used_phones: HashSet::with_capacity(persons as usize),
            companies: Vec::new(),
            employers: Weighted::new(&[(0, 1)]),
            developers: Vec::new(),
            legal_pool: Vec::new(),
            legal_seen: 0,
            recent_adults: VecDeque::with_capacity(512),
            hospitals: Weighted::new(HOSPITALS),
            disability_categories: Weighted::new(DISABILITY_CATEGORIES),
            disability_grades: Weighted::new(DISABILITY_GRADES),
            households: 0,
            marriage_seq: HashMap::new(),
            cert_seq: HashMap::new(),
            births: 0,
            contracts: 0,
            vouchers: 0,
            hf_accounts: 0,
            companies_emitted: 0,
            out: Batch::default(),
            outcome: Outcome::default(),
            demo_person: None,
        };
        g.draft_companies(&mut company_rng, (persons / 20).max(1) as usize);
        g
    }

    /// What the generator chose for demonstrations; complete once [`next_batch`] returned `None`.
    ///
    /// [`next_batch`]: Generator::next_batch
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    pub fn next_batch(&mut self) -> Option<Batch> {
        loop {
            match self.phase {
                Phase::Map => {
                    self.emit_map();
                    self.phase = Phase::Households;
                }
                Phase::Households => {
                    while self.emitted < self.target && self.out.rows() < BATCH_ROWS {
                        let remaining = self.target - self.emitted;
                        self.household(remaining);
                    }
                    if self.emitted >= self.target {
                        self.assign_legal_persons();
                        self.phase = Phase::Companies;
                    }
                    if self.out.rows() >= BATCH_ROWS {
                        return Some(std::mem::take(&mut self.out));
                    }
                }
                Phase::Companies => {
                    let end = (self.companies_emitted + BATCH_ROWS).min(self.companies.len());
                    self.out
                        .companies
                        .extend_from_slice(&self.companies[self.companies_emitted..end]);
                    self.companies_emitted = end;
                    if end == self.companies.len() {
                        self.phase = Phase::Done;
                    }
                    return Some(std::mem::take(&mut self.out));
                }
                Phase::Done => {
                    return (self.out.rows() > 0).then(|| std::mem::take(&mut self.out));
                }
            }
        }
    }

    fn emit_map(&mut self) {
        let m = &self.map;
        for d in &m.districts {
            self.out.districts.push(GeoDistrictRow {
                code: d.code_str.clone(),
                name: d.name,
                kind: d.kind.code(),
                city_code: crate::geo::CITY_CODE,
                city_name: crate::geo::CITY_NAME,
            });
        }
        for sd in &m.sub_districts {
            self.out.sub_districts.push(GeoSubDistrictRow {
                code: sd.code.clone(),
                district_code: m.districts[sd.district].code_str.clone(),
                name: sd.name,
                kind: sd.kind,
                area: sd.area,
            });
        }
        for c in &m.communities {
            self.out.communities.push(GeoCommunityRow {
                code: c.code.clone(),
                sub_district_code: m.sub_districts[c.sub_district].code.clone(),
                district_code: m.districts[c.district].code_str.clone(),
                name: c.name.clone(),
                kind: if c.village { "village" } else { "community" },
            });
        }
        for s in &m.schools {
            self.out.schools.push(SchoolRow {
                school_id: s.school_id.clone(),
                name: s.name.clone(),
                level: s.level,
                district_code: m.districts[s.district].code_str.clone(),
                sub_district_code: s.sub_district_code.clone(),
                address: s.address.clone(),
            });
            for c in &s.communities {
                self.out.school_districts.push(SchoolDistrictRow {
                    school_id: s.school_id.clone(),
                    community_code: c.clone(),
                });
            }
        }
    }

    // ---- companies -------------------------------------------------------------------

    fn draft_companies(&mut self, rng: &mut ChaCha8Rng, count: usize) {
        let kinds = Weighted::new(COMPANY_KINDS);
        let industries = Weighted::new(
            &INDUSTRIES
                .iter()
                .enumerate()
                .map(|(i, x)| (i, x.2))
                .collect::<Vec<_>>(),
        );
        let mut names: HashSet<String> = HashSet::with_capacity(count);
        let mut codes: HashSet<String> = HashSet::with_capacity(count);
        for i in 0..count {
            let district = self.district_pick.sample(rng);
            let mut kind = kinds.sample(rng);
            let mut industry = industries.sample(rng);
            // The first company is the demo company; the second a developer, so new flats
            // always have a seller.
            if i < 2 {
                kind = "llc";
                industry = industry_index(if i == 0 {
                    "信息技术"
                } else {
                    "房地产开发"
                });
            }
            let (ind_name, scope, _) = INDUSTRIES[industry];
            let years_ago = (30.0 * rng.random::<f64>().powi(2)) as i32;
            let mut registered_on = date_between(
                rng,
                ymd(2025 - years_ago, 1, 1),
                ymd(2025 - years_ago, 12, 31),
            );
            if i == 0 {
                registered_on = ymd(2018, 6, 12);
            }
            // Names are unique in the registry. A crowded name space widens step by step: the
            // district in the name after a few clashes, a three-character brand after many.
            let district_name = self.map.districts[district].name;
            let short = district_name
                .trim_end_matches("回族区")
                .trim_end_matches(['区', '县', '市']);
            let mut attempt = 0;
            let name = loop {
                let mut brand = format!(
                    "{}{}",
                    BRAND_FIRST[rng.random_range(0..BRAND_FIRST.len())],
                    BRAND_SECOND[rng.random_range(0..BRAND_SECOND.len())]
                );
                if attempt >= 20 {
                    brand.push_str(BRAND_SECOND[rng.random_range(0..BRAND_SECOND.len())]);
                }
                let place = if attempt < 3 {
                    "郑州".to_string()
                } else {
                    format!("郑州{short}")
                };
                let shop = SHOPS[rng.random_range(0..SHOPS.len())];
                let n = match kind {
                    "joint_stock" => format!("河南{brand}{ind_name}股份有限公司"),
                    "sole_proprietorship" => format!("{place}{brand}{ind_name}中心"),
                    "partnership" => format!("{place}{brand}{ind_name}合伙企业（有限合伙）"),
                    "individual" => format!("{district_name}{brand}{shop}"),
                    _ => format!("{place}{brand}{ind_name}有限公司"),
                };
                if names.insert(n.clone()) {
                    break n;
                }
                attempt += 1;
            };
            let region = if kind == "individual" || rng.random_bool(0.5) {
                self.map.districts[district].code
            } else {
                410100
            };
            let code = loop {
                let body: String = if registered_on >= ymd(2015, 10, 1) {
                    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
                    let mut s = String::from("MA");
                    for _ in 0..6 {
                        s.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
                    }
                    s
                } else {
                    format!("{:08}", rng.random_range(10_000_000..80_000_000u32))
                };
                let prefix = if kind == "individual" { "92" } else { "91" };
                if let Some(cc) = CreditCode::from_parts(prefix, region, &body)
                    && codes.insert(cc.as_str().to_string())
                {
                    break cc.as_str().to_string();
                }
            };
            let capital_wan: i64 = match kind {
                "individual" => rng.random_range(1..=50),
                "joint_stock" => rng.random_range(500..=20_000),
                "partnership" => rng.random_range(100..=5_000),
                _ => {
                    let e = rng.random_range(1.0..4.0f64);
                    (10f64.powf(e)).round() as i64
                }
            };
            let status = if i < 2 {
                "active"
            } else {
                match rng.random_range(0..1000) {
                    0..900 => "active",
                    900..940 => "revoked",
                    _ => "deregistered",
                }
            };
            let community = self.urban_pick[district].sample(rng);
            let c = &self.map.communities[community];
            let address = format!(
                "{}{}{}号{}",
                self.map.districts[district].address_prefix,
                c.road,
                rng.random_range(1..=500),
                if kind == "individual" {
                    format!("{}号商铺", rng.random_range(1..=30))
                } else {
                    format!(
                        "{}层{:02}号",
                        rng.random_range(1..=28),
                        rng.random_range(1..=20)
                    )
                }
            );
            self.companies.push(CompanyRow {
                credit_code: code,
                name,
                kind,
                industry: ind_name,
                legal_person_id: String::new(),
                legal_person_name: String::new(),
                registered_capital_cents: capital_wan * 10_000 * 100,
                registered_on,
                address,
                district_code: self.map.districts[district].code_str.clone(),
                status,
                business_scope: scope,
            });
        }
        // A few employers are large: weight falls with the rank of drafting, which is random.
        let employers: Vec<(usize, u32)> = self
            .companies
            .iter()
            .enumerate()
            .filter(|(_, c)| c.status == "active" && c.kind != "individual")
            .map(|(i, _)| (i, (1_000_000 / (i as u32 + 20)).max(1)))
            .collect();
        self.employers = Weighted::new(&employers);
        self.developers = self
            .companies
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.industry == "房地产开发" && c.status == "active" && c.kind != "individual"
            })
            .map(|(i, _)| i)
            .collect();
        self.outcome.demo_company_code = Some(self.companies[0].credit_code.clone());
    }

    /// The demo company is run by the demo citizen; every other company by an adult drawn
    /// uniformly from the population (the pool is a reservoir sample).
    fn assign_legal_persons(&mut self) {
        let mut pool = std::mem::take(&mut self.legal_pool);
        if pool.is_empty()
            && let Some(demo) = &self.demo_person
        {
            pool.push(demo.clone());
        }
        for (i, c) in self.companies.iter_mut().enumerate() {
            let (id, name) = match (&self.demo_person, i) {
                (Some(demo), 0) => demo.clone(),
                _ => pool[i % pool.len()].clone(),
            };
            c.legal_person_id = id;
            c.legal_person_name = name;
        }
    }
}

/// Ages in years with integer weights, for the household shapes.
fn weighted_age<R: Rng>(rng: &mut R, bands: &[(i32, i32, u32)]) -> i32 {
    let total: u32 = bands.iter().map(|(a, b, w)| w * (b - a + 1) as u32).sum();
    let mut x = rng.random_range(0..total);
    for &(a, b, w) in bands {
        let span = w * (b - a + 1) as u32;
        if x < span {
            return a + (x / w) as i32;
        }
        x -= span;
    }
    bands.last().map(|b| b.1).unwrap_or(0)
}

const ELDERLY: &[(i32, i32, u32)] = &[(60, 69, 10), (70, 79, 8), (80, 89, 4), (90, 95, 1)];
const FIRST_CHILD_AGE: &[(i32, i32, u32)] = &[
    (0, 17, 10),
    (18, 18, 8),
    (19, 19, 7),
    (20, 20, 6),
    (21, 21, 5),
    (22, 22, 4),
    (23, 24, 3),
    (25, 26, 2),
    (27, 28, 1),
];
const MOTHER_AGE_AT_FIRST_BIRTH: &[(i32, i32, u32)] = &[
    (22, 22, 3),
    (23, 23, 5),
    (24, 24, 8),
    (25, 25, 10),
    (26, 27, 11),
    (28, 28, 10),
    (29, 29, 9),
    (30, 30, 7),
    (31, 31, 5),
    (32, 32, 4),
    (33, 33, 3),
    (34, 34, 2),
];
/// How much younger the wife is than the husband, in years.
const WIFE_GAP: &[(i32, i32, u32)] = &[
    (-3, -3, 2),
    (-2, -2, 4),
    (-1, -1, 8),
    (0, 0, 14),
    (1, 2, 16),
    (3, 3, 13),
    (4, 4, 9),
    (5, 5, 6),
    (6, 6, 4),
    (7, 7, 3),
    (8, 10, 1),
];

/// The shape of a household before anyone in it exists, so its size is known up front.
struct Plan {
    shape: Shape,
    children: usize,
    grandparents: usize,
}

impl Plan {
    fn size(&self) -> u64 {
        let n = match self.shape {
            // A late spouse still on file is added only when there is room for two.
            Shape::Single => 1,
            Shape::Couple => 2,
            Shape::Nuclear => 2 + self.children,
            Shape::ThreeGenerations => 2 + self.children + self.grandparents,
            // The former spouse lives on, in a household of their own.
            Shape::SingleParent => 2 + self.children,
        };
        n as u64
    }
}

impl Generator {
    fn plan(&mut self, village: bool) -> Plan {
        let r = &mut self.rng;
        let shape = match r.random_range(0..1000) {
            0..250 => Shape::Single,
            250..470 => Shape::Couple,
            470..850 => Shape::Nuclear,
            850..950 => Shape::ThreeGenerations,
            _ => Shape::SingleParent,
        };
        // Families in villages had more children; the one-child rule held tighter in town.
        let children = match (shape, village) {
            (Shape::Nuclear | Shape::ThreeGenerations, false) => match r.random_range(0..100) {
                0..65 => 1,
                65..97 => 2,
                _ => 3,
            },
            (Shape::Nuclear | Shape::ThreeGenerations, true) => match r.random_range(0..100) {
                0..40 => 1,
                40..88 => 2,
                _ => 3,
            },
            (Shape::SingleParent, _) => 1 + usize::from(r.random_range(0..100) < 30),
            _ => 0,
        };
        let grandparents = if shape == Shape::ThreeGenerations {
            1 + usize::from(r.random_range(0..100) < 55)
        } else {
            0
        };
        Plan {
            shape,
            children,
            grandparents,
        }
    }

    fn household(&mut self, remaining: u64) {
        let demo = self.households == 0;
        let district = self.district_pick.sample(&mut self.rng);
        let community = self.community_pick[district].sample(&mut self.rng);
        let village = self.map.communities[community].village;
        let ethnicity = self
            .namer
            .ethnicity(&mut self.rng, self.map.districts[district].hui_per_mille);
        let mut plan = self.plan(village);
        if demo {
            plan = Plan {
                shape: if remaining >= 3 {
                    Shape::Nuclear
                } else {
                    Shape::Single
                },
                children: if remaining >= 4 { 2 } else { 1 },
                grandparents: 0,
            };
        }
        if plan.size() > remaining {
            plan = Plan {
                shape: Shape::Single,
                children: 0,
                grandparents: 0,
            };
        }
        let fam = match plan.shape {
            Shape::Single => self.single(district, ethnicity, remaining >= 2, demo),
            Shape::Couple => self.couple(district, ethnicity),
            Shape::Nuclear | Shape::ThreeGenerations => {
                self.nuclear(district, ethnicity, &plan, demo)
            }
            Shape::SingleParent => self.single_parent(district, ethnicity, &plan),
        };
        if demo {
            let m = &fam.members[0];
            self.outcome.demo_person_id = Some(m.id.clone());
            self.demo_person = Some(m.who());
        }
        self.emit_family(community, fam, demo);
    }

    /// A resident with a fresh ID number and a name of their generation.
    #[allow(clippy::too_many_arguments)]
    fn member(
        &mut self,
        district: usize,
        surname: &'static str,
        male: bool,
        birth: NaiveDate,
        ethnicity: &'static str,
        relation: &'static str,
        marital: &'static str,
    ) -> Member {
        let (id, birth) = self.id_number(district, birth, male);
        let given = self.namer.given(&mut self.rng, male, birth);
        Member {
            id,
            name: format!("{surname}{given}"),
            surname,
            male,
            birth,
            ethnicity,
            relation,
            marital,
            died_on: None,
        }
    }

    /// A unique ID number. The three-digit sequence is drawn at random, odd for men and even
    /// for women; when a day is full in a district the birth moves to the day before.
    fn id_number(&mut self, district: usize, birth: NaiveDate, male: bool) -> (String, NaiveDate) {
        let region = self.map.districts[district].code;
        let mut birth = birth;
        loop {
            let day = birth.num_days_from_ce() as u64;
            let key = |seq: u16| ((district as u64) << 48) | (day << 12) | u64::from(seq);
            let parity = u16::from(!male) + 1;
            let mut found = None;
            for _ in 0..32 {
                let seq = self.rng.random_range(0..499u16) * 2 + parity;
                if self.used_ids.insert(key(seq)) {
                    found = Some(seq);
                    break;
                }
            }
            if found.is_none() {
                found = (0..499u16)
                    .map(|k| k * 2 + parity)
                    .find(|&seq| self.used_ids.insert(key(seq)));
            }
            if let Some(seq) = found {
                return (IdNumber::from_parts(region, birth, seq).into(), birth);
            }
            birth = birth.pred_opt().expect("valid date");
        }
    }

    fn phone(&mut self) -> String {
        loop {
            let prefix = MOBILE_PREFIXES[self.rng.random_range(0..MOBILE_PREFIXES.len())];
            let n = prefix * 100_000_000 + self.rng.random_range(0..100_000_000u64);
            if self.used_phones.insert(n) {
                return n.to_string();
            }
        }
    }

    fn wife_birth(&mut self, husband: NaiveDate) -> NaiveDate {
        let gap = weighted_age(&mut self.rng, WIFE_GAP);
        let days = self.rng.random_range(0..365);
        let b = birthday(husband, gap);
        b.checked_add_days(Days::new(days))
            .unwrap_or(b)
            .min(birthday(AS_OF, -21))
    }

    /// A wedding day after both reached the legal age (22 for men, 20 for women) and no later
    /// than `latest`; constructions keep `latest` past the legal ages.
    fn marriage_date(
        &mut self,
        husband: NaiveDate,
        wife: NaiveDate,
        latest: NaiveDate,
    ) -> NaiveDate {
        let lower = birthday(husband, 22).max(birthday(wife, 20));
        let age = self.rng.random_range(21..=28);
        let target = birthday(wife, age) + Days::new(self.rng.random_range(0..365));
        target.max(lower).min(latest)
    }

    fn single(
        &mut self,
        district: usize,
        ethnicity: &'static str,
        room_for_two: bool,
        demo: bool,
    ) -> Family {
        let age = if demo {
            35
        } else {
            match self.rng.random_range(0..1000) {
                0..520 => self.rng.random_range(20..=34),
                520..760 => self.rng.random_range(35..=59),
                _ => weighted_age(&mut self.rng, ELDERLY),
            }
        };
        let male = demo || self.rng.random_bool(if age >= 70 { 0.35 } else { 0.55 });
        let birth = birth_for_age(&mut self.rng, age, AS_OF);
        let surname = self.namer.surname(&mut self.rng, ethnicity);
        let widowed = age >= 60 && self.rng.random_range(0..100) < 75;
        let marital = if widowed { "widowed" } else { "single" };
        let me = self.member(
            district,
            surname,
            male,
            birth,
            ethnicity,
            "householder",
            marital,
        );
        let mut fam = Family {
            shape: Shape::Single,
            registered_on: birthday(me.birth, 18).max(ymd(1985, 1, 1)),
            members: vec![me],
            couples: Vec::new(),
            parents: Vec::new(),
        };
        // Most widowed people's late spouses are still on file, their registration cancelled.
        if widowed && room_for_two && self.rng.random_range(0..100) < 70 {
            let me = fam.members[0].clone();
            let spouse_birth = if me.male {
                self.wife_birth(me.birth)
            } else {
                birthday(me.birth, -weighted_age(&mut self.rng, WIFE_GAP))
            };
            let surname = self.namer.surname(&mut self.rng, ethnicity);
            let mut spouse = self.member(
                district,
                surname,
                !me.male,
                spouse_birth,
                ethnicity,
                "spouse",
                "married",
            );
            let (h, w) = if me.male {
                (me.who(), spouse.who())
            } else {
                (spouse.who(), me.who())
            };
            let (hb, wb) = if me.male {
                (me.birth, spouse.birth)
            } else {
                (spouse.birth, me.birth)
            };
            let married_on = self.marriage_date(hb, wb, AS_OF);
            let earliest_death = birthday(spouse.birth, 55)
                .max(married_on)
                .max(ymd(2000, 1, 1))
                .min(AS_OF);
            spouse.died_on = Some(date_between(&mut self.rng, earliest_death, AS_OF));
            fam.couples.push(Couple {
                husband: h,
                wife: w,
                married_on,
                divorced_on: None,
            });
            fam.registered_on = married_on.max(ymd(1985, 1, 1));
            fam.members.push(spouse);
        }
        fam
    }

    fn couple(&mut self, district: usize, ethnicity: &'static str) -> Family {
        let young = self.rng.random_range(0..100) < 35;
        let husband_age = if young {
            self.rng.random_range(24..=35)
        } else {
            weighted_age(
                &mut self.rng,
                &[(45, 59, 12), (60, 69, 10), (70, 79, 6), (80, 88, 2)],
            )
        };
        let hb = birth_for_age(&mut self.rng, husband_age, AS_OF);
        let wb = self.wife_birth(hb);
        let hs = self.namer.surname(&mut self.rng, ethnicity);
        let ws = self.namer.surname(&mut self.rng, ethnicity);
        let husband = self.member(district, hs, true, hb, ethnicity, "householder", "married");
        let wife = self.member(district, ws, false, wb, ethnicity, "spouse", "married");
        let married_on = self.marriage_date(husband.birth, wife.birth, AS_OF);
        Family {
            shape: Shape::Couple,
            registered_on: married_on.max(ymd(1985, 1, 1)),
            couples: vec![Couple {
                husband: husband.who(),
                wife: wife.who(),
                married_on,
                divorced_on: None,
            }],
            members: vec![husband, wife],
            parents: Vec::new(),
        }
    }

    /// Children's birth dates, the first at `first_age`, the next two to seven years apart,
    /// none after the extraction day.
    fn children_births(&mut self, first_age: i32, count: usize) -> Vec<NaiveDate> {
        let mut out = vec![birth_for_age(&mut self.rng, first_age, AS_OF)];
        while out.len() < count {
            let prev = *out.last().expect("one child");
            let next = birthday(prev, self.rng.random_range(2..=7))
                + Days::new(self.rng.random_range(0..200));
            if next > AS_OF {
                break;
            }
            out.push(next);
        }
        out
    }

    fn nuclear(
        &mut self,
        district: usize,
        ethnicity: &'static str,
        plan: &Plan,
        demo: bool,
    ) -> Family {
        let three = plan.shape == Shape::ThreeGenerations;
        let first_age = if demo {
            8
        } else if three {
            self.rng.random_range(0..=15)
        } else {
            weighted_age(&mut self.rng, FIRST_CHILD_AGE)
        };
        let mut births = self.children_births(first_age, plan.children);
        if demo && plan.children >= 2 {
            births = vec![
                birth_for_age(&mut self.rng, 8, AS_OF),
                birth_for_age(&mut self.rng, 3, AS_OF),
            ];
        }
        let first = births[0];
        let mother_age = if demo {
            26
        } else {
            weighted_age(&mut self.rng, MOTHER_AGE_AT_FIRST_BIRTH)
        };
        let wb = birthday(first, -mother_age) - Days::new(self.rng.random_range(0..365));
        // The father is at least 23 at the first birth, so the wedding can precede it lawfully.
        let gap = if demo {
            2
        } else {
            weighted_age(&mut self.rng, WIFE_GAP)
        };
        let hb = birthday(wb, -gap).min(birthday(first, -23));
        let hs = self.namer.surname(&mut self.rng, ethnicity);
        let ws = self.namer.surname(&mut self.rng, ethnicity);
        let husband_first = !self.rng.random_bool(0.2);
        let (hr, wr) = if husband_first || demo {
            ("householder", "spouse")
        } else {
            ("spouse", "householder")
        };
        let husband = self.member(district, hs, true, hb, ethnicity, hr, "married");
        let wife = self.member(district, ws, false, wb, ethnicity, wr, "married");
        let latest = first - Days::new(280);
        let married_on = self.marriage_date(husband.birth, wife.birth, latest);
        let mut fam = Family {
            shape: plan.shape,
            registered_on: married_on.max(ymd(1985, 1, 1)),
            couples: vec![Couple {
                husband: husband.who(),
                wife: wife.who(),
                married_on,
                divorced_on: None,
            }],
            members: Vec::new(),
            parents: Vec::new(),
        };
        let (father, mother) = (husband.who(), wife.who());
        let (hb, surname) = (husband.birth, husband.surname);
        if husband_first || demo {
            fam.members.push(husband);
            fam.members.push(wife);
        } else {
            fam.members.push(wife);
            fam.members.push(husband);
        }
        for b in births {
            let male = self.rng.random_bool(0.52);
            // A child usually takes the father's surname.
            let s = if self.rng.random_range(0..100) < 95 {
                surname
            } else {
                fam.members
                    .iter()
                    .find(|m| !m.male)
                    .map(|m| m.surname)
                    .unwrap_or(surname)
            };
            let child = self.member(district, s, male, b, ethnicity, "child", "single");
            fam.parents.push(Parents {
                child: fam.members.len(),
                mother: mother.clone(),
                father: father.clone(),
            });
            fam.members.push(child);
        }
        if three {
            // The husband's parents live with the family.
            let gb = birthday(hb, -self.rng.random_range(24..=32))
                - Days::new(self.rng.random_range(0..365));
            // The grandmother was at least 21 when she bore the husband.
            let gmb = self.wife_birth(gb).min(birthday(hb, -21));
            let both = plan.grandparents >= 2 && age_on(gb, AS_OF) <= 95;
            let grandpa_only =
                !both && self.rng.random_range(0..100) < 35 && age_on(gb, AS_OF) <= 95;
            let marital = if both { "married" } else { "widowed" };
            let mut gp = Vec::new();
            if both || grandpa_only {
                gp.push(self.member(district, surname, true, gb, ethnicity, "parent", marital));
            }
            if both || !grandpa_only {
                let s = self.namer.surname(&mut self.rng, ethnicity);
                gp.push(self.member(
                    district,
                    s,
                    false,
                    gmb.min(birthday(AS_OF, -50)),
                    ethnicity,
                    "parent",
                    marital,
                ));
            }
            if both {
                let married_on = self.marriage_date(gp[0].birth, gp[1].birth, hb - Days::new(280));
                fam.couples.push(Couple {
                    husband: gp[0].who(),
                    wife: gp[1].who(),
                    married_on,
                    divorced_on: None,
                });
                if hb >= ymd(1996, 1, 1) {
                    let child = if husband_first || demo { 0 } else { 1 };
                    fam.parents.push(Parents {
                        child,
                        mother: gp[1].who(),
                        father: gp[0].who(),
                    });
                }
            }
            fam.members.extend(gp);
        }
        fam
    }

    fn single_parent(&mut self, district: usize, ethnicity: &'static str, plan: &Plan) -> Family {
        let first_age = self.rng.random_range(0..=17);
        let births = self.children_births(first_age, plan.children);
        let first = births[0];
        let last = *births.last().expect("one child");
        let mother_age = weighted_age(&mut self.rng, MOTHER_AGE_AT_FIRST_BIRTH);
        let wb = birthday(first, -mother_age) - Days::new(self.rng.random_range(0..365));
        let gap = weighted_age(&mut self.rng, WIFE_GAP);
        let hb = birthday(wb, -gap).min(birthday(first, -23));
        let hs = self.namer.surname(&mut self.rng, ethnicity);
        let ws = self.namer.surname(&mut self.rng, ethnicity);
        let mother_keeps = self.rng.random_range(0..100) < 75;
        let (hr, wr) = if mother_keeps {
            ("former_spouse", "householder")
        } else {
            ("householder", "former_spouse")
        };
        let husband = self.member(district, hs, true, hb, ethnicity, hr, "divorced");
        let wife = self.member(district, ws, false, wb, ethnicity, wr, "divorced");
        let married_on = self.marriage_date(husband.birth, wife.birth, first - Days::new(280));
        let divorced_on = date_between(&mut self.rng, last + Days::new(30), AS_OF).min(AS_OF);
        let couple = Couple {
            husband: husband.who(),
            wife: wife.who(),
            married_on,
            divorced_on: Some(divorced_on),
        };
        let (father, mother) = (husband.who(), wife.who());
        let (parent, mut former) = if mother_keeps {
            (wife, husband)
        } else {
            (husband, wife)
        };
        former.relation = "householder";
        // The former spouse has a household of their own elsewhere in the city.
        let other_district = self.district_pick.sample(&mut self.rng);
        let other_community = self.community_pick[other_district].sample(&mut self.rng);
        let alone = Family {
            shape: Shape::Single,
            registered_on: divorced_on,
            members: vec![former],
            couples: Vec::new(),
            parents: Vec::new(),
        };
        self.emit_family(other_community, alone, false);
        let surname = hs;
        let mut fam = Family {
            shape: Shape::SingleParent,
            registered_on: divorced_on,
            members: vec![parent],
            couples: vec![couple],
            parents: Vec::new(),
        };
        for b in births {
            let male = self.rng.random_bool(0.52);
            let child = self.member(district, surname, male, b, ethnicity, "child", "single");
            fam.parents.push(Parents {
                child: fam.members.len(),
                mother: mother.clone(),
                father: father.clone(),
            });
            fam.members.push(child);
        }
        fam
    }
}

impl Generator {
    fn address(&mut self, community: usize) -> String {
        let c = &self.map.communities[community];
        let d = &self.map.districts[c.district];
        if c.village {
            let sd = self.map.sub_districts[c.sub_district].name;
            format!(
                "{}{sd}{}{}号",
                d.address_prefix,
                c.name,
                self.rng.random_range(1..=400)
            )
        } else {
            let building = self.rng.random_range(1..=30);
            let unit = self.rng.random_range(1..=4);
            let floor = self.rng.random_range(1..=33);
            let room = self.rng.random_range(1..=4);
            format!(
                "{}{}{}号院{building}号楼{unit}单元{floor}{room:02}号",
                d.address_prefix, c.road, c.gate_no
            )
        }
    }

    fn emit_family(&mut self, community: usize, fam: Family, demo: bool) {
        let district = self.map.communities[community].district;
        let village = self.map.communities[community].village;
        let community_code = self.map.communities[community].code.clone();
        let district_code = self.map.districts[district].code_str.clone();
        let household_id = format!("{}{:08}", district_code, self.households);
        self.households += 1;
        let address = self.address(community);
        let head = fam
            .members
            .iter()
            .position(|m| m.relation == "householder")
            .unwrap_or(0);
        self.out.households.push(HouseholdRow {
            household_id: household_id.clone(),
            householder_id: fam.members[head].id.clone(),
            kind: if village { "rural" } else { "urban" },
            address: address.clone(),
            community_code: community_code.clone(),
            district_code: district_code.clone(),
            registered_on: fam.registered_on.min(AS_OF),
        });
        for m in &fam.members {
            let phone = (m.alive() && (age_on(m.birth, AS_OF) >= 14 || demo)).then(|| self.phone());
            self.out.persons.push(PersonRow {
                id_number: m.id.clone(),
                name: m.name.clone(),
                gender: if m.male { "M" } else { "F" },
                birth_date: m.birth,
                ethnicity: m.ethnicity,
                household_id: household_id.clone(),
                relation: m.relation,
                marital_status: m.marital,
                community_code: community_code.clone(),
                district_code: district_code.clone(),
                address: address.clone(),
                phone,
                status: if m.alive() { "alive" } else { "deceased" },
                died_on: m.died_on,
            });
        }
        self.emitted += fam.members.len() as u64;
        let d_code = self.map.districts[district].code;
        let office = format!("{}民政局婚姻登记处", self.map.districts[district].name);
        for c in &fam.couples {
            let year = c.married_on.year();
            let seq = self.marriage_seq.entry((d_code, year)).or_default();
            *seq += 1;
            self.out.marriages.push(MarriageRow {
                registration_no: format!("J{d_code}-{year}-{:06}", *seq),
                husband_id: c.husband.0.clone(),
                husband_name: c.husband.1.clone(),
                wife_id: c.wife.0.clone(),
                wife_name: c.wife.1.clone(),
                registered_on: c.married_on,
                registry_office: office.clone(),
                status: if c.divorced_on.is_some() {
                    "divorced"
                } else {
                    "married"
                },
                divorced_on: c.divorced_on,
            });
        }
        // Birth medical certificates exist since 1996.
        for p in &fam.parents {
            let child = &fam.members[p.child];
            if child.birth < ymd(1996, 1, 1) {
                continue;
            }
            self.births += 1;
            let letter = (b'K' + ((child.birth.year() - 1996) / 3) as u8) as char;
            let weight = (3300.0 + 420.0 * normal(&mut self.rng)).clamp(1800.0, 4800.0) as i64;
            self.out.births.push(BirthRow {
                certificate_no: format!("{letter}41{:07}", self.births),
                child_id: child.id.clone(),
                child_name: child.name.clone(),
                gender: if child.male { "M" } else { "F" },
                born_on: child.birth,
                weight_g: weight,
                hospital: self.hospitals.sample(&mut self.rng),
                mother_id: p.mother.0.clone(),
                mother_name: p.mother.1.clone(),
                father_id: p.father.0.clone(),
                father_name: p.father.1.clone(),
            });
        }
        for m in &fam.members {
            if !m.alive() {
                continue;
            }
            let age = age_on(m.birth, AS_OF);
            self.disability(m, age);
            let force = demo && matches!(m.relation, "householder" | "spouse");
            self.work(m, age, village, force);
            self.student(m, community);
            if (25..=70).contains(&age) {
                self.offer_legal_person(m.who());
            }
        }
        self.properties(&fam, head, community, &address, demo);
        // Later households may buy second-hand from these adults; never this household itself.
        for m in fam
            .members
            .iter()
            .filter(|m| m.alive() && age_on(m.birth, AS_OF) >= 25)
        {
            if self.recent_adults.len() >= 512 {
                self.recent_adults.pop_front();
            }
            self.recent_adults.push_back(m.who());
        }
    }

    fn offer_legal_person(&mut self, who: (String, String)) {
        let k = self.companies.len();
        self.legal_seen += 1;
        if self.legal_pool.len() < k {
            self.legal_pool.push(who);
        } else {
            let j = self.rng.random_range(0..self.legal_seen) as usize;
            if j < k {
                self.legal_pool[j] = who;
            }
        }
    }

    fn disability(&mut self, m: &Member, age: i32) {
        // Disability is much commoner in old age; overall about six in a hundred.
        let per_mille = match age {
            0 => 0,
            1..=17 => 20,
            18..=59 => 50,
            60..=79 => 140,
            _ => 250,
        };
        if !chance(&mut self.rng, per_mille) {
            return;
        }
        let (category, digit) = self.disability_categories.sample(&mut self.rng);
        let grade = self.disability_grades.sample(&mut self.rng);
        let from = birthday(m.birth, 1).max(ymd(2008, 1, 1));
        self.out.disabilities.push(DisabilityRow {
            cert_no: format!("{}{digit}{grade}", m.id),
            id_number: m.id.clone(),
            name: m.name.clone(),
            category,
            grade,
            issued_on: date_between(&mut self.rng, from, AS_OF),
        });
    }

    fn wage_cents(&mut self) -> i64 {
        // Log-normal around Zhengzhou's median wage, floored at the city's minimum wage.
        let yuan = (6000.0 * (0.45 * normal(&mut self.rng)).exp()).clamp(2100.0, 80_000.0);
        (yuan / 10.0).round() as i64 * 1000
    }

    fn insurance(
        &mut self,
        m: &Member,
        kinds: &[&'static str],
        first: NaiveDate,
        last: NaiveDate,
        status: &'static str,
        paid_per_mille: i64,
    ) {
        let months = (months_inclusive(first, last) * paid_per_mille / 1000).max(1);
        for &k in kinds {
            self.out.insurance.push(InsuranceRow {
                id_number: m.id.clone(),
                insurance: k,
                months,
                first_month: month_string(first),
                last_month: month_string(last),
                status,
            });
        }
    }

    fn work(&mut self, m: &Member, age: i32, village: bool, force: bool) {
        let retire = if m.male { 60 } else { 55 };
        if age < 18 {
            return;
        }
        if age >= retire {
            if age < 100 && chance(&mut self.rng, if village { 300 } else { 750 }) {
                let last = birthday(m.birth, retire);
                let first = birthday(m.birth, self.rng.random_range(20..=25))
                    .max(ymd(1986, 1, 1))
                    .min(last);
                self.insurance(m, &["pension", "medical"], first, last, "retired", 1000);
            }
            return;
        }
        let per_mille = match age {
            18..=21 => 150,
            22..=24 => 650,
            25..=49 => 820,
            _ => 620,
        };
        let per_mille = if village {
            per_mille * 6 / 10
        } else {
            per_mille
        };
        let career_start = birthday(m.birth, self.rng.random_range(18..=24)).max(ymd(1992, 1, 1));
        if career_start > AS_OF - Days::new(60) && !force {
            return;
        }
        let career_start = career_start.min(AS_OF - Days::new(60));
        if force || chance(&mut self.rng, per_mille) {
            let employer = self.employers.sample(&mut self.rng);
            let span = (AS_OF - career_start).num_days().clamp(31, 15 * 365);
            let since =
                (AS_OF - Days::new(self.rng.random_range(30..=span) as u64)).max(career_start);
            let wage = self.wage_cents();
            if since > career_start + Days::new(400) && chance(&mut self.rng, 500) {
                let before = self.employers.sample(&mut self.rng);
                let until = since - Days::new(self.rng.random_range(1..=180));
                self.out.employment.push(EmploymentRow {
                    id_number: m.id.clone(),
                    name: m.name.clone(),
                    employer_code: self.companies[before].credit_code.clone(),
                    employer_name: self.companies[before].name.clone(),
                    since: career_start,
                    until: Some(until.max(career_start + Days::new(30))),
                    monthly_wage_cents: wage * 8 / 10 / 1000 * 1000,
                });
            }
            self.out.employment.push(EmploymentRow {
                id_number: m.id.clone(),
                name: m.name.clone(),
                employer_code: self.companies[employer].credit_code.clone(),
                employer_name: self.companies[employer].name.clone(),
                since,
                until: None,
                monthly_wage_cents: wage,
            });
            let paid = self.rng.random_range(880..=1000);
            self.insurance(
                m,
                &["pension", "medical", "unemployment"],
                career_start,
                AS_OF,
                "contributing",
                paid,
            );
            if force || chance(&mut self.rng, 850) {
                // Employer and employee each pay 12% of the wage into the account.
                let deposit = wage * 24 / 100 / 100 * 100;
                let opened = career_start.max(ymd(1999, 1, 1)).min(since);
                let months = months_inclusive(opened, AS_OF);
                let kept = self.rng.random_range(150..=1000);
                self.hf_accounts += 1;
                self.out.housing_funds.push(HousingFundRow {
                    account_no: format!("41{:010}", self.hf_accounts),
                    id_number: m.id.clone(),
                    name: m.name.clone(),
                    employer_code: Some(self.companies[employer].credit_code.clone()),
                    balance_cents: deposit * months * kept / 1000,
                    monthly_deposit_cents: deposit,
                    opened_on: opened,
                    status: "active",
                });
            }
        } else if age >= 25 && chance(&mut self.rng, 500) {
            // Worked once, not now: contributions stopped, the fund account sealed (封存).
            let last = date_between(
                &mut self.rng,
                career_start + Days::new(365),
                AS_OF - Days::new(60),
            );
            if last <= career_start {
                return;
            }
            let paid = self.rng.random_range(850..=1000);
            self.insurance(
                m,
                &["pension", "medical", "unemployment"],
                career_start,
                last,
                "suspended",
                paid,
            );
            if chance(&mut self.rng, 400) {
                let opened = career_start.max(ymd(1999, 1, 1)).min(last);
                let deposit = self.wage_cents() * 24 / 100 / 100 * 100;
                let months = months_inclusive(opened, last);
                self.hf_accounts += 1;
                self.out.housing_funds.push(HousingFundRow {
                    account_no: format!("41{:010}", self.hf_accounts),
                    id_number: m.id.clone(),
                    name: m.name.clone(),
                    employer_code: None,
                    balance_cents: deposit * months * self.rng.random_range(100..=900) / 1000,
                    monthly_deposit_cents: 0,
                    opened_on: opened,
                    status: "sealed",
                });
            }
        }
    }

    fn student(&mut self, m: &Member, community: usize) {
        let Some(grade) = school_grade(m.birth, AS_OF) else {
            return;
        };
        let c = &self.map.communities[community];
        let (school, first_grade) = if grade <= 6 {
            (&self.map.schools[c.primary_school], 1)
        } else {
            (&self.map.schools[c.junior_school], 7)
        };
        let school_year = if AS_OF.month() >= 9 {
            AS_OF.year()
        } else {
            AS_OF.year() - 1
        };
        let entered = school_year - (grade - first_grade) as i32;
        self.out.students.push(StudentRow {
            id_number: m.id.clone(),
            student_no: format!("G{}", m.id),
            name: m.name.clone(),
            school_id: school.school_id.clone(),
            grade,
            class_no: self.rng.random_range(1..=12),
            enrolled_on: ymd(entered, 9, 1),
        });
    }

    fn properties(
        &mut self,
        fam: &Family,
        head: usize,
        community: usize,
        address: &str,
        demo: bool,
    ) {
        let owner = &fam.members[head];
        let age = age_on(owner.birth, AS_OF);
        if !owner.alive() || age < 20 {
            return;
        }
        let village = self.map.communities[community].village;
        let per_mille = match fam.shape {
            _ if village => 700,
            Shape::Single if age < 35 => 200,
            Shape::Single if age < 60 => 550,
            Shape::Single => 650,
            Shape::Couple if age < 40 => 600,
            Shape::Couple => 820,
            Shape::Nuclear => 730,
            Shape::ThreeGenerations => 780,
            Shape::SingleParent => 450,
        };
        if !demo && !chance(&mut self.rng, per_mille) {
            return;
        }
        let spouse = fam.members.iter().find(|m| {
            m.alive() && m.marital == "married" && m.id != owner.id && m.relation != "parent"
        });
        let co_owner = spouse
            .filter(|_| demo || chance(&mut self.rng, 650))
            .map(Member::who);
        let district = self.map.communities[community].district;
        if village {
            // Rural homesteads (宅基地) were certified in the 2019–2023 integrated registration.
            let registered_on = date_between(&mut self.rng, ymd(2019, 3, 1), ymd(2023, 12, 31));
            let area = round2(self.rng.random_range(120.0..260.0));
            let cert_no = self.cert_no(district, registered_on);
            self.out.properties.push(PropertyRow {
                cert_no,
                owner_id: owner.id.clone(),
                owner_name: owner.name.clone(),
                co_owner_id: co_owner.as_ref().map(|c| c.0.clone()),
                co_owner_name: co_owner.as_ref().map(|c| c.1.clone()),
                address: address.to_string(),
                district_code: self.map.districts[district].code_str.clone(),
                area_m2: area,
                usage: "homestead",
                registered_on,
                contract_no: None,
            });
            return;
        }
        let earliest = birthday(owner.birth, 23).max(ymd(1998, 1, 1)).min(AS_OF);
        let bought = if demo {
            ymd(2019, 4, 18)
        } else {
            date_between(&mut self.rng, earliest, AS_OF)
        };
        let area = round2((95.0 * (0.28 * normal(&mut self.rng)).exp()).clamp(35.0, 260.0));
        self.purchase(
            owner,
            co_owner.clone(),
            community,
            address.to_string(),
            bought,
            area,
            "residential",
            true,
            demo,
        );
        if age >= 30 && !demo && chance(&mut self.rng, 120) {
            let d = self.district_pick.sample(&mut self.rng);
            let other = self.urban_pick[d].sample(&mut self.rng);
            let addr = self.address(other);
            let commercial = chance(&mut self.rng, 150);
            let area = if commercial {
                round2(self.rng.random_range(30.0..150.0))
            } else {
                round2((90.0 * (0.25 * normal(&mut self.rng)).exp()).clamp(35.0, 220.0))
            };
            let from = birthday(owner.birth, 28).max(ymd(2008, 1, 1)).min(AS_OF);
            let bought = date_between(&mut self.rng, from, AS_OF);
            let usage = if commercial {
                "commercial"
            } else {
                "residential"
            };
            self.purchase(
                owner, co_owner, other, addr, bought, area, usage, false, false,
            );
        }
    }

    fn cert_no(&mut self, district: usize, on: NaiveDate) -> String {
        let city = self.map.districts[district].registry_city;
        let seq = self.cert_seq.entry((city, on.year())).or_default();
        *seq += 1;
        format!("豫({}){city}不动产权第{:07}号", on.year(), *seq)
    }

    /// One acquisition: a contract (online signing began in 2008), deed tax, and the
    /// certificate once registered; older purchases left only the certificate.
    #[allow(clippy::too_many_arguments)]
    fn purchase(
        &mut self,
        owner: &Member,
        co_owner: Option<(String, String)>,
        community: usize,
        address: String,
        bought: NaiveDate,
        area: f64,
        usage: &'static str,
        first_home: bool,
        demo: bool,
    ) {
        let district = self.map.communities[community].district;
        let district_code = self.map.districts[district].code_str.clone();
        if bought < ymd(2008, 1, 1) {
            let registered_on = (bought + Days::new(self.rng.random_range(30..=365))).min(AS_OF);
            let cert_no = self.cert_no(district, registered_on);
            self.out.properties.push(PropertyRow {
                cert_no,
                owner_id: owner.id.clone(),
                owner_name: owner.name.clone(),
                co_owner_id: co_owner.as_ref().map(|c| c.0.clone()),
                co_owner_name: co_owner.as_ref().map(|c| c.1.clone()),
                address,
                district_code,
                area_m2: area,
                usage,
                registered_on,
                contract_no: None,
            });
            return;
        }
        let new_home = demo || self.recent_adults.is_empty() || chance(&mut self.rng, 650);
        let (seller_kind, seller_id, seller_name) = if new_home {
            let i = if self.developers.is_empty() {
                0
            } else if demo {
                self.developers[0]
            } else {
                self.developers[self.rng.random_range(0..self.developers.len())]
            };
            (
                "developer",
                self.companies[i].credit_code.clone(),
                self.companies[i].name.clone(),
            )
        } else {
            let (id, name) =
                self.recent_adults[self.rng.random_range(0..self.recent_adults.len())].clone();
            ("person", id, name)
        };
        let sd = self.map.communities[community].sub_district;
        let per_m2 = f64::from(self.map.districts[district].price_per_m2)
            * area_factor(self.map.sub_districts[sd].area)
            * price_index(bought.year())
            * self.rng.random_range(0.8..1.2)
            * if usage == "commercial" { 1.3 } else { 1.0 };
        let price_cents = ((area * per_m2 / 100.0).round() as i64) * 100 * 100;
        self.contracts += 1;
        let contract_no = format!("ZZ{}{:08}", bought.year(), self.contracts);
        let wait = if new_home { 180..=900 } else { 20..=90 };
        let registered_on = bought + Days::new(self.rng.random_range(wait));
        let registered = registered_on <= AS_OF;
        self.out.contracts.push(ContractRow {
            contract_no: contract_no.clone(),
            buyer_id: owner.id.clone(),
            buyer_name: owner.name.clone(),
            co_buyer_id: co_owner.as_ref().map(|c| c.0.clone()),
            co_buyer_name: co_owner.as_ref().map(|c| c.1.clone()),
            seller_kind,
            seller_id,
            seller_name,
            address: address.clone(),
            district_code: district_code.clone(),
            area_m2: area,
            usage,
            price_cents,
            signed_on: bought,
            status: if registered { "registered" } else { "filed" },
        });
        // Deed tax: 1% up to 90 m², above that 1.5% for a first home and 2% otherwise; 3% on
        // commercial property. It is paid before the title is registered.
        let rate = match (usage, area <= 90.0, first_home) {
            ("commercial", _, _) => 30,
            (_, true, _) => 10,
            (_, false, true) => 15,
            (_, false, false) => 20,
        };
        let paid_on = if registered {
            Some(date_between(
                &mut self.rng,
                bought + Days::new(1),
                registered_on,
            ))
        } else if bought < AS_OF && chance(&mut self.rng, 500) {
            Some(date_between(&mut self.rng, bought + Days::new(1), AS_OF))
        } else {
            None
        };
        if let Some(paid_on) = paid_on {
            self.vouchers += 1;
            self.out.deed_taxes.push(DeedTaxRow {
                voucher_no: format!("3410{:02}{:012}", paid_on.year() % 100, self.vouchers),
                contract_no: contract_no.clone(),
                payer_id: owner.id.clone(),
                payer_name: owner.name.clone(),
                taxable_cents: price_cents,
                rate_permille: rate,
                amount_cents: price_cents * rate / 1000,
                paid_on,
            });
        }
        if registered {
            let cert_no = self.cert_no(district, registered_on);
            self.out.properties.push(PropertyRow {
                cert_no,
                owner_id: owner.id.clone(),
                owner_name: owner.name.clone(),
                co_owner_id: co_owner.as_ref().map(|c| c.0.clone()),
                co_owner_name: co_owner.as_ref().map(|c| c.1.clone()),
                address,
                district_code,
                area_m2: area,
                usage,
                registered_on,
                contract_no: Some(contract_no),
            });
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn city(persons: u64, seed: u64) -> (Batch, Outcome) {
        let mut g = Generator::new(persons, seed);
        let mut all = Batch::default();
        while let Some(mut b) = g.next_batch() {
            all.insurance.append(&mut b.insurance);
            all.deed_taxes.append(&mut b.deed_taxes);
            all.persons.append(&mut b.persons);
            all.households.append(&mut b.households);
            all.marriages.append(&mut b.marriages);
            all.births.append(&mut b.births);
            all.disabilities.append(&mut b.disabilities);
            all.properties.append(&mut b.properties);
            all.contracts.append(&mut b.contracts);
            all.employment.append(&mut b.employment);
            all.housing_funds.append(&mut b.housing_funds);
            all.students.append(&mut b.students);
            all.companies.append(&mut b.companies);
        }
        (all, g.outcome().clone())
    }

    #[test]
    fn exact_size_and_shares_are_plausible() {
        let n = 30_000;
        let (c, outcome) = city(n, 42);
        assert_eq!(c.persons.len() as u64, n);
        let alive: Vec<&PersonRow> = c.persons.iter().filter(|p| p.status == "alive").collect();
        let ages: Vec<i32> = alive.iter().map(|p| age_on(p.birth_date, AS_OF)).collect();
        let share = |f: &dyn Fn(i32) -> bool| {
            ages.iter().filter(|a| f(**a)).count() as f64 / ages.len() as f64
        };
        let children = share(&|a| a < 15);
        let working = share(&|a| (15..60).contains(&a));
        let old = share(&|a| a >= 60);
        let very_old = share(&|a| a >= 80);
        eprintln!("0-14 {children:.3} 15-59 {working:.3} 60+ {old:.3} 80+ {very_old:.3}");
        // Zhengzhou, 2020 census: 19% under 15, 69% aged 15–59, 12% 60 and over.
        assert!((0.14..0.23).contains(&children), "children {children}");
        assert!((0.60..0.74).contains(&working), "working age {working}");
        assert!((0.10..0.20).contains(&old), "elderly {old}");
        assert!(very_old > 0.01 && very_old < 0.05, "80+ {very_old}");
        let men = alive.iter().filter(|p| p.gender == "M").count() as f64 / alive.len() as f64;
        assert!((0.47..0.53).contains(&men), "men {men}");
        let han =
            alive.iter().filter(|p| p.ethnicity == "汉族").count() as f64 / alive.len() as f64;
        assert!((0.97..0.995).contains(&han), "han {han}");
        let size = n as f64 / c.households.len() as f64;
        assert!((2.2..3.0).contains(&size), "household size {size}");
        let disabled = c.disabilities.len() as f64 / alive.len() as f64;
        assert!((0.045..0.075).contains(&disabled), "disabled {disabled}");
        let owning: HashSet<&str> = c.properties.iter().map(|p| p.owner_id.as_str()).collect();
        let owning_households = c
            .households
            .iter()
            .filter(|h| owning.contains(h.householder_id.as_str()))
            .count() as f64
            / c.households.len() as f64;
        assert!(
            (0.5..0.7).contains(&owning_households),
            "owning {owning_households}"
        );
        let companies = c.companies.len() as u64;
        assert_eq!(companies, n / 20);
        assert!(c.companies.iter().all(|c| !c.legal_person_id.is_empty()));
        assert!(outcome.demo_person_id.is_some() && outcome.demo_company_code.is_some());
        assert!(!c.students.is_empty() && !c.births.is_empty() && !c.contracts.is_empty());
        eprintln!(
            "households {} marriages {} births {} disabilities {} properties {} contracts {} employment {} hf {} students {}",
            c.households.len(),
            c.marriages.len(),
            c.births.len(),
            c.disabilities.len(),
            c.properties.len(),
            c.contracts.len(),
            c.employment.len(),
            c.housing_funds.len(),
            c.students.len()
        );
    }

    #[test]
    fn every_record_is_lawful_and_dated_by_the_extraction_day() {
        for seed in [5, 6, 7] {
            lawful_city(25_000, seed);
        }
    }

    fn lawful_city(persons: u64, seed: u64) {
        let (c, _) = city(persons, seed);
        let people: HashMap<&str, &PersonRow> = c
            .persons
            .iter()
            .map(|p| (p.id_number.as_str(), p))
            .collect();
        assert_eq!(people.len(), c.persons.len(), "ID numbers repeat");
        let tomorrow = AS_OF + Days::new(1);
        let mut phones = HashSet::new();
        for p in &c.persons {
            let id = IdNumber::parse_on(&p.id_number, tomorrow).expect("valid ID number");
            assert_eq!(id.birth_date(), p.birth_date);
            assert_eq!(id.is_male(), p.gender == "M");
            assert!(p.birth_date >= ymd(1925, 1, 1) && p.birth_date <= AS_OF);
            if let Some(d) = p.died_on {
                assert!(
                    d > p.birth_date && d <= AS_OF && p.status == "deceased" && p.phone.is_none()
                );
            }
            if let Some(ph) = &p.phone {
                assert!(phones.insert(ph.clone()), "phone {ph} repeats");
            }
        }
        let mut married = HashMap::new();
        for m in &c.marriages {
            let (h, w) = (people[m.husband_id.as_str()], people[m.wife_id.as_str()]);
            assert_eq!((h.gender, w.gender), ("M", "F"));
            assert!(age_on(h.birth_date, m.registered_on) >= 22, "{m:?}");
            assert!(age_on(w.birth_date, m.registered_on) >= 20, "{m:?}");
            assert!(m.registered_on <= AS_OF);
            if let Some(d) = m.divorced_on {
                assert!(d > m.registered_on && d <= AS_OF && m.status == "divorced");
            }
            married.insert((m.husband_id.as_str(), m.wife_id.as_str()), m.registered_on);
        }
        for b in &c.births {
            let (mother, father) = (people[b.mother_id.as_str()], people[b.father_id.as_str()]);
            assert!(
                (20..50).contains(&age_on(mother.birth_date, b.born_on)),
                "{b:?}"
            );
            assert!(age_on(father.birth_date, b.born_on) >= 22, "{b:?}");
            let wed = married[&(b.father_id.as_str(), b.mother_id.as_str())];
            assert!(wed < b.born_on, "born before the wedding: {b:?}");
            assert_eq!(people[b.child_id.as_str()].birth_date, b.born_on);
        }
        for e in &c.employment {
            let p = people[e.id_number.as_str()];
            assert!(age_on(p.birth_date, e.since) >= 18, "{e:?}");
            assert!(e.since <= AS_OF && e.until.is_none_or(|u| u > e.since && u <= AS_OF));
            assert!(e.monthly_wage_cents > 0);
        }
        for i in &c.insurance {
            assert!(i.first_month <= i.last_month && i.months >= 1, "{i:?}");
            assert!(i.last_month.as_str() <= "2025-12");
        }
        for h in &c.housing_funds {
            assert!(h.balance_cents >= 0 && h.opened_on <= AS_OF);
        }
        for p in &c.properties {
            assert!(p.registered_on <= AS_OF && p.area_m2 > 20.0);
        }
        for k in &c.contracts {
            assert!(k.signed_on <= AS_OF && k.price_cents > 0 && k.buyer_id != k.seller_id);
        }
        for t in &c.deed_taxes {
            assert!(t.paid_on <= AS_OF);
        }
        for d in &c.disabilities {
            assert!(d.issued_on > people[d.id_number.as_str()].birth_date && d.issued_on <= AS_OF);
        }
        for co in &c.companies {
            assert!(co.registered_on <= AS_OF);
            CreditCode::parse(&co.credit_code).expect("valid credit code");
        }
    }

    #[test]
    fn tiny_cities_still_have_a_demo_citizen_and_company() {
        for n in [1, 2, 3, 4, 7] {
            let (c, outcome) = city(n, 9);
            assert_eq!(c.persons.len() as u64, n);
            let demo = outcome.demo_person_id.unwrap();
            assert_eq!(c.companies[0].legal_person_id, demo);
        }
    }

    #[test]
    fn school_grades_follow_the_august_cut_off() {
        let on = ymd(2025, 12, 31);
        assert_eq!(school_grade(ymd(2019, 8, 31), on), Some(1));
        assert_eq!(school_grade(ymd(2019, 9, 1), on), None);
        assert_eq!(school_grade(ymd(2011, 1, 1), on), Some(9));
        assert_eq!(school_grade(ymd(2010, 8, 31), on), None);
        assert_eq!(school_grade(ymd(2019, 8, 31), ymd(2026, 9, 1)), Some(2));
    }
}
