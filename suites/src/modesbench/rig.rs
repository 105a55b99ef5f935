//! One measured flow: the virtio topology with two queue pairs, a UDP flow from A steered to RX
//! queue 1 of B (`netkit::steer`), whose vCPU is the server's, the server's socket on B and the
//! client's on A (both connected), the queue's NAPI and MSI-X IRQ, and the placement around it
//! (see [`super::pins`]). A kernel whose virtio-net links no queue to a NAPI (queue-get names
//! none, as Debian 6.12's) gets one queue pair instead: nothing to steer, every packet on queue 0.

use super::pins::{self, Placement};
use crate::napi_threaded::kthread::online_cpus;
use crate::netkit::fixture::{devices, skip_absent, topology};
use crate::netkit::irqs::irq_named;
use crate::netkit::netdev::Netdev;
use crate::netkit::nssysfs::NsSysfs;
use crate::netkit::steer::{find_flows, rx_queue_by_napi, FIRST_PORT};
use crate::netkit::{Kind, NetError, Topology};
use pollcheck_guest::{Ctx, Stop};
use pollcheck_proto::Feature;
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};

/// The server's UDP port on B.
pub const PORT: u16 = 9400;
pub const SERVER_CPU: usize = 1;
pub const CLIENT_CPU: usize = 0;
/// Queue pairs per NIC: one per vCPU, so RX queue 1, TX queue 1 and vCPU 1 go together.
const QUEUES: u32 = 2;

/// The flow and everything placed around it. Fields drop in order: the placement is put back
/// while B's sysfs is still mounted and the NICs are still in their namespaces.
#[derive(Debug)]
pub struct Rig {
    _placement: Placement,
    pub sysfs_b: NsSysfs,
    pub server: UdpSocket,
    pub client: UdpSocket,
    /// The NAPI of B's RX queue the flow lands on (when the kernel names it) and its IRQ.
    pub napi: Option<u32>,
    pub irq: Option<u32>,
    /// What was built, one line each, for the log and the report.
    pub notes: Vec<String>,
    pub topo: Topology,
}

/// The topology, the queue the flow lands on, its NAPI, and A's source port for it.
struct Steered {
    topo: Topology,
    queue: u32,
    napi: Option<u32>,
    port: u16,
    note: String,
}

impl Rig {
    pub fn up(ctx: &mut Ctx<'_>) -> Result<Self, Stop> {
        let cpus = online_cpus();
        if cpus <= SERVER_CPU {
            return Err(ctx.not_here(format!("client and server need a vCPU each: the guest has {cpus}")));
        }
        devices(ctx, Kind::Virtio)?;
        let s = steer(ctx)?;
        let src = SocketAddr::V4(SocketAddrV4::new(s.topo.a.addr, s.port));
        let dst = SocketAddr::V4(SocketAddrV4::new(s.topo.b.addr, PORT));
        let server = ctx.setup(s.topo.b.udp(PORT), "bind the server socket")?;
        ctx.setup(server.connect(src), "connect the server socket to the client")?;
        let client = ctx.setup(s.topo.a.udp(s.port), "bind the client socket")?;
        ctx.setup(client.connect(dst), "connect the client socket")?;
        let name = s.topo.b.rx_irq_name(s.queue).unwrap_or_default();
        let irq = ctx.setup(irq_named(&name), "read /proc/interrupts")?;
        let sysfs_b = ctx.setup(NsSysfs::mount(&s.topo.b.ns), "mount sysfs in B's namespace")?;
        let mut notes = vec![s.note];
        notes.push(format!(
            "flow: A port {} -> B port {PORT}, RX queue {}, NAPI {}, IRQ {} ({name})",
            s.port,
            s.queue,
            s.napi.map_or("unknown".into(), |n| n.to_string()),
            irq.map_or("none".into(), |n| n.to_string()),
        ));
        let placement = place(&s.topo, &sysfs_b, s.queue, irq);
        notes.extend(placement.notes.iter().cloned());
        Ok(Self { _placement: placement, sysfs_b, server, client, napi: s.napi, irq, notes, topo: s.topo })
    }
}

/// Two queue pairs and a flow to RX queue 1, or one queue pair where queues name no NAPI.
fn steer(ctx: &mut Ctx<'_>) -> Result<Steered, Stop> {
    let topo = topology(ctx, Kind::Virtio, Some(QUEUES))?;
    match rx_queue_by_napi(&topo) {
        Ok(map) if !map.is_empty() => {
            let want = SERVER_CPU as u32;
            let found = find_flows(&topo, PORT, want + 1).and_then(|f| f.complete(want + 1));
            let flows = skip_absent(ctx, found, "find a flow to RX queue 1")?;
            let found = flows.by_queue.get(&want).copied().ok_or("no flow to RX queue 1");
            let (port, napi) = ctx.setup(found, "find a flow to RX queue 1")?;
            let note = format!("steered: source port {port} lands on RX queue {want} ({} ports tried)", flows.tried);
            drop(flows);
            Ok(Steered { topo, queue: want, napi: Some(napi), port, note })
        }
        Ok(_) | Err(NetError::Absent { .. }) => one_queue(ctx, topo),
        Err(e) => ctx.setup(Err(e), "map B's NAPIs to queues"),
    }
}

/// The fallback topology: one queue pair, the NAPI from napi-get where the family exists.
fn one_queue(ctx: &mut Ctx<'_>, two: Topology) -> Result<Steered, Stop> {
    drop(two);
    let topo = topology(ctx, Kind::Virtio, Some(1))?;
    let ifindex = topo.b.ifindex;
    let napis = topo.b.ns.try_run(move || Netdev::open()?.napis(ifindex));
    let napi = match napis {
        Ok(list) => list.first().map(|n| n.id),
        Err(NetError::Absent { .. }) => None,
        Err(e) => ctx.setup(Err(e), "list B's NAPIs")?,
    };
    let note =
        "queue-get links no RX queue of this kernel's virtio-net to a NAPI: one queue pair, nothing to steer".into();
    Ok(Steered { topo, queue: 0, napi, port: FIRST_PORT, note })
}

/// The placement of [`super::pins`] for a flow on `queue` with IRQ `irq`.
fn place(topo: &Topology, sysfs_b: &NsSysfs, queue: u32, irq: Option<u32>) -> Placement {
    let mut p = Placement::default();
    if let Some(irq) = irq {
        pins::irq_to(&mut p, irq, SERVER_CPU);
    }
    if let Some(dev) = &topo.a.virtio_dev {
        pins::rx_irqs_to(&mut p, dev, CLIENT_CPU);
    }
    if topo.queues > 1 {
        for q in 0..topo.queues {
            let path = sysfs_b.net_attr(&topo.b.ifname, &format!("queues/tx-{q}/xps_cpus"));
            let mask = if q == queue { pins::cpu_mask(SERVER_CPU) } else { "0".into() };
            p.try_set(&path, &mask, &format!("XPS of B's tx-{q}"));
        }
    }
    pins::busy_sysctls_off(&mut p);
    p
}

/// napi-get of the flow's NAPI in B's namespace; `None` when the kernel has no netdev family.
pub fn napi_now(ctx: &mut Ctx<'_>, rig: &Rig) -> Result<Option<crate::netkit::netdev::Napi>, Stop> {
    let Some(id) = rig.napi else { return Ok(None) };
    match rig.topo.b.ns.try_run(move || Netdev::open()?.napi_get(id)) {
        Err(NetError::Absent { feature: Feature::NetdevNapiGet, .. }) => Ok(None),
        other => skip_absent(ctx, other, "napi-get the flow's NAPI").map(Some),
    }
}
