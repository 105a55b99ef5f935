//! userpollbench: events per second taken from an EPOLL_USERPOLL ring versus with epoll_wait, on
//! the same workload in the same VM, for `pollcheck bench userpoll` (never a conformance verdict:
//! the only assertion is that every event was harvested). Results are `bench: <key>=<value>` lines.
//!
//! Workload per round: one write to each of 256 eventfds, then the harvest of the 256
//! edge-triggered events: from the ring of a USERPOLL epoll, or with epoll_wait(buffer of 256,
//! timeout 0) on a classic epoll watching its own 256 eventfds. Two rates per side: the harvest
//! alone (what the ring saves: no syscall, no copy) and the whole round (the writes too, where the
//! kernel publishes to the ring or queues on the ready list).

use crate::sys::userpoll::{self, Ring};
use crate::userpoll::{fresh, IN_ET};
use pollcheck_guest::{Case, CaseResult, Ctx, Stop};
use pollcheck_proto::Feature;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

pub const SUITE: &str = "userpollbench";

const FDS: usize = 256;
const ROUNDS: usize = 200;
const TRIALS: usize = 5;

pub fn cases() -> Vec<Case> {
    // It measures, it checks nothing, but it cannot run without EPOLL_USERPOLL.
    Case::new(
        SUITE,
        "ring_vs_epoll_wait",
        "events/s harvested from the ring and with epoll_wait on the same workload, and their ratio",
        bench,
    )
    .features(&[Feature::Userpoll])
    .timeout(Duration::from_secs(120))
    .hidden()
    .build()
}

/// Time spent in one trial: harvesting only, and whole rounds (writes + harvest).
#[derive(Debug, Default, Clone, Copy)]
struct Spent {
    events: u64,
    harvest: Duration,
    round: Duration,
}

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

/// ROUNDS rounds of: write every eventfd, then `harvest` until all FDS events are in (it returns
/// how many events it took, or None when it found nothing left).
fn trial(
    ctx: &mut Ctx<'_>,
    fds: &[OwnedFd],
    mut harvest: impl FnMut(&mut Ctx<'_>) -> Result<Option<usize>, Stop>,
) -> Result<Spent, Stop> {
    let mut s = Spent::default();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        kick(ctx, fds)?;
        let t = Instant::now();
        let mut got = 0;
        while got < FDS {
            match harvest(ctx)? {
                None => break,
                Some(n) => got += n,
            }
        }
        s.harvest += t.elapsed();
        s.round += start.elapsed();
        s.events += got as u64;
    }
    Ok(s)
}

fn ring_trial(ctx: &mut Ctx<'_>, ring: &Ring, fds: &[OwnedFd]) -> Result<Spent, Stop> {
    let mut batch = Vec::with_capacity(FDS);
    trial(ctx, fds, |_| {
        batch.clear();
        // Entries of removed items (events 0) don't count.
        Ok((ring.consume(&mut batch) != 0).then(|| batch.iter().filter(|e| e.events != 0).count()))
    })
}

fn wait_trial(ctx: &mut Ctx<'_>, ep: &OwnedFd, fds: &[OwnedFd]) -> Result<Spent, Stop> {
    let mut buf = vec![libc::epoll_event { events: 0, u64: 0 }; FDS];
    trial(ctx, fds, |ctx| {
        let n = ctx.setup(userpoll::wait_buf(ep.as_fd(), &mut buf, 0), "epoll_wait")?;
        Ok((n != 0).then_some(n))
    })
}

fn rate(events: u64, spent: Duration) -> f64 {
    events as f64 / spent.as_secs_f64().max(1e-9)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench(ctx: &mut Ctx<'_>) -> CaseResult {
    let (uep, ring) = fresh(ctx, FDS)?;
    let ufds = eventfds(ctx, &uep)?;
    let cep = ctx.setup(userpoll::epoll_create1(libc::EPOLL_CLOEXEC), "epoll_create1")?;
    let cfds = eventfds(ctx, &cep)?;
    let want = (FDS * ROUNDS) as u64;
    let (mut rings, mut waits) = (Vec::new(), Vec::new());
    for trial in 0..TRIALS {
        // Alternate which side goes first so a slow phase of the machine hits both alike.
        let (r, w) = if trial % 2 == 0 {
            let r = ring_trial(ctx, &ring, &ufds)?;
            (r, wait_trial(ctx, &cep, &cfds)?)
        } else {
            let w = wait_trial(ctx, &cep, &cfds)?;
            (ring_trial(ctx, &ring, &ufds)?, w)
        };
        ctx.assert_eq(r.events, want, format!("trial {trial}: events harvested from the ring"))?;
        ctx.assert_eq(w.events, want, format!("trial {trial}: events harvested with epoll_wait"))?;
        ctx.log(format!(
            "trial {trial}: harvest ring {:.0}/s, epoll_wait {:.0}/s; whole round ring {:.0}/s, epoll_wait {:.0}/s",
            rate(r.events, r.harvest),
            rate(w.events, w.harvest),
            rate(r.events, r.round),
            rate(w.events, w.round)
        ));
        rings.push(r);
        waits.push(w);
    }
    let med = |v: &[Spent], f: fn(&Spent) -> Duration| median(v.iter().map(|s| rate(s.events, f(s))).collect());
    let ratios = |f: fn(&Spent) -> Duration| {
        median(rings.iter().zip(&waits).map(|(r, w)| rate(r.events, f(r)) / rate(w.events, f(w))).collect())
    };
    ctx.log(format!("{TRIALS} trials of {FDS} eventfds x {ROUNDS} rounds; medians:"));
    ctx.log(format!("bench: ring_harvest_events_per_s={:.0}", med(&rings, |s| s.harvest)));
    ctx.log(format!("bench: epoll_wait_harvest_events_per_s={:.0}", med(&waits, |s| s.harvest)));
    ctx.log(format!("bench: harvest_ratio_ring_over_epoll_wait={:.2}", ratios(|s| s.harvest)));
    ctx.log(format!("bench: ring_round_events_per_s={:.0}", med(&rings, |s| s.round)));
    ctx.log(format!("bench: epoll_wait_round_events_per_s={:.0}", med(&waits, |s| s.round)));
    ctx.log(format!("bench: round_ratio_ring_over_epoll_wait={:.2}", ratios(|s| s.round)));
    Ok(())
}
