//! End: when traffic stops, epoll_wait's busy poll finds nothing, IRQ suspension ends and the
//! application sleeps; a datagram sent while it sleeps raises the queue's IRQ and wakes it within
//! about gro-flush-timeout, far sooner than irq-suspend-timeout (measured and reported).

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

pub(super) fn end(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let rig = Rig::up(ctx, kind)?;
    rig.set(ctx, KNOBS)?;
    // Half the timeout: a TCG guest on a loaded host can stall for a good fraction of a second.
    let bound = Duration::from_nanos(LONG_TIMEOUT_NS) / 2;
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
        ctx.expect(
            w.latency < bound,
            format!(
                "sample {i}: the sleeping application woke within {} ms (not after irq-suspend-timeout)",
                bound.as_millis()
            ),
            format!("{:.2} ms", dms(w.latency)),
        );
    }
    Ok(())
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
