//! The `pollcheck` command: a thin layer over the host library (the only place `anyhow` lives).

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pollcheck: {}", one_line(&e));
            std::process::ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line (a build failure adds the log's last lines below it). The library errors already end with their cause's text
/// ("failed to read X: No such file"), so a cause whose text is already there is not repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}
