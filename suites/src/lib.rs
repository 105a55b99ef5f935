//! pollcheck's conformance cases, one module per kernel feature, and the probes that tell the
//! host which features the booted kernel has.

pub mod busy_poll;
pub mod sys;

use pollcheck_guest::{Case, Probe};

/// Every case, in the order reports list them.
pub fn cases() -> Vec<Case> {
    busy_poll::cases()
}

/// Run-time feature probes the agent announces in its Ready message.
pub fn probes() -> Vec<Probe> {
    vec![busy_poll::PROBE]
}
