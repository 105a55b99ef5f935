//! `pollcheck matrix`: the selected suites on many kernels, VMs in parallel, rendered as a
//! feature × kernel table (Markdown, HTML, JSON); `--from` renders runs made elsewhere (CI jobs).

use super::guest_args::GuestArgs;
use clap::Args;
use pollcheck::display::{Detail, LiveDisplay};
use pollcheck::matrix::runner;
use pollcheck::matrix::{html::html, markdown::markdown, KernelRun, Matrix};
use pollcheck::report::model::RunReport;
use pollcheck::session::config::default_jobs;
use pollcheck::session::{SessionConfig, Slots};
use pollcheck::{plan, HostError, Workspace};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Kernels, comma-separated (any kernel spec: `6.12`, `src:7.2+userpoll`, a path). Default:
    /// the newest patch release of each minor the Debian archive offers.
    #[arg(long, value_delimiter = ',')]
    kernels: Vec<String>,
    /// Only cases whose name contains one of these.
    filters: Vec<String>,
    #[command(flatten)]
    guest: GuestArgs,
    /// Render from existing runs instead: results.json files or directories holding them.
    #[arg(long, num_args = 1.., conflicts_with_all = ["kernels", "jobs"])]
    from: Vec<PathBuf>,
    /// Where matrix.{md,html,json} go (default: target/pollcheck/matrix-<id>/).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn matrix(args: MatrixArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let runs = if args.from.is_empty() { run_kernels(&args)? } else { load_runs(&args.from)? };
    let m = Matrix::build(&runs);
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => pollcheck::libtest::artifacts_root().join(format!("matrix-{}", pollcheck::report::new_run_id())),
    };
    std::fs::create_dir_all(&dir).map_err(|source| HostError::Io { what: "matrix dir", path: dir.clone(), source })?;
    let md = markdown(&m);
    for (name, text) in [("matrix.md", md.clone()), ("matrix.html", html(&m)), ("matrix.json", json(&m)?)] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| HostError::Io { what: "matrix file", path, source })?;
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        append(Path::new(&summary), &md)?;
    }
    out!("{md}");
    eprintln!(
        "pollcheck: matrix of {} kernels in {:.1} s; {}/matrix.html",
        m.columns.len(),
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(if m.has_failures() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn run_kernels(args: &MatrixArgs) -> anyhow::Result<Vec<KernelRun>> {
    let ws = Workspace::open()?;
    ws.qemu()?;
    let cases: Vec<_> = plan::select(&ws.cases, &args.filters, &[], false).into_iter().cloned().collect();
    if cases.is_empty() {
        let hint =
            args.filters.first().and_then(|f| plan::closest(&ws.cases, f)).map(|c| format!("; did you mean {c}?"));
        return Err(HostError::NoCaseMatches { filter: args.filters.join(" "), hint: hint.unwrap_or_default() }.into());
    }
    let progress = pollcheck::progress::TermProgress::default();
    let specs = if args.kernels.is_empty() {
        let cat = pollcheck_images::catalogue::current(&ws.cache, &progress)?;
        cat.newest_per_minor().iter().map(|k| pollcheck_images::debversion::upstream(&k.version).to_string()).collect()
    } else {
        args.kernels.clone()
    };
    // Fetching and building happen one at a time (builds are serialised anyway); a kernel that
    // can't be prepared becomes a "not run" column instead of ending the matrix.
    let kernels: Vec<_> = specs
        .iter()
        .map(|spec| {
            let k = ws.kernel(spec, None).map_err(|e| e.to_string());
            if let Err(e) = &k {
                eprintln!("pollcheck: {spec}: {e}");
            }
            (spec.clone(), k)
        })
        .collect();
    let config = |k| args.guest.apply(SessionConfig::new(k, &ws));
    args.guest.validate()?;
    let slots =
        Slots::for_sessions(args.guest.jobs.unwrap_or_else(|| default_jobs(args.guest.memory_mb)), kernels.len());
    eprintln!("pollcheck: {} cases on {} kernels, {} guests at once", cases.len(), kernels.len(), slots.total());
    let display = LiveDisplay::new(Detail::Quiet, true);
    let runs = runner::run_all(&ws, kernels, &cases, &config, &slots, &display, &|run| match &run.result {
        Ok(r) => {
            let t = pollcheck::report::Totals::of(r);
            eprintln!(
                "pollcheck: {} ({}): {} passed, {} failed, {} skipped, {} errors in {:.1} s",
                run.spec,
                r.kernel.release,
                t.pass,
                t.fail,
                t.skip,
                t.error + t.timeout,
                r.duration_ms as f64 / 1000.0
            )
        }
        Err(e) => eprintln!("pollcheck: {}: not run: {e}", run.spec),
    });
    display.finish();
    Ok(runs)
}

/// Every `results.json` named or found (recursively) under the given directories, in path order.
fn load_runs(paths: &[PathBuf]) -> anyhow::Result<Vec<KernelRun>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            find_results(p, &mut files)?;
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            anyhow::bail!("{} does not exist; pass results.json files or directories holding them", p.display());
        }
    }
    files.sort();
    if files.is_empty() {
        anyhow::bail!("no results.json under {}; pass the run directories of `pollcheck run`", display_list(paths));
    }
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f)?;
            let report: RunReport = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a pollcheck results.json: {e}", f.display()))?;
            Ok(KernelRun { spec: report.kernel.spec.clone(), result: Ok(report) })
        })
        .collect()
}

fn find_results(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            find_results(&path, out)?;
        } else if path.file_name().is_some_and(|n| n == "results.json") {
            out.push(path);
        }
    }
    Ok(())
}

fn display_list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn json(m: &Matrix) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(m)? + "\n")
}

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
