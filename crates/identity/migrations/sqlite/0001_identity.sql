CREATE TABLE departments (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('city', 'district', 'subdistrict', 'community')),
    parent_id TEXT REFERENCES departments(id),
    created_at TEXT NOT NULL
);
CREATE INDEX departments_parent ON departments(parent_id);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('citizen', 'company', 'staff')),
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    id_number TEXT UNIQUE,
    credit_code TEXT UNIQUE,
    phone TEXT,
    password_hash TEXT,
    department_id TEXT REFERENCES departments(id),
    lang TEXT,
    elderly INTEGER,
    created_at TEXT NOT NULL,
    disabled_at TEXT
);

CREATE TABLE account_roles (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    department_id TEXT NOT NULL REFERENCES departments(id),
    PRIMARY KEY (account_id, role, department_id)
);

CREATE TABLE sessions (
    digest TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('web', 'api')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE login_throttle (
    login_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at TEXT NOT NULL,
    locked_until TEXT
);

CREATE TABLE auth_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    account_id TEXT,
    login_masked TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX auth_audit_account ON auth_audit(account_id, id);
