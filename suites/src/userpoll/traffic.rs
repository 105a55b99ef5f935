//! Events consumed through the ring alone while real traffic flows: TCP streams from netns A to
//! netns B over the test network, so every publish comes from the NIC's NAPI (softirq) path.

use super::{fresh, require_userpoll};
use crate::netkit::fixture::topology;
use crate::netkit::Kind;
use crate::sys::userpoll::{self, Entry, Ring, EPOLLREMOVED};
use pollcheck_guest::{CaseResult, Ctx, Errno};
use std::io::{Read, Write};
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

const STREAMS: usize = 4;
const BYTES_PER_STREAM: usize = 512 * 1024;
const CHUNK: usize = 4096;
const PORT: u16 = 7300;
/// The events each stream is watched for.
const WATCH: u32 = (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

/// What the consumer saw of one stream.
#[derive(Debug, Default, Clone)]
struct Seen {
    bytes: usize,
    eof: bool,
    entries: u64,
    /// A byte that broke the sender's pattern (offset), if any.
    corrupt_at: Option<usize>,
    /// A read that failed other than by would-block.
    error: Option<String>,
}

#[derive(Debug, Default)]
struct Tally {
    entries: u64,
    empty_entries: u64,
    removed: u64,
    unknown: u64,
    waits: u64,
    estale: u64,
    positive_waits: Vec<i32>,
}

pub(super) fn ring_traffic(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    require_userpoll(ctx)?;
    let topo = topology(ctx, kind, None)?;
    let (ep, ring) = fresh(ctx, 64)?;
    let at = SocketAddr::V4(SocketAddrV4::new(topo.b.addr, PORT));
    let listener = ctx.setup(topo.b.ns.run(move || TcpListener::bind(at)), "enter B's namespace")?;
    let listener = ctx.setup(listener, &format!("listen on {at}"))?;
    let senders = ctx.setup(
        topo.a.ns.run(move || (0..STREAMS).map(|_| TcpStream::connect(at)).collect::<Result<Vec<_>, _>>()),
        "enter A's namespace",
    )?;
    let senders = ctx.setup(senders, &format!("connect {STREAMS} streams from A to {at}"))?;
    let mut receivers = Vec::with_capacity(STREAMS);
    for i in 0..STREAMS {
        let (s, _) = ctx.setup(listener.accept(), "accept a stream in B")?;
        ctx.setup(s.set_nonblocking(true), "make the receiving socket non-blocking")?;
        ctx.assert_ok(
            userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, s.as_fd(), WATCH, i as u64),
            format!("EPOLL_CTL_ADD of stream {i} (EPOLLIN|EPOLLRDHUP|EPOLLET)"),
        )?;
        receivers.push(s);
    }
    let start = Instant::now();
    let writers: Vec<_> = senders.into_iter().map(|s| std::thread::spawn(move || send(s))).collect();
    let (mut seen, tally) = consume(&ring, &ep, &mut receivers, start + Duration::from_secs(60));
    let elapsed = start.elapsed();
    let mut send_err = Vec::new();
    for (i, w) in writers.into_iter().enumerate() {
        match w.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => send_err.push(format!("stream {i}: {e}")),
            Err(_) => send_err.push(format!("stream {i}: the sender panicked")),
        }
    }
    // Closing the senders may make new edges (the peer's close) after the consumer stopped:
    // entries for them are legitimate but must still carry events and announce no new bytes.
    std::thread::sleep(Duration::from_millis(100));
    let mut late = Vec::new();
    ring.consume(&mut late);
    let before: Vec<usize> = seen.iter().map(|s| s.bytes).collect();
    let mut buf = vec![0u8; 4096];
    for e in &late {
        if let Some(i) = usize::try_from(e.data).ok().filter(|&i| i < receivers.len()) {
            drain(&mut receivers[i], &mut seen[i], &mut buf);
        }
    }
    let total: usize = seen.iter().map(|s| s.bytes).sum();
    ctx.log(format!("after the senders closed: {late:?}"));
    ctx.log(format!(
        "{total} bytes on {STREAMS} streams in {elapsed:?} ({}); {tally:?}; per stream {seen:?}",
        topo.description
    ));
    ctx.assert(send_err.is_empty(), "every sender wrote its bytes and closed", format!("{send_err:?}"))?;
    ctx.assert(
        tally.positive_waits.is_empty(),
        "epoll_wait(NULL, 0) never returned a positive count",
        format!("{:?}", tally.positive_waits),
    )?;
    ctx.expect(tally.empty_entries == 0, "no entry without events (no duplicate)", format!("{tally:?}"));
    ctx.expect(tally.removed == 0 && tally.unknown == 0, "no removed or unknown item", format!("{tally:?}"));
    ctx.expect(seen.iter().all(|s| s.error.is_none()), "every read succeeded or would block", format!("{seen:?}"));
    ctx.expect(
        seen.iter().all(|s| s.corrupt_at.is_none()),
        "every stream's bytes arrived in the sender's order",
        format!("{seen:?}"),
    );
    let short: Vec<_> = seen.iter().enumerate().filter(|(_, s)| s.bytes != BYTES_PER_STREAM || !s.eof).collect();
    ctx.assert(
        short.is_empty(),
        format!("every stream's {BYTES_PER_STREAM} bytes and its end were learnt from the ring alone"),
        format!("(stream, seen): {short:?}"),
    )?;
    ctx.expect(
        late.iter().all(|e| e.events != 0 && e.events != EPOLLREMOVED && (e.data as usize) < STREAMS),
        "entries after the senders closed carry events of known streams",
        format!("{late:?}"),
    );
    let after: Vec<usize> = seen.iter().map(|s| s.bytes).collect();
    ctx.assert_eq(after, before, "no bytes after every stream had ended")
}

