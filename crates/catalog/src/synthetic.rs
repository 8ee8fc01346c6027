//! A generated catalog for benchmarks (`haoban bench catalog` loads 5,000 items): realistic in
//! shape (forms sharing data elements, rules, every kind of material and the licence types they
//! name, bundles with optional items and includes) and deterministic, so two runs load the same bytes.

use std::fmt::Write;

const SUBJECT_FIELDS: &[(&str, &str, &str)] = &[
    ("person.name", "姓名", "type: string\n    max_length: 50"),
    ("person.id_number", "公民身份号码", "type: id_number"),
    ("person.phone", "手机号码", "type: phone"),
    ("person.gender", "性别", "type: code\n    code_list: gender"),
    (
        "person.age",
        "年龄",
        "type: integer\n    minimum: 0\n    maximum: 150",
    ),
    ("person.birth_date", "出生日期", "type: date"),
    ("person.address", "住址", "type: address"),
    ("person.income", "月收入", "type: money"),
    (
        "person.education",
        "学历",
        "type: code\n    code_list: education",
    ),
    ("spouse.name", "配偶姓名", "type: string"),
    ("spouse.id_number", "配偶公民身份号码", "type: id_number"),
    ("child.name", "子女姓名", "type: string"),
    ("child.birth_date", "子女出生日期", "type: date"),
    ("household.id", "户号", "type: string"),
    ("household.address", "户籍地址", "type: address"),
    (
        "household.size",
        "家庭人口",
        "type: integer\n    minimum: 1\n    maximum: 30",
    ),
    ("property.certificate_no", "不动产权证号", "type: string"),
    ("property.area", "建筑面积", "type: number\n    minimum: 0"),
    ("company.name", "企业名称", "type: string"),
    (
        "company.credit_code",
        "统一社会信用代码",
        "type: credit_code",
    ),
    ("company.capital", "注册资本", "type: money"),
    ("employment.employer", "工作单位", "type: string"),
    ("employment.start_month", "入职年月", "type: month"),
    ("housing_fund.balance", "公积金余额", "type: money"),
    ("school.name", "学校名称", "type: string"),
    ("person.remarks", "备注", "type: text\n    max_length: 500"),
    ("person.disabled", "是否持有残疾人证", "type: boolean"),
    (
        "person.postcode",
        "邮政编码",
        "type: string\n    pattern: \"^[0-9]{6}$\"\n    hint: 6位数字",
    ),
];

const MATERIALS: &[(&str, &str, &str)] = &[
    (
        "household_register",
        "居民户口簿",
        "satisfied_by: shared_data\n    elements: [household.id, household.address]",
    ),
    (
        "id_card",
        "居民身份证",
        "satisfied_by: licence\n    licence_type: id_card",
    ),
    (
        "marriage_certificate",
        "结婚证",
        "satisfied_by: licence\n    licence_type: marriage_certificate",
    ),
    (
        "property_certificate",
        "不动产权证书",
        "satisfied_by: licence\n    licence_type: property_certificate",
    ),
    (
        "business_licence",
        "营业执照",
        "satisfied_by: licence\n    licence_type: business_licence",
    ),
    (
        "income_proof",
        "收入证明",
        "satisfied_by: shared_data\n    elements: [person.income, employment.employer]",
    ),
    (
        "no_other_home",
        "无其他住房承诺书",
        "satisfied_by: commitment\n    text: 本人承诺，本人及配偶在本市无其他住房。",
    ),
    (
        "truthful",
        "信息真实性承诺书",
        "satisfied_by: commitment\n    text: 本人承诺所填信息真实、准确。",
    ),
    (
        "medical_report",
        "诊断证明",
        "satisfied_by: upload\n    accept: [pdf, jpg, png]",
    ),
    (
        "photo",
        "近期免冠照片",
        "satisfied_by: upload\n    accept: [jpg, png]",
    ),
];

const KINDS: &[&str] = &[
    "行政许可",
    "行政确认",
    "行政给付",
    "行政征收",
    "行政奖励",
    "行政裁决",
    "其他行政权力",
    "公共服务",
];

const LIFE_EVENTS: &[(&str, &str)] = &[
    ("birth", "出生"),
    ("school", "上学"),
    ("work", "工作"),
    ("marriage", "结婚"),
    ("housing", "住房"),
    ("business", "开办企业"),
    ("retirement", "退休"),
    ("death", "身后事"),
];

/// A small deterministic generator, so the catalog is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % below.max(1)
    }
}

