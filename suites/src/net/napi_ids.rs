//! NAPI ids three ways agree: what a socket sees (SO_INCOMING_NAPI_ID), what queue-get says each
//! RX queue's NAPI is, and what napi-get lists for the device.

use crate::netkit::fixture::{in_ns, skip_absent, topology};
use crate::netkit::netdev::{Netdev, QueueType};
use crate::netkit::steer::{find_flows, unlinked_queues};
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx};
use pollcheck_proto::Feature;
use std::collections::BTreeSet;

pub(super) fn napi_ids(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let ifindex = topo.b.ifindex;
    let queues = in_ns(ctx, &topo.b.ns, "queue-get dump", move || Netdev::open()?.queues(ifindex))?;
    let napis = in_ns(ctx, &topo.b.ns, "napi-get dump", move || Netdev::open()?.napis(ifindex))?;
    let rx: Vec<_> = queues.iter().filter(|q| q.kind == QueueType::Rx).collect();
    ctx.log(format!("RX queues: {:?}", rx.iter().map(|q| (q.id, q.napi_id)).collect::<Vec<_>>()));
    ctx.log(format!("NAPIs: {:?}", napis.iter().map(|n| n.id).collect::<Vec<_>>()));
    let name = topo.b.ifname.clone();
    if let Ok(c) = topo.b.ns.try_run(move || crate::netkit::ethtool::get(&name)) {
        ctx.log(format!("channels of {}: {} of {} combined", topo.b.ifname, c.combined_count, c.max_combined));
    }
    ctx.assert_eq(rx.len() as u32, topo.queues, "queue-get lists one RX queue per active queue pair")?;
    let rx_napis: Vec<u32> = rx.iter().filter_map(|q| q.napi_id).collect();
    if rx_napis.is_empty() {
        return Err(ctx.absent(Feature::VirtioNapiQueues, unlinked_queues(&topo.b.ifname)));
    }
    ctx.assert_eq(rx_napis.len(), rx.len(), "every RX queue names its NAPI")?;
    let distinct: BTreeSet<u32> = rx_napis.iter().copied().collect();
    ctx.assert_eq(distinct.len(), rx_napis.len(), "RX queues have distinct NAPI ids")?;
    let listed: BTreeSet<u32> = napis.iter().map(|n| n.id).collect();
    ctx.assert(distinct.is_subset(&listed), "napi-get's dump lists every RX queue's NAPI", format!("{listed:?}"))?;
    let flows = skip_absent(ctx, find_flows(&topo, 9001, topo.queues), "probe flows from A to B")?;
    ctx.log(format!("flows (queue -> (source port, NAPI id)): {:?} after {} ports", flows.by_queue, flows.tried));
    ctx.expect(
        flows.unmatched.is_empty(),
        "every datagram B received carried the NAPI id of one of its RX queues",
        format!("{:?}", flows.unmatched),
    );
    let reached: Vec<u32> = flows.by_queue.keys().copied().collect();
    ctx.expect(
        reached.len() as u32 == topo.queues,
        format!("datagrams arrived carrying each of the {} RX queues' NAPI ids", topo.queues),
        format!("reached {reached:?}"),
    );
    Ok(())
}
