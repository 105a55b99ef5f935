//! epoll_ctl on a USERPOLL epoll: edge-triggered only, never exclusive, at most max_items_nr items.

use super::{added_eventfd, case, fresh, IN_ET};
use crate::sys::userpoll::{self};
use pollcheck_guest::{CaseBuilder, CaseResult, Ctx, Errno};
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

pub(super) fn cases() -> Vec<CaseBuilder> {
    vec![
        case("ctl_requires_et", "EPOLL_CTL_ADD and EPOLL_CTL_MOD without EPOLLET are EINVAL", requires_et),
        case("ctl_exclusive", "EPOLL_CTL_ADD with EPOLLEXCLUSIVE (and EPOLLET) is EINVAL", exclusive),
        case("ctl_enospc", "ADD past max_items_nr is ENOSPC; after a DEL the freed slot is reused", enospc)
            .timeout(Duration::from_secs(30)),
    ]
}

const IN: u32 = libc::EPOLLIN as u32;
const EXCL: u32 = libc::EPOLLEXCLUSIVE as u32;

fn requires_et(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, _ring) = fresh(ctx, 8)?;
    let efd = ctx.setup(userpoll::eventfd(), "eventfd")?;
    ctx.assert_errno(
        userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, efd.as_fd(), IN, 1),
        Errno::EINVAL,
        "EPOLL_CTL_ADD with EPOLLIN (level-triggered)",
    )?;
    ctx.assert_ok(
        userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, efd.as_fd(), IN_ET, 1),
        "EPOLL_CTL_ADD EPOLLIN|EPOLLET",
    )?;
    ctx.assert_errno(
        userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_MOD, efd.as_fd(), IN, 1),
        Errno::EINVAL,
        "EPOLL_CTL_MOD to EPOLLIN (level-triggered)",
    )?;
    ctx.assert_ok(
        userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_MOD, efd.as_fd(), IN_ET, 2),
        "EPOLL_CTL_MOD EPOLLIN|EPOLLET",
    )?;
    ctx.assert_ok(userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_DEL, efd.as_fd(), 0, 0), "EPOLL_CTL_DEL")
}

fn exclusive(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, _ring) = fresh(ctx, 8)?;
    let efd = ctx.setup(userpoll::eventfd(), "eventfd")?;
    ctx.assert_errno(
        userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, efd.as_fd(), IN_ET | EXCL, 1),
        Errno::EINVAL,
        "EPOLL_CTL_ADD EPOLLIN|EPOLLET|EPOLLEXCLUSIVE",
    )?;
    // The same add is fine on a classic epoll: the refusal is USERPOLL's.
    let classic = ctx.setup(userpoll::epoll_create1(libc::EPOLL_CLOEXEC), "epoll_create1")?;
    ctx.assert_ok(
        userpoll::ctl(classic.as_fd(), libc::EPOLL_CTL_ADD, efd.as_fd(), IN_ET | EXCL, 1),
        "the same EPOLL_CTL_ADD on a classic epoll",
    )?;
    Ok(())
}

fn enospc(ctx: &mut Ctx<'_>) -> CaseResult {
    let n = 5;
    let (ep, ring) = fresh(ctx, n)?;
    let mut fds: Vec<OwnedFd> = Vec::new();
    for i in 0..n {
        fds.push(added_eventfd(ctx, &ep, IN_ET, i as u64)?);
    }
    let extra = ctx.setup(userpoll::eventfd(), "eventfd")?;
    ctx.assert_errno(
        userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, extra.as_fd(), IN_ET, 99),
        Errno::ENOSPC,
        format!("EPOLL_CTL_ADD of item {} with max_items_nr = {n}", n + 1),
    )?;
    ctx.assert_ok(userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_DEL, fds[2].as_fd(), 0, 0), "EPOLL_CTL_DEL of item 3")?;
    ctx.assert_ok(
        userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, extra.as_fd(), IN_ET, 99),
        "EPOLL_CTL_ADD after a DEL freed a slot",
    )?;
    // The new item works: it is published with its own data.
    ctx.setup(userpoll::eventfd_add(extra.as_fd(), 1), "eventfd write")?;
    let mut got = Vec::new();
    ring.consume(&mut got);
    ctx.assert_eq(got.iter().map(|e| e.data).collect::<Vec<_>>(), vec![99], "the re-used slot publishes the new item")?;
    let other = ctx.setup(userpoll::eventfd(), "eventfd")?;
    ctx.assert_errno(
        userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, other.as_fd(), IN_ET, 100),
        Errno::ENOSPC,
        "EPOLL_CTL_ADD when full again",
    )
}
