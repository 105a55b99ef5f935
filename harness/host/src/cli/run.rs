//! `pollcheck run`: boot one kernel, run the selected cases, print KTAP or a summary.

use clap::{Args, ValueEnum};
use pollcheck::accel::AccelChoice;
use pollcheck::report::{ktap, summary};
use pollcheck::session::{self, SessionConfig, SessionEvent};
use pollcheck::{agent_bin, plan};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Ktap,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Kernel: a bzImage path, a Debian version (`7.3`, `6.12.107+deb13`) or `default`
    /// (the newest Debian cloud kernel).
    #[arg(long, short, default_value = "default")]
    kernel: String,
    /// Modules directory (`/lib/modules/<release>`) for a bzImage given by path.
    #[arg(long)]
    modules: Option<PathBuf>,
    /// Only cases whose name contains one of these (e.g. `busy_poll`).
    filters: Vec<String>,
    /// Match filters against whole names.
    #[arg(long)]
    exact: bool,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    #[arg(long, value_enum, default_value = "auto")]
    accel: AccelChoice,
    /// Guest CPUs (default: 1 under TCG, 2 under KVM, more if a case needs it).
    #[arg(long)]
    cpus: Option<u32>,
    #[arg(long, default_value_t = 1024)]
    memory_mb: u32,
    /// Queue pairs per test-network NIC (default: $POLLCHECK_QUEUES, else 4).
    #[arg(long)]
    queues: Option<u32>,
    /// Where run directories go (default: target/pollcheck in the workspace).
    #[arg(long)]
    artifacts: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    pollcheck::qemu::find_qemu()?;
    let agent = agent_bin::agent_path()?;
    let all = agent_bin::list_cases(&agent)?;
    let selected = plan::select_some(&all, &args.filters, args.exact)?;
    let cache = pollcheck_images::Cache::open_default()?;
    let kernel = pollcheck_images::resolve(
        &args.kernel,
        args.modules.as_deref(),
        &cache,
        &pollcheck::progress::TermProgress::default(),
    )?;
    let cfg = SessionConfig {
        kernel,
        accel: args.accel,
        cpus: args.cpus,
        memory_mb: args.memory_mb,
        queues: args.queues,
        artifacts_root: args.artifacts.unwrap_or_else(pollcheck::libtest::artifacts_root),
        cache_dir: cache.root().to_owned(),
    };
    let human = args.format == Format::Human;
    let result = session::run(&cfg, &selected, &mut |ev| match ev {
        SessionEvent::AccelChosen(d) => eprintln!("pollcheck: accelerator {} ({})", d.accel, d.reason),
        SessionEvent::Network(plan) => eprintln!("pollcheck: network: {}", plan.describe()),
        SessionEvent::Booted { boot_time, features } => {
            eprintln!("pollcheck: booted {} in {:.1} s", features.kernel_release, boot_time.as_secs_f64())
        }
        SessionEvent::BootRetry { cpus, error } => {
            let first = error.to_string();
            let first = first.lines().next().unwrap_or_default().to_owned();
            eprintln!("pollcheck: a {cpus}-vCPU guest failed to boot ({first}); booting it once more");
        }
        SessionEvent::CaseFinished(rec) if human => eprintln!("pollcheck: {} {}", rec.outcome.kind(), rec.id),
        SessionEvent::CaseFinished(_) => {}
    })?;
    let out = match args.format {
        Format::Human => summary::summary(&result.report, std::io::stdout().is_terminal()),
        Format::Ktap => ktap::ktap(&result.report),
    };
    print!("{out}");
    if let Some(t) = result.time_to_first_case {
        eprintln!(
            "pollcheck: first case started {:.2} s after start; whole run {:.2} s",
            t.as_secs_f64(),
            result.report.duration_ms as f64 / 1000.0
        );
    }
    eprintln!("pollcheck: reports in {}", result.artifacts.path().display());
    let failed = result.report.cases.iter().any(|c| c.outcome.is_failure());
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
