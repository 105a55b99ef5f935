//! `pollcheck bench build`: cold, warm (ccache) and one-file incremental kernel build times.
//!
//! Runs in a private scratch cache (its own ccache, a copy of the source tree), so it neither
//! uses nor disturbs the user's cache and the cold build really is cold.

use clap::Args;
use pollcheck_images::build::{self, BuildRequest, SourceSpec};
use pollcheck_images::spec;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BuildBenchArgs {
    /// The Debian `linux-source-<version>` to build.
    #[arg(long, default_value = "7.2")]
    source: String,
    /// The file the incremental step changes (a comment appended), relative to the tree.
    #[arg(long, default_value = "fs/eventpoll.c")]
    touch: String,
}

pub fn bench_build(args: BuildBenchArgs) -> anyhow::Result<ExitCode> {
    let cache = pollcheck_images::Cache::open_default()?;
    let pristine = build::debian_source_tree(&args.source, cache.root(), &mut |l| eprintln!("{l}"))?;
    let scratch = tempfile::Builder::new().prefix("pollcheck-bench-build-").tempdir_in(cache.root())?;
    pollcheck::cleanup::install_interrupt_handler();
    pollcheck::cleanup::register_dir(scratch.path().to_owned());
    let tree = scratch.path().join("linux");
    eprintln!("copying {} to {}", pristine.display(), tree.display());
    duct::cmd!("cp", "-a", "--reflink=auto", &pristine, &tree).run()?;
    let fixtures = spec::fixtures_dir();
    let req = BuildRequest {
        source: SourceSpec::Tree(tree.clone()),
        patches: Vec::new(),
        fragments: spec::default_fragments(&fixtures),
    };
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    eprintln!("{jobs} build jobs; scratch cache {}", scratch.path().display());

    let cold = timed("cold (empty ccache, new build dir)", &req, scratch.path())?;
    remove_obj_dirs(&tree)?;
    let warm = timed("warm (ccache filled, new build dir)", &req, scratch.path())?;
    let file = tree.join(&args.touch);
    let mut text = std::fs::read_to_string(&file)?;
    text.push_str("/* pollcheck bench build: incremental step */\n");
    std::fs::write(&file, text)?;
    let incremental = timed(&format!("incremental (one file changed: {})", args.touch), &req, scratch.path())?;

    out!("kernel build benchmark: linux-source-{} with fixtures/config, {jobs} jobs", args.source);
    for (what, took, target) in [
        ("cold", cold, Duration::from_secs(8 * 60)),
        ("warm", warm, Duration::from_secs(90)),
        ("one-file incremental", incremental, Duration::from_secs(45)),
    ] {
        let verdict = if took <= target { "meets" } else { "misses" };
        out!("{what:<22} {:>7.1} s   ({verdict} the {:.0} s target)", took.as_secs_f64(), target.as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}

fn timed(what: &str, req: &BuildRequest, cache_root: &Path) -> anyhow::Result<Duration> {
    eprintln!("building: {what}");
    let start = Instant::now();
    let mut lines = 0u64;
    build::build(req, cache_root, &mut |_| lines += 1)?;
    let took = start.elapsed();
    eprintln!("  {:.1} s, {lines} lines of output", took.as_secs_f64());
    Ok(took)
}

fn remove_obj_dirs(tree: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(tree)? {
        let path = entry?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(".obj-")) {
            std::fs::remove_dir_all(&path)?;
        }
    }
    Ok(())
}
