//! irq_suspend: IRQ suspension (per-NAPI irq-suspend-timeout over netdev netlink with
//! defer-hard-irqs and gro-flush-timeout, an epoll context with prefer_busy_poll; 6.13+; seed
//! 003, Documentation/networking/napi.rst "IRQ suspension"), measured on a virtio-net queue's
//! MSI-X IRQ. Each result carries the figures it was judged on.
//!
//! virtio only: netdevsim has no hard IRQ to suspend. Its "interrupt" is an hrtimer started on
//! every peer transmit that calls napi_schedule() unconditionally, and its poll ignores
//! napi_complete_done()'s answer, so softirq polling goes on whatever the suspension state and
//! none of these observables (IRQ counts, busy-poll share, resume times) would say anything.

mod app;
mod end;
mod end_timing;
mod extension;
mod off;
mod params;
mod resume;
mod rig;
mod safety;
mod start;
mod traffic;
mod window;

use crate::netkit::Kind;
use pollcheck_guest::{Case, CaseResult, Ctx};
use rig::Rig;

pub const SUITE: &str = "irq_suspend";

type CaseFn = fn(&mut Ctx<'_>) -> CaseResult;

/// (name, summary, function); every case runs on the virtio topology.
const CASES: &[(&str, &str, CaseFn)] = &[
    (
        "start",
        "while epoll_wait (prefer_busy_poll) keeps returning events the queue's IRQ stays near zero and busy polling delivers the packets; plain deferral with the same traffic raises IRQs",
        start::start,
    ),
    (
        "extension",
        "traffic sustained for 16 x irq-suspend-timeout keeps the queue's IRQ suspended in every timeout-long slice",
        extension::extension,
    ),
    (
        "end",
        "once epoll_wait finds nothing and sleeps, a datagram raises the queue's IRQ and wakes the application long before irq-suspend-timeout",
        end::end,
    ),
    (
        "end_timing",
        "suspension ends at the epoll_wait that finds nothing: with defer-hard-irqs 1 the IRQ is re-armed one gro-flush-timeout later, so a datagram 1.5 timeouts after the application fell asleep raises it",
        end_timing::end_timing,
    ),
    (
        "safety_timeout",
        "an application that stops calling epoll_wait while suspended gets its IRQs back within [irq-suspend-timeout, + 100 ms]",
        safety::safety_timeout,
    ),
    (
        "close_resumes",
        "closing the epoll fd while suspended resumes the queue's IRQs at once, not after irq-suspend-timeout",
        safety::close_resumes,
    ),
    (
        "off",
        "irq-suspend-timeout 0, or prefer_busy_poll 0, suspends nothing: the queue's IRQ keeps firing under the same traffic",
        off::off,
    ),
];

pub fn cases() -> Vec<Case> {
    CASES
        .iter()
        .map(|&(name, summary, run)| {
            let mut meta = crate::net::meta(SUITE, name, summary, Kind::Virtio);
            meta.timeout_ms = 60_000;
            // napi-set knobs on the NIC, restored by the rig's guard.
            meta.mutates_global = true;
            Case { meta, run }
        })
        .collect()
}
