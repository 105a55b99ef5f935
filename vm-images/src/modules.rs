//! Module sets: which .ko files a wanted list needs, decompressed, dependencies first.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use object::{Object, ObjectSection};

use crate::ImageError;

/// One kernel module, decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Canonical name (underscores), e.g. `net_failover`.
    pub name: String,
    /// The ELF bytes of the .ko.
    pub data: Vec<u8>,
}

/// The modules to load, in load order (dependencies before dependents), each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSet {
    pub release: String,
    pub modules: Vec<Module>,
}

/// `virtio-net` → `virtio_net`.
pub fn canonical(name: &str) -> String {
    name.replace('-', "_")
}

/// The module name of a file name: `virtio_net.ko.xz` → `virtio_net`.
fn stem(file_name: &str) -> Option<String> {
    [".ko", ".ko.xz", ".ko.zst", ".ko.gz"].iter().find_map(|ext| file_name.strip_suffix(ext)).map(canonical)
}

/// `key=value` entries of a `.modinfo` section (NUL-separated, padding skipped).
pub fn parse_modinfo(section: &[u8]) -> Vec<(String, String)> {
    section
        .split(|&b| b == 0)
        .filter_map(|e| {
            let s = std::str::from_utf8(e).ok()?;
            let (k, v) = s.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Facts from one module's `.modinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModInfo {
    pub name: Option<String>,
    pub depends: Vec<String>,
    pub vermagic: Option<String>,
}

impl ModInfo {
    pub fn from_entries(entries: &[(String, String)]) -> ModInfo {
        let mut info = ModInfo::default();
        for (k, v) in entries {
            match k.as_str() {
                "name" => info.name = Some(canonical(v)),
                "depends" => info.depends.extend(v.split(',').filter(|d| !d.is_empty()).map(canonical)),
                "vermagic" => info.vermagic = v.split_whitespace().next().map(String::from),
                _ => {}
            }
        }
        info
    }
}

/// Reads a module file, decompressing .xz / .zst / .gz by extension.
pub fn read_module(path: &Path) -> Result<Vec<u8>, ImageError> {
    let raw = std::fs::read(path).map_err(ImageError::io(path))?;
    let bad = |why: String| ImageError::BadModule { path: path.to_path_buf(), why };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".xz") {
        let mut out = Vec::new();
        lzma_rs::xz_decompress(&mut raw.as_slice(), &mut out).map_err(|e| bad(format!("xz: {e}")))?;
        Ok(out)
    } else if name.ends_with(".zst") {
        let mut dec = ruzstd::decoding::StreamingDecoder::new(raw.as_slice()).map_err(|e| bad(format!("zstd: {e}")))?;
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut dec, &mut out).map_err(|e| bad(format!("zstd: {e}")))?;
        Ok(out)
    } else if name.ends_with(".gz") {
        Err(bad("gzip-compressed modules are not supported; use xz or zstd".into()))
    } else {
        Ok(raw)
    }
}

/// The `.modinfo` facts of a module's ELF bytes.
pub fn modinfo_of(path: &Path, elf: &[u8]) -> Result<ModInfo, ImageError> {
    let bad = |why: String| ImageError::BadModule { path: path.to_path_buf(), why };
    let file = object::File::parse(elf).map_err(|e| bad(format!("not an ELF object: {e}")))?;
    let section = file.section_by_name(".modinfo").ok_or_else(|| bad("no .modinfo section".into()))?;
    let data = section.data().map_err(|e| bad(e.to_string()))?;
    Ok(ModInfo::from_entries(&parse_modinfo(data)))
}

/// Every module file under `dir/kernel` (and `dir/updates`, `dir/extra`), by canonical name.
fn index(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<PathBuf> = ["kernel", "updates", "extra"].iter().map(|s| dir.join(s)).collect();
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            } else if let Some(n) = p.file_name().and_then(|n| n.to_str()).and_then(stem) {
                out.entry(n).or_insert(p);
            }
        }
    }
    out
}

