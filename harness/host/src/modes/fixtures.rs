//! Test-only sweeps: the IRQ suspension letter's figures at 200K–800K (its base, defer20,
//! napibusy, fullbusy and suspend20 rows) as four offered rates, a flat threaded row, and a mode
//! the kernel lacks.

use super::{KernelModes, ModeRun, ModeStatus, ModesReport, Saturation};
use pollcheck_proto::modes::ModesPoint;

/// A point at `rate` with p99 `p99` µs and server CPU `cpu` %, the other figures derived.
pub(crate) fn point(mode: &str, rate: f64, p99: f64, cpu: f64) -> ModesPoint {
    ModesPoint {
        mode: mode.to_owned(),
        offered_rate: rate,
        achieved_rate: rate * 0.999,
        sent: (rate * 4.0) as u64,
        received: (rate * 4.0) as u64 - 1,
        lost: 1,
        mean_us: p99 * 0.4,
        p50_us: p99 * 0.35,
        p95_us: p99 * 0.8,
        p99_us: p99,
        p999_us: p99 * 1.5,
        max_us: p99 * 3.0,
        server_cpu_pct: cpu,
        client_cpu_pct: 20.0,
        irqs_per_s: Some(rate * if mode.starts_with("suspend") || mode.ends_with("busy") { 0.02 } else { 0.9 }),
        net_rx_per_s: rate,
        busy_poll_rx_per_s: Some(if mode == "base" { 0.0 } else { rate * 0.5 }),
        max_send_lag_us: 50.0,
        window_ms: 4000,
        on_queue: Some(true),
    }
}

const RATES: [f64; 4] = [200.0, 400.0, 600.0, 800.0];

fn measured(mode: &str, p99: [f64; 4], cpu: [f64; 4]) -> ModeRun {
    let points = (0..4).map(|i| point(mode, RATES[i], p99[i], cpu[i])).collect();
    ModeRun { mode: mode.to_owned(), status: ModeStatus::Measured { config: format!("{mode} settings"), points } }
}

pub(crate) fn kernel(spec: &str, suspend_p99_scale: f64) -> KernelModes {
    let s = suspend_p99_scale;
    KernelModes {
        spec: spec.to_owned(),
        release: "7.2.13".to_owned(),
        accel: "tcg".to_owned(),
        qemu: "10.0.2".to_owned(),
        network: Some("2 virtio-net NICs x 4 queue pairs".to_owned()),
        run_dir: format!("target/pollcheck/modes-x/{spec}"),
        modes: vec![
            measured("base", [416.0, 730.0, 712.0, 2278.0], [28.0, 42.0, 64.0, 84.0]),
            measured("defer20", [149.0, 167.0, 195.0, 2481.0], [26.0, 46.0, 68.0, 89.0]),
            measured("napibusy", [272.0, 273.0, 255.0, 237.0], [56.0, 83.0, 96.0, 99.0]),
            measured("fullbusy", [129.0, 148.0, 176.0, 191.0], [100.0, 100.0, 100.0, 100.0]),
            measured("suspend20", [146.0 * s, 158.0 * s, 187.0 * s, 210.0 * s], [29.0, 47.0, 65.0, 81.0]),
            measured("threaded", [130.0, 131.0, 131.0, 129.0], [100.0, 100.0, 100.0, 100.0]),
            ModeRun {
                mode: "so_busy_poll".to_owned(),
                status: ModeStatus::Unavailable { reason: "setsockopt SO_BUSY_POLL answered ENOPROTOOPT".to_owned() },
            },
        ],
    }
}

pub(crate) fn report(kernels: Vec<KernelModes>) -> ModesReport {
    ModesReport {
        kernels,
        rates: RATES.to_vec(),
        labels: ["20%", "40%", "60%", "80%"].map(str::to_owned).to_vec(),
        saturation: Some(Saturation {
            rate: 1000.0,
            kernel: "src:7.2".to_owned(),
            mode: "base".to_owned(),
            points: vec![point("base", 500.0, 300.0, 40.0), point("base", 1000.0, 9000.0, 99.0)],
        }),
        window_ms: 4000,
        warmup_ms: 500,
        delay_us: 0,
        wall_ms: 181_000,
    }
}

pub(crate) fn one() -> ModesReport {
    report(vec![kernel("src:7.2", 1.0)])
}
