//! Each virtio RX queue has its own MSI-X vector: datagrams steered to queue q raise
//! `virtioN-input.q` and leave every other RX queue's count where it was.

use crate::netkit::fixture::{skip_absent, topology};
use crate::netkit::irqs::{irq_named, IrqCounts};
use crate::netkit::steer::find_flows;
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx};
use std::time::Duration;

/// Datagrams per queue; each is received before the next is sent, so each can raise an IRQ.
const PER_QUEUE: u32 = 40;

pub(super) fn queue_irq(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    if topo.queues < 2 {
        return Err(ctx.not_here(format!("{}: one queue, nothing to tell apart", topo.description)));
    }
    let flows = skip_absent(
        ctx,
        find_flows(&topo, 9000, topo.queues).and_then(|f| f.complete(topo.queues)),
        "find a flow for every RX queue",
    )?;
    ctx.log(format!("flows (queue -> source port): {:?} after {} ports", flows.by_queue, flows.tried));
    let mut irqs = Vec::new();
    for q in 0..topo.queues {
        let name = topo.b.rx_irq_name(q).unwrap_or_default();
        let irq = ctx.setup(irq_named(&name), "read /proc/interrupts")?;
        let irq = ctx.setup(irq.ok_or(format!("no IRQ named {name} in /proc/interrupts")), "find the RX IRQs")?;
        irqs.push(irq);
    }
    ctx.log(format!("RX IRQs of {}: {irqs:?}", topo.b.ifname));
    let _ = flows.rx.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 64];
    for q in 0..topo.queues {
        let tx = ctx.setup(flows.sender(&topo, q), "open the flow's sender")?;
        let before = ctx.setup(IrqCounts::read(), "read IRQ counts")?;
        for i in 0..PER_QUEUE {
            ctx.setup(tx.send(&i.to_be_bytes()), "send a datagram")?;
            ctx.setup(flows.rx.recv(&mut buf), "receive the datagram")?;
        }
        let after = ctx.setup(IrqCounts::read(), "read IRQ counts")?;
        let deltas: Vec<u64> = irqs.iter().map(|&irq| after.delta(&before, irq)).collect();
        ctx.log(format!("queue {q}: {PER_QUEUE} datagrams; RX IRQ deltas by queue {deltas:?}"));
        ctx.expect(
            deltas[q as usize] >= 1,
            format!("queue {q}'s IRQ ({}) counted the traffic", irqs[q as usize]),
            deltas[q as usize],
        );
        let others: u64 = deltas.iter().enumerate().filter(|(i, _)| *i != q as usize).map(|(_, d)| d).sum();
        ctx.expect(others == 0, format!("no other RX queue's IRQ moved while queue {q} had the traffic"), others);
    }
    Ok(())
}
