//! epoll_ctl's EPOLLEXCLUSIVE rules (fs/eventpoll.c, linux-source-7.2):
//!
//! ```text
//! 216-217    #define EPOLLEXCLUSIVE_OK_BITS (EPOLLINOUT_BITS | EPOLLERR | EPOLLHUP | \
//!                                        EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
//! 2668-2673  if (ep_op_has_event(op) && (epds->events & EPOLLEXCLUSIVE)) {
//!                if (op == EPOLL_CTL_MOD) return -EINVAL;
//!                if (op == EPOLL_CTL_ADD && (is_file_epoll(tf->file) ||
//!                        (epds->events & ~EPOLLEXCLUSIVE_OK_BITS))) return -EINVAL;
//!            }
//! 2709-2714  case EPOLL_CTL_MOD: … if (!(epi->event.events & EPOLLEXCLUSIVE)) ep_modify(…)
//!            (else `error` stays -EINVAL)
//! ```
//!
//! The MOD check comes before the item lookup, so it is EINVAL even for an fd that is not
//! registered. EPOLLWAKEUP is in the OK bits, and in any case is silently dropped before the
//! check without CAP_BLOCK_SUSPEND or CONFIG_PM_SLEEP (lines 2536-2547, 2652-2654).

use crate::sys::epoll_ctl::{
    self, Op, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, EPOLLMSG, EPOLLONESHOT, EPOLLOUT, EPOLLPRI,
    EPOLLRDBAND, EPOLLRDHUP, EPOLLRDNORM, EPOLLWAKEUP, EPOLLWRBAND, EPOLLWRNORM,
};
use pollcheck_guest::{CaseResult, Ctx, Errno, Stop};
use std::os::fd::{AsFd, OwnedFd};

/// A fresh epoll instance and a fresh eventfd to register in it.
fn pair(ctx: &mut Ctx<'_>) -> Result<(OwnedFd, OwnedFd), Stop> {
    super::require_exclusive(ctx)?;
    let ep = ctx.setup(epoll_ctl::epoll(), "epoll_create1")?;
    let efd = ctx.setup(epoll_ctl::eventfd(), "eventfd")?;
    Ok((ep, efd))
}

pub(super) fn mod_with_exclusive(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, efd) = pair(ctx)?;
    let unregistered = epoll_ctl::ctl(ep.as_fd(), Op::Mod, efd.as_fd(), EPOLLIN | EPOLLEXCLUSIVE, 0);
    ctx.expect(
        unregistered == Err(Errno::EINVAL),
        "EPOLL_CTL_MOD with EPOLLIN|EPOLLEXCLUSIVE of an unregistered fd is EINVAL (checked before the lookup, not ENOENT)",
        format!("{unregistered:?}"),
    );
    ctx.assert_ok(epoll_ctl::ctl(ep.as_fd(), Op::Add, efd.as_fd(), EPOLLIN, 0), "EPOLL_CTL_ADD with EPOLLIN")?;
    ctx.assert_errno(
        epoll_ctl::ctl(ep.as_fd(), Op::Mod, efd.as_fd(), EPOLLIN | EPOLLEXCLUSIVE, 0),
        Errno::EINVAL,
        "EPOLL_CTL_MOD with EPOLLIN|EPOLLEXCLUSIVE of an item added without it",
    )
}

pub(super) fn mod_of_exclusive_item(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, efd) = pair(ctx)?;
    ctx.assert_ok(
        epoll_ctl::ctl(ep.as_fd(), Op::Add, efd.as_fd(), EPOLLIN | EPOLLEXCLUSIVE, 0),
        "EPOLL_CTL_ADD with EPOLLIN|EPOLLEXCLUSIVE",
    )?;
    for (what, events) in [("EPOLLIN", EPOLLIN), ("EPOLLOUT", EPOLLOUT)] {
        let r = epoll_ctl::ctl(ep.as_fd(), Op::Mod, efd.as_fd(), events, 0);
        ctx.expect(
            r == Err(Errno::EINVAL),
            format!("EPOLL_CTL_MOD to {what} (no EPOLLEXCLUSIVE) of an exclusive item is EINVAL"),
            format!("{r:?}"),
        );
    }
    ctx.assert_ok(epoll_ctl::ctl(ep.as_fd(), Op::Del, efd.as_fd(), 0, 0), "EPOLL_CTL_DEL of the exclusive item")?;
    Ok(())
}

