//! The topology fixture network cases share: the variant in the case name (`.virtio`,
//! `.netdevsim`) picks the devices; a kernel without them makes the case Skip with the reason.

use crate::netkit::{netdevsim, Kind, NetError, Topology};
use pollcheck_guest::{Ctx, Stop};
use std::path::Path;

/// The topology this case's variant names, up and logged; `queues` None: all the host gave.
pub fn topology(ctx: &mut Ctx<'_>, queues: Option<u32>) -> Result<Topology, Stop> {
    let kind = devices(ctx)?;
    let started = std::time::Instant::now();
    let topo = ctx.setup(Topology::up(kind, queues), "build the test network")?;
    ctx.log(format!("topology: {} (set up in {} ms)", topo.description, started.elapsed().as_millis()));
    Ok(topo)
}

/// The device kind this case's variant names, or a Skip saying why the kernel can't provide it.
pub fn devices(ctx: &mut Ctx<'_>) -> Result<Kind, Stop> {
    let kind = ctx.id().variant.as_deref().and_then(Kind::from_name).unwrap_or(Kind::Virtio);
    match kind {
        Kind::Netdevsim => {
            if let Err(why) = netdevsim::available() {
                return Err(ctx.skip(why));
            }
        }
        Kind::Virtio => {
            if !Path::new("/sys/bus/virtio/drivers/virtio_net").exists() {
                return Err(ctx.skip(
                    "virtio-net not available: no virtio_net driver (CONFIG_VIRTIO_NET off, module not loaded)",
                ));
            }
        }
    }
    Ok(kind)
}

/// A netdev-family request inside `ns`: an interface the kernel lacks makes the case Skip with
/// the kernel's answer; any other failure is a setup problem of the case.
pub fn in_ns<T: Send>(
    ctx: &mut Ctx<'_>,
    ns: &crate::netkit::netns::NetNs,
    what: &str,
    f: impl FnOnce() -> Result<T, NetError> + Send,
) -> Result<T, Stop> {
    skip_absent(ctx, ns.try_run(f), what)
}

/// `res`, with [`NetError::Absent`] turned into a Skip and other errors into a failed setup.
pub fn skip_absent<T>(ctx: &mut Ctx<'_>, res: Result<T, NetError>, what: &str) -> Result<T, Stop> {
    match res {
        Err(NetError::Absent(why)) => Err(ctx.skip(why)),
        other => ctx.setup(other, what),
    }
}
