//! The kernel features pollcheck checks, and what promises each one: the upstream release that
//! introduced it and the options it needs, or the patch set of ours that adds it.
//!
//! A case that finds a feature absent names it ([`crate::Outcome::Skip`]'s `feature`); the host
//! then asks its expectations whether this kernel promised the feature, and a promised feature
//! found absent is a FAIL ("feature lost"), never a Skip.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One kernel feature (closed: adding one means adding its [`Promise`] below).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    /// EPIOCSPARAMS / EPIOCGPARAMS: busy polling configured per epoll instance.
    EpollParams,
    /// `net.core.busy_poll` making every epoll instance busy poll (the global switch).
    EpollBusyPollSysctl,
    /// SO_BUSY_POLL, SO_PREFER_BUSY_POLL and SO_BUSY_POLL_BUDGET on a socket.
    SocketBusyPoll,
    /// The netdev generic-netlink family's queue-get and napi-get.
    NetdevNapiGet,
    /// Per-NAPI defer-hard-irqs and gro-flush-timeout through napi-set.
    NapiSet,
    /// Per-NAPI irq-suspend-timeout (IRQ suspension).
    IrqSuspend,
    /// The device-level `/sys/class/net/<dev>/threaded` switch.
    ThreadedSysfs,
    /// Per-NAPI `threaded` through napi-set (disabled / enabled).
    NapiThreaded,
    /// `threaded = busy-poll`: a NAPI kthread that busy polls.
    ThreadedBusyPoll,
    /// virtio-net links each queue to its NAPI (queue-get reports a napi-id).
    VirtioNapiQueues,
    /// EPOLLEXCLUSIVE: wake one of several epoll instances watching one source.
    EpollExclusive,
    /// EPOLL_USERPOLL: epoll events read from a ring mapped from the epoll fd (never merged).
    Userpoll,
    /// EPOLLROUNDROBIN: exclusive waiters woken in turn (never merged).
    EpollRoundRobin,
    /// EPOLL_POLICY: a policy epoll attached to one wakeup source (a 2015 sketch; no ABI).
    EpollPolicy,
    /// The virtio-net driver (the test network's NICs).
    VirtioNet,
    /// netdevsim with linked device pairs (the software test network).
    Netdevsim,
    /// The evdev input event interface (/dev/input/event*), a wakeup source whose key carries
    /// EPOLLIN and EPOLLOUT together (the exclusive suite's test rig).
    Evdev,
}

/// What makes a kernel promise a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Promise {
    pub feature: Feature,
    /// Kebab-case name, as in `--expect` files.
    pub name: &'static str,
    /// What the feature is, for reports.
    pub title: &'static str,
    /// The upstream release that introduced it (`None`: never merged upstream).
    pub since: Option<(u32, u32)>,
    /// Kconfig symbols (without `CONFIG_`) it needs, `y` or `m`.
    pub kconfig: &'static [&'static str],
    /// Our patch set (`fixtures/patches/<set>/`) that adds it, for features upstream lacks.
    pub patch_set: Option<&'static str>,
    /// Where the release comes from: the upstream commit or series.
    pub source: &'static str,
    /// A driver distributions build as a module: a kernel whose config is unknown and that came
    /// without modules (Debian 7.0's cloud image has no linux-modules package) does not promise it.
    pub modular: bool,
}

