//! Wire and metadata types: the only things that cross the VM boundary between host and guest.
//!
//! The host plans and reports with [`CaseMeta`] and [`Outcome`]; the guest agent and the host
//! talk with [`Request`] and [`Event`], framed by [`frame`].

mod case;
mod check;
mod features;
pub mod frame;
mod message;
mod outcome;

pub use case::{CaseId, CaseIdError, CaseMeta, Requires};
pub use check::{Check, Severity};
pub use features::Features;
pub use message::{Event, Request, PROTOCOL_VERSION};
pub use outcome::{ErrorKind, Outcome, OutcomeKind};
