//! Watching for the queue's IRQ to come back: suspend it (the application loops on epoll_wait
//! under traffic), then stop at an epoll_wait that returned events and time how long until the
//! IRQ fires again, while traffic keeps coming.

use super::app::App;
use super::params::{PACE, WARM_UP, WORK};
use super::rig::Rig;
use super::traffic::Pacer;
use crate::netkit::NetError;
use pollcheck_guest::{Ctx, Stop};
use std::time::{Duration, Instant};

/// How the application stops once IRQs are suspended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopping {
    /// It keeps its epoll fd but never calls epoll_wait again.
    Stall,
    /// It closes its epoll fd.
    Close,
}

/// One measurement: IRQs during the suspended lead-in, and how long after the last
/// event-returning epoll_wait the IRQ fired again (None: not within `limit`).
#[derive(Debug, Clone, Copy)]
pub struct Resume {
    pub lead_in_irqs: u64,
    pub after: Option<Duration>,
}

pub fn measure(ctx: &mut Ctx<'_>, rig: &Rig, how: Stopping, limit: Duration) -> Result<Resume, Stop> {
    let app = ctx.setup(App::new(&rig.rx, true, 0), "set up the application's epoll")?;
    let pacer = ctx.setup(Pacer::start(&rig.tx, PACE), "start the paced sender")?;
    let before = ctx.setup(rig.irqs(), "read the IRQ count")?;
    ctx.setup(app.run(WARM_UP, WORK, Duration::from_millis(100)), "run the application")?;
    std::thread::sleep(WORK);
    let t0 = ctx.setup(app.until_events(10, Duration::from_millis(100)), "epoll_wait")?;
    let t0 = ctx.setup(t0.ok_or("epoll_wait returned no events in 1 s of traffic"), "epoll_wait")?;
    let base = ctx.setup(rig.irqs(), "read the IRQ count")?;
    let lead_in_irqs = base.saturating_sub(before);
    let keep = match how {
        Stopping::Stall => Some(app),
        Stopping::Close => {
            drop(app);
            None
        }
    };
    let after = ctx.setup(first_irq(rig, base, t0, limit), "watch the IRQ count")?;
    pacer.stop();
    if let Some(app) = keep {
        std::thread::sleep(WORK);
        app.drain();
    }
    // Let the NAPI settle back to IRQ delivery before the next measurement.
    std::thread::sleep(Duration::from_millis(50));
    let mut buf = [0u8; 64];
    while rig.rx.recv(&mut buf).is_ok() {}
    Ok(Resume { lead_in_irqs, after })
}

/// Poll the IRQ count every millisecond until it passes `base`: the time since `t0`.
fn first_irq(rig: &Rig, base: u64, t0: Instant, limit: Duration) -> Result<Option<Duration>, NetError> {
    while t0.elapsed() < limit {
        if rig.irqs()? > base {
            return Ok(Some(t0.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(None)
}
