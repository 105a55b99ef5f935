//! Off: irq-suspend-timeout 0 (with prefer_busy_poll 1), or prefer_busy_poll 0 (with
//! irq-suspend-timeout set), suspends nothing: the same traffic that keeps IRQs quiet under
//! suspension raises the queue's IRQ throughout.

use super::params::WINDOW;
use super::rig::Knobs;
use super::start::{DEFERRAL, MIN_BASELINE_IRQS, SUSPEND};
use super::window::{measure, Poller, PREFER};
use super::Rig;
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx};

pub(super) fn off(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let rig = Rig::up(ctx, kind)?;
    let no_prefer = Poller { prefer: false, usecs: 0 };
    let no_prefer_spin = Poller { prefer: false, usecs: 50 };
    let configs: [(&str, Knobs, Poller); 3] = [
        ("irq-suspend-timeout 0", DEFERRAL, PREFER),
        ("prefer_busy_poll 0", SUSPEND, no_prefer),
        ("prefer_busy_poll 0, busy_poll_usecs 50", SUSPEND, no_prefer_spin),
    ];
    for (label, knobs, poller) in configs {
        let w = measure(ctx, &rig, label, knobs, poller, WINDOW, None)?;
        ctx.expect(
            w.irqs >= MIN_BASELINE_IRQS,
            format!(
                "{label}: no suspension, the queue's IRQ keeps firing (at least {MIN_BASELINE_IRQS} in the window)"
            ),
            format!("{} IRQs for {} datagrams", w.irqs, w.sent),
        );
    }
    Ok(())
}
