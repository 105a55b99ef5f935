//! `pollcheck list`: the cases the agent carries, without booting.

use clap::Args;
use pollcheck::agent_bin;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only cases whose name contains one of these.
    filters: Vec<String>,
    /// One name per line, nothing else.
    #[arg(long)]
    terse: bool,
    /// Also say which cases this kernel's config rules out (they would Skip without booting).
    #[arg(long, short)]
    kernel: Option<String>,
}

pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let agent = agent_bin::agent_path()?;
    let cases = agent_bin::list_cases(&agent)?;
    let config = match &args.kernel {
        None => None,
        Some(spec) => {
            let cache = pollcheck_images::Cache::open_default()?;
            let progress = pollcheck::progress::TermProgress::default();
            let kernel = pollcheck_images::resolve(spec, None, &cache, &progress)?;
            match &kernel.config {
                Some(path) => Some(pollcheck_images::KernelConfig::read(path)?),
                None => {
                    eprintln!("kernel {spec} ({}) comes with no config; every case would boot", kernel.release);
                    None
                }
            }
        }
    };
    for c in pollcheck::plan::select(&cases, &args.filters, &[], false) {
        let gap = config.as_ref().and_then(|k| pollcheck::plan::config_gap(c, k));
        match (args.terse, gap) {
            (true, _) => out!("{}", c.id),
            (false, None) => out!("{:<40} {}", c.id.to_string(), c.summary),
            (false, Some(why)) => out!("{:<40} SKIP: {why}", c.id.to_string()),
        }
    }
    Ok(ExitCode::SUCCESS)
}
