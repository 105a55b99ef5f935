//! `pollcheck kernels`: the Debian catalogue, fetching, source builds and pruning the kernel cache.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use pollcheck_images::build::{self, BuildRequest, SourceSpec};
use pollcheck_images::catalogue::{self, minor_of};
use pollcheck_images::{cache, debversion, spec, Cache};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Subcommand)]
pub enum KernelsCommand {
    /// The Debian cloud kernels the archive offers (newest patch release per minor unless --all).
    List(ListArgs),
    /// Resolve a kernel spec (fetching or building it if needed); print its bzImage and release.
    Fetch(FetchArgs),
    /// Build a kernel from source (cached by source, fragments and patches); print its bzImage.
    Build(BuildArgs),
    /// Remove cached kernels, source builds and extracted vmlinux files.
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Every version the archive offers, not only the newest of each minor.
    #[arg(long)]
    all: bool,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// `default`, a Debian version (`6.12`), a bzImage path, or `src:7.2[+<patch set>]`.
    spec: String,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// A Debian `linux-source-<version>` (e.g. `7.2`) or the path of a kernel tree.
    #[arg(long, default_value = "7.2")]
    source: String,
    /// A patch applied with `patch -p1`; repeat for several, applied in order.
    #[arg(long = "patch", value_name = "FILE")]
    patches: Vec<PathBuf>,
    /// A Kconfig fragment merged on top of tinyconfig; repeat for several. Default:
    /// fixtures/config/base.config and net.config.
    #[arg(long = "config", value_name = "FRAGMENT")]
    configs: Vec<PathBuf>,
    /// Print every line of build output.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Also remove the newest Debian kernel (kept by default, it is what `default` runs).
    #[arg(long)]
    all: bool,
    /// Only remove entries not used in the last DAYS days.
    #[arg(long, value_name = "DAYS")]
    older_than: Option<u64>,
    /// Print what would be removed; remove nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn kernels(cmd: KernelsCommand) -> anyhow::Result<ExitCode> {
    let cache = Cache::open_default()?;
    match cmd {
        KernelsCommand::List(a) => list(&cache, &a),
        KernelsCommand::Fetch(a) => fetch(&cache, &a),
        KernelsCommand::Build(a) => build_cmd(&cache, &a),
        KernelsCommand::Prune(a) => prune(&cache, &a),
    }
}

// ---------------------------------------------------------------- list

/// The Debian suite a kernel comes from, guessed from its version and release.
fn suite_of(version: &str, release: &str) -> String {
    let codename = |n: &str| match n {
        "11" => "bullseye",
        "12" => "bookworm",
        "13" => "trixie",
        "14" => "forky",
        _ => "?",
    };
    if version.contains("~exp") {
        return "experimental".into();
    }
    if let Some(rest) = version.split("~bpo").nth(1) {
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return format!("{}-backports", codename(&n));
    }
    if let Some(rest) = release.split("+deb").nth(1) {
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return codename(&n).into();
    }
    match minor_of(version).as_str() {
        "5.10" => "bullseye".into(),
        "6.1" => "bookworm".into(),
        _ => "?".into(),
    }
}

