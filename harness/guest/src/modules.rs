//! Loading the kernel modules the host packed into the initramfs, in the order it chose.

use pollcheck_proto::boot;
use std::fs;
use std::path::Path;

/// Load every module the order file under `root` lists (one file name per line, dependencies
/// first; the layout is `pollcheck_proto::boot`'s). Returns (loaded, failed-with-reason). A
/// module already present counts as loaded.
pub(crate) fn load_all(root: &Path) -> (Vec<String>, Vec<String>) {
    let mut loaded = Vec::new();
    let mut failed = Vec::new();
    let dir = root.join(boot::MODULES_DIR);
    let Ok(order) = fs::read_to_string(root.join(boot::MODULE_ORDER)) else {
        return (loaded, failed);
    };
    for name in order.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match load_one(&dir.join(name)) {
            Ok(()) => loaded.push(name.to_owned()),
            Err(e) => failed.push(format!("{name}: {e}")),
        }
    }
    (loaded, failed)
}

fn load_one(path: &Path) -> Result<(), String> {
    let file = fs::File::open(path).map_err(|e| format!("failed to open: {e}"))?;
    match nix::kmod::finit_module(&file, c"", nix::kmod::ModuleInitFlags::empty()) {
        Ok(()) | Err(nix::errno::Errno::EEXIST) => Ok(()),
        Err(e) => Err(format!("failed to load: {e}")),
    }
}
