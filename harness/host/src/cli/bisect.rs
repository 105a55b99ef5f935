//! `pollcheck bisect` (over Debian's prebuilt kernels) and `pollcheck bisect-run` (the command
//! `git bisect run` calls in a kernel tree: build incrementally, boot, judge).

use super::guest_args::GuestArgs;
use clap::Args;
use pollcheck::bisect::{self, judge, Verdict};
use pollcheck::display::{Detail, LiveDisplay};
use pollcheck::report::model::RunReport;
use pollcheck::session::{self, SessionConfig};
use pollcheck::{plan, HostError, Workspace};
use pollcheck_images::build::{BuildRequest, SourceSpec};
use pollcheck_images::catalogue::CatalogueKernel;
use pollcheck_images::{spec, KernelImage};
use pollcheck_proto::CaseMeta;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The cases and the guests, for both commands.
#[derive(Debug, Args)]
pub struct VmArgs {
    /// Cases that decide good or bad (substring of `suite::case`, repeatable; default: all).
    #[arg(long = "case")]
    cases: Vec<String>,
    #[command(flatten)]
    guest: GuestArgs,
}

#[derive(Debug, Args)]
pub struct BisectArgs {
    /// A Debian kernel version where the cases pass (e.g. `6.12`).
    #[arg(long)]
    good: String,
    /// A newer Debian kernel version where they fail (e.g. `7.2`).
    #[arg(long)]
    bad: String,
    #[command(flatten)]
    vm: VmArgs,
}

#[derive(Debug, Args)]
pub struct BisectRunArgs {
    /// The kernel tree `git bisect` has checked out.
    #[arg(long, default_value = ".")]
    tree: PathBuf,
    /// Kconfig fragments (default: fixtures/config/base.config and net.config).
    #[arg(long = "config")]
    configs: Vec<PathBuf>,
    #[command(flatten)]
    vm: VmArgs,
}

fn select_cases(ws: &Workspace, filters: &[String]) -> anyhow::Result<Vec<CaseMeta>> {
    for f in filters {
        if plan::select(&ws.cases, std::slice::from_ref(f), &[], false).is_empty() {
            let hint = plan::closest(&ws.cases, f).map(|c| format!("; did you mean {c}?")).unwrap_or_default();
            return Err(HostError::NoCaseMatches { filter: f.clone(), hint }.into());
        }
    }
    Ok(plan::select(&ws.cases, filters, &[], false).into_iter().cloned().collect())
}

fn run_cases(ws: &Workspace, kernel: KernelImage, cases: &[CaseMeta], vm: &VmArgs) -> Result<RunReport, HostError> {
    let cfg = vm.guest.apply(SessionConfig::new(kernel, ws));
    session::run(ws, &cfg, cases, &LiveDisplay::new(Detail::Quiet, false)).map(|r| r.report)
}

fn describe(v: &Verdict) -> String {
    match v {
        Verdict::Good => "good".into(),
        Verdict::Bad(why) => format!("bad ({why})"),
        Verdict::Untestable(why) => format!("untestable ({why})"),
    }
}

// ---------------------------------------------------------------- bisect over Debian kernels

