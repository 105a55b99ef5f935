//! Extension: each epoll_wait that returns events pushes the suspension deadline out, so traffic
//! lasting many times irq-suspend-timeout keeps the queue's IRQ suspended from start to end. The
//! window is cut into slices one timeout long; every slice must be free of IRQs the kernel caused
//! (lapses the application caused by an empty busy poll are excused, lapse.rs).

use super::app::App;
use super::engage::engage;
use super::lapse::{tally, Step, Tally};
use super::params::{
    dms, ms, DEFER_HARD_IRQS, EXTENSION_FACTOR, EXTENSION_TIMEOUT_NS, GRO_FLUSH_TIMEOUT_NS, PACE, WARM_UP, WORK,
};
use super::rig::{Knobs, Rig};
use super::traffic::Pacer;
use super::window::log_engagement;
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx, Stop};
use std::time::{Duration, Instant};

/// Windows tried before giving up on one without an application stall as long as the timeout
/// (the long window meets more of the host's stalls than the short ones elsewhere).
const TRIES: u32 = 5;
/// IRQs the window may show against the kernel, per datagram received: plain deferral raises
/// about one per datagram here (see `off`); lapses the application caused are not counted
/// (lapse.rs), so this tenth is room for reading /proc/interrupts a moment late.
const ALLOWED_PER_DATAGRAM: f64 = 0.1;
/// Slices that may hold a lapse the application caused before the window is re-run (such a
/// lapse was seen in about one window in five on a loaded host; three of six slices leave too
/// little suspended traffic to judge).
const MAX_EXCUSED_SLICES: usize = 2;

const KNOBS: Knobs = Knobs {
    defer_hard_irqs: DEFER_HARD_IRQS,
    gro_flush_timeout_ns: GRO_FLUSH_TIMEOUT_NS,
    irq_suspend_timeout_ns: EXTENSION_TIMEOUT_NS,
};

/// One window: IRQs per slice (judged and excused, lapse.rs) and datagrams per slice, the
/// longest gap between pushes, pushes, datagrams.
struct Slices {
    tally: Tally,
    datagrams: Vec<u64>,
    max_gap: Duration,
    pushes: u32,
    received: u64,
}

impl Slices {
    /// Slices holding a lapse the application caused.
    fn excused_slices(&self) -> usize {
        self.tally.excused.iter().filter(|&&i| i > 0).count()
    }
}

pub(super) fn extension(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let rig = Rig::up(ctx, kind)?;
    rig.set(ctx, KNOBS)?;
    let timeout = Duration::from_nanos(EXTENSION_TIMEOUT_NS);
    let mut attempt = 1;
    let s = loop {
        let s = window(ctx, &rig, timeout)?;
        ctx.log(format!(
            "{KNOBS}: {} ms of traffic ({EXTENSION_FACTOR} x the timeout): {} received, {} deadline pushes, longest gap {:.1} ms; queue IRQs per {} ms slice {:?} (and {:?} after the application's own empty busy polls), datagrams {:?}",
            timeout.as_millis() * u128::from(EXTENSION_FACTOR),
            s.received,
            s.pushes,
            dms(s.max_gap),
            ms(EXTENSION_TIMEOUT_NS),
            s.tally.judged,
            s.tally.excused,
            s.datagrams
        ));
        let stalled = s.max_gap >= timeout;
        let lapsed = s.excused_slices() > MAX_EXCUSED_SLICES;
        if !(stalled || lapsed) || attempt >= TRIES {
            break s;
        }
        ctx.log(if stalled {
            "  discarded: the application itself went longer than the timeout without epoll_wait; again"
        } else {
            "  discarded: the traffic paused in most slices, so the application's busy polls came up empty; again"
        });
        attempt += 1;
    };
    ctx.assert(
        s.max_gap < timeout,
        "setup: the application returned to epoll_wait well within irq-suspend-timeout",
        format!("longest gap {:.1} ms", dms(s.max_gap)),
    )?;
    let allowed = ((s.received as f64 * ALLOWED_PER_DATAGRAM) as u64).max(2);
    let total: u64 = s.tally.judged.iter().sum();
    ctx.expect(
        total <= allowed,
        format!(
            "the queue's IRQ stays suspended for {EXTENSION_FACTOR} x irq-suspend-timeout of sustained traffic (at most {allowed} IRQs = a tenth of the datagrams)"
        ),
        format!("{total} IRQs, per slice {:?}", s.tally.judged),
    );
    let loud = loud_slices(&s.tally.judged, &s.datagrams);
    ctx.expect(
        loud.is_empty(),
        format!(
            "every {} ms slice stays suspended: at most a tenth of its datagrams in IRQs (min {SLICE_MIN_ALLOWED})",
            ms(EXTENSION_TIMEOUT_NS)
        ),
        format!("slices over: {loud:?}; IRQs per slice {:?}, datagrams per slice {:?}", s.tally.judged, s.datagrams),
    );
    Ok(())
}

