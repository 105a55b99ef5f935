//! Kernel specs (`default`, `7.3`, `6.12.107+deb13`, a path, `src:…`) and matching them to versions.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use crate::debversion;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// A bzImage on disk.
    Path(PathBuf),
    /// The newest kernel the archive offers.
    Default,
    /// A Debian version prefix (`7.3`, `7.3.4`, `6.1`) or release prefix (`6.12.107+deb13`).
    Version(String),
    /// A source build (`src:…`).
    Source(String),
}

impl Spec {
    /// Classifies a spec string; an existing file wins over a version of the same spelling.
    pub fn parse(spec: &str) -> Spec {
        if let Some(rest) = spec.strip_prefix("src:") {
            return Spec::Source(rest.to_string());
        }
        if spec == "default" {
            return Spec::Default;
        }
        let looks_like_version = spec.starts_with(|c: char| c.is_ascii_digit())
            && spec.chars().all(|c| c.is_ascii_alphanumeric() || ".+~-:".contains(c));
        if !looks_like_version || std::path::Path::new(spec).exists() {
            return Spec::Path(PathBuf::from(spec));
        }
        Spec::Version(spec.to_string())
    }
}

/// A parsed `src:` spec: `7.2` or `7.2+set[+set…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceBuildSpec {
    /// The `linux-source-<version>` to build (`7.2`).
    pub version: String,
    /// Patch sets (directories under `fixtures/patches/`), applied in this order.
    pub sets: Vec<String>,
}

impl SourceBuildSpec {
    /// Parses what follows `src:`; Err(why) for an empty or malformed version or set name.
    pub fn parse(rest: &str) -> Result<SourceBuildSpec, String> {
        let mut parts = rest.split('+');
        let version = parts.next().unwrap_or_default();
        let version_ok = version.split('.').count() >= 2
            && version.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !version_ok {
            return Err(format!(
                "`{version}` is not a kernel version; write src:<major>.<minor>[+<patch set>] (e.g. src:7.2+mutants)"
            ));
        }
        let sets: Vec<String> = parts.map(str::to_string).collect();
        if let Some(bad) = sets.iter().find(|s| {
            s.is_empty() || s.starts_with('.') || !s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        }) {
            return Err(format!("`{bad}` is not a patch set name; write src:<major>.<minor>+<patch set>"));
        }
        Ok(SourceBuildSpec { version: version.to_string(), sets })
    }
}

/// The fixtures directory: `$POLLCHECK_FIXTURES`, else `fixtures/` of this workspace.
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os("POLLCHECK_FIXTURES").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => {
            let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
            crate_dir.parent().unwrap_or(crate_dir).join("fixtures")
        }
    }
}

/// The config fragments every source build gets: `config/base.config` then `config/net.config`.
pub fn default_fragments(fixtures: &Path) -> Vec<PathBuf> {
    ["base.config", "net.config"].iter().map(|f| fixtures.join("config").join(f)).collect()
}

/// The patch sets under `<fixtures>/patches/`, sorted by name.
pub fn patch_sets(fixtures: &Path) -> Vec<String> {
    let mut sets: Vec<String> = std::fs::read_dir(fixtures.join("patches"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect();
    sets.sort();
    sets
}

/// Every `*.patch` of set `name`, in file-name order; Err(one line naming the sets that exist).
pub fn patch_set(fixtures: &Path, name: &str) -> Result<Vec<PathBuf>, String> {
    let dir = fixtures.join("patches").join(name);
    let unknown = || {
        let sets = patch_sets(fixtures);
        let list = if sets.is_empty() { "none".to_string() } else { sets.join(", ") };
        format!("unknown patch set `{name}`; the sets in {} are: {list}", fixtures.join("patches").display())
    };
    let entries = std::fs::read_dir(&dir).map_err(|_| unknown())?;
    let mut patches: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "patch"))
        .collect();
    patches.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    if patches.is_empty() {
        return Err(format!("patch set `{name}` ({}) has no *.patch files", dir.display()));
    }
    Ok(patches)
}

/// True when `text` is `prefix` or continues it at a version separator (`6.1` ≠ `6.12`).
fn prefix_at_boundary(text: &str, prefix: &str) -> bool {
    match text.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => rest.starts_with(['.', '~', '+', '-']),
        None => false,
    }
}

/// Does a kernel (Debian `version`, `release`) match the version query?
pub fn matches(query: &str, version: &str, release: &str) -> bool {
    version == query || prefix_at_boundary(debversion::upstream(version), query) || prefix_at_boundary(release, query)
}

/// The newest of `items` matching `spec` (Default matches all); `version_of` gives (version, release).
pub fn select<'a, T>(items: &'a [T], spec: &Spec, version_of: impl Fn(&T) -> (&str, &str)) -> Option<&'a T> {
    items
        .iter()
        .filter(|it| match spec {
            Spec::Default => true,
            Spec::Version(q) => {
                let (v, r) = version_of(it);
                matches(q, v, r)
            }
            Spec::Path(_) | Spec::Source(_) => false,
        })
        .max_by(|a, b| debversion::compare(version_of(a).0, version_of(b).0))
}

/// `major.minor` of an upstream version (`7.3.4` → `7.3`, `7.3~rc7` → `7.3`).
fn series(upstream: &str) -> &str {
    let cut = upstream.char_indices().filter(|&(_, c)| c == '.' || c == '~' || c == '+').nth(1).map(|(i, _)| i);
    let s = &upstream[..cut.unwrap_or(upstream.len())];
    s.split('~').next().unwrap_or(s)
}

