//! `pollcheck bench boot`: how long from `pollcheck run` start to the first case, and to the end
//! of a suite, over repeated runs on one kernel (targets belong here, not in timed tests).

use super::guest_args::GuestArgs;
use clap::{Args, Subcommand};
use pollcheck::display::{Detail, LiveDisplay};
use pollcheck::session::{self, SessionConfig};
use pollcheck::Workspace;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Start-to-first-case and whole-run wall time of a suite, repeated.
    Boot(BootArgs),
    /// Cold, warm (ccache) and one-file incremental source builds of a kernel.
    Build(super::bench_build::BuildBenchArgs),
    /// Packet-delivery modes (deferral, busy poll, IRQ suspension, threaded busy-poll) under an
    /// open-loop load: latency, CPU and IRQs per rate, as the feature letters compare them.
    Modes(super::bench_modes::ModesBenchArgs),
    /// Test-network setup time and UDP request/response rate in the guest, repeated.
    Net(super::bench_net::NetBenchArgs),
    /// Each suite's wall time per kernel and its flake rate over repeated runs.
    Suites(super::bench_suites::SuitesBenchArgs),
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
    #[command(flatten)]
    guest: GuestArgs,
}

pub fn bench(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Boot(args) => bench_boot(args),
        BenchCommand::Build(args) => super::bench_build::bench_build(args),
        BenchCommand::Modes(args) => super::bench_modes::bench_modes(args),
        BenchCommand::Net(args) => super::bench_net::bench_net(args),
        BenchCommand::Suites(args) => super::bench_suites::bench_suites(args),
        BenchCommand::Userpoll(args) => super::bench_userpoll::bench_userpoll(args),
    }
}

/// What every benchmark starts from: the workspace, the selected cases, and session configs
/// whose reports go to a temp dir (benchmarks keep numbers, not reports).
pub struct BenchSetup {
    pub ws: Workspace,
    pub cases: Vec<pollcheck_proto::CaseMeta>,
    dir: tempfile::TempDir,
}

impl BenchSetup {
    pub fn new(filters: &[String]) -> anyhow::Result<Self> {
        let ws = Workspace::open()?;
        ws.qemu()?;
        let cases = ws.select(filters, false)?;
        Ok(Self { ws, cases, dir: tempfile::tempdir()? })
    }

    /// The session config for `spec` (fetched or built as needed) with `guest`'s options.
    pub fn session(&self, spec: &str, guest: &GuestArgs) -> anyhow::Result<SessionConfig> {
        let mut cfg = guest.apply(SessionConfig::new(self.ws.kernel(spec, None)?, &self.ws));
        cfg.artifacts_root = self.dir.path().to_owned();
        cfg.validate()?;
        Ok(cfg)
    }

    /// One run of the selected cases, with only retries shown.
    pub fn run(&self, cfg: &SessionConfig) -> anyhow::Result<session::SessionResult> {
        Ok(session::run(&self.ws, cfg, &self.cases, &LiveDisplay::new(Detail::Quiet, false))?)
    }
}

fn bench_boot(args: BootArgs) -> anyhow::Result<ExitCode> {
    let setup = BenchSetup::new(&args.filters)?;
    let cases = &setup.cases;
    let cfg = setup.session(&args.kernel, &args.guest)?;
    let (mut first, mut whole) = (Vec::new(), Vec::new());
    let mut accel = String::new();
    for i in 1..=args.repeat {
        let r = setup.run(&cfg)?;
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
