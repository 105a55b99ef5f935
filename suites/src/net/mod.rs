//! net: the test networks themselves (the guest-side plumbing every network suite leans on),
//! proven before any suite uses them: traffic on each virtio RX queue raises that queue's IRQ and
//! no other; the NAPI ids netlink reports are the ones sockets see; napi-set round-trips what the
//! kernel has and keeps it across link down/up and channel changes; the kernel's netlink errors
//! surface with their extack text; normalised dumps for snapshots. The fixture they share is [`crate::netkit::fixture`].

mod dump;
mod napi_errors;
mod napi_ids;
mod napi_persist;
mod napi_set;
mod queue_irqs;
mod setup_errors;

use crate::netkit::Kind;
use pollcheck_guest::Case;
use pollcheck_proto::Feature;
use std::time::Duration;

pub const SUITE: &str = "net";

/// Limit of each net case.
const TIMEOUT: Duration = Duration::from_secs(30);
const BOTH: &[Kind] = &[Kind::Virtio, Kind::Netdevsim];

pub fn cases() -> Vec<Case> {
    let cases = [
        Case::with_variants(
            SUITE,
            "queue_irq",
            "traffic steered to each RX queue raises that queue's MSI-X IRQ count and no other queue's",
            &[Kind::Virtio],
            queue_irqs::queue_irq,
        )
        .features(&[Feature::NetdevNapiGet]),
        Case::with_variants(
            SUITE,
            "napi_ids",
            "SO_INCOMING_NAPI_ID on each RX queue's flow is that queue's NAPI id from netdev queue-get; ids are distinct and napi-get lists them",
            BOTH,
            napi_ids::napi_ids,
        )
        .features(&[Feature::NetdevNapiGet]),
        Case::with_variants(
            SUITE,
            "napi_set",
            "napi-set round-trips every per-NAPI attribute napi-get reports (defer-hard-irqs, gro-flush-timeout, irq-suspend-timeout, threaded)",
            BOTH,
            napi_set::napi_set,
        )
        .features(&[Feature::NapiSet])
        // Writes every NAPI attribute and puts the originals back at its end.
        .mutates_global(),
        Case::with_variants(
            SUITE,
            "napi_errors",
            "napi-get of an unknown id is ENOENT pointing at the id; napi-set out of range is ERANGE with the kernel's extack text; napi-set without CAP_NET_ADMIN is EPERM (before its attributes are validated) and changes nothing",
            &[Kind::Virtio],
            napi_errors::napi_errors,
        )
        .features(&[Feature::NapiSet])
        // Only a kernel that wrongly accepts a refused napi-set changes anything; a guard restores it.
        .mutates_global(),
        Case::with_variants(
            SUITE,
            "napi_persist",
            "defer-hard-irqs, gro-flush-timeout and irq-suspend-timeout set per NAPI read back the same (NAPIs found by RX queue) after ip link set down/up and after ethtool -L combined 1 then back",
            BOTH,
            napi_persist::napi_persist,
        )
        .features(&[Feature::NapiSet, Feature::IrqSuspend])
        // NAPI settings, the link state and the channel count, restored by the case's guards.
        .mutates_global(),
        Case::with_variants(
            SUITE,
            "setup_errors",
            "bad topology requests (a taken namespace name, too many queue pairs or channels) fail with one clear line",
            &[Kind::Virtio],
            setup_errors::setup_errors,
        ),
        Case::with_variants(
            SUITE,
            "netlink_dump",
            "logs B's queues and NAPIs as normalised JSON (for the host's snapshot test)",
            BOTH,
            dump::netlink_dump,
        )
        .features(&[Feature::NetdevNapiGet]),
    ];
    pollcheck_guest::collect(cases.into_iter().map(|c| c.timeout(TIMEOUT)))
}
