//! Start: while epoll_wait (prefer_busy_poll) keeps returning events, the queue's hard IRQ stays
//! quiet and busy polling, in the application's own context, delivers the packets; the same
//! traffic under plain deferral (irq-suspend-timeout 0) raises the IRQ again and again.

use super::params::{DEFER_HARD_IRQS, GRO_FLUSH_TIMEOUT_NS, IRQ_SUSPEND_TIMEOUT_NS, WINDOW};
use super::rig::{Knobs, Rig};
use super::window::{measure, PREFER};
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx};
use std::time::Duration;

/// Rounds of (suspended window, deferral window).
const ROUNDS: u32 = 2;
/// The deferral window must show at least this many IRQs for the comparison to mean anything.
pub const MIN_BASELINE_IRQS: u64 = 20;
/// Busy polling must have delivered at least this share of the suspended window's packets.
const MIN_BUSY_SHARE: f64 = 0.5;

pub const SUSPEND: Knobs = Knobs {
    defer_hard_irqs: DEFER_HARD_IRQS,
    gro_flush_timeout_ns: GRO_FLUSH_TIMEOUT_NS,
    irq_suspend_timeout_ns: IRQ_SUSPEND_TIMEOUT_NS,
};
pub const DEFERRAL: Knobs = Knobs { irq_suspend_timeout_ns: 0, ..SUSPEND };

/// IRQs a suspended window may show: a quarter of the deferral window's, at least 2. (An
/// epoll_wait whose busy poll finds nothing, because the loaded host delivered late, rightly ends
/// suspension for a moment; seen: 16 against 135.)
pub fn allowed(baseline: u64) -> u64 {
    (baseline / 4).max(2)
}

pub(super) fn start(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let rig = Rig::up(ctx, kind)?;
    let limit = Some(Duration::from_nanos(IRQ_SUSPEND_TIMEOUT_NS));
    for round in 1..=ROUNDS {
        let on = measure(ctx, &rig, &format!("round {round}: suspension"), SUSPEND, PREFER, WINDOW, limit)?;
        let off = measure(ctx, &rig, &format!("round {round}: plain deferral"), DEFERRAL, PREFER, WINDOW, None)?;
        ctx.expect(
            off.irqs >= MIN_BASELINE_IRQS,
            format!(
                "round {round}: plain deferral raises the queue's IRQ (at least {MIN_BASELINE_IRQS} in the window)"
            ),
            format!("{} IRQs for {} datagrams", off.irqs, off.sent),
        );
        ctx.expect(
            on.irqs <= allowed(off.irqs),
            format!(
                "round {round}: with IRQs suspended the queue's IRQ count stays near zero (at most {} = a quarter of plain deferral's, min 2)",
                allowed(off.irqs)
            ),
            format!("{} IRQs suspended vs {} under plain deferral", on.irqs, off.irqs),
        );
        ctx.expect(
            on.busy_share() >= MIN_BUSY_SHARE,
            format!(
                "round {round}: busy polling in the application's epoll_wait delivered at least {:.0}% of the packets",
                MIN_BUSY_SHARE * 100.0
            ),
            format!("{} of {} ({:.0}%)", on.busy_polled, on.received, on.busy_share() * 100.0),
        );
    }
    Ok(())
}
