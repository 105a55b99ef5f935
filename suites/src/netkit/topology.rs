//! Two-NIC test topologies: NIC 0 in netns `pcA-<pid>` at 10.99.0.1, NIC 1 in `pcB-<pid>` at
//! 10.99.0.2, one /24, static neighbour entries and IPv6 off so that nothing but the case's own
//! traffic crosses the wire. `virtio`: the two virtio-net NICs the host attached (see the host's
//! `net` module); `netdevsim`: two linked netdevsim ports.

use super::netdevsim::Linked;
use super::netns::NetNs;
use super::{ethtool, rtnl, NetError};
use pollcheck_guest::Variant;
use pollcheck_proto::boot::{self, BootParams, NetParams};
use pollcheck_proto::{CaseMeta, Feature};
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

pub const ADDRS: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 99, 0, 1), Ipv4Addr::new(10, 99, 0, 2)];
const PREFIX: u8 = 24;
/// How long moved-back devices and carriers may take to appear.
const SETTLE: Duration = Duration::from_secs(10);

/// Which devices the topology is made of: the variant of a network case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Virtio,
    Netdevsim,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Virtio, Kind::Netdevsim];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Virtio => "virtio",
            Kind::Netdevsim => "netdevsim",
        }
    }

    /// The feature the kind's driver is.
    pub fn feature(self) -> Feature {
        match self {
            Kind::Virtio => Feature::VirtioNet,
            Kind::Netdevsim => Feature::Netdevsim,
        }
    }

    /// The name of the agent's probe of the kind's driver (see `fixture::PROBES`).
    pub const fn probe(self) -> &'static str {
        match self {
            Kind::Virtio => "virtio_net",
            Kind::Netdevsim => "netdevsim",
        }
    }
}

/// `.virtio` needs the host's test network and the virtio-net driver, `.netdevsim` netdevsim
/// (a kernel whose config lacks them is planned as Skip without booting; one whose first guest
/// has no such driver has them decided by that guest's probe).
impl Variant for Kind {
    fn name(self) -> &'static str {
        Kind::name(self)
    }

    fn apply(self, meta: &mut CaseMeta) {
        crate::require_kconfig(meta, &["NET", "NET_NS", "NET_RX_BUSY_POLL"]);
        meta.requires.network |= self == Kind::Virtio;
        crate::require_feature(meta, self.feature());
        let probe = self.probe().to_owned();
        if !meta.requires.probes.contains(&probe) {
            meta.requires.probes.insert(0, probe);
        }
    }
}

/// One side of the topology.
#[derive(Debug)]
pub struct Endpoint {
    pub ns: NetNs,
    pub ifname: String,
    pub ifindex: u32,
    pub addr: Ipv4Addr,
    /// The virtio device behind the NIC (`virtio1`), whose IRQs are named `<dev>-input.<q>`.
    pub virtio_dev: Option<String>,
}

impl Endpoint {
    /// A UDP socket bound to `port` (0: any) on this side.
    pub fn udp(&self, port: u16) -> Result<UdpSocket, NetError> {
        let addr = SocketAddr::V4(SocketAddrV4::new(self.addr, port));
        self.ns.try_run(|| UdpSocket::bind(addr).map_err(NetError::io(format!("bind a UDP socket to {addr}"))))
    }

    /// The name /proc/interrupts gives this NIC's RX queue `q` (virtio only).
    pub fn rx_irq_name(&self, q: u32) -> Option<String> {
        self.virtio_dev.as_ref().map(|d| format!("{d}-input.{q}"))
    }
}

/// How the host connected the virtio NICs, as this guest's kernel command line says
/// ([`BootParams`]); `None` when the host attached no test network.
pub fn host_net() -> Option<NetParams> {
    BootParams::parse(&fs::read_to_string("/proc/cmdline").ok()?).net
}

/// A topology, torn down on drop (namespaces unbound, netdevsim devices deleted; the kernel
/// moves physical NICs back to the initial namespace when their namespace dies).
#[derive(Debug)]
pub struct Topology {
    pub kind: Kind,
    /// Queue pairs per NIC that are active.
    pub queues: u32,
    /// One line saying what this topology is made of, for the case's log.
    pub description: String,
    pub a: Endpoint,
    pub b: Endpoint,
    // Dropped after the endpoints: devices go after their namespaces.
    _nsim: Option<Linked>,
}

