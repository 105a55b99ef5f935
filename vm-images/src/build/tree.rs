//! Kernel source trees: recognising one, its version, and making a patched copy.

use std::path::{Path, PathBuf};

use super::error::BuildError;
use super::patch;

/// `VERSION.PATCHLEVEL.SUBLEVEL` from a top-level Makefile, if it has VERSION and PATCHLEVEL.
pub fn makefile_version(text: &str) -> Option<String> {
    let field = |key: &str| {
        text.lines().filter_map(|l| l.split_once('=')).find(|(k, _)| k.trim() == key).map(|(_, v)| v.trim().to_string())
    };
    let version = field("VERSION").filter(|v| !v.is_empty())?;
    let patchlevel = field("PATCHLEVEL").filter(|v| !v.is_empty())?;
    let sublevel = field("SUBLEVEL").filter(|v| !v.is_empty()).unwrap_or_else(|| "0".into());
    let extra = field("EXTRAVERSION").unwrap_or_default();
    Some(format!("{version}.{patchlevel}.{sublevel}{extra}"))
}

/// Checks that `path` is a kernel tree (Makefile with VERSION/PATCHLEVEL, a Kconfig) and returns its version.
pub fn check_tree(path: &Path) -> Result<String, BuildError> {
    let not = |why: &str| BuildError::NotKernelTree { path: path.to_path_buf(), why: why.to_string() };
    let makefile = std::fs::read_to_string(path.join("Makefile")).map_err(|_| not("no readable Makefile"))?;
    let version = makefile_version(&makefile).ok_or_else(|| not("its Makefile has no VERSION/PATCHLEVEL"))?;
    if !path.join("Kconfig").is_file() {
        return Err(not("no top-level Kconfig"));
    }
    Ok(version)
}

/// The object directory of a build: a direct subdirectory of the tree, so Kbuild uses `srctree=..`
/// and compiler command lines are identical across trees (ccache hits between patched copies).
pub fn obj_dir(tree: &Path, key: &str) -> PathBuf {
    tree.join(format!(".obj-{}", &key[..key.len().min(12)]))
}

/// Returns `dest`, a copy of `pristine` with `patches` applied in order, creating it if needed.
/// The copy is made in a temp dir and renamed, so a failed patch leaves nothing behind.
pub fn patched_copy(pristine: &Path, dest: &Path, patches: &[PathBuf]) -> Result<PathBuf, BuildError> {
    if dest.join("Makefile").is_file() {
        return Ok(dest.to_path_buf());
    }
    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("tree");
    let tmp = dest.with_file_name(format!(".tmp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(BuildError::io(&tmp))?;
    let result = copy_tree(pristine, &tmp).and_then(|()| patches.iter().try_for_each(|p| patch::apply(&tmp, p)));
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, dest).map_err(BuildError::io(dest))?;
    Ok(dest.to_path_buf())
}

/// `tar -c . | tar -x`: a real copy (not hardlinks, which `patch` would write through), without
/// object dirs or .git.
fn copy_tree(from: &Path, to: &Path) -> Result<(), BuildError> {
    let expr = duct::cmd!("tar", "-c", "--exclude=./.obj-*", "--exclude=./.git", "-C", from, ".")
        .pipe(duct::cmd!("tar", "-x", "-C", to))
        .stderr_capture()
        .unchecked();
    let out = expr.run().map_err(BuildError::command("tar"))?;
    if !out.status.success() {
        return Err(BuildError::Command {
            command: format!("tar copy of {}", from.display()),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_makefile_version() {
        let mk = "# SPDX\nVERSION = 7\nPATCHLEVEL = 2\nSUBLEVEL = 13\nEXTRAVERSION =\nNAME = Baby Opossum Posse\n";
        assert_eq!(makefile_version(mk).as_deref(), Some("7.2.13"));
        assert_eq!(
            makefile_version("VERSION = 7\nPATCHLEVEL = 3\nEXTRAVERSION = -rc1\n").as_deref(),
            Some("7.3.0-rc1")
        );
        assert_eq!(makefile_version("all:\n\techo hi\n"), None);
    }

    #[test]
    fn rejects_a_dir_without_makefile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = check_tree(dir.path()).expect_err("not a tree");
        assert!(err.to_string().contains("no readable Makefile"), "{err}");
        std::fs::write(dir.path().join("Makefile"), "VERSION = 7\nPATCHLEVEL = 2\n").expect("write");
        let err = check_tree(dir.path()).expect_err("no Kconfig");
        assert!(err.to_string().contains("Kconfig"), "{err}");
        std::fs::write(dir.path().join("Kconfig"), "").expect("write");
        assert_eq!(check_tree(dir.path()).expect("tree"), "7.2.0");
    }

    #[test]
    fn obj_dir_is_a_direct_child() {
        let t = Path::new("/c/src/linux");
        assert_eq!(obj_dir(t, "0123456789abcdef"), Path::new("/c/src/linux/.obj-0123456789ab"));
    }
}
