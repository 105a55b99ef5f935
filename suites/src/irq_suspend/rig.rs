//! The setup every irq_suspend case shares: the virtio topology, one UDP flow steered to RX
//! queue 0 of B, that queue's NAPI id and MSI-X IRQ, and the NAPI's settings, restored when the
//! rig is dropped (NAPI config outlives the namespaces: the NIC returns to the initial one).
//! Kernels without per-epoll busy-poll parameters or without irq-suspend-timeout make the case
//! Skip with the kernel's own answer.

use super::params::{ms, PORT};
use crate::netkit::fixture::{in_ns, skip_absent, topology};
use crate::netkit::irqs::{irq_named, IrqCounts};
use crate::netkit::netdev::{Napi, NapiSettings, Netdev};
use crate::netkit::steer::find_flows;
use crate::netkit::{Kind, NetError, Topology};
use crate::sys::epoll_params::{self, Support};
use pollcheck_guest::{Ctx, Stop};
use pollcheck_proto::Feature;
use std::net::UdpSocket;

/// The RX queue the flow is steered to.
const QUEUE: u32 = 0;

#[derive(Debug)]
pub struct Rig {
    pub topo: Topology,
    /// B's receiver (non-blocking).
    pub rx: UdpSocket,
    /// A's sender, connected to B on the flow that lands on QUEUE.
    pub tx: UdpSocket,
    pub napi: u32,
    pub irq: u32,
    original: Napi,
}

/// NAPI settings of one measurement.
#[derive(Debug, Clone, Copy)]
pub struct Knobs {
    pub defer_hard_irqs: u32,
    pub gro_flush_timeout_ns: u64,
    pub irq_suspend_timeout_ns: u64,
}

impl std::fmt::Display for Knobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "defer-hard-irqs {}, gro-flush-timeout {} ms, irq-suspend-timeout {} ms",
            self.defer_hard_irqs,
            ms(self.gro_flush_timeout_ns),
            ms(self.irq_suspend_timeout_ns)
        )
    }
}

impl Rig {
    pub fn up(ctx: &mut Ctx<'_>, kind: Kind) -> Result<Self, Stop> {
        match epoll_params::detect() {
            Support::Present => {}
            Support::Absent(why) => return Err(ctx.absent(Feature::EpollParams, why)),
            Support::Broken(why) => ctx.setup(Err::<(), String>(why), "probe EPIOCGPARAMS on a fresh epoll fd")?,
        }
        let topo = topology(ctx, kind, None)?;
        // The probe: napi-get's answer has irq-suspend-timeout only on kernels with IRQ
        // suspension (6.13+); asked before steering, which older kernels may not support.
        let ifindex = topo.b.ifindex;
        let napis = in_ns(ctx, &topo.b.ns, "napi-get dump", move || Netdev::open()?.napis(ifindex))?;
        if !napis.iter().any(|n| n.irq_suspend_timeout.is_some()) {
            return Err(ctx.absent(
                Feature::IrqSuspend,
                format!(
                    "napi-get reports no irq-suspend-timeout for any of {}'s {} NAPIs: this kernel has no IRQ suspension (6.13+)",
                    topo.b.ifname,
                    napis.len()
                ),
            ));
        }
        let flows = skip_absent(
            ctx,
            find_flows(&topo, PORT, QUEUE + 1).and_then(|f| f.complete(QUEUE + 1)),
            "find a flow to RX queue 0",
        )?;
        let found = flows.by_queue.get(&QUEUE).copied();
        let (port, napi) = ctx.setup(found.ok_or("no flow to RX queue 0"), "find a flow to RX queue 0")?;
        let tx = ctx.setup(flows.sender(&topo, QUEUE), "open the flow's sender")?;
        let rx = flows.rx;
        ctx.setup(rx.set_nonblocking(true), "make the receiver non-blocking")?;
        let name = topo.b.rx_irq_name(QUEUE).unwrap_or_default();
        let irq = ctx.setup(irq_named(&name), "read /proc/interrupts")?;
        let irq = ctx.setup(irq.ok_or(format!("no IRQ named {name} in /proc/interrupts")), "find the RX IRQ")?;
        let original = in_ns(ctx, &topo.b.ns, "napi-get", move || Netdev::open()?.napi_get(napi))?;
        if original.irq_suspend_timeout.is_none() {
            return Err(ctx.absent(
                Feature::IrqSuspend,
                format!(
                    "napi-get reports no irq-suspend-timeout for NAPI {napi}: this kernel has no IRQ suspension (6.13+)"
                ),
            ));
        }
        ctx.log(format!("flow: A port {port} -> B port {PORT}, RX queue {QUEUE}, NAPI {napi}, IRQ {irq} ({name})"));
        Ok(Self { topo, rx, tx, napi, irq, original })
    }

    /// napi-set on the flow's NAPI; a kernel that rejects irq-suspend-timeout makes the case Skip.
    pub fn set(&self, ctx: &mut Ctx<'_>, k: Knobs) -> Result<(), Stop> {
        let (napi, s) = (self.napi, settings(k));
        let res = self.topo.b.ns.try_run(move || Netdev::open()?.napi_set(napi, &s));
        let res = match res {
            Err(e @ NetError::Kernel { .. }) if e.errno() == Some(nix::errno::Errno::EINVAL) => Err(NetError::Absent {
                feature: Feature::IrqSuspend,
                why: format!("napi-set rejects irq-suspend-timeout: {e}"),
            }),
            other => other,
        };
        skip_absent(ctx, res, "napi-set the deferral and suspension knobs")
    }

    /// The flow's IRQ count now.
    pub fn irqs(&self) -> Result<u64, NetError> {
        Ok(IrqCounts::read()?.0.get(&self.irq).copied().unwrap_or(0))
    }

    /// Packets NAPI busy polling delivered in B's namespace (TcpExt BusyPollRxPackets).
    pub fn busy_polled(&self) -> Result<u64, NetError> {
        crate::netkit::netstat::busy_polled(&self.topo.b.ns)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let o = &self.original;
        let s = NapiSettings {
            defer_hard_irqs: o.defer_hard_irqs,
            gro_flush_timeout: o.gro_flush_timeout,
            irq_suspend_timeout: o.irq_suspend_timeout,
            threaded: None,
        };
        let napi = self.napi;
        let _ = self.topo.b.ns.try_run(move || Netdev::open()?.napi_set(napi, &s));
    }
}

fn settings(k: Knobs) -> NapiSettings {
    NapiSettings {
        defer_hard_irqs: Some(k.defer_hard_irqs),
        gro_flush_timeout: Some(k.gro_flush_timeout_ns),
        irq_suspend_timeout: Some(k.irq_suspend_timeout_ns),
        threaded: None,
    }
}
