//! Extension: each epoll_wait that returns events pushes the suspension deadline out, so traffic
//! lasting many times irq-suspend-timeout keeps the queue's IRQ suspended from start to end. The
//! window is cut into slices one timeout long; every slice must be quiet.

use super::app::App;
use super::params::{
    dms, ms, DEFER_HARD_IRQS, EXTENSION_FACTOR, EXTENSION_TIMEOUT_NS, GRO_FLUSH_TIMEOUT_NS, PACE, WARM_UP, WORK,
};
use super::rig::{Knobs, Rig};
use super::traffic::Pacer;
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx, Stop};
use std::time::{Duration, Instant};

/// Windows tried before giving up on one without an application stall as long as the timeout
/// (the long window meets more of the host's stalls than the short ones elsewhere).
const TRIES: u32 = 5;
/// IRQs the window may show, per datagram received: plain deferral raises about one per
/// datagram here (see `off`); an epoll_wait whose busy poll finds nothing because the loaded
/// host delivered late legitimately ends suspension for a moment, so a little is tolerated.
const ALLOWED_PER_DATAGRAM: f64 = 0.1;

const KNOBS: Knobs = Knobs {
    defer_hard_irqs: DEFER_HARD_IRQS,
    gro_flush_timeout_ns: GRO_FLUSH_TIMEOUT_NS,
    irq_suspend_timeout_ns: EXTENSION_TIMEOUT_NS,
};

/// One window: IRQs and datagrams per slice, the longest gap between pushes, pushes, datagrams.
struct Slices {
    irqs: Vec<u64>,
    datagrams: Vec<u64>,
    max_gap: Duration,
    pushes: u32,
    received: u64,
}

pub(super) fn extension(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let rig = Rig::up(ctx, kind)?;
    rig.set(ctx, KNOBS)?;
    let timeout = Duration::from_nanos(EXTENSION_TIMEOUT_NS);
    let mut attempt = 1;
    let s = loop {
        let s = window(ctx, &rig, timeout)?;
        ctx.log(format!(
            "{KNOBS}: {} ms of traffic ({EXTENSION_FACTOR} x the timeout): {} received, {} deadline pushes, longest gap {:.1} ms; queue IRQs per {} ms slice {:?}, datagrams {:?}",
            timeout.as_millis() * u128::from(EXTENSION_FACTOR),
            s.received,
            s.pushes,
            dms(s.max_gap),
            ms(EXTENSION_TIMEOUT_NS),
            s.irqs,
            s.datagrams
        ));
        if s.max_gap < timeout || attempt >= TRIES {
            break s;
        }
        ctx.log("  discarded: the application itself went longer than the timeout without epoll_wait; again");
        attempt += 1;
    };
    ctx.assert(
        s.max_gap < timeout,
        "setup: the application returned to epoll_wait well within irq-suspend-timeout",
        format!("longest gap {:.1} ms", dms(s.max_gap)),
    )?;
    let allowed = ((s.received as f64 * ALLOWED_PER_DATAGRAM) as u64).max(2);
    let total: u64 = s.irqs.iter().sum();
    ctx.expect(
        total <= allowed,
        format!(
            "the queue's IRQ stays suspended for {EXTENSION_FACTOR} x irq-suspend-timeout of sustained traffic (at most {allowed} IRQs = a tenth of the datagrams)"
        ),
        format!("{total} IRQs, per slice {:?}", s.irqs),
    );
    let loud = loud_slices(&s.irqs, &s.datagrams);
    ctx.expect(
        loud.is_empty(),
        format!(
            "every {} ms slice stays suspended: at most a tenth of its datagrams in IRQs (min {SLICE_MIN_ALLOWED})",
            ms(EXTENSION_TIMEOUT_NS)
        ),
        format!("slices over: {loud:?}; IRQs per slice {:?}, datagrams per slice {:?}", s.irqs, s.datagrams),
    );
    Ok(())
}

/// IRQs a slice may show whatever its datagrams (an empty busy poll on a loaded host is allowed
/// to end suspension for a moment).
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
    let n = EXTENSION_FACTOR as usize;
    let mut irqs = vec![0u64; n];
    let mut datagrams = vec![0u64; n];
    let start = Instant::now();
    let base = ctx.setup(rig.irqs(), "read the IRQ count")?;
    let mut seen = base;
    let (mut since, mut max_gap, mut pushes, mut received) = (start, Duration::ZERO, 0, 0);
    while start.elapsed() < slice * EXTENSION_FACTOR {
        let got = ctx.setup(app.wait(Duration::from_millis(100)), "epoll_wait")?;
        if got > 0 {
            let now = Instant::now();
            max_gap = max_gap.max(now - since);
            since = now;
            pushes += 1;
            let got = app.drain().0;
            received += got;
            let idx = ((start.elapsed().as_nanos() / slice.as_nanos()) as usize).min(n - 1);
            datagrams[idx] += got;
        }
        let now = ctx.setup(rig.irqs(), "read the IRQ count")?;
        let idx = ((start.elapsed().as_nanos() / slice.as_nanos()) as usize).min(n - 1);
        irqs[idx] += now.saturating_sub(seen);
        seen = now;
        std::thread::sleep(WORK);
    }
    max_gap = max_gap.max(since.elapsed());
    pacer.stop();
    std::thread::sleep(WORK);
    app.drain();
    Ok(Slices { irqs, datagrams, max_gap, pushes, received })
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
