//! The catalogue: which Debian cloud-amd64 kernels the archive offers, and which .debs make each.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::control::{parse_relations, Stanza};
use crate::{debversion, ImageError};

/// The flavour this crate fetches.
pub const FLAVOUR: &str = "cloud-amd64";
/// How long a cached catalogue is trusted before `apt-get update` runs again.
pub const MAX_AGE_SECS: u64 = 24 * 60 * 60;

/// One .deb as the apt index describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deb {
    pub package: String,
    pub version: String,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
}

/// One installable kernel: its release, Debian version and the .debs that carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueKernel {
    /// `uname -r`, e.g. `7.3.4+deb13-cloud-amd64` or `6.1.0-50-cloud-amd64`.
    pub release: String,
    /// Debian package version, e.g. `7.3.4-1~bpo13+1`.
    pub version: String,
    /// `linux-image-<release>`.
    pub package: String,
    /// The .debs to download: the image itself (old layout) or binary + modules + base (split layout).
    pub debs: Vec<Deb>,
    /// False when the archive lacks the modules package of a split kernel.
    pub has_modules: bool,
}

/// The parsed list of available kernels, with the time it was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub fetched_at_unix: u64,
    pub kernels: Vec<CatalogueKernel>,
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `major.minor` of a Debian version (`7.3.4-1~bpo13+1` → `7.3`, `7.3~rc7-1` → `7.3`).
pub fn minor_of(version: &str) -> String {
    let up = debversion::upstream(version);
    up.split(['.', '~', '+', '-']).take(2).collect::<Vec<_>>().join(".")
}

/// The saved catalogue if fresh, else a refreshed one (`apt-get update` in the private state),
/// else, offline, the stale saved one (saying so through `progress`).
pub fn current(cache: &crate::Cache, progress: &dyn crate::Progress) -> Result<Catalogue, ImageError> {
    let saved = Catalogue::load(&cache.catalogue_path());
    if let Some(c) = saved.as_ref().filter(|c| c.is_fresh()) {
        return Ok(c.clone());
    }
    match refresh(cache, progress) {
        Ok((_, c)) => Ok(c),
        Err(e) => match saved {
            Some(old) => {
                let age_h = now_unix().saturating_sub(old.fetched_at_unix) / 3600;
                progress.message(&format!("{e}; using the saved kernel catalogue ({age_h} h old)"));
                Ok(old)
            }
            None => Err(e),
        },
    }
}

/// `apt-get update` and a new catalogue, saved in the cache.
pub(crate) fn refresh(
    cache: &crate::Cache,
    progress: &dyn crate::Progress,
) -> Result<(crate::apt::Apt, Catalogue), ImageError> {
    let apt = crate::apt::Apt::new(&cache.apt_dir(), &crate::apt::system_mirror()?)?;
    progress.message("updating the Debian kernel catalogue (apt-get update)");
    apt.update()?;
    let catalogue = Catalogue::from_stanzas(&apt.kernel_stanzas()?, now_unix());
    catalogue.save(&cache.catalogue_path())?;
    Ok((apt, catalogue))
}

fn deb_of(s: &Stanza) -> Option<Deb> {
    Some(Deb {
        package: s.get("Package")?.clone(),
        version: s.get("Version")?.clone(),
        filename: s.get("Filename")?.clone(),
        size: s.get("Size")?.parse().ok()?,
        sha256: s.get("SHA256")?.clone(),
    })
}

/// The release named by an image package, `linux-image-<release>`; None for meta, -dbg and -unsigned.
fn image_release(package: &str) -> Option<&str> {
    let release = package.strip_prefix("linux-image-")?;
    let abi = release.strip_suffix(FLAVOUR)?.strip_suffix('-')?;
    abi.starts_with(|c: char| c.is_ascii_digit()).then_some(release)
}

