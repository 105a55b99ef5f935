//! exclusive: EPOLLEXCLUSIVE wakeups and epoll_ctl rules (4.5+), and seed 001's never-merged
//! round-robin wakeup policies (skipped, with the kernel's answer, where absent).
//!
//! `wake_*` cases count how many blocked waiters one event wakes ([`wakeups`]), the `add_*` /
//! `mod_*` cases hold epoll_ctl's EPOLLEXCLUSIVE rules ([`errors`]), the `policy_*` and
//! `roundrobin_flag` cases describe seed 001 ([`policy`]). Each `wake_*`, `add_*` and `mod_*`
//! case FAILs on at least one one-line mutant of fs/eventpoll.c, one patch set per mutant
//! (fixtures/patches/excl-m-<name>/, built as `src:7.2+excl-m-<name>`); `roundrobin_flag` FAILs on
//! `src:7.2+roundrobin+excl-m-rr-move-to-head`. The `policy_*` cases have no implementation to
//! pass or fail on: they Skip with the kernel's answer everywhere.
//!
//! Seen FAILing (src:7.2, TCG; two mutants per build where their cases are disjoint):
//!
//! | mutant (`excl-m-…`) | FAILs |
//! |---|---|
//! | in-wake-not-counted | wake_one.eventfd, wake_one.listen, wake_mixed.eventfd (6 of 6 wake) |
//! | plain-items-queued-exclusive | wake_all.eventfd, wake_all.listen, wake_mixed.eventfd (1 wakes) |
//! | mod-with-exclusive-accepted | mod_with_exclusive |
//! | mod-of-exclusive-item-accepted | mod_of_exclusive_item |
//! | oneshot-ok | add_with_oneshot |
//! | pri-ok | add_with_other_bits |
//! | out-not-ok | add_allowed_bits |
//! | epoll-target-accepted | add_epoll_target |
//! | rr-move-to-head (on roundrobin) | roundrobin_flag (waiter 0 takes all 12 events) |

mod errors;
mod policy;
mod source;
mod waiters;
mod wakeups;

use crate::sys::epoll_ctl::{self, Op, EPOLLEXCLUSIVE, EPOLLIN};
use crate::sys::wakeup_policy::{self, Support};
use pollcheck_guest::{Case, CaseResult, Ctx, Probe, Stop};
use pollcheck_proto::{CaseId, CaseMeta, Requires};
use std::os::fd::AsFd;

pub const SUITE: &str = "exclusive";

/// Kconfig symbols every exclusive case needs.
pub const KCONFIG: &[&str] = &["EPOLL", "EVENTFD"];
/// Extra symbols of the listening-socket variants.
const KCONFIG_NET: &[&str] = &["NET", "INET"];

