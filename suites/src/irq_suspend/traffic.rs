//! Paced traffic: a thread sending one datagram every `every` on A's flow until stopped; and a
//! single marked datagram sent later, for measuring a wake-up.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The payload of a wake-up marker; paced datagrams carry their sequence number (8 bytes).
pub const MARKER: &[u8] = b"wake-up marker";

#[derive(Debug)]
pub struct Pacer {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    handle: Option<JoinHandle<()>>,
}

impl Pacer {
    /// Start sending on a clone of `tx`.
    pub fn start(tx: &UdpSocket, every: Duration) -> std::io::Result<Self> {
        let tx = tx.try_clone()?;
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), sent.clone());
        let handle = std::thread::spawn(move || {
            let mut next = Instant::now();
            let mut seq = 0u64;
            while !s.load(Ordering::Relaxed) {
                if tx.send(&seq.to_be_bytes()).is_ok() {
                    n.fetch_add(1, Ordering::Relaxed);
                }
                seq += 1;
                next += every;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    next = now;
                }
            }
        });
        Ok(Self { stop, sent, handle: Some(handle) })
    }

    /// Datagrams sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Stop sending; the total sent.
    pub fn stop(mut self) -> u64 {
        self.halt();
        self.sent()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.halt();
    }
}

/// When a marker went out, and the flow's IRQ count just before.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub at: Instant,
    pub irqs_before: u64,
}

/// Send [`MARKER`] on a clone of `tx` after `delay`, from another thread; `irqs` reads the IRQ
/// count just before the send.
pub fn marker_after(
    tx: &UdpSocket,
    delay: Duration,
    irqs: impl FnOnce() -> u64 + Send + 'static,
) -> std::io::Result<JoinHandle<std::io::Result<Sent>>> {
    let tx = tx.try_clone()?;
    Ok(std::thread::spawn(move || {
        std::thread::sleep(delay);
        let irqs_before = irqs();
        let at = Instant::now();
        tx.send(MARKER)?;
        Ok(Sent { at, irqs_before })
    }))
}
