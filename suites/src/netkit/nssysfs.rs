//! sysfs as a network namespace sees it: /sys/class/net lists the devices of the namespace sysfs
//! was mounted from, so a device moved into a test namespace is reached through a sysfs mounted
//! by a thread inside that namespace (at `/run/pc-sysfs-<pid>-<ns>`), unmounted on drop.

use super::netns::NetNs;
use super::NetError;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::fs;
use std::path::{Path, PathBuf};

/// A sysfs mount tagged with one network namespace.
#[derive(Debug)]
pub struct NsSysfs {
    root: PathBuf,
}

impl NsSysfs {
    /// Mount sysfs from inside `ns`.
    pub fn mount(ns: &NetNs) -> Result<Self, NetError> {
        let root = PathBuf::from(format!("/run/pc-sysfs-{}-{}", std::process::id(), ns.name()));
        fs::create_dir_all(&root).map_err(NetError::io(format!("create {}", root.display())))?;
        let target = root.clone();
        let res = ns.try_run(move || {
            mount(Some("sysfs"), &target, Some("sysfs"), MsFlags::empty(), None::<&str>)
                .map_err(NetError::sys(format!("mount sysfs at {} inside the namespace", target.display())))
        });
        match res {
            Ok(()) => Ok(Self { root }),
            Err(e) => {
                let _ = fs::remove_dir(&root);
                Err(e)
            }
        }
    }

    /// `/sys/class/net/<ifname>/<attr>` of this namespace.
    pub fn net_attr(&self, ifname: &str, attr: &str) -> PathBuf {
        self.root.join("class/net").join(ifname).join(attr)
    }

    /// Read a device attribute, trimmed.
    pub fn read(&self, ifname: &str, attr: &str) -> Result<String, NetError> {
        let p = self.net_attr(ifname, attr);
        fs::read_to_string(&p).map(|s| s.trim().to_owned()).map_err(NetError::io(format!("read {}", shown(&p))))
    }

    /// Write a device attribute; the error keeps the kernel's errno.
    pub fn write(&self, ifname: &str, attr: &str, value: &str) -> Result<(), NetError> {
        let p = self.net_attr(ifname, attr);
        fs::write(&p, value).map_err(NetError::io(format!("write {value} to {}", shown(&p))))
    }
}

/// The path as the namespace's own /sys would show it.
fn shown(p: &Path) -> String {
    let s = p.display().to_string();
    match s.find("/class/net/") {
        Some(i) => format!("/sys{}", &s[i..]),
        None => s,
    }
}

impl Drop for NsSysfs {
    fn drop(&mut self) {
        let _ = umount2(&self.root, MntFlags::MNT_DETACH);
        let _ = fs::remove_dir(&self.root);
    }
}
