//! pollcheck's conformance cases, one module per kernel feature, and the probes that tell the
//! host which features the booted kernel has.

pub mod busy_poll;
pub mod exclusive;
pub mod irq_suspend;
pub mod modesbench;
pub mod napi_threaded;
pub mod net;
pub mod netbench;
pub mod netkit;
pub mod selftest;
pub mod sys;
pub mod userpoll;
pub mod userpollbench;

use pollcheck_guest::{Case, Probe};
use pollcheck_proto::{CaseMeta, Feature};

/// Every conformance case, in the order reports list them.
pub fn cases() -> Vec<Case> {
    let mut all = busy_poll::cases();
    all.extend(net::cases());
    all.extend(exclusive::cases());
    all.extend(irq_suspend::cases());
    all.extend(napi_threaded::cases());
    all.extend(userpoll::cases());
    all
}

/// What the agent carries: the conformance cases plus the harness's own `selftest` cases (which
/// the host runs only when asked for by name).
pub fn agent_cases() -> Vec<Case> {
    let mut all = cases();
    all.extend(selftest::cases());
    all.extend(netbench::cases());
    all.extend(userpollbench::cases());
    all.extend(modesbench::cases());
    all
}

/// Run-time feature probes the agent announces in its Ready message.
pub fn probes() -> Vec<Probe> {
    let mut all = vec![busy_poll::PROBE, userpoll::PROBE];
    all.extend_from_slice(exclusive::PROBES);
    all.extend_from_slice(napi_threaded::PROBES);
    all.extend_from_slice(netkit::fixture::PROBES);
    all
}

/// Add `symbols` to what `meta` requires, each once (for [`pollcheck_guest::Variant::apply`]).
pub(crate) fn require_kconfig(meta: &mut CaseMeta, symbols: &[&str]) {
    for s in symbols {
        if !meta.requires.kconfig.iter().any(|k| k == s) {
            meta.requires.kconfig.push((*s).to_owned());
        }
    }
}

/// Add `feature` to what `meta` checks, and its promise's options to what it requires, each once
/// (as the case builder's `features` does, for [`pollcheck_guest::Variant::apply`]).
pub(crate) fn require_feature(meta: &mut CaseMeta, feature: Feature) {
    if !meta.features.contains(&feature) {
        meta.features.push(feature);
    }
    require_kconfig(meta, feature.promise().kconfig);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn names(cases: &[Case]) -> Vec<String> {
        cases.iter().map(|c| c.meta.id.to_string()).collect()
    }

    #[test]
    fn case_ids_are_unique() {
        let all = names(&agent_cases());
        let distinct: BTreeSet<&String> = all.iter().collect();
        assert_eq!(distinct.len(), all.len(), "{all:?}");
    }

    #[test]
    fn only_the_harness_suites_are_hidden() {
        for c in agent_cases() {
            let harness = matches!(c.meta.id.suite.as_str(), "selftest" | "netbench" | "userpollbench" | "modesbench");
            assert_eq!(c.meta.hidden, harness, "{}", c.meta.id);
            assert!(c.meta.hidden || !c.meta.features.is_empty(), "{} names no feature", c.meta.id);
        }
    }

    #[test]
    fn the_cases_that_change_guest_wide_state_say_so() {
        let global: Vec<String> =
            names(&agent_cases().into_iter().filter(|c| c.meta.mutates_global).collect::<Vec<_>>());
        let mut want: Vec<String> = [
            "busy_poll::sysctl_switch.virtio",
            "busy_poll::sysctl_switch.netdevsim",
            "busy_poll::budget_events.virtio",
            "busy_poll::prefer_irqs.virtio",
            "busy_poll::prefer_data.virtio",
            "busy_poll::prefer_data.netdevsim",
            "net::napi_set.virtio",
            "net::napi_set.netdevsim",
            "net::napi_errors.virtio",
            "net::napi_persist.virtio",
            "net::napi_persist.netdevsim",
            "selftest::kernel_panic",
            "selftest::global_hang",
        ]
        .map(str::to_owned)
        .into();
        want.extend(names(&irq_suspend::cases()));
        want.extend(names(&napi_threaded::cases()));
        want.extend(names(&modesbench::cases()));
        assert_eq!(global.iter().collect::<BTreeSet<_>>(), want.iter().collect::<BTreeSet<_>>());
    }

    #[test]
    fn every_probe_has_a_unique_name() {
        let probes = probes();
        let distinct: BTreeSet<&str> = probes.iter().map(|p| p.name).collect();
        assert_eq!(distinct.len(), probes.len());
    }
}
