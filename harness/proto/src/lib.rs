//! Wire and metadata types: the only things that cross the VM boundary between host and guest.
//!
//! The host plans and reports with [`CaseMeta`] and [`Outcome`]; the guest agent and the host
//! talk with [`Request`] and [`Event`], framed by [`frame`]; [`boot`] is how the host starts the
//! guest (kernel parameters, initramfs layout); [`Feature`] names what a kernel can lack;
//! [`modes`] is what `pollcheck bench modes` and its guest suite exchange inside those messages.

pub mod boot;
mod case;
mod check;
mod feature;
mod features;
pub mod frame;
mod message;
pub mod modes;
mod outcome;

pub use case::{CaseId, CaseIdError, CaseMeta, Requires};
pub use check::{Check, Severity};
pub use feature::{Feature, Promise, PROMISES};
pub use features::{Features, ProbeAnswer, Probed};
pub use message::{Event, Request, PROTOCOL_VERSION};
pub use outcome::{ErrorKind, Outcome, OutcomeKind};
