//! No datagram is lost, repeated, reordered or damaged while B's NAPI is driven by an epoll
//! instance with busy_poll_usecs and prefer_busy_poll (and defer-hard-irqs + gro-flush-timeout
//! on the NAPI, which prefer_busy_poll needs to keep the softirq away, napi.rst "Preferred
//! busy polling"), and, in irq_suspend::data_intact, with irq-suspend-timeout set too (the
//! queue's IRQ then stays masked while the application keeps finding events). A few thousand
//! self-checking datagrams cross from A on four flows of one NAPI ([`super::stream`]); the
//! count, the order per flow, each datagram's checksum and the per-flow digest are asserted,
//! and busy polling must have delivered some of them (TcpExt BusyPollRxPackets), or the case
//! would have tested the softirq instead.

use super::napi_tuning::tune_settings;
use super::rig::flows_on_one_napi;
use super::stream::{self, Stream};
use crate::netkit::fixture::{skip_absent, topology};
use crate::netkit::irqs::{irq_named, IrqCounts};
use crate::netkit::netdev::NapiSettings;
use crate::netkit::{netstat, Kind};
use crate::sys::epoll::add_in;
use crate::sys::epoll_params::{self, params};
use pollcheck_guest::{CaseResult, Ctx};
use std::os::fd::AsFd;

/// Flows on the one NAPI.
const FLOWS: usize = 4;
/// 4 × 1500 datagrams of 1200 bytes: about 2 s under TCG (12000 took 4.3 s on Debian 7.3 with
/// IRQs suspended). The claim is integrity, so the count need only turn B's 256-entry RX ring
/// over many times (~23) and span many busy polls of BUSY_POLL_BUDGET (~750): a busy poll that
/// drops its batch (mutant bp-m-busy-poll-drops) loses datagrams in the first few.
pub const STREAM: Stream = Stream { per_flow: 1500, payload: 1200, window: 32 };
/// The epoll instance's busy poll: 200 µs, 8 packets a poll (BUSY_POLL_BUDGET), preferred.
const BP_USECS: u32 = 200;
const BUDGET: u16 = 8;

/// defer-hard-irqs 10 and gro-flush-timeout 1 ms on the NAPI (the busy-poll case).
pub const PREFER_KNOBS: NapiSettings = NapiSettings {
    defer_hard_irqs: Some(10),
    gro_flush_timeout: Some(1_000_000),
    irq_suspend_timeout: None,
    threaded: None,
};

pub(super) fn prefer_data(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    super::require_epoll_params(ctx)?;
    stream_case(ctx, kind, 9410, PREFER_KNOBS, "prefer_busy_poll")
}

/// The stream through a prefer_busy_poll epoll instance with `knobs` on the flows' NAPI.
pub(crate) fn stream_case(ctx: &mut Ctx<'_>, kind: Kind, port: u16, knobs: NapiSettings, what: &str) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let flows = skip_absent(ctx, flows_on_one_napi(&topo, port, FLOWS), "find four flows on one NAPI")?;
    let napi = flows[0].napi_id;
    let _tuned = tune_settings(ctx, &topo.b.ns, napi, knobs.clone())?;
    let irq = flows[0].queue.and_then(|q| topo.b.rx_irq_name(q)).and_then(|n| irq_named(&n).ok().flatten());
    let ep = ctx.setup(epoll_params::epoll(), "epoll_create1")?;
    for (i, f) in flows.iter().enumerate() {
        ctx.assert_ok(add_in(ep.as_fd(), f.rx.as_fd(), i as u64), "EPOLL_CTL_ADD a receiver")?;
    }
    ctx.assert_ok(
        epoll_params::set(ep.as_fd(), &params(BP_USECS, BUDGET, 1, 0)),
        format!("EPIOCSPARAMS usecs {BP_USECS} budget {BUDGET} prefer 1"),
    )?;
    let polled_before = ctx.setup(netstat::busy_polled(&topo.b.ns), "read BusyPollRxPackets")?;
    let irqs_before = IrqCounts::read().ok();
    let report = ctx.setup(stream::run(ep.as_fd(), &flows, STREAM), "run the datagram stream")?;
    let polled = ctx.setup(netstat::busy_polled(&topo.b.ns), "read BusyPollRxPackets")?.saturating_sub(polled_before);
    let irqs = match (irq, irqs_before, IrqCounts::read().ok()) {
        (Some(i), Some(b), Some(a)) => format!("{} IRQs on the queue", a.delta(&b, i)),
        _ => "queue IRQs not counted".into(),
    };
    let expected = report.expected(&STREAM);
    ctx.log(format!(
        "{what}, {knobs} on NAPI {napi}, {FLOWS} flows: {}; busy polling delivered {polled}; {irqs}",
        report.summary(&STREAM)
    ));
    ctx.expect(
        report.clean(&STREAM),
        format!(
            "{what}: all {expected} datagrams arrive, each once, in order per flow, intact (checksums and per-flow digests match)"
        ),
        report.summary(&STREAM),
    );
    ctx.expect(
        polled > 0,
        format!("{what}: busy polling (not only the softirq) delivered datagrams of the stream"),
        format!("BusyPollRxPackets rose by {polled} for {} received", report.intact()),
    );
    Ok(())
}
