//! `resolve`: from a spec to a verified kernel image on disk (path check, catalogue, cache, fetch).

use std::path::{Path, PathBuf};

use crate::apt::{self, Apt};
use crate::build::{self, BuildRequest, SourceSpec};
use crate::cache::{Cache, Manifest};
use crate::catalogue::Catalogue;
use crate::spec::{self, SourceBuildSpec, Spec};
use crate::{bzimage, fetch, modules, ImageError, Progress};

/// A kernel ready to boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelImage {
    /// The spec it was resolved from.
    pub spec: String,
    pub bzimage: PathBuf,
    /// `…/modules/<release>` (has `kernel/` and usually `modules.builtin`), when known.
    pub modules_dir: Option<PathBuf>,
    /// `uname -r`.
    pub release: String,
    /// The kernel's .config, when known.
    pub config: Option<PathBuf>,
}

/// Resolves `spec` (a bzImage path, `default`, a Debian version, or `src:<version>[+<patch set>]`)
/// to a kernel image.
pub fn resolve(
    spec: &str,
    modules: Option<&Path>,
    cache: &Cache,
    progress: &dyn Progress,
) -> Result<KernelImage, ImageError> {
    match Spec::parse(spec) {
        Spec::Source(rest) => from_source(spec, &rest, cache, progress),
        Spec::Path(path) => from_path(spec, &path, modules),
        parsed => from_debian(spec, &parsed, cache, progress),
    }
}

/// `src:7.2[+set]`: builds `linux-source-7.2` with the default fragments (and the set's patches),
/// or returns the cached build of the same inputs.
fn from_source(spec_text: &str, rest: &str, cache: &Cache, progress: &dyn Progress) -> Result<KernelImage, ImageError> {
    let bad = |why: String| ImageError::BadSpec { spec: spec_text.to_string(), why };
    let parsed = SourceBuildSpec::parse(rest).map_err(bad)?;
    let fixtures = spec::fixtures_dir();
    let mut patches = Vec::new();
    for set in &parsed.sets {
        patches.extend(spec::patch_set(&fixtures, set).map_err(bad)?);
    }
    let req = BuildRequest {
        source: SourceSpec::DebianVersion(parsed.version.clone()),
        patches,
        fragments: spec::default_fragments(&fixtures),
    };
    let started = std::time::Instant::now();
    let mut lines = 0u64;
    let mut on_line = |line: &str| {
        if lines == 0 {
            progress.message(&format!(
                "building {spec_text} (linux-source-{}, {} patches); the first build takes minutes, later ones are cached",
                parsed.version,
                req.patches.len()
            ));
        }
        lines += 1;
        if let Some(msg) = line.strip_prefix("pollcheck: ") {
            progress.message(msg);
        } else if lines.is_multiple_of(BUILD_LINES_PER_MESSAGE) {
            progress.message(&format!("building {spec_text}: {lines} lines of output, at: {}", line.trim()));
        }
    };
    let built = build::build(&req, cache.root(), &mut on_line)
        .map_err(|source| ImageError::Build { spec: spec_text.to_string(), source })?;
    if lines > 0 {
        progress.message(&format!(
            "built {spec_text} ({}) in {:.0} s: {}",
            built.release,
            started.elapsed().as_secs_f64(),
            built.bzimage.display()
        ));
    }
    if let Some(entry) = built.bzimage.parent() {
        mark_used(entry);
    }
    Ok(KernelImage {
        spec: spec_text.to_string(),
        bzimage: built.bzimage,
        modules_dir: None,
        release: built.release,
        config: Some(built.config),
    })
}

/// One progress message per this many lines of build output.
const BUILD_LINES_PER_MESSAGE: u64 = 200;

/// Best effort: sets a cache entry's mtime to now, so `pollcheck kernels prune` sees it as used.
pub(crate) fn mark_used(entry: &Path) {
    if let Ok(dir) = std::fs::File::open(entry) {
        let _ = dir.set_modified(std::time::SystemTime::now());
    }
}

