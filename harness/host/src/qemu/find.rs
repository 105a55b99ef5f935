//! Which QEMU runs the guests: `$POLLCHECK_QEMU`, else `qemu-system-x86_64` on PATH, and its
//! version (every report names it next to the accelerator).

use crate::error::HostError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The QEMU binary and the version it reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qemu {
    pub path: PathBuf,
    /// `7.2.19`, from `QEMU emulator version 7.2.19 (Debian …)`; empty if it could not be read.
    pub version: String,
    /// The whole first line of `--version`, for cache keys.
    pub version_line: String,
}

impl Qemu {
    /// Finds QEMU and asks it its version.
    pub fn find() -> Result<Self, HostError> {
        let path = locate()?;
        let version_line = duct::cmd(&path, ["--version"])
            .stderr_null()
            .unchecked()
            .read()
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(Self { version: version_of(&version_line), path, version_line })
    }

    /// `(major, minor)` of the version, when known.
    pub fn major_minor(&self) -> Option<(u32, u32)> {
        let mut parts = self.version.split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    }
}

fn locate() -> Result<PathBuf, HostError> {
    if let Some(p) = std::env::var_os("POLLCHECK_QEMU") {
        let p = PathBuf::from(p);
        return if p.is_file() { Ok(p) } else { Err(HostError::QemuNotAt(p)) };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("qemu-system-x86_64"))
        .find(|p| p.is_file())
        .ok_or(HostError::QemuMissing)
}

/// The version number in QEMU's `--version` line (pure).
pub fn version_of(line: &str) -> String {
    line.split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_number() {
        assert_eq!(version_of("QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)"), "7.2.19");
        assert_eq!(version_of("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)"), "10.0.2");
        assert_eq!(version_of("something else"), "");
        let q = Qemu { path: "/q".into(), version: "10.0.2".into(), version_line: String::new() };
        assert_eq!(q.major_minor(), Some((10, 0)));
    }
}
