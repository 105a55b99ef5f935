//! EPOLL_USERPOLL (never merged; our reference patch in fixtures/patches/userpoll): the raw
//! `epoll_create2` syscall, the shared ring's layout, its mapping, and the consumer protocol.

use nix::errno::Errno;
use nix::sys::mman::{mmap, munmap, MapFlags, ProtFlags};
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// `__NR_epoll_create2` as our patch exports it (the next free x86-64 number after 7.2's 471;
/// v3's 428 is open_tree today).
pub const SYS_EPOLL_CREATE2: libc::c_long = 472;
/// The creation flag (v3's value).
pub const EPOLL_USERPOLL: i32 = 1;
/// Marks a removed item's `ready_events` (bit 26: v3's bit 27 is EPOLL_URING_WAKE today).
pub const EPOLLREMOVED: u32 = 1 << 26;
pub const HEADER_MAGIC: u32 = 0xeb01_eb01;
pub const HEADER_SIZE: usize = 128;
pub const ITEM_SIZE: usize = 16;
pub const MAX_ITEMS_NR: usize = 65536;

/// `struct epoll_uitem`: 16 bytes.
#[repr(C)]
#[derive(Debug)]
pub struct UItem {
    pub ready_events: AtomicU32,
    pub events: AtomicU32,
    pub data: AtomicU64,
}

/// `struct epoll_uheader`: 128 bytes, the items follow.
#[repr(C)]
#[derive(Debug)]
pub struct UHeader {
    pub magic: AtomicU32,
    pub header_length: AtomicU32,
    pub index_length: AtomicU32,
    pub max_items_nr: AtomicU32,
    pub head: AtomicU32,
    pub tail: AtomicU32,
    pub pad: [u32; 26],
}

pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).unwrap_or(4096)
}

fn page_align(n: usize) -> usize {
    n.div_ceil(page_size()) * page_size()
}

/// `header_length` for `nr` items: PAGE_ALIGN(128 + 16 * nr).
pub fn header_length(nr: usize) -> usize {
    page_align(HEADER_SIZE + ITEM_SIZE * nr)
}

/// `index_length` for `nr` items: max(roundup_pow_of_two(4 * nr), PAGE_SIZE).
pub fn index_length(nr: usize) -> usize {
    (4 * nr).next_power_of_two().max(page_size())
}

/// Pages the kernel charges for a ring of `nr` items.
pub fn charged_pages(nr: usize) -> usize {
    (header_length(nr) + index_length(nr)) / page_size()
}