type CaseFn = fn(&mut Ctx<'_>) -> CaseResult;

/// One row of the case table.
struct Spec {
    name: &'static str,
    variant: Option<&'static str>,
    /// Needs INET (the loopback listener variants).
    net: bool,
    timeout_ms: u64,
    summary: &'static str,
    run: CaseFn,
}

const fn spec(
    name: &'static str,
    variant: Option<&'static str>,
    net: bool,
    timeout_ms: u64,
    summary: &'static str,
    run: CaseFn,
) -> Spec {
    Spec { name, variant, net, timeout_ms, summary, run }
}

const CASES: &[Spec] = &[
    spec(
        "wake_one",
        Some("eventfd"),
        false,
        30_000,
        "one eventfd write wakes exactly 1 of 6 EPOLLEXCLUSIVE waiters (5 rounds)",
        wakeups::wake_one_eventfd,
    ),
    spec(
        "wake_one",
        Some("listen"),
        true,
        30_000,
        "one connection to a loopback listener wakes exactly 1 of 6 EPOLLEXCLUSIVE waiters (5 rounds)",
        wakeups::wake_one_listen,
    ),
    spec(
        "wake_all",
        Some("eventfd"),
        false,
        30_000,
        "without EPOLLEXCLUSIVE one eventfd write wakes all 6 waiters (5 rounds)",
        wakeups::wake_all_eventfd,
    ),
    spec(
        "wake_all",
        Some("listen"),
        true,
        30_000,
        "without EPOLLEXCLUSIVE one connection wakes all 6 listener waiters (5 rounds)",
        wakeups::wake_all_listen,
    ),
    spec(
        "wake_mixed",
        Some("eventfd"),
        false,
        30_000,
        "3 waiters without and 3 with EPOLLEXCLUSIVE: one eventfd write wakes exactly 4 (5 rounds)",
        wakeups::wake_mixed_eventfd,
    ),
    spec(
        "mod_with_exclusive",
        None,
        false,
        10_000,
        "EPOLL_CTL_MOD with EPOLLEXCLUSIVE is EINVAL (registered or not)",
        errors::mod_with_exclusive,
    ),
    spec(
        "mod_of_exclusive_item",
        None,
        false,
        10_000,
        "EPOLL_CTL_MOD of an item added with EPOLLEXCLUSIVE is EINVAL; DEL works",
        errors::mod_of_exclusive_item,
    ),
    spec(
        "add_with_oneshot",
        None,
        false,
        10_000,
        "EPOLL_CTL_ADD with EPOLLEXCLUSIVE|EPOLLONESHOT is EINVAL",
        errors::add_with_oneshot,
    ),
    spec(
        "add_with_other_bits",
        None,
        false,
        10_000,
        "EPOLLEXCLUSIVE with EPOLLPRI, RDNORM, RDBAND, WRNORM, WRBAND, MSG or RDHUP is EINVAL",
        errors::add_with_other_bits,
    ),
    spec(
        "add_allowed_bits",
        None,
        false,
        10_000,
        "EPOLLEXCLUSIVE with IN, OUT, ERR, HUP, ET, WAKEUP is accepted",
        errors::add_allowed_bits,
    ),
    spec(
        "add_epoll_target",
        None,
        false,
        10_000,
        "EPOLL_CTL_ADD of an epoll fd with EPOLLEXCLUSIVE is EINVAL",
        errors::add_epoll_target,
    ),
    spec(
        "policy_round_robin",
        None,
        false,
        60_000,
        "seed 001: waiters behind an EPOLL_POLICY epoll are woken one per event, in turn",
        policy::policy_round_robin,
    ),
    spec(
        "policy_process_local",
        None,
        false,
        10_000,
        "seed 001: another process cannot attach an EPOLL_POLICY epoll",
        policy::policy_process_local,
    ),
    spec(
        "policy_single_source",
        None,
        false,
        10_000,
        "seed 001: an EPOLL_POLICY epoll takes at most one wakeup source",
        policy::policy_single_source,
    ),
    spec(
        "roundrobin_flag",
        None,
        false,
        60_000,
        "seed 001's EPOLLROUNDROBIN: exclusive waiters are woken one per event, in turn",
        policy::roundrobin_flag,
    ),
];

pub const PROBES: &[Probe] = &[
    Probe { name: "epoll_exclusive", run: probe_exclusive },
    Probe { name: "epoll_policy", run: || describe(wakeup_policy::detect_policy()) },
    Probe { name: "epoll_roundrobin", run: || describe(wakeup_policy::detect_roundrobin()) },
];

pub fn cases() -> Vec<Case> {
    CASES
        .iter()
        .map(|c| {
            let id = CaseId::new(SUITE, c.name);
            let extra: &[&str] = if c.net { KCONFIG_NET } else { &[] };
            let kconfig = KCONFIG.iter().chain(extra).map(|s| (*s).to_owned()).collect();
            Case {
                meta: CaseMeta {
                    id: match c.variant {
                        Some(v) => id.with_variant(v),
                        None => id,
                    },
                    summary: c.summary.to_owned(),
                    requires: Requires { kconfig, ..Requires::default() },
                    timeout_ms: c.timeout_ms,
                    mutates_global: false,
                },
                run: c.run,
            }
        })
        .collect()
}

fn describe(s: Support) -> String {
    match s {
        Support::Present => "yes".into(),
        Support::Absent(why) | Support::Broken(why) => format!("no: {why}"),
    }
}

/// Skip (with the kernel's answer) unless EPOLL_CTL_ADD accepts EPOLLIN|EPOLLEXCLUSIVE.
fn require_exclusive(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    match probe_exclusive().strip_prefix("no: ") {
        Some(why) => Err(ctx.skip(why.to_owned())),
        None => Ok(()),
    }
}

/// EPOLLEXCLUSIVE predates every kernel pollcheck targets (4.5); the probe says whether
/// EPOLL_CTL_ADD with EPOLLIN|EPOLLEXCLUSIVE is accepted. (A pre-4.5 kernel ignored the bit and
/// would say yes too: such kernels are out of scope.)
fn probe_exclusive() -> String {
    let (ep, efd) = match (epoll_ctl::epoll(), epoll_ctl::eventfd()) {
        (Ok(ep), Ok(efd)) => (ep, efd),
        (Err(e), _) | (_, Err(e)) => return format!("no: failed to create an epoll fd and an eventfd: {e}"),
    };
    match epoll_ctl::ctl(ep.as_fd(), Op::Add, efd.as_fd(), EPOLLIN | EPOLLEXCLUSIVE, 0) {
        Ok(()) => "yes".into(),
        Err(e) => format!("no: EPOLL_CTL_ADD with EPOLLIN|EPOLLEXCLUSIVE fails with {e:?}"),
    }
}
