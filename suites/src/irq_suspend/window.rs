//! One measured window of traffic: the NAPI set to some knobs, the application looping with some
//! epoll parameters, a datagram every PACE; counted: the flow's hard IRQs, the packets busy
//! polling delivered, what was sent and received. Windows where the application itself stalled
//! for longer than the suspend timeout are re-run (the kernel was allowed to resume then).

use super::app::{App, Run};
use super::engage::{self, engage, Clean};
use super::params::{dms, PACE, TRIES, WARM_UP, WORK};
use super::rig::{Knobs, Rig};
use super::traffic::Pacer;
use pollcheck_guest::{Ctx, Stop};
use std::time::Duration;

/// The application's epoll parameters.
#[derive(Debug, Clone, Copy)]
pub struct Poller {
    pub prefer: bool,
    pub usecs: u32,
}

pub const PREFER: Poller = Poller { prefer: true, usecs: 0 };

#[derive(Debug, Clone)]
pub struct Window {
    pub sent: u64,
    pub received: u64,
    pub irqs: u64,
    pub busy_polled: u64,
    pub run: Run,
}

impl Window {
    /// Share of received datagrams that busy polling delivered (0..=1).
    pub fn busy_share(&self) -> f64 {
        if self.received == 0 {
            0.0
        } else {
            (self.busy_polled as f64 / self.received as f64).min(1.0)
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{} sent, {} received, queue IRQs {}, busy-polled {} ({:.0}%), {} of {} epoll_waits returned events, longest gap between them {:.1} ms",
            self.sent,
            self.received,
            self.irqs,
            self.busy_polled,
            self.busy_share() * 100.0,
            self.run.with_events,
            self.run.waits,
            dms(self.run.max_gap)
        )
    }
}

/// Measure `span` of traffic with `knobs` on the NAPI and `poller` on the epoll context. With
/// `stall_limit`, a window whose longest gap between event-returning epoll_waits reaches it is
/// discarded and re-run (up to TRIES times).
pub fn measure(
    ctx: &mut Ctx<'_>,
    rig: &Rig,
    label: &str,
    knobs: Knobs,
    poller: Poller,
    span: Duration,
    stall_limit: Option<Duration>,
) -> Result<Window, Stop> {
    rig.set(ctx, knobs)?;
    let mut last = None;
    for attempt in 1..=TRIES {
        let w = once(ctx, rig, knobs, poller, span)?;
        ctx.log(format!(
            "{label} ({knobs}, prefer_busy_poll {}, busy_poll_usecs {}), {} ms: {}",
            u8::from(poller.prefer),
            poller.usecs,
            span.as_millis(),
            w.describe()
        ));
        match stall_limit {
            Some(limit) if w.run.max_gap >= limit && attempt < TRIES => {
                ctx.log(format!(
                    "  discarded: the application went {:.1} ms without an event-returning epoll_wait (limit {:.1} ms); again",
                    dms(w.run.max_gap),
                    dms(limit)
                ));
                last = Some(w);
            }
            _ => return Ok(w),
        }
    }
    ctx.setup(last.ok_or("no window measured"), "measure a window")
}

/// Whether the kernel should suspend the IRQ under these settings (then the window starts once
/// suspension has taken hold, engage.rs).
pub fn suspends(knobs: Knobs, poller: Poller) -> bool {
    poller.prefer && knobs.irq_suspend_timeout_ns > 0
}

fn once(ctx: &mut Ctx<'_>, rig: &Rig, knobs: Knobs, poller: Poller, span: Duration) -> Result<Window, Stop> {
    let app = ctx.setup(App::new(&rig.rx, poller.prefer, poller.usecs), "set up the application's epoll")?;
    let pacer = ctx.setup(Pacer::start(&rig.tx, PACE), "start the paced sender")?;
    ctx.setup(app.run(WARM_UP, WORK, Duration::from_millis(100)), "warm up")?;
    if suspends(knobs, poller) {
        let clean = engage(ctx, rig, &app)?;
        log_engagement(ctx, clean);
    }
    let irqs = ctx.setup(rig.irqs(), "read the IRQ count")?;
    let busy = ctx.setup(rig.busy_polled(), "read BusyPollRxPackets")?;
    let sent = pacer.sent();
    let run = ctx.setup(app.run(span, WORK, Duration::from_millis(100)), "run the application")?;
    let irqs = ctx.setup(rig.irqs(), "read the IRQ count")?.saturating_sub(irqs);
    let busy_polled = ctx.setup(rig.busy_polled(), "read BusyPollRxPackets")?.saturating_sub(busy);
    let sent = pacer.sent().saturating_sub(sent);
    pacer.stop();
    std::thread::sleep(WORK);
    app.drain();
    Ok(Window { sent, received: run.datagrams, irqs, busy_polled, run })
}

/// Note how long suspension took to take hold, or that it never did.
pub fn log_engagement(ctx: &mut Ctx<'_>, clean: Option<Clean>) {
    ctx.log(match clean {
        Some(c) => format!("  suspension took hold after {} processing step(s)", c.steps),
        None => format!("  suspension did not take hold in {} processing steps; measuring anyway", engage::TRIES),
    });
}

#[cfg(test)]
mod tests {
    use super::{suspends, Poller, PREFER};
    use crate::irq_suspend::start::{DEFERRAL, SUSPEND};

    #[test]
    fn only_prefer_with_a_timeout_suspends() {
        assert!(suspends(SUSPEND, PREFER));
        assert!(!suspends(DEFERRAL, PREFER));
        assert!(!suspends(SUSPEND, Poller { prefer: false, usecs: 50 }));
    }
}
