//! The data exchange (数据中台 / 共享交换): "data the government can share is never asked of
//! the citizen again."
//!
//! - `connector`: definition files that say how to ask each department system and which data
//!   element each field of its answer is, checked against the catalog; and the access file
//!   (where each system is, its credentials).
//! - `extract`: answers (JSON or XML) into element values. Pure.
//! - `source`: one system at run time: HTTP client, authentication (API keys, Basic, client
//!   secrets, bearer tokens, HMAC signatures), cache, rate limit, retries of idempotent reads,
//!   circuit breaker.
//! - `query`: [`Exchange::query`]: elements about a subject for a purpose whose declared
//!   needs cover them, fanned out in parallel under one deadline, every value with its
//!   provenance, unavailable sources named.
//! - `audit`: every query appended to a hash chain; `verify` names the first bad entry.
//! - `http`: the query API, the person's own access log, and its page.
//!
//! Depends on `kernel`, `catalog` (data elements, items' sharing needs), `identity` (who is
//! calling) and `web`. Department systems are reached only over HTTP.

pub mod audit;
pub mod connector;
pub mod extract;
pub mod http;
pub mod query;
pub mod source;

pub use connector::{AccessFile, Connectors, SourceAccess, access_by_key};
pub use query::{Answer, Exchange, Provided, Purpose, QueryError, Requester, Subject};

pub static MIGRATIONS: kernel::db::MigrationSet =
    kernel::migrations!("exchange", [(1, "0001_audit")]);
