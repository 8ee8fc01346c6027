//! Applications (办件): what a person or business applies for, from the first answer on.
//!
//! So far an application lives as a draft: started from an item's guide or a bundle page,
//! prefilled from the applicant's verified account, answered one screen at a time by the
//! form flow of the catalog (`catalog::flow`), checked as a whole, and kept in the database
//! so the applicant can come back to it from any device.
//!
//! `materials` resolves each material for the applicant: a licence from their wallet, data
//! the exchange fetched, a commitment, or an upload, with the reason.
//!
//! Depends on `kernel`, `web` (the page shell), `identity` (who is applying), `catalog`
//! (what is applied for and its form), `licences` (the applicant's wallet) and `exchange`
//! (shared data). It reads no other context's tables.

pub mod domain;
pub mod materials;
pub mod pages;
pub mod store;

pub use domain::{Application, Prefilled, State, Target};
pub use materials::{How, Resolution, ResolveError, Resolved, resolve};
pub use pages::{PagesState, TEMPLATES, routes};
pub use store::MIGRATIONS;
