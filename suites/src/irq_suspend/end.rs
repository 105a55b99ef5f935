//! End: when traffic stops, epoll_wait's busy poll finds nothing, IRQ suspension ends and the
//! application sleeps; a datagram sent while it sleeps raises the queue's IRQ and wakes it as
//! fast as it would under plain deferral, far sooner than irq-suspend-timeout. The reference is
//! the same application's wake under plain deferral (irq-suspend-timeout 0), measured in the same
//! case: the median resume time must stay within 4 x the reference's median plus 10 x
//! gro-flush-timeout (seen: medians of 1.0–1.1 ms both ways under TCG, so about 9 ms of room; a
//! kernel that waits for the suspension timer takes 1000 ms).

use super::app::App;
use super::params::{dms, ms, DEFER_HARD_IRQS, GRO_FLUSH_TIMEOUT_NS, LONG_TIMEOUT_NS, PACE, SAMPLES, WARM_UP, WORK};
use super::rig::{Knobs, Rig};
use super::traffic::{marker_after, Pacer};
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx, Stop};
use std::time::{Duration, Instant};

/// How long after the traffic stops the marker is sent (the application is asleep by then).
const QUIET: Duration = Duration::from_millis(200);

const KNOBS: Knobs = Knobs {
    defer_hard_irqs: DEFER_HARD_IRQS,
    gro_flush_timeout_ns: GRO_FLUSH_TIMEOUT_NS,
    irq_suspend_timeout_ns: LONG_TIMEOUT_NS,
};

struct Wake {
    latency: Duration,
    irqs: u64,
    asleep_before_send: bool,
}

/// The same traffic with plain deferral: the reference resume time.
const REFERENCE: Knobs = Knobs { irq_suspend_timeout_ns: 0, ..KNOBS };

/// How far the median resume time may exceed the reference's: a factor and a slack in
/// gro-flush-timeouts.
const FACTOR: u32 = 4;
const SLACK_GFTS: u32 = 10;

pub(super) fn end(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let rig = Rig::up(ctx, kind)?;
    let mut reference = Vec::new();
    rig.set(ctx, REFERENCE)?;
    for i in 1..=SAMPLES {
        let w = wake(ctx, &rig)?;
        ctx.log(format!("reference {i} ({REFERENCE}): woken {:.2} ms after the send", dms(w.latency)));
        reference.push(w.latency);
    }
    rig.set(ctx, KNOBS)?;
    let mut latencies = Vec::new();
    for i in 1..=SAMPLES {
        let w = wake(ctx, &rig)?;
        ctx.log(format!(
            "sample {i} ({KNOBS}): woken {:.2} ms after the send (gro-flush-timeout {} ms, irq-suspend-timeout {} ms); queue IRQs meanwhile {}",
            dms(w.latency),
            ms(GRO_FLUSH_TIMEOUT_NS),
            ms(LONG_TIMEOUT_NS),
            w.irqs
        ));
        ctx.assert(
            w.asleep_before_send,
            format!("setup: sample {i}: the application was in epoll_wait when the datagram was sent"),
            "it was not",
        )?;
        ctx.expect(
            w.irqs >= 1,
            format!("sample {i}: IRQ delivery resumed: the datagram sent while the application slept raised the queue's IRQ"),
            format!("{} IRQs", w.irqs),
        );
        latencies.push(w.latency);
    }
    let (got, base) = (median(&latencies), median(&reference));
    let bound = base * FACTOR + Duration::from_nanos(GRO_FLUSH_TIMEOUT_NS) * SLACK_GFTS;
    ctx.expect(
        got <= bound,
        format!(
            "the sleeping application woke about as fast as under plain deferral: median within {FACTOR} x the reference's + {SLACK_GFTS} x gro-flush-timeout = {:.2} ms (irq-suspend-timeout {} ms)",
            dms(bound),
            ms(LONG_TIMEOUT_NS)
        ),
        format!("median {:.2} ms (reference median {:.2} ms)", dms(got), dms(base)),
    );
    Ok(())
}

fn median(xs: &[Duration]) -> Duration {
    let mut v = xs.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn wake(ctx: &mut Ctx<'_>, rig: &Rig) -> Result<Wake, Stop> {
    let app = ctx.setup(App::new(&rig.rx, true, 0), "set up the application's epoll")?;
    let pacer = ctx.setup(Pacer::start(&rig.tx, PACE), "start the paced sender")?;
    let before = ctx.setup(rig.irqs(), "read the IRQ count")?;
    let run = ctx.setup(app.run(WARM_UP, WORK, Duration::from_millis(100)), "run the application")?;
    let during = ctx.setup(rig.irqs(), "read the IRQ count")?.saturating_sub(before);
    ctx.log(format!("  suspended lead-in: {} datagrams, queue IRQs {during}", run.datagrams));
    pacer.stop();
    let irq = rig.irq;
    let sender = ctx.setup(
        marker_after(&rig.tx, QUIET, move || {
            crate::netkit::irqs::IrqCounts::read().ok().and_then(|c| c.0.get(&irq).copied()).unwrap_or(0)
        }),
        "start the marker sender",
    )?;
    // Keep looping as the application would: the traffic's tail arrives, then a wait finds
    // nothing and sleeps until the marker.
    let deadline = Instant::now() + QUIET * 10;
    let (woke, entered) = loop {
        let entered = Instant::now();
        let n = ctx.setup(app.wait(Duration::from_millis(2000)), "epoll_wait")?;
        let woke = Instant::now();
        if n > 0 && app.drain().1 {
            break (woke, entered);
        }
        ctx.assert(Instant::now() < deadline, "setup: the marker datagram arrived", "it did not")?;
    };
    let after = ctx.setup(rig.irqs(), "read the IRQ count")?;
    let sent = ctx.setup(sender.join().map_err(|_| "the marker thread panicked".to_owned()), "send the marker")?;
    let sent = ctx.setup(sent, "send the marker")?;
    Ok(Wake {
        latency: woke.saturating_duration_since(sent.at),
        irqs: after.saturating_sub(sent.irqs_before),
        asleep_before_send: entered < sent.at,
    })
}