/// Every feature's promise, in [`Feature`] order.
pub const PROMISES: &[Promise] = &[
    Promise {
        feature: Feature::EpollParams,
        name: "epoll-params",
        title: "per-epoll busy poll (EPIOCSPARAMS/EPIOCGPARAMS)",
        since: Some((6, 9)),
        kconfig: &["EPOLL", "NET_RX_BUSY_POLL"],
        patch_set: None,
        source: "18e2bf0edf4d \"eventpoll: Add epoll ioctl for epoll_params\"",
        modular: false,
    },
    Promise {
        feature: Feature::EpollBusyPollSysctl,
        name: "epoll-busy-poll-sysctl",
        title: "epoll busy polling switched on by net.core.busy_poll",
        since: Some((4, 12)),
        kconfig: &["EPOLL", "NET_RX_BUSY_POLL"],
        patch_set: None,
        source: "bf3b9f6372c4 \"epoll: Add busy poll support to epoll with socket fds.\"",
        modular: false,
    },
    Promise {
        feature: Feature::SocketBusyPoll,
        name: "socket-busy-poll",
        title: "SO_BUSY_POLL, SO_PREFER_BUSY_POLL and SO_BUSY_POLL_BUDGET",
        since: Some((5, 11)),
        kconfig: &["NET_RX_BUSY_POLL"],
        patch_set: None,
        source: "7fd3253a7de6 \"net: Introduce preferred busy-polling\", 7c951cafc0cb (SO_BUSY_POLL_BUDGET)",
        modular: false,
    },
    Promise {
        feature: Feature::NetdevNapiGet,
        name: "netdev-napi-get",
        title: "netdev netlink queue-get and napi-get",
        since: Some((6, 8)),
        kconfig: &["NET"],
        patch_set: None,
        source: "8481a249a0ea \"netdev-genl: spec: Add PID in netdev netlink YAML spec\" and the queue/NAPI series before it (6.8)",
        modular: false,
    },
    Promise {
        feature: Feature::NapiSet,
        name: "napi-set",
        title: "per-NAPI defer-hard-irqs and gro-flush-timeout (netdev napi-set)",
        since: Some((6, 13)),
        kconfig: &["NET"],
        patch_set: None,
        source: "\"netdev-genl: Support setting per-NAPI config values\" (2024-10, net-next for 6.13)",
        modular: false,
    },
    Promise {
        feature: Feature::IrqSuspend,
        name: "irq-suspend",
        title: "IRQ suspension (per-NAPI irq-suspend-timeout)",
        since: Some((6, 13)),
        kconfig: &["EPOLL", "NET_RX_BUSY_POLL"],
        patch_set: None,
        source: "5dc51ec86df6 \"net: Add napi_struct parameter irq_suspend_timeout\"",
        modular: false,
    },
    Promise {
        feature: Feature::ThreadedSysfs,
        name: "threaded-sysfs",
        title: "device-level threaded NAPI (/sys/class/net/<dev>/threaded)",
        since: Some((5, 12)),
        kconfig: &["NET", "SYSFS"],
        patch_set: None,
        source: "Documentation/ABI/testing/sysfs-class-net, /sys/class/net/<iface>/threaded: KernelVersion 5.12",
        modular: false,
    },
    Promise {
        feature: Feature::NapiThreaded,
        name: "napi-threaded",
        title: "per-NAPI threaded (netdev napi-set threaded)",
        since: Some((6, 17)),
        kconfig: &["NET"],
        patch_set: None,
        source: "\"Add support to set NAPI threaded for individual NAPI\" (2025-07) and 8e7583a4f65f \"net: define an enum for the napi threaded state\"",
        modular: false,
    },
    Promise {
        feature: Feature::ThreadedBusyPoll,
        name: "threaded-busy-poll",
        title: "threaded NAPI busy polling (napi-set threaded=busy-poll)",
        since: Some((6, 19)),
        kconfig: &["NET"],
        patch_set: None,
        source: "c18d4b190a46 \"net: Extend NAPI threaded polling to allow kthread based busy polling\"",
        modular: false,
    },
    Promise {
        feature: Feature::VirtioNapiQueues,
        name: "virtio-napi-queues",
        title: "virtio-net queues linked to their NAPIs",
        since: Some((6, 14)),
        kconfig: &["VIRTIO_NET"],
        patch_set: None,
        source: "\"virtio_net: Link queues to NAPIs\" (netif_queue_set_napi in drivers/net/virtio_net.c; Debian 6.12 lacks it, 6.16 has it)",
        modular: false,
    },
    Promise {
        feature: Feature::EpollExclusive,
        name: "epoll-exclusive",
        title: "EPOLLEXCLUSIVE",
        since: Some((4, 5)),
        kconfig: &["EPOLL"],
        patch_set: None,
        source: "df0108c5da56 \"epoll: add EPOLLEXCLUSIVE flag\"",
        modular: false,
    },
    Promise {
        feature: Feature::Userpoll,
        name: "userpoll",
        title: "EPOLL_USERPOLL (epoll_create2 and a mapped event ring)",
        since: None,
        kconfig: &["EPOLL"],
        patch_set: Some("userpoll"),
        source: "v3 \"epoll: support pollable epoll from userspace\" (2019-05-16, never merged); fixtures/patches/userpoll",
        modular: false,
    },
    Promise {
        feature: Feature::EpollRoundRobin,
        name: "epoll-round-robin",
        title: "EPOLLROUNDROBIN",
        since: None,
        kconfig: &["EPOLL"],
        patch_set: Some("roundrobin"),
        source: "\"[PATCH v2 2/2] epoll: introduce EPOLLEXCLUSIVE and EPOLLROUNDROBIN\" (2015-02, never merged); fixtures/patches/roundrobin",
        modular: false,
    },
    Promise {
        feature: Feature::EpollPolicy,
        name: "epoll-policy",
        title: "EPOLL_POLICY",
        since: None,
        kconfig: &["EPOLL"],
        patch_set: None,
        source: "Jason Baron, \"Re: [PATCH v2 2/2] epoll: introduce EPOLLEXCLUSIVE and EPOLLROUNDROBIN\" (2015-02-18): a sketch that never had an ABI",
        modular: false,
    },
    Promise {
        feature: Feature::VirtioNet,
        name: "virtio-net",
        title: "the virtio-net driver",
        since: Some((2, 6)),
        kconfig: &["VIRTIO_NET", "VIRTIO_PCI"],
        patch_set: None,
        source: "drivers/net/virtio_net.c",
        modular: true,
    },
    Promise {
        feature: Feature::Netdevsim,
        name: "netdevsim",
        title: "netdevsim with linked device pairs",
        since: Some((6, 9)),
        kconfig: &["NETDEVSIM"],
        patch_set: None,
        source: "\"netdevsim: allow two netdevsim ports to be connected\" (/sys/bus/netdevsim/link_device, 6.9)",
        modular: true,
    },
    Promise {
        feature: Feature::Evdev,
        name: "evdev",
        title: "the evdev input event interface",
        since: Some((2, 6)),
        kconfig: &["INPUT_EVDEV"],
        patch_set: None,
        source: "drivers/input/evdev.c",
        modular: true,
    },
];

