//! How many waiters one event wakes, with and without EPOLLEXCLUSIVE.
//!
//! What the kernel promises (linux-source-7.2):
//! * Registration: an EPOLLEXCLUSIVE item's wait entry goes to the *tail* of the source's wait
//!   queue with WQ_FLAG_EXCLUSIVE (`ep_ptable_queue_proc`, fs/eventpoll.c:1628-1631;
//!   `add_wait_queue_exclusive`, kernel/sched/wait.c:30-38); other items go to the head.
//! * Wakeup: `__wake_up_common` (kernel/sched/wait.c:93-117) calls every entry from the head and
//!   stops after `nr_exclusive` (1 for `wake_up*()`, which eventfd and sockets use) exclusive
//!   entries whose callback returned non-zero.
//! * `ep_poll_callback` (fs/eventpoll.c:1544-1577) returns non-zero for an exclusive item only
//!   when its epoll has a thread blocked in epoll_wait *and* the wakeup key's IN/OUT part is
//!   exactly EPOLLIN (item wants IN), exactly EPOLLOUT (item wants OUT) or neither; a
//!   non-exclusive item always returns 1 (line 1576-1577), which does not stop the walk.
//!
//! So epoll_ctl(2)'s "one or more" is bounded: with every registered epoll holding a blocked
//! waiter and an EPOLLIN-only key, exactly **one** exclusive waiter wakes; the "more" are epolls
//! ahead of it without a waiter (the event is queued on them, nobody wakes) and keys with both
//! IN and OUT. The sources here give EPOLLIN-only keys: an eventfd write is one
//! `wake_up_locked_poll(EPOLLIN)` (fs/eventfd.c:273-274); a connection completing on a listener
//! is one `sock_def_readable` → `wake_up_interruptible_sync_poll(EPOLLIN|EPOLLPRI|EPOLLRDNORM|
//! EPOLLRDBAND)` (net/core/sock.c:3659-3672), whose IN/OUT part is EPOLLIN. The
//! `wake_one_out` and `wake_one_inout` sources ([`super::directed`]) give EPOLLOUT-only keys to
//! EPOLLOUT waiters and EPOLLIN-only keys to waiters registered for both.
//!
//! A mixed herd (some registered with the flag, some without) wakes every plain waiter plus
//! one exclusive one: the plain entries sit at the head and never stop the walk.
//!
//! Each round starts [`N`] fresh waiters, waits until all are asleep in epoll_wait, fires one
//! event and counts who woke (see [`super::waiters`]); [`ROUNDS`] rounds, every count asserted.

use super::directed::Directed;
use super::evdev::Evdev;
use super::source::{loopback_up, Fire, Shared, Source};
use super::waiters::{Waiters, SOURCE};
use crate::sys::epoll_ctl::{self, Op, EPOLLEXCLUSIVE, EPOLLIN, EPOLLOUT};
use crate::sys::loopback;
use pollcheck_guest::{CaseResult, Ctx, Stop};
use std::os::fd::BorrowedFd;

/// Waiters per round.
pub(super) const N: usize = 6;
/// Rounds per case.
const ROUNDS: usize = 5;

pub(super) fn wake_one(ctx: &mut Ctx<'_>, source: Source) -> CaseResult {
    let mut src = open(ctx, source)?;
    herd(ctx, &mut src, Herd::Exclusive)
}

pub(super) fn wake_all(ctx: &mut Ctx<'_>, source: Source) -> CaseResult {
    let mut src = open(ctx, source)?;
    herd(ctx, &mut src, Herd::Plain)
}

pub(super) fn wake_mixed(ctx: &mut Ctx<'_>, source: Source) -> CaseResult {
    let mut src = open(ctx, source)?;
    herd(ctx, &mut src, Herd::Mixed)
}

/// Waiters registered EPOLLOUT|EPOLLEXCLUSIVE, one EPOLLOUT wakeup: exactly one wakes.
pub(super) fn wake_one_out(ctx: &mut Ctx<'_>, source: Directed) -> CaseResult {
    directed(ctx, source)
}

/// Waiters registered EPOLLIN|EPOLLOUT|EPOLLEXCLUSIVE, one EPOLLIN wakeup: exactly one wakes.
pub(super) fn wake_one_inout(ctx: &mut Ctx<'_>, source: Directed) -> CaseResult {
    directed(ctx, source)
}

fn directed(ctx: &mut Ctx<'_>, source: Directed) -> CaseResult {
    let mut src = ctx.setup(source.open(), "open and arm the source")?;
    let interest = source.interest();
    let mask = match interest {
        EPOLLOUT => "EPOLLOUT",
        _ => "EPOLLIN|EPOLLOUT",
    };
    let claim = format!(
        "{} wakes exactly 1 of {N} waiters registered {mask}|EPOLLEXCLUSIVE, in each of {ROUNDS} rounds",
        source.event()
    );
    rounds(ctx, src.as_mut(), &|_| interest | EPOLLEXCLUSIVE, 1, &claim)
}

