//! exclusive: EPOLLEXCLUSIVE wakeups and epoll_ctl rules (4.5+), and the never-merged round-robin
//! wakeup policies of Jason Baron's reply "Re: [PATCH v2 2/2] epoll: introduce EPOLLEXCLUSIVE and
//! EPOLLROUNDROBIN" (2015-02-18; skipped, with the kernel's answer, where absent).
//!
//! `wake_*` cases count how many blocked waiters one event wakes ([`wakeups`]), the `add_*` /
//! `mod_*` cases hold epoll_ctl's EPOLLEXCLUSIVE rules ([`errors`]), the `policy_*` and
//! `roundrobin_flag` cases describe that reply ([`policy`]). Each `wake_*`, `add_*` and `mod_*`
//! case FAILs on at least one one-line mutant of fs/eventpoll.c, one patch set per mutant
//! (fixtures/patches/excl-m-<name>/, built as `src:7.2+excl-m-<name>`); `roundrobin_flag` FAILs on
//! `src:7.2+roundrobin+excl-m-rr-move-to-head`. The `policy_*` cases have no implementation to
//! pass or fail on: they Skip with the kernel's answer everywhere.
//!
//! Which case kills each mutant, with the failing observation, is in the generated table of
//! fixtures/patches/README.md (`pollcheck mutants excl-m-`).

mod directed;
mod errors;
mod evdev;
mod policy;
mod source;
mod waiters;
mod wakeups;

use crate::sys::epoll_ctl::{self, Op, EPOLLEXCLUSIVE, EPOLLIN};
use crate::sys::wakeup_policy::{self, Support};
use directed::Directed;
use nix::errno::Errno;
use pollcheck_guest::{Case, CaseBuilder, CaseResult, Ctx, Probe, Stop};
use pollcheck_proto::{Feature, ProbeAnswer};
use source::Source;
use std::os::fd::AsFd;
use std::time::Duration;

pub const SUITE: &str = "exclusive";