/// `epoll_create2(flags, size)` as a raw syscall.
pub fn epoll_create2(flags: i32, size: usize) -> Result<OwnedFd, Errno> {
    // SAFETY: plain integer arguments; the kernel returns a new fd or an error.
    let rc = unsafe { libc::syscall(SYS_EPOLL_CREATE2, flags, size) };
    let fd = Errno::result(rc)?;
    let fd = i32::try_from(fd).map_err(|_| Errno::EOVERFLOW)?;
    // SAFETY: the kernel just gave us this fd; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A USERPOLL epoll fd with `size` items, close-on-exec.
pub fn create(size: usize) -> Result<OwnedFd, Errno> {
    epoll_create2(EPOLL_USERPOLL | libc::EPOLL_CLOEXEC, size)
}

/// `epoll_create1(flags)` through libc (so EPOLL_USERPOLL can be passed where it is unknown).
pub fn epoll_create1(flags: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: integer argument only.
    let fd = Errno::result(unsafe { libc::epoll_create1(flags) })?;
    // SAFETY: a fresh fd from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `epoll_ctl` with any event mask (no flag validation on our side).
pub fn ctl(ep: BorrowedFd<'_>, op: i32, fd: BorrowedFd<'_>, events: u32, data: u64) -> Result<(), Errno> {
    let mut ev = libc::epoll_event { events, u64: data };
    // SAFETY: `ev` lives across the call; the kernel copies it.
    Errno::result(unsafe { libc::epoll_ctl(ep.as_raw_fd(), op, fd.as_raw_fd(), &mut ev) }).map(drop)
}

/// `epoll_wait(ep, NULL, 0, timeout)`: the USERPOLL way of waiting.
pub fn wait_null(ep: BorrowedFd<'_>, timeout_ms: i32) -> Result<i32, Errno> {
    // SAFETY: a NULL buffer with maxevents 0 is never written to.
    Errno::result(unsafe { libc::epoll_wait(ep.as_raw_fd(), std::ptr::null_mut(), 0, timeout_ms) })
}

/// `epoll_wait` with a real buffer of `n` events.
pub fn wait_buf(ep: BorrowedFd<'_>, buf: &mut [libc::epoll_event], timeout_ms: i32) -> Result<usize, Errno> {
    let n = i32::try_from(buf.len()).unwrap_or(i32::MAX);
    // SAFETY: `buf` is valid for `n` events.
    let rc = Errno::result(unsafe { libc::epoll_wait(ep.as_raw_fd(), buf.as_mut_ptr(), n, timeout_ms) })?;
    Ok(usize::try_from(rc).unwrap_or(0))
}

/// A raw `mmap(NULL, len, RW, MAP_SHARED, fd, offset)`; Ok(address) to be unmapped by the caller.
pub fn map_raw(fd: BorrowedFd<'_>, len: usize, offset: usize) -> Result<NonNull<libc::c_void>, Errno> {
    let len = NonZeroUsize::new(len).ok_or(Errno::EINVAL)?;
    let off = libc::off_t::try_from(offset).map_err(|_| Errno::EOVERFLOW)?;
    // SAFETY: a fresh shared mapping at an address the kernel chooses; nothing aliases it yet.
    unsafe { mmap(None, len, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE, MapFlags::MAP_SHARED, fd, off) }
}

pub fn unmap_raw(addr: NonNull<libc::c_void>, len: usize) -> Result<(), Errno> {
    // SAFETY: callers pass a mapping they made with map_raw and no longer use.
    unsafe { munmap(addr, len) }
}

/// One ring entry as the consumer saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The raw index entry (item slot + 1; 0 means the kernel advanced tail before writing it).
    pub raw: u32,
    /// `items[slot].data` read before taking the events.
    pub data: u64,
    /// What `xchg(ready_events, 0)` returned: 0 means no event behind this entry (a duplicate),
    /// EPOLLREMOVED an item deleted before it was consumed.
    pub events: u32,
}

/// Both mappings of a USERPOLL epoll fd (header+items, index ring); unmapped on drop.
#[derive(Debug)]
pub struct Ring {
    hdr: NonNull<libc::c_void>,
    header_len: usize,
    index: NonNull<libc::c_void>,
    index_len: usize,
}

impl Ring {
    /// Map one page at 0 to learn the lengths, then map the header and the index ring fully.
    pub fn map(fd: BorrowedFd<'_>) -> Result<Ring, Errno> {
        let page = map_raw(fd, page_size(), 0)?;
        // SAFETY: the first page holds the 128-byte header.
        let (hl, il) = unsafe {
            let h = &*page.as_ptr().cast::<UHeader>();
            (h.header_length.load(Ordering::Acquire) as usize, h.index_length.load(Ordering::Acquire) as usize)
        };
        unmap_raw(page, page_size())?;
        let hdr = map_raw(fd, hl, 0)?;
        let index = match map_raw(fd, il, hl) {
            Ok(p) => p,
            Err(e) => {
                let _ = unmap_raw(hdr, hl);
                return Err(e);
            }
        };
        Ok(Ring { hdr, header_len: hl, index, index_len: il })
    }

    pub fn header(&self) -> &UHeader {
        // SAFETY: the mapping is at least a page and lives as long as self.
        unsafe { &*self.hdr.as_ptr().cast::<UHeader>() }
    }

    pub fn header_addr(&self) -> NonNull<libc::c_void> {
        self.hdr
    }

    pub fn header_len(&self) -> usize {
        self.header_len
    }

    pub fn index_len(&self) -> usize {
        self.index_len
    }

    pub fn max_items(&self) -> usize {
        self.header().max_items_nr.load(Ordering::Relaxed) as usize
    }

    pub fn item(&self, slot: usize) -> Option<&UItem> {
        if slot >= self.max_items() || HEADER_SIZE + (slot + 1) * ITEM_SIZE > self.header_len {
            return None;
        }
        // SAFETY: bounds checked against the mapping above; items are 16-byte aligned atomics.
        Some(unsafe { &*self.hdr.as_ptr().cast::<u8>().add(HEADER_SIZE + slot * ITEM_SIZE).cast::<UItem>() })
    }

    fn index_cell(&self, pos: u32) -> &AtomicU32 {
        let cells = self.index_len / 4;
        let i = pos as usize & (cells - 1);
        // SAFETY: `i` is masked into the mapped index ring.
        unsafe { &*self.index.as_ptr().cast::<AtomicU32>().add(i) }
    }

    /// Entries published and not consumed yet (tail − head).
    pub fn pending(&self) -> u32 {
        let h = self.header();
        h.tail.load(Ordering::Acquire).wrapping_sub(h.head.load(Ordering::Relaxed))
    }

    /// Take every entry published so far: read the entry, clear it, read the item's data, take
    /// its events with an atomic exchange, advance head (released once at the end).
    pub fn consume(&self, out: &mut Vec<Entry>) -> usize {
        let h = self.header();
        let tail = h.tail.load(Ordering::Acquire);
        let mut head = h.head.load(Ordering::Relaxed);
        let before = out.len();
        while head != tail {
            let cell = self.index_cell(head);
            let raw = cell.load(Ordering::Acquire);
            cell.store(0, Ordering::Relaxed);
            let (data, events) = match raw.checked_sub(1).and_then(|s| self.item(s as usize)) {
                Some(item) => (item.data.load(Ordering::Acquire), item.ready_events.swap(0, Ordering::AcqRel)),
                None => (0, 0),
            };
            out.push(Entry { raw, data, events });
            head = head.wrapping_add(1);
        }
        h.head.store(head, Ordering::Release);
        out.len() - before
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let _ = unmap_raw(self.index, self.index_len);
        let _ = unmap_raw(self.hdr, self.header_len);
    }
}

/// A non-blocking eventfd.
pub fn eventfd() -> Result<OwnedFd, Errno> {
    // SAFETY: integer arguments only.
    let fd = Errno::result(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
    // SAFETY: a fresh fd from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Add `n` to an eventfd's counter.
pub fn eventfd_add(fd: BorrowedFd<'_>, n: u64) -> Result<(), Errno> {
    let buf = n.to_ne_bytes();
    // SAFETY: `buf` is 8 readable bytes.
    Errno::result(unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), 8) }).map(drop)
}