pub(super) fn add_with_oneshot(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, efd) = pair(ctx)?;
    ctx.assert_errno(
        epoll_ctl::ctl(ep.as_fd(), Op::Add, efd.as_fd(), EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 0),
        Errno::EINVAL,
        "EPOLL_CTL_ADD with EPOLLIN|EPOLLEXCLUSIVE|EPOLLONESHOT",
    )?;
    ctx.assert_ok(
        epoll_ctl::ctl(ep.as_fd(), Op::Add, efd.as_fd(), EPOLLIN | EPOLLONESHOT, 0),
        "control: EPOLL_CTL_ADD with EPOLLIN|EPOLLONESHOT (no EPOLLEXCLUSIVE) of the same fd",
    )?;
    Ok(())
}

/// Every poll bit outside EPOLLEXCLUSIVE_OK_BITS (EPOLLONESHOT has its own case).
const NOT_OK: &[(&str, u32)] = &[
    ("EPOLLPRI", EPOLLPRI),
    ("EPOLLRDNORM", EPOLLRDNORM),
    ("EPOLLRDBAND", EPOLLRDBAND),
    ("EPOLLWRNORM", EPOLLWRNORM),
    ("EPOLLWRBAND", EPOLLWRBAND),
    ("EPOLLMSG", EPOLLMSG),
    ("EPOLLRDHUP", EPOLLRDHUP),
];

pub(super) fn add_with_other_bits(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, efd) = pair(ctx)?;
    for &(name, bit) in NOT_OK {
        let r = epoll_ctl::ctl(ep.as_fd(), Op::Add, efd.as_fd(), EPOLLIN | EPOLLEXCLUSIVE | bit, 0);
        ctx.expect(
            r == Err(Errno::EINVAL),
            format!("EPOLL_CTL_ADD with EPOLLIN|EPOLLEXCLUSIVE|{name} is EINVAL"),
            format!("{r:?}"),
        );
        if r.is_ok() {
            let _ = epoll_ctl::ctl(ep.as_fd(), Op::Del, efd.as_fd(), 0, 0);
        }
    }
    Ok(())
}

/// Masks built only from EPOLLEXCLUSIVE_OK_BITS.
const OK: &[(&str, u32)] = &[
    ("EPOLLIN", EPOLLIN),
    ("EPOLLOUT", EPOLLOUT),
    ("EPOLLIN|EPOLLOUT", EPOLLIN | EPOLLOUT),
    ("EPOLLIN|EPOLLET", EPOLLIN | EPOLLET),
    ("EPOLLIN|EPOLLERR|EPOLLHUP", EPOLLIN | EPOLLERR | EPOLLHUP),
    ("EPOLLIN|EPOLLWAKEUP", EPOLLIN | EPOLLWAKEUP),
    (
        "EPOLLIN|EPOLLOUT|EPOLLERR|EPOLLHUP|EPOLLET|EPOLLWAKEUP",
        EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLET | EPOLLWAKEUP,
    ),
];

pub(super) fn add_allowed_bits(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, efd) = pair(ctx)?;
    for &(name, mask) in OK {
        let r = epoll_ctl::ctl(ep.as_fd(), Op::Add, efd.as_fd(), mask | EPOLLEXCLUSIVE, 0);
        ctx.expect(r.is_ok(), format!("EPOLL_CTL_ADD with {name}|EPOLLEXCLUSIVE is accepted"), format!("{r:?}"));
        if r.is_ok() {
            ctx.assert_ok(
                epoll_ctl::ctl(ep.as_fd(), Op::Del, efd.as_fd(), 0, 0),
                format!("EPOLL_CTL_DEL after {name}"),
            )?;
        }
    }
    Ok(())
}

pub(super) fn add_epoll_target(ctx: &mut Ctx<'_>) -> CaseResult {
    super::require_exclusive(ctx)?;
    let outer = ctx.setup(epoll_ctl::epoll(), "outer epoll_create1")?;
    let inner = ctx.setup(epoll_ctl::epoll(), "inner epoll_create1")?;
    ctx.assert_errno(
        epoll_ctl::ctl(outer.as_fd(), Op::Add, inner.as_fd(), EPOLLIN | EPOLLEXCLUSIVE, 0),
        Errno::EINVAL,
        "EPOLL_CTL_ADD of an epoll fd with EPOLLIN|EPOLLEXCLUSIVE",
    )?;
    ctx.assert_ok(
        epoll_ctl::ctl(outer.as_fd(), Op::Add, inner.as_fd(), EPOLLIN, 0),
        "control: EPOLL_CTL_ADD of the same epoll fd with EPOLLIN (nesting without EPOLLEXCLUSIVE)",
    )?;
    Ok(())
}
