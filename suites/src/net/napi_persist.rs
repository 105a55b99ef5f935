//! Per-NAPI settings survive the NIC being disturbed: defer-hard-irqs, gro-flush-timeout and
//! irq-suspend-timeout set with napi-set on two of B's RX queues' NAPIs read back the same after
//! `ip link set down/up` and after the combined channel count shrinks to 1 and grows back.
//!
//! What the kernel promises (linux-source-7.2): drivers that add their NAPIs with
//! netif_napi_add_config (virtio_net.c:6545, netdevsim/netdev.c:447) back each NAPI with
//! `dev->napi_config[queue index]`, which lives as long as the device; napi_disable saves the
//! NAPI's settings into it (napi_save_config, net/core/dev.c:7594) and napi_enable restores them
//! (napi_restore_config, dev.c:7571), the NAPI id included. napi.rst: "the NAPI configuration
//! ... persists across queue count changes and device resets". The NAPIs are found again by
//! queue index after each step (queue-get), not by id; the ids are logged. While the link is
//! down napi-get of the ids is ENOENT (a disabled NAPI leaves the NAPI hash): logged.
//!
//! virtio keeps its NAPI structs across down/up (only disable/enable) and across channel changes
//! (all max_queue_pairs NAPIs stay enabled), netdevsim deletes and re-adds its NAPIs on down/up,
//! so a napi_restore_config that forgets a field shows on netdevsim and a napi_save_config that
//! forgets one on both.

use crate::netkit::churn::{self, rx_napis};
use crate::netkit::fixture::{in_ns, skip_absent, topology};
use crate::netkit::netdev::{Napi, NapiSettings, Netdev};
use crate::netkit::{Kind, Topology};
use pollcheck_guest::{CaseResult, Ctx, Stop};
use pollcheck_proto::Feature;
use std::collections::BTreeMap;

/// The three settings of a NAPI as napi-get reports them.
fn settings(n: &Napi) -> NapiSettings {
    NapiSettings {
        defer_hard_irqs: n.defer_hard_irqs,
        gro_flush_timeout: n.gro_flush_timeout,
        irq_suspend_timeout: n.irq_suspend_timeout,
        threaded: None,
    }
}

/// The values set on RX queue 0's NAPI and on the last queue's (the one a shrink to one channel
/// takes away); distinct from each other and from the defaults (0).
const FIRST: NapiSettings = NapiSettings {
    defer_hard_irqs: Some(7),
    gro_flush_timeout: Some(20_000),
    irq_suspend_timeout: Some(5_000_000),
    threaded: None,
};
const LAST: NapiSettings = NapiSettings {
    defer_hard_irqs: Some(3),
    gro_flush_timeout: Some(50_000),
    irq_suspend_timeout: Some(7_000_000),
    threaded: None,
};

/// Puts the settings each RX queue's NAPI had back when dropped, finding the NAPIs by queue.
struct RestoreByQueue<'t> {
    topo: &'t Topology,
    original: BTreeMap<u32, NapiSettings>,
}

impl Drop for RestoreByQueue<'_> {
    fn drop(&mut self) {
        let Ok(now) = rx_napis(self.topo) else { return };
        for (q, s) in &self.original {
            if let Some(&id) = now.get(q) {
                let s = s.clone();
                let _ = self.topo.b.ns.try_run(move || Netdev::open()?.napi_set(id, &s));
            }
        }
    }
}

/// napi-get of each RX queue's NAPI, by queue.
fn by_queue(ctx: &mut Ctx<'_>, topo: &Topology, queues: u32) -> Result<BTreeMap<u32, Napi>, Stop> {
    let ids = skip_absent(ctx, churn::rx_napis_settled(topo, queues), "map B's RX queues to NAPIs")?;
    let mut out = BTreeMap::new();
    for (q, id) in ids {
        let napi = in_ns(ctx, &topo.b.ns, "napi-get", move || Netdev::open()?.napi_get(id))?;
        out.insert(q, napi);
    }
    Ok(out)
}

