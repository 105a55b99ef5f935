//! A pool of N threads, each blocked in `epoll_wait` on its own epoll instance, and the
//! deterministic counting of how many of them one event wakes.
//!
//! Determinism: an event is fired only once every waiter is seen asleep inside epoll_wait
//! (`/proc/self/task/<tid>/stat` state `S` and `/proc/self/task/<tid>/syscall` an epoll_wait
//! number), twice, [`RECHECK`] apart. After firing, a thread counts as woken when it returned
//! from epoll_wait with the source's event, or when it is no longer asleep there (woken, not yet
//! run). Times only bound the waiting; the verdicts are counts.

use crate::sys::epoll_ctl::{self, Op, EPOLLIN};
use crate::sys::task_state;
use nix::errno::Errno;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// epoll data word of the source under test.
pub(super) const SOURCE: u64 = 1;
/// epoll data word of the waiter's own release eventfd (one per waiter, so releasing never
/// depends on how the kernel shares one wakeup among several epolls: the thing under test).
const RELEASE: u64 = 2;

/// How long to wait for every waiter to be asleep, or for a wakeup to show.
pub(super) const DEADLINE: Duration = Duration::from_secs(10);
/// Gap between the two "asleep" samples, and the poll interval while waiting.
const RECHECK: Duration = Duration::from_millis(10);
/// After the expected number woke: how long others get to show up too. A wakeup reaches its
/// waiters in the firing context (ep_poll_callback runs under the source's wake_up: inside the
/// eventfd write, or in the loopback softirq the connect raises before it returns), so every
/// thread an event woke is out of its sleep by the time the event's syscall has returned; the
/// window only covers that softirq and the /proc sampling, ten polls of RECHECK.
pub(super) const SETTLE: Duration = Duration::from_millis(100);

/// What a woken waiter does before it goes back to epoll_wait; None: it leaves the pool.
pub(super) type Consume = Arc<dyn Fn() + Send + Sync>;

/// Per-waiter shared state.
#[derive(Default)]
struct Slot {
    tid: AtomicI32,
    woke: AtomicU32,
    left: AtomicBool,
}

/// N waiting threads; dropping the pool releases and joins them.
pub(super) struct Waiters {
    slots: Arc<Vec<Slot>>,
    releases: Vec<OwnedFd>,
    handles: Vec<JoinHandle<Result<(), Errno>>>,
}

/// How many of the pool an event woke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Woken {
    /// Returned from epoll_wait with the source's event.
    pub returned: usize,
    /// Not returned, but no longer asleep in epoll_wait (woken, not yet run).
    pub runnable: usize,
}

impl Woken {
    pub fn total(&self) -> usize {
        self.returned + self.runnable
    }
}

