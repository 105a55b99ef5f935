//! The per-NAPI `threaded` attribute over netlink: each mode set with napi-set reads back from
//! napi-get on that NAPI alone, with a kthread pid exactly while the NAPI is threaded.

use super::mode::{self, get, set};
use crate::netkit::fixture::topology;
use crate::netkit::netdev::{Napi, Threaded};
use crate::netkit::{Kind, Topology};
use pollcheck_guest::{CaseResult, Ctx, Stop};

/// disabled ↔ enabled on every NAPI of B, one at a time; the others stay disabled without a pid.
pub(super) fn round_trip(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let all = mode::napis(ctx, &topo)?;
    let first = ctx.setup(all.first().cloned().ok_or("the device lists no NAPI"), "find B's NAPIs")?;
    mode::require_per_napi(ctx, &topo, &first)?;
    let _restore = mode::reset(ctx, &topo)?;
    let ids: Vec<u32> = all.iter().map(|n| n.id).collect();
    ctx.log(format!("NAPIs of {}: {ids:?}", topo.b.ifname));
    for &id in &ids {
        for m in [Threaded::Enabled, Threaded::Disabled] {
            set(ctx, &topo, id, m)?;
            let got = get(ctx, &topo, id)?;
            expect_mode(ctx, &got, m);
            if m == Threaded::Enabled {
                ctx.log(format!("NAPI {id} enabled: kthread pid {:?}", got.pid));
                others_untouched(ctx, &topo, id)?;
            }
        }
    }
    Ok(())
}

/// busy-poll reads back with a pid; busy-poll → enabled → busy-poll keeps the same kthread;
/// disabled drops it; busy-poll again starts a new one. Skips where busy-poll mode is absent.
pub(super) fn busy_poll_round_trip(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let id = mode::target(ctx, &topo)?;
    let _restore = mode::reset(ctx, &topo)?;
    mode::require_busy_poll(ctx, &topo, id)?;
    let got = get(ctx, &topo, id)?;
    expect_mode(ctx, &got, Threaded::BusyPoll);
    others_untouched(ctx, &topo, id)?;
    let pid = ctx.setup(got.pid.ok_or("napi-get reported no pid in busy-poll mode"), "read the kthread pid")?;
    let mut seen = vec![format!("busy-poll pid {pid}")];
    for m in [Threaded::Enabled, Threaded::BusyPoll] {
        set(ctx, &topo, id, m)?;
        let got = get(ctx, &topo, id)?;
        expect_mode(ctx, &got, m);
        ctx.expect(got.pid == Some(pid), format!("{m:?} keeps the kthread (pid {pid})"), format!("{:?}", got.pid));
        seen.push(format!("{m:?} pid {:?}", got.pid));
    }
    set(ctx, &topo, id, Threaded::Disabled)?;
    let got = get(ctx, &topo, id)?;
    expect_mode(ctx, &got, Threaded::Disabled);
    mode::require_busy_poll(ctx, &topo, id)?;
    let again = get(ctx, &topo, id)?;
    expect_mode(ctx, &again, Threaded::BusyPoll);
    seen.push(format!("disabled, then busy-poll pid {:?}", again.pid));
    ctx.log(format!("NAPI {id} on {}: {}", topo.b.ifname, seen.join("; ")));
    set(ctx, &topo, id, Threaded::Disabled)
}

/// `threaded` reads `want`, and a pid is reported iff the NAPI is threaded.
fn expect_mode(ctx: &mut Ctx<'_>, got: &Napi, want: Threaded) {
    let id = got.id;
    ctx.expect(
        got.threaded == Some(want),
        format!("NAPI {id}: threaded = {want:?} reads back"),
        format!("{:?}", got.threaded),
    );
    let threaded = want != Threaded::Disabled;
    let what = if threaded { "napi-get reports a kthread pid" } else { "napi-get reports no pid" };
    ctx.expect(got.pid.is_some() == threaded, format!("NAPI {id} {want:?}: {what}"), format!("pid {:?}", got.pid));
}

/// Every NAPI of B but `id` is still disabled, without a pid.
fn others_untouched(ctx: &mut Ctx<'_>, topo: &Topology, id: u32) -> Result<(), Stop> {
    let all = mode::napis(ctx, topo)?;
    let touched: Vec<String> = all
        .iter()
        .filter(|n| n.id != id && (n.threaded != Some(Threaded::Disabled) || n.pid.is_some()))
        .map(|n| format!("{}: {:?} pid {:?}", n.id, n.threaded, n.pid))
        .collect();
    ctx.expect(
        touched.is_empty(),
        format!("setting NAPI {id} left B's other NAPIs disabled without a pid"),
        format!("{touched:?}"),
    );
    Ok(())
}
