-- Every query of the exchange, as a hash chain (see src/audit.rs). Append-only: nothing in
-- the platform updates or deletes these rows.
CREATE TABLE exchange_audit (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_digest TEXT NOT NULL,
    subject_masked TEXT NOT NULL,
    purpose_kind TEXT NOT NULL,
    purpose_ref TEXT NOT NULL,
    elements TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX exchange_audit_subject ON exchange_audit (subject_digest, seq);

-- The last entry's number and hash: appends take this row first, which orders them, and a
-- removed tail shows as a head ahead of the last entry.
CREATE TABLE exchange_audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO exchange_audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
