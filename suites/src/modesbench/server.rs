//! The request/response server on B, pinned to its own vCPU: it echoes each 16-byte request
//! after spinning for the configured processing time. How it waits is the mode's
//! ([`Server`]): epoll_wait over the socket (blocking, or with a timeout as fullbusy's
//! libevent did), a blocking recv() that SO_BUSY_POLL spins inside, or epoll with a second
//! thread polling the NAPI through non-blocking recv(MSG_PEEK) calls.

use super::mode::{EpollBusy, Server};
use crate::napi_threaded::kthread;
use crate::sys::epoll::{add_in, wait};
use crate::sys::epoll_params::{self, params};
use nix::errno::Errno;
use nix::sys::socket::{recv, MsgFlags};
use std::io::ErrorKind;
use std::net::UdpSocket;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a "blocking" wait comes back to look at the stop flag.
const STOP_CHECK_MS: i32 = 500;

/// What the server does and where.
#[derive(Debug, Clone, Copy)]
pub struct Serving {
    pub server: Server,
    pub delay: Duration,
    pub cpu: usize,
}

/// An epoll instance over `sock` with the mode's EPIOCSPARAMS, created before the server starts
/// so that a kernel without the ioctl is found (ENOTTY) before any traffic.
pub fn epoll_for(sock: &UdpSocket, busy: Option<EpollBusy>) -> Result<OwnedFd, Errno> {
    let ep = epoll_params::epoll()?;
    if let Some(b) = busy {
        epoll_params::set(ep.as_fd(), &params(b.usecs, b.budget, u8::from(b.prefer), 0))?;
    }
    add_in(ep.as_fd(), sock.as_fd(), 1)?;
    Ok(ep)
}

/// Serve until `stop`; how many requests were answered.
pub fn serve(sock: &UdpSocket, ep: &OwnedFd, s: Serving, stop: &AtomicBool) -> Result<u64, String> {
    kthread::pin(0, s.cpu).map_err(|e| format!("failed to pin the server to CPU {}: {e}", s.cpu))?;
    match s.server {
        Server::Epoll { timeout_ms } => epoll_loop(sock, ep, timeout_ms, s.delay, stop),
        Server::Recv => recv_loop(sock, s.delay, stop),
        Server::EpollWithPoller => std::thread::scope(|sc| {
            sc.spawn(|| poller(sock, s.cpu, stop));
            epoll_loop(sock, ep, None, s.delay, stop)
        }),
    }
}

fn epoll_loop(
    sock: &UdpSocket,
    ep: &OwnedFd,
    timeout_ms: Option<u32>,
    delay: Duration,
    stop: &AtomicBool,
) -> Result<u64, String> {
    sock.set_nonblocking(true).map_err(|e| format!("failed to make the server socket non-blocking: {e}"))?;
    let timeout = timeout_ms.map_or(STOP_CHECK_MS, |ms| ms as i32);
    let mut served = 0;
    while !stop.load(Ordering::Relaxed) {
        match wait(ep.as_fd(), 8, timeout) {
            Ok(evs) if !evs.is_empty() => served += drain(sock, delay)?,
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(format!("epoll_wait failed: {e}")),
        }
    }
    Ok(served)
}

/// Answer every queued request.
fn drain(sock: &UdpSocket, delay: Duration) -> Result<u64, String> {
    let mut buf = [0u8; 64];
    let mut n = 0;
    loop {
        match sock.recv(&mut buf) {
            Ok(len) => {
                answer(sock, &buf[..len], delay);
                n += 1;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => return Ok(n),
            Err(e) => return Err(format!("recv on the server socket failed: {e}")),
        }
    }
}

fn answer(sock: &UdpSocket, req: &[u8], delay: Duration) {
    if !delay.is_zero() {
        let until = Instant::now() + delay;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }
    // A reply the socket cannot take now is a lost request for the client: counted there.
    let _ = sock.send(req);
}

fn recv_loop(sock: &UdpSocket, delay: Duration, stop: &AtomicBool) -> Result<u64, String> {
    let t = Some(Duration::from_millis(STOP_CHECK_MS as u64));
    sock.set_read_timeout(t).map_err(|e| format!("failed to set SO_RCVTIMEO on the server socket: {e}"))?;
    let mut buf = [0u8; 64];
    let mut served = 0;
    while !stop.load(Ordering::Relaxed) {
        match sock.recv(&mut buf) {
            Ok(len) => {
                answer(sock, &buf[..len], delay);
                served += 1;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(e) => return Err(format!("recv on the server socket failed: {e}")),
        }
    }
    Ok(served)
}

/// Keep polling the socket's NAPI from a thread of its own: a non-blocking recv on an empty
/// socket with SO_BUSY_POLL runs one napi_busy_loop pass (net/ipv4/udp.c __skb_recv_udp);
/// MSG_PEEK leaves what it finds for the server thread.
fn poller(sock: &UdpSocket, cpu: usize, stop: &AtomicBool) {
    let _ = kthread::pin(0, cpu);
    let mut buf = [0u8; 64];
    let fd = sock.as_raw_fd();
    while !stop.load(Ordering::Relaxed) {
        let _ = recv(fd, &mut buf, MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT);
        std::hint::spin_loop();
    }
}
