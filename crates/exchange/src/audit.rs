//! The audit of data accesses: an append-only hash chain. Each entry's hash covers its content
//! and the previous entry's hash, and a one-row head keeps the last sequence number and hash,
//! so an altered, inserted, removed or truncated entry breaks the chain at a place
//! [`verify`] names.
//!
//! The subject is kept as a digest (to find a person's entries) and masked (to show them),
//! never in clear.

use chrono::{DateTime, SecondsFormat, Utc};
use kernel::{Db, with_db};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is appended.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// Account id of who asked, or `system:<what>` for the platform itself.
    pub actor: String,
    /// How the actor is shown: a masked login, a department, "本人".
    pub actor_label: String,
    /// `citizen`, `company`, `staff` or `system`.
    pub actor_kind: String,
    /// `person` or `company`.
    pub subject_kind: String,
    /// The subject's identifier; stored only as a digest and masked.
    pub subject_id: String,
    /// `item`, `sign_up`, `application`.
    pub purpose_kind: String,
    pub purpose_ref: String,
    pub elements: Vec<String>,
    /// `ok`, `partial`, `refused`.
    pub outcome: String,
    /// Which sources answered or not, and why a refusal.
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_label: String,
    pub actor_kind: String,
    pub subject_kind: String,
    pub subject_digest: String,
    pub subject_masked: String,
    pub purpose_kind: String,
    pub purpose_ref: String,
    pub elements: String,
    pub outcome: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The digest a subject's entries are found by.
pub fn subject_digest(subject_kind: &str, id: &str) -> String {
    hex::encode(Sha256::digest(
        format!("haoban-audit-subject:{subject_kind}:{id}").as_bytes(),
    ))
}

fn mask(subject_kind: &str, id: &str) -> String {
    match subject_kind {
        "person" => kernel::ids::mask_id_number(id),
        // Credit codes are public registration numbers.
        _ => id.to_string(),
    }
}

