//! Kernel builds from source: tinyconfig + fragments + patches, ccache, a content-keyed cache.
//!
//! `build()` resolves the source (Debian `linux-source-X` or a tree), copies it and applies the
//! patches if there are any, configures in an object dir inside the tree, checks that every
//! requested option survived `olddefconfig`, builds `bzImage` and stores it under
//! `<cache>/builds/<key>/`, where key = sha256(source version, fragment contents, patch contents).

mod disk;
mod error;
pub mod fragment;
pub mod key;
pub mod mutation;
mod patch;
mod run;
mod source;
mod store;
pub mod tree;

use std::path::{Path, PathBuf};

pub use error::BuildError;
pub use source::SourceSpec;
pub use store::BuiltKernel;

use fragment::Setting;

/// The pristine tree of Debian's `linux-source-<version>`, fetched and extracted if needed.
pub fn debian_source_tree(
    version: &str,
    cache_root: &Path,
    on_line: &mut dyn FnMut(&str),
) -> Result<PathBuf, BuildError> {
    Ok(source::resolve(&SourceSpec::DebianVersion(version.to_string()), cache_root, on_line)?.tree)
}

/// Holds the cache-wide build lock: one kernel build at a time per cache, across processes.
/// Two builds at once would only share the same cores, and they may unpack the same source tree.
fn lock_builds(cache_root: &Path, on_line: &mut dyn FnMut(&str)) -> Result<std::fs::File, BuildError> {
    let builds = cache_root.join("builds");
    std::fs::create_dir_all(&builds).map_err(BuildError::io(&builds))?;
    let path = builds.join(".lock");
    let file = std::fs::File::create(&path).map_err(BuildError::io(&path))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            on_line(&format!("pollcheck: waiting for another kernel build to finish (lock {})", path.display()));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(BuildError::io(&path)(e)),
    }
    file.lock().map_err(BuildError::io(&path))?;
    Ok(file)
}

/// What to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRequest {
    pub source: SourceSpec,
    /// Applied in order with `patch -p1`.
    pub patches: Vec<PathBuf>,
    /// Kconfig fragments merged in order on top of `make tinyconfig`.
    pub fragments: Vec<PathBuf>,
}

/// Builds (or finds in the cache) the kernel of `req`; `on_line` gets every line of output.
pub fn build(req: &BuildRequest, cache_root: &Path, on_line: &mut dyn FnMut(&str)) -> Result<BuiltKernel, BuildError> {
    // A finished build is found without waiting for another build's lock: entries appear by rename.
    if let Some(k) = cached(req, cache_root) {
        return Ok(k);
    }
    let _lock = lock_builds(cache_root, on_line)?;
    let fragments = read_all(&req.fragments)?;
    let requested = fragment::merge(&parse_fragments(&req.fragments, &fragments)?);
    let patches = read_all(&req.patches)?;
    let src = source::resolve(&req.source, cache_root, on_line)?;
    let key = key::cache_key(&src.id, &as_slices(&fragments), &as_slices(&patches));
    let entry = store::entry_dir(cache_root, &key);
    if !src.mutable {
        if let Some(k) = store::load(&entry) {
            return Ok(k);
        }
    }
    disk::check_free(cache_root, disk::NEEDED_BYTES)?;
    let tree = if req.patches.is_empty() {
        src.tree.clone()
    } else {
        let base = src.tree.file_name().and_then(|n| n.to_str()).unwrap_or("linux");
        let mut inputs = as_slices(&patches);
        inputs.push(src.id.as_bytes());
        let dest = cache_root.join("src").join(format!("{base}+{}", key::patchset_key(&inputs)));
        on_line(&format!("pollcheck: patched tree {}", dest.display()));
        tree::patched_copy(&src.tree, &dest, &req.patches)?
    };
    let obj = tree::obj_dir(&tree, &key);
    std::fs::create_dir_all(&obj).map_err(BuildError::io(&obj))?;
    let builds = cache_root.join("builds");
    std::fs::create_dir_all(&builds).map_err(BuildError::io(&builds))?;
    let log = builds.join(format!("{key}.log"));
    std::fs::write(&log, "").map_err(BuildError::io(&log))?;
    let mut runner = run::Runner { dir: tree.clone(), env: run::ccache_env(cache_root), log: log.clone(), on_line };
    configure(&mut runner, &obj, &req.fragments)?;
    let config_path = obj.join(".config");
    let config = std::fs::read_to_string(&config_path).map_err(BuildError::io(&config_path))?;
    let missing = fragment::missing(&requested, &config);
    if !missing.is_empty() {
        return Err(BuildError::OptionsDropped { config: config_path, missing });
    }
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    runner.step("make", &make_args(&obj, &[&format!("-j{jobs}"), "bzImage"]))?;
    let built = store::save(&entry, &obj, &log)?;
    let _ = std::fs::remove_file(&log);
    if !req.patches.is_empty() {
        // A patched copy (~2 GiB with its objects) is only ever built once: the image is saved,
        // ccache keeps the objects' worth, so the copy goes (mutant sets would fill the disk).
        let _ = std::fs::remove_dir_all(&tree);
    }
    Ok(built)
}

