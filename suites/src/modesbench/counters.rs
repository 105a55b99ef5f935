//! The counters read around each measured window: per-CPU busy time (/proc/stat), the steered
//! queue's hard IRQs (/proc/interrupts), NET_RX softirqs (/proc/softirqs) and TcpExt
//! BusyPollRxPackets of the server's namespace (its /proc/net/netstat, opened once from inside
//! the namespace: a proc net file keeps the namespace it was opened in). Files stay open and are
//! re-read from the start, so a snapshot costs a few reads and no thread.

use crate::netkit::irqs::{parse_interrupts, parse_net_rx};
use crate::netkit::netns::NetNs;
use crate::netkit::netstat::busy_poll_rx_packets;
use crate::netkit::NetError;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::time::Instant;

/// Busy and total jiffies of one CPU (a `cpuN` line of /proc/stat).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTime {
    pub busy: u64,
    pub total: u64,
}

/// The `cpu<n>` line's times: busy is everything but idle and iowait.
pub fn parse_cpu(stat: &str, cpu: usize) -> Option<CpuTime> {
    let tag = format!("cpu{cpu}");
    let line = stat.lines().find(|l| l.split_whitespace().next() == Some(tag.as_str()))?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|w| w.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest, guest_nice are inside user/nice)
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some(CpuTime { busy: total.saturating_sub(idle), total })
}

/// The share of `cpu` that was busy between two readings, percent.
pub fn busy_pct(before: CpuTime, after: CpuTime) -> f64 {
    let total = after.total.saturating_sub(before.total);
    if total == 0 {
        return 0.0;
    }
    after.busy.saturating_sub(before.busy) as f64 * 100.0 / total as f64
}

/// One reading of every counter.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub at: Instant,
    pub server_cpu: CpuTime,
    pub client_cpu: CpuTime,
    pub irqs: Option<u64>,
    pub net_rx: u64,
    pub busy_poll_rx: Option<u64>,
}

/// The open counter files and what to pick out of them.
#[derive(Debug)]
pub struct Counters {
    stat: File,
    interrupts: File,
    softirqs: File,
    netstat: Option<File>,
    irq: Option<u32>,
    server_cpu: usize,
    client_cpu: usize,
}

fn open(path: &str) -> Result<File, NetError> {
    File::open(path).map_err(NetError::io(format!("open {path}")))
}

fn reread(f: &mut File) -> String {
    let mut s = String::new();
    if f.seek(SeekFrom::Start(0)).is_ok() {
        let _ = f.read_to_string(&mut s);
    }
    s
}

impl Counters {
    /// Counters for the queue's `irq` and the two vCPUs, BusyPollRxPackets from `server_ns`.
    pub fn open(server_ns: &NetNs, irq: Option<u32>, server_cpu: usize, client_cpu: usize) -> Result<Self, NetError> {
        let netstat = server_ns.run(|| File::open("/proc/thread-self/net/netstat").ok())?;
        Ok(Self {
            stat: open("/proc/stat")?,
            interrupts: open("/proc/interrupts")?,
            softirqs: open("/proc/softirqs")?,
            netstat,
            irq,
            server_cpu,
            client_cpu,
        })
    }

    pub fn snapshot(&mut self) -> Snapshot {
        let at = Instant::now();
        let stat = reread(&mut self.stat);
        let irqs = self.irq.and_then(|n| {
            parse_interrupts(&reread(&mut self.interrupts)).into_iter().find(|l| l.irq == n).map(|l| l.count)
        });
        let net_rx = parse_net_rx(&reread(&mut self.softirqs)).iter().sum();
        let busy_poll_rx = self.netstat.as_mut().and_then(|f| busy_poll_rx_packets(&reread(f)));
        Snapshot {
            at,
            server_cpu: parse_cpu(&stat, self.server_cpu).unwrap_or_default(),
            client_cpu: parse_cpu(&stat, self.client_cpu).unwrap_or_default(),
            irqs,
            net_rx,
            busy_poll_rx,
        }
    }
}

/// Rates and shares between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deltas {
    pub secs: f64,
    pub server_cpu_pct: f64,
    pub client_cpu_pct: f64,
    pub irqs_per_s: Option<f64>,
    pub net_rx_per_s: f64,
    pub busy_poll_rx_per_s: Option<f64>,
}

pub fn deltas(a: &Snapshot, b: &Snapshot) -> Deltas {
    let secs = b.at.duration_since(a.at).as_secs_f64().max(1e-6);
    let per_s = |x: u64, y: u64| y.saturating_sub(x) as f64 / secs;
    Deltas {
        secs,
        server_cpu_pct: busy_pct(a.server_cpu, b.server_cpu),
        client_cpu_pct: busy_pct(a.client_cpu, b.client_cpu),
        irqs_per_s: a.irqs.zip(b.irqs).map(|(x, y)| per_s(x, y)),
        net_rx_per_s: per_s(a.net_rx, b.net_rx),
        busy_poll_rx_per_s: a.busy_poll_rx.zip(b.busy_poll_rx).map(|(x, y)| per_s(x, y)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const STAT: &str =
        "cpu  100 0 50 800 10 5 5 0 0 0\ncpu0 60 0 20 400 5 2 3 0 0 0\ncpu1 40 0 30 400 5 3 2 0 0 0\nintr 1\n";

    #[test]
    fn cpu_lines_split_busy_from_idle() {
        assert_eq!(parse_cpu(STAT, 0), Some(CpuTime { busy: 85, total: 490 }));
        assert_eq!(parse_cpu(STAT, 1), Some(CpuTime { busy: 75, total: 480 }));
        assert_eq!(parse_cpu(STAT, 2), None);
        assert_eq!(busy_pct(CpuTime { busy: 10, total: 100 }, CpuTime { busy: 40, total: 200 }), 30.0);
        assert_eq!(busy_pct(CpuTime::default(), CpuTime::default()), 0.0);
    }

    #[test]
    fn deltas_are_per_second() {
        let t = Instant::now();
        let snap = |at, busy, irqs, rx| Snapshot {
            at,
            server_cpu: CpuTime { busy, total: busy * 2 },
            client_cpu: CpuTime::default(),
            irqs,
            net_rx: rx,
            busy_poll_rx: None,
        };
        let d = deltas(&snap(t, 100, Some(10), 5), &snap(t + Duration::from_secs(2), 200, Some(30), 25));
        assert_eq!((d.irqs_per_s, d.net_rx_per_s, d.server_cpu_pct), (Some(10.0), 10.0, 50.0));
        assert_eq!(d.busy_poll_rx_per_s, None);
    }
}
