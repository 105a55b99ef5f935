//! B's queues and NAPIs as normalised JSON on one log line: NAPI ids, pids and IRQ numbers are
//! replaced by their order of appearance, so the host can snapshot what the kernel reports.

use crate::netkit::fixture::{in_ns, topology};
use crate::netkit::netdev::Netdev;
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx};
use serde_json::{json, Value};

pub const PREFIX: &str = "netlink-dump: ";

pub(super) fn netlink_dump(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let ifindex = topo.b.ifindex;
    let queues = in_ns(ctx, &topo.b.ns, "queue-get dump", move || Netdev::open()?.queues(ifindex))?;
    let napis = in_ns(ctx, &topo.b.ns, "napi-get dump", move || Netdev::open()?.napis(ifindex))?;
    let ids: Vec<u32> = napis.iter().map(|n| n.id).collect();
    let ordinal = |id: Option<u32>| {
        id.map(|id| ids.iter().position(|&x| x == id).map_or(json!("?"), |p| json!(format!("napi#{p}"))))
    };
    let queues: Vec<Value> =
        queues.iter().map(|q| json!({ "id": q.id, "type": q.kind, "napi": ordinal(q.napi_id) })).collect();
    let napis: Vec<Value> = napis
        .iter()
        .map(|n| {
            json!({
                "napi": ordinal(Some(n.id)),
                "irq": n.irq.map(|_| "<irq>"),
                "pid": n.pid.map(|_| "<pid>"),
                "defer-hard-irqs": n.defer_hard_irqs,
                "gro-flush-timeout": n.gro_flush_timeout,
                "irq-suspend-timeout": n.irq_suspend_timeout,
                "threaded": n.threaded,
            })
        })
        .collect();
    let doc = json!({ "topology": topo.kind.name(), "queues": queues, "napis": napis });
    ctx.log(format!("{PREFIX}{doc}"));
    ctx.assert(!ids.is_empty(), "napi-get lists the device's NAPIs", ids.len())
}
