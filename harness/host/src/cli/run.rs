//! `pollcheck run`: boot one kernel, run the selected cases, print KTAP or a summary.

use super::guest_args::GuestArgs;
use clap::{Args, ValueEnum};
use pollcheck::display::{Detail, LiveDisplay};
use pollcheck::report::{ktap, summary};
use pollcheck::session::{self, SessionConfig};
use pollcheck::Workspace;
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
    /// Kernel: a bzImage path, a Debian version (`7.3`, `6.12.107+deb13`), `src:7.2[+set]` or
    /// `default` (the newest Debian cloud kernel).
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
    #[command(flatten)]
    guest: GuestArgs,
    /// Where run directories go (default: target/pollcheck in the workspace).
    #[arg(long)]
    artifacts: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    args.guest.validate()?;
    let ws = Workspace::open()?;
    ws.qemu()?;
    let selected = ws.select(&args.filters, args.exact)?;
    let mut cfg = args.guest.apply(SessionConfig::new(ws.kernel(&args.kernel, args.modules.as_deref())?, &ws));
    if let Some(dir) = args.artifacts {
        cfg.artifacts_root = dir;
    }
    cfg.validate()?;
    let detail = if args.format == Format::Human { Detail::Cases } else { Detail::Boots };
    let display = LiveDisplay::new(detail, false);
    let result = session::run(&ws, &cfg, &selected, &display)?;
    display.finish();
    let out = match args.format {
        Format::Human => summary::summary(&result.report, std::io::stdout().is_terminal()),
        Format::Ktap => ktap::ktap(&result.report),
    };
    print!("{out}");
    if let Some(t) = result.time_to_first_case {
        eprintln!(
            "pollcheck: first case started {:.2} s after start; whole run {:.2} s on {} guest(s)",
            t.as_secs_f64(),
            result.report.duration_ms as f64 / 1000.0,
            result.report.guests
        );
    }
    eprintln!("pollcheck: reports in {}", result.artifacts.path().display());
    let failed = result.report.cases.iter().any(|c| c.outcome.is_failure());
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
