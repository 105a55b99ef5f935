//! Waiting for suspension to take hold: a processing step and the next event-returning
//! epoll_wait with no IRQ between them.
//!
//! Suspension is entered, not switched on. IRQ delivery and busy polling "wrestle" for the NAPI
//! (Documentation/networking/napi.rst, "IRQ suspension"): an epoll_wait that finds the socket
//! already filled by the IRQ path returns without busy polling, and its push re-arms the timer
//! only if the NAPI is still inside its short deferral; once IRQs are back on, an application
//! that always finds data waiting never busy polls again (fs/eventpoll.c, ep_poll: busy polling
//! happens only when no event is available). On a loaded host the application can wake after the
//! deferral ended and stay IRQ-driven for a whole window (seen in CI: 59 IRQs and 0 busy-polled
//! datagrams of 69 in a suspended window after a plain-deferral one). So a measurement first waits
//! for one clean step; a kernel that never suspends never gives one, and the measurement that
//! follows fails on its own figures.

use super::app::App;
use super::params::WORK;
use super::rig::Rig;
use pollcheck_guest::{Ctx, Stop};
use std::time::{Duration, Instant};

/// Processing steps tried for a clean one (about 2 s: on a loaded host, datagrams sometimes
/// arrive in bursts with gaps longer than a processing step, and each empty busy poll rightly
/// re-arms the IRQ; seen: five dirty steps in a row).
pub const TRIES: u32 = 40;

/// A clean step: when its epoll_wait began and came back, and the IRQ count then.
#[derive(Debug, Clone, Copy)]
pub struct Clean {
    pub began: Instant,
    pub returned: Instant,
    pub irqs: u64,
    /// Steps it took (1 = the first was clean).
    pub steps: u32,
}

/// Run processing steps (sleep WORK, then epoll_wait until it returns events) until one sees no
/// IRQ, up to [`TRIES`]; None if every step saw one.
pub fn engage(ctx: &mut Ctx<'_>, rig: &Rig, app: &App) -> Result<Option<Clean>, Stop> {
    for steps in 1..=TRIES {
        let pre = ctx.setup(rig.irqs(), "read the IRQ count")?;
        std::thread::sleep(WORK);
        let pushed = ctx.setup(app.until_events(10, Duration::from_millis(100)), "epoll_wait")?;
        let (began, returned) =
            ctx.setup(pushed.ok_or("epoll_wait returned no events in 1 s of traffic"), "epoll_wait")?;
        let irqs = ctx.setup(rig.irqs(), "read the IRQ count")?;
        if irqs == pre {
            return Ok(Some(Clean { began, returned, irqs, steps }));
        }
    }
    Ok(None)
}
