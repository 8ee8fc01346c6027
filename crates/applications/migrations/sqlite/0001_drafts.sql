-- An application from its first answer. Only drafts exist so far: a person fills the form
-- screen by screen and can come back to it from any device.
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    applicant_id TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('item', 'bundle')),
    target_code TEXT NOT NULL,
    optional_items TEXT NOT NULL DEFAULT '[]',
    answers TEXT NOT NULL DEFAULT '{}',
    prefill TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL CHECK (state IN ('draft')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX applications_applicant ON applications (applicant_id, updated_at);
