//! A wakeup source whose key carries EPOLLIN and EPOLLOUT together: an evdev node. Every input
//! packet (events up to a SYN_REPORT) reaching a client is one
//! `wake_up_interruptible_poll(&client->wait, EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM)`
//! (evdev_pass_values, drivers/input/evdev.c:288-289), and ep_poll_callback's switch on the
//! key's IN/OUT part (fs/eventpoll.c:1547-1558) has no case for both: an exclusive item returns
//! 0, so the walk goes on and every exclusive waiter wakes.
//!
//! The packet is injected by writing to the evdev node itself (evdev_write → input_inject_event,
//! which passes it to every open handle of the device, this one included): an EV_MSC/MSC_SCAN
//! event and a SYN_REPORT, on an input device that reports MSC_SCAN (the guest's AT keyboard,
//! atkbd.c:1193-1213). evdev is always writable (evdev_poll), so the waiters register EPOLLIN
//! only. Kernels without CONFIG_INPUT_EVDEV (our tinyconfig build) are planned as Skip.

use super::source::Fire;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use std::fs;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

const EV_SYN: u16 = 0;
const EV_MSC: u16 = 4;
const SYN_REPORT: u16 = 0;
const MSC_SCAN: u16 = 4;

/// An evdev node of a device that reports MSC_SCAN, opened read-write and non-blocking.
pub(super) struct Evdev {
    fd: OwnedFd,
    pub path: PathBuf,
}

/// struct input_event on 64-bit: a struct timeval, type, code, value (24 bytes).
fn event(kind: u16, code: u16, value: i32) -> [u8; 24] {
    let mut e = [0u8; 24];
    e[16..18].copy_from_slice(&kind.to_ne_bytes());
    e[18..20].copy_from_slice(&code.to_ne_bytes());
    e[20..24].copy_from_slice(&value.to_ne_bytes());
    e
}

/// Whether /sys/class/input/<node>/device/capabilities/msc has the MSC_SCAN bit.
fn reports_msc_scan(node: &str) -> bool {
    let caps = fs::read_to_string(format!("/sys/class/input/{node}/device/capabilities/msc")).unwrap_or_default();
    let low = caps.split_whitespace().last().unwrap_or("0");
    u64::from_str_radix(low, 16).is_ok_and(|bits| bits & (1 << MSC_SCAN) != 0)
}

impl Evdev {
    /// The first /dev/input/event* whose device reports MSC_SCAN; Err says what was found.
    pub fn open() -> Result<Self, String> {
        let mut nodes: Vec<String> = fs::read_dir("/sys/class/input")
            .map_err(|e| format!("no input devices: /sys/class/input: {e}"))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("event"))
            .collect();
        nodes.sort();
        let node = nodes
            .iter()
            .find(|n| reports_msc_scan(n))
            .ok_or_else(|| format!("no evdev node of a device reporting MSC_SCAN (evdev nodes: {nodes:?})"))?;
        let path = PathBuf::from(format!("/dev/input/{node}"));
        let fd = nix::fcntl::open(
            &path,
            OFlag::O_RDWR | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(|e| format!("failed to open {}: {e}", path.display()))?;
        Ok(Self { fd, path })
    }
}

impl Fire for Evdev {
    fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn fire(&mut self) -> Result<(), String> {
        let mut packet = Vec::with_capacity(48);
        packet.extend_from_slice(&event(EV_MSC, MSC_SCAN, 0x1e));
        packet.extend_from_slice(&event(EV_SYN, SYN_REPORT, 0));
        match nix::unistd::write(self.fd.as_fd(), &packet) {
            Ok(48) => Ok(()),
            Ok(n) => Err(format!("wrote {n} of 48 bytes to {}", self.path.display())),
            Err(e) => Err(format!("failed to write an input packet to {}: {e}", self.path.display())),
        }
    }

    fn drain(&mut self) -> Result<(), String> {
        let mut buf = [0u8; 24 * 64];
        loop {
            match nix::unistd::read(self.fd.as_fd(), &mut buf) {
                Ok(0) | Err(Errno::EAGAIN) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(format!("failed to read {}: {e}", self.path.display())),
            }
        }
    }
}
