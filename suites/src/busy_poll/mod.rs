//! busy_poll: per-epoll busy-poll configuration (EPIOCSPARAMS/EPIOCGPARAMS, seed 000, 6.9+).
//!
//! `params_*` cases hold the ioctl's argument contract (parity with upstream's
//! tools/testing/selftests/net/epoll_busy_poll.c); the other cases hold the behaviour, measured on
//! the test networks (`.virtio`, `.netdevsim`): which waiters spend CPU busy polling, and what
//! reaches the NAPI.

mod budget_events;
mod measure;
mod napi_tuning;
mod no_napi;
mod params;
mod prefer_irqs;
mod rig;
mod scoping;
mod sock_opts;
mod sysctl_switch;
mod verdict;

use crate::netkit::Kind;
use crate::sys::epoll_params::{self, Support};
use pollcheck_guest::{Case, CaseResult, Ctx, Probe, Stop};
use pollcheck_proto::{CaseId, CaseMeta, Requires};

pub const SUITE: &str = "busy_poll";

/// Kconfig symbols every busy_poll case needs.
pub const KCONFIG: &[&str] = &["EPOLL", "NET_RX_BUSY_POLL"];

pub const PROBE: Probe = Probe {
    name: "epoll_params",
    run: || match epoll_params::detect() {
        Support::Present => "yes".into(),
        Support::Absent(why) | Support::Broken(why) => format!("no: {why}"),
    },
};

/// busy_poll_usecs of the busy-polling instances: long enough to stand out of TCG's noise.
pub(crate) const USECS: u32 = 5000;
/// Timeout of each empty wait, three times [`USECS`]: a waiter burning the whole wait is no match.
pub(crate) const TIMEOUT_MS: i32 = 15;
/// Empty waits measured per waiter (medians are compared).
pub(crate) const ROUNDS: usize = 15;

type CaseFn = fn(&mut Ctx<'_>) -> CaseResult;

/// (name, summary, topologies, function) of the behavioural cases.
const BEHAVIOUR: &[(&str, &str, &[Kind], CaseFn)] = &[
    (
        "scoping",
        "of two epoll instances in one process with sockets on the same NAPI, only the one with busy_poll_usecs burns CPU (about busy_poll_usecs) per empty wait",
        &[Kind::Virtio, Kind::Netdevsim],
        scoping::same_process,
    ),
    (
        "scoping_processes",
        "a busy_poll_usecs instance in one process leaves another process's plain instance on the same NAPI sleeping",
        &[Kind::Virtio, Kind::Netdevsim],
        scoping::two_processes,
    ),
    (
        "sysctl_switch",
        "net.core.busy_poll > 0 makes a plain epoll instance busy poll too; at 0 only the configured one does (restored after)",
        &[Kind::Virtio, Kind::Netdevsim],
        sysctl_switch::sysctl_switch,
    ),
    (
        "so_busy_poll",
        "SO_BUSY_POLL makes an empty blocking recv() burn about that many microseconds, none without; SO_PREFER_BUSY_POLL and SO_BUSY_POLL_BUDGET are accepted",
        &[Kind::Virtio, Kind::Netdevsim],
        sock_opts::so_busy_poll,
    ),
    (
        "budget_events",
        "with prefer_busy_poll and deferred IRQs, an epoll busy poll takes busy_poll_budget packets: budget 1 wakes with 1 of 8 ready events, budget 64 with 8; without prefer the softirq delivers the rest",
        &[Kind::Virtio],
        budget_events::budget_events,
    ),
    (
        "prefer_irqs",
        "with defer-hard-irqs and gro-flush-timeout, back-to-back receiving through a prefer_busy_poll instance takes (almost) no hard IRQs on the queue; a plain instance's sparse traffic on the queue about one per datagram",
        &[Kind::Virtio],
        prefer_irqs::prefer_irqs,
    ),
];

pub fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = params::CASES.iter().map(|&(name, summary, run)| case(name, summary, run)).collect();
    out.push(case(
        "no_napi_id",
        "an instance with busy_poll_usecs whose sockets carry no NAPI id (unix socketpair, loopback UDP) sleeps through empty waits",
        no_napi::no_napi_id,
    ));
    for &(name, summary, kinds, run) in BEHAVIOUR {
        for &kind in kinds {
            let mut meta = crate::net::meta(SUITE, name, summary, kind);
            meta.requires.kconfig.push("EPOLL".to_owned());
            meta.timeout_ms = 90_000;
            // The sysctl, or the NAPI settings napi-set changes (restored by the case's guard).
            meta.mutates_global = matches!(name, "sysctl_switch" | "budget_events" | "prefer_irqs");
            out.push(Case { meta, run });
        }
    }
    out
}

fn case(name: &str, summary: &str, run: fn(&mut Ctx<'_>) -> CaseResult) -> Case {
    Case {
        meta: CaseMeta {
            id: CaseId::new(SUITE, name),
            summary: summary.to_owned(),
            requires: Requires { kconfig: KCONFIG.iter().map(|s| (*s).to_owned()).collect(), ..Requires::default() },
            timeout_ms: 10_000,
            mutates_global: false,
        },
        run,
    }
}

/// Skip (with the kernel's own answer as the reason) unless the epoll ioctls exist.
pub(crate) fn require_epoll_params(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    match epoll_params::detect() {
        Support::Present => Ok(()),
        Support::Absent(why) => Err(ctx.skip(why)),
        Support::Broken(why) => ctx.assert(false, "probing EPIOCGPARAMS on a fresh epoll fd", why),
    }
}