pub(super) fn napi_persist(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let queues = topo.queues;
    if queues < 2 {
        return Err(ctx.not_here(format!(
            "B has {queues} queue pair: shrinking the channel count needs two or more (--queues 2)"
        )));
    }
    // What the kernel has, from napi-get, before anything that needs queue-get's NAPI links.
    let ifindex = topo.b.ifindex;
    let dump = in_ns(ctx, &topo.b.ns, "napi-get dump", move || Netdev::open()?.napis(ifindex))?;
    let first = ctx.setup(dump.first().cloned().ok_or("B lists no NAPI"), "find B's NAPIs")?;
    if first.defer_hard_irqs.is_none() || first.gro_flush_timeout.is_none() {
        return Err(ctx.absent(
            Feature::NapiSet,
            format!("napi-get of NAPI {} reports no defer-hard-irqs / gro-flush-timeout: kernel before 6.13", first.id),
        ));
    }
    if first.irq_suspend_timeout.is_none() {
        return Err(ctx.absent(
            Feature::IrqSuspend,
            format!("napi-get of NAPI {} reports no irq-suspend-timeout: no IRQ suspension (6.13+)", first.id),
        ));
    }
    let before = by_queue(ctx, &topo, queues)?;
    let _napis = RestoreByQueue { topo: &topo, original: before.iter().map(|(q, n)| (*q, settings(n))).collect() };
    let _link = ctx.setup(churn::guard(&topo), "read B's channel count")?;
    let last = queues - 1;
    let mut want: BTreeMap<u32, NapiSettings> = before.iter().map(|(q, n)| (*q, settings(n))).collect();
    want.insert(0, FIRST);
    want.insert(last, LAST);
    for (q, s) in [(0, FIRST), (last, LAST)] {
        let id = before[&q].id;
        in_ns(ctx, &topo.b.ns, "napi-set", move || Netdev::open()?.napi_set(id, &s))?;
    }
    ctx.log(format!(
        "{}: RX queue 0 (NAPI {}) set to {FIRST}, RX queue {last} (NAPI {}) to {LAST}",
        topo.b.ifname, before[&0].id, before[&last].id
    ));
    expect_all(ctx, &topo, queues, &want, &before, "as set")?;

    let ids: Vec<u32> = before.values().map(|n| n.id).collect();
    let down = ctx.setup(churn::bounce(&topo, &ids, queues), "take B's link down and up again")?;
    ctx.log(format!("napi-get while the link was down: {down:?}"));
    expect_all(ctx, &topo, queues, &want, &before, "after ip link set down/up")?;

    ctx.setup(churn::set_channels(&topo, 1), "ethtool -L combined 1")?;
    let one: BTreeMap<u32, NapiSettings> =
        want.iter().filter(|(q, _)| **q == 0).map(|(q, s)| (*q, s.clone())).collect();
    expect_all(ctx, &topo, 1, &one, &before, "with one combined channel")?;
    ctx.setup(churn::set_channels(&topo, queues), &format!("ethtool -L combined {queues}"))?;
    expect_all(ctx, &topo, queues, &want, &before, &format!("after ethtool -L combined 1, then {queues}"))?;
    Ok(())
}

/// Every RX queue's NAPI reads `want` (by queue); ids that changed since `before` are logged.
fn expect_all(
    ctx: &mut Ctx<'_>,
    topo: &Topology,
    queues: u32,
    want: &BTreeMap<u32, NapiSettings>,
    before: &BTreeMap<u32, Napi>,
    when: &str,
) -> Result<(), Stop> {
    let now = by_queue(ctx, topo, queues)?;
    let moved: Vec<String> = now
        .iter()
        .filter(|(q, n)| before.get(q).is_some_and(|b| b.id != n.id))
        .map(|(q, n)| format!("queue {q}: {} -> {}", before[q].id, n.id))
        .collect();
    let ids: Vec<String> = now.iter().map(|(q, n)| format!("{q}:{}", n.id)).collect();
    ctx.log(format!("{when}: NAPIs by RX queue {}; ids changed: {moved:?}", ids.join(" ")));
    for (q, w) in want {
        let Some(n) = now.get(q) else { continue };
        let got = settings(n);
        ctx.expect(
            &got == w,
            format!("{when}: RX queue {q}'s NAPI (id {}) reads {w}", n.id),
            if got.to_string().is_empty() { "nothing".to_owned() } else { got.to_string() },
        );
    }
    Ok(())
}
