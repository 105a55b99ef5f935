//! The toolkit's own bad-input answers, on a real guest: a namespace name already taken, more
//! queue pairs than the host attached, more channels than the NIC has — each one clear line.

use crate::netkit::fixture::{devices, topology};
use crate::netkit::netns::NetNs;
use crate::netkit::topology::host_net;
use crate::netkit::{ethtool, Kind, Topology};
use pollcheck_guest::{CaseResult, Ctx};

pub(super) fn setup_errors(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    devices(ctx, kind)?;
    let name = format!("pc-dup-{}", std::process::id());
    let first = ctx.setup(NetNs::create(&name), "create a namespace")?;
    let again = NetNs::create(&name).map(|_| ()).map_err(|e| e.to_string());
    ctx.log(format!("second create: {again:?}"));
    ctx.expect(
        again.as_ref().is_err_and(|e| e.contains("already exists") && e.contains(&name)),
        "creating a namespace whose name is taken fails, naming it",
        format!("{again:?}"),
    );
    drop(first);
    let host = ctx.setup(host_net().ok_or("no pollcheck.net= on the command line"), "read the host's network")?;
    let more = Topology::up(Kind::Virtio, Some(host.queues + 1)).map(|_| ()).map_err(|e| e.to_string());
    ctx.log(format!("{} queue pairs: {more:?}", host.queues + 1));
    ctx.expect(
        more.as_ref().is_err_and(|e| e.contains("--queues")),
        "asking for more queue pairs than the host attached says how to get them",
        format!("{more:?}"),
    );
    let topo = topology(ctx, kind, None)?;
    let ifname = topo.b.ifname.clone();
    let too_many = topo.b.ns.run(move || {
        let max = ethtool::get(&ifname).map(|c| c.max_combined).unwrap_or(0);
        ethtool::set_combined(&ifname, max + 1).map_err(|e| e.to_string())
    });
    let too_many = ctx.setup(too_many, "enter B's namespace")?;
    ctx.log(format!("channels past the maximum: {too_many:?}"));
    ctx.expect(
        too_many.as_ref().is_err_and(|e| e.contains("at most")),
        "more channels than the NIC has is refused with its maximum",
        format!("{too_many:?}"),
    );
    Ok(())
}
