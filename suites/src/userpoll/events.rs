//! What the kernel publishes to the ring: once per readiness edge, at ADD/MOD of a ready fd,
//! once per EPOLLONESHOT arming, EPOLLREMOVED after DEL.

use super::{added_eventfd, case, fresh, IN_ET};
use crate::sys::userpoll::{self, Entry, EPOLLREMOVED};
use pollcheck_guest::{CaseBuilder, CaseResult, Ctx, Stop};
use std::os::fd::{AsFd, OwnedFd};

pub(super) fn cases() -> Vec<CaseBuilder> {
    vec![
        case(
            "ring_once_per_edge",
            "three writes before consuming give one entry (events merged); after consuming, one write gives one more",
            once_per_edge,
        ),
        case("ring_add_ready", "EPOLL_CTL_ADD of an fd that is already ready publishes it at once", add_ready),
        case(
            "ring_mod_data",
            "EPOLL_CTL_MOD rewrites the item's events and data in the ring and publishes a ready fd",
            mod_data,
        ),
        case("ring_oneshot", "EPOLLONESHOT publishes once; later edges are dropped until EPOLL_CTL_MOD", oneshot),
        case(
            "ring_removed",
            "EPOLL_CTL_DEL of an item with unconsumed events marks its entry EPOLLREMOVED; of a consumed one, 0",
            removed,
        ),
    ]
}

const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;

fn take(ring: &userpoll::Ring) -> Vec<Entry> {
    let mut v = Vec::new();
    ring.consume(&mut v);
    v
}

fn write(ctx: &mut Ctx<'_>, fd: &OwnedFd) -> Result<(), Stop> {
    ctx.setup(userpoll::eventfd_add(fd.as_fd(), 1), "eventfd write")
}

fn once_per_edge(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, ring) = fresh(ctx, 4)?;
    let efd = added_eventfd(ctx, &ep, IN_ET, 0x1234)?;
    ctx.assert_eq(ring.pending(), 0, "nothing published for an idle eventfd")?;
    for _ in 0..3 {
        write(ctx, &efd)?;
    }
    ctx.assert_eq(ring.pending(), 1, "entries after three writes without consuming")?;
    let got = take(&ring);
    ctx.assert_eq(got.len(), 1, "entries consumed")?;
    ctx.assert(got[0].raw != 0, "the entry was written before tail moved (non-zero)", format!("{:?}", got[0]))?;
    ctx.assert_eq(got[0].data, 0x1234, "the entry's item carries the data given to EPOLL_CTL_ADD")?;
    ctx.assert_eq(got[0].events, IN, "ready_events is EPOLLIN")?;
    ctx.assert_eq(ring.pending(), 0, "nothing more until the next edge")?;
    write(ctx, &efd)?;
    ctx.assert_eq(ring.pending(), 1, "one entry for the next write")?;
    let got = take(&ring);
    ctx.assert_eq(got.iter().map(|e| (e.data, e.events)).collect::<Vec<_>>(), vec![(0x1234, IN)], "the next entry")
}

fn add_ready(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, ring) = fresh(ctx, 4)?;
    let efd = ctx.setup(userpoll::eventfd(), "eventfd")?;
    write(ctx, &efd)?;
    ctx.assert_ok(userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, efd.as_fd(), IN_ET, 7), "EPOLL_CTL_ADD")?;
    let got = take(&ring);
    ctx.assert_eq(got.iter().map(|e| (e.data, e.events)).collect::<Vec<_>>(), vec![(7, IN)], "published at ADD")
}

fn mod_data(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, ring) = fresh(ctx, 4)?;
    let efd = added_eventfd(ctx, &ep, IN_ET, 1)?;
    let slot_events = |ring: &userpoll::Ring| {
        ring.item(0).map(|i| {
            (i.events.load(std::sync::atomic::Ordering::Relaxed), i.data.load(std::sync::atomic::Ordering::Relaxed))
        })
    };
    ctx.assert_eq(slot_events(&ring), Some((IN_ET | (libc::EPOLLERR | libc::EPOLLHUP) as u32, 1)), "item 0 after ADD")?;
    write(ctx, &efd)?;
    take(&ring);
    // An eventfd with a non-zero counter is still readable: MOD must publish it again.
    ctx.assert_ok(userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_MOD, efd.as_fd(), IN_ET | OUT, 2), "EPOLL_CTL_MOD")?;
    ctx.assert_eq(
        slot_events(&ring),
        Some((IN_ET | OUT | (libc::EPOLLERR | libc::EPOLLHUP) as u32, 2)),
        "item 0 after MOD: new events and data",
    )?;
    let got = take(&ring);
    ctx.assert_eq(
        got.iter().map(|e| (e.data, e.events)).collect::<Vec<_>>(),
        vec![(2, IN | OUT)],
        "MOD of a ready fd publishes it with the new data",
    )
}

fn oneshot(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, ring) = fresh(ctx, 4)?;
    let one = IN_ET | libc::EPOLLONESHOT as u32;
    let efd = added_eventfd(ctx, &ep, one, 5)?;
    write(ctx, &efd)?;
    ctx.assert_eq(take(&ring).len(), 1, "the first edge is published")?;
    ctx.setup(userpoll::eventfd_take(efd.as_fd()), "eventfd read")?;
    write(ctx, &efd)?;
    write(ctx, &efd)?;
    ctx.assert_eq(ring.pending(), 0, "later edges before EPOLL_CTL_MOD are dropped")?;
    ctx.assert_ok(userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_MOD, efd.as_fd(), one, 6), "EPOLL_CTL_MOD re-arms")?;
    let got = take(&ring);
    ctx.assert_eq(got.iter().map(|e| e.data).collect::<Vec<_>>(), vec![6], "re-arming a ready fd publishes it once")?;
    ctx.setup(userpoll::eventfd_take(efd.as_fd()), "eventfd read")?;
    write(ctx, &efd)?;
    ctx.assert_eq(ring.pending(), 0, "disarmed again after that event")
}

fn removed(ctx: &mut Ctx<'_>) -> CaseResult {
    let (ep, ring) = fresh(ctx, 4)?;
    let a = added_eventfd(ctx, &ep, IN_ET, 10)?;
    let b = added_eventfd(ctx, &ep, IN_ET, 11)?;
    write(ctx, &a)?;
    write(ctx, &b)?;
    take(&ring);
    // a: consumed, then deleted → no entry, slot ready_events stays 0.
    ctx.assert_ok(userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_DEL, a.as_fd(), 0, 0), "EPOLL_CTL_DEL of a consumed item")?;
    ctx.assert_eq(ring.pending(), 0, "deleting a consumed item publishes nothing")?;
    // b: ready again and not consumed, then deleted → its entry says EPOLLREMOVED.
    write(ctx, &b)?;
    ctx.assert_eq(ring.pending(), 1, "b's next edge is in the ring")?;
    ctx.assert_ok(userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_DEL, b.as_fd(), 0, 0), "EPOLL_CTL_DEL of a ready item")?;
    let got = take(&ring);
    ctx.assert_eq(got.len(), 1, "the entry stays in the ring")?;
    ctx.assert_eq(got[0].events, EPOLLREMOVED, "its ready_events is EPOLLREMOVED (bit 26)")?;
    write(ctx, &b)?;
    ctx.assert_eq(ring.pending(), 0, "a deleted item publishes nothing")
}