/// Names listed in `modules.builtin` (paths like `kernel/drivers/virtio/virtio_pci.ko`).
pub fn parse_builtin(text: &str) -> BTreeSet<String> {
    text.lines().filter_map(|l| l.trim().rsplit('/').next().and_then(stem)).collect()
}

/// The release a modules dir was built for, from the vermagic of its first module found.
pub(crate) fn dir_release(dir: &Path) -> Result<Option<String>, ImageError> {
    let Some(path) = index(dir).into_values().next() else {
        return Ok(None);
    };
    let elf = read_module(&path)?;
    Ok(modinfo_of(&path, &elf)?.vermagic)
}

/// Orders `wanted` and their dependencies so each comes after what it depends on.
/// `deps(name)` returns None when the module is built in (it is then left out).
pub fn load_order<E>(
    wanted: &[String],
    mut deps: impl FnMut(&str) -> Result<Option<Vec<String>>, E>,
    cycle: impl Fn(String) -> E,
) -> Result<Vec<String>, E> {
    enum Mark {
        Visiting,
        Done,
    }
    let mut marks: HashMap<String, Mark> = HashMap::new();
    let mut order = Vec::new();
    // Iterative DFS: (name, children, next child index).
    for root in wanted {
        if marks.contains_key(root) {
            continue;
        }
        let mut stack: Vec<(String, Vec<String>, usize)> = Vec::new();
        match deps(root)? {
            None => {
                marks.insert(root.clone(), Mark::Done);
                continue;
            }
            Some(d) => stack.push((root.clone(), d, 0)),
        }
        marks.insert(root.clone(), Mark::Visiting);
        while let Some(top) = stack.last_mut() {
            if top.2 < top.1.len() {
                let child = top.1[top.2].clone();
                top.2 += 1;
                match marks.get(&child) {
                    Some(Mark::Done) => {}
                    Some(Mark::Visiting) => {
                        let mut path: Vec<&str> = stack.iter().map(|s| s.0.as_str()).collect();
                        path.push(&child);
                        return Err(cycle(path.join(" -> ")));
                    }
                    None => match deps(&child)? {
                        None => {
                            marks.insert(child, Mark::Done);
                        }
                        Some(d) => {
                            marks.insert(child.clone(), Mark::Visiting);
                            stack.push((child, d, 0));
                        }
                    },
                }
            } else if let Some((name, _, _)) = stack.pop() {
                marks.insert(name.clone(), Mark::Done);
                order.push(name);
            }
        }
    }
    Ok(order)
}

