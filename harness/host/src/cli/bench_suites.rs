//! `pollcheck bench suites`: each suite's wall time per kernel and its flake rate, over repeated
//! runs, optionally with host cores kept busy (the "other core loaded" condition the timing cases
//! must survive).

use super::guest_args::GuestArgs;
use clap::Args;
use pollcheck::repeat;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct SuitesBenchArgs {
    /// Kernels to measure, one after the other (repeat the flag or separate with commas).
    #[arg(long, short, default_value = "default", value_delimiter = ',')]
    kernel: Vec<String>,
    /// Cases to run each time (default: every conformance case).
    filters: Vec<String>,
    #[arg(long, default_value_t = 20)]
    repeat: u32,
    /// Host threads that spin for the whole benchmark (1 keeps the other core of a 2-core
    /// machine busy).
    #[arg(long, default_value_t = 0)]
    load: u32,
    #[command(flatten)]
    guest: GuestArgs,
}

/// Busy host threads, stopped when dropped.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(n: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

pub fn bench_suites(args: SuitesBenchArgs) -> anyhow::Result<ExitCode> {
    if args.repeat == 0 {
        anyhow::bail!("--repeat 0 measures nothing: pass --repeat 1 or more (20 for a flake rate)");
    }
    let setup = super::bench::BenchSetup::new(&args.filters)?;
    let _load = Load::start(args.load);
    let mut clean = true;
    for spec in &args.kernel {
        let cfg = setup.session(spec, &args.guest)?;
        let mut runs = Vec::new();
        for i in 1..=args.repeat {
            let r = setup.run(&cfg)?;
            let bad: Vec<String> = r
                .report
                .cases
                .iter()
                .filter(|c| c.outcome.is_failure())
                .map(|c| format!("{} {}: {}", c.id, c.outcome.kind(), pollcheck::report::explain(c)))
                .collect();
            eprintln!(
                "{spec} run {i}/{}: {:.1} s, {} cases, {} failing{}",
                args.repeat,
                r.report.duration_ms as f64 / 1000.0,
                r.report.cases.len(),
                bad.len(),
                bad.iter().map(|b| format!("\n  {b}")).collect::<String>()
            );
            runs.push(r.report);
        }
        let summary = repeat::summarise(&runs).expect("at least one run");
        clean &= summary.failed_runs == 0;
        let accel = runs.first().map(|r| r.accel.to_string()).unwrap_or_default();
        out!("{}", repeat::render(&format!("{spec} (accel {accel}, {} host spinners)", args.load), &summary));
    }
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
