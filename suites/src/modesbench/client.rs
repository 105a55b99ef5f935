//! The open-loop client on A: request i is due at `t0 + i / rate`, fixed before the run, and is
//! sent at once when the client is late; its latency runs from that *scheduled* time to its
//! reply (matched by sequence number), so a stall of the server or of the guest shows up in
//! every request it delayed instead of only in the one that met it (coordinated omission).
//! Requests of the warm-up are sent and answered but not measured; the counters are read when
//! the measured window opens (its first request is due) and closes (the next would be due).

use super::counters::{Counters, Snapshot};
use hdrhistogram::Histogram;
use nix::poll::{ppoll, PollFd, PollFlags};
use nix::sys::time::TimeSpec;
use std::io::ErrorKind;
use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// Longest latency the histogram holds (ns); longer ones count as this.
const MAX_NS: u64 = 60_000_000_000;
/// How long replies are awaited after the window closed: at least this, or 20 intervals.
const DRAIN: Duration = Duration::from_millis(300);

/// One offered rate.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub rate: f64,
    pub warmup: Duration,
    pub window: Duration,
    /// Tags this load's requests, so late replies to an earlier load are not taken for these.
    pub tag: u32,
}

/// What the client saw of one load.
#[derive(Debug)]
pub struct Measured {
    pub sent: u64,
    pub received: u64,
    /// Latency of each measured reply, ns.
    pub latency: Histogram<u64>,
    /// How late the client itself sent measured requests, at worst.
    pub max_send_lag: Duration,
    pub window: (Snapshot, Snapshot),
}

/// The schedule of one load: when request i is due, and which requests are measured.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub t0: Instant,
    pub rate: f64,
    pub warm: u64,
    pub total: u64,
}

impl Schedule {
    pub fn new(load: &Load, t0: Instant) -> Self {
        let warm = (load.warmup.as_secs_f64() * load.rate).round() as u64;
        let measured = ((load.window.as_secs_f64() * load.rate).round() as u64).max(1);
        Self { t0, rate: load.rate, warm, total: warm + measured }
    }

    pub fn due(&self, i: u64) -> Instant {
        self.t0 + Duration::from_secs_f64(i as f64 / self.rate)
    }

    /// The measured request's index in the window, if `seq` is one.
    pub fn measured(&self, seq: u64) -> Option<usize> {
        (self.warm..self.total).contains(&seq).then(|| (seq - self.warm) as usize)
    }

    /// When replies stop being awaited.
    pub fn deadline(&self) -> Instant {
        self.due(self.total) + DRAIN.max(Duration::from_secs_f64(20.0 / self.rate))
    }
}

pub fn encode(tag: u32, seq: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&seq.to_le_bytes());
    b[8..12].copy_from_slice(&tag.to_le_bytes());
    b[12..].copy_from_slice(b"mode");
    b
}

pub fn decode(b: &[u8]) -> Option<(u32, u64)> {
    if b.len() != 16 || &b[12..] != b"mode" {
        return None;
    }
    let seq = u64::from_le_bytes(b[..8].try_into().ok()?);
    let tag = u32::from_le_bytes(b[8..12].try_into().ok()?);
    Some((tag, seq))
}

/// The client's state through one load.
struct Run<'a> {
    sock: &'a UdpSocket,
    sched: Schedule,
    tag: u32,
    next: u64,
    got: Vec<bool>,
    m: Measured,
    opened: Option<Snapshot>,
    closed: Option<Snapshot>,
}

