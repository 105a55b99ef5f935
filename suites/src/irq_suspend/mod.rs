//! irq_suspend: IRQ suspension (per-NAPI irq-suspend-timeout over netdev netlink with
//! defer-hard-irqs and gro-flush-timeout, an epoll context with prefer_busy_poll; 6.13+; the IRQ
//! suspension series "net: Suspend softirq when prefer_busy_poll is set" by Martin Karsten and Joe
//! Damato, 2024; Documentation/networking/napi.rst "IRQ suspension"), measured on a virtio-net
//! queue's MSI-X IRQ. Each result carries the figures it was judged on.
//!
//! virtio only: netdevsim has no hard IRQ to suspend. Its "interrupt" is an hrtimer started on
//! every peer transmit that calls napi_schedule() unconditionally, and its poll ignores
//! napi_complete_done()'s answer, so softirq polling goes on whatever the suspension state and
//! none of these observables (IRQ counts, busy-poll share, resume times) would say anything.

mod app;
mod data;
mod end;
mod end_timing;
mod engage;
mod extension;
mod lapse;
mod off;
mod params;
mod resume;
mod rig;
mod safety;
mod start;
mod traffic;
mod window;

use crate::netkit::Kind;
use pollcheck_guest::{Case, CaseBuilder, CaseResult, Ctx};
use pollcheck_proto::Feature;
use rig::Rig;
use std::time::Duration;

pub const SUITE: &str = "irq_suspend";

/// An irq_suspend case: on the virtio topology, with the NAPI knobs and the epoll context it
/// measures under.
fn case(name: &str, summary: &str, run: fn(&mut Ctx<'_>, Kind) -> CaseResult) -> CaseBuilder {
    Case::with_variants(SUITE, name, summary, &[Kind::Virtio], run)
        .features(&[Feature::IrqSuspend, Feature::NapiSet, Feature::EpollParams])
        .timeout(Duration::from_secs(60))
        // napi-set knobs on the NIC, restored by the rig's guard.
        .mutates_global()
}

pub fn cases() -> Vec<Case> {
    pollcheck_guest::collect([
        case(
            "start",
            "while epoll_wait (prefer_busy_poll) keeps returning events the queue's IRQ stays near zero and busy polling delivers the packets; plain deferral with the same traffic raises IRQs",
            start::start,
        ),
        case(
            "extension",
            "traffic sustained for 6 x irq-suspend-timeout keeps the queue's IRQ suspended in every timeout-long slice",
            extension::extension,
        ),
        case(
            "end",
            "once epoll_wait finds nothing and sleeps, a datagram raises the queue's IRQ and wakes the application about as fast as under plain deferral, long before irq-suspend-timeout",
            end::end,
        ),
        case(
            "end_timing",
            "suspension ends at the epoll_wait that finds nothing: with defer-hard-irqs 1 the IRQ is re-armed one gro-flush-timeout later, so a datagram 1.5 timeouts after the application fell asleep raises it",
            end_timing::end_timing,
        ),
        case(
            "safety_timeout",
            "an application that stops calling epoll_wait while suspended gets its IRQs back within [irq-suspend-timeout, + 100 ms]",
            safety::safety_timeout,
        ),
        case(
            "close_resumes",
            "closing the epoll fd while suspended resumes the queue's IRQs at once, not after irq-suspend-timeout",
            safety::close_resumes,
        ),
        case(
            "data_intact",
            "6000 self-checking datagrams on four flows of one NAPI, received through a prefer_busy_poll instance with irq-suspend-timeout set: all arrive once, in order per flow, intact, and busy polling delivered some",
            data::data_intact,
        ),
        case(
            "off",
            "irq-suspend-timeout 0, or prefer_busy_poll 0, suspends nothing: the queue's IRQ fires under the same traffic as under plain deferral (0.5 to 2 x its IRQs)",
            off::off,
        ),
    ])
}
