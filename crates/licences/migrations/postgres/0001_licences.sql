-- Signing keys. A key is never deleted: licences signed by a retired key still verify.
-- At most one key per algorithm is active (retired_at NULL); rotation retires it and adds one.
CREATE TABLE licence_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL CHECK (algorithm IN ('Ed25519', 'SM2-SM3')),
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);

-- The next serial number of each licence type at each issuer.
CREATE TABLE licence_serials (
    type_code TEXT NOT NULL,
    issuer_code TEXT NOT NULL,
    next_serial BIGINT NOT NULL,
    PRIMARY KEY (type_code, issuer_code)
);

-- Issued licences. holder_number is the full ID number or credit code; the QR code never
-- carries it. fields: the printed data elements as a JSON object of strings.
CREATE TABLE licences (
    id TEXT PRIMARY KEY,
    type_code TEXT NOT NULL,
    type_name TEXT NOT NULL,
    issuer TEXT NOT NULL,
    issuer_name TEXT NOT NULL,
    holder_kind TEXT NOT NULL CHECK (holder_kind IN ('person', 'company')),
    holder_number TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    fields TEXT NOT NULL,
    salt TEXT NOT NULL,
    kid TEXT NOT NULL REFERENCES licence_keys(kid),
    algorithm TEXT NOT NULL,
    signature TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('valid', 'revoked', 'cancelled')),
    state_reason TEXT,
    state_changed_at TIMESTAMPTZ,
    issued_by TEXT NOT NULL
);
CREATE INDEX licences_holder ON licences (holder_kind, holder_number, issued_at);

-- Time-limited links a holder gives a third party. Only the token's digest is kept.
CREATE TABLE licence_shares (
    token_digest TEXT PRIMARY KEY,
    licence_id TEXT NOT NULL REFERENCES licences(id),
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX licence_shares_licence ON licence_shares (licence_id);

-- Every use of a licence through a share link: who, for what purpose (用证事由), when.
CREATE TABLE licence_uses (
    id TEXT PRIMARY KEY,
    licence_id TEXT NOT NULL REFERENCES licences(id),
    share_digest TEXT,
    used_by TEXT NOT NULL,
    purpose TEXT NOT NULL,
    used_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX licence_uses_licence ON licence_uses (licence_id, used_at);
