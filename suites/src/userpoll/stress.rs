//! The consumer protocol under concurrent producers: several threads make 100,000 events on many
//! eventfds and stream sockets; the ring consumer must lose none and see no duplicate entry.

use super::{case, fresh, IN_ET};
use crate::sys::userpoll::{self, Entry, EPOLLREMOVED};
use pollcheck_guest::{CaseBuilder, CaseResult, Ctx, Errno};
use std::collections::HashSet;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

pub(super) fn cases() -> Vec<CaseBuilder> {
    vec![case(
        "stress_concurrent_producers",
        "4 threads make 100,000 events on 64 eventfds and 32 sockets: the ring loses none and duplicates none",
        concurrent_producers,
    )
    .timeout(Duration::from_secs(60))]
}

const EVENTFDS: usize = 64;
const SOCKETS: usize = 32;
const THREADS: usize = 4;
const PER_THREAD: usize = 25_000;
const YIELD_EVERY: usize = 8;

/// One watched source: the fd the consumer drains and the fd producers write to.
struct Source {
    read: OwnedFd,
    write: Option<OwnedFd>,
}

fn socketpair() -> Result<(OwnedFd, OwnedFd), Errno> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two fds.
    Errno::result(unsafe {
        libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr())
    })?;
    // SAFETY: two fresh fds from the kernel.
    let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in [&a, &b] {
        // SAFETY: plain fcntl on our fd.
        Errno::result(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) })?;
    }
    Ok((a, b))
}

/// Which source the k-th event of thread t goes to (spread, deterministic).
fn target(t: usize, k: usize) -> usize {
    (t * 7919 + k * 31 + k / 97) % (EVENTFDS + SOCKETS)
}

/// One event; a full socket (its consumer is behind) is retried until `deadline`, so a kernel
/// that loses notifications makes the case fail instead of hanging the producers.
fn produce(fd: BorrowedFd<'_>, socket: bool, deadline: Instant) -> Result<(), Errno> {
    if !socket {
        return userpoll::eventfd_add(fd, 1);
    }
    loop {
        // SAFETY: one readable byte.
        match Errno::result(unsafe { libc::write(fd.as_raw_fd(), b"x".as_ptr().cast(), 1) }) {
            Ok(_) => return Ok(()),
            Err(Errno::EAGAIN) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
            Err(Errno::EAGAIN) => return Err(Errno::ETIMEDOUT),
            Err(e) => return Err(e),
        }
    }
}