impl Waiters {
    /// Start `n` waiters. `register(i, epoll)` adds the source to waiter `i`'s fresh epoll
    /// instance (with data [`SOURCE`]); registration happens here, in order, before any thread
    /// starts.
    pub fn start(
        n: usize,
        register: &dyn Fn(usize, BorrowedFd<'_>) -> Result<(), Errno>,
        consume: Option<Consume>,
    ) -> Result<Self, String> {
        let slots: Arc<Vec<Slot>> = Arc::new((0..n).map(|_| Slot::default()).collect());
        let mut epolls = Vec::with_capacity(n);
        let mut releases = Vec::with_capacity(n);
        for i in 0..n {
            let ep = epoll_ctl::epoll().map_err(|e| format!("failed to create epoll instance {i}: {e}"))?;
            let release = epoll_ctl::eventfd().map_err(|e| format!("failed to create release eventfd {i}: {e}"))?;
            register(i, ep.as_fd()).map_err(|e| format!("failed to register the source in epoll instance {i}: {e}"))?;
            epoll_ctl::ctl(ep.as_fd(), Op::Add, release.as_fd(), EPOLLIN, RELEASE)
                .map_err(|e| format!("failed to register the release eventfd in epoll instance {i}: {e}"))?;
            epolls.push(ep);
            releases.push(release);
        }
        let mut handles = Vec::with_capacity(n);
        for (i, ep) in epolls.into_iter().enumerate() {
            let slots = Arc::clone(&slots);
            let consume = consume.clone();
            let h = std::thread::Builder::new()
                .name(format!("waiter-{i}"))
                .spawn(move || waiter(&slots[i], &ep, consume))
                .map_err(|e| format!("failed to spawn waiter thread {i}: {e}"))?;
            handles.push(h);
        }
        Ok(Self { slots, releases, handles })
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Wakeups of each waiter by the source so far.
    pub fn counts(&self) -> Vec<u32> {
        self.slots.iter().map(|s| s.woke.load(Ordering::SeqCst)).collect()
    }

    fn total(&self) -> usize {
        self.counts().iter().map(|&c| c as usize).sum()
    }

    /// Waiters still in the pool that are not asleep in epoll_wait right now.
    fn awake(&self) -> Result<Vec<(usize, String)>, String> {
        let mut awake = Vec::new();
        for (i, s) in self.slots.iter().enumerate() {
            if s.left.load(Ordering::SeqCst) {
                continue;
            }
            let tid = s.tid.load(Ordering::SeqCst);
            if tid == 0 {
                awake.push((i, "not started".to_owned()));
                continue;
            }
            match task_state::read(tid) {
                Ok(st) if st.sleeping_in_epoll_wait() => {}
                Ok(st) => awake.push((i, st.to_string())),
                // A waiter that just returned may be gone from /proc before `left` is seen.
                Err(_) if s.left.load(Ordering::SeqCst) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(awake)
    }

    /// Block until every waiter still in the pool is asleep in epoll_wait (seen twice).
    pub fn all_asleep(&self) -> Result<(), String> {
        let end = Instant::now() + DEADLINE;
        loop {
            if self.awake()?.is_empty() {
                std::thread::sleep(RECHECK);
                if self.awake()?.is_empty() {
                    return Ok(());
                }
            }
            if Instant::now() > end {
                let awake = self.awake()?;
                return Err(format!("waiters not asleep in epoll_wait after {DEADLINE:?}: {awake:?}"));
            }
            std::thread::sleep(RECHECK);
        }
    }

    /// Wait until at least `at_least` source wakeups in total (or the deadline), then [`SETTLE`]
    /// (unless every waiter has returned already: no more can show), then count who woke:
    /// returned with the event, or not returned but no longer asleep.
    pub fn observe(&self, at_least: usize) -> Result<Woken, String> {
        let end = Instant::now() + DEADLINE;
        while self.total() < at_least && Instant::now() < end {
            std::thread::sleep(RECHECK);
        }
        if self.counts().contains(&0) {
            std::thread::sleep(SETTLE);
        }
        let awake: Vec<usize> = self.awake()?.into_iter().map(|(i, _)| i).collect();
        let counts = self.counts();
        let returned = counts.iter().filter(|&&c| c > 0).count();
        let runnable = awake.iter().filter(|&&i| counts[i] == 0).count();
        Ok(Woken { returned, runnable })
    }

    /// Release every waiter still waiting and join them all.
    pub fn stop(mut self) -> Result<(), String> {
        self.release_and_join()
    }

    fn release_and_join(&mut self) -> Result<(), String> {
        if self.handles.is_empty() {
            return Ok(());
        }
        for (i, r) in self.releases.iter().enumerate() {
            epoll_ctl::eventfd_add(r.as_fd(), 1).map_err(|e| format!("failed to release waiter {i}: {e}"))?;
        }
        let mut first_err = None;
        for (i, h) in self.handles.drain(..).enumerate() {
            let r = match h.join() {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => format!("waiter {i}: epoll_wait failed with {e}"),
                Err(_) => format!("waiter {i} panicked"),
            };
            first_err.get_or_insert(r);
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl Drop for Waiters {
    fn drop(&mut self) {
        let _ = self.release_and_join();
    }
}

fn waiter(slot: &Slot, ep: &OwnedFd, consume: Option<Consume>) -> Result<(), Errno> {
    slot.tid.store(nix::unistd::gettid().as_raw(), Ordering::SeqCst);
    let out = loop {
        match epoll_ctl::wait_one(ep.as_fd(), -1) {
            Ok(Some(SOURCE)) => {
                slot.woke.fetch_add(1, Ordering::SeqCst);
                match &consume {
                    Some(c) => c(),
                    None => break Ok(()),
                }
            }
            Ok(Some(_)) => break Ok(()),
            Ok(None) | Err(Errno::EINTR) => {}
            Err(e) => break Err(e),
        }
    };
    slot.left.store(true, Ordering::SeqCst);
    out
}
