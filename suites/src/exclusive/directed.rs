//! Wakeup sources whose one event is a writability edge, or a readability edge on an fd the
//! waiters registered for EPOLLIN|EPOLLOUT: the wakeup keys ep_poll_callback's
//! `switch (pollflags & EPOLLINOUT_BITS)` (fs/eventpoll.c:1547-1558) sorts.
//!
//! * `wake_one_out.eventfd`: an eventfd at ULLONG_MAX - 1 is not writable (fs/eventfd.c:171);
//!   one `read` empties it and is one `wake_up_locked_poll(EPOLLOUT)` (fs/eventfd.c:236-238).
//! * `wake_one_out.pipe`: a pipe filled with page-sized writes is not writable (fs/pipe.c:794-795);
//!   reading one page empties one buffer of a full pipe, which is one
//!   `wake_up_interruptible_sync_poll(&wr_wait, EPOLLOUT | EPOLLWRNORM)` (fs/pipe.c:452, 490-491).
//! * `wake_one_inout.pipe`: the read end of an empty pipe, registered for EPOLLIN|EPOLLOUT (the
//!   read end polls only `rd_wait`, fs/pipe.c:773-776); one write is one
//!   `wake_up_interruptible_sync_poll(&rd_wait, EPOLLIN | EPOLLRDNORM)` (fs/pipe.c:692-693).
//! * `wake_one_inout.unix`: one end of a unix stream socketpair whose own sends fill the peer, so
//!   it is neither readable nor writable (unix_writable, net/unix/af_unix.c:591: wmem × 4 ≤ sndbuf),
//!   registered for EPOLLIN|EPOLLOUT; one byte from the peer is one `sock_def_readable` →
//!   `EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND` (net/core/sock.c:3659-3672).
//!
//! The IN/OUT part of each of those keys is exactly EPOLLOUT or exactly EPOLLIN, so one event
//! wakes exactly one EPOLLEXCLUSIVE waiter. (A key with both IN and OUT wakes every exclusive
//! waiter: `wake_all_inout_key`, on an evdev node, [`super::evdev`].)

use super::source::Fire;
use crate::sys::epoll_ctl::{self, EPOLLIN, EPOLLOUT};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use pollcheck_guest::Variant;
use pollcheck_proto::CaseMeta;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};

/// The variant of a `wake_one_out` / `wake_one_inout` case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Directed {
    /// `wake_one_out.eventfd`
    OutEventfd,
    /// `wake_one_out.pipe`
    OutPipe,
    /// `wake_one_inout.pipe`
    InOutPipe,
    /// `wake_one_inout.unix`
    InOutUnix,
}

impl Variant for Directed {
    fn name(self) -> &'static str {
        match self {
            Directed::OutEventfd => "eventfd",
            Directed::OutPipe | Directed::InOutPipe => "pipe",
            Directed::InOutUnix => "unix",
        }
    }

    fn apply(self, meta: &mut CaseMeta) {
        if self == Directed::InOutUnix {
            crate::require_kconfig(meta, &["NET", "UNIX"]);
        }
    }
}

impl Directed {
    /// What the waiters register for (EPOLLEXCLUSIVE is added by the herd).
    pub fn interest(self) -> u32 {
        match self {
            Directed::OutEventfd | Directed::OutPipe => EPOLLOUT,
            Directed::InOutPipe | Directed::InOutUnix => EPOLLIN | EPOLLOUT,
        }
    }

    /// What the one event is, for the claim.
    pub fn event(self) -> &'static str {
        match self {
            Directed::OutEventfd => "one read of a full eventfd (an EPOLLOUT wakeup)",
            Directed::OutPipe => "one page read from a full pipe (an EPOLLOUT|EPOLLWRNORM wakeup)",
            Directed::InOutPipe => "one byte written into an empty pipe (an EPOLLIN|EPOLLRDNORM wakeup)",
            Directed::InOutUnix => {
                "one byte from the peer of a unix stream socket (an EPOLLIN|EPOLLPRI|EPOLLRDNORM|EPOLLRDBAND wakeup)"
            }
        }
    }

    /// The source, open and armed (not ready for what the waiters want).
    pub fn open(self) -> Result<Box<dyn Fire>, String> {
        Ok(match self {
            Directed::OutEventfd => Box::new(FullEventfd::new()?),
            Directed::OutPipe => Box::new(FullPipe::new()?),
            Directed::InOutPipe => Box::new(EmptyPipe::new()?),
            Directed::InOutUnix => Box::new(StuckSocket::new()?),
        })
    }
}

/// The count an eventfd cannot be written past without blocking (ULLONG_MAX - 1).
const EVENTFD_FULL: u64 = u64::MAX - 1;
/// One pipe buffer: a page-sized write fills exactly one.
const PAGE: usize = 4096;

/// An eventfd kept at [`EVENTFD_FULL`]; the event is one read.
struct FullEventfd(OwnedFd);

