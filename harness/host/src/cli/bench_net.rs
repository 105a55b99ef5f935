//! `pollcheck bench net`: the test networks' numbers over repeated runs — topology setup time in
//! the guest and the UDP request/response rate across the pair (the netbench suite's
//! `bench: key=value` lines), as median, min and max per topology.

use clap::Args;
use pollcheck::accel::AccelChoice;
use pollcheck::session::{self, SessionConfig};
use pollcheck::{agent_bin, plan};
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
    /// Queue pairs per NIC.
    #[arg(long)]
    queues: Option<u32>,
    #[arg(long, value_enum, default_value = "auto")]
    accel: AccelChoice,
}

/// `bench: key=value` from a case's log lines.
pub fn bench_values(logs: &[String]) -> Vec<(String, f64)> {
    logs.iter()
        .filter_map(|l| l.strip_prefix("bench: ")?.split_once('='))
        .filter_map(|(k, v)| Some((k.to_owned(), v.trim().parse().ok()?)))
        .collect()
}

pub fn bench_net(args: NetBenchArgs) -> anyhow::Result<ExitCode> {
    let agent = agent_bin::agent_path()?;
    let all = agent_bin::list_cases(&agent)?;
    let cases: Vec<_> = plan::select(&all, &args.filters, &[], false).into_iter().cloned().collect();
    let cache = pollcheck_images::Cache::open_default()?;
    let kernel = pollcheck_images::resolve(&args.kernel, None, &cache, &pollcheck::progress::TermProgress::default())?;
    let dir = tempfile::tempdir()?;
    let cfg = SessionConfig {
        queues: args.queues,
        kernel,
        accel: args.accel,
        cpus: None,
        memory_mb: 1024,
        artifacts_root: dir.path().to_owned(),
        cache_dir: cache.root().to_owned(),
    };
    let mut samples: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    let mut network = String::new();
    for i in 1..=args.repeat {
        let r = session::run(&cfg, &cases, &mut |_| {})?;
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
    out!("kernel {} ({} runs; {network})", args.kernel, args.repeat);
    for ((case, key), mut xs) in samples {
        xs.sort_by(f64::total_cmp);
        out!("{case} {key}: median {:.0} (min {:.0}, max {:.0})", xs[xs.len() / 2], xs[0], xs[xs.len() - 1]);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::bench_values;

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
