//! Safety: an application that stops calling epoll_wait while its IRQs are suspended gets them
//! back after irq-suspend-timeout (measured from its last event-returning epoll_wait as a
//! bracket): never before the timeout in any sample, and within [timeout, timeout + margin] in
//! the median sample; closing the epoll fd instead resumes them at once (far sooner than the
//! timeout, median sample). The median: the host sometimes delivers a datagram late (seen: one
//! sample 165 ms late among tight ones), which delays the IRQ that shows the resumption.

use super::params::{dms, ms, IRQ_SUSPEND_TIMEOUT_NS, LONG_TIMEOUT_NS};
use super::resume::Bracket;
use super::resume::{measure, Stopping};
use super::rig::{Knobs, Rig};
use super::start::SUSPEND;
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx};
use std::time::Duration;

/// How late after the timeout the IRQ may come back: the watchdog's poll, defer-hard-irqs empty
/// polls, the next datagram (PACE) and TCG scheduling; well below the timeout itself.
const MARGIN: Duration = Duration::from_millis(100);
/// Samples per case (odd: the median is one of them).
const SAMPLES: usize = 5;

/// The median of the samples' lower ends (None if any sample saw no IRQ at all).
fn median_min(all: &[Option<Bracket>]) -> Option<Duration> {
    let mut mins: Vec<Duration> = all.iter().map(|b| b.map(|b| b.min)).collect::<Option<_>>()?;
    mins.sort();
    mins.get(mins.len() / 2).copied()
}

fn shown(m: Option<Duration>) -> String {
    m.map_or("a sample saw no IRQ".to_owned(), |d| format!("{:.1} ms", dms(d)))
}

pub(super) fn safety_timeout(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let rig = Rig::up(ctx, kind)?;
    let knobs = SUSPEND;
    rig.set(ctx, knobs)?;
    let timeout = Duration::from_nanos(IRQ_SUSPEND_TIMEOUT_NS);
    let mut all = Vec::new();
    for i in 1..=SAMPLES {
        let r = measure(ctx, &rig, Stopping::Stall, timeout * 4)?;
        let shown = r.after.map_or("not within 4 x the timeout".to_owned(), |b| b.describe());
        ctx.log(format!(
            "sample {i} ({knobs}): IRQs resumed after {shown}; timeout {} ms (IRQs during the suspended lead-in: {})",
            ms(IRQ_SUSPEND_TIMEOUT_NS),
            r.lead_in_irqs
        ));
        ctx.expect(
            r.after.is_some_and(|b| b.max >= timeout),
            format!("sample {i}: with epoll_wait no longer called, IRQs stay suspended until the timeout"),
            shown,
        );
        all.push(r.after);
    }
    let median = median_min(&all);
    ctx.expect(
        median.is_some_and(|m| m <= timeout + MARGIN),
        format!(
            "IRQs resume within [timeout, timeout + {} ms] (median of {SAMPLES} samples' earliest possible times)",
            MARGIN.as_millis()
        ),
        shown(median),
    );
    Ok(())
}

pub(super) fn close_resumes(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let rig = Rig::up(ctx, kind)?;
    let knobs = Knobs { irq_suspend_timeout_ns: LONG_TIMEOUT_NS, ..SUSPEND };
    rig.set(ctx, knobs)?;
    let timeout = Duration::from_nanos(LONG_TIMEOUT_NS);
    let bound = timeout / 4;
    let mut all = Vec::new();
    for i in 1..=SAMPLES {
        let r = measure(ctx, &rig, Stopping::Close, timeout * 2)?;
        let shown = r.after.map_or("not within 2 x the timeout".to_owned(), |b| b.describe());
        ctx.log(format!(
            "sample {i} ({knobs}): epoll fd closed while suspended; IRQs resumed after {shown}; timeout {} ms",
            ms(LONG_TIMEOUT_NS)
        ));
        all.push(r.after);
    }
    let median = median_min(&all);
    ctx.expect(
        median.is_some_and(|m| m < bound),
        format!(
            "closing the epoll fd resumes IRQs at once (within {} ms, not the timeout; median of {SAMPLES} samples)",
            bound.as_millis()
        ),
        shown(median),
    );
    Ok(())
}