/// The hash of an entry: every field but the hash itself, length-prefixed so no two
/// different entries can give the same text.
pub fn entry_hash(e: &Entry) -> String {
    let fields = [
        e.seq.to_string(),
        e.at.clone(),
        e.actor.clone(),
        e.actor_label.clone(),
        e.actor_kind.clone(),
        e.subject_kind.clone(),
        e.subject_digest.clone(),
        e.subject_masked.clone(),
        e.purpose_kind.clone(),
        e.purpose_ref.clone(),
        e.elements.clone(),
        e.outcome.clone(),
        e.detail.clone(),
        e.prev_hash.clone(),
    ];
    let mut h = Sha256::new();
    for f in fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

const COLUMNS: &str = "seq, at, actor, actor_label, actor_kind, subject_kind, subject_digest, \
     subject_masked, purpose_kind, purpose_ref, elements, outcome, detail, prev_hash, hash";

/// Appends an entry; answers its sequence number. Appends are serialised by the head row, so
/// several instances on one database keep one chain.
pub async fn append(db: &Db, new: &NewEntry, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    let mut e = Entry {
        seq: 0,
        at: now.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor: new.actor.clone(),
        actor_label: new.actor_label.clone(),
        actor_kind: new.actor_kind.clone(),
        subject_kind: new.subject_kind.clone(),
        subject_digest: subject_digest(&new.subject_kind, &new.subject_id),
        subject_masked: mask(&new.subject_kind, &new.subject_id),
        purpose_kind: new.purpose_kind.clone(),
        purpose_ref: new.purpose_ref.clone(),
        elements: serde_json::to_string(&new.elements).expect("codes serialise"),
        outcome: new.outcome.clone(),
        detail: new.detail.to_string(),
        prev_hash: String::new(),
        hash: String::new(),
    };
    let insert = format!(
        "INSERT INTO exchange_audit ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    );
    with_db!(db, pool => {
        let mut tx = pool.begin().await?;
        // The write comes first: it takes the lock that orders appends (and on SQLite it
        // makes this a write transaction from the start).
        let (seq, prev): (i64, String) = sqlx::query_as(
            "UPDATE exchange_audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
        )
        .fetch_one(&mut *tx)
        .await?;
        e.seq = seq;
        e.prev_hash = prev;
        e.hash = entry_hash(&e);
        sqlx::query(&insert)
            .bind(e.seq).bind(&e.at).bind(&e.actor).bind(&e.actor_label).bind(&e.actor_kind)
            .bind(&e.subject_kind).bind(&e.subject_digest).bind(&e.subject_masked)
            .bind(&e.purpose_kind).bind(&e.purpose_ref).bind(&e.elements).bind(&e.outcome)
            .bind(&e.detail).bind(&e.prev_hash).bind(&e.hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE exchange_audit_head SET hash = $1 WHERE id = 1")
            .bind(&e.hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(e.seq)
}

/// Entries about a subject, newest first.
pub async fn about(
    db: &Db,
    subject_kind: &str,
    id: &str,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM exchange_audit WHERE subject_digest = $1 \
         ORDER BY seq DESC LIMIT $2"
    );
    let digest = subject_digest(subject_kind, id);
    with_db!(db, pool => sqlx::query_as(&sql).bind(digest).bind(limit).fetch_all(pool).await)
}

/// What is wrong with the chain, at the first place it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// The entry's content does not match its hash.
    Altered { seq: i64 },
    /// The entry does not follow the one before it.
    Unlinked { seq: i64 },
    /// A sequence number is missing: the entry was removed.
    Missing { seq: i64 },
    /// Entries at the end were removed (the head records more).
    Truncated { expected_last: i64, found_last: i64 },
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Altered { seq } => {
                write!(f, "entry {seq} was altered (its hash does not match)")
            }
            Broken::Unlinked { seq } => write!(
                f,
                "entry {seq} does not follow the entry before it (an entry was altered or inserted)"
            ),
            Broken::Missing { seq } => write!(f, "entry {seq} is missing"),
            Broken::Truncated {
                expected_last,
                found_last,
            } => write!(
                f,
                "entries after {found_last} are missing (the log recorded up to {expected_last})"
            ),
        }
    }
}

/// Checks the whole chain, a page at a time. Answers the number of entries checked.
pub async fn verify(db: &Db) -> Result<Result<i64, Broken>, sqlx::Error> {
    const PAGE: i64 = 2000;
    let (head_seq, head_hash): (i64, String) = with_db!(db, pool =>
        sqlx::query_as("SELECT seq, hash FROM exchange_audit_head WHERE id = 1").fetch_one(pool).await)?;
    let sql = format!("SELECT {COLUMNS} FROM exchange_audit WHERE seq > $1 ORDER BY seq LIMIT $2");
    let mut last_seq = 0i64;
    let mut last_hash = GENESIS.to_string();
    loop {
        let page: Vec<Entry> = with_db!(db, pool =>
            sqlx::query_as(&sql).bind(last_seq).bind(PAGE).fetch_all(pool).await)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            if e.seq != last_seq + 1 {
                return Ok(Err(Broken::Missing { seq: last_seq + 1 }));
            }
            if entry_hash(e) != e.hash {
                return Ok(Err(Broken::Altered { seq: e.seq }));
            }
            if e.prev_hash != last_hash {
                return Ok(Err(Broken::Unlinked { seq: e.seq }));
            }
            last_seq = e.seq;
            last_hash = e.hash.clone();
        }
    }
    if last_seq != head_seq || last_hash != head_hash {
        return Ok(Err(if last_seq < head_seq {
            Broken::Truncated {
                expected_last: head_seq,
                found_last: last_seq,
            }
        } else {
            Broken::Unlinked { seq: last_seq }
        }));
    }
    Ok(Ok(last_seq))
}
