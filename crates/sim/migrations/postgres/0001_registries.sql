-- The registries of the simulated city. Each department keeps its own tables, prefixed by
-- the department; none refers to another's by foreign key. They meet only on ID numbers
-- and credit codes, as real departments' systems do. Dates are ISO 'YYYY-MM-DD' text, money
-- is in cents (fen). Uniqueness beyond primary keys is declared by unique indexes, which
-- the generator drops and rebuilds around its bulk load.

-- Shared reference: the administrative map.
CREATE TABLE geo_districts (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('district', 'county', 'county_city')),
    city_code TEXT NOT NULL,
    city_name TEXT NOT NULL
);

CREATE TABLE geo_sub_districts (
    code TEXT PRIMARY KEY,
    district_code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('subdistrict', 'town', 'township')),
    area TEXT
);
CREATE INDEX geo_sub_districts_district ON geo_sub_districts (district_code);

CREATE TABLE geo_communities (
    code TEXT PRIMARY KEY,
    sub_district_code TEXT NOT NULL,
    district_code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('community', 'village'))
);
CREATE INDEX geo_communities_sub_district ON geo_communities (sub_district_code);

-- 公安 (public security): household registration.
CREATE TABLE pop_households (
    household_id TEXT PRIMARY KEY,
    householder_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('urban', 'rural')),
    address TEXT NOT NULL,
    community_code TEXT NOT NULL,
    district_code TEXT NOT NULL,
    registered_on TEXT NOT NULL
);
CREATE INDEX pop_households_householder ON pop_households (householder_id);

CREATE TABLE pop_persons (
    id_number TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    gender TEXT NOT NULL CHECK (gender IN ('M', 'F')),
    birth_date TEXT NOT NULL,
    ethnicity TEXT NOT NULL,
    household_id TEXT NOT NULL,
    relation TEXT NOT NULL,
    marital_status TEXT NOT NULL CHECK (marital_status IN ('single', 'married', 'divorced', 'widowed')),
    community_code TEXT NOT NULL,
    district_code TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT,
    status TEXT NOT NULL CHECK (status IN ('alive', 'deceased')),
    died_on TEXT
);
CREATE INDEX pop_persons_household ON pop_persons (household_id);
CREATE UNIQUE INDEX pop_persons_phone ON pop_persons (phone);

-- 民政 (civil affairs): marriage registration.
CREATE TABLE civil_marriages (
    registration_no TEXT PRIMARY KEY,
    husband_id TEXT NOT NULL,
    husband_name TEXT NOT NULL,
    wife_id TEXT NOT NULL,
    wife_name TEXT NOT NULL,
    registered_on TEXT NOT NULL,
    registry_office TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('married', 'divorced')),
    divorced_on TEXT
);
CREATE INDEX civil_marriages_husband ON civil_marriages (husband_id);
CREATE INDEX civil_marriages_wife ON civil_marriages (wife_id);

-- 残联 (disabled persons' federation): disability certificates.
CREATE TABLE dpf_disabilities (
    cert_no TEXT PRIMARY KEY,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental', 'multiple')),
    grade BIGINT NOT NULL CHECK (grade BETWEEN 1 AND 4),
    issued_on TEXT NOT NULL
);
CREATE INDEX dpf_disabilities_person ON dpf_disabilities (id_number);

-- 卫健 (health commission): birth medical certificates.
CREATE TABLE health_births (
    certificate_no TEXT PRIMARY KEY,
    child_id TEXT NOT NULL,
    child_name TEXT NOT NULL,
    gender TEXT NOT NULL CHECK (gender IN ('M', 'F')),
    born_on TEXT NOT NULL,
    weight_g BIGINT NOT NULL,
    hospital TEXT NOT NULL,
    mother_id TEXT NOT NULL,
    mother_name TEXT NOT NULL,
    father_id TEXT NOT NULL,
    father_name TEXT NOT NULL
);
CREATE INDEX health_births_child ON health_births (child_id);
CREATE INDEX health_births_mother ON health_births (mother_id);
CREATE INDEX health_births_father ON health_births (father_id);

-- 不动产登记 (real-estate registration): property certificates.
CREATE TABLE prop_properties (
    cert_no TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    co_owner_id TEXT,
    co_owner_name TEXT,
    address TEXT NOT NULL,
    district_code TEXT NOT NULL,
    area_m2 DOUBLE PRECISION NOT NULL,
    usage TEXT NOT NULL CHECK (usage IN ('residential', 'commercial', 'homestead')),
    registered_on TEXT NOT NULL,
    contract_no TEXT
);
CREATE INDEX prop_properties_owner ON prop_properties (owner_id);
CREATE INDEX prop_properties_co_owner ON prop_properties (co_owner_id);

-- 房管 (housing administration): filed purchase contracts.
CREATE TABLE prop_contracts (
    contract_no TEXT PRIMARY KEY,
    buyer_id TEXT NOT NULL,
    buyer_name TEXT NOT NULL,
    co_buyer_id TEXT,
    co_buyer_name TEXT,
    seller_kind TEXT NOT NULL CHECK (seller_kind IN ('developer', 'person')),
    seller_id TEXT NOT NULL,
    seller_name TEXT NOT NULL,
    address TEXT NOT NULL,
    district_code TEXT NOT NULL,
    area_m2 DOUBLE PRECISION NOT NULL,
    usage TEXT NOT NULL,
    price_cents BIGINT NOT NULL,
    signed_on TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('filed', 'registered'))
);
CREATE INDEX prop_contracts_buyer ON prop_contracts (buyer_id);
CREATE INDEX prop_contracts_co_buyer ON prop_contracts (co_buyer_id);