/// Waiters registered EPOLLIN|EPOLLEXCLUSIVE on an evdev node, one input packet (a wakeup key
/// with EPOLLIN and EPOLLOUT): every one of them wakes.
pub(super) fn wake_all_inout_key(ctx: &mut Ctx<'_>) -> CaseResult {
    let mut src = match Evdev::open() {
        Ok(s) => s,
        Err(why) => return Err(ctx.not_here(format!("this guest has no input device to inject a packet into: {why}"))),
    };
    ctx.log(format!("source: {}", src.path.display()));
    let claim = format!(
        "one input packet on an evdev node (an EPOLLIN|EPOLLOUT|EPOLLRDNORM|EPOLLWRNORM wakeup) wakes all {N} waiters \
         registered EPOLLIN|EPOLLEXCLUSIVE, in each of {ROUNDS} rounds"
    );
    rounds(ctx, &mut src, &|_| EPOLLIN | EPOLLEXCLUSIVE, N, &claim)
}

/// The case's source, open.
fn open(ctx: &mut Ctx<'_>, source: Source) -> Result<Shared, Stop> {
    match source {
        Source::Eventfd => ctx.setup(Shared::eventfd(), "eventfd"),
        Source::Listen => listener(ctx),
    }
}

fn listener(ctx: &mut Ctx<'_>) -> Result<Shared, Stop> {
    if ctx.setup(loopback_up(), "bring lo up")? {
        ctx.log("lo was down: brought it up for this case (taken down again at the end)");
        ctx.defer(|| {
            let _ = loopback::set_down();
        });
    }
    ctx.setup(Shared::listen(), "listening TCP socket on 127.0.0.1")
}

/// How the N waiters register the shared source.
#[derive(Debug, Clone, Copy)]
enum Herd {
    /// All with EPOLLEXCLUSIVE: one event wakes 1.
    Exclusive,
    /// None with it: one event wakes all N.
    Plain,
    /// The first [`MIXED_PLAIN`] without, the rest with: one event wakes MIXED_PLAIN + 1.
    Mixed,
}

/// Waiters registered without EPOLLEXCLUSIVE in the mixed herd.
const MIXED_PLAIN: usize = N / 2;

impl Herd {
    fn flags(self, i: usize) -> u32 {
        let exclusive = match self {
            Herd::Exclusive => true,
            Herd::Plain => false,
            Herd::Mixed => i >= MIXED_PLAIN,
        };
        EPOLLIN | if exclusive { EPOLLEXCLUSIVE } else { 0 }
    }

    fn want(self) -> usize {
        match self {
            Herd::Exclusive => 1,
            Herd::Plain => N,
            Herd::Mixed => MIXED_PLAIN + 1,
        }
    }

    fn claim(self) -> String {
        match self {
            Herd::Exclusive => format!("one event wakes exactly 1 of {N} EPOLLEXCLUSIVE waiters, in each of {ROUNDS} rounds"),
            Herd::Plain => {
                format!("one event wakes all {N} waiters registered without EPOLLEXCLUSIVE, in each of {ROUNDS} rounds")
            }
            Herd::Mixed => format!(
                "one event wakes the {MIXED_PLAIN} plain waiters and exactly 1 of the {} EPOLLEXCLUSIVE ones ({} in all), \
                 in each of {ROUNDS} rounds",
                N - MIXED_PLAIN,
                MIXED_PLAIN + 1
            ),
        }
    }
}

/// [`ROUNDS`] rounds of: N waiters asleep, one event, count who woke.
fn herd(ctx: &mut Ctx<'_>, src: &mut Shared, herd: Herd) -> CaseResult {
    rounds(ctx, src, &|i| herd.flags(i), herd.want(), &herd.claim())
}

/// [`ROUNDS`] rounds of: N waiters registered with `flags(i)`, all asleep, one event, and
/// exactly `want` of them woken.
fn rounds(ctx: &mut Ctx<'_>, src: &mut dyn Fire, flags: &dyn Fn(usize) -> u32, want: usize, claim: &str) -> CaseResult {
    super::require_exclusive(ctx)?;
    let mut totals = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let fd = src.fd();
        let register = |i: usize, ep: BorrowedFd<'_>| epoll_ctl::ctl(ep, Op::Add, fd, flags(i), SOURCE);
        let pool = ctx.setup(Waiters::start(N, &register, None), "start the waiters")?;
        ctx.setup(pool.all_asleep(), "every waiter asleep in epoll_wait before the event")?;
        ctx.setup(src.fire(), "fire one event")?;
        let woken = ctx.setup(pool.observe(want), "count the woken waiters")?;
        let who: Vec<usize> = pool.counts().iter().enumerate().filter(|(_, &c)| c > 0).map(|(i, _)| i).collect();
        ctx.log(format!(
            "round {round}: {} of {} woke ({} returned, {} woken not yet run); returned: waiters {who:?}",
            woken.total(),
            pool.len(),
            woken.returned,
            woken.runnable
        ));
        totals.push(woken.total());
        ctx.setup(pool.stop(), "release and join the waiters")?;
        ctx.setup(src.drain(), "drain the source")?;
        if woken.total() != want {
            // One round off already disproves the claim; more rounds would only add a full
            // DEADLINE each (the wait for wakeups that never come) and could turn a FAIL into a
            // TIMEOUT under KVM's unscaled case limit.
            break;
        }
    }
    let stopped =
        if totals.len() < ROUNDS { format!(" (stopped after round {})", totals.len() - 1) } else { String::new() };
    ctx.assert(totals.iter().all(|&t| t == want), claim, format!("woken per round: {totals:?}{stopped}"))
}
