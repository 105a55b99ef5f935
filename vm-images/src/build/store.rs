//! Cache entries of finished builds: `<cache>/builds/<key>/{bzImage,.config,build.log,release}`.

use std::path::{Path, PathBuf};

use super::error::BuildError;

/// A built kernel in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltKernel {
    pub bzimage: PathBuf,
    pub config: PathBuf,
    /// `uname -r` of the kernel, e.g. `7.2.13`.
    pub release: String,
    pub log: PathBuf,
}

/// The entry directory of `key`.
pub fn entry_dir(cache_root: &Path, key: &str) -> PathBuf {
    cache_root.join("builds").join(key)
}

/// A complete entry, or `None` (a half-written entry never has its `release` file).
pub fn load(entry: &Path) -> Option<BuiltKernel> {
    let release = std::fs::read_to_string(entry.join("release")).ok()?.trim().to_string();
    let k = BuiltKernel {
        bzimage: entry.join("bzImage"),
        config: entry.join(".config"),
        release,
        log: entry.join("build.log"),
    };
    (k.bzimage.is_file() && k.config.is_file()).then_some(k)
}

/// Copies the build outputs into a temp dir and renames it to `entry`, replacing an older entry.
pub fn save(entry: &Path, obj: &Path, log: &Path) -> Result<BuiltKernel, BuildError> {
    let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("entry");
    let tmp = entry.with_file_name(format!(".tmp-{name}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(BuildError::io(&tmp))?;
    for (from, to) in [
        (obj.join("arch/x86/boot/bzImage"), "bzImage"),
        (obj.join(".config"), ".config"),
        (log.to_path_buf(), "build.log"),
    ] {
        std::fs::copy(&from, tmp.join(to)).map_err(BuildError::io(&from))?;
    }
    let rel_path = obj.join("include/config/kernel.release");
    let release = std::fs::read_to_string(&rel_path).map_err(BuildError::io(&rel_path))?;
    std::fs::write(tmp.join("release"), release.trim()).map_err(BuildError::io(&tmp))?;
    let _ = std::fs::remove_dir_all(entry);
    std::fs::rename(&tmp, entry).map_err(BuildError::io(entry))?;
    load(entry).ok_or_else(|| BuildError::Io {
        path: entry.to_path_buf(),
        source: std::io::Error::other("cache entry incomplete after saving"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let obj = dir.path().join("obj");
        std::fs::create_dir_all(obj.join("arch/x86/boot")).expect("mkdir");
        std::fs::create_dir_all(obj.join("include/config")).expect("mkdir");
        std::fs::write(obj.join("arch/x86/boot/bzImage"), b"image").expect("w");
        std::fs::write(obj.join(".config"), b"CONFIG_A=y\n").expect("w");
        std::fs::write(obj.join("include/config/kernel.release"), b"7.2.13\n").expect("w");
        let log = dir.path().join("l.log");
        std::fs::write(&log, b"log").expect("w");
        let entry = entry_dir(dir.path(), "k");
        assert_eq!(load(&entry), None);
        let k = save(&entry, &obj, &log).expect("save");
        assert_eq!(k.release, "7.2.13");
        assert_eq!(load(&entry), Some(k));
    }
}