impl Catalogue {
    /// Builds the catalogue from `apt-cache show` stanzas of image, binary, modules and base packages.
    pub fn from_stanzas(stanzas: &[Stanza], fetched_at_unix: u64) -> Catalogue {
        let debs: Vec<Deb> = stanzas.iter().filter_map(deb_of).collect();
        let find = |pkg: &str, ver: &str| debs.iter().find(|d| d.package == pkg && d.version == ver).cloned();
        let mut kernels: Vec<CatalogueKernel> = Vec::new();
        for s in stanzas {
            let (Some(image), Some(release)) = (deb_of(s), s.get("Package").and_then(|p| image_release(p))) else {
                continue;
            };
            let rels = s.get("Depends").map(|d| parse_relations(d)).unwrap_or_default();
            let binary = format!("linux-binary-{release}");
            let split = rels.iter().find(|r| r.package == binary);
            let (debs, has_modules) = match split {
                Some(rel) => {
                    let ver = rel.exact.as_deref().unwrap_or(&image.version);
                    let Some(bin) = find(&binary, ver) else { continue };
                    let modules = find(&format!("linux-modules-{release}"), ver);
                    let base = find(&format!("linux-base-{release}"), ver);
                    let has_modules = modules.is_some();
                    let debs = std::iter::once(bin).chain(modules).chain(base).collect();
                    (debs, has_modules)
                }
                None => (vec![image.clone()], true),
            };
            let k = CatalogueKernel {
                release: release.to_string(),
                version: image.version.clone(),
                package: image.package.clone(),
                debs,
                has_modules,
            };
            if !kernels.iter().any(|o| o.package == k.package && o.version == k.version) {
                kernels.push(k);
            }
        }
        kernels.sort_by(|a, b| debversion::compare(&a.version, &b.version));
        Catalogue { fetched_at_unix, kernels }
    }

    /// True when the catalogue is younger than [`MAX_AGE_SECS`].
    pub fn is_fresh(&self) -> bool {
        now_unix().saturating_sub(self.fetched_at_unix) < MAX_AGE_SECS
    }

    /// Reads a catalogue saved by [`Catalogue::save`]; None when absent or unreadable.
    pub fn load(path: &Path) -> Option<Catalogue> {
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The newest kernel of each `major.minor` (the catalogue is sorted oldest first).
    pub fn newest_per_minor(&self) -> Vec<&CatalogueKernel> {
        let ks = &self.kernels;
        ks.iter()
            .enumerate()
            .filter(|(i, k)| !ks[i + 1..].iter().any(|o| minor_of(&o.version) == minor_of(&k.version)))
            .map(|(_, k)| k)
            .collect()
    }

    /// Writes the catalogue atomically.
    pub fn save(&self, path: &Path) -> Result<(), ImageError> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| ImageError::Parse { path: path.to_path_buf(), why: e.to_string() })?;
        crate::cache::write_atomic(path, json.as_bytes())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::control::parse_stanzas;

    fn k(version: &str) -> CatalogueKernel {
        CatalogueKernel {
            release: format!("{version}-cloud-amd64"),
            version: version.into(),
            package: format!("linux-image-{version}"),
            debs: vec![],
            has_modules: true,
        }
    }

    #[test]
    fn newest_per_minor() {
        let kernels = vec![k("6.1.170-3"), k("6.1.176-1"), k("7.2.13-1"), k("7.3~rc7-1~exp1"), k("7.3.4-1~bpo13+1")];
        let cat = Catalogue { fetched_at_unix: 0, kernels };
        let got: Vec<&str> = cat.newest_per_minor().iter().map(|k| k.version.as_str()).collect();
        assert_eq!(got, ["6.1.176-1", "7.2.13-1", "7.3.4-1~bpo13+1"]);
        assert_eq!(minor_of("7.3~rc7-1~exp1"), "7.3");
    }

    pub(crate) const SHOW: &str = "\
Package: linux-image-7.3.4+deb13-cloud-amd64
Version: 7.3.4-1~bpo13+1
Depends: dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, linux-base-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1), linux-binary-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1), linux-modules-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1)
Filename: pool/main/l/linux-signed-amd64/linux-image-7.3.4+deb13-cloud-amd64_7.3.4-1~bpo13+1_amd64.deb
Size: 1928
SHA256: aa

Package: linux-binary-7.3.4+deb13-cloud-amd64
Version: 7.3.4-1~bpo13+1
Filename: pool/b.deb
Size: 13000000
SHA256: bb

