//! The on-disk cache: its location, content-keyed kernel entries, their manifests and verification.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalogue::Deb;
use crate::ImageError;

/// The cache root (`$POLLCHECK_CACHE`, else `$XDG_CACHE_HOME/pollcheck`, else `~/.cache/pollcheck`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache named by the environment.
    pub fn open_default() -> Result<Cache, ImageError> {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let root = env("POLLCHECK_CACHE")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("pollcheck")))
            .or_else(|| env("HOME").map(|h| h.join(".cache/pollcheck")))
            .ok_or(ImageError::NoCacheDir)?;
        Ok(Cache::at(root))
    }

    /// A cache rooted at `root` (created on first write).
    pub fn at(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn kernels_dir(&self) -> PathBuf {
        self.root.join("kernels")
    }

    pub(crate) fn catalogue_path(&self) -> PathBuf {
        self.root.join("catalogue.json")
    }

    pub(crate) fn apt_dir(&self) -> PathBuf {
        self.root.join("apt")
    }

    /// The entry directory of one Debian package version.
    pub(crate) fn entry_dir(&self, package: &str, version: &str) -> PathBuf {
        self.kernels_dir().join(entry_key(package, version))
    }

    /// Manifests of every complete entry (temp dirs and unreadable manifests skipped).
    pub(crate) fn entries(&self) -> Vec<(PathBuf, Manifest)> {
        let Ok(dir) = std::fs::read_dir(self.kernels_dir()) else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
            .filter_map(|p| Manifest::load(&p).map(|m| (p, m)))
            .collect()
    }
}

/// A directory name for `package_version`: only `[A-Za-z0-9.+-]`, everything else becomes `_`.
pub fn entry_key(package: &str, version: &str) -> String {
    format!("{package}_{version}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || ".+-".contains(c) { c } else { '_' })
        .collect()
}

/// What an entry holds and the checksums to verify it with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub package: String,
    pub version: String,
    pub release: String,
    pub vmlinuz_size: u64,
    pub vmlinuz_sha256: String,
    pub has_modules: bool,
    pub has_config: bool,
    pub debs: Vec<Deb>,
}

pub(crate) const MANIFEST: &str = "manifest.json";

impl Manifest {
    pub(crate) fn load(entry: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(entry.join(MANIFEST)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub(crate) fn save(&self, entry: &Path) -> Result<(), ImageError> {
        let path = entry.join(MANIFEST);
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| ImageError::Parse { path: path.clone(), why: e.to_string() })?;
        write_atomic(&path, json.as_bytes())
    }

    /// Checks the entry against this manifest; Err(reason) names the first thing that is wrong.
    pub(crate) fn verify(&self, entry: &Path) -> Result<(), String> {
        let vmlinuz = entry.join("vmlinuz");
        let size = std::fs::metadata(&vmlinuz).map_err(|e| format!("vmlinuz unreadable: {e}"))?.len();
        if size != self.vmlinuz_size {
            return Err(format!("vmlinuz is {size} bytes, manifest says {}", self.vmlinuz_size));
        }
        let sum = sha256_file(&vmlinuz).map_err(|e| format!("vmlinuz unreadable: {e}"))?;
        if sum != self.vmlinuz_sha256 {
            return Err("vmlinuz sha256 differs from the manifest".into());
        }
        if self.has_modules && !entry.join("modules").join(&self.release).is_dir() {
            return Err("modules directory is missing".into());
        }
        if self.has_config && !entry.join("config").is_file() {
            return Err("config is missing".into());
        }
        Ok(())
    }
}

/// Lower-case hex SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, ImageError> {
    let mut f = std::fs::File::open(path).map_err(ImageError::io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(ImageError::io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `bytes` to `path` via a temp file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ImageError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(ImageError::io(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(ImageError::io(dir))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(ImageError::io(path))?;
    tmp.persist(path).map_err(|e| ImageError::Io { path: path.to_path_buf(), source: e.error })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        "linux-image-7.3.4+deb13-cloud-amd64",
        "7.3.4-1~bpo13+1",
        "linux-image-7.3.4+deb13-cloud-amd64_7.3.4-1_bpo13+1"
    )]
    #[case("linux-image-6.1.0-50-cloud-amd64", "1:6.1.176-1", "linux-image-6.1.0-50-cloud-amd64_1_6.1.176-1")]
    fn keys(#[case] p: &str, #[case] v: &str, #[case] want: &str) {
        assert_eq!(entry_key(p, v), want);
    }

    #[test]
    fn manifest_detects_corruption() {
        let dir = tempfile::tempdir().expect("tempdir");
        let entry = dir.path();
        std::fs::write(entry.join("vmlinuz"), b"kernel").expect("write");
        let m = Manifest {
            package: "p".into(),
            version: "1".into(),
            release: "r".into(),
            vmlinuz_size: 6,
            vmlinuz_sha256: sha256_file(&entry.join("vmlinuz")).expect("sum"),
            has_modules: false,
            has_config: false,
            debs: vec![],
        };
        m.save(entry).expect("save");
        assert_eq!(Manifest::load(entry), Some(m.clone()));
        assert_eq!(m.verify(entry), Ok(()));
        std::fs::write(entry.join("vmlinuz"), b"kernEl").expect("write");
        assert!(m.verify(entry).is_err());
        std::fs::write(entry.join("vmlinuz"), b"k").expect("write");
        assert!(m.verify(entry).expect_err("size").contains("bytes"));
    }

    #[test]
    fn sha256_of_known_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("f");
        std::fs::write(&p, b"abc").expect("write");
        assert_eq!(sha256_file(&p).expect("sum"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn default_location_honours_env_order() {
        // Only the pure part: `at` keeps the root as given.
        assert_eq!(Cache::at("/x/y").root(), Path::new("/x/y"));
    }
}
