//! Watching for the queue's IRQ to come back: suspend it (the application loops on epoll_wait
//! under traffic), then stop at an epoll_wait that returned events and time how long until the
//! IRQ fires again, while traffic keeps coming.
//!
//! Times are brackets, not points: the kernel armed its timer somewhere between the start and
//! the return of that epoll_wait (or inside close()), and the IRQ fired somewhere between two
//! reads of /proc/interrupts. A TCG guest on a loaded host stalls for tens to hundreds of
//! milliseconds at times; a stall widens a bracket instead of shifting a point.

use super::app::App;
use super::engage::{self, engage};
use super::params::{dms, PACE, WARM_UP, WORK};
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

/// One measurement: IRQs during the suspended lead-in, and the bracket of the time from the
/// kernel's last deadline push (or the close) to the IRQ's return (None: not within `limit`).
#[derive(Debug, Clone, Copy)]
pub struct Resume {
    pub lead_in_irqs: u64,
    pub after: Option<Bracket>,
}

/// A duration known to lie in [min, max].
#[derive(Debug, Clone, Copy)]
pub struct Bracket {
    pub min: Duration,
    pub max: Duration,
}

impl Bracket {
    /// The midpoint, for reports.
    pub fn mid(&self) -> Duration {
        (self.min + self.max) / 2
    }

    pub fn describe(&self) -> String {
        format!("{:.1} ms (between {:.1} and {:.1} ms)", dms(self.mid()), dms(self.min), dms(self.max))
    }
}

pub fn measure(ctx: &mut Ctx<'_>, rig: &Rig, how: Stopping, limit: Duration) -> Result<Resume, Stop> {
    let app = ctx.setup(App::new(&rig.rx, true, 0), "set up the application's epoll")?;
    let pacer = ctx.setup(Pacer::start(&rig.tx, PACE), "start the paced sender")?;
    let before = ctx.setup(rig.irqs(), "read the IRQ count")?;
    ctx.setup(app.run(WARM_UP, WORK, Duration::from_millis(100)), "run the application")?;
    // The last push must come from a busy poll with the IRQ masked: no IRQ from the start of the
    // application's processing to the return of its epoll_wait (engage.rs).
    let Some(clean) = engage(ctx, rig, &app)? else {
        ctx.assert(
            false,
            format!("under sustained traffic the IRQ stays masked across a processing step and the next epoll_wait (in one of {} tries)", engage::TRIES),
            "an IRQ fired in every try",
        )?;
        return Err(Stop::Failed);
    };
    let (mut from, mut to, base) = (clean.began, clean.returned, clean.irqs);
    let lead_in_irqs = base.saturating_sub(before);
    let keep = match how {
        Stopping::Stall => Some(app),
        Stopping::Close => {
            from = Instant::now();
            drop(app);
            to = Instant::now();
            None
        }
    };
    let seen = ctx.setup(first_irq(rig, base, to, limit), "watch the IRQ count")?;
    pacer.stop();
    if let Some(app) = keep {
        std::thread::sleep(WORK);
        app.drain();
    }
    // Let the NAPI settle back to IRQ delivery before the next measurement.
    std::thread::sleep(Duration::from_millis(50));
    let mut buf = [0u8; 64];
    while rig.rx.recv(&mut buf).is_ok() {}
    let after = seen.map(|(prev, read)| Bracket {
        min: prev.saturating_duration_since(to),
        max: read.saturating_duration_since(from),
    });
    Ok(Resume { lead_in_irqs, after })
}

/// Poll the IRQ count every millisecond until it passes `base`: when the last read that had not
/// seen the IRQ began, and when the one that did ended.
fn first_irq(rig: &Rig, base: u64, start: Instant, limit: Duration) -> Result<Option<(Instant, Instant)>, NetError> {
    let mut prev = start;
    while start.elapsed() < limit {
        let reading = Instant::now();
        if rig.irqs()? > base {
            return Ok(Some((prev, Instant::now())));
        }
        prev = reading;
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(None)
}
