//! The behavioural cases' network rig: UDP flows from A that all land on one RX queue of B (so
//! on one NAPI), each with its own *connected* receiver on B (a connected UDP socket takes the
//! NAPI id of every packet, an unconnected one only of its first).

use crate::netkit::steer::{incoming_napi_id, rx_queue_by_napi, FIRST_PORT, MAX_TRIES};
use crate::netkit::{NetError, Topology};
use nix::sys::socket::{bind, connect, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn};
use pollcheck_proto::Feature;
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// One flow A → B: the sender on A, the connected receiver on B, and where B received it.
#[derive(Debug)]
pub struct Flow {
    pub tx: UdpSocket,
    pub rx: UdpSocket,
    pub src_port: u16,
    /// The RX queue, when the kernel's netdev family can map the NAPI id to one (6.9+).
    pub queue: Option<u32>,
    /// What the kernel lacks when it cannot map NAPI ids to queues (`queue` is then None).
    pub unmapped: Option<Feature>,
    pub napi_id: u32,
}

/// `k` flows to `dst_port` on B that all arrive on one NAPI (one RX queue): the one the first
/// probe lands on. Each probe is one datagram read back with its NAPI id. Kernels without the
/// netdev family (before 6.9) still get flows; their queue is then unknown.
pub fn flows_on_one_napi(topo: &Topology, dst_port: u16, k: usize) -> Result<Vec<Flow>, NetError> {
    let (by_napi, unmapped) = match rx_queue_by_napi(topo) {
        Ok(m) => (m, None),
        Err(NetError::Absent { feature, .. }) => (Default::default(), Some(feature)),
        Err(e) => return Err(e),
    };
    let dst = SocketAddrV4::new(topo.b.addr, dst_port);
    let mut want = None;
    let mut out = Vec::new();
    let mut buf = [0u8; 16];
    for port in FIRST_PORT..FIRST_PORT + MAX_TRIES {
        if out.len() >= k {
            break;
        }
        let src = SocketAddrV4::new(topo.a.addr, port);
        let rx = topo.b.ns.try_run(|| connected_receiver(dst, src))?;
        rx.set_read_timeout(Some(Duration::from_secs(2))).map_err(NetError::io("set a receive timeout"))?;
        let tx = topo.a.udp(port)?;
        tx.connect(SocketAddr::V4(dst)).map_err(NetError::io(format!("connect A's port {port} to {dst}")))?;
        tx.send(&port.to_be_bytes()).map_err(NetError::io(format!("send a probe from port {port}")))?;
        let n = rx.recv(&mut buf).map_err(NetError::io(format!("receive the probe from port {port}")))?;
        if n != 2 || u16::from_be_bytes([buf[0], buf[1]]) != port {
            continue;
        }
        let napi_id = incoming_napi_id(&rx)?;
        if napi_id == 0 || (!by_napi.is_empty() && !by_napi.contains_key(&napi_id)) {
            continue;
        }
        if *want.get_or_insert(napi_id) == napi_id {
            out.push(Flow { tx, rx, src_port: port, queue: by_napi.get(&napi_id).copied(), unmapped, napi_id });
        }
    }
    if out.len() < k {
        return Err(NetError::Unusable(format!(
            "found {} of {k} flows to port {dst_port} on NAPI {want:?} in {MAX_TRIES} source ports",
            out.len()
        )));
    }
    Ok(out)
}

/// A UDP socket in the calling thread's namespace bound to `local` (sharing the port with the
/// other receivers) and connected to `peer`.
fn connected_receiver(local: SocketAddrV4, peer: SocketAddrV4) -> Result<UdpSocket, NetError> {
    let fd = socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
        .map_err(NetError::sys("open a UDP socket"))?;
    setsockopt(&fd, sockopt::ReuseAddr, &true).map_err(NetError::sys("set SO_REUSEADDR"))?;
    bind(fd.as_raw_fd(), &SockaddrIn::from(local)).map_err(NetError::sys(format!("bind to {local}")))?;
    connect(fd.as_raw_fd(), &SockaddrIn::from(peer)).map_err(NetError::sys(format!("connect to {peer}")))?;
    Ok(UdpSocket::from(fd))
}
