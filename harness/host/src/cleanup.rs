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

/// Remember `dir` for removal on interrupt, and mark it with our pid so a later run can remove
/// it if we are killed outright (SIGKILL leaves no chance to clean up).
pub fn register_dir(dir: PathBuf) {
    let _ = std::fs::write(dir.join(OWNER_FILE), std::process::id().to_string());
    if let Ok(mut r) = REGISTRY.lock() {
        r.dirs.insert(dir);
    }
}

pub fn unregister_dir(dir: &std::path::Path) {
    if let Ok(mut r) = REGISTRY.lock() {
        r.dirs.remove(dir);
    }
}

const OWNER_FILE: &str = ".pollcheck-owner";

/// Remove `pollcheck-*` temp dirs left by runs that were killed (their owner pid is gone).
/// QEMU itself cannot outlive us: it is started with PR_SET_PDEATHSIG.
pub fn sweep_stale(tmp: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for e in entries.flatten() {
        let path = e.path();
        if !e.file_name().to_string_lossy().starts_with("pollcheck-") {
            continue;
        }
        let owner = std::fs::read_to_string(path.join(OWNER_FILE)).ok().and_then(|s| s.trim().parse::<i32>().ok());
        if let Some(pid) = owner {
            if !pid_alive(pid) {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
}

fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH) }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_only_dirs_of_dead_owners() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dead = tmp.path().join("pollcheck-vm-dead");
        let live = tmp.path().join("pollcheck-vm-live");
        let other = tmp.path().join("unrelated");
        for d in [&dead, &live, &other] {
            std::fs::create_dir(d).expect("mkdir");
        }
        // pid_max is at most 2^22, so this pid cannot exist.
        std::fs::write(dead.join(OWNER_FILE), "99999999").expect("write");
        std::fs::write(live.join(OWNER_FILE), std::process::id().to_string()).expect("write");
        sweep_stale(tmp.path());
        assert!(!dead.exists() && live.exists() && other.exists());
    }
}
