//! Data arrives intact whatever polls B's queue (what upstream's busy_poll_test.sh checks with
//! a 1 MiB file and md5sum, here in every mode): in disabled, enabled and busy-poll mode a
//! pseudo-random TCP byte stream is compared byte for byte with what the receiver regenerates,
//! and self-checking UDP datagrams all arrive, each once and intact. B has one queue pair, so
//! all of it crosses the NAPI under test.

use super::kthread;
use super::mode::{self, get, set};
use crate::netkit::fixture::{skip_absent, topology};
use crate::netkit::netdev::Threaded;
use crate::netkit::payload::{check, datagram, Check, Stream};
use crate::netkit::{Kind, NetError, Topology};
use pollcheck_guest::{CaseResult, Ctx};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

const TCP_PORT: u16 = 9400;
const UDP_PORT: u16 = 9401;
const STREAM_BYTES: usize = 1 << 20;
const DATAGRAMS: u32 = 1000;
const DATAGRAM_PAYLOAD: usize = 1200;
/// Datagrams sent before the receiver drains them (well inside the default receive buffer).
const WINDOW: u32 = 20;
const TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn data_intact(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, Some(1))?;
    let id = mode::target(ctx, &topo)?;
    let _restore = mode::reset(ctx, &topo)?;
    let pinned = kthread::online_cpus() >= 2 && kthread::pin(0, 0).is_ok();
    let mut covered = Vec::new();
    for (i, m) in [Threaded::Disabled, Threaded::Enabled, Threaded::BusyPoll].into_iter().enumerate() {
        if m == Threaded::BusyPoll {
            match mode::try_set(&topo, id, m) {
                Ok(()) => {}
                // Absent as napi-set's attribute policy says (its `threaded` maximum is 1).
                Err(NetError::Absent { why, .. }) => {
                    ctx.log(format!("busy-poll mode not covered: {why}"));
                    break;
                }
                Err(e) => return skip_absent(ctx, Err(e), "napi-set threaded = busy-poll"),
            }
        } else {
            set(ctx, &topo, id, m)?;
        }
        let got = get(ctx, &topo, id)?;
        ctx.assert(got.threaded == Some(m), format!("NAPI {id} is in {m:?} mode"), format!("{:?}", got.threaded))?;
        if let (true, Some(pid)) = (pinned, got.pid) {
            let _ = kthread::pin(pid, 1);
        }
        let seed = 0x5eed + i as u64;
        let t0 = Instant::now();
        let tcp = tcp_stream(&topo, seed);
        let tcp_ms = t0.elapsed().as_millis();
        let t1 = Instant::now();
        let udp = datagrams(&topo);
        let udp_ms = t1.elapsed().as_millis();
        let tcp = ctx.setup(tcp, "set up the TCP connection")?;
        ctx.log(format!(
            "{m:?}: TCP {} of {STREAM_BYTES} bytes in {tcp_ms} ms, {} differing (first at {:?}){}",
            tcp.bytes,
            tcp.differing,
            tcp.first_bad,
            tcp.error.as_ref().map(|e| format!("; stopped: {e}")).unwrap_or_default()
        ));
        let ok_tcp = tcp.error.is_none() && tcp.bytes == STREAM_BYTES && tcp.differing == 0;
        if !ok_tcp {
            log_counters(ctx, &topo);
        }
        ctx.expect(
            ok_tcp,
            format!("{m:?}: the 1 MiB TCP stream arrives complete and byte-identical"),
            format!("{tcp:?}"),
        );
        let udp = ctx.setup(udp, "exchange datagrams")?;
        ctx.log(format!(
            "{m:?}: UDP {} of {DATAGRAMS} datagrams intact in {udp_ms} ms, {} corrupt, {} duplicate, missing {:?}",
            udp.intact.len(),
            udp.corrupt,
            udp.duplicates,
            udp.missing()
        ));
        ctx.expect(
            udp.intact.len() as u32 == DATAGRAMS && udp.corrupt == 0 && udp.duplicates == 0,
            format!("{m:?}: all {DATAGRAMS} datagrams arrive once and intact"),
            format!("{} intact, {} corrupt, {} duplicate", udp.intact.len(), udp.corrupt, udp.duplicates),
        );
        covered.push(format!("{m:?}"));
    }
    set(ctx, &topo, id, Threaded::Disabled)?;
    ctx.log(format!("modes covered on NAPI {id} of {}: {}", topo.b.ifname, covered.join(", ")));
    Ok(())
}

/// Both namespaces' device counters and TCP retransmissions, for a stalled or damaged transfer.
fn log_counters(ctx: &mut Ctx<'_>, topo: &Topology) {
    for (side, e) in [("A", &topo.a), ("B", &topo.b)] {
        let ifname = e.ifname.clone();
        let seen = e.ns.run(move || {
            let dev = std::fs::read_to_string("/proc/thread-self/net/dev").unwrap_or_default();
            let line = dev.lines().find(|l| l.trim_start().starts_with(&format!("{ifname}:"))).unwrap_or("").to_owned();
            let snmp = std::fs::read_to_string("/proc/thread-self/net/snmp").unwrap_or_default();
            let tcp: Vec<&str> = snmp.lines().filter(|l| l.starts_with("Tcp:")).collect();
            format!("{} | {}", line.split_whitespace().collect::<Vec<_>>().join(" "), tcp.join(" / "))
        });
        ctx.log(format!("{side} counters: {}", seen.unwrap_or_else(|e| e.to_string())));
    }
}

