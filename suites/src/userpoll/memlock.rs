//! The ring's pages are charged to the creator's locked memory (mm->locked_vm, shown as VmLck in
//! /proc/self/status), limited by RLIMIT_MEMLOCK without CAP_IPC_LOCK, and given back on release.

use super::{case, require_userpoll};
use crate::sys::userpoll::{self, charged_pages, page_size, Ring};
use caps::Capability;
use pollcheck_guest::{without_capability, CaseBuilder, CaseResult, Ctx, Errno};
use std::os::fd::AsFd;

pub(super) fn cases() -> Vec<CaseBuilder> {
    vec![
        case(
            "memlock_charge",
            "VmLck grows by the ring's pages at creation and is back to its baseline after munmap + close",
            charge,
        ),
        case(
            "memlock_enomem",
            "without CAP_IPC_LOCK, a ring past RLIMIT_MEMLOCK is ENOMEM and one that fits is created",
            enomem,
        ),
    ]
}

fn vm_lck(ctx: &mut Ctx<'_>) -> Result<u64, pollcheck_guest::Stop> {
    ctx.setup(userpoll::vm_lck_kb(), "reading VmLck")
}

fn charge(ctx: &mut Ctx<'_>) -> CaseResult {
    require_userpoll(ctx)?;
    let n = 4096;
    let kb = (charged_pages(n) * page_size() / 1024) as u64;
    let base = vm_lck(ctx)?;
    let ep = ctx.assert_ok(userpoll::create(n), format!("epoll_create2(EPOLL_USERPOLL, {n})"))?;
    let after_create = vm_lck(ctx)?;
    ctx.assert_eq(after_create, base + kb, format!("VmLck after creating a ring of {n} items ({kb} kB charged)"))?;
    let ring = ctx.assert_ok(Ring::map(ep.as_fd()), "mapping the ring")?;
    let now = vm_lck(ctx)?;
    ctx.assert_eq(now, base + kb, "VmLck while mapped (mapping charges nothing more)")?;
    drop(ring);
    drop(ep);
    let now = vm_lck(ctx)?;
    ctx.assert_eq(now, base, "VmLck after munmap + close")?;
    // Closing while still mapped keeps the charge until the last munmap.
    let ep = ctx.assert_ok(userpoll::create(n), "a second ring")?;
    let ring = ctx.assert_ok(Ring::map(ep.as_fd()), "mapping it")?;
    drop(ep);
    let now = vm_lck(ctx)?;
    ctx.assert_eq(now, base + kb, "VmLck after close, still mapped")?;
    drop(ring);
    let now = vm_lck(ctx)?;
    ctx.assert_eq(now, base, "VmLck after the last munmap")
}

fn set_memlock(bytes: u64) -> Result<(), Errno> {
    let lim = libc::rlimit { rlim_cur: bytes, rlim_max: libc::RLIM_INFINITY };
    // SAFETY: a valid rlimit struct.
    Errno::result(unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) }).map(drop)
}

fn enomem(ctx: &mut Ctx<'_>) -> CaseResult {
    require_userpoll(ctx)?;
    let n = 1024;
    let need = (charged_pages(n) * page_size()) as u64;
    let base = vm_lck(ctx)? * 1024;
    ctx.setup(set_memlock(base + need - page_size() as u64), "setrlimit(RLIMIT_MEMLOCK) one page short")?;
    let short = without_capability(Capability::CAP_IPC_LOCK, || userpoll::create(n).map(drop));
    let short = ctx.setup(short, "dropping CAP_IPC_LOCK")?;
    ctx.assert_errno(short, Errno::ENOMEM, "a ring one page past RLIMIT_MEMLOCK without CAP_IPC_LOCK")?;
    let now = vm_lck(ctx)?;
    ctx.assert_eq(now, base / 1024, "a refused ring charges nothing")?;
    let capable = userpoll::create(n).map(drop);
    ctx.assert_ok(capable, "the same ring with CAP_IPC_LOCK (the limit does not apply)")?;
    ctx.setup(set_memlock(base + need), "setrlimit(RLIMIT_MEMLOCK) exactly enough")?;
    let fits = without_capability(Capability::CAP_IPC_LOCK, || userpoll::create(n).map(drop));
    let fits = ctx.setup(fits, "dropping CAP_IPC_LOCK")?;
    ctx.assert_ok(fits, "a ring that fits RLIMIT_MEMLOCK exactly, without CAP_IPC_LOCK")
}
