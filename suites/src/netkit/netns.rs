//! Named network namespaces in the guest (`/run/netns/<name>`, as iproute2 makes them), and
//! running code inside one: sockets opened there stay in it.

use super::NetError;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use std::fs;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

const DIR: &str = "/run/netns";

/// A network namespace bound at `/run/netns/<name>`; dropping it unbinds it (the kernel frees
/// it once nothing else — a socket, a device moved back, a process — holds it).
#[derive(Debug)]
pub struct NetNs {
    name: String,
    fd: OwnedFd,
}

impl NetNs {
    /// Create a fresh namespace named `name`. A name already bound is an error, not a reuse.
    pub fn create(name: &str) -> Result<Self, NetError> {
        let path = Self::path_of(name);
        if path.exists() {
            return Err(NetError::Unusable(format!(
                "network namespace {name} already exists ({}): remove it or choose another name",
                path.display()
            )));
        }
        fs::create_dir_all(DIR).map_err(NetError::io(format!("create {DIR}")))?;
        fs::File::create(&path).map_err(NetError::io(format!("create {}", path.display())))?;
        let made = std::thread::scope(|s| {
            s.spawn(|| -> Result<OwnedFd, NetError> {
                unshare(CloneFlags::CLONE_NEWNET).map_err(NetError::sys("unshare a network namespace"))?;
                let own = "/proc/thread-self/ns/net";
                mount(Some(own), &path, None::<&str>, MsFlags::MS_BIND, None::<&str>)
                    .map_err(NetError::sys(format!("bind the namespace at {}", path.display())))?;
                fs::File::open(&path).map(OwnedFd::from).map_err(NetError::io(format!("open {}", path.display())))
            })
            .join()
            .unwrap_or_else(|_| Err(NetError::Unusable("the namespace-creating thread panicked".into())))
        });
        match made {
            Ok(fd) => Ok(Self { name: name.to_owned(), fd }),
            Err(e) => {
                let _ = fs::remove_file(&path);
                Err(e)
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn path_of(name: &str) -> PathBuf {
        PathBuf::from(DIR).join(name)
    }

    /// Run `f` on a thread that has entered this namespace; what it opens stays in here.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, NetError> {
        std::thread::scope(|s| {
            s.spawn(|| -> Result<T, NetError> {
                setns(self.fd.as_fd(), CloneFlags::CLONE_NEWNET)
                    .map_err(NetError::sys(format!("enter network namespace {}", self.name)))?;
                Ok(f())
            })
            .join()
            .unwrap_or_else(|_| Err(NetError::Unusable(format!("a thread in namespace {} panicked", self.name))))
        })
    }

    /// Like [`run`](Self::run) for closures that can fail themselves.
    pub fn try_run<T: Send>(&self, f: impl FnOnce() -> Result<T, NetError> + Send) -> Result<T, NetError> {
        self.run(f)?
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let path = Self::path_of(&self.name);
        let _ = umount2(&path, MntFlags::MNT_DETACH);
        let _ = fs::remove_file(&path);
    }
}
