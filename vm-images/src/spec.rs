//! Kernel specs (`default`, `7.3`, `6.12.107+deb13`, a path, `src:…`) and matching them to versions.

use std::cmp::Ordering;
use std::path::PathBuf;

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