/// Read (and reset) an eventfd's counter; EAGAIN when it is 0.
pub fn eventfd_take(fd: BorrowedFd<'_>) -> Result<u64, Errno> {
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is 8 writable bytes.
    Errno::result(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), 8) })?;
    Ok(u64::from_ne_bytes(buf))
}

/// `poll()` one fd for POLLIN with a timeout; the revents.
pub fn poll_in(fd: BorrowedFd<'_>, timeout_ms: i32) -> Result<i16, Errno> {
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    Errno::result(unsafe { libc::poll(&mut p, 1, timeout_ms) })?;
    Ok(p.revents)
}

/// This process's locked memory as /proc/self/status reports it (VmLck, in kB).
pub fn vm_lck_kb() -> Result<u64, String> {
    let s =
        std::fs::read_to_string("/proc/self/status").map_err(|e| format!("failed to read /proc/self/status: {e}"))?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmLck line in /proc/self/status".to_string())
}

/// Whether the running kernel has EPOLL_USERPOLL, as the kernel itself answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    Present,
    Absent(String),
    /// Syscall 472 is epoll_create2 (it makes a plain epoll) but EPOLL_USERPOLL fails: a bug.
    Broken(String),
}

fn is_eventpoll(fd: &OwnedFd) -> Result<(), String> {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if link == "anon_inode:[eventpoll]" {
        Ok(())
    } else {
        Err(link)
    }
}

/// Try `epoll_create2(EPOLL_USERPOLL, 16)`: ENOSYS means absent (no upstream release has a
/// syscall 472 through 7.2; the number is our patch set's). Any other failure counts as absent
/// only if syscall 472 is not epoll_create2 at all here (a later kernel may give the number to
/// another syscall): `epoll_create2(EPOLL_CLOEXEC, 0)` must then not make an epoll. A kernel
/// built with the userpoll patch set promises the feature, so the host FAILs these Skips there.
pub fn detect() -> Support {
    match create(16) {
        Err(Errno::ENOSYS) => Support::Absent(format!(
            "EPOLL_USERPOLL absent: syscall {SYS_EPOLL_CREATE2} (epoll_create2, the userpoll patch set) answered \
             ENOSYS, this kernel has no such syscall"
        )),
        Err(e) => {
            let plain = match epoll_create2(libc::EPOLL_CLOEXEC, 0).map(|fd| is_eventpoll(&fd)) {
                Ok(Ok(())) => return Support::Broken(format!("epoll_create2(EPOLL_USERPOLL, 16) failed with {e}")),
                Ok(Err(link)) => format!("it made `{link}`, not an epoll"),
                Err(e) => format!("it answered {e}"),
            };
            Support::Absent(format!(
                "EPOLL_USERPOLL absent: syscall {SYS_EPOLL_CREATE2} is not epoll_create2 here: with (EPOLL_USERPOLL | \
                 EPOLL_CLOEXEC, 16) it answered {e}, with (EPOLL_CLOEXEC, 0) {plain}"
            ))
        }
        Ok(fd) => {
            if let Err(link) = is_eventpoll(&fd) {
                return Support::Absent(format!(
                    "EPOLL_USERPOLL absent: syscall {SYS_EPOLL_CREATE2} with (EPOLL_USERPOLL | EPOLL_CLOEXEC, 16) made \
                     `{link}`, not an epoll: it is not epoll_create2 here"
                ));
            }
            match map_raw(fd.as_fd(), page_size(), 0) {
                Ok(p) => {
                    // SAFETY: one mapped page holding the header.
                    let magic = unsafe { (*p.as_ptr().cast::<UHeader>()).magic.load(Ordering::Acquire) };
                    let _ = unmap_raw(p, page_size());
                    if magic == HEADER_MAGIC {
                        Support::Present
                    } else {
                        Support::Broken(format!("the ring's magic is {magic:#x}, want {HEADER_MAGIC:#x}"))
                    }
                }
                Err(e) => Support::Broken(format!("mmap of an EPOLL_USERPOLL epoll fd failed with {e}")),
            }
        }
    }
}