impl Topology {
    /// Build the topology of `kind` with `queues` queue pairs (virtio: `None` uses all the host gave).
    pub fn up(kind: Kind, queues: Option<u32>) -> Result<Self, NetError> {
        sweep_stale();
        let pid = std::process::id();
        let nss = [NetNs::create(&format!("pcA-{pid}"))?, NetNs::create(&format!("pcB-{pid}"))?];
        for ns in &nss {
            ns.try_run(quiet_namespace)?;
        }
        match kind {
            Kind::Virtio => Self::virtio(nss, queues),
            Kind::Netdevsim => Self::netdevsim(nss, queues.unwrap_or(4)),
        }
    }

    fn virtio(nss: [NetNs; 2], queues: Option<u32>) -> Result<Self, NetError> {
        if !Path::new("/sys/bus/virtio/drivers/virtio_net").exists() {
            return Err(NetError::Unusable(
                "no virtio_net driver in this kernel (CONFIG_VIRTIO_NET off and no module): use a kernel with virtio-net".into(),
            ));
        }
        let host = host_net().ok_or_else(|| {
            NetError::Unusable(
                "the host attached no test network (pollcheck.net= missing): mark the case requires.network".into(),
            )
        })?;
        let want = queues.unwrap_or(host.queues);
        if want > host.queues {
            return Err(NetError::Unusable(format!(
                "the case wants {want} queue pairs, the host gave {}: run with --queues {want} or more",
                host.queues
            )));
        }
        let names = wait_for(|| boot::NIC_MACS.iter().map(|m| ifname_with_mac(m)).collect::<Option<Vec<_>>>())
            .ok_or_else(|| NetError::Unusable(format!("the virtio-net NICs {:?} did not appear", boot::NIC_MACS)))?;
        let mut ends = Vec::new();
        for ((name, ns), addr) in names.into_iter().zip(nss).zip(ADDRS) {
            ethtool::set_combined(&name, want)?;
            let now = ethtool::get(&name)?;
            if now.combined_count != want {
                return Err(NetError::Unusable(format!(
                    "{name} has {} combined channels after asking for {want} (max {})",
                    now.combined_count, now.max_combined
                )));
            }
            let virtio_dev = fs::read_link(format!("/sys/class/net/{name}/device"))
                .ok()
                .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()));
            ends.push(place(name, ns, addr, virtio_dev)?);
        }
        let description = format!("virtio-net pair, {want} queue pairs each, host backend {}", host.backend);
        Self::finish(Kind::Virtio, want, description, ends, None)
    }

    fn netdevsim(nss: [NetNs; 2], queues: u32) -> Result<Self, NetError> {
        let devs = super::netdevsim::create_pair(queues)?;
        let mut ends = Vec::new();
        for ((name, ns), addr) in devs.ifnames.clone().into_iter().zip(nss).zip(ADDRS) {
            ends.push(place(name, ns, addr, None)?);
        }
        devs.link(&ends[0], &ends[1])?;
        let description = format!("netdevsim pair, {queues} queues each, linked");
        Self::finish(Kind::Netdevsim, queues, description, ends, Some(devs))
    }

    fn finish(
        kind: Kind,
        queues: u32,
        description: String,
        ends: Vec<Endpoint>,
        nsim: Option<Linked>,
    ) -> Result<Self, NetError> {
        let mut it = ends.into_iter();
        let (Some(a), Some(b)) = (it.next(), it.next()) else {
            return Err(NetError::Unusable("a topology needs two endpoints".into()));
        };
        for (me, peer) in [(&a, &b), (&b, &a)] {
            let mac = mac_of(peer)?;
            let (ifindex, addr) = (me.ifindex, peer.addr);
            me.ns.try_run(|| rtnl::add_neighbour(ifindex, addr, mac))?;
        }
        for e in [&a, &b] {
            let ifindex = e.ifindex;
            e.ns.try_run(|| wait_carrier(ifindex))?;
        }
        Ok(Self { kind, queues, description, a, b, _nsim: nsim })
    }
}

