//! `pollcheck matrix`: the selected suites on many kernels, VMs in parallel, rendered as a
//! feature × kernel table (Markdown, HTML, JSON); `--from` renders runs made elsewhere (CI jobs).

use clap::Args;
use pollcheck::accel::AccelChoice;
use pollcheck::matrix::runner::{self, MatrixConfig};
use pollcheck::matrix::{html::html, markdown::markdown, KernelRun, Matrix};
use pollcheck::report::model::RunReport;
use pollcheck::{agent_bin, plan, HostError};
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
    /// VMs at once (default: host CPUs, fewer if memory is short).
    #[arg(long)]
    jobs: Option<usize>,
    #[arg(long, value_enum, default_value = "auto")]
    accel: AccelChoice,
    #[arg(long, default_value_t = 1024)]
    memory_mb: u32,
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
    pollcheck::qemu::find_qemu()?;
    let agent = agent_bin::agent_path()?;
    let all = agent_bin::list_cases(&agent)?;
    let cases: Vec<_> = plan::select(&all, &args.filters, &[], false).into_iter().cloned().collect();
    if cases.is_empty() {
        let hint = args.filters.first().and_then(|f| plan::closest(&all, f)).map(|c| format!("; did you mean {c}?"));
        return Err(HostError::NoCaseMatches { filter: args.filters.join(" "), hint: hint.unwrap_or_default() }.into());
    }
    let cache = pollcheck_images::Cache::open_default()?;
    let progress = pollcheck::progress::TermProgress::default();
    let specs = if args.kernels.is_empty() {
        let cat = pollcheck_images::catalogue::current(&cache, &progress)?;
        cat.newest_per_minor().iter().map(|k| pollcheck_images::debversion::upstream(&k.version).to_string()).collect()
    } else {
        args.kernels.clone()
    };
    // Fetching and building happen one at a time (builds are serialised anyway); a kernel that
    // can't be prepared becomes a "not run" column instead of ending the matrix.
    let kernels: Vec<_> = specs
        .iter()
        .map(|spec| {
            let k = pollcheck_images::resolve(spec, None, &cache, &progress).map_err(|e| e.to_string());
            if let Err(e) = &k {
                eprintln!("pollcheck: {spec}: {e}");
            }
            (spec.clone(), k)
        })
        .collect();
    let cfg = MatrixConfig {
        accel: args.accel,
        memory_mb: args.memory_mb,
        artifacts_root: pollcheck::libtest::artifacts_root(),
        cache_dir: cache.root().to_owned(),
        jobs: args.jobs.unwrap_or_else(|| runner::default_jobs(args.memory_mb)),
    };
    eprintln!("pollcheck: {} cases on {} kernels, {} VMs at once", cases.len(), kernels.len(), cfg.jobs);
    Ok(runner::run_all(kernels, &cases, &cfg, &|run| match &run.result {
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
    }))
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
