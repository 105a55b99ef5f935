//! EPIOCSPARAMS / EPIOCGPARAMS (linux/eventpoll.h, 6.9+): per-epoll busy-poll settings.

use nix::errno::Errno;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

pub use libc::epoll_params as EpollParams;

/// `struct epoll_params` with all fields given (pad included, so tests can set it non-zero).
pub fn params(usecs: u32, budget: u16, prefer: u8, pad: u8) -> EpollParams {
    EpollParams { busy_poll_usecs: usecs, busy_poll_budget: budget, prefer_busy_poll: prefer, __pad: pad }
}

/// A fresh epoll instance.
pub fn epoll() -> Result<OwnedFd, Errno> {
    nix::sys::epoll::Epoll::new(nix::sys::epoll::EpollCreateFlags::EPOLL_CLOEXEC).map(|e| e.0)
}

/// Issue `cmd` on `fd` with an arbitrary argument pointer (which may be deliberately bad).
///
/// Safe to call with any pointer: it is only handed to the kernel, which validates it (a bad
/// one yields EFAULT); nothing here dereferences it.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn ioctl_raw(fd: BorrowedFd<'_>, cmd: libc::Ioctl, arg: *mut libc::c_void) -> Result<(), Errno> {
    // SAFETY: the kernel validates `arg`; a bad pointer yields EFAULT, never a fault here.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), cmd, arg) };
    Errno::result(rc).map(drop)
}

pub fn get(fd: BorrowedFd<'_>) -> Result<EpollParams, Errno> {
    let mut p = params(0xdead, 0xbeef, 0xaa, 0xbb);
    ioctl_raw(fd, libc::EPIOCGPARAMS, (&mut p as *mut EpollParams).cast())?;
    Ok(p)
}

pub fn set(fd: BorrowedFd<'_>, p: &EpollParams) -> Result<(), Errno> {
    let mut copy = *p;
    ioctl_raw(fd, libc::EPIOCSPARAMS, (&mut copy as *mut EpollParams).cast())
}

/// An address that is never mapped in a user process (the zero page is never mappable by
/// default), so the kernel's copy_{from,to}_user fails with EFAULT.
pub fn bad_pointer() -> *mut libc::c_void {
    8 as *mut libc::c_void
}

/// Whether the running kernel has per-epoll busy-poll configuration (Feature::EpollParams), as
/// the kernel itself says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    Present,
    /// Absent, with the kernel's answer: ENOTTY means the epoll file has no ioctl at all (before
    /// 6.9, 18e2bf0edf4d "eventpoll: Add epoll ioctl for epoll_params"); EOPNOTSUPP means
    /// ep_eventpoll_ioctl exists but CONFIG_NET_RX_BUSY_POLL is off (the stub
    /// ep_eventpoll_bp_ioctl, fs/eventpoll.c:800). On a kernel whose release and config promise
    /// the feature the host turns this Skip into a FAIL.
    Absent(String),
    /// The probe itself failed in a way no kernel should produce.
    Broken(String),
}

pub fn detect() -> Support {
    let ep = match epoll() {
        Ok(ep) => ep,
        Err(e) => return Support::Broken(format!("failed to create an epoll instance: {e}")),
    };
    match get(std::os::fd::AsFd::as_fd(&ep)) {
        Ok(_) => Support::Present,
        Err(Errno::ENOTTY) => Support::Absent(
            "per-epoll busy poll absent: EPIOCGPARAMS on a fresh epoll fd answered ENOTTY, the epoll file has no \
             ioctl (ep_eventpoll_ioctl arrived in 6.9)"
                .into(),
        ),
        Err(Errno::EOPNOTSUPP) => Support::Absent(
            "per-epoll busy poll absent: EPIOCGPARAMS on a fresh epoll fd answered EOPNOTSUPP, the epoll ioctl \
             exists but CONFIG_NET_RX_BUSY_POLL is off"
                .into(),
        ),
        Err(e) => Support::Broken(format!("EPIOCGPARAMS on a fresh epoll fd failed with {e}")),
    }
}
