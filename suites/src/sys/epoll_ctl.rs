//! epoll_create1 / epoll_ctl / epoll_wait with raw event masks (bits nix's `EpollFlags` does not
//! name, or must not be normalised), plus the non-blocking eventfd the exclusive cases fire.

use nix::errno::Errno;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

pub const EPOLLIN: u32 = libc::EPOLLIN as u32;
pub const EPOLLPRI: u32 = libc::EPOLLPRI as u32;
pub const EPOLLOUT: u32 = libc::EPOLLOUT as u32;
pub const EPOLLERR: u32 = libc::EPOLLERR as u32;
pub const EPOLLHUP: u32 = libc::EPOLLHUP as u32;
pub const EPOLLRDNORM: u32 = libc::EPOLLRDNORM as u32;
pub const EPOLLRDBAND: u32 = libc::EPOLLRDBAND as u32;
pub const EPOLLWRNORM: u32 = libc::EPOLLWRNORM as u32;
pub const EPOLLWRBAND: u32 = libc::EPOLLWRBAND as u32;
pub const EPOLLMSG: u32 = libc::EPOLLMSG as u32;
pub const EPOLLRDHUP: u32 = libc::EPOLLRDHUP as u32;
pub const EPOLLEXCLUSIVE: u32 = libc::EPOLLEXCLUSIVE as u32;
pub const EPOLLWAKEUP: u32 = libc::EPOLLWAKEUP as u32;
pub const EPOLLONESHOT: u32 = libc::EPOLLONESHOT as u32;
pub const EPOLLET: u32 = libc::EPOLLET as u32;

/// The operations, as `epoll_ctl(2)` numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Del,
    Mod,
}

impl Op {
    fn raw(self) -> libc::c_int {
        match self {
            Op::Add => libc::EPOLL_CTL_ADD,
            Op::Del => libc::EPOLL_CTL_DEL,
            Op::Mod => libc::EPOLL_CTL_MOD,
        }
    }
}

/// `epoll_create1(flags)` with any flags (unknown ones included, so a probe can ask the kernel).
pub fn create(flags: libc::c_int) -> Result<OwnedFd, Errno> {
    // SAFETY: plain syscall; on success the kernel hands us a new fd we now own.
    let fd = Errno::result(unsafe { libc::epoll_create1(flags) })?;
    // SAFETY: `fd` is a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A fresh close-on-exec epoll instance.
pub fn epoll() -> Result<OwnedFd, Errno> {
    create(libc::EPOLL_CLOEXEC)
}

/// `epoll_ctl(ep, op, fd, &{events, data})` with the mask passed through untouched.
pub fn ctl(ep: BorrowedFd<'_>, op: Op, fd: BorrowedFd<'_>, events: u32, data: u64) -> Result<(), Errno> {
    let mut ev = libc::epoll_event { events, u64: data };
    // SAFETY: `ev` lives across the call; the kernel only reads it.
    Errno::result(unsafe { libc::epoll_ctl(ep.as_raw_fd(), op.raw(), fd.as_raw_fd(), &mut ev) }).map(drop)
}

/// `epoll_ctl(ep, op, fd, NULL)`: how Jason Baron's EPOLL_POLICY sketch ("Re: [PATCH v2 2/2] epoll:
/// introduce EPOLLEXCLUSIVE and EPOLLROUNDROBIN", 2015-02-18) attaches a policy epoll to its
/// wakeup source.
pub fn ctl_null(ep: BorrowedFd<'_>, op: Op, fd: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: a NULL event pointer is only handed to the kernel (EFAULT where it needs one).
    let rc = unsafe { libc::epoll_ctl(ep.as_raw_fd(), op.raw(), fd.as_raw_fd(), std::ptr::null_mut()) };
    Errno::result(rc).map(drop)
}

/// Block in `epoll_wait(ep, 1 event, timeout_ms)`; the data word of the event, or None on timeout.
pub fn wait_one(ep: BorrowedFd<'_>, timeout_ms: i32) -> Result<Option<u64>, Errno> {
    let mut ev = libc::epoll_event { events: 0, u64: 0 };
    // SAFETY: room for exactly the one event we ask for.
    let n = Errno::result(unsafe { libc::epoll_wait(ep.as_raw_fd(), &mut ev, 1, timeout_ms) })?;
    Ok((n == 1).then_some(ev.u64))
}

/// A non-blocking, close-on-exec eventfd with counter 0.
pub fn eventfd() -> Result<OwnedFd, Errno> {
    // SAFETY: plain syscall returning a new fd.
    let fd = Errno::result(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
    // SAFETY: `fd` is a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Add `n` to an eventfd's counter (one `wake_up_locked_poll(EPOLLIN)`, fs/eventfd.c:273-274).
pub fn eventfd_add(fd: BorrowedFd<'_>, n: u64) -> Result<(), Errno> {
    nix::unistd::write(fd, &n.to_ne_bytes()).map(drop)
}

/// Reset an eventfd's counter to 0; Ok(0) when it already was (EAGAIN).
pub fn eventfd_take(fd: BorrowedFd<'_>) -> Result<u64, Errno> {
    let mut buf = [0u8; 8];
    match nix::unistd::read(fd, &mut buf) {
        Ok(_) => Ok(u64::from_ne_bytes(buf)),
        Err(Errno::EAGAIN) => Ok(0),
        Err(e) => Err(e),
    }
}