/// A catalog of `items` items spread over departments and bundles, as (path, content) files.
pub fn synthetic(items: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let bureaus = (items / 100).clamp(4, 200);
    let mut rng = Lcg(20_260_101);

    let mut d = String::from("departments:\n");
    d.push_str("  - code: \"410100\"\n    name: 郑州市人民政府\n    level: city\n");
    for b in 0..bureaus {
        let _ = write!(
            d,
            "  - code: 410100-B{b:03}\n    name: 郑州市第{b}局\n    name_en: Bureau {b}\n    level: city\n    parent: \"410100\"\n"
        );
    }
    d.push_str("  - code: \"410105\"\n    name: 金水区人民政府\n    level: district\n    parent: \"410100\"\n");
    d.push_str("  - code: \"410105001\"\n    name: 经八路街道办事处\n    level: subdistrict\n    parent: \"410105\"\n");
    d.push_str("  - code: \"410105001001\"\n    name: 省委社区居民委员会\n    level: community\n    parent: \"410105001\"\n");
    files.push(("departments.yaml".to_string(), d));

    let mut le = String::from("life_events:\n");
    for (code, name) in LIFE_EVENTS {
        let _ = write!(le, "  - code: {code}\n    name: {name}\n");
    }
    files.push(("life_events.yaml".to_string(), le));

    files.push((
        "code_lists.yaml".to_string(),
        "code_lists:\n  - code: gender\n    name: 性别\n    values:\n      - {code: male, name: 男}\n      - {code: female, name: 女}\n  - code: education\n    name: 学历\n    values:\n      - {code: \"10\", name: 研究生}\n      - {code: \"20\", name: 大学本科}\n      - {code: \"30\", name: 大学专科}\n      - {code: \"90\", name: 其他}\n"
            .to_string(),
    ));

    let mut el = String::from("elements:\n");
    for (i, (code, name, rest)) in SUBJECT_FIELDS.iter().enumerate() {
        let level = ["public", "internal", "sensitive", "core"][i % 4];
        let _ = write!(
            el,
            "  - code: {code}\n    name: {name}\n    {rest}\n    level: {level}\n"
        );
    }
    files.push(("elements.yaml".to_string(), el));

    // The licence types the materials name, issued by the first bureaus.
    let mut lt = String::from("licence_types:\n");
    for (i, (code, name, holder, elements)) in [
        (
            "id_card",
            "居民身份证",
            "person",
            "[person.name, person.id_number, person.address]",
        ),
        (
            "marriage_certificate",
            "结婚证",
            "person",
            "[person.name, person.id_number, spouse.name]",
        ),
        (
            "property_certificate",
            "不动产权证书",
            "person",
            "[person.name, property.certificate_no, property.area]",
        ),
        (
            "business_licence",
            "营业执照",
            "company",
            "[company.name, company.credit_code, company.capital]",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let _ = write!(
            lt,
            "  - code: {code}\n    name: {name}\n    type_code: \"9{i:03}\"\n    issuer: 410100-B{i:03}\n    holder: {holder}\n    validity: none\n    elements: {elements}\n"
        );
    }
    files.push(("licence_types.yaml".to_string(), lt));

    let mut ma = String::from("materials:\n");
    for (code, name, rest) in MATERIALS {
        let _ = write!(ma, "  - code: {code}\n    name: {name}\n    {rest}\n");
    }
    files.push(("materials.yaml".to_string(), ma));

    // Items, one file per bureau.
    let mut codes: Vec<String> = Vec::with_capacity(items);
    let mut per_file: Vec<String> = vec![String::from("items:\n"); bureaus];
    for n in 0..items {
        let b = n % bureaus;
        let code = format!("410100-B{b:03}-{:04}", n / bureaus + 1);
        let out = &mut per_file[b];
        let kind = KINDS[rng.next(KINDS.len())];
        let (event, _) = LIFE_EVENTS[rng.next(LIFE_EVENTS.len())];
        let _ = write!(
            out,
            "  - code: {code}\n    name: 第{n}号事项\n    name_en: Service {n}\n    department: 410100-B{b:03}\n    kind: {kind}\n    applicant: person\n    life_events: [{event}]\n"
        );
        out.push_str("    conditions:\n      rules:\n        - code: adult\n          expr: person.age >= 18 && size(person.name) > 0\n          message: 申请人应年满18周岁\n");
        out.push_str("    shared_data: [person.name, person.gender, person.birth_date]\n");
        // Every form starts with the applicant, so bundles have fields to merge.
        out.push_str("    form:\n      pages:\n        - title: 申请人\n          fields:\n            - element: person.name\n            - element: person.id_number\n            - element: person.phone\n        - title: 申请事项\n          fields:\n");
        let mut used = vec![0, 1, 2];
        for _ in 0..2 + rng.next(5) {
            let f = 3 + rng.next(SUBJECT_FIELDS.len() - 3);
            if used.contains(&f) {
                continue;
            }
            used.push(f);
            let _ = writeln!(out, "            - element: {}", SUBJECT_FIELDS[f].0);
            if rng.next(4) == 0 {
                out.push_str(
                    "              required: false\n              when: person.age >= 60\n",
                );
            }
        }
        out.push_str("    materials:\n");
        let mut used = Vec::new();
        for _ in 0..1 + rng.next(3) {
            let m = rng.next(MATERIALS.len());
            if used.contains(&m) {
                continue;
            }
            used.push(m);
            let _ = writeln!(out, "      - material: {}", MATERIALS[m].0);
        }
        let legal = 1 + rng.next(20);
        let promised = rng.next(legal + 1);
        let _ = write!(
            out,
            "    process: [申请, 受理, 审查, 决定]\n    time_limit: {{legal: {legal}, promised: {promised}}}\n    fee: {{amount: 0}}\n    online_depth: {}\n    visits: {}\n",
            1 + rng.next(4),
            rng.next(2)
        );
        codes.push(code);
    }
    for (b, content) in per_file.into_iter().enumerate() {
        if content.len() > "items:\n".len() {
            files.push((format!("items/b{b:03}.yaml"), content));
        }
    }

    // Bundles of four items from different bureaus, the last optional; every fifth bundle
    // also includes the one before it.
    let mut bu = String::from("bundles:\n");
    let count = items / 20;
    for k in 0..count {
        let (event, _) = LIFE_EVENTS[k % LIFE_EVENTS.len()];
        let _ = write!(
            bu,
            "  - code: bundle-{k:04}\n    name: 第{k}件事\n    life_events: [{event}]\n    items:\n"
        );
        for j in 0..4 {
            let item = &codes[(k * 4 + j * (bureaus + 1)) % codes.len()];
            let _ = writeln!(bu, "      - item: {item}");
            if j == 3 {
                bu.push_str("        required: false\n");
            }
        }
        if k % 5 == 4 {
            let _ = writeln!(bu, "    includes: [bundle-{:04}]", k - 1);
        }
    }
    if count > 0 {
        files.push(("bundles.yaml".to_string(), bu));
    }
    files
}
