//! epoll_ctl / epoll_wait on a raw epoll fd, and the calling thread's CPU clock: what the
//! behavioural busy-poll cases drive and measure.

use nix::errno::Errno;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

/// Watch `fd` for EPOLLIN on `ep`, tagging its events with `token`.
pub fn add_in(ep: BorrowedFd<'_>, fd: BorrowedFd<'_>, token: u64) -> Result<(), Errno> {
    let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: token };
    // SAFETY: `ev` is a valid epoll_event for the duration of the call.
    let rc = unsafe { libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_ADD, fd.as_raw_fd(), &mut ev) };
    Errno::result(rc).map(drop)
}

/// Wait up to `timeout_ms` for at most `max` events; the tokens of those that arrived.
pub fn wait(ep: BorrowedFd<'_>, max: usize, timeout_ms: i32) -> Result<Vec<u64>, Errno> {
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; max.max(1)];
    // SAFETY: `evs` has room for `evs.len()` events, which is what the kernel is told.
    let rc = unsafe { libc::epoll_wait(ep.as_raw_fd(), evs.as_mut_ptr(), evs.len() as i32, timeout_ms) };
    let n = Errno::result(rc)? as usize;
    Ok(evs[..n].iter().map(|e| e.u64).collect())
}

/// CPU time the calling thread has used so far (CLOCK_THREAD_CPUTIME_ID).
pub fn thread_cpu() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).map(Duration::from).unwrap_or_default()
}
