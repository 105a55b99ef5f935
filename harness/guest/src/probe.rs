//! Feature probes a suite registers; the agent runs them at start-up and announces the answers.

use pollcheck_proto::{Feature, ProbeAnswer};

/// A named run-time probe of one feature, e.g. `epoll_params` → yes, or no with the kernel's
/// answer. A `No` must come from an answer a kernel that broke the feature could not give the
/// same way; anything less certain is `Unknown`.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub name: &'static str,
    pub feature: Feature,
    pub run: fn() -> ProbeAnswer,
}
