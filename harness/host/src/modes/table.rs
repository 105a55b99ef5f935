//! `modes.md`: one block per mode shaped like the IRQ suspension letter's tables (load, qps,
//! avglat, 95%lat, 99%lat, cpu), the numbers the letters leave out after them, several kernels
//! as rows of one table; the comparisons first. Every table's heading names the accelerator and
//! QEMU version.

use super::compare::{self, Verdict};
use super::{KernelModes, ModeStatus, ModesReport};
use pollcheck_proto::modes::ModesPoint;

/// Columns of a mode's table after `load` (and `kernel` with several kernels).
pub const COLUMNS: [&str; 12] = [
    "qps",
    "avglat",
    "95%lat",
    "99%lat",
    "cpu",
    "p50",
    "p99.9",
    "irq/s",
    "NET_RX/s",
    "busypoll/s",
    "lost",
    "client lag",
];

/// A Markdown table.
pub fn md_table(header: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut out = line(header);
    out.push_str(&line(&header.iter().map(|_| "---".to_owned()).collect::<Vec<_>>()));
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

fn whole(v: f64) -> String {
    format!("{v:.0}")
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), whole)
}

/// A point's cells, in [`COLUMNS`] order.
pub fn cells(p: &ModesPoint) -> Vec<String> {
    vec![
        whole(p.achieved_rate),
        whole(p.mean_us),
        whole(p.p95_us),
        whole(p.p99_us),
        whole(p.server_cpu_pct),
        whole(p.p50_us),
        whole(p.p999_us),
        opt(p.irqs_per_s),
        whole(p.net_rx_per_s),
        opt(p.busy_poll_rx_per_s),
        p.lost.to_string(),
        whole(p.max_send_lag_us),
    ]
}

/// The lines every rendering starts with: kernels, platform, rates, method.
pub fn preamble(r: &ModesReport) -> Vec<String> {
    let kernels: Vec<String> = r.kernels.iter().map(KernelModes::label).collect();
    let mut out = vec![format!("kernels: {}; {}", kernels.join(", "), r.platform())];
    if let Some(net) = r.kernels.iter().find_map(|k| k.network.clone()) {
        out.push(format!("network: {net}"));
    }
    let rates: Vec<String> = r.rates.iter().map(|x| whole(*x)).collect();
    out.push(match &r.saturation {
        Some(s) => format!(
            "offered rates: {} of {} req/s, the most a {} ramp on {} got answered = {} req/s",
            r.labels.join(", "),
            whole(s.rate),
            s.mode,
            s.kernel,
            rates.join(", ")
        ),
        None => format!("offered rates: {} req/s", rates.join(", ")),
    });
    out.push(format!(
        "each rate: {:.1} s measured after {:.1} s of warm-up; server processing {} µs per request",
        r.window_ms as f64 / 1000.0,
        r.warmup_ms as f64 / 1000.0,
        r.delay_us
    ));
    out.push("latency: µs from each request's scheduled send time to its reply (open loop, HDR histogram); cpu: the server vCPU's busy % (/proc/stat); irq/s: hard IRQs on the steered queue's MSI-X vector; NET_RX/s: softirqs on all CPUs; busypoll/s: TcpExt BusyPollRxPackets; lost: requests unanswered; client lag: the client's own worst lateness, µs".into());
    if r.kernels.iter().any(|k| k.accel == "tcg") {
        out.push("under TCG both vCPUs run round-robin on one host thread: absolute latencies say little, ratios and CPU/IRQ shapes do".into());
    }
    out
}

