//! Channel (queue pair) counts through the classic SIOCETHTOOL ioctl (ETHTOOL_GCHANNELS and
//! ETHTOOL_SCHANNELS, include/uapi/linux/ethtool.h), which every kernel has, with or without
//! the ethtool netlink family. virtio-net starts with min(queue pairs, online CPUs) active.

use super::NetError;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use std::os::fd::AsRawFd;

const ETHTOOL_GCHANNELS: u32 = 0x3c;
const ETHTOOL_SCHANNELS: u32 = 0x3d;

/// struct ethtool_channels.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Channels {
    cmd: u32,
    pub max_rx: u32,
    pub max_tx: u32,
    pub max_other: u32,
    pub max_combined: u32,
    pub rx_count: u32,
    pub tx_count: u32,
    pub other_count: u32,
    pub combined_count: u32,
}

fn ioctl(ifname: &str, data: &mut Channels) -> Result<(), nix::errno::Errno> {
    let sock = socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)?;
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(ifname.bytes().take(libc::IFNAMSIZ - 1)) {
        *dst = src as libc::c_char;
    }
    ifr.ifr_ifru.ifru_data = (data as *mut Channels).cast();
    // SAFETY: SIOCETHTOOL reads the command from and writes the reply to `data`, which outlives the call.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCETHTOOL, &mut ifr) };
    nix::errno::Errno::result(rc).map(|_| ())
}

/// The device's channel limits and counts (in the calling thread's namespace).
pub fn get(ifname: &str) -> Result<Channels, NetError> {
    let mut c = Channels { cmd: ETHTOOL_GCHANNELS, ..Channels::default() };
    ioctl(ifname, &mut c).map_err(NetError::sys(format!("read the channel counts of {ifname} (ETHTOOL_GCHANNELS)")))?;
    Ok(c)
}

/// Make `n` combined channels active; more than the device's maximum is refused up front.
pub fn set_combined(ifname: &str, n: u32) -> Result<(), NetError> {
    let mut c = get(ifname)?;
    if n > c.max_combined {
        return Err(NetError::Unusable(format!(
            "{ifname} has at most {} queue pairs, {n} were asked for: ask for fewer (--queues)",
            c.max_combined
        )));
    }
    if c.combined_count == n {
        return Ok(());
    }
    c.cmd = ETHTOOL_SCHANNELS;
    c.combined_count = n;
    ioctl(ifname, &mut c).map_err(NetError::sys(format!("set {n} combined channels on {ifname} (ETHTOOL_SCHANNELS)")))
}
