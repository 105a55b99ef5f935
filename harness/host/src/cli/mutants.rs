//! `pollcheck mutants`: build each one-line mutant under fixtures/patches in one tree
//! (incrementally, ccache), run the cases of its area on it, and print and write the kill table
//! (Markdown and JSON): mutant → the cases that failed with the failing observation, and the
//! mutants no case killed. Exits 1 when a mutant survived or could not be judged.

use super::guest_args::GuestArgs;
use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pollcheck::display::{Detail, LiveDisplay};
use pollcheck::mutants::kills::{self, KillTable, MutantResult};
use pollcheck::mutants::{manifest, render, Mutant};
use pollcheck::report::model::RunReport;
use pollcheck::session::{self, SessionConfig};
use pollcheck::{HostError, Workspace};
use pollcheck_images::build::mutation::MutationTree;
use pollcheck_images::{spec, KernelImage};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct MutantsArgs {
    /// The source the mutants are built from: `src:<version>` (their own base sets are added).
    #[arg(long, short, default_value = "src:7.2")]
    kernel: String,
    /// Only mutants whose name contains one of these (`bp-m-`, `excl-m-oneshot-ok`).
    sets: Vec<String>,
    #[command(flatten)]
    guest: GuestArgs,
    /// Where kills.md and kills.json go (default: target/pollcheck/mutants-<id>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the table into fixtures/patches/README.md (between its generated markers).
    #[arg(long)]
    update_readme: bool,
}

