//! The setup every irq_suspend case shares: the virtio topology, one UDP flow steered to RX
//! queue 0 of B, that queue's NAPI id and MSI-X IRQ, and the NAPI's settings, restored when the
//! rig is dropped (NAPI config outlives the namespaces: the NIC returns to the initial one).
//! Kernels without per-epoll busy-poll parameters (EPIOCGPARAMS answers ENOTTY or EOPNOTSUPP) or
//! without irq-suspend-timeout in napi-set's attribute policy make the case Skip with that answer.

use super::params::{ms, PORT};
use crate::netkit::fixture::{in_ns, skip_absent, topology};
use crate::netkit::irqs::{irq_named, IrqCounts};
use crate::netkit::napi_attrs::{reported, settable};
use crate::netkit::netdev::{Napi, NapiAttr, NapiSettings, Netdev};
use crate::netkit::steer::find_flows;
use crate::netkit::{Kind, NetError, Topology};
use nix::errno::Errno;
use pollcheck_guest::{Ctx, Stop};
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
        crate::busy_poll::require_epoll_params(ctx)?;
        let topo = topology(ctx, kind, None)?;
        // IRQ suspension (6.13+) is absent only when napi-set's attribute policy has no
        // irq-suspend-timeout (or the netdev op list no napi-set); asked before steering, which
        // older kernels may not support. With the attribute in the policy, napi-get must report it.
        settable(ctx, &topo.b.ns, NapiAttr::IrqSuspendTimeout)?;
        let ifindex = topo.b.ifindex;
        let napis = in_ns(ctx, &topo.b.ns, "napi-get dump", move || Netdev::open()?.napis(ifindex))?;
        for n in &napis {
            reported(ctx, &topo.b.ns, NapiAttr::IrqSuspendTimeout, n.id, n.irq_suspend_timeout)?;
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
        reported(ctx, &topo.b.ns, NapiAttr::IrqSuspendTimeout, napi, original.irq_suspend_timeout)?;
        ctx.log(format!("flow: A port {port} -> B port {PORT}, RX queue {QUEUE}, NAPI {napi}, IRQ {irq} ({name})"));
        Ok(Self { topo, rx, tx, napi, irq, original })
    }

    /// napi-set on the flow's NAPI. [`Rig::up`] found irq-suspend-timeout in napi-set's policy,
    /// so a refusal of these valid values (EINVAL, ERANGE, EOPNOTSUPP) is a FAIL, not a Skip.
    pub fn set(&self, ctx: &mut Ctx<'_>, k: Knobs) -> Result<(), Stop> {
        let (napi, s) = (self.napi, settings(k));
        let res = self.topo.b.ns.try_run(move || Netdev::open()?.napi_set(napi, &s));
        if let Err(e @ NetError::Kernel { errno: Errno::EINVAL | Errno::ERANGE, .. }) = &res {
            ctx.assert(
                false,
                format!("napi-set takes {k} on NAPI {napi} (napi-set's attribute policy lists every one)"),
                e,
            )?;
        }
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
