//! The margins every CPU-per-wait assertion uses. A busy-polling waiter is judged from both sides
//! against a user-space spin of its busy-poll time measured in the same rounds
//! ([`super::measure::spin`]): under TCG the host's steal inflates a busy poll that ends on time
//! in guest time (medians of 9.8 ms for a 3 ms busy poll were seen with the host's load average
//! at 8), and it inflates the spin alike, so their ratio stays near 1 where absolute times do
//! not. The median per-round ratio must lie in [`ABOUT_MIN`, `ABOUT_MAX`]: a kernel that busy
//! polls three times too long, or for the whole wait, is far above; one that stops after a pass
//! is far below. The upper margin is 2.2: a 1500 us waiter's fixed cost (the syscall, the exit
//! from the loop, under TCG) is a larger share of its wait, and it read 1.84 x once in 20 runs
//! of every suite on Debian 7.3 with the other core loaded (`pollcheck bench suites --kernel 7.3
//! --repeat 20 --load 1`); three times too long still reads about 3 x. A sleeping waiter's CPU stays under 0.25 × the busy-poll time (a sleeping
//! epoll_wait costs 0.15–0.5 ms of CPU under TCG), and busy and sleeping differ at least 5-fold.

use super::measure::{median_ratio, Summary};
use pollcheck_guest::Ctx;
use std::time::Duration;

pub const ABOUT_MIN: f64 = 0.6;
pub const ABOUT_MAX: f64 = 2.2;
pub const SLEEP_MAX: f64 = 0.25;
pub const RATIO_MIN: f64 = 5.0;

/// EXPECT that `who` busy-polled for about `usecs` per empty wait: its per-round CPU against a
/// spin of `usecs` taken in the same rounds (`reference`).
pub fn expect_busy(ctx: &mut Ctx<'_>, who: &str, busy: &[Duration], reference: &[Duration], usecs: u32) -> bool {
    let r = median_ratio(busy, reference);
    ctx.expect(
        (ABOUT_MIN..=ABOUT_MAX).contains(&r),
        format!(
            "{who} busy polls about its {usecs} us per empty wait: {ABOUT_MIN} to {ABOUT_MAX} x the CPU of a {usecs} us spin in the same rounds"
        ),
        format!("{r:.2} x (busy {}; spin {})", Summary::of(busy), Summary::of(reference)),
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