/// IRQs a slice may show against the kernel whatever its datagrams (an IRQ read a moment late
/// lands in the next slice).
const SLICE_MIN_ALLOWED: u64 = 2;

/// The slices (by index) whose IRQs exceed a tenth of their datagrams, at least
/// [`SLICE_MIN_ALLOWED`] (pure).
fn loud_slices(irqs: &[u64], datagrams: &[u64]) -> Vec<usize> {
    irqs.iter()
        .zip(datagrams)
        .enumerate()
        .filter(|(_, (&i, &d))| i > ((d as f64 * ALLOWED_PER_DATAGRAM) as u64).max(SLICE_MIN_ALLOWED))
        .map(|(n, _)| n)
        .collect()
}

fn window(ctx: &mut Ctx<'_>, rig: &Rig, slice: Duration) -> Result<Slices, Stop> {
    let app = ctx.setup(App::new(&rig.rx, true, 0), "set up the application's epoll")?;
    let pacer = ctx.setup(Pacer::start(&rig.tx, PACE), "start the paced sender")?;
    ctx.setup(app.run(WARM_UP, WORK, Duration::from_millis(100)), "warm up")?;
    let clean = engage(ctx, rig, &app)?;
    log_engagement(ctx, clean);
    let n = EXTENSION_FACTOR as usize;
    let mut datagrams = vec![0u64; n];
    let mut steps = Vec::new();
    let start = Instant::now();
    let at = |t: Instant| ((t - start).as_nanos() / slice.as_nanos()) as usize;
    let mut seen = match clean {
        Some(c) => c.irqs,
        None => ctx.setup(rig.irqs(), "read the IRQ count")?,
    };
    let (mut since, mut max_gap, mut pushes, mut received) = (start, Duration::ZERO, 0, 0);
    while start.elapsed() < slice * EXTENSION_FACTOR {
        std::thread::sleep(WORK);
        let slept = ctx.setup(rig.irqs(), "read the IRQ count")?;
        let sleep_slice = at(Instant::now());
        let got = ctx.setup(app.wait(Duration::from_millis(100)), "epoll_wait")?;
        let now = Instant::now();
        if got > 0 {
            max_gap = max_gap.max(now - since);
            since = now;
            pushes += 1;
            let got = app.drain().0;
            received += got;
            datagrams[at(now).min(n - 1)] += got;
        }
        let waited = ctx.setup(rig.irqs(), "read the IRQ count")?;
        steps.push(Step {
            sleep_slice,
            in_sleep: slept.saturating_sub(seen),
            wait_slice: at(now),
            in_wait: waited.saturating_sub(slept),
            empty: got == 0,
        });
        seen = waited;
    }
    max_gap = max_gap.max(since.elapsed());
    pacer.stop();
    std::thread::sleep(WORK);
    app.drain();
    Ok(Slices { tally: tally(&steps, n), datagrams, max_gap, pushes, received })
}

#[cfg(test)]
mod tests {
    use super::loud_slices;

    #[test]
    fn a_slice_that_lapses_is_named() {
        assert!(loud_slices(&[0, 1, 2, 0], &[48, 48, 48, 48]).is_empty());
        assert_eq!(loud_slices(&[0, 0, 30, 0, 6], &[48, 48, 48, 48, 48]), [2, 4]);
    }
}