/// The newest upstream version of the series just below and just above `query`, for error messages.
pub fn nearest(query: &str, versions: &[&str]) -> Vec<String> {
    // Newest upstream version per series.
    let mut heads: Vec<&str> = Vec::new();
    for v in versions.iter().map(|v| debversion::upstream(v)) {
        match heads.iter_mut().find(|h| series(h) == series(v)) {
            Some(h) if debversion::compare(v, h) == Ordering::Greater => *h = v,
            Some(_) => {}
            None => heads.push(v),
        }
    }
    heads.sort_by(|a, b| debversion::compare(a, b));
    let below = heads.iter().rev().find(|h| debversion::compare(h, query) == Ordering::Less);
    let above = heads.iter().find(|h| debversion::compare(h, query) == Ordering::Greater);
    below.into_iter().chain(above).map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::tests::sample;
    use rstest::rstest;

    #[rstest]
    #[case("default", Spec::Default)]
    #[case("7.3", Spec::Version("7.3".into()))]
    #[case("6.12.107+deb13", Spec::Version("6.12.107+deb13".into()))]
    #[case("src:7.2+userpoll", Spec::Source("7.2+userpoll".into()))]
    #[case("/boot/vmlinuz-x", Spec::Path("/boot/vmlinuz-x".into()))]
    #[case("./bzImage", Spec::Path("./bzImage".into()))]
    fn parses(#[case] s: &str, #[case] want: Spec) {
        assert_eq!(Spec::parse(s), want);
    }

    #[rstest]
    #[case("7.2", "7.2", &[])]
    #[case("7.2+mutants", "7.2", &["mutants"])]
    #[case("6.12+a+b-c", "6.12", &["a", "b-c"])]
    fn parses_source_specs(#[case] s: &str, #[case] version: &str, #[case] sets: &[&str]) {
        let want = SourceBuildSpec { version: version.into(), sets: sets.iter().map(|s| s.to_string()).collect() };
        assert_eq!(SourceBuildSpec::parse(s), Ok(want));
    }

    #[rstest]
    #[case("", "is not a kernel version")]
    #[case("7", "is not a kernel version")]
    #[case("7.x+mutants", "is not a kernel version")]
    #[case("7.2+", "is not a patch set name")]
    #[case("7.2+../etc", "is not a patch set name")]
    fn rejects_bad_source_specs(#[case] s: &str, #[case] want: &str) {
        let e = SourceBuildSpec::parse(s).expect_err("bad");
        assert!(e.contains(want), "{e}");
    }

    #[test]
    fn patch_sets_sorted_and_unknown_set_lists_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let set = dir.path().join("patches/mutants");
        std::fs::create_dir_all(&set).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("patches/userpoll")).expect("mkdir");
        for f in ["b.patch", "a.patch", "README"] {
            std::fs::write(set.join(f), "x").expect("write");
        }
        let got = patch_set(dir.path(), "mutants").expect("set");
        assert_eq!(got, vec![set.join("a.patch"), set.join("b.patch")]);
        let e = patch_set(dir.path(), "nope").expect_err("unknown");
        assert!(e.starts_with("unknown patch set `nope`; the sets in "), "{e}");
        assert!(e.ends_with("are: mutants, userpoll"), "{e}");
        assert!(!e.contains('\n'));
        let e = patch_set(dir.path(), "userpoll").expect_err("empty");
        assert!(e.contains("has no *.patch files"), "{e}");
    }

    #[test]
    fn repo_fixtures_have_the_mutants() {
        let f = fixtures_dir();
        assert!(default_fragments(&f).iter().all(|p| p.is_file()));
        assert_eq!(patch_set(&f, "mutants").expect("mutants").len(), 9);
    }

    #[rstest]
    #[case("default", Some("7.3.4-1~bpo13+1"))]
    #[case("7.3", Some("7.3.4-1~bpo13+1"))]
    #[case("7.3.4", Some("7.3.4-1~bpo13+1"))]
    #[case("7.3.4-1~bpo13+1", Some("7.3.4-1~bpo13+1"))]
    #[case("6.1", Some("6.1.176-1"))]
    #[case("6.1.0-50", Some("6.1.176-1"))]
    #[case("6.12", Some("6.12.107-1"))]
    #[case("6.12.107+deb13", Some("6.12.107-1"))]
    #[case("6.19", Some("6.19.14-1~bpo13+1"))]
    #[case("7", Some("7.3.4-1~bpo13+1"))]
    #[case("7.3~rc7", Some("7.3~rc7-1~exp1"))]
    #[case("6.99", None)]
    #[case("6.1.17", None)]
    fn selects_newest_match(#[case] q: &str, #[case] want: Option<&str>) {
        let c = sample();
        let got = select(&c.kernels, &Spec::parse(q), |k| (&k.version, &k.release));
        assert_eq!(got.map(|k| k.version.as_str()), want);
    }

    #[rstest]
    #[case("6.99", &["6.19.14", "7.0.13"])]
    #[case("9", &["7.3.4"])]
    #[case("5.10", &["6.1.176"])]
    fn offers_nearest(#[case] q: &str, #[case] want: &[&str]) {
        let versions = ["6.1.176-1", "6.19.10-1", "6.19.14-1", "7.0.4-1", "7.0.13-1", "7.3~rc7-1", "7.3.4-1"];
        assert_eq!(nearest(q, &versions), want);
    }

    #[rstest]
    #[case("7.3.4", "7.3")]
    #[case("7.3~rc7", "7.3")]
    #[case("6.12.107", "6.12")]
    #[case("7", "7")]
    fn series_of(#[case] v: &str, #[case] want: &str) {
        assert_eq!(series(v), want);
    }
}