/// What the receiving end of the TCP stream saw.
#[derive(Debug)]
struct StreamReport {
    bytes: usize,
    differing: usize,
    first_bad: Option<usize>,
    /// Why the transfer stopped early.
    error: Option<String>,
}

/// A → B: `STREAM_BYTES` of the stream seeded with `seed`, compared as it arrives.
fn tcp_stream(topo: &Topology, seed: u64) -> Result<StreamReport, NetError> {
    let at = SocketAddr::V4(SocketAddrV4::new(topo.b.addr, TCP_PORT));
    let listener = topo.b.ns.try_run(move || TcpListener::bind(at).map_err(NetError::io(format!("listen on {at}"))))?;
    let client = topo
        .a
        .ns
        .try_run(move || TcpStream::connect_timeout(&at, TIMEOUT).map_err(NetError::io(format!("connect to {at}"))))?;
    let (mut server, _) = listener.accept().map_err(NetError::io("accept the connection"))?;
    server.set_read_timeout(Some(TIMEOUT)).map_err(NetError::io("set a read timeout"))?;
    client.set_write_timeout(Some(TIMEOUT)).map_err(NetError::io("set a write timeout"))?;
    std::thread::scope(|s| {
        let writer = s.spawn(move || -> Result<(), NetError> {
            let mut client = client;
            let mut gen = Stream::new(seed);
            let mut chunk = vec![0u8; 16 * 1024];
            let mut left = STREAM_BYTES;
            while left > 0 {
                let n = left.min(chunk.len());
                gen.fill(&mut chunk[..n]);
                client.write_all(&chunk[..n]).map_err(NetError::io("write the stream"))?;
                left -= n;
            }
            client.shutdown(Shutdown::Write).map_err(NetError::io("close the stream"))
        });
        let mut expected = vec![0u8; STREAM_BYTES];
        Stream::new(seed).fill(&mut expected);
        let mut buf = vec![0u8; 16 * 1024];
        let mut report = StreamReport { bytes: 0, differing: 0, first_bad: None, error: None };
        loop {
            let n = match server.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    report.error = Some(format!("read failed after {} bytes: {e}", report.bytes));
                    break;
                }
            };
            for (i, b) in buf[..n].iter().enumerate() {
                let at = report.bytes + i;
                if expected.get(at) != Some(b) {
                    report.differing += 1;
                    report.first_bad.get_or_insert(at);
                }
            }
            report.bytes += n;
        }
        let wrote = writer.join().unwrap_or_else(|_| Err(NetError::Unusable("the writer thread panicked".into())));
        if let Err(e) = wrote {
            let was = report.error.take().map(|r| format!("; {r}")).unwrap_or_default();
            report.error = Some(format!("writer: {e}{was}"));
        }
        Ok(report)
    })
}

/// What arrived of the datagrams.
#[derive(Debug)]
struct DatagramReport {
    intact: BTreeSet<u32>,
    corrupt: u32,
    duplicates: u32,
}

impl DatagramReport {
    fn missing(&self) -> Vec<u32> {
        (0..DATAGRAMS).filter(|s| !self.intact.contains(s)).take(10).collect()
    }
}

/// A → B: `DATAGRAMS` self-checking datagrams in windows of `WINDOW`.
fn datagrams(topo: &Topology) -> Result<DatagramReport, NetError> {
    let dst = SocketAddr::V4(SocketAddrV4::new(topo.b.addr, UDP_PORT));
    let rx: UdpSocket = topo.b.udp(UDP_PORT)?;
    rx.set_read_timeout(Some(Duration::from_secs(2))).map_err(NetError::io("set a receive timeout"))?;
    let tx = topo.a.udp(0)?;
    tx.connect(dst).map_err(NetError::io(format!("connect to {dst}")))?;
    let mut report = DatagramReport { intact: BTreeSet::new(), corrupt: 0, duplicates: 0 };
    let mut buf = vec![0u8; 4096];
    let mut seq = 0;
    while seq < DATAGRAMS {
        let end = (seq + WINDOW).min(DATAGRAMS);
        for s in seq..end {
            tx.send(&datagram(s, DATAGRAM_PAYLOAD)).map_err(NetError::io(format!("send datagram {s}")))?;
        }
        for _ in seq..end {
            let Ok(n) = rx.recv(&mut buf) else { break };
            match check(&buf[..n]) {
                Check::Intact(s) if !report.intact.insert(s) => report.duplicates += 1,
                Check::Intact(_) => {}
                Check::Corrupt(_) => report.corrupt += 1,
            }
        }
        seq = end;
    }
    Ok(report)
}
