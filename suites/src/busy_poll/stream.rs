//! A stream of self-checking datagrams from A to B over several flows on one NAPI, received
//! through the case's epoll instance (whatever busy-poll parameters it carries), and the account
//! of what arrived: every datagram once, in order per flow, intact, with the per-flow digest of
//! the checksums the sender computed.
//!
//! Each datagram is [`payload::datagram`] with sequence `flow << 24 | n`, so a datagram delivered
//! to the wrong flow's socket shows as well as a lost, repeated, reordered or damaged one. The
//! sender keeps at most [`Stream::window`] datagrams in flight (sent, not yet received): far less
//! than a socket's receive buffer, the RX ring or the host's tap queue, so nothing legitimately
//! overflows; a loss shrinks the window, and a sender that finds no room for [`STALL`] stops.

use super::rig::Flow;
use crate::netkit::payload::{self, Check};
use crate::sys::epoll::wait;
use nix::sys::socket::{recv, MsgFlags};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long without progress (no room for the sender, nothing for the receiver) ends the stream.
pub const STALL: Duration = Duration::from_secs(3);

/// The stream's shape.
#[derive(Debug, Clone, Copy)]
pub struct Stream {
    /// Datagrams per flow.
    pub per_flow: u32,
    /// Payload bytes of each datagram.
    pub payload: usize,
    /// Datagrams in flight at most, over all flows.
    pub window: u64,
}

/// What one flow's receiver saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowReport {
    pub intact: u32,
    pub corrupt: u32,
    /// Intact datagrams of another flow.
    pub misdelivered: u32,
    /// Intact datagrams whose number was not the next one expected (earlier: repeated; later:
    /// something before it is missing or comes after).
    pub out_of_order: u32,
    /// Fold of the received datagrams' checksums, in arrival order.
    pub digest: u64,
}

/// The whole stream.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub sent: u64,
    pub flows: Vec<FlowReport>,
    /// Per flow, the digest of what was sent, in sending order.
    pub sent_digest: Vec<u64>,
    pub waits: u64,
    pub empty_waits: u64,
    pub elapsed: Duration,
    /// Why the sender stopped early, if it did.
    pub sender_stopped: Option<String>,
}

impl Report {
    pub fn intact(&self) -> u64 {
        self.flows.iter().map(|f| u64::from(f.intact)).sum()
    }

    pub fn expected(&self, s: &Stream) -> u64 {
        u64::from(s.per_flow) * self.flows.len() as u64
    }

    /// Every datagram arrived once, in order per flow, intact, on its own flow.
    pub fn clean(&self, s: &Stream) -> bool {
        self.sent == self.expected(s)
            && self
                .flows
                .iter()
                .all(|f| f.intact == s.per_flow && f.corrupt == 0 && f.misdelivered == 0 && f.out_of_order == 0)
            && self.digests_match()
    }

    pub fn digests_match(&self) -> bool {
        self.flows.iter().map(|f| f.digest).eq(self.sent_digest.iter().copied())
    }

    /// One line for the log.
    pub fn summary(&self, s: &Stream) -> String {
        let bad: u32 = self.flows.iter().map(|f| f.corrupt + f.misdelivered + f.out_of_order).sum();
        format!(
            "{} of {} datagrams sent, {} intact in order ({} corrupt/misdelivered/out of order) in {} ms; \
             {} epoll_waits ({} empty); digests {}; per flow {:?}{}",
            self.sent,
            self.expected(s),
            self.intact(),
            bad,
            self.elapsed.as_millis(),
            self.waits,
            self.empty_waits,
            if self.digests_match() { "match" } else { "differ" },
            self.flows.iter().map(|f| (f.intact, f.corrupt, f.misdelivered, f.out_of_order)).collect::<Vec<_>>(),
            self.sender_stopped.as_ref().map(|w| format!("; sender stopped: {w}")).unwrap_or_default()
        )
    }
}

fn fold(digest: u64, sum: u64) -> u64 {
    (digest ^ sum).wrapping_mul(0x0100_0000_01b3)
}

/// The checksum field of a datagram made by [`payload::datagram`].
fn checksum(d: &[u8]) -> u64 {
    d.get(8..16).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0)
}

