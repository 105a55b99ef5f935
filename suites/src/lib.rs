//! pollcheck's conformance cases, one module per kernel feature, and the probes that tell the
//! host which features the booted kernel has.

pub mod busy_poll;
pub mod exclusive;
pub mod irq_suspend;
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
    all
}

/// Run-time feature probes the agent announces in its Ready message.
pub fn probes() -> Vec<Probe> {
    let mut all = vec![busy_poll::PROBE, net::PROBE, userpoll::PROBE];
    all.extend_from_slice(exclusive::PROBES);
    all.extend_from_slice(napi_threaded::PROBES);
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
