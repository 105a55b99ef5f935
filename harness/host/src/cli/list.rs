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
}

pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let agent = agent_bin::agent_path()?;
    let cases = agent_bin::list_cases(&agent)?;
    for c in pollcheck::plan::select(&cases, &args.filters, &[], false) {
        if args.terse {
            println!("{}", c.id);
        } else {
            println!("{:<40} {}", c.id.to_string(), c.summary);
        }
    }
    Ok(ExitCode::SUCCESS)
}