/// The cached kernel of `req` when its source is extracted and its entry is complete, else None.
fn cached(req: &BuildRequest, cache_root: &Path) -> Option<BuiltKernel> {
    let src = source::extracted(&req.source, cache_root)?;
    let fragments = read_all(&req.fragments).ok()?;
    let patches = read_all(&req.patches).ok()?;
    let key = key::cache_key(&src.id, &as_slices(&fragments), &as_slices(&patches));
    store::load(&store::entry_dir(cache_root, &key))
}

/// `make tinyconfig`, merge the fragments, `make olddefconfig`.
fn configure(runner: &mut run::Runner<'_>, obj: &Path, fragments: &[PathBuf]) -> Result<(), BuildError> {
    runner.step("make", &make_args(obj, &["tinyconfig"]))?;
    let mut merge = vec!["-m".to_string(), "-O".to_string(), obj.display().to_string()];
    merge.push(obj.join(".config").display().to_string());
    for f in fragments {
        merge.push(std::fs::canonicalize(f).map_err(BuildError::io(f))?.display().to_string());
    }
    runner.step("scripts/kconfig/merge_config.sh", &merge)?;
    runner.step("make", &make_args(obj, &["olddefconfig"]))
}

/// `O=<obj dir name> CC=… <rest>`; O is relative so Kbuild's srctree is `..`.
fn make_args(obj: &Path, rest: &[&str]) -> Vec<String> {
    let name = obj.file_name().and_then(|n| n.to_str()).unwrap_or(".obj");
    let mut args = vec![format!("O={name}"), format!("CC={}", run::compiler())];
    args.extend(rest.iter().map(|s| s.to_string()));
    args
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, BuildError> {
    paths.iter().map(|p| std::fs::read(p).map_err(BuildError::io(p))).collect()
}

fn parse_fragments(paths: &[PathBuf], contents: &[Vec<u8>]) -> Result<Vec<Vec<Setting>>, BuildError> {
    paths
        .iter()
        .zip(contents)
        .map(|(p, c)| {
            fragment::parse_fragment(&String::from_utf8_lossy(c)).map_err(|(line, text)| BuildError::BadFragment {
                path: p.clone(),
                line,
                text,
            })
        })
        .collect()
}

fn as_slices(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache root holding an extracted linux-source-7.2 (marker written last, as fetch does).
    fn cache_with_source(extracted: bool) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = dir.path().join("src/linux-source-7.2");
        std::fs::create_dir_all(&tree).expect("mkdir");
        std::fs::write(tree.join("Makefile"), "VERSION = 7\nPATCHLEVEL = 2\nSUBLEVEL = 13\n").expect("w");
        std::fs::write(tree.join("Kconfig"), "").expect("w");
        if extracted {
            std::fs::write(dir.path().join("src/linux-source-7.2.version"), "7.2.13-1\n").expect("w");
        }
        dir
    }

    fn request(dir: &Path) -> BuildRequest {
        let (frag, patch) = (dir.join("a.config"), dir.join("p.patch"));
        std::fs::write(&frag, "CONFIG_EPOLL=y\n").expect("w");
        std::fs::write(&patch, "--- a/x\n+++ b/x\n").expect("w");
        BuildRequest { source: SourceSpec::DebianVersion("7.2".into()), patches: vec![patch], fragments: vec![frag] }
    }

    #[test]
    fn a_saved_build_is_found_without_the_lock() {
        let dir = cache_with_source(true);
        let req = request(dir.path());
        assert_eq!(cached(&req, dir.path()), None, "nothing built yet");
        let src = source::extracted(&req.source, dir.path()).expect("extracted source");
        let key = key::cache_key(
            &src.id,
            &as_slices(&read_all(&req.fragments).expect("read")),
            &as_slices(&read_all(&req.patches).expect("read")),
        );
        let obj = dir.path().join("obj");
        std::fs::create_dir_all(obj.join("arch/x86/boot")).expect("mkdir");
        std::fs::create_dir_all(obj.join("include/config")).expect("mkdir");
        std::fs::write(obj.join("arch/x86/boot/bzImage"), b"image").expect("w");
        std::fs::write(obj.join(".config"), b"CONFIG_EPOLL=y\n").expect("w");
        std::fs::write(obj.join("include/config/kernel.release"), b"7.2.13\n").expect("w");
        let log = dir.path().join("b.log");
        std::fs::write(&log, b"log").expect("w");
        let saved = store::save(&store::entry_dir(dir.path(), &key), &obj, &log).expect("save");
        assert_eq!(cached(&req, dir.path()), Some(saved));
        std::fs::write(&req.patches[0], "--- a/y\n+++ b/y\n").expect("w");
        assert_eq!(cached(&req, dir.path()), None, "another patch is another build");
    }

    #[test]
    fn a_source_not_fully_extracted_is_not_looked_up() {
        let dir = cache_with_source(false);
        assert_eq!(cached(&request(dir.path()), dir.path()), None);
    }
}
