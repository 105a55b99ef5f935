//! What must not outlive a run (QEMU process groups, temp dirs), and the Ctrl-C handler that
//! removes it when the user interrupts.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Default)]
struct Registry {
    pgids: BTreeSet<i32>,
    dirs: BTreeSet<PathBuf>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { pgids: BTreeSet::new(), dirs: BTreeSet::new() });

pub fn register_pgid(pgid: i32) {
    if pgid > 0 {
        if let Ok(mut r) = REGISTRY.lock() {
            r.pgids.insert(pgid);
        }
    }
}

pub fn unregister_pgid(pgid: i32) {
    if let Ok(mut r) = REGISTRY.lock() {
        r.pgids.remove(&pgid);
    }
}

pub fn register_dir(dir: PathBuf) {
    if let Ok(mut r) = REGISTRY.lock() {
        r.dirs.insert(dir);
    }
}

pub fn unregister_dir(dir: &std::path::Path) {
    if let Ok(mut r) = REGISTRY.lock() {
        r.dirs.remove(dir);
    }
}

/// Kill every registered QEMU group and remove every registered temp dir.
pub fn clean_up_now() {
    let Ok(r) = REGISTRY.lock() else { return };
    for &pgid in &r.pgids {
        // SAFETY: plain syscall on process groups we created.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
    for d in &r.dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// On SIGINT/SIGTERM/SIGHUP: clean up, then exit 130 as a shell would.
pub fn install_interrupt_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            eprintln!("pollcheck: interrupted; stopping VMs and removing temporary files");
            clean_up_now();
            std::process::exit(130);
        });
    });
}
