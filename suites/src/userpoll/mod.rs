//! userpoll: EPOLL_USERPOLL, epoll events consumed from a ring mapped from the epoll fd (the
//! never-merged "[PATCH v3 00/13] epoll: support pollable epoll from userspace", Roman Penyaev,
//! 2019-05; we ship our own reference patch as the `userpoll` patch set, so run these on
//! `src:7.2+userpoll`).
//!
//! The interface our patch implements, and the decisions it takes where v3 left room (each is
//! asserted by a case here):
//! - `epoll_create2(flags, size)` is syscall 472 on x86-64 (v3's 428 is open_tree today).
//!   With `EPOLL_USERPOLL` (1) the size must be 1..=65536, else EINVAL, so
//!   `epoll_create1(EPOLL_USERPOLL)` is EINVAL; without it the size is ignored.
//! - Header of 128 bytes (magic 0xeb01eb01, header_length = PAGE_ALIGN(128 + 16·n),
//!   index_length = max(pow2(4·n), PAGE_SIZE), max_items_nr, head, tail) then 16-byte items;
//!   the index ring is mapped at offset header_length; other offsets or longer maps are ENXIO.
//!   mmap of an epoll fd without a ring stays ENODEV (mainline's answer).
//! - An index entry is item slot + 1 (v3's encoding) and is written before tail is released, so
//!   a consumer that loads tail with acquire never sees a 0 entry.
//! - An item is appended at most once per readiness edge: only when its `ready_events` was 0.
//! - epoll_wait(epfd, NULL, 0, t) returns ESTALE while head != tail, 0 on timeout, never a
//!   positive count; any buffer is EINVAL. poll() on the epfd is POLLIN iff head != tail.
//! - ADD/MOD without EPOLLET, or with EPOLLEXCLUSIVE, are EINVAL; ENOSPC past max_items_nr.
//! - EPOLLONESHOT publishes once until EPOLL_CTL_MOD re-arms it.
//! - DEL of an item whose events were not consumed sets `ready_events` to EPOLLREMOVED (bit 26;
//!   v3's bit 27 is EPOLL_URING_WAKE today).
//! - The pages are charged to the creator's `mm->locked_vm`, which /proc/self/status shows as
//!   VmLck, and given back when the file is released (after close and the last munmap);
//!   ENOMEM past RLIMIT_MEMLOCK without CAP_IPC_LOCK.
//! - Mappings are VM_DONTCOPY: a fork child does not inherit them.
//!
//! Absence checks (`absent_*`) assert what holds for a classic epoll fd on every kernel, patched
//! or not (our patch keeps it by design); where the probe finds EPOLL_USERPOLL they also assert
//! the inverted behaviour on a USERPOLL fd. Every other case Skips when the probe says absent.
//!
//! Under load: `stress_concurrent_producers` (threads writing eventfds and unix streams, 100,000
//! events, none lost or duplicated) and `ring_traffic.virtio` (TCP streams over the test network,
//! so publishes come from NAPI softirq context; every byte and end learnt from the ring alone).
//!
//! The ring-versus-epoll_wait measurement is not a conformance case: it is the hidden
//! `userpollbench` suite, run by `pollcheck bench userpoll`.

mod absent;
mod create;
mod ctl;
mod events;
mod memlock;
mod stress;
mod traffic;
mod wait;

use crate::netkit::Kind;
use crate::sys::userpoll::{self, Ring, Support};
use pollcheck_guest::{Case, CaseBuilder, CaseResult, Ctx, Probe, Stop};
use pollcheck_proto::{Feature, ProbeAnswer};
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

pub const SUITE: &str = "userpoll";

pub const PROBE: Probe = Probe {
    name: "epoll_userpoll",
    feature: Feature::Userpoll,
    run: || match userpoll::detect() {
        Support::Present => ProbeAnswer::Yes,
        Support::Absent(why) => ProbeAnswer::No(why),
        // Syscall 472 is epoll_create2 but EPOLL_USERPOLL misbehaves: broken, not absent.
        Support::Broken(why) => ProbeAnswer::Unknown(why),
    },
};

/// A userpoll case (the 10 s default limit unless it says otherwise).
fn case(name: &str, summary: &str, run: fn(&mut Ctx<'_>) -> CaseResult) -> CaseBuilder {
    Case::new(SUITE, name, summary, run).features(&[Feature::Userpoll])
}

pub fn cases() -> Vec<Case> {
    // The one case with a test network: TCP traffic from netns A to B over virtio-net.
    let traffic = Case::with_variants(
        SUITE,
        "ring_traffic",
        "4 TCP streams from A to B over the test network: every byte and every end is learnt from the ring alone",
        &[Kind::Virtio],
        traffic::ring_traffic,
    )
    .features(&[Feature::Userpoll])
    .timeout(Duration::from_secs(90));
    pollcheck_guest::collect(
        [
            absent::cases(),
            create::cases(),
            ctl::cases(),
            events::cases(),
            wait::cases(),
            memlock::cases(),
            stress::cases(),
        ]
        .into_iter()
        .flatten()
        .chain([traffic]),
    )
}

/// Skip (with the kernel's own answer as the reason) unless EPOLL_USERPOLL exists.
fn require_userpoll(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    match userpoll::detect() {
        Support::Present => Ok(()),
        Support::Absent(why) => Err(ctx.absent(Feature::Userpoll, why)),
        Support::Broken(why) => ctx.assert(false, "probing epoll_create2(EPOLL_USERPOLL, 16)", why),
    }
}

/// A USERPOLL epoll fd of `size` items and its mapped ring (skips when the feature is absent).
pub(crate) fn fresh(ctx: &mut Ctx<'_>, size: usize) -> Result<(OwnedFd, Ring), Stop> {
    require_userpoll(ctx)?;
    let ep = ctx.assert_ok(userpoll::create(size), format!("epoll_create2(EPOLL_USERPOLL, {size})"))?;
    let ring = ctx.assert_ok(Ring::map(ep.as_fd()), "mapping the header and the index ring")?;
    Ok((ep, ring))
}

/// An eventfd added to `ep` with `events`, its data being `data`.
fn added_eventfd(ctx: &mut Ctx<'_>, ep: &OwnedFd, events: u32, data: u64) -> Result<OwnedFd, Stop> {
    let efd = ctx.setup(userpoll::eventfd(), "eventfd")?;
    ctx.assert_ok(
        userpoll::ctl(ep.as_fd(), libc::EPOLL_CTL_ADD, efd.as_fd(), events, data),
        format!("EPOLL_CTL_ADD of an eventfd with events {events:#x}"),
    )?;
    Ok(efd)
}

pub(crate) const IN_ET: u32 = (libc::EPOLLIN | libc::EPOLLET) as u32;
