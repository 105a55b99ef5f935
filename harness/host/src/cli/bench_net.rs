//! `pollcheck bench net`: the test networks' numbers over repeated runs — topology setup time in
//! the guest and the UDP request/response rate across the pair (the netbench suite's
//! `bench: key=value` lines), as median, min and max per topology.

use super::guest_args::GuestArgs;
use clap::Args;

use std::collections::BTreeMap;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct NetBenchArgs {
    #[arg(long, short, default_value = "default")]
    kernel: String,
    /// Topologies to measure: netbench::udp_rr.virtio, netbench::udp_rr.netdevsim.
    #[arg(default_value = "netbench::udp_rr")]
    filters: Vec<String>,
    #[arg(long, default_value_t = 5)]
    repeat: u32,
    #[command(flatten)]
    guest: GuestArgs,
}

/// `bench: key=value` from a case's log lines.
pub fn bench_values(logs: &[String]) -> Vec<(String, f64)> {
    logs.iter()
        .filter_map(|l| l.strip_prefix("bench: ")?.split_once('='))
        .filter_map(|(k, v)| Some((k.to_owned(), v.trim().parse().ok()?)))
        .collect()
}

pub fn bench_net(args: NetBenchArgs) -> anyhow::Result<ExitCode> {
    repeat_bench(&args.kernel, &args.filters, args.repeat, &args.guest)
}

/// Runs the cases `filters` select `repeat` times on `kernel` and prints, per case and key, the
/// median, min and max of their `bench: key=value` lines.
pub fn repeat_bench(kernel_spec: &str, filters: &[String], repeat: u32, guest: &GuestArgs) -> anyhow::Result<ExitCode> {
    let setup = super::bench::BenchSetup::new(filters)?;
    let cfg = setup.session(kernel_spec, guest)?;
    let mut samples: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    let mut network = String::new();
    for i in 1..=repeat {
        let r = setup.run(&cfg)?;
        network = r.report.network.clone().unwrap_or_default();
        for c in &r.report.cases {
            let values = bench_values(&c.logs);
            if values.is_empty() {
                eprintln!("run {i}: {} {}: {}", c.id, c.outcome.kind(), pollcheck::report::explain(c));
            }
            for (k, v) in values {
                eprintln!("run {i}: {} {k} = {v}", c.id);
                samples.entry((c.id.to_string(), k)).or_default().push(v);
            }
        }
    }
    if network.is_empty() {
        out!("kernel {kernel_spec} ({repeat} runs)");
    } else {
        out!("kernel {kernel_spec} ({repeat} runs; {network})");
    }
    for ((case, key), mut xs) in samples {
        xs.sort_by(f64::total_cmp);
        let (med, min, max) = (show(xs[xs.len() / 2]), show(xs[0]), show(xs[xs.len() - 1]));
        out!("{case} {key}: median {med} (min {min}, max {max})");
    }
    Ok(ExitCode::SUCCESS)
}

/// A measured value: whole numbers for rates and times, two decimals for ratios.
fn show(v: f64) -> String {
    if v.abs() < 100.0 && v.fract() != 0.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::{bench_values, show};

    #[test]
    fn ratios_keep_two_decimals() {
        assert_eq!(show(1530.4), "1530");
        assert_eq!(show(3.456), "3.46");
        assert_eq!(show(412.0), "412");
        assert_eq!(show(7.0), "7");
    }

    #[test]
    fn reads_bench_lines_only() {
        let logs = vec![
            "topology: x".to_owned(),
            "bench: setup_ms=412".to_owned(),
            "bench: udp_rr_per_s=1530".to_owned(),
            "bench: bad=x".to_owned(),
        ];
        assert_eq!(bench_values(&logs), vec![("setup_ms".to_owned(), 412.0), ("udp_rr_per_s".to_owned(), 1530.0)]);
    }
}
