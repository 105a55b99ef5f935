//! A NAPI's threaded mode, set and read over netlink in B's namespace; run-time detection of
//! per-NAPI threaded and of busy-poll mode from napi-set's attribute policy (CTRL_CMD_GETPOLICY:
//! `threaded` listed, its maximum 1 or 2), which napi-get and napi-set must then live up to; and
//! a guard that puts every NAPI of B back to `disabled`, so that no kthread outlives the
//! case (a busy-poll one would spin through the cases after it).

use crate::netkit::fixture::{in_ns, skip_absent};
use crate::netkit::napi_attrs::reported;
use crate::netkit::netdev::{Napi, NapiAttr, NapiSettings, Netdev, QueueType, Threaded};
use crate::netkit::{NetError, Topology};
use pollcheck_guest::{Ctx, Stop};

/// napi-get of `id` in B's namespace.
pub fn get(ctx: &mut Ctx<'_>, topo: &Topology, id: u32) -> Result<Napi, Stop> {
    in_ns(ctx, &topo.b.ns, "napi-get", move || Netdev::open()?.napi_get(id))
}

/// napi-set threaded = `mode` on `id` in B's namespace, as the kernel answers it.
pub fn try_set(topo: &Topology, id: u32, mode: Threaded) -> Result<(), NetError> {
    let s = NapiSettings { threaded: Some(mode), ..Default::default() };
    topo.b.ns.try_run(move || Netdev::open()?.napi_set(id, &s))
}

/// napi-set threaded = `mode`; a refusal stops the case as a failed setup.
pub fn set(ctx: &mut Ctx<'_>, topo: &Topology, id: u32, mode: Threaded) -> Result<(), Stop> {
    let res = try_set(topo, id, mode);
    ctx.setup(res, &format!("napi-set threaded = {mode:?} on NAPI {id}"))
}

/// Every NAPI of B (napi-get dump), by id.
pub fn napis(ctx: &mut Ctx<'_>, topo: &Topology) -> Result<Vec<Napi>, Stop> {
    let ifindex = topo.b.ifindex;
    in_ns(ctx, &topo.b.ns, "napi-get dump", move || Netdev::open()?.napis(ifindex))
}

/// The NAPI behind B's RX queue `queue` (queue-get).
pub fn rx_napi(ctx: &mut Ctx<'_>, topo: &Topology, queue: u32) -> Result<u32, Stop> {
    let ifindex = topo.b.ifindex;
    let queues = in_ns(ctx, &topo.b.ns, "queue-get dump", move || Netdev::open()?.queues(ifindex))?;
    let id = queues.iter().find(|q| q.kind == QueueType::Rx && q.id == queue).and_then(|q| q.napi_id);
    ctx.setup(id.ok_or(format!("queue-get names no NAPI for RX queue {queue} of {}", topo.b.ifname)), "find the NAPI")
}

/// The NAPI of B's RX queue 0, once [`require_per_napi`] holds for B's first NAPI (checked
/// first: kernels without it may not link queues to NAPIs either).
pub fn target(ctx: &mut Ctx<'_>, topo: &Topology) -> Result<u32, Stop> {
    let all = napis(ctx, topo)?;
    let first = ctx.setup(all.first().cloned().ok_or("the device lists no NAPI"), "find B's NAPIs")?;
    require_per_napi(ctx, topo, &first)?;
    rx_napi(ctx, topo, 0)
}

/// Per-NAPI threaded (6.17+): Skip when napi-set's policy (or the netdev op list) shows it
/// absent; FAIL when the policy lists `threaded` and napi-get of `napi` does not report it.
pub fn require_per_napi(ctx: &mut Ctx<'_>, topo: &Topology, napi: &Napi) -> Result<(), Stop> {
    reported(ctx, &topo.b.ns, NapiAttr::Threaded, napi.id, napi.threaded).map(drop)
}

/// Put `id` in busy-poll mode. Skip when napi-set's policy caps `threaded` below busy-poll (or
/// has no `threaded`); a kernel whose policy admits busy-poll and then refuses it FAILs.
pub fn require_busy_poll(ctx: &mut Ctx<'_>, topo: &Topology, id: u32) -> Result<(), Stop> {
    let res = try_set(topo, id, Threaded::BusyPoll);
    skip_absent(ctx, res, "napi-set threaded = busy-poll")
}

/// Puts every NAPI of B that reports `threaded` back to `disabled` when dropped.
#[derive(Debug)]
pub struct Restore<'t> {
    topo: &'t Topology,
    ids: Vec<u32>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        for &id in &self.ids {
            let _ = try_set(self.topo, id, Threaded::Disabled);
        }
    }
}

/// Set every NAPI of B that reports `threaded` to `disabled` now (a case killed earlier may have
/// left one threaded) and again when the returned guard drops.
pub fn reset<'t>(ctx: &mut Ctx<'_>, topo: &'t Topology) -> Result<Restore<'t>, Stop> {
    let all = napis(ctx, topo)?;
    let ids: Vec<u32> = all.iter().filter(|n| n.threaded.is_some()).map(|n| n.id).collect();
    for &id in &ids {
        if all.iter().any(|n| n.id == id && n.threaded != Some(Threaded::Disabled)) {
            set(ctx, topo, id, Threaded::Disabled)?;
        }
    }
    Ok(Restore { topo, ids })
}
