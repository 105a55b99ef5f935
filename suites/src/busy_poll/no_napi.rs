//! NAPI-id keying: epoll busy polls the NAPI its sockets' packets came from, so an instance
//! whose sockets carry no NAPI id (a unix socketpair; UDP over loopback, whose packets go
//! through the per-CPU backlog, which has none) never busy polls, whatever busy_poll_usecs says.

use super::measure::{interleaved, Waiter};
use super::verdict::expect_sleeps;
use super::{require_epoll_params, ROUNDS, TIMEOUT_MS, USECS};
use crate::netkit::netns::NetNs;
use crate::netkit::steer::incoming_napi_id;
use crate::netkit::{rtnl, NetError};
use crate::sys::epoll_params::params;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use pollcheck_guest::{CaseResult, Ctx};
use std::net::UdpSocket;
use std::os::fd::AsFd;

/// Two UDP sockets on 127.0.0.1 in `ns` (loopback brought up), connected to each other.
fn loopback_pair(ns: &NetNs) -> Result<(UdpSocket, UdpSocket), NetError> {
    ns.try_run(|| {
        rtnl::set_up(rtnl::link("lo")?.ifindex)?;
        let a = UdpSocket::bind("127.0.0.1:0").map_err(NetError::io("bind a loopback UDP socket"))?;
        let b = UdpSocket::bind("127.0.0.1:0").map_err(NetError::io("bind a loopback UDP socket"))?;
        let (aa, ba) = (
            a.local_addr().map_err(NetError::io("read an address"))?,
            b.local_addr().map_err(NetError::io("read an address"))?,
        );
        a.connect(ba).map_err(NetError::io("connect"))?;
        b.connect(aa).map_err(NetError::io("connect"))?;
        Ok((a, b))
    })
}

pub(super) fn no_napi_id(ctx: &mut Ctx<'_>) -> CaseResult {
    require_epoll_params(ctx)?;
    let (ua, ub) = ctx
        .setup(socketpair(AddressFamily::Unix, SockType::Datagram, None, SockFlag::SOCK_CLOEXEC), "unix socketpair")?;
    let ns = ctx.setup(NetNs::create(&format!("pcL-{}", std::process::id())), "a namespace for loopback")?;
    let (la, lb) = ctx.setup(loopback_pair(&ns), "loopback UDP pair")?;
    let p = Some(params(USECS, 0, 0, 0));
    let unix = ctx.setup(Waiter::new(ua.as_fd(), ub.as_fd(), p), "busy instance over a unix socketpair")?;
    let lo = ctx.setup(Waiter::new(la.as_fd(), lb.as_fd(), p), "busy instance over loopback UDP")?;
    let m = ctx.setup(interleaved(&[&unix, &lo], ROUNDS, TIMEOUT_MS, &[]), "measure CPU per empty wait")?;
    let s = [m.waiter(0), m.waiter(1)];
    let lo_napi = ctx.setup(incoming_napi_id(&lb), "SO_INCOMING_NAPI_ID on the loopback receiver")?;
    ctx.log(format!("busy_poll_usecs {USECS}, {TIMEOUT_MS} ms waits: unix socketpair {}; loopback UDP {}", s[0], s[1]));
    ctx.log(format!("loopback receiver's SO_INCOMING_NAPI_ID: {lo_napi}"));
    ctx.expect(lo_napi == 0, "loopback packets carry no NAPI id (SO_INCOMING_NAPI_ID 0)", lo_napi);
    expect_sleeps(ctx, "a busy_poll_usecs instance over a unix socketpair", &s[0], USECS);
    expect_sleeps(ctx, "a busy_poll_usecs instance over loopback UDP", &s[1], USECS);
    Ok(())
}
