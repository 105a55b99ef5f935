//! CPU per empty wait: an epoll instance watching one receiver, fed one datagram per round (its
//! wakeup is what records the socket's NAPI id on the instance: fs/eventpoll.c drops the id
//! after every busy poll that found nothing), then timed over one epoll_wait that finds nothing.
//! A busy-polling instance spends about its busy-poll time on the CPU there; a plain one sleeps.

use crate::sys::epoll::{add_in, thread_cpu, wait};
use crate::sys::epoll_params::{self, EpollParams};
use nix::sys::socket::{recv, MsgFlags};
use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

/// How long a round waits for its datagram before calling the network broken.
const ARRIVAL_MS: i32 = 3000;

/// One epoll instance over one receiver `rx`, fed by writes to `tx`.
#[derive(Debug)]
pub struct Waiter<'a> {
    ep: OwnedFd,
    tx: BorrowedFd<'a>,
    rx: BorrowedFd<'a>,
}

impl<'a> Waiter<'a> {
    /// A fresh instance watching `rx`; `params` (EPIOCSPARAMS) when given.
    pub fn new(tx: BorrowedFd<'a>, rx: BorrowedFd<'a>, params: Option<EpollParams>) -> Result<Self, String> {
        let ep = epoll_params::epoll().map_err(|e| format!("failed to create an epoll instance: {e}"))?;
        if let Some(p) = params {
            epoll_params::set(ep.as_fd(), &p).map_err(|e| format!("failed to set {p:?} (EPIOCSPARAMS): {e}"))?;
        }
        add_in(ep.as_fd(), rx, 1).map_err(|e| format!("failed to add the receiver to the epoll instance: {e}"))?;
        Ok(Self { ep, tx, rx })
    }

    /// Feed one datagram and wait for it (`arrived`: how many events that wait returned).
    pub fn feed(&self) -> Result<usize, String> {
        nix::unistd::write(self.tx, b"bp").map_err(|e| format!("failed to send a datagram: {e}"))?;
        let got = wait(self.ep.as_fd(), 8, ARRIVAL_MS).map_err(|e| format!("failed to epoll_wait: {e}"))?;
        if got.is_empty() {
            return Err(format!("the datagram did not arrive within {ARRIVAL_MS} ms"));
        }
        let mut buf = [0u8; 64];
        while recv(self.rx.as_raw(), &mut buf, MsgFlags::MSG_DONTWAIT).is_ok() {}
        Ok(got.len())
    }

    /// One round: feed a datagram, then the CPU time of an epoll_wait of `timeout_ms` that must
    /// find nothing.
    pub fn round(&self, timeout_ms: i32) -> Result<Duration, String> {
        self.feed()?;
        let before = thread_cpu();
        let got = wait(self.ep.as_fd(), 8, timeout_ms).map_err(|e| format!("failed to epoll_wait: {e}"))?;
        let cpu = thread_cpu().saturating_sub(before);
        if !got.is_empty() {
            return Err("an event arrived during the wait meant to be empty".into());
        }
        Ok(cpu)
    }
}

trait AsRaw {
    fn as_raw(&self) -> i32;
}

impl AsRaw for BorrowedFd<'_> {
    fn as_raw(&self) -> i32 {
        std::os::fd::AsRawFd::as_raw_fd(self)
    }
}

/// Median, min and max of a set of CPU times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
    pub n: usize,
}

impl Summary {
    pub fn of(samples: &[Duration]) -> Self {
        let mut v = samples.to_vec();
        v.sort();
        let n = v.len();
        let pick = |i: usize| v.get(i).copied().unwrap_or_default();
        Self { median: pick(n / 2), min: pick(0), max: pick(n.saturating_sub(1)), n }
    }

    /// The median in microseconds.
    pub fn us(&self) -> f64 {
        self.median.as_secs_f64() * 1e6
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "median {:.3} ms CPU (min {:.3}, max {:.3}, {} waits)",
            ms(self.median),
            ms(self.min),
            ms(self.max),
            self.n
        )
    }
}

/// The CPU time of a user-space spin that lasts `usecs` of the guest's monotonic clock: what a
/// busy poll of `usecs` costs when nothing else does (both are charged the host's steal alike).
pub fn spin(usecs: u32) -> Duration {
    let clock =
        || nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).map(Duration::from).unwrap_or_default();
    let (start, before) = (clock(), thread_cpu());
    let until = start + Duration::from_micros(u64::from(usecs));
    while clock() < until {
        std::hint::spin_loop();
    }
    thread_cpu().saturating_sub(before)
}

/// Per-round CPU samples of each waiter and of each reference spin, taken in the same rounds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    pub waiters: Vec<Vec<Duration>>,
    pub spins: Vec<Vec<Duration>>,
}

impl Measured {
    pub fn waiter(&self, i: usize) -> Summary {
        Summary::of(&self.waiters[i])
    }
}

/// `rounds` rounds on each waiter, interleaved (so host load hits them alike), each round also
/// timing a reference spin of every duration in `spins` (see [`spin`]).
pub fn interleaved(waiters: &[&Waiter<'_>], rounds: usize, timeout_ms: i32, spins: &[u32]) -> Result<Measured, String> {
    let mut m = Measured {
        waiters: vec![Vec::with_capacity(rounds); waiters.len()],
        spins: vec![Vec::with_capacity(rounds); spins.len()],
    };
    for _ in 0..rounds {
        for (w, s) in waiters.iter().zip(m.waiters.iter_mut()) {
            s.push(w.round(timeout_ms)?);
        }
        for (&usecs, s) in spins.iter().zip(m.spins.iter_mut()) {
            s.push(spin(usecs));
        }
    }
    Ok(m)
}

/// The median over rounds of `busy[i] / reference[i]`: how a busy poll's CPU compares with a
/// spin of the time it should take, each pair measured moments apart.
pub fn median_ratio(busy: &[Duration], reference: &[Duration]) -> f64 {
    let mut r: Vec<f64> =
        busy.iter().zip(reference).map(|(b, s)| b.as_secs_f64() / s.as_secs_f64().max(1e-9)).collect();
    r.sort_by(f64::total_cmp);
    r.get(r.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_picks_the_middle() {
        let d = |us| Duration::from_micros(us);
        let s = Summary::of(&[d(5), d(1), d(9), d(3), d(7)]);
        assert_eq!((s.median, s.min, s.max, s.n), (d(5), d(1), d(9), 5));
        assert_eq!(Summary::of(&[]).n, 0);
        assert!(s.to_string().starts_with("median 0.005 ms CPU"));
    }

    #[test]
    fn ratios_pair_rounds() {
        let d = Duration::from_micros;
        assert_eq!(median_ratio(&[d(10), d(30), d(20)], &[d(10), d(10), d(10)]), 2.0);
        assert_eq!(median_ratio(&[], &[]), 0.0);
    }

    #[test]
    fn a_spin_lasts_its_time_and_is_charged_cpu() {
        let t0 = std::time::Instant::now();
        let cpu = spin(2000);
        assert!(t0.elapsed() >= Duration::from_micros(2000), "it spins at least its time");
        // The thread may be preempted meanwhile (a loaded host), so CPU can fall short of it.
        assert!(cpu > Duration::ZERO && cpu <= t0.elapsed(), "{cpu:?}");
    }
}
