//! The wakeup-policy API of Jason Baron's reply "Re: [PATCH v2 2/2] epoll: introduce
//! EPOLLEXCLUSIVE and EPOLLROUNDROBIN" (LKML, 2015-02-18; never merged), for the cases that probe
//! for it. The reply names two things:
//!
//! * `EPOLLROUNDROBIN`, the flag of the v2 patch it answers: "depends on EPOLLEXCLUSIVE also
//!   being set", round-robins wakeups "around the set of waiting threads".
//! * `EPOLL_POLICY`, the sketch the reply proposes instead: `ep1 = epoll_create1(EPOLL_POLICY)`
//!   makes a policy epoll "local to the process, such that other processes can not subsequently
//!   attach to it"; `epoll_ctl(ep1, EPOLL_CTL_ADD, fd_source, NULL)` associates it with "at most
//!   1 wakeup source"; `epoll_ctl(epN, EPOLL_CTL_ADD, ep1, event)` queues the waiters behind it,
//!   and the policy (round robin first) picks which one an event wakes.
//!
//! Neither value was ever fixed by an ABI: the reply gives none for `EPOLL_POLICY`, and the only
//! trace of `EPOLLROUNDROBIN`'s is third-party code copying the v2 patch, `(1 << 27)`
//! (reference/uapi.md E.6, not verified against the e-mail; mainline later gave bit 27 to the
//! kernel-internal `EPOLL_URING_WAKE`). Both are placeholders: change them here when an
//! implementation fixes them.

/// `epoll_create1` flag creating a wakeup-policy epoll (the 2015 reply's). pollcheck's placeholder: the
/// lowest bit, which `epoll_create1` refuses today (only `EPOLL_CLOEXEC` is accepted,
/// fs/eventpoll.c:2500).
pub const EPOLL_POLICY: libc::c_int = 0x1;

/// `epoll_ctl` event flag asking for round-robin among exclusive waiters (the v2 patch the 2015
/// reply answers). Only valid together with `EPOLLEXCLUSIVE`.
pub const EPOLLROUNDROBIN: u32 = 1 << 27;

use super::epoll_ctl::{self, Op, EPOLLEXCLUSIVE, EPOLLIN};
use nix::errno::Errno;
use std::os::fd::{AsFd, OwnedFd};

/// Whether the running kernel has one of the 2015 reply's interfaces, as the kernel itself answers.
/// (The skip reasons below keep their wording: reports of earlier runs compare against them.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    Present,
    /// Absent, with the kernel's answer as the reason.
    Absent(String),
    /// The probe could not even ask (no epoll or eventfd).
    Broken(String),
}

/// A wakeup-policy epoll instance: `epoll_create1(EPOLL_POLICY | EPOLL_CLOEXEC)`.
pub fn create_policy() -> Result<OwnedFd, Errno> {
    epoll_ctl::create(EPOLL_POLICY | libc::EPOLL_CLOEXEC)
}

/// Ask `epoll_create1` for a policy epoll.
pub fn detect_policy() -> Support {
    match create_policy() {
        Ok(_) => Support::Present,
        Err(e) => Support::Absent(format!(
            "epoll_create1(EPOLL_POLICY = {EPOLL_POLICY:#x}) fails with {e:?}: no wakeup-policy epoll \
             (EPOLL_POLICY, sketched in 2015, never merged)"
        )),
    }
}

/// Ask `epoll_ctl` to add an eventfd with EPOLLIN|EPOLLEXCLUSIVE|EPOLLROUNDROBIN.
pub fn detect_roundrobin() -> Support {
    let (ep, efd) = match (epoll_ctl::epoll(), epoll_ctl::eventfd()) {
        (Ok(ep), Ok(efd)) => (ep, efd),
        (Err(e), _) | (_, Err(e)) => {
            return Support::Broken(format!("failed to create an epoll fd and an eventfd: {e}"))
        }
    };
    match epoll_ctl::ctl(ep.as_fd(), Op::Add, efd.as_fd(), EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN, 0) {
        Ok(()) => Support::Present,
        Err(e) => Support::Absent(format!(
            "EPOLL_CTL_ADD with EPOLLIN|EPOLLEXCLUSIVE|EPOLLROUNDROBIN ({EPOLLROUNDROBIN:#x}) fails with {e:?}: \
             no round-robin exclusive wakeups (the 2015 EPOLLROUNDROBIN patch, never merged)"
        )),
    }
}