fn list(cache: &Cache, a: &ListArgs) -> anyhow::Result<ExitCode> {
    let cat = catalogue::current(cache, &pollcheck::progress::TermProgress::default())?;
    out!("{:<20} {:<28} {:<20} cached", "version", "release", "suite");
    let shown = if a.all { cat.kernels.iter().collect() } else { cat.newest_per_minor() };
    for k in shown {
        let entry = cache.root().join("kernels").join(cache::entry_key(&k.package, &k.version));
        let cached = if entry.join("manifest.json").is_file() { "yes" } else { "-" };
        out!("{:<20} {:<28} {:<20} {cached}", k.version, k.release, suite_of(&k.version, &k.release));
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- fetch

fn fetch(cache: &Cache, a: &FetchArgs) -> anyhow::Result<ExitCode> {
    let k = pollcheck_images::resolve(&a.spec, None, cache, &pollcheck::progress::TermProgress::default())?;
    out!("bzimage: {}", k.bzimage.display());
    out!("release: {}", k.release);
    if let Some(c) = &k.config {
        out!("config:  {}", c.display());
    }
    if let Some(m) = &k.modules_dir {
        out!("modules: {}", m.display());
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- build

/// `7.2` → Debian `linux-source-7.2`; anything else (or an existing path) → a tree.
fn source_spec(s: &str) -> SourceSpec {
    let is_version = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.');
    if is_version && !Path::new(s).exists() {
        SourceSpec::DebianVersion(s.to_string())
    } else {
        SourceSpec::Tree(PathBuf::from(s))
    }
}

fn build_cmd(cache: &Cache, a: &BuildArgs) -> anyhow::Result<ExitCode> {
    let fragments =
        if a.configs.is_empty() { spec::default_fragments(&spec::fixtures_dir()) } else { a.configs.clone() };
    let req = BuildRequest { source: source_spec(&a.source), patches: a.patches.clone(), fragments };
    let mut lines = 0u64;
    let mut on_line = |line: &str| {
        lines += 1;
        if a.verbose || line.starts_with("pollcheck: ") {
            eprintln!("{line}");
        } else if lines.is_multiple_of(200) {
            eprintln!("pollcheck: {lines} lines of build output, at: {}", line.trim());
        }
    };
    let started = std::time::Instant::now();
    let k = build::build(&req, cache.root(), &mut on_line)?;
    if lines > 0 {
        eprintln!("pollcheck: built {} in {:.0} s", k.release, started.elapsed().as_secs_f64());
    }
    out!("bzimage: {}", k.bzimage.display());
    out!("release: {}", k.release);
    out!("config:  {}", k.config.display());
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- prune

/// One removable thing in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Candidate {
    path: PathBuf,
    last_used: SystemTime,
}

/// Entries of `<root>/<sub>` (directories or files), never following symlinks.
fn children(root: &Path, sub: &str) -> Vec<Candidate> {
    let Ok(dir) = std::fs::read_dir(root.join(sub)) else { return Vec::new() };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| {
            let meta = std::fs::symlink_metadata(e.path()).ok()?;
            Some(Candidate { path: e.path(), last_used: meta.modified().unwrap_or(UNIX_EPOCH) })
        })
        .collect()
}

/// The cached Debian kernel `default` would pick offline: the newest manifest version.
fn newest_debian_entry(root: &Path) -> Option<PathBuf> {
    let version_of = |p: &Path| -> Option<String> {
        let text = std::fs::read_to_string(p.join("manifest.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v.get("version")?.as_str().map(str::to_string)
    };
    children(root, "kernels")
        .into_iter()
        .filter_map(|c| version_of(&c.path).map(|v| (c.path, v)))
        .max_by(|a, b| debversion::compare(&a.1, &b.1))
        .map(|(p, _)| p)
}

/// What to remove: everything under kernels/, builds/ and vmlinux/ except `keep`, anything touched
/// within the last hour (a build or run may be using it), and with `older_than` anything newer.
fn select_prunable(
    cands: Vec<Candidate>,
    keep: Option<&Path>,
    older_than: Option<Duration>,
    now: SystemTime,
) -> Vec<Candidate> {
    let age = |c: &Candidate| now.duration_since(c.last_used).unwrap_or_default();
    cands
        .into_iter()
        .filter(|c| Some(c.path.as_path()) != keep)
        .filter(|c| age(c) >= Duration::from_secs(3600))
        .filter(|c| older_than.is_none_or(|d| age(c) >= d))
        .collect()
}

/// Bytes under `path`, not following symlinks.
fn disk_bytes(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return 0 };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path).into_iter().flatten().filter_map(|e| e.ok()).map(|e| disk_bytes(&e.path())).sum()
}

fn prune(cache: &Cache, a: &PruneArgs) -> anyhow::Result<ExitCode> {
    let root = match std::fs::canonicalize(cache.root()) {
        Ok(r) => r,
        Err(_) => {
            out!("nothing to prune: {} does not exist", cache.root().display());
            return Ok(ExitCode::SUCCESS);
        }
    };
    if root == Path::new("/") || Some(root.as_path()) == std::env::var_os("HOME").as_deref().map(Path::new) {
        bail!("refusing to prune: the cache root is {}", root.display());
    }
    let keep = if a.all { None } else { newest_debian_entry(&root) };
    let cands: Vec<Candidate> = ["kernels", "builds", "vmlinux"].iter().flat_map(|sub| children(&root, sub)).collect();
    let older_than = a.older_than.map(|d| Duration::from_secs(d * 86400));
    let doomed = select_prunable(cands, keep.as_deref(), older_than, SystemTime::now());
    if let Some(k) = &keep {
        out!("keeping {} (newest Debian kernel; --all removes it too)", k.display());
    }
    let mut total = 0u64;
    for c in &doomed {
        // Only direct children of kernels/, builds/ or vmlinux/ under the canonical root.
        let parent_ok = c.path.parent().and_then(Path::parent) == Some(root.as_path());
        if !parent_ok {
            bail!("refusing to remove {}: not inside {}", c.path.display(), root.display());
        }
        let bytes = disk_bytes(&c.path);
        let verb = if a.dry_run { "would remove" } else { "removed" };
        if !a.dry_run {
            let meta = std::fs::symlink_metadata(&c.path)?;
            let r = if meta.is_dir() { std::fs::remove_dir_all(&c.path) } else { std::fs::remove_file(&c.path) };
            r.with_context(|| format!("failed to remove {}", c.path.display()))?;
        }
        total += bytes;
        out!("{verb} {} ({:.1} MiB)", c.path.display(), bytes as f64 / (1 << 20) as f64);
    }
    let verb = if a.dry_run { "would reclaim" } else { "reclaimed" };
    out!("{verb} {:.1} MiB in {} entries", total as f64 / (1 << 20) as f64, doomed.len());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites() {
        assert_eq!(suite_of("7.3.4-1~bpo13+1", "7.3.4+deb13-cloud-amd64"), "trixie-backports");
        assert_eq!(suite_of("7.3~rc7-1~exp1", "7.3-cloud-amd64"), "experimental");
        assert_eq!(suite_of("7.2.13-1", "7.2.13+deb14-cloud-amd64"), "forky");
        assert_eq!(suite_of("6.1.176-1", "6.1.0-50-cloud-amd64"), "bookworm");
    }

    #[test]
    fn source_specs() {
        assert_eq!(source_spec("7.2"), SourceSpec::DebianVersion("7.2".into()));
        assert_eq!(source_spec("/src/linux"), SourceSpec::Tree("/src/linux".into()));
    }

    #[test]
    fn prune_keeps_default_recent_and_young() {
        let now = UNIX_EPOCH + Duration::from_secs(100 * 86400);
        let c = |p: &str, days_ago: u64| Candidate {
            path: p.into(),
            last_used: now - Duration::from_secs(days_ago * 86400),
        };
        let cands = vec![c("/c/kernels/new", 50), c("/c/kernels/old", 50), c("/c/builds/b", 3), c("/c/vmlinux/x", 0)];
        let names = |v: Vec<Candidate>| v.into_iter().map(|c| c.path).collect::<Vec<_>>();
        let got = names(select_prunable(cands.clone(), Some(Path::new("/c/kernels/new")), None, now));
        assert_eq!(got, [PathBuf::from("/c/kernels/old"), PathBuf::from("/c/builds/b")]);
        let got = names(select_prunable(cands, None, Some(Duration::from_secs(7 * 86400)), now));
        assert_eq!(got, [PathBuf::from("/c/kernels/new"), PathBuf::from("/c/kernels/old")]);
    }
}
