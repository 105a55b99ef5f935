//! End, timed: once epoll_wait's busy poll finds nothing, suspension ends there and then and
//! plain deferral takes over from that moment: with defer-hard-irqs 1 the IRQ is re-armed after
//! one gro-flush-timeout. A datagram sent 1.5 gro-flush-timeouts after the application went to
//! sleep must raise the IRQ (a kernel that only waits for the timer busy polling left behind
//! re-arms one timeout later and picks the datagram up by polling, without an IRQ).

use super::app::App;
use super::params::{dms, ms, LONG_TIMEOUT_NS, PACE, SAMPLES, TRIES, WARM_UP, WORK};
use super::rig::{Knobs, Rig};
use super::traffic::{Pacer, MARKER};
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx, Stop};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A long gro-flush-timeout, so one deferral cycle is measurable under TCG.
const GRO_FLUSH_TIMEOUT_NS: u64 = 100_000_000;
const KNOBS: Knobs =
    Knobs { defer_hard_irqs: 1, gro_flush_timeout_ns: GRO_FLUSH_TIMEOUT_NS, irq_suspend_timeout_ns: LONG_TIMEOUT_NS };
/// When the marker goes out, after the application's last epoll_wait began, in gro-flush-timeouts.
const SEND_AT: f64 = 1.5;
/// How long after the traffic stops the marker thread looks at when that last epoll_wait began.
const SETTLE: Duration = Duration::from_millis(100);

/// One timed sample: IRQs counted for the marker, and how long it took to wake the application.
struct Sample {
    irqs: u64,
    latency: Duration,
}

pub(super) fn end_timing(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let rig = Rig::up(ctx, kind)?;
    rig.set(ctx, KNOBS)?;
    let gft = Duration::from_nanos(GRO_FLUSH_TIMEOUT_NS);
    let send_at = gft.mul_f64(SEND_AT);
    for i in 1..=SAMPLES {
        let mut got = None;
        for _ in 0..TRIES {
            got = sample(ctx, &rig, send_at)?;
            if got.is_some() {
                break;
            }
            ctx.log("  the marker could not be sent at its time (the application was not asleep yet); again");
        }
        let s = ctx.setup(got.ok_or("no sample could be timed"), "time the marker")?;
        ctx.log(format!(
            "sample {i} ({KNOBS}): datagram sent {:.0} ms after epoll_wait found nothing: queue IRQs {}, woken after {:.1} ms (gro-flush-timeout {} ms, irq-suspend-timeout {} ms)",
            dms(send_at),
            s.irqs,
            dms(s.latency),
            ms(GRO_FLUSH_TIMEOUT_NS),
            ms(LONG_TIMEOUT_NS)
        ));
        ctx.expect(
            s.irqs >= 1,
            format!(
                "sample {i}: IRQs re-armed one defer cycle (1 x gro-flush-timeout) after epoll_wait found nothing: the datagram {:.0} ms later raised the IRQ",
                dms(send_at)
            ),
            format!("{} IRQs, woken after {:.1} ms", s.irqs, dms(s.latency)),
        );
    }
    Ok(())
}

fn sample(ctx: &mut Ctx<'_>, rig: &Rig, send_at: Duration) -> Result<Option<Sample>, Stop> {
    let app = ctx.setup(App::new(&rig.rx, true, 0), "set up the application's epoll")?;
    let pacer = ctx.setup(Pacer::start(&rig.tx, PACE), "start the paced sender")?;
    ctx.setup(app.run(WARM_UP, WORK, Duration::from_millis(100)), "run the application")?;
    pacer.stop();
    let entered: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let seen = entered.clone();
    let tx = ctx.setup(rig.tx.try_clone(), "clone the sender")?;
    let irq = rig.irq;
    // The marker thread: find when the application's current epoll_wait began, send at that
    // plus `send_at`; (when sent, IRQ count just before) or None if that moment had passed.
    let marker = std::thread::spawn(move || -> Option<(Instant, Instant, u64)> {
        std::thread::sleep(SETTLE);
        let began = (*seen.lock().ok()?)?;
        let at = began + send_at;
        let now = Instant::now();
        if at <= now {
            return None;
        }
        std::thread::sleep(at - now);
        let irqs = crate::netkit::irqs::IrqCounts::read().ok()?.0.get(&irq).copied().unwrap_or(0);
        let sent = Instant::now();
        tx.send(MARKER).ok()?;
        Some((began, sent, irqs))
    });
    let deadline = Instant::now() + Duration::from_secs(3);
    let (woke, began) = loop {
        let began = Instant::now();
        if let Ok(mut e) = entered.lock() {
            *e = Some(began);
        }
        let n = ctx.setup(app.wait(Duration::from_millis(1000)), "epoll_wait")?;
        let woke = Instant::now();
        if n > 0 && app.drain().1 {
            break Some((woke, began));
        }
        if Instant::now() > deadline {
            break None;
        }
    }
    .map_or((None, None), |(w, b)| (Some(w), Some(b)));
    let after = ctx.setup(rig.irqs(), "read the IRQ count")?;
    let sent = ctx.setup(marker.join().map_err(|_| "the marker thread panicked".to_owned()), "send the marker")?;
    let (Some((marked, sent_at, before)), Some(woke), Some(began)) = (sent, woke, began) else {
        return Ok(None);
    };
    // Valid only if the wait that returned the marker is the one the marker was timed from.
    if marked != began {
        return Ok(None);
    }
    Ok(Some(Sample { irqs: after.saturating_sub(before), latency: woke.saturating_duration_since(sent_at) }))
}
