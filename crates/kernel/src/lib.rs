//! Shared vocabulary of every Haoban context. Nothing here knows about any one context:
//! no accounts, no services, no incidents. Contexts depend on this crate, never the reverse.

pub mod calendar;
pub mod db;
pub mod ids;
pub mod msg;
pub mod problem;
pub mod scratch;
pub mod secret;

pub use calendar::WorkCalendar;
pub use db::{Db, Engine};
pub use ids::{CreditCode, IdNumber, Phone};
pub use msg::{Lang, Msg};
pub use problem::{ApiJson, FieldError, Problem};
