//! The loopback interface's up flag, read and set with SIOCGIFFLAGS/SIOCSIFFLAGS (net/core/dev_ioctl.c).
//! The guest agent does not configure networking, so `lo` may be down when a case needs 127.0.0.1.

use nix::errno::Errno;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use std::os::fd::{AsRawFd, OwnedFd};

fn ifreq(name: &str) -> libc::ifreq {
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    req
}

fn control_socket() -> Result<OwnedFd, Errno> {
    socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
}

/// The interface flags of `lo` (`IFF_*`).
pub fn flags() -> Result<libc::c_short, Errno> {
    let sock = control_socket()?;
    let mut req = ifreq("lo");
    // SAFETY: SIOCGIFFLAGS reads the name and writes ifr_flags inside `req`, which outlives the call.
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: the kernel filled the flags member of the union.
    Ok(unsafe { req.ifr_ifru.ifru_flags })
}

fn set_flags(value: libc::c_short) -> Result<(), Errno> {
    let sock = control_socket()?;
    let mut req = ifreq("lo");
    req.ifr_ifru.ifru_flags = value;
    // SAFETY: SIOCSIFFLAGS reads `req`, which outlives the call (needs CAP_NET_ADMIN).
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &mut req) }).map(drop)
}

/// Bring `lo` up if it is down. Ok(true) when this call changed it (so the caller can undo it).
pub fn ensure_up() -> Result<bool, Errno> {
    let f = flags()?;
    if f & libc::IFF_UP as libc::c_short != 0 {
        return Ok(false);
    }
    set_flags(f | libc::IFF_UP as libc::c_short)?;
    Ok(true)
}

/// Take `lo` down again (the undo of [`ensure_up`] returning true).
pub fn set_down() -> Result<(), Errno> {
    let f = flags()?;
    set_flags(f & !(libc::IFF_UP as libc::c_short))
}
