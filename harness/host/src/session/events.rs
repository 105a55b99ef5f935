//! What a session tells its caller as it goes, and the observer that hears it. Guests of one
//! session (and sessions of one matrix) run side by side, so observers are shared across threads.

use crate::accel::AccelDecision;
use crate::report::model::CaseRecord;
use crate::testnet::NetPlan;
use crate::vm::BootError;
use pollcheck_proto::{CaseId, Features};
use std::time::Duration;

/// One thing that happened in a session. `kernel` in [`Observer::event`] says whose.
#[derive(Debug)]
pub enum SessionEvent<'a> {
    /// The plan: how many cases, how many decided without booting.
    Planned {
        cases: usize,
        decided: usize,
    },
    AccelChosen(&'a AccelDecision),
    Network(&'a NetPlan),
    Booted {
        guest: u32,
        boot_time: Duration,
        features: &'a Features,
    },
    /// A guest crashed or hung before its agent was ready; it is booted once more.
    BootRetry {
        guest: u32,
        cpus: u32,
        error: &'a BootError,
    },
    CaseStarted {
        guest: u32,
        id: &'a CaseId,
    },
    CaseFinished(&'a CaseRecord),
}

/// Hears a session's events (displays, progress bars, benchmarks collecting numbers).
pub trait Observer: Sync {
    fn event(&self, kernel: &str, event: &SessionEvent<'_>);
}

/// Hears nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {
    fn event(&self, _: &str, _: &SessionEvent<'_>) {}
}
