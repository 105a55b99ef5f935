//! PID-1 duties: mount the pseudo file systems, attach stdio to the console, power off.

use nix::mount::{mount, MsFlags};
use std::fs;
use std::os::fd::AsRawFd;

/// Mount what cases and the agent need. Failures are reported, not fatal: a kernel without
/// debugfs still runs the cases that don't need it.
pub(crate) fn setup() -> Vec<String> {
    let mut problems = Vec::new();
    let mounts: [(&str, &str, &str); 6] = [
        ("proc", "/proc", "proc"),
        ("sysfs", "/sys", "sysfs"),
        ("devtmpfs", "/dev", "devtmpfs"),
        ("tmpfs", "/tmp", "tmpfs"),
        ("tmpfs", "/run", "tmpfs"),
        ("debugfs", "/sys/kernel/debug", "debugfs"),
    ];
    for (src, target, fstype) in mounts {
        let _ = fs::create_dir_all(target);
        if let Err(e) = mount(Some(src), target, Some(fstype), MsFlags::empty(), None::<&str>) {
            if e != nix::errno::Errno::EBUSY {
                problems.push(format!("failed to mount {fstype} on {target}: {e}"));
            }
        }
    }
    attach_console();
    problems
}

/// The kernel starts init without stdio when the initramfs has no /dev/console; give it one so
/// panics and kernel-adjacent messages from cases reach the console log.
fn attach_console() {
    if let Ok(f) = fs::OpenOptions::new().read(true).write(true).open("/dev/console") {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors of this single-threaded process.
            unsafe { libc::dup2(f.as_raw_fd(), fd) };
        }
    }
}

/// End the VM: `reboot -f` semantics; with `reboot=t` and QEMU `-no-reboot` QEMU exits at once.
/// (Kernels without ACPI cannot power off.)
pub(crate) fn power_off() -> ! {
    nix::unistd::sync();
    let _ = nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_AUTOBOOT);
    // reboot(2) only returns on failure; PID 1 must never exit.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
