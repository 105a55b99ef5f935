//! Benchmark (logs numbers, asserts only that every event was harvested): events per second
//! taken from the ring versus from epoll_wait, on the same workload in the same VM.
//!
//! Workload per round: one write to each of 256 eventfds (not timed), then the harvest of the
//! 256 edge-triggered events (timed): from the ring of a USERPOLL epoll, or with
//! epoll_wait(buffer of 256, timeout 0) on a classic epoll watching its own 256 eventfds.

use super::{fresh, CaseDef, IN_ET};
use crate::sys::userpoll::{self, Ring};
use pollcheck_guest::{CaseResult, Ctx, Stop};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

pub(super) const CASES: &[CaseDef] = &[(
    "bench_ring_vs_epoll_wait",
    "logs events/s harvested from the ring and with epoll_wait on the same workload, and their ratio",
    60_000,
    bench,
)];

const FDS: usize = 256;
const ROUNDS: usize = 200;
const TRIALS: usize = 3;

fn eventfds(ctx: &mut Ctx<'_>, ep: &OwnedFd) -> Result<Vec<OwnedFd>, Stop> {
    let mut v = Vec::with_capacity(FDS);
    for i in 0..FDS {
        let fd = ctx.setup(userpoll::eventfd(), "eventfd")?;
        ctx.setup(userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, fd.as_fd(), IN_ET, i as u64), "EPOLL_CTL_ADD")?;
        v.push(fd);
    }
    Ok(v)
}

fn kick(ctx: &mut Ctx<'_>, fds: &[OwnedFd]) -> Result<(), Stop> {
    for fd in fds {
        ctx.setup(userpoll::eventfd_add(fd.as_fd(), 1), "eventfd write")?;
    }
    Ok(())
}

/// (events harvested, time spent harvesting) through the ring.
fn ring_trial(ctx: &mut Ctx<'_>, ring: &Ring, fds: &[OwnedFd]) -> Result<(u64, Duration), Stop> {
    let mut spent = Duration::ZERO;
    let mut events = 0u64;
    let mut batch = Vec::with_capacity(FDS);
    for _ in 0..ROUNDS {
        kick(ctx, fds)?;
        let t = Instant::now();
        let mut got = 0;
        while got < FDS {
            batch.clear();
            let n = ring.consume(&mut batch);
            if n == 0 {
                break;
            }
            got += batch.iter().filter(|e| e.events != 0).count();
        }
        spent += t.elapsed();
        events += got as u64;
    }
    Ok((events, spent))
}

/// (events harvested, time spent harvesting) with epoll_wait.
fn wait_trial(ctx: &mut Ctx<'_>, ep: &OwnedFd, fds: &[OwnedFd]) -> Result<(u64, Duration), Stop> {
    let mut spent = Duration::ZERO;
    let mut events = 0u64;
    let mut buf = vec![libc::epoll_event { events: 0, u64: 0 }; FDS];
    for _ in 0..ROUNDS {
        kick(ctx, fds)?;
        let t = Instant::now();
        let mut got = 0;
        while got < FDS {
            match userpoll::wait_buf(ep.as_fd(), &mut buf, 0) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => return ctx.setup(Err(e), "epoll_wait").map(|()| (0, Duration::ZERO)),
            }
        }
        spent += t.elapsed();
        events += got as u64;
    }
    Ok((events, spent))
}

fn rate(events: u64, spent: Duration) -> f64 {
    events as f64 / spent.as_secs_f64().max(1e-9)
}

fn bench(ctx: &mut Ctx<'_>) -> CaseResult {
    let (uep, ring) = fresh(ctx, FDS)?;
    let ufds = eventfds(ctx, &uep)?;
    let cep = ctx.setup(userpoll::epoll_create1(libc::EPOLL_CLOEXEC), "epoll_create1")?;
    let cfds = eventfds(ctx, &cep)?;
    let (mut ring_rates, mut wait_rates) = (Vec::new(), Vec::new());
    for trial in 0..TRIALS {
        let (re, rs) = ring_trial(ctx, &ring, &ufds)?;
        let (we, ws) = wait_trial(ctx, &cep, &cfds)?;
        let want = (FDS * ROUNDS) as u64;
        ctx.assert_eq(re, want, format!("trial {trial}: events harvested from the ring"))?;
        ctx.assert_eq(we, want, format!("trial {trial}: events harvested with epoll_wait"))?;
        ring_rates.push(rate(re, rs));
        wait_rates.push(rate(we, ws));
        ctx.log(format!(
            "trial {trial}: ring {:.0} events/s ({rs:?}), epoll_wait {:.0} events/s ({ws:?})",
            rate(re, rs),
            rate(we, ws)
        ));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (r, w) = (median(&mut ring_rates), median(&mut wait_rates));
    ctx.log(format!(
        "median of {TRIALS} trials, {FDS} eventfds x {ROUNDS} rounds: ring {r:.0} events/s, epoll_wait {w:.0} events/s, ring/epoll_wait = {:.2}",
        r / w
    ));
    Ok(())
}
