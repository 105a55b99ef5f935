//! Safety: an application that stops calling epoll_wait while its IRQs are suspended gets them
//! back after irq-suspend-timeout (measured from its last event-returning epoll_wait, as a bracket: it
//! must meet [timeout, timeout + margin]); closing the epoll fd instead resumes them at once (far sooner
//! than the timeout).

use super::params::{ms, DEFER_HARD_IRQS, GRO_FLUSH_TIMEOUT_NS, IRQ_SUSPEND_TIMEOUT_NS, LONG_TIMEOUT_NS, SAMPLES};
use super::resume::{measure, Stopping};
use super::rig::{Knobs, Rig};
use pollcheck_guest::{CaseResult, Ctx};
use std::time::Duration;

/// How late after the timeout the IRQ may come back: the watchdog's poll, defer-hard-irqs empty
/// polls, the next datagram (PACE) and TCG scheduling; well below the timeout itself.
const MARGIN: Duration = Duration::from_millis(100);

pub(super) fn safety_timeout(ctx: &mut Ctx<'_>) -> CaseResult {
    let rig = Rig::up(ctx)?;
    let knobs = Knobs {
        defer_hard_irqs: DEFER_HARD_IRQS,
        gro_flush_timeout_ns: GRO_FLUSH_TIMEOUT_NS,
        irq_suspend_timeout_ns: IRQ_SUSPEND_TIMEOUT_NS,
    };
    rig.set(ctx, knobs)?;
    let timeout = Duration::from_nanos(IRQ_SUSPEND_TIMEOUT_NS);
    for i in 1..=SAMPLES {
        let r = measure(ctx, &rig, Stopping::Stall, timeout * 4)?;
        let shown = r.after.map_or("not within 4 x the timeout".to_owned(), |b| b.describe());
        ctx.log(format!(
            "sample {i} ({knobs}): IRQs resumed after {shown}; timeout {} ms (IRQs during the suspended lead-in: {})",
            ms(IRQ_SUSPEND_TIMEOUT_NS),
            r.lead_in_irqs
        ));
        // The bracket must meet [timeout, timeout + MARGIN].
        let ok = r.after.is_some_and(|b| b.max >= timeout && b.min <= timeout + MARGIN);
        ctx.expect(
            ok,
            format!(
                "sample {i}: with epoll_wait no longer called, IRQs resume within [timeout, timeout + {} ms]",
                MARGIN.as_millis()
            ),
            shown,
        );
    }
    Ok(())
}

pub(super) fn close_resumes(ctx: &mut Ctx<'_>) -> CaseResult {
    let rig = Rig::up(ctx)?;
    let knobs = Knobs {
        defer_hard_irqs: DEFER_HARD_IRQS,
        gro_flush_timeout_ns: GRO_FLUSH_TIMEOUT_NS,
        irq_suspend_timeout_ns: LONG_TIMEOUT_NS,
    };
    rig.set(ctx, knobs)?;
    let timeout = Duration::from_nanos(LONG_TIMEOUT_NS);
    let bound = timeout / 4;
    for i in 1..=SAMPLES {
        let r = measure(ctx, &rig, Stopping::Close, timeout * 2)?;
        let shown = r.after.map_or("not within 2 x the timeout".to_owned(), |b| b.describe());
        ctx.log(format!(
            "sample {i} ({knobs}): epoll fd closed while suspended; IRQs resumed after {shown}; timeout {} ms",
            ms(LONG_TIMEOUT_NS)
        ));
        ctx.expect(
            r.after.is_some_and(|b| b.min < bound),
            format!(
                "sample {i}: closing the epoll fd resumes IRQs at once (within {} ms, not the timeout)",
                bound.as_millis()
            ),
            shown,
        );
    }
    Ok(())
}
