//! The wakeup policies of Jason Baron's reply "Re: [PATCH v2 2/2] epoll: introduce EPOLLEXCLUSIVE
//! and EPOLLROUNDROBIN" (2015-02-18; never merged): round-robin among exclusive waiters, either
//! through a process-local policy epoll (`EPOLL_POLICY`) or the `EPOLLROUNDROBIN` flag of the patch
//! the reply answers. Constants and their provenance: [`crate::sys::wakeup_policy`].
//!
//! Each case first asks the kernel (epoll_create1 / epoll_ctl with the new flag) and skips with
//! its answer when the interface is absent, as on every mainline kernel. Written from the reply's
//! description, so that a kernel implementing it passes:
//! * `policy_round_robin`: waiters whose epolls added the policy epoll (`epoll_ctl(epN, ADD, ep1,
//!   event)`) are woken one per event, in turn;
//! * `policy_process_local`: "other processes can not subsequently attach to it";
//! * `policy_single_source`: "ep1 can be associated with … at most 1 wakeup source";
//! * `roundrobin_flag`: EPOLLIN|EPOLLEXCLUSIVE|EPOLLROUNDROBIN waiters are woken one per event,
//!   "round robin around the set of waiting threads".

use super::waiters::{Consume, Waiters, SOURCE};
use super::wakeups::N;
use crate::sys::epoll_ctl::{self, Op, EPOLLEXCLUSIVE, EPOLLIN};
use crate::sys::wakeup_policy::{self, Support, EPOLLROUNDROBIN};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};
use pollcheck_guest::{CaseResult, Ctx, Stop};
use pollcheck_proto::Feature;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

/// Full turns of the rotation each round-robin case drives.
const TURNS: usize = 2;

fn require(ctx: &mut Ctx<'_>, feature: Feature, support: Support) -> Result<(), Stop> {
    match support {
        Support::Present => Ok(()),
        Support::Absent(why) => Err(ctx.absent(feature, why)),
        Support::Broken(why) => ctx.assert(false, "probing for the wakeup-policy interface", why),
    }
}

/// A policy epoll attached to a fresh eventfd, as the reply's steps 1 and 2 do.
fn attached_policy(ctx: &mut Ctx<'_>) -> Result<(OwnedFd, OwnedFd), Stop> {
    require(ctx, Feature::EpollPolicy, wakeup_policy::detect_policy())?;
    let policy = ctx.assert_ok(wakeup_policy::create_policy(), "epoll_create1(EPOLL_POLICY)")?;
    let efd = ctx.setup(epoll_ctl::eventfd(), "eventfd")?;
    ctx.assert_ok(
        epoll_ctl::ctl_null(policy.as_fd(), Op::Add, efd.as_fd()),
        "epoll_ctl(policy, EPOLL_CTL_ADD, eventfd, NULL) attaches the policy epoll to its source",
    )?;
    Ok((policy, efd))
}

pub(super) fn policy_round_robin(ctx: &mut Ctx<'_>) -> CaseResult {
    let (policy, efd) = attached_policy(ctx)?;
    let target = policy.as_fd();
    rotation(ctx, Arc::new(efd), &|_, ep| epoll_ctl::ctl(ep, Op::Add, target, EPOLLIN, SOURCE))
}

pub(super) fn roundrobin_flag(ctx: &mut Ctx<'_>) -> CaseResult {
    require(ctx, Feature::EpollRoundRobin, wakeup_policy::detect_roundrobin())?;
    let efd = Arc::new(ctx.setup(epoll_ctl::eventfd(), "eventfd")?);
    let source = Arc::clone(&efd);
    rotation(ctx, efd, &move |_, ep| {
        epoll_ctl::ctl(ep, Op::Add, source.as_fd(), EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN, SOURCE)
    })
}

