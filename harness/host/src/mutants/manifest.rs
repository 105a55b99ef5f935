//! Which one-line mutants there are and which cases judge them: `fixtures/patches/mutants.toml`
//! maps families of patch sets (by name prefix, or a directory with one mutant per patch file)
//! to the cases of their area and the patch sets they apply on top of.

use crate::error::HostError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The manifest's file name under `fixtures/patches/`.
pub const MANIFEST: &str = "mutants.toml";

/// One family of mutants.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    /// Patch-set directories whose name starts with this hold one mutant each.
    #[serde(default)]
    pub prefix: Option<String>,
    /// A directory holding one mutant per patch file.
    #[serde(default)]
    pub dir: Option<String>,
    /// Patch sets applied under every mutant of the family (`userpoll` under `userpoll-m-*`).
    #[serde(default)]
    pub base: Vec<String>,
    /// Case filters (as for `pollcheck run`) of the cases that judge the family.
    pub cases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    family: Vec<Family>,
}

/// One mutant: its name, its patch files, its family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    /// The patch set (`bp-m-budget-ignored`) or `dir/file-stem` (`mutants/epoll-params-pad-unchecked`).
    pub name: String,
    pub patches: Vec<PathBuf>,
    pub family: Family,
    /// The first line of its patch: what it breaks and, as predicted, which case kills it.
    pub says: String,
}

/// Reads the manifest.
pub fn read(patches_dir: &Path) -> Result<Vec<Family>, HostError> {
    let path = patches_dir.join(MANIFEST);
    let bad = |why: String| HostError::BadInput(format!("failed to read {}: {why}", path.display()));
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    let file: File = toml::from_str(&text).map_err(|e| bad(e.message().to_owned()))?;
    Ok(file.family)
}

/// Every mutant under `patches_dir`, in name order: each directory goes to the first family
/// that claims it (by `dir`, else by `prefix`); directories no family claims are base sets.
pub fn discover(patches_dir: &Path, families: &[Family]) -> Result<Vec<Mutant>, HostError> {
    let io = |e: std::io::Error| HostError::BadInput(format!("failed to list {}: {e}", patches_dir.display()));
    let mut dirs: Vec<String> = std::fs::read_dir(patches_dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let Some(family) = claim(families, &dir) else { continue };
        let patches = patch_files(&patches_dir.join(&dir)).map_err(io)?;
        if family.dir.as_deref() == Some(dir.as_str()) {
            for p in patches {
                let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
                out.push(Mutant {
                    name: format!("{dir}/{stem}"),
                    says: first_line(&p),
                    patches: vec![p],
                    family: family.clone(),
                });
            }
        } else if !patches.is_empty() {
            out.push(Mutant { name: dir, says: first_line(&patches[0]), patches, family: family.clone() });
        }
    }
    Ok(out)
}

/// The family that claims directory `dir`, if any (pure).
pub fn claim<'a>(families: &'a [Family], dir: &str) -> Option<&'a Family> {
    families.iter().find(|f| f.dir.as_deref() == Some(dir) || f.prefix.as_deref().is_some_and(|p| dir.starts_with(p)))
}

fn patch_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "patch"))
        .collect();
    out.sort();
    Ok(out)
}

fn first_line(patch: &Path) -> String {
    std::fs::read_to_string(patch).unwrap_or_default().lines().next().unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(prefix: Option<&str>, dir: Option<&str>, base: &[&str]) -> Family {
        Family {
            prefix: prefix.map(str::to_owned),
            dir: dir.map(str::to_owned),
            base: base.iter().map(|s| (*s).to_owned()).collect(),
            cases: vec!["x::".into()],
        }
    }

    #[test]
    fn the_first_family_that_claims_a_dir_wins() {
        let fams = [
            family(Some("excl-m-rr-"), None, &["roundrobin"]),
            family(Some("excl-m-"), None, &[]),
            family(None, Some("mutants"), &[]),
        ];
        assert_eq!(claim(&fams, "excl-m-rr-move-to-head"), Some(&fams[0]));
        assert_eq!(claim(&fams, "excl-m-oneshot-ok"), Some(&fams[1]));
        assert_eq!(claim(&fams, "mutants"), Some(&fams[2]));
        assert_eq!(claim(&fams, "userpoll"), None, "a base set is no mutant");
    }

    #[test]
    fn discovers_sets_and_per_patch_mutants() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mk = |d: &str, f: &str, first: &str| {
            std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
            std::fs::write(dir.path().join(d).join(f), format!("{first}\n--- a/x\n")).expect("write");
        };
        mk("bp-m-a", "0001.patch", "Mutant: a");
        mk("mutants", "one.patch", "Mutant: one");
        mk("mutants", "two.patch", "Mutant: two");
        mk("userpoll", "0001.patch", "base");
        let fams = [family(Some("bp-m-"), None, &[]), family(None, Some("mutants"), &[])];
        let got = discover(dir.path(), &fams).expect("lists");
        let names: Vec<&str> = got.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["bp-m-a", "mutants/one", "mutants/two"]);
        assert_eq!(got[1].says, "Mutant: one");
        assert_eq!(got[1].patches.len(), 1);
    }

    #[test]
    fn the_committed_manifest_reads_and_claims_every_mutant_set() {
        let fixtures = pollcheck_images::spec::fixtures_dir().join("patches");
        let fams = read(&fixtures).expect("the manifest parses");
        for entry in std::fs::read_dir(&fixtures).expect("fixtures").filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && name.contains("-m-") {
                assert!(claim(&fams, &name).is_some(), "no family in {MANIFEST} claims {name}");
            }
        }
    }
}
