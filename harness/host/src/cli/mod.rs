//! Command-line arguments and dispatch to the subcommands.

/// `println!` for command output that a closed stdout (`pollcheck list | head`) silently drops
/// instead of panicking; the run itself goes on (its reports are in the artifact dir anyway).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::emit(format_args!($($arg)*))
    };
}

pub(crate) fn emit(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{args}");
}

mod bench;
mod bench_build;
mod bench_modes;
mod bench_net;
mod bench_suites;
mod bench_userpoll;
mod bisect;
mod guest_args;
mod kernels;
mod list;
mod matrix;
mod mutants;
mod run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "pollcheck",
    version,
    about = "Conformance tests for Linux busy-poll, IRQ suspension, threaded NAPI, EPOLL_USERPOLL and EPOLLEXCLUSIVE, run in QEMU"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Boot a kernel, run the selected cases, print the results and write reports.
    Run(run::RunArgs),
    /// List the cases (boots nothing).
    List(list::ListArgs),
    /// Benchmarks of the harness itself.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Find the first Debian kernel where the chosen cases fail.
    Bisect(bisect::BisectArgs),
    /// For `git bisect run` in a kernel tree: build, boot, run the cases; exit 0 good, 1 bad, 125 skip.
    BisectRun(bisect::BisectRunArgs),
    /// The selected suites on many kernels at once, as a feature × kernel table.
    Matrix(matrix::MatrixArgs),
    /// Build every one-line mutant under fixtures/patches, run its cases, print the kill table.
    Mutants(mutants::MutantsArgs),
    /// Debian kernels, source builds and the kernel cache.
    #[command(subcommand)]
    Kernels(kernels::KernelsCommand),
}

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::List(a) => list::list(a),
        Command::Bench(c) => bench::bench(c),
        Command::Kernels(c) => kernels::kernels(c),
        Command::Mutants(a) => mutants::mutants(a),
        Command::Matrix(a) => matrix::matrix(a),
        Command::Bisect(a) => bisect::bisect(a),
        Command::BisectRun(a) => bisect::bisect_run(a),
    }
}