pub(super) fn policy_process_local(ctx: &mut Ctx<'_>) -> CaseResult {
    let (policy, _efd) = attached_policy(ctx)?;
    let own = ctx.setup(epoll_ctl::epoll(), "epoll_create1")?;
    ctx.assert_ok(
        epoll_ctl::ctl(own.as_fd(), Op::Add, policy.as_fd(), EPOLLIN, SOURCE),
        "the creating process adds the policy epoll to its own epoll instance",
    )?;
    // The child inherits the fd; the reply says another process cannot attach to it.
    // SAFETY: the case process is single-threaded here; the child only makes syscalls and _exits.
    let child = match ctx.setup(unsafe { fork() }, "fork")? {
        ForkResult::Child => {
            let code = match epoll_ctl::epoll() {
                Ok(ep) => match epoll_ctl::ctl(ep.as_fd(), Op::Add, policy.as_fd(), EPOLLIN, SOURCE) {
                    Ok(()) => 0,
                    Err(e) => e as i32,
                },
                Err(_) => 255,
            };
            // SAFETY: leave without running the parent's destructors or atexit handlers.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => child,
    };
    let status = ctx.setup(waitpid(child, None), "waitpid")?;
    match status {
        WaitStatus::Exited(_, 255) => ctx.assert(false, "setup: epoll_create1 in the child", "failed"),
        WaitStatus::Exited(_, code) => ctx.assert(
            code != 0,
            "another process (a forked child holding the fd) cannot add the policy epoll to its epoll",
            if code == 0 { "the child's EPOLL_CTL_ADD succeeded".to_owned() } else { format!("errno {code}") },
        ),
        other => ctx.assert(false, "setup: the child exits normally", format!("{other:?}")),
    }
}

pub(super) fn policy_single_source(ctx: &mut Ctx<'_>) -> CaseResult {
    let (policy, _first) = attached_policy(ctx)?;
    let second = ctx.setup(epoll_ctl::eventfd(), "second eventfd")?;
    let r = epoll_ctl::ctl_null(policy.as_fd(), Op::Add, second.as_fd());
    ctx.assert(
        r.is_err(),
        "a policy epoll already attached to one wakeup source refuses a second one",
        format!("{r:?}"),
    )
}

/// N waiters registered by `register`; fire `TURNS * N` events one at a time, each after all
/// waiters are asleep again; every event must wake exactly one waiter, and every run of N
/// consecutive events must wake all N (round robin).
fn rotation(
    ctx: &mut Ctx<'_>,
    efd: Arc<OwnedFd>,
    register: &dyn Fn(usize, BorrowedFd<'_>) -> Result<(), nix::errno::Errno>,
) -> CaseResult {
    let reader = Arc::clone(&efd);
    let consume: Consume = Arc::new(move || {
        let _ = epoll_ctl::eventfd_take(reader.as_fd());
    });
    let pool = ctx.setup(Waiters::start(N, register, Some(consume)), "start the waiters")?;
    let mut wakers: Vec<Vec<usize>> = Vec::with_capacity(TURNS * N);
    for k in 0..TURNS * N {
        ctx.setup(pool.all_asleep(), "every waiter asleep in epoll_wait before the event")?;
        let before = pool.counts();
        ctx.setup(epoll_ctl::eventfd_add(efd.as_fd(), 1), "write the eventfd")?;
        ctx.setup(pool.observe(k + 1).map(drop), "wait for the wakeup")?;
        ctx.setup(pool.all_asleep(), "every waiter back asleep after the event")?;
        let after = pool.counts();
        let woke: Vec<usize> = (0..N).flat_map(|i| std::iter::repeat_n(i, (after[i] - before[i]) as usize)).collect();
        let off = woke.len() != 1;
        wakers.push(woke);
        if off {
            // Not exactly one: the first claim is already false; stop before more DEADLINE waits.
            break;
        }
    }
    ctx.setup(pool.stop(), "release and join the waiters")?;
    ctx.log(format!("waiters woken by each of {} events: {wakers:?}", wakers.len()));
    ctx.expect(wakers.iter().all(|w| w.len() == 1), "each event wakes exactly one waiter", format!("{wakers:?}"));
    let turns: Vec<Vec<usize>> = wakers.chunks_exact(N).map(|c| distinct(c.iter().flatten().copied())).collect();
    ctx.assert(
        turns.iter().all(|t| t.len() == N),
        format!("every {N} consecutive events wake all {N} waiters, one each (round robin)"),
        format!("distinct waiters per turn: {turns:?}"),
    )
}

fn distinct(it: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut v: Vec<usize> = it.collect();
    v.sort_unstable();
    v.dedup();
    v
}