/// Move `name` into `ns`, bring it up there with `addr`.
fn place(name: String, ns: NetNs, addr: Ipv4Addr, virtio_dev: Option<String>) -> Result<Endpoint, NetError> {
    let link = rtnl::link(&name)?;
    rtnl::move_to(link.ifindex, ns.fd())?;
    let ifindex = ns.try_run(|| {
        let l = rtnl::link(&name)?;
        rtnl::set_up(l.ifindex)?;
        rtnl::add_addr(l.ifindex, addr, PREFIX)?;
        Ok(l.ifindex)
    })?;
    Ok(Endpoint { ns, ifname: name, ifindex, addr, virtio_dev })
}

/// In a fresh namespace: loopback up; IPv6 off for devices that arrive (no DAD, router or MLD
/// chatter on the queues under test).
fn quiet_namespace() -> Result<(), NetError> {
    for key in ["all", "default"] {
        let _ = fs::write(format!("/proc/sys/net/ipv6/conf/{key}/disable_ipv6"), "1");
    }
    let lo = rtnl::link("lo")?;
    rtnl::set_up(lo.ifindex)
}

/// The endpoint's MAC, from rtnetlink in its namespace (sysfs shows the namespace it was mounted in).
fn mac_of(e: &Endpoint) -> Result<[u8; 6], NetError> {
    let name = e.ifname.clone();
    let link = e.ns.try_run(move || rtnl::link(&name))?;
    link.mac
        .clone()
        .try_into()
        .map_err(|_| NetError::Unusable(format!("link {} has no 6-byte MAC ({:?})", e.ifname, link.mac)))
}

pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let v: Vec<u8> = s.split(':').map(|h| u8::from_str_radix(h, 16)).collect::<Result<_, _>>().ok()?;
    v.try_into().ok()
}

/// The interface in this namespace whose MAC is `mac`.
fn ifname_with_mac(mac: &str) -> Option<String> {
    fs::read_dir("/sys/class/net").ok()?.flatten().find_map(|e| {
        let addr = fs::read_to_string(e.path().join("address")).ok()?;
        (addr.trim() == mac).then(|| e.file_name().to_string_lossy().into_owned())
    })
}

fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + SETTLE;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_carrier(ifindex: u32) -> Result<(), NetError> {
    wait_for(|| rtnl::links().ok()?.into_iter().find(|l| l.ifindex == ifindex && l.carrier).map(|_| ()))
        .ok_or_else(|| NetError::Unusable(format!("link {ifindex} has no carrier after {} s", SETTLE.as_secs())))
}

/// Unbind namespaces left by cases that were killed before their cleanup ran (their devices
/// return to the initial namespace once the namespace dies).
fn sweep_stale() {
    let Ok(dir) = fs::read_dir("/run/netns") else { return };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("pcA-").or_else(|| name.strip_prefix("pcB-")) else { continue };
        if pid.parse::<u32>().is_ok_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
            let _ = nix::mount::umount2(&e.path(), nix::mount::MntFlags::MNT_DETACH);
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse() {
        assert_eq!(parse_mac("52:54:00:50:43:01"), Some([0x52, 0x54, 0, 0x50, 0x43, 1]));
        assert_eq!(parse_mac("52:54:00"), None);
    }

    #[test]
    fn kinds_add_their_devices_once() {
        let mut meta = pollcheck_guest::Case::new("s", "c", "x", |_| Ok(())).kconfig(&["NET"]).build().remove(0).meta;
        Kind::Virtio.apply(&mut meta);
        Kind::Virtio.apply(&mut meta);
        assert_eq!(meta.requires.kconfig, ["NET", "NET_NS", "NET_RX_BUSY_POLL", "VIRTIO_NET", "VIRTIO_PCI"]);
        assert_eq!(meta.features, [Feature::VirtioNet]);
        assert!(meta.requires.network);
        let mut meta = pollcheck_guest::Case::new("s", "c", "x", |_| Ok(())).build().remove(0).meta;
        Kind::Netdevsim.apply(&mut meta);
        assert_eq!(meta.requires.kconfig, ["NET", "NET_NS", "NET_RX_BUSY_POLL", "NETDEVSIM"]);
        assert_eq!((meta.features.as_slice(), meta.requires.network), ([Feature::Netdevsim].as_slice(), false));
        assert_eq!(Kind::ALL.map(Variant::name), ["virtio", "netdevsim"]);
    }
}