/// Resolves `wanted` (names; `-` and `_` equal) to decompressed modules in load order.
/// Built-in modules are left out; a module that is neither a file nor built in is an error.
pub fn resolve_modules(modules_dir: &Path, release: &str, wanted: &[&str]) -> Result<ModuleSet, ImageError> {
    if !modules_dir.is_dir() {
        return Err(ImageError::NotFound(modules_dir.to_path_buf()));
    }
    let files = index(modules_dir);
    let builtin_path = modules_dir.join("modules.builtin");
    let builtin = match std::fs::read_to_string(&builtin_path) {
        Ok(t) => parse_builtin(&t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
        Err(e) => return Err(ImageError::io(builtin_path)(e)),
    };
    let mut data: HashMap<String, Vec<u8>> = HashMap::new();
    let wanted: Vec<String> = wanted.iter().map(|w| canonical(w)).collect();
    let order = load_order(
        &wanted,
        |name| {
            let Some(path) = files.get(name) else {
                return if builtin.contains(name) {
                    Ok(None)
                } else {
                    Err(ImageError::ModuleMissing { name: name.to_string(), dir: modules_dir.to_path_buf() })
                };
            };
            let elf = read_module(path)?;
            let info = modinfo_of(path, &elf)?;
            if let Some(v) = info.vermagic.as_deref().filter(|v| *v != release) {
                return Err(ImageError::ModulesMismatch {
                    dir: modules_dir.to_path_buf(),
                    found: v.to_string(),
                    kernel: release.to_string(),
                });
            }
            data.insert(name.to_string(), elf);
            Ok(Some(info.depends))
        },
        ImageError::ModuleCycle,
    )?;
    let modules = order.into_iter().filter_map(|name| data.remove(&name).map(|data| Module { name, data })).collect();
    Ok(ModuleSet { release: release.to_string(), modules })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn modinfo_entries() {
        let sec = b"license=GPL\0depends=failover,net-failover\0\0\0name=virtio_net\0vermagic=7.3.4+deb13-cloud-amd64 SMP preempt mod_unload\0";
        let info = ModInfo::from_entries(&parse_modinfo(sec));
        assert_eq!(info.name.as_deref(), Some("virtio_net"));
        assert_eq!(info.depends, ["failover", "net_failover"]);
        assert_eq!(info.vermagic.as_deref(), Some("7.3.4+deb13-cloud-amd64"));
        let none = ModInfo::from_entries(&parse_modinfo(b"depends=\0"));
        assert!(none.depends.is_empty());
    }

    #[rstest]
    #[case("virtio_net.ko.xz", Some("virtio_net"))]
    #[case("net-failover.ko", Some("net_failover"))]
    #[case("x.ko.zst", Some("x"))]
    #[case("modules.order", None)]
    fn stems(#[case] f: &str, #[case] want: Option<&str>) {
        assert_eq!(stem(f).as_deref(), want);
    }

    #[test]
    fn builtin_list() {
        let b = parse_builtin("kernel/drivers/virtio/virtio_pci.ko\nkernel/net/core/failover.ko\n");
        assert!(b.contains("virtio_pci") && b.contains("failover"));
    }

    fn graph(edges: &[(&str, &[&str])], builtin: &[&str]) -> impl FnMut(&str) -> Result<Option<Vec<String>>, String> {
        let g: HashMap<String, Vec<String>> =
            edges.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect();
        let b: Vec<String> = builtin.iter().map(|s| s.to_string()).collect();
        move |n: &str| {
            if b.iter().any(|x| x == n) {
                Ok(None)
            } else {
                g.get(n).cloned().map(Some).ok_or(format!("missing {n}"))
            }
        }
    }

    #[rstest]
    #[case::chain(&[("virtio_net", &["net_failover"][..]), ("net_failover", &["failover"]), ("failover", &[])], &[], &["virtio_net"], &["failover", "net_failover", "virtio_net"])]
    #[case::builtin_dropped(&[("virtio_net", &["net_failover", "virtio_pci"][..]), ("net_failover", &["failover"])], &["failover", "virtio_pci"], &["virtio_net"], &["net_failover", "virtio_net"])]
    #[case::shared_once(&[("a", &["c"][..]), ("b", &["c"]), ("c", &[])], &[], &["a", "b", "c"], &["c", "a", "b"])]
    #[case::wanted_builtin(&[], &["virtio_pci"], &["virtio_pci"], &[])]
    fn orders(
        #[case] edges: &[(&str, &[&str])],
        #[case] builtin: &[&str],
        #[case] wanted: &[&str],
        #[case] want: &[&str],
    ) {
        let wanted: Vec<String> = wanted.iter().map(|s| s.to_string()).collect();
        let got = load_order(&wanted, graph(edges, builtin), |c| c).expect("order");
        assert_eq!(got, want);
    }

    #[test]
    fn cycles_and_missing_are_errors() {
        let wanted = vec!["a".to_string()];
        let e = load_order(&wanted, graph(&[("a", &["b"]), ("b", &["a"])], &[]), |c| format!("cycle {c}"));
        assert_eq!(e, Err("cycle a -> b -> a".to_string()));
        let e = load_order(&wanted, graph(&[("a", &["zz"])], &[]), |c| c);
        assert_eq!(e, Err("missing zz".to_string()));
    }
}
