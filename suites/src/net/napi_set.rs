//! napi-set round trips: each per-NAPI attribute napi-get reports takes a new value, reads it
//! back, and is restored. Attributes the kernel doesn't report are listed, not tested; a kernel
//! that reports none of them makes the case Skip.

use crate::netkit::fixture::{in_ns, topology};
use crate::netkit::netdev::{Napi, NapiSettings, Netdev, Threaded};
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx};
use pollcheck_proto::Feature;

pub(super) fn napi_set(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let ifindex = topo.b.ifindex;
    let napis = in_ns(ctx, &topo.b.ns, "napi-get dump", move || Netdev::open()?.napis(ifindex))?;
    let first = ctx.setup(napis.first().cloned().ok_or("the device has no NAPI"), "find a NAPI")?;
    let id = first.id;
    let mut absent = Vec::new();
    let mut tried = Vec::new();
    type Probe = (&'static str, fn(&Napi) -> Option<u64>, fn(u64) -> NapiSettings, [u64; 2]);
    let attrs: [Probe; 3] = [
        (
            "defer-hard-irqs",
            |n| n.defer_hard_irqs.map(u64::from),
            |v| NapiSettings { defer_hard_irqs: Some(v as u32), ..Default::default() },
            [7, 0],
        ),
        (
            "gro-flush-timeout",
            |n| n.gro_flush_timeout,
            |v| NapiSettings { gro_flush_timeout: Some(v), ..Default::default() },
            [20_000, 0],
        ),
        (
            "irq-suspend-timeout",
            |n| n.irq_suspend_timeout,
            |v| NapiSettings { irq_suspend_timeout: Some(v), ..Default::default() },
            [5_000_000, 0],
        ),
    ];
    for (name, read, make, values) in attrs {
        let Some(original) = read(&first) else {
            absent.push(name);
            continue;
        };
        tried.push(name);
        for v in values.into_iter().chain([original]) {
            in_ns(ctx, &topo.b.ns, "napi-set", move || Netdev::open()?.napi_set(id, &make(v)))?;
            let got = in_ns(ctx, &topo.b.ns, "napi-get", move || Netdev::open()?.napi_get(id))?;
            ctx.expect(read(&got) == Some(v), format!("{name} = {v} reads back"), format!("{:?}", read(&got)));
        }
    }
    match first.threaded {
        None => absent.push("threaded"),
        Some(original) => {
            tried.push("threaded");
            for mode in [Threaded::Enabled, Threaded::Disabled, original] {
                let s = NapiSettings { threaded: Some(mode), ..Default::default() };
                in_ns(ctx, &topo.b.ns, "napi-set threaded", move || Netdev::open()?.napi_set(id, &s))?;
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
    ctx.log(format!("NAPI {id}: round-tripped {tried:?}; not reported by this kernel: {absent:?}"));
    if tried.is_empty() {
        return Err(ctx.absent(
            Feature::NapiSet,
            format!("napi-get reports none of the settable attributes ({absent:?}): kernel before 6.13"),
        ));
    }
    Ok(())
}
