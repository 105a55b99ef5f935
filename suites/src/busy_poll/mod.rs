//! busy_poll: per-epoll busy-poll configuration (EPIOCSPARAMS/EPIOCGPARAMS, 6.9+; Joe Damato's RFC
//! "eventpoll: support busy poll per epoll instance", 2024-01).
//!
//! `params_*` cases hold the ioctl's argument contract (parity with upstream's
//! tools/testing/selftests/net/epoll_busy_poll.c); the other cases hold the behaviour, measured on
//! the test networks (`.virtio`, `.netdevsim`): which waiters spend CPU busy polling, and what
//! reaches the NAPI.

mod budget_events;
mod measure;
pub(crate) mod napi_tuning;
mod no_napi;
mod params;
pub(crate) mod prefer_data;
mod prefer_irqs;
pub(crate) mod rig;
mod scoping;
mod sock_opts;
pub(crate) mod stream;
mod sysctl_switch;
mod verdict;

use crate::netkit::Kind;
use crate::sys::epoll_params::{self, Support};
use pollcheck_guest::{Case, Ctx, Probe, Stop};
use pollcheck_proto::{Feature, ProbeAnswer};
use std::time::Duration;

pub const SUITE: &str = "busy_poll";

pub const PROBE: Probe = Probe {
    name: "epoll_params",
    feature: Feature::EpollParams,
    run: || match epoll_params::detect() {
        Support::Present => ProbeAnswer::Yes,
        Support::Absent(why) => ProbeAnswer::No(why),
        // The ioctl answered as no kernel should: a broken feature, not an absent one.
        Support::Broken(why) => ProbeAnswer::Unknown(why),
    },
};

/// busy_poll_usecs of the busy-polling instances: long enough to stand out of TCG's noise.
pub(crate) const USECS: u32 = 5000;
/// Timeout of each empty wait, three times [`USECS`]: a waiter burning the whole wait is no match.
pub(crate) const TIMEOUT_MS: i32 = 15;
/// Empty waits measured per waiter (medians are compared).
pub(crate) const ROUNDS: usize = 15;

/// Limit of each behavioural case (measured on a test network).
const BEHAVIOUR: Duration = Duration::from_secs(90);
const BOTH: &[Kind] = &[Kind::Virtio, Kind::Netdevsim];

pub fn cases() -> Vec<Case> {
    let no_napi = Case::new(
        SUITE,
        "no_napi_id",
        "an instance with busy_poll_usecs whose sockets carry no NAPI id (unix socketpair, loopback UDP) sleeps through empty waits",
        no_napi::no_napi_id,
    )
    .features(&[Feature::EpollParams]);
    let behaviour = [
        Case::with_variants(
            SUITE,
            "scoping",
            "of two epoll instances in one process with sockets on the same NAPI, only the one with busy_poll_usecs burns CPU (about busy_poll_usecs) per empty wait",
            BOTH,
            scoping::same_process,
        )
        .features(&[Feature::EpollParams]),
        Case::with_variants(
            SUITE,
            "scoping_processes",
            "a busy_poll_usecs instance in one process leaves another process's plain instance on the same NAPI sleeping",
            BOTH,
            scoping::two_processes,
        )
        .features(&[Feature::EpollParams]),
        Case::with_variants(
            SUITE,
            "sysctl_switch",
            "net.core.busy_poll > 0 makes a plain epoll instance busy poll too; at 0 only the configured one does (restored after)",
            BOTH,
            sysctl_switch::sysctl_switch,
        )
        .features(&[Feature::EpollParams, Feature::EpollBusyPollSysctl])
        // The sysctl, restored by the case's cleanup.
        .mutates_global(),
        // Per-socket busy polling: no epoll instance (CONFIG_EPOLL as every busy_poll case).
        Case::with_variants(
            SUITE,
            "so_busy_poll",
            "SO_BUSY_POLL makes an empty blocking recv() burn about that many microseconds, none without; SO_PREFER_BUSY_POLL and SO_BUSY_POLL_BUDGET are accepted",
            BOTH,
            sock_opts::so_busy_poll,
        )
        .features(&[Feature::SocketBusyPoll])
        .kconfig(&["EPOLL"]),
        Case::with_variants(
            SUITE,
            "budget_events",
            "with prefer_busy_poll and deferred IRQs, an epoll busy poll takes busy_poll_budget packets: budget 1 wakes with 1 of 8 ready events, budget 64 with 8; without prefer the softirq delivers the rest",
            &[Kind::Virtio],
            budget_events::budget_events,
        )
        .features(&[Feature::EpollParams, Feature::NapiSet])
        // The NAPI settings napi-set changes, restored by the case's guard.
        .mutates_global(),
        Case::with_variants(
            SUITE,
            "prefer_data",
            "6000 self-checking datagrams on four flows of one NAPI, received through a busy_poll_usecs + prefer_busy_poll instance with defer-hard-irqs and gro-flush-timeout set: all arrive once, in order per flow, intact, and busy polling delivered some",
            BOTH,
            prefer_data::prefer_data,
        )
        .features(&[Feature::EpollParams, Feature::NapiSet])
        .mutates_global(),
        Case::with_variants(
            SUITE,
            "prefer_irqs",
            "with defer-hard-irqs and gro-flush-timeout, back-to-back receiving through a prefer_busy_poll instance takes (almost) no hard IRQs on the queue; a plain instance's sparse traffic on the queue about one per datagram",
            &[Kind::Virtio],
            prefer_irqs::prefer_irqs,
        )
        .features(&[Feature::EpollParams, Feature::NapiSet])
        .mutates_global(),
    ];
    pollcheck_guest::collect(
        params::cases().into_iter().chain([no_napi]).chain(behaviour.into_iter().map(|c| c.timeout(BEHAVIOUR))),
    )
}

/// Skip [`Feature::EpollParams`] (with the kernel's own answer as the reason) unless the epoll
/// ioctls exist; an answer no kernel gives is a FAIL. Shared with irq_suspend's rig.
pub(crate) fn require_epoll_params(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    match epoll_params::detect() {
        Support::Present => Ok(()),
        Support::Absent(why) => Err(ctx.absent(Feature::EpollParams, why)),
        Support::Broken(why) => ctx.assert(false, "probing EPIOCGPARAMS on a fresh epoll fd", why),
    }
}
