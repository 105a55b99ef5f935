//! `pollcheck bench boot`: how long from `pollcheck run` start to the first case, and to the end
//! of a suite, over repeated runs on one kernel (targets belong here, not in timed tests).

use clap::{Args, Subcommand};
use pollcheck::accel::AccelChoice;
use pollcheck::session::{self, SessionConfig};
use pollcheck::{agent_bin, plan};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Start-to-first-case and whole-run wall time of a suite, repeated.
    Boot(BootArgs),
    /// Cold, warm (ccache) and one-file incremental source builds of a kernel.
    Build(super::bench_build::BuildBenchArgs),
    /// Test-network setup time and UDP request/response rate in the guest, repeated.
    Net(super::bench_net::NetBenchArgs),
    /// Events/s from an EPOLL_USERPOLL ring versus epoll_wait on the same workload, repeated.
    Userpoll(super::bench_userpoll::UserpollBenchArgs),
}

#[derive(Debug, Args)]
pub struct BootArgs {
    #[arg(long, short, default_value = "default")]
    kernel: String,
    /// Cases to run each time (default: the busy_poll params cases).
    #[arg(default_value = "busy_poll::params")]
    filters: Vec<String>,
    #[arg(long, default_value_t = 5)]
    repeat: u32,
    #[arg(long, value_enum, default_value = "auto")]
    accel: AccelChoice,
}

pub fn bench(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Boot(args) => bench_boot(args),
        BenchCommand::Build(args) => super::bench_build::bench_build(args),
        BenchCommand::Net(args) => super::bench_net::bench_net(args),
        BenchCommand::Userpoll(args) => super::bench_userpoll::bench_userpoll(args),
    }
}

fn bench_boot(args: BootArgs) -> anyhow::Result<ExitCode> {
    let agent = agent_bin::agent_path()?;
    let all = agent_bin::list_cases(&agent)?;
    let cases: Vec<_> = plan::select(&all, &args.filters, &[], false).into_iter().cloned().collect();
    let cache = pollcheck_images::Cache::open_default()?;
    let kernel = pollcheck_images::resolve(&args.kernel, None, &cache, &pollcheck::progress::TermProgress::default())?;
    let dir = tempfile::tempdir()?;
    let cfg = SessionConfig {
        queues: None,
        kernel,
        accel: args.accel,
        cpus: None,
        memory_mb: 1024,
        artifacts_root: dir.path().to_owned(),
        cache_dir: cache.root().to_owned(),
    };
    let (mut first, mut whole) = (Vec::new(), Vec::new());
    let mut accel = String::new();
    for i in 1..=args.repeat {
        let r = session::run(&cfg, &cases, &mut |_| {})?;
        let f = r.time_to_first_case.unwrap_or_default();
        let w = Duration::from_millis(r.report.duration_ms);
        eprintln!("run {i}: first case after {:.2} s, whole run {:.2} s", f.as_secs_f64(), w.as_secs_f64());
        accel = r.accel.accel.to_string();
        first.push(f);
        whole.push(w);
    }
    out!("kernel {} ({} cases, accel {accel}, {} runs)", args.kernel, cases.len(), args.repeat);
    out!("start to first case: {}", stats(&mut first));
    out!("whole run:           {}", stats(&mut whole));
    Ok(ExitCode::SUCCESS)
}

/// `median m s (min a, max b)` of a sample.
fn stats(xs: &mut [Duration]) -> String {
    xs.sort();
    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    match (xs.first(), xs.get(xs.len() / 2), xs.last()) {
        (Some(&lo), Some(&mid), Some(&hi)) => format!("median {} (min {}, max {})", s(mid), s(lo), s(hi)),
        _ => "no runs".into(),
    }
}
