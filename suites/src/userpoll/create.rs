//! Creating a USERPOLL epoll and mapping its ring: the header, the size limits, the mmap offset
//! rules, and that fork() does not inherit the mappings.

use super::{case, fresh, require_userpoll};
use crate::sys::userpoll::{
    self, header_length, index_length, page_size, UHeader, UItem, EPOLL_USERPOLL, HEADER_MAGIC, MAX_ITEMS_NR,
};
use pollcheck_guest::{CaseBuilder, CaseResult, Ctx, Errno};
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub(super) fn cases() -> Vec<CaseBuilder> {
    vec![
        case(
            "create_header",
            "the header says magic 0xeb01eb01, header_length, index_length and max_items_nr per the formulas, head = tail = 0",
            header,
        ),
        case(
            "create_size_limits",
            "EPOLL_USERPOLL takes a size of 1..=65536 (0 and 65537 are EINVAL); unknown flags are EINVAL",
            size_limits,
        )
        .timeout(Duration::from_secs(30)),
        case(
            "create_mmap_offsets",
            "offset 0 maps up to header_length, offset header_length up to index_length; anything else is ENXIO",
            mmap_offsets,
        ),
        case("create_fork_dontcopy", "a fork child does not inherit the ring mappings (VM_DONTCOPY)", fork_dontcopy),
    ]
}

fn header(ctx: &mut Ctx<'_>) -> CaseResult {
    ctx.assert_eq(std::mem::size_of::<UHeader>(), 128, "our struct epoll_uheader mirror is 128 bytes")?;
    ctx.assert_eq(std::mem::size_of::<UItem>(), 16, "our struct epoll_uitem mirror is 16 bytes")?;
    for n in [1usize, 100, 1024, 5000, MAX_ITEMS_NR] {
        let (_ep, ring) = fresh(ctx, n)?;
        let h = ring.header();
        ctx.assert_eq(h.magic.load(Ordering::Relaxed), HEADER_MAGIC, format!("magic (size {n})"))?;
        ctx.assert_eq(
            h.header_length.load(Ordering::Relaxed) as usize,
            header_length(n),
            format!("header_length = PAGE_ALIGN(128 + 16 * {n})"),
        )?;
        ctx.assert_eq(
            h.index_length.load(Ordering::Relaxed) as usize,
            index_length(n),
            format!("index_length = max(roundup_pow_of_two(4 * {n}), PAGE_SIZE)"),
        )?;
        ctx.assert_eq(h.max_items_nr.load(Ordering::Relaxed) as usize, n, "max_items_nr is the size given")?;
        ctx.assert_eq(h.head.load(Ordering::Relaxed), 0, "head starts at 0")?;
        ctx.assert_eq(h.tail.load(Ordering::Relaxed), 0, "tail starts at 0")?;
    }
    Ok(())
}

fn size_limits(ctx: &mut Ctx<'_>) -> CaseResult {
    require_userpoll(ctx)?;
    ctx.assert_errno(userpoll::epoll_create2(EPOLL_USERPOLL, 0), Errno::EINVAL, "size 0")?;
    ctx.assert_errno(userpoll::epoll_create2(EPOLL_USERPOLL, MAX_ITEMS_NR + 1), Errno::EINVAL, "size 65537")?;
    ctx.assert_errno(userpoll::epoll_create2(EPOLL_USERPOLL, usize::MAX), Errno::EINVAL, "size SIZE_MAX")?;
    ctx.assert_errno(userpoll::epoll_create2(EPOLL_USERPOLL | 2, 16), Errno::EINVAL, "an unknown flag (2)")?;
    ctx.assert_ok(userpoll::epoll_create2(EPOLL_USERPOLL, 1), "size 1")?;
    ctx.assert_ok(userpoll::epoll_create2(EPOLL_USERPOLL, MAX_ITEMS_NR), "size 65536")?;
    // Without EPOLL_USERPOLL the size is ignored: a classic epoll, which has nothing to map.
    let plain = ctx.assert_ok(userpoll::epoll_create2(libc::EPOLL_CLOEXEC, 0), "epoll_create2(EPOLL_CLOEXEC, 0)")?;
    ctx.assert_errno(userpoll::map_raw(plain.as_fd(), page_size(), 0), Errno::ENODEV, "mmap of that classic epoll")
}

fn try_map(fd: std::os::fd::BorrowedFd<'_>, len: usize, off: usize) -> Result<(), Errno> {
    let p = userpoll::map_raw(fd, len, off)?;
    userpoll::unmap_raw(p, len)
}

fn mmap_offsets(ctx: &mut Ctx<'_>) -> CaseResult {
    let n = 300;
    let (ep, ring) = fresh(ctx, n)?;
    let (hl, il, pg) = (ring.header_len(), ring.index_len(), page_size());
    let fd = ep.as_fd();
    ctx.assert_ok(try_map(fd, hl, 0), "offset 0, header_length bytes")?;
    ctx.assert_ok(try_map(fd, pg, 0), "offset 0, one page")?;
    ctx.assert_ok(try_map(fd, il, hl), "offset header_length, index_length bytes")?;
    ctx.assert_errno(try_map(fd, hl + pg, 0), Errno::ENXIO, "offset 0, header_length + one page")?;
    ctx.assert_errno(try_map(fd, il + pg, hl), Errno::ENXIO, "offset header_length, index_length + one page")?;
    ctx.assert_errno(try_map(fd, pg, pg * 64), Errno::ENXIO, "an offset that is neither 0 nor header_length")?;
    if hl > pg {
        ctx.assert_errno(try_map(fd, pg, pg), Errno::ENXIO, "offset one page (inside the header area)")?;
    }
    Ok(())
}

fn fork_dontcopy(ctx: &mut Ctx<'_>) -> CaseResult {
    let (_ep, ring) = fresh(ctx, 16)?;
    let addr = ring.header_addr().as_ptr();
    let len = ring.header_len();
    let mut vec = vec![0u8; len / page_size()];
    // SAFETY: mincore only inspects the range and writes `vec`, sized one byte per page.
    let rc = unsafe { libc::mincore(addr, len, vec.as_mut_ptr()) };
    ctx.assert_eq(rc, 0, "mincore() on the header mapping in the parent")?;
    // SAFETY: the child only calls async-signal-safe functions (mincore, _exit).
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: as above, in the child.
        let rc = unsafe { libc::mincore(addr, len, vec.as_mut_ptr()) };
        let unmapped = rc == -1 && Errno::last() == Errno::ENOMEM;
        // SAFETY: leaves the child at once.
        unsafe { libc::_exit(if unmapped { 0 } else { 1 }) };
    }
    ctx.assert(pid > 0, "fork()", Errno::last())?;
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    ctx.assert(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child finds the ring's address unmapped (mincore ENOMEM)",
        format!("wait status {status:#x} (exit 1: the mapping was inherited)"),
    )?;
    Ok(())
}
