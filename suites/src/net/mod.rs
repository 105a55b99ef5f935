//! net: the test networks themselves (issue 4's plumbing), proven before any suite leans on them:
//! traffic on each virtio RX queue raises that queue's IRQ and no other; the NAPI ids netlink
//! reports are the ones sockets see; napi-set round-trips what the kernel has; the kernel's
//! netlink errors surface with their extack text; normalised dumps for snapshots.

mod dump;
pub mod fixture;
mod napi_errors;
mod napi_ids;
mod napi_set;
mod queue_irqs;
mod setup_errors;

use crate::netkit::Kind;
use pollcheck_guest::{Case, CaseResult, Ctx, Probe};
use pollcheck_proto::{CaseId, CaseMeta, Requires};

pub const SUITE: &str = "net";

type CaseFn = fn(&mut Ctx<'_>) -> CaseResult;

/// (name, summary, variants, function).
const CASES: &[(&str, &str, &[Kind], CaseFn)] = &[
    (
        "queue_irq",
        "traffic steered to each RX queue raises that queue's MSI-X IRQ count and no other queue's",
        &[Kind::Virtio],
        queue_irqs::queue_irq,
    ),
    (
        "napi_ids",
        "SO_INCOMING_NAPI_ID on each RX queue's flow is that queue's NAPI id from netdev queue-get; ids are distinct and napi-get lists them",
        &[Kind::Virtio, Kind::Netdevsim],
        napi_ids::napi_ids,
    ),
    (
        "napi_set",
        "napi-set round-trips every per-NAPI attribute napi-get reports (defer-hard-irqs, gro-flush-timeout, irq-suspend-timeout, threaded)",
        &[Kind::Virtio, Kind::Netdevsim],
        napi_set::napi_set,
    ),
    (
        "napi_errors",
        "napi-get of an unknown id is ENOENT pointing at the id; napi-set out of range is ERANGE with the kernel's extack text",
        &[Kind::Virtio],
        napi_errors::napi_errors,
    ),
    (
        "setup_errors",
        "bad topology requests (a taken namespace name, too many queue pairs or channels) fail with one clear line",
        &[Kind::Virtio],
        setup_errors::setup_errors,
    ),
    (
        "netlink_dump",
        "logs B's queues and NAPIs as normalised JSON (for the host's snapshot test)",
        &[Kind::Virtio, Kind::Netdevsim],
        dump::netlink_dump,
    ),
];

pub const PROBE: Probe = Probe {
    name: "netdevsim",
    run: || crate::netkit::netdevsim::available().map_or_else(|e| format!("no: {e}"), |()| "yes".into()),
};

pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for &(name, summary, kinds, run) in CASES {
        for &kind in kinds {
            let mut meta = meta(SUITE, name, summary, kind);
            // napi_set writes every NAPI attribute and puts the originals back at its end.
            meta.mutates_global = name == "napi_set";
            out.push(Case { meta, run });
        }
    }
    out
}

/// Metadata of a network case on topology `kind`: the variant names the topology; netdevsim
/// cases need CONFIG_NETDEVSIM (planned as Skip without booting where the config says no).
pub fn meta(suite: &str, name: &str, summary: &str, kind: Kind) -> CaseMeta {
    let mut kconfig = vec!["NET".to_owned(), "NET_NS".to_owned(), "NET_RX_BUSY_POLL".to_owned()];
    kconfig.push(match kind {
        Kind::Virtio => "VIRTIO_NET".to_owned(),
        Kind::Netdevsim => "NETDEVSIM".to_owned(),
    });
    CaseMeta {
        id: CaseId::new(suite, name).with_variant(kind.name()),
        summary: summary.to_owned(),
        requires: Requires { kconfig, network: kind == Kind::Virtio, ..Requires::default() },
        timeout_ms: 30_000,
        mutates_global: false,
    }
}
