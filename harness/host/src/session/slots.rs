//! Guest slots: how many guests may run at once, shared by every session that takes from it
//! (one session's guests, or every kernel's in a matrix). A free slot goes to the waiting
//! request with the largest claim (a session's expected work left per guest, see
//! [`claim`]), so a matrix starts its longest kernels first and gives a kernel a second guest
//! only while that beats starting another kernel. Slots made for a known number of sessions
//! hand out nothing until each of them has arrived (prepared, or failed to), so the claims of
//! kernels whose initramfs took longer to write are weighed too.

use std::sync::{Condvar, Mutex};

/// A counting semaphore of guest slots, handed out by claim.
#[derive(Debug)]
pub struct Slots {
    state: Mutex<State>,
    freed: Condvar,
    total: usize,
}

#[derive(Debug)]
struct State {
    free: usize,
    /// Sessions still to arrive before any slot is handed out.
    to_arrive: usize,
    next_ticket: u64,
    /// Requests waiting: (ticket, claim).
    waiting: Vec<(u64, u64)>,
}

/// A taken slot, given back when dropped.
#[derive(Debug)]
pub struct Slot<'a>(&'a Slots);

/// How much a session wants one more guest: the milliseconds of cases it has queued, shared
/// among the guests it already runs and the one asked for (pure). A session without a guest
/// claims all its work, so in a matrix a kernel's first guest comes before another kernel's
/// second unless that other kernel has over twice the work left.
pub fn claim(queued_ms: u64, running: usize) -> u64 {
    queued_ms / (running as u64 + 1)
}

impl Slots {
    pub fn new(total: usize) -> Self {
        Self::for_sessions(total, 0)
    }

    /// Slots that wait for `sessions` sessions to arrive ([`Arrival`]) before handing any out.
    pub fn for_sessions(total: usize, sessions: usize) -> Self {
        let total = total.max(1);
        let state = State { free: total, to_arrive: sessions, next_ticket: 0, waiting: Vec::new() };
        Self { state: Mutex::new(state), freed: Condvar::new(), total }
    }

    /// A session's arrival, counted when it is dropped or [`Arrival::arrive`]d.
    pub fn arrival(&self) -> Arrival<'_> {
        Arrival(Some(self))
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// Waits for a free slot, taking it once no waiting request claims more (equal claims in
    /// the order they asked).
    pub fn take(&self, claim: u64) -> Slot<'_> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = st.next_ticket;
        st.next_ticket += 1;
        st.waiting.push((ticket, claim));
        while st.free == 0 || st.to_arrive > 0 || first(&st.waiting) != Some(ticket) {
            st = self.freed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        st.waiting.retain(|&(t, _)| t != ticket);
        st.free -= 1;
        if st.free > 0 {
            self.freed.notify_all();
        }
        Slot(self)
    }
}

/// The ticket served next: the largest claim, the earliest ticket among equals.
fn first(waiting: &[(u64, u64)]) -> Option<u64> {
    waiting.iter().max_by_key(|&&(t, c)| (c, std::cmp::Reverse(t))).map(|&(t, _)| t)
}

/// A session on its way: it arrives when it is ready to ask for slots, or when it is dropped
/// (the session failed before that).
#[derive(Debug)]
pub struct Arrival<'a>(Option<&'a Slots>);

impl Arrival<'_> {
    pub fn arrive(mut self) {
        self.count();
    }

    fn count(&mut self) {
        if let Some(slots) = self.0.take() {
            let mut st = slots.state.lock().unwrap_or_else(|p| p.into_inner());
            st.to_arrive = st.to_arrive.saturating_sub(1);
            slots.freed.notify_all();
        }
    }
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        self.count();
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut st = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        st.free += 1;
        self.0.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn never_more_than_total_at_once() {
        let slots = Slots::new(2);
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for i in 0..6 {
                let (slots, now, most) = (&slots, &now, &most);
                s.spawn(move || {
                    let _slot = slots.take(i);
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    now.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(Slots::new(0).total(), 1);
    }

    #[test]
    fn a_freed_slot_goes_to_the_largest_claim_waiting() {
        let slots = Slots::new(1);
        let order = Mutex::new(Vec::new());
        let held = slots.take(0);
        std::thread::scope(|s| {
            for (k, claim) in [10, 30, 20].into_iter().enumerate() {
                let (slots, order) = (&slots, &order);
                s.spawn(move || {
                    let _slot = slots.take(claim);
                    order.lock().expect("order lock").push(claim);
                });
                // Each request is waiting before the next is made.
                while slots.state.lock().expect("slots lock").waiting.len() <= k {
                    std::thread::yield_now();
                }
            }
            drop(held);
        });
        assert_eq!(*order.lock().expect("order lock"), [30, 20, 10]);
    }

    #[test]
    fn nothing_is_handed_out_before_every_session_arrived() {
        let slots = Slots::for_sessions(2, 2);
        let taken = AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                let _slot = slots.take(1);
                taken.fetch_add(1, Ordering::SeqCst);
            });
            slots.arrival().arrive();
            std::thread::sleep(Duration::from_millis(30));
            assert_eq!(taken.load(Ordering::SeqCst), 0, "one session still to arrive");
            drop(slots.arrival());
        });
        assert_eq!(taken.load(Ordering::SeqCst), 1, "a session that failed counts as arrived");
    }

    #[test]
    fn a_kernel_without_a_guest_claims_all_its_work() {
        assert_eq!(claim(40_000, 0), 40_000);
        assert_eq!(claim(40_000, 1), 20_000, "a second guest halves it");
        assert!(claim(50_000, 1) < claim(30_000, 0), "another kernel's first guest comes first");
        assert!(claim(70_000, 1) > claim(30_000, 0), "unless this one has over twice the work left");
    }
}
