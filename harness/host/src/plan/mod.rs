//! Planning a session before anything boots: which cases the user selected, what the kernel
//! promises ([`expect`]), and the schedule of guests and of outcomes already known
//! ([`schedule`]). Everything here is pure and unit-tested without QEMU.

pub mod expect;
pub mod schedule;
pub mod select;

pub use expect::{ExpectChoice, Expectations, KernelFacts};
pub use schedule::{config_gap, probe_gap, Group, Schedule};
pub use select::{closest, select, select_some};

#[cfg(test)]
pub(crate) mod tests {
    use pollcheck_proto::{CaseId, CaseMeta, Requires};

    /// A case with default metadata.
    pub(crate) fn meta(suite: &str, case: &str) -> CaseMeta {
        CaseMeta {
            id: CaseId::new(suite, case),
            summary: String::new(),
            requires: Requires::default(),
            timeout_ms: 1,
            mutates_global: false,
            hidden: false,
            features: Vec::new(),
        }
    }
}
