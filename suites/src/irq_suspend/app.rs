//! The application under test: an epoll context with busy-poll parameters (EPIOCSPARAMS) over
//! B's receiver, looping epoll_wait → drain the socket → "work" (sleep). It notes when each
//! epoll_wait that returned events came back: each such return is where the kernel pushes the
//! suspension deadline out.

use super::traffic::MARKER;
use crate::sys::epoll_params::{self, params};
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollEvent, EpollFlags};
use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct App {
    ep: Epoll,
    rx: UdpSocket,
}

/// What one run of the loop saw.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// epoll_wait calls, and those that returned events.
    pub waits: u32,
    pub with_events: u32,
    pub datagrams: u64,
    /// Longest time between the start and an event-returning epoll_wait, between two of them,
    /// or between the last one and the end: the longest the kernel went without a push.
    pub max_gap: Duration,
    /// When the last event-returning epoll_wait came back.
    pub last_event: Option<Instant>,
}

impl App {
    /// An epoll context with `prefer_busy_poll` and `busy_poll_usecs` over a clone of `rx`.
    pub fn new(rx: &UdpSocket, prefer: bool, usecs: u32) -> Result<Self, String> {
        let fd = epoll_params::epoll().map_err(|e| format!("failed to create an epoll instance: {e}"))?;
        epoll_params::set(fd.as_fd(), &params(usecs, 0, u8::from(prefer), 0))
            .map_err(|e| format!("failed to set prefer_busy_poll {prefer}, busy_poll_usecs {usecs}: {e}"))?;
        let ep = Epoll(fd);
        let rx = rx.try_clone().map_err(|e| format!("failed to clone the receiver: {e}"))?;
        ep.add(&rx, EpollEvent::new(EpollFlags::EPOLLIN, 1))
            .map_err(|e| format!("failed to add the receiver to the epoll set: {e}"))?;
        Ok(Self { ep, rx })
    }

    /// One epoll_wait of up to `timeout`: the number of events.
    pub fn wait(&self, timeout: Duration) -> Result<usize, Errno> {
        let mut evs = [EpollEvent::empty(); 4];
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        loop {
            match self.ep.wait(&mut evs, ms) {
                Err(Errno::EINTR) => continue,
                other => return other,
            }
        }
    }

    /// Read every queued datagram: (how many, whether one was the wake-up marker).
    pub fn drain(&self) -> (u64, bool) {
        let mut buf = [0u8; 64];
        let (mut n, mut marker) = (0, false);
        while let Ok(len) = self.rx.recv(&mut buf) {
            n += 1;
            marker |= &buf[..len] == MARKER;
        }
        (n, marker)
    }

    /// The loop for `span`: epoll_wait (up to `wait_for`), drain on events, then sleep `work`.
    pub fn run(&self, span: Duration, work: Duration, wait_for: Duration) -> Result<Run, Errno> {
        let start = Instant::now();
        let mut r = Run::default();
        let mut since = start;
        while start.elapsed() < span {
            let n = self.wait(wait_for)?;
            r.waits += 1;
            if n > 0 {
                let now = Instant::now();
                r.max_gap = r.max_gap.max(now - since);
                since = now;
                r.with_events += 1;
                r.last_event = Some(now);
                r.datagrams += self.drain().0;
            }
            std::thread::sleep(work);
        }
        r.max_gap = r.max_gap.max(since.elapsed());
        Ok(r)
    }

    /// epoll_wait until it returns events (at most `tries` waits of `wait_for`): when the
    /// successful call began and when it came back. The kernel pushed the suspension deadline
    /// somewhere in between; a guest stall only widens the bracket.
    pub fn until_events(&self, tries: u32, wait_for: Duration) -> Result<Option<(Instant, Instant)>, Errno> {
        for _ in 0..tries {
            let began = Instant::now();
            if self.wait(wait_for)? > 0 {
                let at = Instant::now();
                self.drain();
                return Ok(Some((began, at)));
            }
        }
        Ok(None)
    }
}
