//! Steering a UDP flow to a chosen RX queue without RSS configuration (virtio-net has no ethtool
//! RSS here): the host's tun driver picks the queue from a symmetric hash of the flow's
//! addresses and ports, so different source ports land on different queues. We try source ports
//! from A to a fixed port on B, read SO_INCOMING_NAPI_ID on B's socket for each datagram, and
//! keep the first port found for every queue (NAPI id → queue from netdev queue-get). A flow
//! keeps its queue while B does not send on it (tun remembers the queue of the guest's last
//! transmission of a flow and would then steer to that one).

use super::netdev::{Netdev, QueueType};
use super::topology::Topology;
use super::NetError;
use pollcheck_proto::Feature;
use std::collections::BTreeMap;
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// First source port tried.
pub const FIRST_PORT: u16 = 40_000;
/// Source ports tried before giving up.
pub const MAX_TRIES: u16 = 512;

/// SO_INCOMING_NAPI_ID of the last packet `sock` received (0: none, or busy poll compiled out).
pub fn incoming_napi_id(sock: &impl AsRawFd) -> Result<u32, NetError> {
    let mut v: libc::c_uint = 0;
    let mut len = std::mem::size_of::<libc::c_uint>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `v`.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_INCOMING_NAPI_ID,
            (&mut v as *mut libc::c_uint).cast(),
            &mut len,
        )
    };
    nix::errno::Errno::result(rc).map_err(NetError::sys("read SO_INCOMING_NAPI_ID"))?;
    Ok(v)
}

/// RX queue id by NAPI id, for B's NIC (asked in B's namespace).
pub fn rx_queue_by_napi(topo: &Topology) -> Result<BTreeMap<u32, u32>, NetError> {
    let ifindex = topo.b.ifindex;
    let queues = topo.b.ns.try_run(move || Netdev::open()?.queues(ifindex))?;
    let rx: Vec<_> = queues.into_iter().filter(|q| q.kind == QueueType::Rx).collect();
    if !rx.is_empty() && rx.iter().all(|q| q.napi_id.is_none()) {
        return Err(NetError::Absent { feature: Feature::VirtioNapiQueues, why: unlinked_queues(&topo.b.ifname) });
    }
    Ok(rx.into_iter().filter_map(|q| Some((q.napi_id?, q.id))).collect())
}

/// Why a case Skips when queue-get lists RX queues but none names its NAPI: the driver never
/// links them (netif_queue_set_napi), as Debian 6.12's virtio-net does not.
pub fn unlinked_queues(ifname: &str) -> String {
    format!(
        "netdev queue-get lists {ifname}'s RX queues without a napi-id: this kernel's driver does not link queues to NAPIs"
    )
}

/// A flow per RX queue of B: the source port on A that lands on each queue, and B's receiver
/// (unconnected, bound to the destination port, for every flow).
#[derive(Debug)]
pub struct Flows {
    /// B's socket, bound to `dst_port`.
    pub rx: UdpSocket,
    pub dst: SocketAddr,
    /// RX queue → (source port on A, the NAPI id seen).
    pub by_queue: BTreeMap<u32, (u16, u32)>,
    /// Probes whose NAPI id is no RX queue's (source port, NAPI id seen).
    pub unmatched: Vec<(u16, u32)>,
    /// Source ports tried.
    pub tried: u16,
}

impl Flows {
    /// An error unless a flow was found for each of the first `wanted` queues.
    pub fn complete(self, wanted: u32) -> Result<Self, NetError> {
        let missing: Vec<u32> = (0..wanted).filter(|q| !self.by_queue.contains_key(q)).collect();
        if missing.is_empty() {
            Ok(self)
        } else {
            Err(NetError::Unusable(format!(
                "no flow reached RX queues {missing:?} after {} source ports (unmatched NAPI ids: {:?})",
                self.tried, self.unmatched
            )))
        }
    }

    /// A's socket for the flow that lands on `queue`.
    pub fn sender(&self, topo: &Topology, queue: u32) -> Result<UdpSocket, NetError> {
        let (port, _) = self
            .by_queue
            .get(&queue)
            .ok_or_else(|| NetError::Unusable(format!("no flow found for RX queue {queue}")))?;
        let s = topo.a.udp(*port)?;
        s.connect(self.dst).map_err(NetError::io(format!("connect to {}", self.dst)))?;
        Ok(s)
    }
}

/// Find a source port for each of the first `wanted` RX queues of B (see [`Flows::complete`]).
pub fn find_flows(topo: &Topology, dst_port: u16, wanted: u32) -> Result<Flows, NetError> {
    let napi_to_queue = rx_queue_by_napi(topo)?;
    let dst = SocketAddr::V4(SocketAddrV4::new(topo.b.addr, dst_port));
    let mut by_queue = BTreeMap::new();
    let mut buf = [0u8; 64];
    let mut tried = 0;
    let mut unmatched = Vec::new();
    for port in FIRST_PORT..FIRST_PORT + MAX_TRIES {
        if by_queue.len() as u32 >= wanted {
            break;
        }
        tried += 1;
        // A connected receiver: unconnected UDP sockets record only the first packet's NAPI id
        // (sk_mark_napi_id_once), connected ones every packet's.
        let src = SocketAddr::V4(SocketAddrV4::new(topo.a.addr, port));
        let rx = topo.b.udp(dst_port)?;
        rx.connect(src).map_err(NetError::io(format!("connect B's probe socket to {src}")))?;
        rx.set_read_timeout(Some(Duration::from_secs(2))).map_err(NetError::io("set a receive timeout"))?;
        let tx = topo.a.udp(port)?;
        tx.send_to(&port.to_be_bytes(), dst).map_err(NetError::io(format!("send from port {port}")))?;
        let n = rx.recv(&mut buf).map_err(NetError::io(format!("receive the probe from port {port}")))?;
        if n != 2 || u16::from_be_bytes([buf[0], buf[1]]) != port {
            continue;
        }
        let napi = incoming_napi_id(&rx)?;
        match napi_to_queue.get(&napi) {
            Some(&q) if q < wanted => {
                by_queue.entry(q).or_insert((port, napi));
            }
            Some(_) => {}
            None => unmatched.push((port, napi)),
        }
    }
    let rx = topo.b.udp(dst_port)?;
    rx.set_read_timeout(Some(Duration::from_secs(2))).map_err(NetError::io("set a receive timeout"))?;
    Ok(Flows { rx, dst, by_queue, unmatched, tried })
}