pub fn bisect(args: BisectArgs) -> anyhow::Result<ExitCode> {
    args.vm.guest.validate()?;
    let ws = Workspace::open()?;
    ws.qemu()?;
    let cases = select_cases(&ws, &args.vm.cases)?;
    let progress = pollcheck::progress::TermProgress::default();
    let cat = pollcheck_images::catalogue::current(&ws.cache, &progress)?;
    let (good, bad) = endpoints(&cat.kernels, &args)?;
    let (gk, bk) = (&cat.kernels[good], &cat.kernels[bad]);
    let test = |version: &str| -> anyhow::Result<Verdict> {
        let kernel = ws.kernel(version, None)?;
        Ok(judge(&run_cases(&ws, kernel, &cases, &args.vm)?))
    };
    eprintln!("pollcheck: checking the endpoints with {} cases", cases.len());
    let v = test(&gk.version)?;
    if v != Verdict::Good {
        anyhow::bail!("--good {} ({}) is not good: {}; pick an older good kernel", args.good, gk.version, describe(&v));
    }
    let v = test(&bk.version)?;
    if !matches!(v, Verdict::Bad(_)) {
        let why = describe(&v);
        anyhow::bail!("--bad {} ({}) is not bad: {why}; pick a kernel where the cases fail", args.bad, bk.version);
    }
    let candidates = &cat.kernels[good + 1..bad];
    out!("bisecting {} kernels between {} (good) and {} (bad)", candidates.len(), gk.version, bk.version);
    let mut failure: Option<anyhow::Error> = None;
    let outcome = bisect::bisect(candidates.len(), |i| {
        let k = &candidates[i];
        let v = test(&k.version).unwrap_or_else(|e| {
            let v = Verdict::Untestable(e.to_string());
            failure.get_or_insert(e);
            v
        });
        out!("  {:<22} {}", k.version, describe(&v));
        v
    });
    print_outcome(&outcome, candidates, gk, bk);
    if let Some(e) = failure {
        eprintln!("pollcheck: note: some kernels could not be tested: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The catalogue positions of `--good` and `--bad`, the good one older.
fn endpoints(kernels: &[CatalogueKernel], args: &BisectArgs) -> anyhow::Result<(usize, usize)> {
    let index_of = |flag: &str, v: &str| -> anyhow::Result<usize> {
        let parsed = spec::Spec::parse(v);
        if !matches!(parsed, spec::Spec::Version(_)) {
            anyhow::bail!("--{flag} {v} is not a Debian kernel version; pass one such as 6.12 or 7.2.13");
        }
        let k = spec::select(kernels, &parsed, |k| (&k.version, &k.release)).ok_or_else(|| {
            let versions: Vec<&str> = kernels.iter().map(|k| k.version.as_str()).collect();
            let near = spec::nearest(v, &versions).join(", ");
            anyhow::anyhow!("--{flag} {v}: no Debian kernel matches; nearest offered: {near}")
        })?;
        Ok(kernels.iter().position(|o| o.version == k.version && o.release == k.release).unwrap_or(0))
    };
    let (good, bad) = (index_of("good", &args.good)?, index_of("bad", &args.bad)?);
    if good >= bad {
        let (g, b) = (&kernels[good].version, &kernels[bad].version);
        anyhow::bail!(
            "--good {} ({g}) is not older than --bad {} ({b}) in Debian version order; swap them",
            args.good,
            args.bad
        );
    }
    Ok((good, bad))
}

fn print_outcome(
    outcome: &bisect::search::Outcome,
    candidates: &[CatalogueKernel],
    gk: &CatalogueKernel,
    bk: &CatalogueKernel,
) {
    let last_good = outcome.last_good.map_or(gk, |i| &candidates[i]);
    let first_bad = outcome.first_bad.map_or(bk, |i| &candidates[i]);
    out!("first bad:  {} ({})", first_bad.version, first_bad.release);
    out!("last good:  {} ({})", last_good.version, last_good.release);
    out!(
        "range:      upstream v{}..v{} ({} kernels tested in {} steps)",
        pollcheck_images::debversion::upstream(&last_good.version),
        pollcheck_images::debversion::upstream(&first_bad.version),
        outcome.steps.len() + 2,
        outcome.steps.len()
    );
    if !outcome.untestable_between.is_empty() {
        let names: Vec<&str> = outcome.untestable_between.iter().map(|&i| candidates[i].version.as_str()).collect();
        out!("untestable in between (the change may be in any of them): {}", names.join(", "));
    }
}

// ---------------------------------------------------------------- bisect-run for git bisect run

/// Exit codes `git bisect run` understands: 0 good, 1 bad, 125 skip this commit, and 128 (any
/// code above 127) to abort the bisection, used for mistakes in the command itself.
const GOOD: u8 = 0;
const BAD: u8 = 1;
const SKIP: u8 = 125;
const ABORT: u8 = 128;

pub fn bisect_run(args: BisectRunArgs) -> anyhow::Result<ExitCode> {
    let code = match bisect_run_inner(&args) {
        Ok(code) => code,
        Err(RunError::Abort(e)) => {
            eprintln!("pollcheck bisect-run: {e:#}; aborting the bisection");
            ABORT
        }
        Err(RunError::Skip(e)) => {
            eprintln!("pollcheck bisect-run: cannot test this commit: {e}");
            SKIP
        }
    };
    Ok(ExitCode::from(code))
}

enum RunError {
    Abort(anyhow::Error),
    Skip(String),
}

fn bisect_run_inner(args: &BisectRunArgs) -> Result<u8, RunError> {
    let abort = |e: anyhow::Error| RunError::Abort(e);
    args.vm.guest.validate().map_err(|e| abort(e.into()))?;
    let ws = Workspace::open().map_err(|e| abort(e.into()))?;
    ws.qemu().map_err(|e| abort(e.into()))?;
    pollcheck_images::build::tree::check_tree(&args.tree).map_err(|e| abort(e.into()))?;
    check_clean(&args.tree).map_err(abort)?;
    let cases = select_cases(&ws, &args.vm.cases).map_err(abort)?;
    let fragments =
        if args.configs.is_empty() { spec::default_fragments(&spec::fixtures_dir()) } else { args.configs.clone() };
    let commit = git(&args.tree, &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|_| "?".into());
    eprintln!("pollcheck bisect-run: building {} at {commit}", args.tree.display());
    let req = BuildRequest { source: SourceSpec::Tree(args.tree.clone()), patches: Vec::new(), fragments };
    let started = std::time::Instant::now();
    let built = pollcheck_images::build::build(&req, ws.cache.root(), &mut |_| {})
        .map_err(|e| RunError::Skip(e.to_string()))?;
    eprintln!("pollcheck bisect-run: built {} in {:.0} s", built.release, started.elapsed().as_secs_f64());
    let kernel = KernelImage {
        spec: format!("{}@{commit}", args.tree.display()),
        bzimage: built.bzimage,
        modules_dir: None,
        release: built.release,
        config: Some(built.config),
    };
    let report = run_cases(&ws, kernel, &cases, &args.vm).map_err(|e| abort(e.into()))?;
    let verdict = judge(&report);
    eprintln!("pollcheck bisect-run: {commit} is {}", describe(&verdict));
    Ok(match verdict {
        Verdict::Good => GOOD,
        Verdict::Bad(_) => BAD,
        Verdict::Untestable(_) => SKIP,
    })
}

/// Tracked files must match HEAD: a bisection tests commits, not edits on top of them.
fn check_clean(tree: &Path) -> anyhow::Result<()> {
    if !tree.join(".git").exists() && git(tree, &["rev-parse", "--git-dir"]).is_err() {
        anyhow::bail!(
            "{} is not a git repository; run bisect-run from `git bisect run` in your kernel tree",
            tree.display()
        );
    }
    let dirty = git(tree, &["status", "--porcelain", "--untracked-files=no"])?;
    if !dirty.trim().is_empty() {
        let first = dirty.lines().next().unwrap_or_default().trim();
        anyhow::bail!(
            "{} has uncommitted changes ({first}{}); commit or stash them before bisecting",
            tree.display(),
            if dirty.lines().count() > 1 { ", …" } else { "" }
        );
    }
    Ok(())
}

fn git(tree: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = duct::cmd("git", args).dir(tree).stderr_capture().read()?;
    Ok(out)
}