/// A case without variants checking `feature`; every exclusive case makes eventfds.
fn case(name: &str, feature: Feature, summary: &str, run: fn(&mut Ctx<'_>) -> CaseResult) -> CaseBuilder {
    Case::new(SUITE, name, summary, run).features(&[feature]).kconfig(&["EVENTFD"])
}

/// A `wake_*` case on the sources given.
fn wake(name: &str, sources: &[Source], summary: &str, run: fn(&mut Ctx<'_>, Source) -> CaseResult) -> CaseBuilder {
    Case::with_variants(SUITE, name, summary, sources, run)
        .features(&[Feature::EpollExclusive])
        .kconfig(&["EVENTFD"])
        .timeout(Duration::from_secs(30))
}

pub fn cases() -> Vec<Case> {
    use Feature::{EpollExclusive, EpollPolicy, EpollRoundRobin};
    pollcheck_guest::collect([
        wake(
            "wake_one",
            &[Source::Eventfd],
            "one eventfd write wakes exactly 1 of 6 EPOLLEXCLUSIVE waiters (5 rounds)",
            wakeups::wake_one,
        ),
        wake(
            "wake_one",
            &[Source::Listen],
            "one connection to a loopback listener wakes exactly 1 of 6 EPOLLEXCLUSIVE waiters (5 rounds)",
            wakeups::wake_one,
        ),
        wake(
            "wake_all",
            &[Source::Eventfd],
            "without EPOLLEXCLUSIVE one eventfd write wakes all 6 waiters (5 rounds)",
            wakeups::wake_all,
        ),
        wake(
            "wake_all",
            &[Source::Listen],
            "without EPOLLEXCLUSIVE one connection wakes all 6 listener waiters (5 rounds)",
            wakeups::wake_all,
        ),
        wake(
            "wake_mixed",
            &[Source::Eventfd],
            "3 waiters without and 3 with EPOLLEXCLUSIVE: one eventfd write wakes exactly 4 (5 rounds)",
            wakeups::wake_mixed,
        ),
        Case::with_variants(
            SUITE,
            "wake_one_out",
            "one EPOLLOUT wakeup (a read of a full eventfd, a page read from a full pipe) wakes exactly 1 of 6 waiters registered EPOLLOUT|EPOLLEXCLUSIVE (5 rounds)",
            &[Directed::OutEventfd, Directed::OutPipe],
            wakeups::wake_one_out,
        )
        .features(&[Feature::EpollExclusive])
        .kconfig(&["EVENTFD"])
        .timeout(Duration::from_secs(30)),
        Case::with_variants(
            SUITE,
            "wake_one_inout",
            "one EPOLLIN wakeup (a write into an empty pipe, a byte into a unix socket that cannot write) wakes exactly 1 of 6 waiters registered EPOLLIN|EPOLLOUT|EPOLLEXCLUSIVE (5 rounds)",
            &[Directed::InOutPipe, Directed::InOutUnix],
            wakeups::wake_one_inout,
        )
        .features(&[Feature::EpollExclusive])
        .kconfig(&["EVENTFD"])
        .timeout(Duration::from_secs(30)),
        Case::new(
            SUITE,
            "wake_all_inout_key",
            "one input packet on an evdev node, whose wakeup key carries EPOLLIN and EPOLLOUT, wakes all 6 waiters registered EPOLLIN|EPOLLEXCLUSIVE (5 rounds)",
            wakeups::wake_all_inout_key,
        )
        // Evdev names the rig: a kernel built without it (our tinyconfig build) Skips, not "lost".
        .features(&[Feature::EpollExclusive, Feature::Evdev])
        .kconfig(&["EVENTFD"])
        .modules(&["evdev"])
        .timeout(Duration::from_secs(30)),
        case(
            "mod_with_exclusive",
            EpollExclusive,
            "EPOLL_CTL_MOD with EPOLLEXCLUSIVE is EINVAL (registered or not)",
            errors::mod_with_exclusive,
        ),
        case(
            "mod_of_exclusive_item",
            EpollExclusive,
            "EPOLL_CTL_MOD of an item added with EPOLLEXCLUSIVE is EINVAL; DEL works",
            errors::mod_of_exclusive_item,
        ),
        case(
            "add_with_oneshot",
            EpollExclusive,
            "EPOLL_CTL_ADD with EPOLLEXCLUSIVE|EPOLLONESHOT is EINVAL",
            errors::add_with_oneshot,
        ),
        case(
            "add_with_other_bits",
            EpollExclusive,
            "EPOLLEXCLUSIVE with EPOLLPRI, RDNORM, RDBAND, WRNORM, WRBAND, MSG or RDHUP is EINVAL",
            errors::add_with_other_bits,
        ),
        case(
            "add_allowed_bits",
            EpollExclusive,
            "EPOLLEXCLUSIVE with IN, OUT, ERR, HUP, ET, WAKEUP is accepted",
            errors::add_allowed_bits,
        ),
        case(
            "add_epoll_target",
            EpollExclusive,
            "EPOLL_CTL_ADD of an epoll fd with EPOLLEXCLUSIVE is EINVAL",
            errors::add_epoll_target,
        ),
        // These summaries name Jason Baron's 2015 reply by an older label, kept as case lists
        // and reports print them.
        case(
            "policy_round_robin",
            EpollPolicy,
            "the 2015 EPOLL_POLICY sketch: waiters behind an EPOLL_POLICY epoll are woken one per event, in turn",
            policy::policy_round_robin,
        )
        .timeout(Duration::from_secs(60)),
        case(
            "policy_process_local",
            EpollPolicy,
            "the 2015 EPOLL_POLICY sketch: another process cannot attach an EPOLL_POLICY epoll",
            policy::policy_process_local,
        ),
        case(
            "policy_single_source",
            EpollPolicy,
            "the 2015 EPOLL_POLICY sketch: an EPOLL_POLICY epoll takes at most one wakeup source",
            policy::policy_single_source,
        ),
        case(
            "roundrobin_flag",
            EpollRoundRobin,
            "the 2015 EPOLLROUNDROBIN patch: exclusive waiters are woken one per event, in turn",
            policy::roundrobin_flag,
        )
        .timeout(Duration::from_secs(60)),
    ])
}

pub const PROBES: &[Probe] = &[
    Probe { name: "epoll_exclusive", feature: Feature::EpollExclusive, run: probe_exclusive },
    Probe { name: "epoll_policy", feature: Feature::EpollPolicy, run: || describe(wakeup_policy::detect_policy()) },
    Probe {
        name: "epoll_roundrobin",
        feature: Feature::EpollRoundRobin,
        run: || describe(wakeup_policy::detect_roundrobin()),
    },
];

fn describe(s: Support) -> ProbeAnswer {
    match s {
        Support::Present => ProbeAnswer::Yes,
        Support::Absent(why) => ProbeAnswer::No(why),
        // The probe could not even ask: that says nothing about the feature.
        Support::Broken(why) => ProbeAnswer::Unknown(why),
    }
}

/// EPOLL_CTL_ADD of an eventfd with EPOLLIN|EPOLLEXCLUSIVE must be accepted: a refusal is a
/// FAIL, never a Skip (see [`exclusive_add`]: no kernel without the flag refuses it).
fn require_exclusive(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    match exclusive_add() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => ctx.assert(
            false,
            "EPOLL_CTL_ADD of an eventfd with EPOLLIN|EPOLLEXCLUSIVE is accepted (as by every kernel: 4.5+ takes \
             the flag, older ones ignored the bit)",
            format!("{e:?}"),
        ),
        Err(e) => ctx.setup(Err(e), "create an epoll fd and an eventfd"),
    }
}

/// EPOLL_CTL_ADD of an eventfd with EPOLLIN|EPOLLEXCLUSIVE: Err when the fds could not be made,
/// Ok(the ADD's answer) otherwise.
///
/// No answer proves EPOLLEXCLUSIVE absent. Since df0108c5da56 "epoll: add EPOLLEXCLUSIVE flag"
/// (4.5) the ADD is accepted (IN is in EPOLLEXCLUSIVE_OK_BITS, an eventfd is no epoll file:
/// do_epoll_ctl, fs/eventpoll.c); before 4.5 epoll_ctl did not check the event bits and stored
/// the unknown one, so it was accepted too. A refusal (EINVAL, say) is a broken kernel.
fn exclusive_add() -> Result<Result<(), Errno>, Errno> {
    let ep = epoll_ctl::epoll()?;
    let efd = epoll_ctl::eventfd()?;
    Ok(epoll_ctl::ctl(ep.as_fd(), Op::Add, efd.as_fd(), EPOLLIN | EPOLLEXCLUSIVE, 0))
}

/// The probe: yes when the ADD is accepted; a refusal is Unknown (a broken kernel, which the cases
/// FAIL on), never No.
fn probe_exclusive() -> ProbeAnswer {
    match exclusive_add() {
        Ok(Ok(())) => ProbeAnswer::Yes,
        Ok(Err(e)) => ProbeAnswer::Unknown(format!(
            "EPOLL_CTL_ADD with EPOLLIN|EPOLLEXCLUSIVE answered {e:?}, which no kernel gives (before 4.5 the bit \
             was ignored): broken, not absent"
        )),
        Err(e) => ProbeAnswer::Unknown(format!("failed to create an epoll fd and an eventfd: {e}")),
    }
}
