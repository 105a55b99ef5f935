//! The guest's test networks and the tools to look at them: network namespaces, rtnetlink link
//! and address setup, the netdev generic-netlink family (NAPI and queue introspection, napi-set)
//! and the generic-netlink controller that says which of its ops and attributes exist,
//! per-IRQ and NET_RX softirq counters, /proc/net/netstat, virtio-net channel counts, flow
//! steering, netdevsim, and disturbing a NIC (link down/up, channel changes) to see what survives.
//!
//! Suites use [`topology::Topology`]: two NICs, one in netns `pcA` and one in `pcB`, with
//! addresses on one subnet and helpers to open sockets inside either namespace. Cases name the
//! devices as their variant ([`Kind`]) and build the topology through [`fixture`].

pub mod churn;
pub mod error;
pub mod ethtool;
pub mod fixture;
pub mod genl_ctrl;
pub mod irqs;
pub mod napi_attrs;
pub mod netdev;
pub mod netdevsim;
pub mod netns;
pub mod netstat;
pub mod nlerr;
pub mod nssysfs;
pub mod payload;
pub mod rtnl;
pub mod steer;
pub mod topology;

pub use error::NetError;
pub use topology::{Endpoint, Kind, Topology};
