//! netdevsim pairs (drivers/net/netdevsim/bus.c): create two one-port devices with N queues
//! through /sys/bus/netdevsim/new_device, link their ports across namespaces through
//! link_device ("netnsfd_a:ifindex_a netnsfd_b:ifindex_b"), delete them on drop.

use super::topology::Endpoint;
use super::NetError;
use std::fs;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

const BUS: &str = "/sys/bus/netdevsim";

/// Two netdevsim devices; their ports are `ifnames`.
#[derive(Debug)]
pub struct Linked {
    ids: [u32; 2],
    pub ifnames: [String; 2],
}

/// Whether this kernel has netdevsim (built in, or loaded).
pub fn available() -> Result<(), String> {
    if Path::new(BUS).join("new_device").exists() {
        Ok(())
    } else {
        Err(format!("netdevsim not available: {BUS}/new_device is missing (kernel without CONFIG_NETDEVSIM)"))
    }
}

/// Create two devices with `queues` queues each (ids derived from our pid, so parallel or stale
/// cases don't collide).
pub fn create_pair(queues: u32) -> Result<Linked, NetError> {
    available().map_err(NetError::Unusable)?;
    let base = 1000 + (std::process::id() % 100_000) * 2;
    let ids = [base, base + 1];
    let mut made = Linked { ids: [0, 0], ifnames: [String::new(), String::new()] };
    for (i, id) in ids.into_iter().enumerate() {
        fs::write(Path::new(BUS).join("new_device"), format!("{id} 1 {queues}"))
            .map_err(NetError::io(format!("create netdevsim device {id} with {queues} queues")))?;
        made.ids[i] = id;
        made.ifnames[i] = port_name(id)?;
    }
    Ok(made)
}

fn port_name(id: u32) -> Result<String, NetError> {
    let dir = Path::new(BUS).join(format!("devices/netdevsim{id}/net"));
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(name) = fs::read_dir(&dir).ok().and_then(|d| d.flatten().next()) {
            return Ok(name.file_name().to_string_lossy().into_owned());
        }
        if Instant::now() > until {
            return Err(NetError::Unusable(format!("netdevsim device {id} made no port under {}", dir.display())));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Linked {
    /// Link the two ports, each in its endpoint's namespace.
    pub fn link(&self, a: &Endpoint, b: &Endpoint) -> Result<(), NetError> {
        let spec = format!("{}:{} {}:{}", a.ns.fd().as_raw_fd(), a.ifindex, b.ns.fd().as_raw_fd(), b.ifindex);
        fs::write(Path::new(BUS).join("link_device"), &spec)
            .map_err(NetError::io(format!("link netdevsim ports ({spec})")))
    }
}

impl Drop for Linked {
    fn drop(&mut self) {
        for id in self.ids.into_iter().filter(|&id| id != 0) {
            let _ = fs::write(Path::new(BUS).join("del_device"), id.to_string());
        }
    }
}
