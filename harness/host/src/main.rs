//! The `pollcheck` command: a thin layer over the host library (the only place `anyhow` lives).

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pollcheck: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
