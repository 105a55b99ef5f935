//! Where a build's source comes from: a Debian `linux-source-X` package (fetched and extracted into
//! the cache once) or a user's tree.

use std::path::{Path, PathBuf};

use super::disk;
use super::error::BuildError;
use super::tree;

/// The source of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// Debian's `linux-source-<version>` (e.g. `7.2`), extracted under `<cache>/src/`.
    DebianVersion(String),
    /// A kernel tree on disk; it may change, so its builds are redone incrementally every time.
    Tree(PathBuf),
}

/// A source ready to build.
#[derive(Debug, Clone)]
pub struct Source {
    pub tree: PathBuf,
    /// Goes into the cache key: package version or Makefile version and path.
    pub id: String,
    /// True for user trees: never answer from the cache without running make.
    pub mutable: bool,
}

/// Resolves `spec`, fetching and extracting a Debian source package if it is not cached yet.
pub fn resolve(spec: &SourceSpec, cache_root: &Path, on_line: &mut dyn FnMut(&str)) -> Result<Source, BuildError> {
    match spec {
        SourceSpec::Tree(path) => {
            let version = tree::check_tree(path)?;
            let abs = std::fs::canonicalize(path).map_err(BuildError::io(path))?;
            Ok(Source { id: format!("tree {} {version}", abs.display()), tree: abs, mutable: true })
        }
        SourceSpec::DebianVersion(v) => {
            let src = cache_root.join("src");
            if !src.join(format!("linux-source-{v}")).join("Makefile").is_file() {
                fetch(v, &src, on_line)?;
            }
            debian_tree(v, &src)
        }
    }
}

/// The Debian source of `spec` if it is already extracted (no fetch, no lock needed), else None.
pub fn extracted(spec: &SourceSpec, cache_root: &Path) -> Option<Source> {
    match spec {
        SourceSpec::DebianVersion(v) => {
            let src = cache_root.join("src");
            let marker = src.join(format!("linux-source-{v}.version"));
            (src.join(format!("linux-source-{v}")).join("Makefile").is_file() && marker.is_file())
                .then(|| debian_tree(v, &src).ok())
                .flatten()
        }
        SourceSpec::Tree(_) => None,
    }
}

fn debian_tree(v: &str, src: &Path) -> Result<Source, BuildError> {
    let tree = src.join(format!("linux-source-{v}"));
    let marker = src.join(format!("linux-source-{v}.version"));
    let makefile_version = tree::check_tree(&tree)?;
    let version = std::fs::read_to_string(&marker).map(|s| s.trim().to_string()).unwrap_or(makefile_version);
    Ok(Source { id: format!("debian linux-source-{v} {version}"), tree, mutable: false })
}

/// The `<v>` of every `linux-source-<v>` package the archive offers, in version order.
fn offered_sources(apt: &crate::apt::Apt) -> Option<Vec<String>> {
    let mut versions: Vec<String> = apt
        .search_names("^linux-source-[0-9.]+$")
        .ok()?
        .into_iter()
        .filter_map(|n| n.strip_prefix("linux-source-").map(str::to_string))
        .collect();
    versions.sort_by(|a, b| crate::debversion::compare(a, b));
    versions.dedup();
    Some(versions)
}

/// Downloads `linux-source-<v>` with the private apt state and extracts it to `<src>/linux-source-<v>`.
fn fetch(v: &str, src: &Path, on_line: &mut dyn FnMut(&str)) -> Result<(), BuildError> {
    let fail = |detail: String| BuildError::Fetch { version: v.to_string(), detail };
    std::fs::create_dir_all(src).map_err(BuildError::io(src))?;
    disk::check_free(src, disk::NEEDED_BYTES)?;
    let cache_root = src.parent().unwrap_or(src);
    let mirror = crate::apt::system_mirror().map_err(|e| fail(e.to_string()))?;
    let apt = crate::apt::Apt::new(&cache_root.join("apt"), &mirror).map_err(|e| fail(e.to_string()))?;
    let dl = src.join(".download");
    std::fs::create_dir_all(&dl).map_err(BuildError::io(&dl))?;
    let package = format!("linux-source-{v}");
    on_line(&format!("pollcheck: downloading {package}"));
    if apt.download(std::slice::from_ref(&package), &dl).is_err() {
        on_line("pollcheck: refreshing the private apt lists");
        apt.update().map_err(|e| fail(e.to_string()))?;
        if apt.download(std::slice::from_ref(&package), &dl).is_err() {
            return Err(fail(match offered_sources(&apt) {
                Some(list) if !list.is_empty() => {
                    format!("the archive has no {package}; it offers: {}", list.join(", "))
                }
                _ => format!("the archive has no {package}"),
            }));
        }
    }
    let deb = find_deb(&dl, &package).ok_or_else(|| fail(format!("no {package}_*.deb in {}", dl.display())))?;
    let version = duct::cmd!("dpkg-deb", "-f", &deb, "Version")
        .read()
        .map_err(|e| fail(format!("dpkg-deb -f {}: {e}", deb.display())))?;
    on_line(&format!("pollcheck: extracting {package} {version}"));
    let tmp = src.join(format!(".tmp-extract-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(BuildError::io(&tmp))?;
    let inner = format!("./usr/src/{package}.tar.xz");
    let out = duct::cmd!("dpkg-deb", "--fsys-tarfile", &deb)
        .pipe(duct::cmd!("tar", "-xO", &inner))
        .pipe(duct::cmd!("tar", "-xJ", "-C", &tmp))
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| fail(e.to_string()))?;
    let extracted = tmp.join(&package);
    if !out.status.success() || !extracted.join("Makefile").is_file() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(fail(format!(
            "extracting {inner} from {}: {}",
            deb.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let dest = src.join(&package);
    std::fs::rename(&extracted, &dest).map_err(BuildError::io(&dest))?;
    let marker = src.join(format!("{package}.version"));
    std::fs::write(&marker, format!("{version}\n")).map_err(BuildError::io(&marker))?;
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_file(&deb);
    Ok(())
}

fn find_deb(dir: &Path, package: &str) -> Option<PathBuf> {
    let prefix = format!("{package}_");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb")))
}
