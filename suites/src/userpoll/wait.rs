//! Waiting on a USERPOLL epoll: epoll_wait(NULL, 0) says ESTALE while the ring holds entries and
//! never returns a count; poll() sees the epfd readable iff the ring is non-empty.

use super::{added_eventfd, case, fresh, IN_ET};
use crate::sys::userpoll::{self};
use pollcheck_guest::{CaseBuilder, CaseResult, Ctx, Errno};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

pub(super) fn cases() -> Vec<CaseBuilder> {
    vec![
        case(
            "wait_estale",
            "epoll_wait(NULL, 0) is ESTALE while head != tail (any timeout), 0 once consumed, never a count",
            estale,
        ),
        case("wait_buffer_einval", "epoll_wait with a buffer (or maxevents > 0) on a USERPOLL epoll is EINVAL", buffer),
        case(
            "wait_wakeup",
            "a blocked epoll_wait(NULL, 0, -1) returns ESTALE when another thread makes an fd ready",
            wakeup,
        )
        .timeout(Duration::from_secs(20)),
        case(
            "wait_poll_readable",
            "poll() on the epfd is POLLIN iff the ring is non-empty, and a publish wakes it",
            poll,
        )
        .timeout(Duration::from_secs(20)),
    ]
}

fn estale(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, ring) = fresh(ctx, 4)?;
    let efd = added_eventfd(ctx, &ep, IN_ET, 1)?;
    ctx.assert_eq(userpoll::wait_null(ep.as_fd(), 0), Ok(0), "an empty ring, timeout 0")?;
    let t = Instant::now();
    ctx.assert_eq(userpoll::wait_null(ep.as_fd(), 50), Ok(0), "an empty ring, timeout 50 ms")?;
    ctx.expect(t.elapsed() >= Duration::from_millis(40), "the 50 ms timeout was waited", format!("{:?}", t.elapsed()));
    ctx.setup(userpoll::eventfd_add(efd.as_fd(), 1), "eventfd write")?;
    ctx.assert_errno(userpoll::wait_null(ep.as_fd(), 0), Errno::ESTALE, "an entry pending, timeout 0")?;
    ctx.assert_errno(userpoll::wait_null(ep.as_fd(), -1), Errno::ESTALE, "an entry pending, timeout -1")?;
    let mut got = Vec::new();
    ring.consume(&mut got);
    ctx.assert_eq(userpoll::wait_null(ep.as_fd(), 0), Ok(0), "after consuming, timeout 0")
}

fn buffer(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, _ring) = fresh(ctx, 4)?;
    let efd = added_eventfd(ctx, &ep, IN_ET, 1)?;
    ctx.setup(userpoll::eventfd_add(efd.as_fd(), 1), "eventfd write")?;
    let mut buf = [libc::epoll_event { events: 0, u64: 0 }; 8];
    ctx.assert_errno(userpoll::wait_buf(ep.as_fd(), &mut buf, 0), Errno::EINVAL, "epoll_wait with 8 events")?;
    // SAFETY: a NULL buffer with maxevents 1: the kernel must refuse before writing anything.
    let rc = unsafe { libc::epoll_wait(ep.as_raw_fd(), std::ptr::null_mut(), 1, 0) };
    ctx.assert_errno(Errno::result(rc), Errno::EINVAL, "epoll_wait(NULL, 1)")
}

fn wakeup(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, _ring) = fresh(ctx, 4)?;
    let efd = added_eventfd(ctx, &ep, IN_ET, 1)?;
    let raw = efd.as_raw_fd();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: `efd` outlives the thread (joined below).
        userpoll::eventfd_add(unsafe { BorrowedFd::borrow_raw(raw) }, 1)
    });
    let t = Instant::now();
    let res = userpoll::wait_null(ep.as_fd(), 10_000);
    let waited = t.elapsed();
    let wrote = match writer.join() {
        Ok(r) => r.map_err(|e| format!("failed to write the eventfd: {e}")),
        Err(_) => Err("the writer thread panicked".to_string()),
    };
    ctx.setup(wrote, "writer thread")?;
    ctx.assert_errno(res, Errno::ESTALE, "a blocked epoll_wait(NULL, 0, 10 s) when an fd becomes ready")?;
    ctx.assert(
        waited < Duration::from_secs(5),
        "it returned when the event came, not at the timeout",
        format!("{waited:?}"),
    )
}

fn poll(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, ring) = fresh(ctx, 4)?;
    let efd = added_eventfd(ctx, &ep, IN_ET, 1)?;
    ctx.assert_eq(userpoll::poll_in(ep.as_fd(), 0), Ok(0), "poll() of the epfd with an empty ring")?;
    ctx.setup(userpoll::eventfd_add(efd.as_fd(), 1), "eventfd write")?;
    ctx.assert_eq(userpoll::poll_in(ep.as_fd(), 0), Ok(libc::POLLIN), "poll() with one entry pending")?;
    let mut got = Vec::new();
    ring.consume(&mut got);
    ctx.assert_eq(userpoll::poll_in(ep.as_fd(), 0), Ok(0), "poll() after consuming")?;
    let raw = efd.as_raw_fd();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: `efd` outlives the thread (joined below).
        userpoll::eventfd_add(unsafe { BorrowedFd::borrow_raw(raw) }, 1)
    });
    let res = userpoll::poll_in(ep.as_fd(), 10_000);
    let _ = writer.join();
    ctx.assert_eq(res, Ok(libc::POLLIN), "a blocked poll() is woken by a publish")
}