/// One mode's block: its settings and its table, or why it has none, per kernel.
pub fn mode_block(r: &ModesReport, mode: &str) -> String {
    let several = r.kernels.len() > 1;
    let mut header = vec!["load".to_owned()];
    if several {
        header.push("kernel".into());
    }
    header.extend(COLUMNS.iter().map(|c| (*c).to_owned()));
    let mut out = format!("## {mode}\n\n");
    let mut rows = Vec::new();
    for k in &r.kernels {
        let who = if several { format!(" on {}", k.spec) } else { String::new() };
        match k.mode(mode).map(|m| &m.status) {
            Some(ModeStatus::Measured { config, .. }) => out.push_str(&format!("settings{who}: {config}\n\n")),
            Some(ModeStatus::Unavailable { reason }) => {
                out.push_str(&format!("not available on this kernel{who}: {reason}\n\n"))
            }
            Some(ModeStatus::Failed { reason }) => out.push_str(&format!("the run failed{who}: {reason}\n\n")),
            None => out.push_str(&format!("not run{who}\n\n")),
        }
    }
    for (i, &rate) in r.rates.iter().enumerate() {
        for k in &r.kernels {
            let Some(p) = k.mode(mode).and_then(|m| m.points().iter().find(|p| p.offered_rate == rate)) else {
                continue;
            };
            let mut row = vec![r.labels.get(i).cloned().unwrap_or_else(|| whole(rate))];
            if several {
                row.push(k.spec.clone());
            }
            row.extend(cells(p));
            rows.push(row);
        }
    }
    if !rows.is_empty() {
        out.push_str(&format!("{} ({})\n\n", mode, r.platform()));
        out.push_str(&md_table(&header, &rows));
        out.push('\n');
    }
    out
}

fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Reproduced => "reproduced".into(),
        Verdict::NotReproduced => "not reproduced".into(),
        Verdict::NotMeasured(why) => format!("not measured: {why}"),
    }
}

/// The comparisons the posts draw, one row per claim and kernel.
pub fn comparisons(r: &ModesReport) -> String {
    let header: Vec<String> =
        ["claim", "the post's figures", "kernel", "measured", "verdict"].iter().map(|s| (*s).to_owned()).collect();
    let rows: Vec<Vec<String>> = r
        .kernels
        .iter()
        .flat_map(|k| compare::compare(k).into_iter().map(move |c| (k, c)))
        .map(|(k, c)| vec![c.claim, c.post, k.spec.clone(), c.measured, verdict_text(&c.verdict)])
        .collect();
    format!(
        "## Do the posts' comparisons hold here?\n\n({}; {})\n\n{}",
        r.platform(),
        compare::THRESHOLDS,
        md_table(&header, &rows)
    )
}

/// The whole `modes.md`.
pub fn markdown(r: &ModesReport) -> String {
    let mut out = String::from("# pollcheck bench modes: packet-delivery modes under load\n\n");
    for l in preamble(r) {
        out.push_str(&format!("- {l}\n"));
    }
    if r.wall_ms > 0 {
        out.push_str(&format!("- wall time: {:.0} s\n", r.wall_ms as f64 / 1000.0));
    }
    out.push('\n');
    out.push_str(&comparisons(r));
    out.push('\n');
    for m in r.mode_names() {
        out.push_str(&mode_block(r, &m));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modes::fixtures;

    #[test]
    fn one_kernel_snapshot() {
        insta::assert_snapshot!(markdown(&fixtures::one()));
    }

    #[test]
    fn two_kernels_share_each_table() {
        let r = fixtures::report(vec![fixtures::kernel("src:7.2", 1.0), fixtures::kernel("src:7.2+patch", 2.0)]);
        let block = mode_block(&r, "suspend20");
        assert!(
            block.starts_with("## suspend20\n\nsettings on src:7.2: suspend20 settings\n\nsettings on src:7.2+patch")
        );
        assert!(block.contains("| load | kernel | qps |"), "{block}");
        assert!(block.contains("| 80% | src:7.2 | 799 | 84 | 168 | 210 | 81 |"), "{block}");
        assert!(block.contains("| 80% | src:7.2+patch | 799 | 168 | 336 | 420 | 81 |"), "{block}");
        assert!(block.contains("suspend20 (accel tcg, QEMU 10.0.2)"));
        let so = mode_block(&r, "so_busy_poll");
        assert!(so.contains("not available on this kernel on src:7.2: setsockopt SO_BUSY_POLL answered ENOPROTOOPT"));
        assert!(!so.contains("| load"));
    }
}