/// Send the stream on `flows` (each registered in `ep` with its index as token) and receive it
/// through `ep` on this thread.
pub fn run(ep: BorrowedFd<'_>, flows: &[Flow], s: Stream) -> Result<Report, String> {
    let received = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let senders: Vec<std::net::UdpSocket> = flows
        .iter()
        .map(|f| f.tx.try_clone().map_err(|e| format!("failed to clone a sender: {e}")))
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    std::thread::scope(|scope| {
        let (rcv, fin) = (Arc::clone(&received), Arc::clone(&done));
        let sender = scope.spawn(move || send_all(&senders, s, &rcv, &fin));
        let mut report = receive(ep, flows, s, &received, &done);
        let (sent, digests, stopped) =
            sender.join().unwrap_or_else(|_| (0, Vec::new(), Some("the sender thread panicked".into())));
        report.sent = sent;
        report.sent_digest = digests;
        report.sender_stopped = stopped;
        report.elapsed = start.elapsed();
        Ok(report)
    })
}

/// The sender: flows in turn, never more than `window` in flight; (sent, digests, why it stopped).
fn send_all(
    tx: &[std::net::UdpSocket],
    s: Stream,
    received: &AtomicU64,
    done: &AtomicBool,
) -> (u64, Vec<u64>, Option<String>) {
    let mut digests = vec![0xcbf2_9ce4_8422_2325; tx.len()];
    let mut sent = 0u64;
    let mut stopped = None;
    'all: for n in 0..s.per_flow {
        for (f, sock) in tx.iter().enumerate() {
            let waited = Instant::now();
            while sent - received.load(Ordering::SeqCst) >= s.window {
                if waited.elapsed() > STALL {
                    stopped = Some(format!(
                        "{} in flight and none received for {} s",
                        sent - received.load(Ordering::SeqCst),
                        STALL.as_secs()
                    ));
                    break 'all;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            let d = payload::datagram((f as u32) << 24 | n, s.payload);
            if let Err(e) = sock.send(&d) {
                stopped = Some(format!("send of flow {f} datagram {n} failed: {e}"));
                break 'all;
            }
            digests[f] = fold(digests[f], checksum(&d));
            sent += 1;
        }
    }
    done.store(true, Ordering::SeqCst);
    (sent, digests, stopped)
}

/// The receiver: epoll_wait on `ep`, drain the flows it names, check each datagram.
fn receive(ep: BorrowedFd<'_>, flows: &[Flow], s: Stream, received: &AtomicU64, done: &AtomicBool) -> Report {
    let mut report = Report {
        flows: vec![FlowReport { digest: 0xcbf2_9ce4_8422_2325, ..Default::default() }; flows.len()],
        ..Default::default()
    };
    let mut next = vec![0u32; flows.len()];
    let mut buf = vec![0u8; s.payload + 64];
    let total = u64::from(s.per_flow) * flows.len() as u64;
    let mut last_progress = Instant::now();
    while received.load(Ordering::SeqCst) < total {
        let finished = done.load(Ordering::SeqCst);
        if last_progress.elapsed() > STALL && (finished || last_progress.elapsed() > 2 * STALL) {
            break;
        }
        let Ok(tokens) = wait(ep, 16, 100) else { continue };
        report.waits += 1;
        if tokens.is_empty() {
            report.empty_waits += 1;
            continue;
        }
        for t in tokens {
            let Some(flow) = flows.get(t as usize) else { continue };
            let fr = &mut report.flows[t as usize];
            while let Ok(len) = recv(flow.rx.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT) {
                received.fetch_add(1, Ordering::SeqCst);
                last_progress = Instant::now();
                match payload::check(&buf[..len]) {
                    Check::Intact(seq) if (seq >> 24) as usize != t as usize => fr.misdelivered += 1,
                    Check::Intact(seq) => {
                        let n = seq & 0x00ff_ffff;
                        if n != next[t as usize] {
                            fr.out_of_order += 1;
                        }
                        next[t as usize] = n + 1;
                        fr.intact += 1;
                        fr.digest = fold(fr.digest, checksum(&buf[..len]));
                    }
                    Check::Corrupt(_) => fr.corrupt += 1,
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_report_needs_every_datagram_in_order_and_the_digests() {
        let s = Stream { per_flow: 2, payload: 8, window: 4 };
        let d: Vec<u64> = (0..2u32)
            .map(|f| (0..2).fold(0xcbf2_9ce4_8422_2325, |h, n| fold(h, checksum(&payload::datagram(f << 24 | n, 8)))))
            .collect();
        let flow = |digest| FlowReport { intact: 2, digest, ..Default::default() };
        let good =
            Report { sent: 4, flows: vec![flow(d[0]), flow(d[1])], sent_digest: d.clone(), ..Default::default() };
        assert!(good.clean(&s));
        let mut lost = good.clone();
        lost.flows[1].intact = 1;
        assert!(!lost.clean(&s));
        let mut swapped = good.clone();
        swapped.flows.swap(0, 1);
        assert!(!swapped.clean(&s));
        let mut late = good;
        late.flows[0].out_of_order = 1;
        assert!(!late.clean(&s));
    }
}