/// Drain one source; Ok(events taken) (0: the entry was for an edge already drained).
fn drain(src: &Source, socket: bool) -> Result<u64, Errno> {
    if !socket {
        return match userpoll::eventfd_take(src.read.as_fd()) {
            Ok(n) => Ok(n),
            Err(Errno::EAGAIN) => Ok(0),
            Err(e) => Err(e),
        };
    }
    let mut total = 0u64;
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: `buf` is writable for its length.
        let rc = unsafe { libc::read(src.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        match Errno::result(rc) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(Errno::EAGAIN) => return Ok(total),
            Err(e) => return Err(e),
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    entries: u64,
    empty_drains: u64,
    zero_raw: u64,
    zero_events: u64,
    removed: u64,
    bad_slot: u64,
    dup_in_window: u64,
    batches: u64,
    waits: u64,
}

fn concurrent_producers(ctx: &mut Ctx<'_>) -> CaseResult {
    let n = EVENTFDS + SOCKETS;
    let (ep, ring) = fresh(ctx, 128)?;
    let mut sources = Vec::with_capacity(n);
    for i in 0..n {
        let src = if i < EVENTFDS {
            Source { read: ctx.setup(userpoll::eventfd(), "eventfd")?, write: None }
        } else {
            let (r, w) = ctx.setup(socketpair(), "socketpair")?;
            Source { read: r, write: Some(w) }
        };
        ctx.assert_ok(
            userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, src.read.as_fd(), IN_ET, i as u64),
            format!("EPOLL_CTL_ADD of source {i}"),
        )?;
        sources.push(src);
    }
    let mut want = vec![0u64; n];
    for t in 0..THREADS {
        for k in 0..PER_THREAD {
            want[target(t, k)] += 1;
        }
    }
    let total: u64 = want.iter().sum();
    let write_fds: Vec<RawFd> = sources.iter().map(|s| s.write.as_ref().unwrap_or(&s.read).as_raw_fd()).collect();

    let start = Instant::now();
    let give_up = start + Duration::from_secs(40);
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let fds = write_fds.clone();
            std::thread::spawn(move || -> Result<(), Errno> {
                for k in 0..PER_THREAD {
                    let i = target(t, k);
                    // SAFETY: the fds outlive the producers (joined before `sources` drops).
                    produce(unsafe { BorrowedFd::borrow_raw(fds[i]) }, i >= EVENTFDS, give_up)?;
                    // On one vCPU, yield now and then so the consumer runs between producers'
                    // writes (entries taken while others are being published), not only after.
                    if k % YIELD_EVERY == YIELD_EVERY - 1 {
                        std::thread::yield_now();
                    }
                }
                Ok(())
            })
        })
        .collect();

    let (got, tally, drain_err) = consume(&ring, &ep, &sources, total);
    let elapsed = start.elapsed();
    let mut produce_err = None;
    for p in producers {
        match p.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => produce_err = Some(e.to_string()),
            Err(_) => produce_err = Some("a producer thread panicked".into()),
        }
    }
    // Whatever is left after the producers stopped.
    let (late, late_tally, _) = consume(&ring, &ep, &sources, 0);
    let received: u64 = got.iter().sum::<u64>() + late.iter().sum::<u64>();
    ctx.log(format!(
        "{received}/{total} events in {elapsed:?} ({:.0} events/s): {tally:?}; after the producers: {late_tally:?}",
        received as f64 / elapsed.as_secs_f64()
    ));
    ctx.assert(produce_err.is_none(), "every producer write succeeded", format!("{produce_err:?}"))?;
    ctx.assert(drain_err.is_none(), "every drain succeeded", format!("{drain_err:?}"))?;
    let all = [&tally, &late_tally];
    ctx.expect(all.iter().all(|t| t.zero_raw == 0), "no entry read as 0 (unwritten) under tail", format!("{all:?}"));
    ctx.expect(all.iter().all(|t| t.bad_slot == 0), "every entry names a slot < max_items_nr", format!("{all:?}"));
    ctx.expect(all.iter().all(|t| t.removed == 0), "no EPOLLREMOVED entry (nothing was deleted)", format!("{all:?}"));
    ctx.expect(
        all.iter().all(|t| t.zero_events == 0),
        "no duplicate entry: every entry carried events (ready_events != 0)",
        format!("{all:?}"),
    );
    ctx.expect(
        all.iter().all(|t| t.dup_in_window == 0),
        "no item twice among the unconsumed entries of one batch",
        format!("{all:?}"),
    );
    let per_fd: Vec<u64> = got.iter().zip(&late).map(|(a, b)| a + b).collect();
    let wrong: Vec<_> = (0..n).filter(|&i| per_fd[i] != want[i]).map(|i| (i, per_fd[i], want[i])).collect();
    ctx.assert(
        wrong.is_empty(),
        "every source's events were all received (none lost)",
        format!("(source, got, want): {wrong:?}"),
    )?;
    ctx.assert_eq(received, total, "events received")?;
    ctx.assert_eq(ring.pending(), 0, "the ring is empty at the end")
}

/// Consume until `total` events were drained (or, with total 0, once); 40 s at most.
fn consume(ring: &userpoll::Ring, ep: &OwnedFd, sources: &[Source], total: u64) -> (Vec<u64>, Tally, Option<String>) {
    let mut got = vec![0u64; sources.len()];
    let mut tally = Tally::default();
    let mut received = 0u64;
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut batch: Vec<Entry> = Vec::with_capacity(256);
    loop {
        batch.clear();
        if ring.consume(&mut batch) > 0 {
            tally.batches += 1;
            let mut seen = HashSet::new();
            for e in &batch {
                tally.entries += 1;
                if e.raw == 0 {
                    tally.zero_raw += 1;
                    continue;
                }
                if !seen.insert(e.raw) {
                    tally.dup_in_window += 1;
                }
                if e.events == 0 {
                    tally.zero_events += 1;
                    continue;
                }
                if e.events == EPOLLREMOVED {
                    tally.removed += 1;
                    continue;
                }
                let i = e.data as usize;
                if i >= sources.len() {
                    tally.bad_slot += 1;
                    continue;
                }
                match drain(&sources[i], i >= EVENTFDS) {
                    Ok(0) => tally.empty_drains += 1,
                    Ok(k) => {
                        got[i] += k;
                        received += k;
                    }
                    Err(e) => return (got, tally, Some(format!("draining source {i}: {e}"))),
                }
            }
            continue;
        }
        if received >= total || Instant::now() > deadline {
            return (got, tally, None);
        }
        tally.waits += 1;
        match userpoll::wait_null(ep.as_fd(), 100) {
            Ok(_) | Err(Errno::ESTALE) | Err(Errno::EINTR) => {}
            Err(e) => return (got, tally, Some(format!("epoll_wait(NULL, 0): {e}"))),
        }
    }
}
