//! One mode's sweep: the server running on its vCPU for the whole sweep, the client offering
//! each rate in turn from the other, and each rate's numbers as a [`ModesPoint`]. A ramp stops
//! at the first rate the pair cannot keep up with.

use super::client::{self, Load, Measured};
use super::counters::{deltas, Counters};
use super::rig::{Rig, CLIENT_CPU};
use super::server::{self, Serving};
use crate::napi_threaded::kthread;
use crate::netkit::steer::incoming_napi_id;
use pollcheck_proto::modes::{ModesParams, ModesPoint};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A ramp stops once fewer than this share of the offered requests are answered in time.
pub const KEEPS_UP: f64 = 0.9;

/// Every rate of `p` against the rig's server; each point goes to `emit` as it is measured.
pub fn sweep(
    rig: &Rig,
    ep: &OwnedFd,
    serving: Serving,
    p: &ModesParams,
    mode: &str,
    emit: &mut dyn FnMut(ModesPoint),
) -> Result<(), String> {
    let mut counters = Counters::open(&rig.topo.b.ns, rig.irq, serving.cpu, CLIENT_CPU)
        .map_err(|e| format!("failed to open the counters: {e}"))?;
    kthread::pin(0, CLIENT_CPU).map_err(|e| format!("failed to pin the client to CPU {CLIENT_CPU}: {e}"))?;
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let srv = s.spawn(|| server::serve(&rig.server, ep, serving, &stop));
        let res = loads(rig, p, mode, &mut counters, emit);
        stop.store(true, Ordering::Relaxed);
        let served = srv.join().unwrap_or_else(|_| Err("the server thread panicked".into()));
        res.and(served.map(drop))
    })
}

fn loads(
    rig: &Rig,
    p: &ModesParams,
    mode: &str,
    counters: &mut Counters,
    emit: &mut dyn FnMut(ModesPoint),
) -> Result<(), String> {
    for (i, &rate) in p.rates.iter().enumerate() {
        let load = Load {
            rate,
            warmup: Duration::from_millis(p.warmup_ms),
            window: Duration::from_millis(p.window_ms),
            tag: i as u32 + 1,
        };
        let m = client::offer(&rig.client, &load, counters)?;
        let on_queue = rig.napi.map(|n| incoming_napi_id(&rig.server).map(|seen| seen == n).unwrap_or(false));
        let point = point(mode, rate, &m, on_queue);
        let saturated = point.received < (point.sent as f64 * KEEPS_UP) as u64
            || point.achieved_rate < point.offered_rate * KEEPS_UP;
        emit(point);
        if p.ramp && saturated {
            break;
        }
    }
    Ok(())
}

/// A rate's numbers from what the client measured.
pub fn point(mode: &str, rate: f64, m: &Measured, on_queue: Option<bool>) -> ModesPoint {
    let d = deltas(&m.window.0, &m.window.1);
    let h = &m.latency;
    let us = |ns: u64| ns as f64 / 1000.0;
    let q = |x: f64| if h.is_empty() { 0.0 } else { us(h.value_at_quantile(x)) };
    ModesPoint {
        mode: mode.to_owned(),
        offered_rate: rate,
        achieved_rate: m.received as f64 / d.secs,
        sent: m.sent,
        received: m.received,
        lost: m.sent.saturating_sub(m.received),
        mean_us: if h.is_empty() { 0.0 } else { h.mean() / 1000.0 },
        p50_us: q(0.50),
        p95_us: q(0.95),
        p99_us: q(0.99),
        p999_us: q(0.999),
        max_us: if h.is_empty() { 0.0 } else { us(h.max()) },
        server_cpu_pct: d.server_cpu_pct,
        client_cpu_pct: d.client_cpu_pct,
        irqs_per_s: d.irqs_per_s,
        net_rx_per_s: d.net_rx_per_s,
        busy_poll_rx_per_s: d.busy_poll_rx_per_s,
        max_send_lag_us: m.max_send_lag.as_secs_f64() * 1e6,
        window_ms: (d.secs * 1000.0).round() as u64,
        on_queue,
    }
}
