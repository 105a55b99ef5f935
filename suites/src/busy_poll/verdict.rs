//! The margins every CPU-per-wait assertion uses, wide because guests run under TCG on a loaded
//! host: a busy-polling waiter's median CPU per empty wait is at least 0.4 × its busy-poll time;
//! a sleeping waiter's stays under 0.25 × that time (a sleeping epoll_wait costs 0.15–0.5 ms of
//! CPU under TCG); and the two differ at least 5-fold. There is no upper bound on the busy side:
//! when the host deschedules the vCPU the guest clock runs on, so a busy poll that ends on time
//! in guest time is charged the host's steal (medians of 9.8 ms for a 3 ms busy poll were seen
//! with the host's load average at 8).

use super::measure::Summary;
use pollcheck_guest::Ctx;

pub const BUSY_MIN: f64 = 0.4;
pub const SLEEP_MAX: f64 = 0.25;
pub const RATIO_MIN: f64 = 5.0;

/// EXPECT that `who` busy-polled for about `usecs` per empty wait.
pub fn expect_busy(ctx: &mut Ctx<'_>, who: &str, s: &Summary, usecs: u32) -> bool {
    let u = f64::from(usecs);
    ctx.expect(
        s.us() >= BUSY_MIN * u,
        format!("{who} burns its busy-poll time ({usecs} us) per empty wait: at least {BUSY_MIN} x"),
        s,
    )
}

/// EXPECT that `who` slept through its empty waits (CPU well under `usecs`).
pub fn expect_sleeps(ctx: &mut Ctx<'_>, who: &str, s: &Summary, usecs: u32) -> bool {
    ctx.expect(
        s.us() <= SLEEP_MAX * f64::from(usecs),
        format!("{who} sleeps through its empty waits: under {SLEEP_MAX} x {usecs} us of CPU each"),
        s,
    )
}

/// EXPECT that `busy`'s median is at least [`RATIO_MIN`] times `idle`'s.
pub fn expect_ratio(ctx: &mut Ctx<'_>, what: &str, busy: &Summary, idle: &Summary) -> bool {
    let ratio = busy.us() / idle.us().max(1.0);
    ctx.expect(
        ratio >= RATIO_MIN,
        format!("{what}: CPU per wait at least {RATIO_MIN} x apart"),
        format!("{ratio:.1} x"),
    )
}
