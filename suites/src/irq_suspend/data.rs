//! No datagram is lost, repeated, reordered or damaged while IRQ suspension is in force: the
//! stream of busy_poll::prefer_data ([`crate::busy_poll::stream`]) through a prefer_busy_poll
//! epoll instance with defer-hard-irqs, gro-flush-timeout and irq-suspend-timeout set on the
//! flows' NAPI (napi.rst "IRQ suspension"): while the application keeps finding events the
//! queue's IRQ stays masked and only its busy polls (or the suspend timer) take packets off the
//! ring, so a packet they strand or drop is lost for good.

use super::params::{DEFER_HARD_IRQS, GRO_FLUSH_TIMEOUT_NS, IRQ_SUSPEND_TIMEOUT_NS};
use crate::busy_poll::prefer_data::stream_case;
use crate::netkit::netdev::NapiSettings;
use crate::netkit::Kind;
use crate::sys::epoll_params::{self, Support};
use pollcheck_guest::{CaseResult, Ctx};
use pollcheck_proto::Feature;

const KNOBS: NapiSettings = NapiSettings {
    defer_hard_irqs: Some(DEFER_HARD_IRQS),
    gro_flush_timeout: Some(GRO_FLUSH_TIMEOUT_NS),
    irq_suspend_timeout: Some(IRQ_SUSPEND_TIMEOUT_NS),
    threaded: None,
};

pub(super) fn data_intact(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    match epoll_params::detect() {
        Support::Present => {}
        Support::Absent(why) => return Err(ctx.absent(Feature::EpollParams, why)),
        Support::Broken(why) => ctx.setup(Err::<(), String>(why), "probe EPIOCGPARAMS on a fresh epoll fd")?,
    }
    stream_case(ctx, kind, 9420, KNOBS, "IRQs suspended")
}