/// Offer `load` on `sock` (connected to the server), reading `counters` around the window.
pub fn offer(sock: &UdpSocket, load: &Load, counters: &mut Counters) -> Result<Measured, String> {
    sock.set_nonblocking(true).map_err(|e| format!("failed to make the client socket non-blocking: {e}"))?;
    let latency = Histogram::new_with_bounds(1, MAX_NS, 3).map_err(|e| format!("failed to make a histogram: {e}"))?;
    let sched = Schedule::new(load, Instant::now() + Duration::from_millis(2));
    let first = counters.snapshot();
    let m = Measured { sent: 0, received: 0, latency, max_send_lag: Duration::ZERO, window: (first.clone(), first) };
    let got = vec![false; (sched.total - sched.warm) as usize];
    let mut run = Run { sock, sched, tag: load.tag, next: 0, got, m, opened: None, closed: None };
    loop {
        let now = Instant::now();
        run.send_due(now, counters)?;
        if run.next >= sched.total && run.closed.is_none() && now >= sched.due(sched.total) {
            run.closed = Some(counters.snapshot());
        }
        run.take_replies()?;
        let all = run.m.received == run.got.len() as u64;
        if run.closed.is_some() && (all || now >= sched.deadline()) {
            break;
        }
        run.wait(now)?;
    }
    let (Some(a), Some(b)) = (run.opened.take(), run.closed.take()) else {
        return Err("the measured window never opened".into());
    };
    run.m.window = (a, b);
    Ok(run.m)
}

impl Run<'_> {
    fn send_due(&mut self, now: Instant, counters: &mut Counters) -> Result<(), String> {
        while self.next < self.sched.total && self.sched.due(self.next) <= now {
            if self.next == self.sched.warm {
                self.opened = Some(counters.snapshot());
            }
            let lag = Instant::now().saturating_duration_since(self.sched.due(self.next));
            match self.sock.send(&encode(self.tag, self.next)) {
                Ok(_) => {}
                // A full socket buffer drops the request: it shows as lost.
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("send of request {} failed: {e}", self.next)),
            }
            if self.sched.measured(self.next).is_some() {
                self.m.sent += 1;
                self.m.max_send_lag = self.m.max_send_lag.max(lag);
            }
            self.next += 1;
        }
        Ok(())
    }

    fn take_replies(&mut self) -> Result<(), String> {
        let mut buf = [0u8; 64];
        loop {
            let len = match self.sock.recv(&mut buf) {
                Ok(len) => len,
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => return Ok(()),
                // The server's port unreachable for a moment (ICMP): nothing to count.
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => continue,
                Err(e) => return Err(format!("recv of a reply failed: {e}")),
            };
            let at = Instant::now();
            let Some((tag, seq)) = decode(&buf[..len]) else { continue };
            let Some(i) = self.sched.measured(seq).filter(|_| tag == self.tag) else { continue };
            if !std::mem::replace(&mut self.got[i], true) {
                let ns = at.saturating_duration_since(self.sched.due(seq)).as_nanos() as u64;
                self.m.latency.saturating_record(ns.clamp(1, MAX_NS));
                self.m.received += 1;
            }
        }
    }

    /// Sleep until the next request is due, a reply comes, or the window must close.
    fn wait(&self, now: Instant) -> Result<(), String> {
        let until = if self.next < self.sched.total {
            self.sched.due(self.next)
        } else if self.closed.is_none() {
            self.sched.due(self.sched.total)
        } else {
            self.sched.deadline()
        };
        let left = until.saturating_duration_since(now);
        if left.is_zero() {
            return Ok(());
        }
        let mut fds = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
        match ppoll(&mut fds, Some(TimeSpec::from_duration(left)), None) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
            Err(e) => Err(format!("ppoll on the client socket failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_noise_is_refused() {
        assert_eq!(decode(&encode(7, 123_456)), Some((7, 123_456)));
        assert_eq!(decode(b"short"), None);
        assert_eq!(decode(&[0u8; 16]), None);
    }

    #[test]
    fn the_schedule_is_fixed_in_advance() {
        let t0 = Instant::now();
        let load = Load { rate: 1000.0, warmup: Duration::from_millis(200), window: Duration::from_secs(1), tag: 1 };
        let s = Schedule::new(&load, t0);
        assert_eq!((s.warm, s.total), (200, 1200));
        assert_eq!(s.due(500) - t0, Duration::from_millis(500));
        assert_eq!(
            (s.measured(199), s.measured(200), s.measured(1199), s.measured(1200)),
            (None, Some(0), Some(999), None)
        );
        assert_eq!(s.deadline() - t0, Duration::from_millis(1500));
        let slow = Schedule::new(&Load { rate: 10.0, ..load }, t0);
        assert_eq!(
            slow.deadline() - slow.due(slow.total),
            Duration::from_secs(2),
            "20 intervals when longer than DRAIN"
        );
    }
}
