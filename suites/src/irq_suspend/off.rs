//! Off: irq-suspend-timeout 0 (with prefer_busy_poll 1), or prefer_busy_poll 0 (with
//! irq-suspend-timeout set), suspends nothing: the same traffic that keeps IRQs quiet under
//! suspension raises the queue's IRQ as often as plain deferral does. Each configuration is
//! judged against a plain-deferral baseline (no prefer, no suspension) measured in the same case:
//! between half and twice its IRQs (on TCG both run at about one IRQ per datagram: 204 and 202
//! IRQs for 202 datagrams on Debian 7.3; a kernel that suspends part of the time falls below).

use super::params::WINDOW;
use super::rig::Knobs;
use super::start::{DEFERRAL, MIN_BASELINE_IRQS, SUSPEND};
use super::window::{measure, Poller, PREFER};
use super::Rig;
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx};

/// Each configuration's IRQs as a share of the baseline's: no lower, no higher.
const SHARE_MIN: f64 = 0.5;
const SHARE_MAX: f64 = 2.0;

pub(super) fn off(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let rig = Rig::up(ctx, kind)?;
    let no_prefer = Poller { prefer: false, usecs: 0 };
    let no_prefer_spin = Poller { prefer: false, usecs: 50 };
    let base = measure(ctx, &rig, "baseline: plain deferral", DEFERRAL, no_prefer, WINDOW, None)?;
    ctx.assert(
        base.irqs >= MIN_BASELINE_IRQS,
        format!("setup: plain deferral raises the queue's IRQ (at least {MIN_BASELINE_IRQS} in the window)"),
        format!("{} IRQs for {} datagrams", base.irqs, base.sent),
    )?;
    let configs: [(&str, Knobs, Poller); 3] = [
        ("irq-suspend-timeout 0", DEFERRAL, PREFER),
        ("prefer_busy_poll 0", SUSPEND, no_prefer),
        ("prefer_busy_poll 0, busy_poll_usecs 50", SUSPEND, no_prefer_spin),
    ];
    for (label, knobs, poller) in configs {
        let w = measure(ctx, &rig, label, knobs, poller, WINDOW, None)?;
        let share = w.irqs as f64 / base.irqs as f64;
        ctx.expect(
            (SHARE_MIN..=SHARE_MAX).contains(&share),
            format!(
                "{label}: no suspension, the queue's IRQ fires as under plain deferral ({SHARE_MIN} to {SHARE_MAX} x the baseline's IRQs)"
            ),
            format!("{} IRQs for {} datagrams = {share:.2} x the baseline's {} for {}", w.irqs, w.sent, base.irqs, base.sent),
        );
    }
    Ok(())
}