impl FullEventfd {
    fn new() -> Result<Self, String> {
        let fd = epoll_ctl::eventfd().map_err(|e| format!("failed to create an eventfd: {e}"))?;
        let me = Self(fd);
        me.fill()?;
        Ok(me)
    }

    fn fill(&self) -> Result<(), String> {
        epoll_ctl::eventfd_take(self.0.as_fd()).map_err(|e| format!("failed to read the eventfd: {e}"))?;
        epoll_ctl::eventfd_add(self.0.as_fd(), EVENTFD_FULL).map_err(|e| format!("failed to fill the eventfd: {e}"))
    }
}

impl Fire for FullEventfd {
    fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }

    fn fire(&mut self) -> Result<(), String> {
        let n = epoll_ctl::eventfd_take(self.0.as_fd()).map_err(|e| format!("failed to read the eventfd: {e}"))?;
        if n == EVENTFD_FULL {
            Ok(())
        } else {
            Err(format!("the eventfd held {n}, not {EVENTFD_FULL}"))
        }
    }

    fn drain(&mut self) -> Result<(), String> {
        self.fill()
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).map_err(|e| format!("failed to create a pipe: {e}"))
}

/// Write `chunk`-byte pieces to `fd` until it would block; how many went in.
fn fill(fd: BorrowedFd<'_>, chunk: usize) -> Result<usize, String> {
    let buf = vec![0x5a; chunk];
    let mut n = 0;
    loop {
        match nix::unistd::write(fd, &buf) {
            Ok(k) => n += k,
            Err(Errno::EAGAIN) => return Ok(n),
            Err(e) => return Err(format!("failed to fill the {chunk}-byte writes: {e}")),
        }
    }
}

/// Read from `fd` until it would block; how many bytes came out.
fn empty(fd: BorrowedFd<'_>) -> Result<usize, String> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0;
    loop {
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) | Err(Errno::EAGAIN) => return Ok(n),
            Ok(k) => n += k,
            Err(e) => return Err(format!("failed to read: {e}")),
        }
    }
}

/// A pipe full of page-sized buffers; the waiters watch its write end, the event is one page read.
struct FullPipe {
    r: OwnedFd,
    w: OwnedFd,
}

impl FullPipe {
    fn new() -> Result<Self, String> {
        let (r, w) = pipe()?;
        fill(w.as_fd(), PAGE)?;
        Ok(Self { r, w })
    }
}

impl Fire for FullPipe {
    fn fd(&self) -> BorrowedFd<'_> {
        self.w.as_fd()
    }

    fn fire(&mut self) -> Result<(), String> {
        let mut buf = [0u8; PAGE];
        match nix::unistd::read(self.r.as_fd(), &mut buf) {
            Ok(PAGE) => Ok(()),
            Ok(n) => Err(format!("read {n} bytes of the full pipe, not one page")),
            Err(e) => Err(format!("failed to read the pipe: {e}")),
        }
    }

    fn drain(&mut self) -> Result<(), String> {
        fill(self.w.as_fd(), PAGE).map(drop)
    }
}

/// An empty pipe; the waiters watch its read end, the event is one byte written.
struct EmptyPipe {
    r: OwnedFd,
    w: OwnedFd,
}

impl EmptyPipe {
    fn new() -> Result<Self, String> {
        let (r, w) = pipe()?;
        Ok(Self { r, w })
    }
}

impl Fire for EmptyPipe {
    fn fd(&self) -> BorrowedFd<'_> {
        self.r.as_fd()
    }

    fn fire(&mut self) -> Result<(), String> {
        nix::unistd::write(self.w.as_fd(), b"x").map(drop).map_err(|e| format!("failed to write the pipe: {e}"))
    }

    fn drain(&mut self) -> Result<(), String> {
        empty(self.r.as_fd()).map(drop)
    }
}

/// A unix stream socketpair: `mine` has filled `peer` with unread data (so it is not writable)
/// and has nothing to read; the waiters watch `mine`, the event is one byte from `peer`.
struct StuckSocket {
    mine: OwnedFd,
    peer: OwnedFd,
}

impl StuckSocket {
    fn new() -> Result<Self, String> {
        let mut fds = [0; 2];
        // SAFETY: socketpair writes two fds into the array on success.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        Errno::result(rc).map_err(|e| format!("failed to create a unix stream socketpair: {e}"))?;
        // SAFETY: two fresh descriptors owned by nobody else.
        let (mine, peer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let sent = fill(mine.as_fd(), 16 * 1024)?;
        if sent == 0 {
            return Err("the unix socket took no data before EAGAIN".into());
        }
        Ok(Self { mine, peer })
    }
}

impl Fire for StuckSocket {
    fn fd(&self) -> BorrowedFd<'_> {
        self.mine.as_fd()
    }

    fn fire(&mut self) -> Result<(), String> {
        nix::unistd::write(self.peer.as_fd(), b"x").map(drop).map_err(|e| format!("failed to send from the peer: {e}"))
    }

    fn drain(&mut self) -> Result<(), String> {
        empty(self.mine.as_fd()).map(drop)
    }
}