/// The byte at `offset` of every stream.
fn pattern(offset: usize) -> u8 {
    (offset % 251) as u8
}

fn send(mut s: TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; CHUNK];
    let mut off = 0;
    while off < BYTES_PER_STREAM {
        let n = CHUNK.min(BYTES_PER_STREAM - off);
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern(off + k);
        }
        s.write_all(&buf[..n])?;
        off += n;
    }
    s.shutdown(std::net::Shutdown::Write)
}

/// Take ring entries and read what they announce until every stream ended or `deadline`.
fn consume(ring: &Ring, ep: &OwnedFd, streams: &mut [TcpStream], deadline: Instant) -> (Vec<Seen>, Tally) {
    let mut seen = vec![Seen::default(); streams.len()];
    let mut tally = Tally::default();
    let mut batch: Vec<Entry> = Vec::with_capacity(64);
    let mut buf = vec![0u8; 64 * 1024];
    while !seen.iter().all(|s| s.eof) && Instant::now() < deadline {
        batch.clear();
        if ring.consume(&mut batch) == 0 {
            tally.waits += 1;
            match userpoll::wait_null(ep.as_fd(), 1000) {
                Ok(0) | Err(Errno::EINTR) => {}
                Ok(n) => tally.positive_waits.push(n),
                Err(Errno::ESTALE) => tally.estale += 1,
                Err(_) => {}
            }
            continue;
        }
        for e in &batch {
            tally.entries += 1;
            if e.events == 0 {
                tally.empty_entries += 1;
                continue;
            }
            if e.events == EPOLLREMOVED {
                tally.removed += 1;
                continue;
            }
            let Some(i) = usize::try_from(e.data).ok().filter(|&i| i < streams.len()) else {
                tally.unknown += 1;
                continue;
            };
            seen[i].entries += 1;
            drain(&mut streams[i], &mut seen[i], &mut buf);
        }
    }
    (seen, tally)
}

/// Read a stream until it would block (edge-triggered) or ends, checking the pattern.
fn drain(s: &mut TcpStream, seen: &mut Seen, buf: &mut [u8]) {
    loop {
        match s.read(buf) {
            Ok(0) => {
                seen.eof = true;
                return;
            }
            Ok(n) => {
                if seen.corrupt_at.is_none() {
                    seen.corrupt_at = (0..n).find(|&k| buf[k] != pattern(seen.bytes + k)).map(|k| seen.bytes + k);
                }
                seen.bytes += n;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(e) => {
                seen.error = Some(e.to_string());
                return;
            }
        }
    }
}