fn from_path(spec: &str, path: &Path, modules: Option<&Path>) -> Result<KernelImage, ImageError> {
    let info = bzimage::read_bzimage(path)?;
    let release = info.release;
    let modules_dir = match modules {
        None => None,
        Some(dir) => Some(check_modules_dir(dir, &release)?),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let config =
        [dir.join(format!("config-{release}")), dir.join("../../../.config")].into_iter().find(|p| p.is_file());
    Ok(KernelImage { spec: spec.to_string(), bzimage: path.to_path_buf(), modules_dir, release, config })
}

/// Accepts `dir` if it is (or contains) the modules of `release`.
fn check_modules_dir(dir: &Path, release: &str) -> Result<PathBuf, ImageError> {
    if !dir.is_dir() {
        return Err(ImageError::NotFound(dir.to_path_buf()));
    }
    if dir.join(release).join("kernel").is_dir() {
        return Ok(dir.join(release));
    }
    let found = match modules::dir_release(dir)? {
        Some(r) => r,
        None => dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
    };
    if found == release {
        Ok(dir.to_path_buf())
    } else {
        Err(ImageError::ModulesMismatch { dir: dir.to_path_buf(), found, kernel: release.to_string() })
    }
}

fn image_of(spec: &str, entry: &Path, m: &Manifest) -> KernelImage {
    mark_used(entry);
    KernelImage {
        spec: spec.to_string(),
        bzimage: entry.join("vmlinuz"),
        modules_dir: m.has_modules.then(|| entry.join("modules").join(&m.release)),
        release: m.release.clone(),
        config: m.has_config.then(|| entry.join("config")),
    }
}

/// Runs `apt-get update` and rebuilds the catalogue; Err(reason) when the archive is unreachable.
fn from_debian(
    spec_text: &str,
    spec: &Spec,
    cache: &Cache,
    progress: &dyn Progress,
) -> Result<KernelImage, ImageError> {
    let mut apt: Option<Apt> = None;
    let mut catalogue = Catalogue::load(&cache.catalogue_path()).filter(Catalogue::is_fresh);
    let mut refreshed = false;
    loop {
        if catalogue.is_none() {
            refreshed = true;
            match crate::catalogue::refresh(cache, progress) {
                Ok((a, c)) => {
                    apt = Some(a);
                    catalogue = Some(c);
                }
                Err(e) => return offline(spec_text, spec, cache, progress, &e.to_string()),
            }
        }
        let Some(cat) = catalogue.as_ref() else { continue };
        if let Some(k) = spec::select(&cat.kernels, spec, |k| (&k.version, &k.release)) {
            let entry = cache.entry_dir(&k.package, &k.version);
            if let Some(m) = Manifest::load(&entry) {
                match m.verify(&entry) {
                    Ok(()) => return Ok(image_of(spec_text, &entry, &m)),
                    Err(why) => {
                        progress.message(&format!(
                            "cache entry {} is corrupt ({why}); removing it and fetching again",
                            entry.display()
                        ));
                        std::fs::remove_dir_all(&entry).map_err(ImageError::io(&entry))?;
                    }
                }
            }
            if !k.has_modules {
                progress.message(&format!(
                    "the archive has no modules package for {}; the image will have no loadable modules",
                    k.release
                ));
            }
            let apt = match apt.take() {
                Some(a) => a,
                None => Apt::new(&cache.apt_dir(), &apt::system_mirror()?)?,
            };
            let entry = match fetch::install(k, &apt, cache, progress) {
                Ok(entry) => entry,
                // apt could not download: fall back to what the cache holds.
                Err(e @ ImageError::Command { .. }) => {
                    return offline(spec_text, spec, cache, progress, &e.to_string())
                }
                Err(e) => return Err(e),
            };
            let m = Manifest::load(&entry).ok_or_else(|| ImageError::Parse {
                path: entry.join(crate::cache::MANIFEST),
                why: "manifest missing after install".into(),
            })?;
            return Ok(image_of(spec_text, &entry, &m));
        }
        if refreshed {
            let versions: Vec<&str> = cat.kernels.iter().map(|k| k.version.as_str()).collect();
            let near = spec::nearest(spec_text, &versions);
            return Err(ImageError::NoMatch {
                spec: spec_text.to_string(),
                nearest: if near.is_empty() { "none".into() } else { near.join(", ") },
            });
        }
        // The cached catalogue may predate the requested version: refresh once.
        catalogue = None;
    }
}

/// The archive is unreachable: use the newest verified cache entry matching `spec`.
fn offline(
    spec_text: &str,
    spec: &Spec,
    cache: &Cache,
    progress: &dyn Progress,
    reason: &str,
) -> Result<KernelImage, ImageError> {
    let entries: Vec<_> = cache.entries().into_iter().filter(|(dir, m)| m.verify(dir).is_ok()).collect();
    match spec::select(&entries, spec, |(_, m)| (&m.version, &m.release)) {
        Some((dir, m)) => {
            progress.message(&format!(
                "the Debian archive is unreachable ({reason}); using the cached kernel {} ({})",
                m.release, m.version
            ));
            Ok(image_of(spec_text, dir, m))
        }
        None => Err(ImageError::OfflineNoMatch { spec: spec_text.to_string(), reason: reason.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bzimage::tests::fake_bzimage;
    use crate::NoProgress;

    #[test]
    fn source_spec_errors_are_one_line() {
        let cache = Cache::at("/nonexistent");
        let e = resolve("src:7.2+nosuchset", None, &cache, &NoProgress).expect_err("src").to_string();
        assert!(
            e.starts_with(
                "kernel spec \"src:7.2+nosuchset\" is not valid: unknown patch set `nosuchset`; the sets in "
            ),
            "{e}"
        );
        assert!(e.contains("mutants"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = resolve("src:seven", None, &cache, &NoProgress).expect_err("src").to_string();
        assert!(e.contains("`seven` is not a kernel version"), "{e}");
    }

    #[test]
    fn path_spec_checks_modules_release() {
        let dir = tempfile::tempdir().expect("tempdir");
        let img = dir.path().join("bzImage");
        std::fs::write(&img, fake_bzimage("7.3.4+deb13-cloud-amd64 #1")).expect("write");
        let cache = Cache::at(dir.path().join("cache"));
        let k = resolve(img.to_str().expect("utf8"), None, &cache, &NoProgress).expect("image");
        assert_eq!(k.release, "7.3.4+deb13-cloud-amd64");
        assert_eq!(k.modules_dir, None);

        let other = dir.path().join("6.1.0-50-cloud-amd64");
        std::fs::create_dir_all(&other).expect("mkdir");
        let e =
            resolve(img.to_str().expect("utf8"), Some(&other), &cache, &NoProgress).expect_err("mismatch").to_string();
        assert!(e.contains("is for release 6.1.0-50-cloud-amd64 but the kernel is 7.3.4+deb13-cloud-amd64"), "{e}");

        let good = dir.path().join("lib/modules/7.3.4+deb13-cloud-amd64/kernel");
        std::fs::create_dir_all(&good).expect("mkdir");
        let k = resolve(img.to_str().expect("utf8"), Some(&dir.path().join("lib/modules")), &cache, &NoProgress)
            .expect("parent dir accepted");
        assert_eq!(k.modules_dir, good.parent().map(Path::to_path_buf));
    }

    #[test]
    fn offline_uses_cached_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::at(dir.path());
        let entry = cache.entry_dir("linux-image-6.1.0-50-cloud-amd64", "6.1.176-1");
        std::fs::create_dir_all(&entry).expect("mkdir");
        std::fs::write(entry.join("vmlinuz"), fake_bzimage("6.1.0-50-cloud-amd64")).expect("write");
        let m = Manifest {
            package: "linux-image-6.1.0-50-cloud-amd64".into(),
            version: "6.1.176-1".into(),
            release: "6.1.0-50-cloud-amd64".into(),
            vmlinuz_size: 0x1000,
            vmlinuz_sha256: crate::cache::sha256_file(&entry.join("vmlinuz")).expect("sum"),
            has_modules: false,
            has_config: false,
            debs: vec![],
        };
        m.save(&entry).expect("save");
        let k = offline("6.1", &Spec::parse("6.1"), &cache, &NoProgress, "test").expect("cached");
        assert_eq!(k.release, "6.1.0-50-cloud-amd64");
        let e = offline("7.3", &Spec::parse("7.3"), &cache, &NoProgress, "no route").expect_err("none");
        assert!(e.to_string().starts_with("the Debian archive is unreachable (no route)"));
    }
}
