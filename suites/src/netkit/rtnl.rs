//! rtnetlink (neli) in the calling thread's namespace: list links, bring them up or down, move them to
//! another namespace, add IPv4 addresses, read their flags.

use super::nlerr::from_router;
use super::NetError;
use neli::consts::nl::NlmF;
use neli::consts::rtnl::{Arphrd, Ifa, IfaF, Iff, Ifla, RtAddrFamily, RtScope, Rtm};
use neli::consts::socket::NlFamily;
use neli::nl::NlPayload;
use neli::router::synchronous::NlRouter;
use neli::rtnl::{Ifaddrmsg, IfaddrmsgBuilder, Ifinfomsg, IfinfomsgBuilder, RtattrBuilder};
use neli::types::RtBuffer;
use neli::utils::Groups;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, BorrowedFd};

/// One network device as rtnetlink lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub ifindex: u32,
    pub name: String,
    pub up: bool,
    /// IFF_LOWER_UP: the carrier is there.
    pub carrier: bool,
    /// IFLA_ADDRESS (empty when the link has none).
    pub mac: Vec<u8>,
}

fn router() -> Result<NlRouter, NetError> {
    let (r, _) = NlRouter::connect(NlFamily::Route, None, Groups::empty())
        .map_err(|e| NetError::Netlink { what: "open an rtnetlink socket".into(), detail: e.to_string() })?;
    let _ = r.enable_ext_ack(true);
    Ok(r)
}

fn link_msg(
    ifindex: u32,
    flags: Iff,
    change: Iff,
    attrs: RtBuffer<Ifla, neli::types::Buffer>,
) -> Result<Ifinfomsg, NetError> {
    IfinfomsgBuilder::default()
        .ifi_family(RtAddrFamily::Unspecified)
        .ifi_type(Arphrd::from(0))
        .ifi_index(ifindex as i32)
        .ifi_flags(flags)
        .ifi_change(change)
        .rtattrs(attrs)
        .build()
        .map_err(|e| NetError::Netlink { what: "build a link message".into(), detail: e.to_string() })
}

/// Every link in this namespace.
pub fn links() -> Result<Vec<Link>, NetError> {
    let what = "list links (RTM_GETLINK dump)";
    let r = router()?;
    let msg = link_msg(0, Iff::empty(), Iff::empty(), RtBuffer::new())?;
    let recv = r
        .send::<_, _, Rtm, Ifinfomsg>(Rtm::Getlink, NlmF::DUMP, NlPayload::Payload(msg))
        .map_err(|e| from_router(what, e))?;
    let mut out = Vec::new();
    for m in recv {
        let m = m.map_err(|e| from_router(what, e))?;
        if let Some(p) = m.get_payload() {
            let attrs = p.rtattrs().get_attr_handle();
            let name = attrs.get_attr_payload_as_with_len::<String>(Ifla::Ifname).unwrap_or_default();
            let mac = attrs.get_attribute(Ifla::Address).map(|a| a.rta_payload().as_ref().to_vec()).unwrap_or_default();
            out.push(Link {
                ifindex: *p.ifi_index() as u32,
                name,
                up: p.ifi_flags().contains(Iff::UP),
                carrier: p.ifi_flags().contains(Iff::LOWERUP),
                mac,
            });
        }
    }
    Ok(out)
}

/// The link named `name` in this namespace.
pub fn link(name: &str) -> Result<Link, NetError> {
    links()?.into_iter().find(|l| l.name == name).ok_or_else(|| NetError::Unusable(format!("no link named {name}")))
}

fn ack(r: &NlRouter, what: &str, kind: Rtm, msg: NlPayload<Rtm, Ifinfomsg>) -> Result<(), NetError> {
    let recv = r.send::<_, _, Rtm, Ifinfomsg>(kind, NlmF::ACK, msg).map_err(|e| from_router(what, e))?;
    for m in recv {
        m.map_err(|e| from_router(what, e))?;
    }
    Ok(())
}

/// Set IFF_UP on `ifindex`.
pub fn set_up(ifindex: u32) -> Result<(), NetError> {
    let msg = link_msg(ifindex, Iff::UP, Iff::UP, RtBuffer::new())?;
    ack(&router()?, &format!("bring up link {ifindex}"), Rtm::Newlink, NlPayload::Payload(msg))
}