Package: linux-modules-7.3.4+deb13-cloud-amd64
Version: 7.3.4-1~bpo13+1
Filename: pool/m.deb
Size: 22000000
SHA256: cc

Package: linux-base-7.3.4+deb13-cloud-amd64
Version: 7.3.4-1~bpo13+1
Filename: pool/base.deb
Size: 1000000
SHA256: dd

Package: linux-image-7.3-cloud-amd64
Version: 7.3~rc7-1~exp1
Depends: linux-binary-7.3-cloud-amd64 (= 7.3~rc7-1~exp1), linux-modules-7.3-cloud-amd64 (= 7.3~rc7-1~exp1)
Filename: pool/rc.deb
Size: 1900
SHA256: ee

Package: linux-binary-7.3-cloud-amd64
Version: 7.3~rc7-1~exp1
Filename: pool/rcb.deb
Size: 13000000
SHA256: ff

Package: linux-image-7.0.13+deb13-cloud-amd64
Version: 7.0.13-1~bpo13+1
Depends: linux-binary-7.0.13+deb13-cloud-amd64 (= 7.0.13-1~bpo13+1), linux-modules-7.0.13+deb13-cloud-amd64 (= 7.0.13-1~bpo13+1)
Filename: pool/70.deb
Size: 1900
SHA256: 11

Package: linux-image-6.19.14+deb13-cloud-amd64
Version: 6.19.14-1~bpo13+1
Depends: linux-binary-6.19.14+deb13-cloud-amd64 (= 6.19.14-1~bpo13+1)
Filename: pool/619.deb
Size: 1900
SHA256: 12

Package: linux-binary-6.19.14+deb13-cloud-amd64
Version: 6.19.14-1~bpo13+1
Filename: pool/619b.deb
Size: 13000000
SHA256: 13

Package: linux-image-6.12.107+deb13-cloud-amd64
Version: 6.12.107-1
Depends: kmod, initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
Filename: pool/612.deb
Size: 34402644
SHA256: 22

Package: linux-image-6.1.0-50-cloud-amd64
Version: 6.1.176-1
Depends: kmod, linux-base (>= 4.3~)
Filename: pool/61.deb
Size: 26484304
SHA256: 33

Package: linux-image-6.1.0-50-cloud-amd64-dbg
Version: 6.1.176-1
Filename: pool/61dbg.deb
Size: 900000000
SHA256: 44

Package: linux-image-cloud-amd64
Version: 7.3.4-1~bpo13+1
Depends: linux-image-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1)
Filename: pool/meta.deb
Size: 1000
SHA256: 55
";

    pub(crate) fn sample() -> Catalogue {
        Catalogue::from_stanzas(&parse_stanzas(SHOW), 1)
    }

    #[test]
    fn builds_kernels_in_version_order() {
        let c = sample();
        let got: Vec<_> = c.kernels.iter().map(|k| k.version.as_str()).collect();
        // 7.0.13 is dropped: its binary package is not in the index.
        assert_eq!(got, ["6.1.176-1", "6.12.107-1", "6.19.14-1~bpo13+1", "7.3~rc7-1~exp1", "7.3.4-1~bpo13+1"]);
    }

    #[test]
    fn split_kernels_take_binary_modules_base() {
        let c = sample();
        let k = c.kernels.last().expect("kernels");
        assert_eq!(k.release, "7.3.4+deb13-cloud-amd64");
        let pkgs: Vec<_> = k.debs.iter().map(|d| d.package.as_str()).collect();
        assert_eq!(
            pkgs,
            [
                "linux-binary-7.3.4+deb13-cloud-amd64",
                "linux-modules-7.3.4+deb13-cloud-amd64",
                "linux-base-7.3.4+deb13-cloud-amd64"
            ]
        );
        assert!(k.has_modules);
        let k619 = &c.kernels[2];
        assert!(!k619.has_modules);
        let k61 = &c.kernels[0];
        assert_eq!(k61.debs.len(), 1);
        assert_eq!(k61.debs[0].package, "linux-image-6.1.0-50-cloud-amd64");
    }

    #[test]
    fn json_round_trip() {
        let c = sample();
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("catalogue.json");
        c.save(&p).expect("save");
        assert_eq!(Catalogue::load(&p), Some(c));
    }
}
