//! napi-set round trips: each per-NAPI attribute napi-set's policy lists takes a new value,
//! reads it back, and is restored. napi-get must report every attribute the policy lists (one it
//! does not is a FAIL); attributes the policy lacks are listed, not tested. A kernel whose op list
//! has no napi-set, or whose napi-set policy has none of them, makes the case Skip.

use crate::netkit::fixture::{in_ns, skip_absent, topology};
use crate::netkit::netdev::{Napi, NapiAttr, NapiSettings, Netdev, Threaded};
use crate::netkit::netns::NetNs;
use crate::netkit::{Kind, NetError};
use pollcheck_guest::{CaseResult, Ctx, Stop};
use pollcheck_proto::Feature;

pub(super) fn napi_set(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let ifindex = topo.b.ifindex;
    let napis = in_ns(ctx, &topo.b.ns, "napi-get dump", move || Netdev::open()?.napis(ifindex))?;
    let first = ctx.setup(napis.first().cloned().ok_or("the device has no NAPI"), "find a NAPI")?;
    let id = first.id;
    let policy = in_ns(ctx, &topo.b.ns, "read napi-set's attribute policy (CTRL_CMD_GETPOLICY)", || {
        Netdev::open()?.napi_set_policy().cloned()
    })?;
    let mut absent = Vec::new();
    let mut tried = Vec::new();
    // An attribute the policy lists must be reported; true when it is to be round-tripped.
    let mut judge = |ctx: &mut Ctx<'_>, a: NapiAttr, reported: bool| -> bool {
        let listed = policy.attr(a.id()).is_some();
        if !listed {
            absent.push(a.name());
            if reported {
                ctx.log(format!("napi-get reports {} but napi-set's policy lacks it", a.name()));
            }
            return false;
        }
        ctx.expect(
            reported,
            format!("napi-get of NAPI {id} reports {}, which napi-set's attribute policy lists", a.name()),
            if reported { "reported" } else { "not reported" },
        )
    };
    type Probe = (NapiAttr, fn(&Napi) -> Option<u64>, fn(u64) -> NapiSettings, [u64; 2]);
    let attrs: [Probe; 3] = [
        (
            NapiAttr::DeferHardIrqs,
            |n| n.defer_hard_irqs.map(u64::from),
            |v| NapiSettings { defer_hard_irqs: Some(v as u32), ..Default::default() },
            [7, 0],
        ),
        (
            NapiAttr::GroFlushTimeout,
            |n| n.gro_flush_timeout,
            |v| NapiSettings { gro_flush_timeout: Some(v), ..Default::default() },
            [20_000, 0],
        ),
        (
            NapiAttr::IrqSuspendTimeout,
            |n| n.irq_suspend_timeout,
            |v| NapiSettings { irq_suspend_timeout: Some(v), ..Default::default() },
            [5_000_000, 0],
        ),
    ];
    for (a, read, make, values) in attrs {
        let name = a.name();
        let now = read(&first);
        if !judge(ctx, a, now.is_some()) {
            continue;
        }
        let Some(original) = now else { continue };
        tried.push(name);
        for v in values.into_iter().chain([original]) {
            accepted(ctx, &topo.b.ns, id, make(v))?;
            let got = in_ns(ctx, &topo.b.ns, "napi-get", move || Netdev::open()?.napi_get(id))?;
            ctx.expect(read(&got) == Some(v), format!("{name} = {v} reads back"), format!("{:?}", read(&got)));
        }
    }
    let round_trip = judge(ctx, NapiAttr::Threaded, first.threaded.is_some());
    match first.threaded.filter(|_| round_trip) {
        None => {}
        Some(original) => {
            tried.push("threaded");
            for mode in [Threaded::Enabled, Threaded::Disabled, original] {
                let s = NapiSettings { threaded: Some(mode), ..Default::default() };
                accepted(ctx, &topo.b.ns, id, s)?;
                let got = in_ns(ctx, &topo.b.ns, "napi-get", move || Netdev::open()?.napi_get(id))?;
                ctx.expect(
                    got.threaded == Some(mode),
                    format!("threaded = {mode:?} reads back"),
                    format!("{:?}", got.threaded),
                );
                let has_pid = got.pid.is_some();
                ctx.expect(
                    has_pid == (mode != Threaded::Disabled),
                    format!("a pid is reported iff threaded ({mode:?})"),
                    format!("{:?}", got.pid),
                );
            }
        }
    }
    ctx.log(format!("NAPI {id}: round-tripped {tried:?}; not in napi-set's attribute policy: {absent:?}"));
    if absent.len() == NapiAttr::ALL.len() {
        return Err(ctx.absent(
            Feature::NapiSet,
            format!(
                "napi-set's attribute policy (CTRL_CMD_GETPOLICY) has none of the per-NAPI attributes ({absent:?})"
            ),
        ));
    }
    Ok(())
}

/// napi-set of `s` on NAPI `id`, a value its attribute policy lists: the kernel refusing it is a
/// FAIL of the round trip (a listed op answering EOPNOTSUPP, too, through [`NetError::Lost`]).
fn accepted(ctx: &mut Ctx<'_>, ns: &NetNs, id: u32, s: NapiSettings) -> Result<(), Stop> {
    let what = format!("napi-set {s} on NAPI {id} is accepted (napi-set's attribute policy lists it)");
    let res = ns.try_run(move || Netdev::open()?.napi_set(id, &s));
    if let Err(e @ NetError::Kernel { .. }) = &res {
        ctx.assert(false, what.clone(), e)?;
    }
    skip_absent(ctx, res, &what)
}
