//! busy_poll_budget and prefer_busy_poll reach the NAPI, seen as events per wakeup (virtio):
//! with defer-hard-irqs and gro-flush-timeout set, datagrams for eight sockets wait in the RX
//! ring with the queue's interrupt masked; the epoll_wait that finds them busy polls once with
//! the instance's budget. With prefer_busy_poll, budget 1 hands back one event and budget 64 all
//! eight; without prefer_busy_poll, ending the busy poll polls the NAPI again and reschedules it
//! (budget exhausted), so the softirq delivers the rest before the wait returns.

use super::napi_tuning::tune;
use super::require_epoll_params;
use super::rig::{flows_on_one_napi, Flow};
use crate::netkit::fixture::{skip_absent, topology};
use crate::netkit::irqs::{irq_named, IrqCounts};
use crate::netkit::Kind;
use crate::sys::epoll::{add_in, wait};
use crate::sys::epoll_params::{self, params};
use nix::sys::socket::{recv, MsgFlags};
use pollcheck_guest::{CaseResult, Ctx};
use pollcheck_proto::Feature;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

const PORT: u16 = 9400;
/// Sockets (flows) on the one queue; one datagram each per round.
const K: usize = 8;
const ROUNDS: usize = 5;
const DEFER: u32 = 10;
/// 200 ms: the ring is left alone for far longer than a round takes to fill it.
const GRO_NS: u64 = 200_000_000;
const BP_USECS: u32 = 5000;

/// Every datagram waiting on `rx` (non-blocking); how many.
fn drain(rx: &std::net::UdpSocket) -> usize {
    let mut buf = [0u8; 64];
    let mut n = 0;
    while recv(rx.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT).is_ok() {
        n += 1;
    }
    n
}

/// One round: prime (one datagram through the instance, which records the NAPI id and leaves
/// the queue's interrupt deferred), fill the ring with one datagram per socket, then the number
/// of events the first epoll_wait returns; everything is drained before returning.
fn round(ep: BorrowedFd<'_>, flows: &[Flow]) -> Result<usize, String> {
    let send = |f: &Flow| f.tx.send(b"bp").map(drop).map_err(|e| format!("failed to send: {e}"));
    send(&flows[0])?;
    if wait(ep, 16, 3000).map_err(|e| format!("failed to epoll_wait: {e}"))?.is_empty() {
        return Err("the priming datagram did not arrive within 3 s".into());
    }
    drain(&flows[0].rx);
    for f in flows {
        send(f)?;
    }
    std::thread::sleep(Duration::from_millis(20));
    let mut first = None;
    let mut got = 0;
    for _ in 0..20 {
        let toks = wait(ep, 16, 3000).map_err(|e| format!("failed to epoll_wait: {e}"))?;
        first.get_or_insert(toks.len());
        for t in toks {
            got += flows.get(t as usize).map_or(0, |f| drain(&f.rx));
        }
        if got >= flows.len() {
            return first.ok_or_else(|| "no wait happened".into());
        }
    }
    Err(format!("only {got} of {} datagrams arrived", flows.len()))
}

fn median(mut v: Vec<usize>) -> usize {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

pub(super) fn budget_events(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    require_epoll_params(ctx)?;
    let topo = topology(ctx, kind, None)?;
    let flows = skip_absent(ctx, flows_on_one_napi(&topo, PORT, K), "find eight flows on one NAPI")?;
    let napi = flows[0].napi_id;
    let Some(q) = flows[0].queue else {
        return Err(ctx.absent(
            flows[0].unmapped.unwrap_or(Feature::NetdevNapiGet),
            format!(
                "NAPI {napi} maps to no RX queue: the kernel has no netdev queue-get, or its driver does not link queues to NAPIs"
            ),
        ));
    };
    ctx.log(format!("{K} flows on RX queue {q} (NAPI {napi})"));
    let irq_name = topo.b.rx_irq_name(q).unwrap_or_default();
    let irq = irq_named(&irq_name).ok().flatten();
    let _tuned = tune(ctx, &topo.b.ns, napi, DEFER, GRO_NS)?;
    let ep = ctx.setup(epoll_params::epoll(), "epoll_create1")?;
    for (i, f) in flows.iter().enumerate() {
        ctx.assert_ok(add_in(ep.as_fd(), f.rx.as_fd(), i as u64), "EPOLL_CTL_ADD a receiver")?;
    }
    let configs: [(u8, u16); 3] = [(1, 1), (1, 64), (0, 1)];
    let mut medians = Vec::new();
    for (prefer, budget) in configs {
        ctx.assert_ok(
            epoll_params::set(ep.as_fd(), &params(BP_USECS, budget, prefer, 0)),
            format!("EPIOCSPARAMS usecs {BP_USECS} budget {budget} prefer {prefer}"),
        )?;
        let before = IrqCounts::read().ok();
        let mut firsts = Vec::new();
        for _ in 0..ROUNDS {
            firsts.push(ctx.setup(round(ep.as_fd(), &flows), "a round of eight datagrams")?);
        }
        let irqs = match (irq, before, IrqCounts::read().ok()) {
            (Some(i), Some(b), Some(a)) => format!("{} IRQs on {irq_name}", a.delta(&b, i)),
            _ => "IRQs not counted".into(),
        };
        ctx.log(format!(
            "prefer {prefer}, budget {budget}: events on the first wakeup per round {firsts:?} ({} datagrams/round; {irqs})",
            K + 1
        ));
        medians.push(median(firsts));
    }
    ctx.expect(medians[0] <= 2, "prefer 1, budget 1: the first wakeup brings one event (median <= 2)", medians[0]);
    ctx.expect(
        medians[1] >= K - 2,
        format!("prefer 1, budget 64: the first wakeup brings all {K} events (median >= {})", K - 2),
        medians[1],
    );
    ctx.expect(
        medians[2] >= K / 2,
        format!("prefer 0, budget 1: the rest arrive by softirq before the wait returns (median >= {})", K / 2),
        medians[2],
    );
    Ok(())
}