impl Feature {
    /// This feature's promise.
    pub fn promise(self) -> &'static Promise {
        // Every variant has an entry (a unit test checks the table's order and completeness).
        PROMISES.iter().find(|p| p.feature == self).unwrap_or(&PROMISES[0])
    }

    pub fn name(self) -> &'static str {
        self.promise().name
    }

    /// The feature named `name` (kebab-case, as in `--expect` files).
    pub fn from_name(name: &str) -> Option<Feature> {
        PROMISES.iter().find(|p| p.name == name).map(|p| p.feature)
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Promise {
    /// `since 6.9 with CONFIG_EPOLL, CONFIG_NET_RX_BUSY_POLL`, or `with the userpoll patch set`.
    pub fn describe(&self) -> String {
        let options = self.kconfig.iter().map(|k| format!("CONFIG_{k}")).collect::<Vec<_>>().join(", ");
        match (self.since, self.patch_set) {
            (Some((a, b)), _) => format!("since {a}.{b} with {options}"),
            (None, Some(set)) => format!("with the {set} patch set"),
            (None, None) => "by no kernel (never implemented)".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_has_one_promise_with_a_unique_name() {
        for (i, p) in PROMISES.iter().enumerate() {
            assert_eq!(p.feature.promise(), p, "{}", p.name);
            assert_eq!(Feature::from_name(p.name), Some(p.feature));
            assert!(PROMISES[i + 1..].iter().all(|q| q.name != p.name && q.feature != p.feature));
        }
        // The serde name is the table's name.
        for p in PROMISES {
            assert_eq!(serde_json::to_string(&p.feature).expect("encodes"), format!("\"{}\"", p.name));
        }
    }

    #[test]
    fn describes_the_promise() {
        assert_eq!(Feature::EpollParams.promise().describe(), "since 6.9 with CONFIG_EPOLL, CONFIG_NET_RX_BUSY_POLL");
        assert_eq!(Feature::Userpoll.promise().describe(), "with the userpoll patch set");
    }
}
