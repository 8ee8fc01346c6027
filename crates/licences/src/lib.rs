//! E-licences (电子证照): typed by the catalog, issued by a department to a person or a
//! company, signed, verifiable offline from their QR code, revocable, and kept in the
//! holder's wallet, from which the holder shares one through a time-limited link.
//!
//! - `ident`: identifiers in the structure of GB/T 36903 with the ISO 7064 MOD 37,36 check;
//! - `canonical`: the canonical encoding that is signed and carried in the QR code;
//! - `sign`: Ed25519 and SM2-SM3 keys;
//! - `domain`: licences, states, verdicts, QR payloads, offline verification; pure;
//! - `store`: every SQL statement of the context;
//! - `service`: [`Licences`], the operations other contexts call;
//! - `http` and `pages`: the API and the pages; `qr`: QR codes as SVG;
//! - `import`: streaming bulk import from CSV.
//!
//! Depends on `kernel`, `web`, `identity` (who is asking) and `catalog` (the licence types).
//! It reads no other context's tables.

pub mod canonical;
pub mod domain;
pub mod http;
pub mod ident;
pub mod import;
pub mod pages;
pub mod qr;
pub mod service;
pub mod sign;
pub mod store;

pub use domain::{Licence, State, Verdict};
pub use http::{LicencesState, routes};
pub use ident::LicenceId;
pub use pages::TEMPLATES;
pub use service::{IssueError, Licences, NewLicence, Verification};
pub use sign::Algorithm;
pub use store::MIGRATIONS;
