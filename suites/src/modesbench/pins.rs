//! The guest-wide placement a mode measures under, each value put back when its guard drops: the
//! steered queue's IRQ on the server's vCPU and the client NIC's IRQs on the client's
//! (/proc/irq/N/smp_affinity_list), the server's replies leaving on the steered queue pair
//! (XPS, queues/tx-N/xps_cpus: tun steers a flow's next packets to the queue the guest last sent
//! it on, drivers/net/tun.c tun_flow_update), and the busy-poll sysctls at 0 so only what a mode
//! sets busy polls (Documentation/admin-guide/sysctl/net.rst busy_poll, busy_read).

use crate::netkit::irqs::parse_interrupts;
use std::fs;
use std::path::{Path, PathBuf};

/// A file's previous contents, written back on drop.
#[derive(Debug)]
pub struct Restore {
    path: PathBuf,
    original: String,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = fs::write(&self.path, &self.original);
    }
}

/// Write `value` to `path`, keeping what was there for the guard.
pub fn set(path: &Path, value: &str) -> Result<Restore, String> {
    let original = fs::read_to_string(path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    fs::write(path, value).map_err(|e| format!("failed to write {value} to {}: {e}", path.display()))?;
    Ok(Restore { path: path.to_owned(), original: original.trim().to_owned() })
}

/// The guards of one placement, and what it did (or could not do), for the case's log.
#[derive(Debug, Default)]
pub struct Placement {
    guards: Vec<Restore>,
    pub notes: Vec<String>,
}

impl Placement {
    /// `set`, noting a failure instead of failing: the measurement goes on, and says so.
    pub fn try_set(&mut self, path: &Path, value: &str, what: &str) {
        match set(path, value) {
            Ok(g) => self.guards.push(g),
            Err(e) => self.notes.push(format!("{what}: {e}")),
        }
    }
}

/// The IRQ numbers of /proc/interrupts lines whose name starts with `prefix`.
pub fn irqs_named_like(interrupts: &str, prefix: &str) -> Vec<u32> {
    parse_interrupts(interrupts).into_iter().filter(|l| l.name.starts_with(prefix)).map(|l| l.irq).collect()
}

/// An XPS CPU mask (hex) holding only `cpu`.
pub fn cpu_mask(cpu: usize) -> String {
    format!("{:x}", 1u64 << cpu)
}

/// IRQ `irq` to `cpu`.
pub fn irq_to(p: &mut Placement, irq: u32, cpu: usize) {
    let path = PathBuf::from(format!("/proc/irq/{irq}/smp_affinity_list"));
    p.try_set(&path, &cpu.to_string(), &format!("pin IRQ {irq} to CPU {cpu}"));
}

/// Every IRQ of the virtio device `dev`'s RX queues (`<dev>-input.*`) to `cpu`.
pub fn rx_irqs_to(p: &mut Placement, dev: &str, cpu: usize) {
    let text = fs::read_to_string("/proc/interrupts").unwrap_or_default();
    for irq in irqs_named_like(&text, &format!("{dev}-input.")) {
        irq_to(p, irq, cpu);
    }
}

/// net.core.busy_poll and busy_read at 0 for the case (they are global: init_net only).
pub fn busy_sysctls_off(p: &mut Placement) {
    for name in ["busy_poll", "busy_read"] {
        let path = PathBuf::from(format!("/proc/sys/net/core/{name}"));
        if path.exists() {
            p.try_set(&path, "0", &format!("net.core.{name} = 0"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_irq_names() {
        assert_eq!(cpu_mask(0), "1");
        assert_eq!(cpu_mask(1), "2");
        assert_eq!(cpu_mask(5), "20");
        let text = "           CPU0       CPU1\n 25:  1  2  PCI-MSIX  1-edge  virtio1-input.0\n 26:  0  0  PCI-MSIX  2-edge  virtio1-output.0\n 27:  3  0  PCI-MSIX  3-edge  virtio1-input.1\n 28:  3  0  PCI-MSIX  3-edge  virtio2-input.0\n";
        assert_eq!(irqs_named_like(text, "virtio1-input."), [25, 27]);
    }

    #[test]
    fn a_guard_writes_the_old_value_back() {
        let dir = tempfile_dir();
        let path = dir.join("knob");
        fs::write(&path, "7\n").expect("write");
        {
            let _g = set(&path, "0").expect("set");
            assert_eq!(fs::read_to_string(&path).expect("read"), "0");
        }
        assert_eq!(fs::read_to_string(&path).expect("read"), "7");
        let mut p = Placement::default();
        p.try_set(&dir.join("missing/knob"), "1", "set a knob");
        assert!(p.notes[0].starts_with("set a knob: failed to read"), "{:?}", p.notes);
        let _ = fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("modesbench-pins-{}", std::process::id()));
        fs::create_dir_all(&d).expect("mkdir");
        d
    }
}
