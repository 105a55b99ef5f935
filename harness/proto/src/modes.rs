//! What `pollcheck bench modes` asks of the `modesbench` cases (a `Request::Run`'s params) and
//! what they answer (one JSON log line per fact, behind [`LOG_PREFIX`]): packet-delivery modes
//! under an open-loop UDP request/response load, the comparison the IRQ suspension series
//! ("net: Suspend softirq when prefer_busy_poll is set", 2024) and the threaded busy-poll series
//! ("Add support to do threaded napi busy poll", v10, 2025) make their case with.

use serde::{Deserialize, Serialize};

/// Every line a modesbench case logs for the host starts with this.
pub const LOG_PREFIX: &str = "modes: ";

/// One run of a mode: the offered rates, in order, and how long each is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModesParams {
    /// Offered request rates, requests/s.
    pub rates: Vec<f64>,
    /// The measured window at each rate, ms.
    pub window_ms: u64,
    /// Traffic at the rate before its window, not measured, ms.
    pub warmup_ms: u64,
    /// The server's processing time per request (spinning), µs.
    pub delay_us: u32,
    /// A ramp: stop at the first rate the server cannot keep up with (the saturation search).
    #[serde(default)]
    pub ramp: bool,
}

/// One offered rate's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModesPoint {
    pub mode: String,
    pub offered_rate: f64,
    /// Replies received per second of the window.
    pub achieved_rate: f64,
    pub sent: u64,
    pub received: u64,
    /// Requests of the window whose reply never came.
    pub lost: u64,
    /// Latency from each request's *scheduled* send time to its reply, µs.
    pub mean_us: f64,
    pub p50_us: f64,
    pub p95_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    /// The server vCPU's busy share over the window (/proc/stat), percent.
    pub server_cpu_pct: f64,
    /// The client vCPU's busy share, percent (the load generator's own headroom).
    pub client_cpu_pct: f64,
    /// Hard IRQs per second on the steered queue's MSI-X vector (none without a vector).
    pub irqs_per_s: Option<f64>,
    /// NET_RX softirqs per second, all CPUs (/proc/softirqs).
    pub net_rx_per_s: f64,
    /// TcpExt BusyPollRxPackets per second in the server's namespace, where the kernel has it.
    pub busy_poll_rx_per_s: Option<f64>,
    /// How late the client itself sent a measured request, at worst, µs (its own stalls are in
    /// the latencies too: they run from the scheduled time).
    pub max_send_lag_us: f64,
    pub window_ms: u64,
    /// The server socket's last packet came in on the steered queue's NAPI (none: not known).
    pub on_queue: Option<bool>,
}

/// A line a modesbench case logs: what it configured, then one point per rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModesLine {
    /// The mode as configured: the settings applied, the queue, the topology.
    Setup {
        mode: String,
        config: String,
    },
    Point(ModesPoint),
}

impl ModesLine {
    /// The log line (prefix included).
    pub fn to_log(&self) -> String {
        // Plain structs of numbers and strings always serialise.
        format!("{LOG_PREFIX}{}", serde_json::to_string(self).unwrap_or_default())
    }

    /// The line a case logged, if it is one of these.
    pub fn from_log(line: &str) -> Option<Self> {
        serde_json::from_str(line.strip_prefix(LOG_PREFIX)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point() -> ModesPoint {
        ModesPoint {
            mode: "suspend20".into(),
            offered_rate: 800.0,
            achieved_rate: 799.5,
            sent: 3200,
            received: 3198,
            lost: 2,
            mean_us: 310.0,
            p50_us: 250.0,
            p95_us: 600.0,
            p99_us: 900.0,
            p999_us: 2000.0,
            max_us: 4100.0,
            server_cpu_pct: 41.0,
            client_cpu_pct: 30.0,
            irqs_per_s: Some(12.0),
            net_rx_per_s: 50.0,
            busy_poll_rx_per_s: None,
            max_send_lag_us: 80.0,
            window_ms: 4000,
            on_queue: Some(true),
        }
    }

    #[test]
    fn lines_round_trip_and_others_are_ignored() {
        for line in [ModesLine::Setup { mode: "base".into(), config: "nothing".into() }, ModesLine::Point(point())] {
            let log = line.to_log();
            assert!(log.starts_with(LOG_PREFIX));
            assert_eq!(ModesLine::from_log(&log), Some(line));
        }
        assert_eq!(ModesLine::from_log("bench: x=1"), None);
        assert_eq!(ModesLine::from_log("modes: {not json"), None);
    }

    #[test]
    fn params_default_to_no_ramp() {
        let p: ModesParams =
            serde_json::from_str(r#"{"rates":[100.0],"window_ms":1000,"warmup_ms":200,"delay_us":0}"#).expect("parses");
        assert!(!p.ramp);
        assert_eq!(p.rates, [100.0]);
    }
}
