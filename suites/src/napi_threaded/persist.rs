//! A NAPI's threaded mode survives the NIC being disturbed: set with napi-set on two of B's RX
//! queues' NAPIs it reads back the same, with a kthread pid, after `ip link set down/up` and after
//! the combined channel count shrinks to 1 and grows back; the other NAPIs stay disabled without
//! one. (Upstream's tools/testing/selftests/net/nl_netdev.py napi_set_threaded checks down/up on
//! netdevsim, drivers/net/napi_threaded.py the channel changes for the device-level switch.)
//!
//! The kernel keeps the mode in the NAPI's persistent config: napi_set_threaded writes
//! `napi->config->threaded` (net/core/dev.c:7306), napi_disable clears the THREADED state bits,
//! and napi_enable's napi_restore_config sets them again from the config (dev.c:7590);
//! netif_napi_add creates the kthread when the config says threaded (dev.c:7688). NAPIs are
//! found again by RX queue index after each step. Busy-poll mode leaves a kthread spinning, so
//! every NAPI of B is set back to disabled at the end (and by the guard if the case stops early).

use super::mode::{self, get, set};
use crate::netkit::churn::{self, rx_napis};
use crate::netkit::fixture::{skip_absent, topology};
use crate::netkit::netdev::Threaded;
use crate::netkit::{Kind, Topology};
use pollcheck_guest::{CaseResult, Ctx, Stop};
use std::collections::BTreeMap;

/// threaded = enabled on RX queue 0's NAPI and on the last queue's.
pub(super) fn persist(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    run(ctx, kind, Threaded::Enabled)
}

/// threaded = busy-poll on RX queue 0's NAPI, enabled on the last queue's.
pub(super) fn busy_poll_persist(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    run(ctx, kind, Threaded::BusyPoll)
}

/// Sets every RX queue's NAPI of B (found by queue now) back to disabled when dropped.
struct DisableByQueue<'t>(&'t Topology);

impl Drop for DisableByQueue<'_> {
    fn drop(&mut self) {
        for (_, id) in rx_napis(self.0).unwrap_or_default() {
            let _ = mode::try_set(self.0, id, Threaded::Disabled);
        }
    }
}

fn run(ctx: &mut Ctx<'_>, kind: Kind, first_mode: Threaded) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let queues = topo.queues;
    if queues < 2 {
        return Err(ctx.not_here(format!(
            "B has {queues} queue pair: shrinking the channel count needs two or more (--queues 2)"
        )));
    }
    // Per-NAPI threaded first (napi-get), then queue-get's links from queues to NAPIs.
    let all = mode::napis(ctx, &topo)?;
    let first = ctx.setup(all.first().cloned().ok_or("the device lists no NAPI"), "find B's NAPIs")?;
    mode::require_per_napi(ctx, &topo, &first)?;
    let ids = skip_absent(ctx, churn::rx_napis_settled(&topo, queues), "map B's RX queues to NAPIs")?;
    let id0 = ids[&0];
    let _all = mode::reset(ctx, &topo)?;
    let _by_queue = DisableByQueue(&topo);
    let _link = ctx.setup(churn::guard(&topo), "read B's channel count")?;
    let last = queues - 1;
    if first_mode == Threaded::BusyPoll {
        mode::require_busy_poll(ctx, &topo, id0)?;
    } else {
        set(ctx, &topo, id0, first_mode)?;
    }
    set(ctx, &topo, ids[&last], Threaded::Enabled)?;
    let mut want: BTreeMap<u32, Threaded> = (0..queues).map(|q| (q, Threaded::Disabled)).collect();
    want.insert(0, first_mode);
    want.insert(last, Threaded::Enabled);
    ctx.log(format!(
        "{}: RX queue 0 (NAPI {id0}) set to {first_mode}, RX queue {last} (NAPI {}) to enabled",
        topo.b.ifname, ids[&last]
    ));
    expect_modes(ctx, &topo, queues, &want, "as set")?;

    let all: Vec<u32> = ids.values().copied().collect();
    let down = ctx.setup(churn::bounce(&topo, &all, queues), "take B's link down and up again")?;
    ctx.log(format!("napi-get while the link was down: {down:?}"));
    expect_modes(ctx, &topo, queues, &want, "after ip link set down/up")?;

    ctx.setup(churn::set_channels(&topo, 1), "ethtool -L combined 1")?;
    let one: BTreeMap<u32, Threaded> = want.iter().filter(|(q, _)| **q == 0).map(|(q, m)| (*q, *m)).collect();
    expect_modes(ctx, &topo, 1, &one, "with one combined channel")?;
    ctx.setup(churn::set_channels(&topo, queues), &format!("ethtool -L combined {queues}"))?;
    expect_modes(ctx, &topo, queues, &want, &format!("after ethtool -L combined 1, then {queues}"))?;

    // Leave no kthread behind (a busy-poll one would spin through the next cases).
    let now = skip_absent(ctx, rx_napis(&topo), "map B's RX queues to NAPIs")?;
    for q in [0, last] {
        set(ctx, &topo, now[&q], Threaded::Disabled)?;
    }
    let off: BTreeMap<u32, Threaded> = (0..queues).map(|q| (q, Threaded::Disabled)).collect();
    expect_modes(ctx, &topo, queues, &off, "after setting them back to disabled")
}

/// Every listed RX queue's NAPI reads its mode from `want`, with a pid exactly when threaded.
fn expect_modes(
    ctx: &mut Ctx<'_>,
    topo: &Topology,
    queues: u32,
    want: &BTreeMap<u32, Threaded>,
    when: &str,
) -> Result<(), Stop> {
    let ids = skip_absent(ctx, churn::rx_napis_settled(topo, queues), "map B's RX queues to NAPIs")?;
    let mut seen = Vec::new();
    for (q, m) in want {
        let Some(&id) = ids.get(q) else { continue };
        let got = get(ctx, topo, id)?;
        seen.push(format!("queue {q} NAPI {id}: {:?} pid {:?}", got.threaded, got.pid));
        let threaded = *m != Threaded::Disabled;
        let pid = if threaded { "with a kthread pid" } else { "without a pid" };
        ctx.expect(
            got.threaded == Some(*m) && got.pid.is_some() == threaded,
            format!("{when}: RX queue {q}'s NAPI (id {id}) reads threaded = {m} {pid}"),
            format!("{:?}, pid {:?}", got.threaded, got.pid),
        );
    }
    ctx.log(format!("{when}: {}", seen.join("; ")));
    Ok(())
}
