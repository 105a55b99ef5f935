//! The topology fixture network cases share: the case's variant ([`Kind`], `.virtio` or
//! `.netdevsim`) picks the devices; a kernel without them makes the case Skip, naming the absent
//! feature and how its absence was found.

use crate::netkit::{netdevsim, Kind, NetError, Topology};
use pollcheck_guest::{Ctx, Probe, Stop};
use pollcheck_proto::{Feature, ProbeAnswer};
use std::path::Path;

/// The topology of `kind`, up and logged; `queues` None: all the host gave.
pub fn topology(ctx: &mut Ctx<'_>, kind: Kind, queues: Option<u32>) -> Result<Topology, Stop> {
    devices(ctx, kind)?;
    let started = std::time::Instant::now();
    let topo = ctx.setup(Topology::up(kind, queues), "build the test network")?;
    ctx.log(format!("topology: {} (set up in {} ms)", topo.description, started.elapsed().as_millis()));
    Ok(topo)
}

/// Nothing, or a Skip saying why the kernel can't provide the devices of `kind`.
pub fn devices(ctx: &mut Ctx<'_>, kind: Kind) -> Result<(), Stop> {
    match available(kind) {
        Ok(()) => Ok(()),
        Err(why) => Err(ctx.absent(kind.feature(), why)),
    }
}

/// Whether this guest's kernel has the driver of `kind` (after the agent loaded the modules it
/// was given), else why not.
pub fn available(kind: Kind) -> Result<(), String> {
    match kind {
        Kind::Netdevsim => netdevsim::available(),
        Kind::Virtio if Path::new("/sys/bus/virtio/drivers/virtio_net").exists() => Ok(()),
        Kind::Virtio => {
            Err("virtio-net not available: no virtio_net driver (CONFIG_VIRTIO_NET off, module not loaded)".into())
        }
    }
}

/// The agent's probes of the two drivers, which every network case of that kind requires: a
/// kernel without the driver (Debian 7.0's cloud image ships no modules) has those cases
/// decided by the first guest's answer instead of booting more guests (a 2-vCPU one included)
/// to Skip them one by one.
pub const PROBES: &[Probe] = &[
    Probe { name: Kind::Virtio.probe(), feature: Feature::VirtioNet, run: || answer(Kind::Virtio) },
    Probe { name: Kind::Netdevsim.probe(), feature: Feature::Netdevsim, run: || answer(Kind::Netdevsim) },
];

fn answer(kind: Kind) -> ProbeAnswer {
    match available(kind) {
        Ok(()) => ProbeAnswer::Yes,
        Err(why) => ProbeAnswer::No(why),
    }
}

/// A netdev-family request inside `ns`: an interface the kernel lacks makes the case Skip with
/// the controller's answer, one it advertises and refuses makes it FAIL; any other failure is a
/// setup problem of the case.
#[track_caller]
pub fn in_ns<T: Send>(
    ctx: &mut Ctx<'_>,
    ns: &crate::netkit::netns::NetNs,
    what: &str,
    f: impl FnOnce() -> Result<T, NetError> + Send,
) -> Result<T, Stop> {
    skip_absent(ctx, ns.try_run(f), what)
}

/// `res`, with [`NetError::Absent`] turned into a Skip naming its feature, [`NetError::Lost`]
/// (the kernel advertises what it then refuses) into a FAIL, and other errors into a failed
/// setup.
#[track_caller]
pub fn skip_absent<T>(ctx: &mut Ctx<'_>, res: Result<T, NetError>, what: &str) -> Result<T, Stop> {
    match res {
        Err(NetError::Absent { feature, why }) => Err(ctx.absent(feature, why)),
        Err(NetError::Lost { feature, why }) => {
            ctx.assert(false, format!("{what}: the kernel does what it advertises ({feature})"), why)?;
            Err(Stop::Failed)
        }
        other => ctx.setup(other, what),
    }
}
