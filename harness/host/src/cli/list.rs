//! `pollcheck list`: the cases the agent carries, without booting; with `--kernel`, what that
//! kernel promises for each case and which cases its config rules out.

use clap::Args;
use pollcheck::plan::{self, ExpectChoice, Expectations};
use pollcheck::Workspace;
use pollcheck_proto::Outcome;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only cases whose name contains one of these.
    filters: Vec<String>,
    /// One name per line, nothing else.
    #[arg(long)]
    terse: bool,
    /// Also say what this kernel promises for each case, and which cases its config rules out
    /// (they would Skip without booting).
    #[arg(long, short)]
    kernel: Option<String>,
    /// What to expect of the kernel (auto, none, or a TOML file), as for `run`.
    #[arg(long, default_value = "auto")]
    expect: ExpectChoice,
}

pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let ws = Workspace::open()?;
    let known = match &args.kernel {
        None => None,
        Some(spec) => {
            let kernel = ws.kernel(spec, None)?;
            let config = match &kernel.config {
                Some(path) => Some(pollcheck_images::KernelConfig::read(path)?),
                None => {
                    eprintln!("kernel {spec} ({}) comes with no config; every case would boot", kernel.release);
                    None
                }
            };
            let expectations = Expectations::of_kernel(&args.expect, &kernel, config.as_ref())?;
            eprintln!("kernel {spec} ({}); expectations: {}", kernel.release, expectations.source);
            Some((config, expectations))
        }
    };
    for c in plan::select(&ws.cases, &args.filters, &[], false) {
        if args.terse {
            out!("{}", c.id);
            continue;
        }
        let Some((config, expectations)) = &known else {
            out!("{:<40} {}", c.id.to_string(), c.summary);
            continue;
        };
        match config.as_ref().and_then(|k| plan::config_gap(c, k)) {
            Some(Outcome::Skip { reason, .. }) => out!("{:<40} SKIP: {reason}", c.id.to_string()),
            _ => out!("{:<40} {}", c.id.to_string(), expectations.describe(c)),
        }
    }
    Ok(ExitCode::SUCCESS)
}
