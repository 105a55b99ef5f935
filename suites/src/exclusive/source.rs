//! The wakeup sources the waiters share: an eventfd (one `write` is one
//! `wake_up_locked_poll(EPOLLIN)`) and a listening TCP socket on loopback (one completed
//! connection is one `sk_data_ready` → `wake_up_interruptible_sync_poll(EPOLLIN|…)`). Which one
//! a `wake_*` case uses is its variant ([`Source`]).

use crate::sys::{epoll_ctl, loopback};
use pollcheck_guest::Variant;
use pollcheck_proto::CaseMeta;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// The variant of a `wake_*` case: the kind of source its waiters share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// `.eventfd`: an eventfd.
    Eventfd,
    /// `.listen`: a listening TCP socket on 127.0.0.1 (needs IPv4).
    Listen,
}

impl Variant for Source {
    fn name(self) -> &'static str {
        match self {
            Source::Eventfd => "eventfd",
            Source::Listen => "listen",
        }
    }

    fn apply(self, meta: &mut CaseMeta) {
        if self == Source::Listen {
            crate::require_kconfig(meta, &["NET", "INET"]);
        }
    }
}

/// A shared source the waiters register: its fd, how to make exactly one event, and how to put
/// it back to "nothing ready" for the next round.
pub(super) trait Fire {
    fn fd(&self) -> BorrowedFd<'_>;
    /// Make exactly one event.
    fn fire(&mut self) -> Result<(), String>;
    /// Consume what the event left, so the next round starts from a quiet source.
    fn drain(&mut self) -> Result<(), String>;
}

/// One shared source of events, open.
pub(super) enum Shared {
    Eventfd(OwnedFd),
    Listen { listener: TcpListener, addr: SocketAddr, clients: Vec<TcpStream> },
}

impl Shared {
    pub fn eventfd() -> Result<Self, String> {
        epoll_ctl::eventfd().map(Shared::Eventfd).map_err(|e| format!("failed to create an eventfd: {e}"))
    }

    /// A non-blocking listener on 127.0.0.1 (an ephemeral port). `lo` must be up.
    pub fn listen() -> Result<Self, String> {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("failed to listen on 127.0.0.1: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| format!("failed to make the listener non-blocking: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("failed to read the listener's address: {e}"))?;
        Ok(Shared::Listen { listener, addr, clients: Vec::new() })
    }
}

impl Fire for Shared {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Shared::Eventfd(fd) => fd.as_fd(),
            Shared::Listen { listener, .. } => listener.as_fd(),
        }
    }

    /// Make exactly one event: add 1 to the eventfd, or complete one connection to the listener.
    fn fire(&mut self) -> Result<(), String> {
        match self {
            Shared::Eventfd(fd) => {
                epoll_ctl::eventfd_add(fd.as_fd(), 1).map_err(|e| format!("failed to write the eventfd: {e}"))
            }
            Shared::Listen { addr, clients, .. } => {
                let c = TcpStream::connect(*addr).map_err(|e| format!("failed to connect to {addr}: {e}"))?;
                clients.push(c);
                Ok(())
            }
        }
    }

    /// Consume every pending event, so the next round starts from a quiet source.
    fn drain(&mut self) -> Result<(), String> {
        match self {
            Shared::Eventfd(fd) => {
                epoll_ctl::eventfd_take(fd.as_fd()).map(drop).map_err(|e| format!("failed to read the eventfd: {e}"))
            }
            Shared::Listen { listener, clients, .. } => {
                loop {
                    match listener.accept() {
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(format!("failed to accept: {e}")),
                    }
                }
                clients.clear();
                Ok(())
            }
        }
    }
}

/// Bring `lo` up for the listener variant; Ok(true) if this changed it (the caller defers the undo).
pub(super) fn loopback_up() -> Result<bool, String> {
    loopback::ensure_up().map_err(|e| format!("failed to bring lo up (SIOCSIFFLAGS): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listener_needs_ipv4() {
        let run = |_: &mut pollcheck_guest::Ctx<'_>, _: Source| Ok(());
        let cases = pollcheck_guest::Case::with_variants("s", "c", "x", &[Source::Eventfd, Source::Listen], run)
            .kconfig(&["EPOLL", "EVENTFD"])
            .build();
        let ids: Vec<String> = cases.iter().map(|c| c.meta.id.to_string()).collect();
        assert_eq!(ids, ["s::c.eventfd", "s::c.listen"]);
        assert_eq!(cases[0].meta.requires.kconfig, ["EPOLL", "EVENTFD"]);
        assert_eq!(cases[1].meta.requires.kconfig, ["EPOLL", "EVENTFD", "NET", "INET"]);
    }
}