-- 税务 (taxation): deed-tax payments.
CREATE TABLE tax_deed_tax (
    voucher_no TEXT PRIMARY KEY,
    contract_no TEXT NOT NULL,
    payer_id TEXT NOT NULL,
    payer_name TEXT NOT NULL,
    taxable_cents BIGINT NOT NULL,
    rate_permille BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    paid_on TEXT NOT NULL
);
CREATE INDEX tax_deed_tax_payer ON tax_deed_tax (payer_id);
CREATE INDEX tax_deed_tax_contract ON tax_deed_tax (contract_no);

-- 人社 (human resources and social security): employment and insurance.
CREATE TABLE hrss_employment (
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    employer_code TEXT NOT NULL,
    employer_name TEXT NOT NULL,
    since TEXT NOT NULL,
    until TEXT,
    monthly_wage_cents BIGINT NOT NULL,
    PRIMARY KEY (id_number, since)
);
CREATE INDEX hrss_employment_employer ON hrss_employment (employer_code);

CREATE TABLE hrss_insurance (
    id_number TEXT NOT NULL,
    insurance TEXT NOT NULL CHECK (insurance IN ('pension', 'medical', 'unemployment')),
    months BIGINT NOT NULL,
    first_month TEXT NOT NULL,
    last_month TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('contributing', 'suspended', 'retired')),
    PRIMARY KEY (id_number, insurance)
);

-- 住房公积金 (housing provident fund centre): accounts.
CREATE TABLE hf_accounts (
    account_no TEXT PRIMARY KEY,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    employer_code TEXT,
    balance_cents BIGINT NOT NULL,
    monthly_deposit_cents BIGINT NOT NULL,
    opened_on TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'sealed'))
);
CREATE INDEX hf_accounts_person ON hf_accounts (id_number);

-- 教育 (education): schools, school districts and pupils.
CREATE TABLE edu_schools (
    school_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('primary', 'junior')),
    district_code TEXT NOT NULL,
    sub_district_code TEXT NOT NULL,
    address TEXT NOT NULL
);

CREATE TABLE edu_school_districts (
    school_id TEXT NOT NULL,
    community_code TEXT NOT NULL,
    PRIMARY KEY (school_id, community_code)
);
CREATE INDEX edu_school_districts_community ON edu_school_districts (community_code);

CREATE TABLE edu_students (
    id_number TEXT PRIMARY KEY,
    student_no TEXT NOT NULL,
    name TEXT NOT NULL,
    school_id TEXT NOT NULL,
    grade BIGINT NOT NULL CHECK (grade BETWEEN 1 AND 9),
    class_no BIGINT NOT NULL,
    enrolled_on TEXT NOT NULL
);
CREATE INDEX edu_students_school ON edu_students (school_id);
CREATE UNIQUE INDEX edu_students_student_no ON edu_students (student_no);

-- 市场监管 (market regulation): registered market entities.
CREATE TABLE mr_companies (
    credit_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('llc', 'llc_sole', 'joint_stock', 'sole_proprietorship', 'partnership', 'individual')),
    industry TEXT NOT NULL,
    legal_person_id TEXT NOT NULL,
    legal_person_name TEXT NOT NULL,
    registered_capital_cents BIGINT NOT NULL,
    registered_on TEXT NOT NULL,
    address TEXT NOT NULL,
    district_code TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'deregistered')),
    business_scope TEXT NOT NULL
);
CREATE INDEX mr_companies_legal_person ON mr_companies (legal_person_id);
CREATE UNIQUE INDEX mr_companies_name ON mr_companies (name);

-- The generator's own record: whether a city exists, from which seed, and what it holds.
CREATE TABLE sim_city (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seed BIGINT NOT NULL,
    persons BIGINT NOT NULL,
    as_of TEXT NOT NULL,
    generator TEXT NOT NULL,
    started_at TEXT NOT NULL,
    generated_at TEXT,
    elapsed_ms BIGINT,
    counts TEXT,
    demo_person_id TEXT,
    demo_company_code TEXT
);