/// Clear IFF_UP on `ifindex` (the driver's ndo_stop runs: NAPIs are disabled, some deleted).
pub fn set_down(ifindex: u32) -> Result<(), NetError> {
    let msg = link_msg(ifindex, Iff::empty(), Iff::UP, RtBuffer::new())?;
    ack(&router()?, &format!("bring down link {ifindex}"), Rtm::Newlink, NlPayload::Payload(msg))
}

/// Move `ifindex` (in this namespace) into the namespace `ns`.
pub fn move_to(ifindex: u32, ns: BorrowedFd<'_>) -> Result<(), NetError> {
    let what = format!("move link {ifindex} to another network namespace");
    let fd = RtattrBuilder::default()
        .rta_type(Ifla::NetNsFd)
        .rta_payload(ns.as_raw_fd() as u32)
        .build()
        .map_err(|e| NetError::Netlink { what: what.clone(), detail: e.to_string() })?;
    let mut attrs = RtBuffer::new();
    attrs.push(fd);
    let msg = link_msg(ifindex, Iff::empty(), Iff::empty(), attrs)?;
    ack(&router()?, &what, Rtm::Newlink, NlPayload::Payload(msg))
}

/// Add `addr/prefix` to `ifindex`.
pub fn add_addr(ifindex: u32, addr: Ipv4Addr, prefix: u8) -> Result<(), NetError> {
    let what = format!("add address {addr}/{prefix} to link {ifindex}");
    let bad = |e: &dyn std::fmt::Display| NetError::Netlink { what: what.clone(), detail: e.to_string() };
    let mut attrs = RtBuffer::new();
    for kind in [Ifa::Local, Ifa::Address] {
        attrs.push(
            RtattrBuilder::default().rta_type(kind).rta_payload(addr.octets().to_vec()).build().map_err(|e| bad(&e))?,
        );
    }
    let msg = IfaddrmsgBuilder::default()
        .ifa_family(RtAddrFamily::Inet)
        .ifa_prefixlen(prefix)
        .ifa_flags(IfaF::empty())
        .ifa_scope(RtScope::Universe)
        .ifa_index(ifindex)
        .rtattrs(attrs)
        .build()
        .map_err(|e| bad(&e))?;
    let r = router()?;
    let recv = r
        .send::<_, _, Rtm, Ifaddrmsg>(Rtm::Newaddr, NlmF::ACK | NlmF::CREATE | NlmF::EXCL, NlPayload::Payload(msg))
        .map_err(|e| from_router(&what, e))?;
    for m in recv {
        m.map_err(|e| from_router(&what, e))?;
    }
    Ok(())
}

/// A permanent neighbour (ARP) entry `addr` → `mac` on `ifindex`: no ARP traffic during cases.
pub fn add_neighbour(ifindex: u32, addr: Ipv4Addr, mac: [u8; 6]) -> Result<(), NetError> {
    use neli::consts::rtnl::{Nda, Nud, Rtn};
    use neli::rtnl::{Ndmsg, NdmsgBuilder};
    let what = format!("add neighbour {addr} on link {ifindex}");
    let bad = |e: &dyn std::fmt::Display| NetError::Netlink { what: what.clone(), detail: e.to_string() };
    let mut attrs = RtBuffer::new();
    attrs.push(
        RtattrBuilder::default().rta_type(Nda::Dst).rta_payload(addr.octets().to_vec()).build().map_err(|e| bad(&e))?,
    );
    attrs.push(RtattrBuilder::default().rta_type(Nda::Lladdr).rta_payload(mac.to_vec()).build().map_err(|e| bad(&e))?);
    let msg = NdmsgBuilder::default()
        .ndm_family(RtAddrFamily::Inet)
        .ndm_index(ifindex as i32)
        .ndm_state(Nud::PERMANENT)
        .ndm_type(Rtn::Unicast)
        .rtattrs(attrs)
        .build()
        .map_err(|e| bad(&e))?;
    let r = router()?;
    let recv = r
        .send::<_, _, Rtm, Ndmsg>(Rtm::Newneigh, NlmF::ACK | NlmF::CREATE | NlmF::REPLACE, NlPayload::Payload(msg))
        .map_err(|e| from_router(&what, e))?;
    for m in recv {
        m.map_err(|e| from_router(&what, e))?;
    }
    Ok(())
}
