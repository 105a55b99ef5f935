//! Integer SOL_SOCKET options (SO_BUSY_POLL, SO_PREFER_BUSY_POLL, SO_BUSY_POLL_BUDGET, …) on a
//! raw fd, with the kernel's errno.

use nix::errno::Errno;
use std::os::fd::{AsRawFd, BorrowedFd};

/// setsockopt(SOL_SOCKET, `opt`, `v`).
pub fn set_int(fd: BorrowedFd<'_>, opt: libc::c_int, v: libc::c_int) -> Result<(), Errno> {
    // SAFETY: passes a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    Errno::result(rc).map(drop)
}

/// getsockopt(SOL_SOCKET, `opt`) as an int.
pub fn get_int(fd: BorrowedFd<'_>, opt: libc::c_int) -> Result<libc::c_int, Errno> {
    let mut v: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `v`.
    let rc = unsafe {
        libc::getsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, opt, (&mut v as *mut libc::c_int).cast(), &mut len)
    };
    Errno::result(rc).map(|_| v)
}