pub fn mutants(args: MutantsArgs) -> anyhow::Result<ExitCode> {
    args.guest.validate()?;
    let version = source_version(&args.kernel)?;
    let fixtures = spec::fixtures_dir();
    let patches_dir = fixtures.join("patches");
    let all = manifest::discover(&patches_dir, &manifest::read(&patches_dir)?)?;
    let chosen: Vec<Mutant> =
        all.iter().filter(|m| args.sets.is_empty() || args.sets.iter().any(|s| m.name.contains(s))).cloned().collect();
    if chosen.is_empty() {
        let names: Vec<&str> = all.iter().map(|m| m.name.as_str()).take(8).collect();
        return Err(HostError::BadInput(format!(
            "no mutant matches {}; mutants are named like {}",
            args.sets.join(" "),
            names.join(", ")
        ))
        .into());
    }
    let ws = Workspace::open()?;
    ws.qemu()?;
    let bar = progress(chosen.len());
    let mut results = Vec::new();
    let mut meta = (String::new(), String::new());
    for (base, group) in by_base(&chosen) {
        let unmutated = Unmutated::run(&ws, &args, &version, &base, &group, &bar)?;
        meta = (unmutated.report.accel.to_string(), unmutated.report.qemu.clone());
        let tree = open_tree(&ws, &version, &base, &fixtures, &bar)?;
        for m in group {
            bar.set_message(format!("{}: building", m.name));
            results.push(judge(&ws, &args, &version, &tree, m, &unmutated, &bar));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let table = KillTable { kernel: format!("src:{version}"), accel: meta.0, qemu: meta.1, mutants: results };
    write_out(&args, &table)?;
    let unjudged = table.mutants.iter().any(|m| m.error.is_some());
    Ok(if table.survivors().next().is_some() || unjudged { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `7.2` from `src:7.2`; other specs cannot be mutated.
fn source_version(kernel: &str) -> anyhow::Result<String> {
    let rest = kernel.strip_prefix("src:").ok_or_else(|| {
        HostError::BadInput(format!("--kernel {kernel}: mutants are built from source; pass src:<version> (src:7.2)"))
    })?;
    let parsed = spec::SourceBuildSpec::parse(rest).map_err(HostError::BadInput)?;
    if !parsed.sets.is_empty() {
        return Err(HostError::BadInput(format!(
            "--kernel {kernel}: pass the bare source (src:{}); each mutant's base sets come from fixtures/patches/mutants.toml",
            parsed.version
        ))
        .into());
    }
    Ok(parsed.version)
}

/// Mutants grouped by their base patch sets, in first-seen order.
fn by_base(mutants: &[Mutant]) -> Vec<(Vec<String>, Vec<&Mutant>)> {
    let mut out: Vec<(Vec<String>, Vec<&Mutant>)> = Vec::new();
    for m in mutants {
        match out.iter_mut().find(|(b, _)| *b == m.family.base) {
            Some((_, list)) => list.push(m),
            None => out.push((m.family.base.clone(), vec![m])),
        }
    }
    out
}

/// The unmutated kernel of one base and its run of every case the base's mutants need.
struct Unmutated {
    report: RunReport,
    cases: BTreeMap<String, Vec<pollcheck_proto::CaseMeta>>,
}

impl Unmutated {
    fn run(
        ws: &Workspace,
        args: &MutantsArgs,
        version: &str,
        base: &[String],
        group: &[&Mutant],
        bar: &ProgressBar,
    ) -> anyhow::Result<Self> {
        let mut cases = BTreeMap::new();
        let mut union: Vec<pollcheck_proto::CaseMeta> = Vec::new();
        for m in group {
            let selected = ws.select(&m.family.cases, false)?;
            for c in &selected {
                if !union.iter().any(|u| u.id == c.id) {
                    union.push(c.clone());
                }
            }
            cases.insert(m.name.clone(), selected);
        }
        let spec = std::iter::once(format!("src:{version}")).chain(base.iter().cloned()).collect::<Vec<_>>().join("+");
        bar.set_message(format!("{spec}: the unmutated kernel"));
        let cfg = args.guest.apply(SessionConfig::new(ws.kernel(&spec, None)?, ws));
        let run = session::run(ws, &cfg, &union, &LiveDisplay::new(Detail::Quiet, false))?;
        say(bar, format!("pollcheck: unmutated {spec}: reports in {}", run.artifacts.path().display()));
        let report = run.report;
        let failing: Vec<String> =
            report.cases.iter().filter(|c| c.outcome.is_failure()).map(|c| c.id.to_string()).collect();
        if !failing.is_empty() {
            say(
                bar,
                format!(
                    "pollcheck: on unmutated {spec} these cases do not pass, so they judge no mutant: {}",
                    failing.join(", ")
                ),
            );
        }
        Ok(Self { report, cases })
    }
}

fn open_tree(
    ws: &Workspace,
    version: &str,
    base: &[String],
    fixtures: &std::path::Path,
    bar: &ProgressBar,
) -> anyhow::Result<MutationTree> {
    let mut patches = Vec::new();
    for set in base {
        patches.extend(spec::patch_set(fixtures, set).map_err(HostError::BadInput)?);
    }
    bar.set_message(format!("preparing the mutation tree of src:{version}+{}", base.join("+")));
    let mut quiet = |_: &str| {};
    MutationTree::open(version, &patches, &spec::default_fragments(fixtures), ws.cache.root(), &mut quiet)
        .with_context(|| format!("failed to prepare the mutation tree of src:{version}"))
}

/// Build `m`, run its cases, and say what killed it.
fn judge(
    ws: &Workspace,
    args: &MutantsArgs,
    version: &str,
    tree: &MutationTree,
    m: &Mutant,
    unmutated: &Unmutated,
    bar: &ProgressBar,
) -> MutantResult {
    let mut result = MutantResult {
        name: m.name.clone(),
        says: m.says.clone(),
        base: m.family.base.clone(),
        killed_by: Vec::new(),
        hidden_by_skip: Vec::new(),
        build_s: 0.0,
        run_s: 0.0,
        error: None,
        run_dir: None,
    };
    let started = Instant::now();
    let mut quiet = |_: &str| {};
    let built = tree.build(&m.patches, &mut quiet);
    result.build_s = started.elapsed().as_secs_f64();
    let built = match built {
        Ok(b) => b,
        Err(e) => {
            result.error = Some(format!("build: {e}"));
            return result;
        }
    };
    let spec = std::iter::once(format!("src:{version}")).chain(m.family.base.iter().cloned()).chain([m.name.clone()]);
    let kernel = KernelImage {
        spec: spec.collect::<Vec<_>>().join("+"),
        bzimage: built.bzimage,
        modules_dir: None,
        release: built.release,
        config: Some(built.config),
    };
    bar.set_message(format!("{}: running {} cases", m.name, unmutated.cases.get(&m.name).map_or(0, Vec::len)));
    let started = Instant::now();
    let cfg = args.guest.apply(SessionConfig::new(kernel, ws));
    let cases = unmutated.cases.get(&m.name).cloned().unwrap_or_default();
    match session::run(ws, &cfg, &cases, &LiveDisplay::new(Detail::Quiet, false)) {
        Ok(r) => {
            (result.killed_by, result.hidden_by_skip) = kills::kills(&unmutated.report, &r.report);
            result.run_dir = Some(r.artifacts.path().display().to_string());
        }
        Err(e) => result.error = Some(format!("run: {e}")),
    }
    result.run_s = started.elapsed().as_secs_f64();
    let verdict = if result.killed() { format!("killed by {}", result.killed_by.len()) } else { "SURVIVED".into() };
    say(bar, format!("pollcheck: {} {verdict} (build {:.0} s, run {:.0} s)", m.name, result.build_s, result.run_s));
    result
}

/// A line above the bar, or on stderr when there is no bar (not a terminal: CI logs).
fn say(bar: &ProgressBar, line: impl AsRef<str>) {
    if bar.is_hidden() {
        eprintln!("{}", line.as_ref());
    } else {
        bar.println(line.as_ref());
    }
}

fn progress(n: usize) -> ProgressBar {
    let target = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(n as u64), target);
    if let Ok(style) = ProgressStyle::with_template("[{bar:30}] {pos}/{len} mutants {elapsed} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn write_out(args: &MutantsArgs, table: &KillTable) -> anyhow::Result<()> {
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => pollcheck::libtest::artifacts_root().join(format!("mutants-{}", pollcheck::report::new_run_id())),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let md = render::markdown(table);
    std::fs::write(dir.join("kills.md"), &md)?;
    std::fs::write(dir.join("kills.json"), serde_json::to_string_pretty(table)? + "\n")?;
    if args.update_readme {
        let readme = spec::fixtures_dir().join("patches/README.md");
        let old = std::fs::read_to_string(&readme).unwrap_or_else(|_| "# Patch sets and mutants\n".into());
        std::fs::write(&readme, render::splice(&old, &md))?;
        eprintln!("pollcheck: wrote the table into {}", readme.display());
    }
    out!("{md}");
    eprintln!("pollcheck: kill table in {}", dir.display());
    Ok(())
}
