//! The per-NAPI prerequisites of prefer_busy_poll (defer-hard-irqs, gro-flush-timeout) and of IRQ
//! suspension (irq-suspend-timeout) set with netdev napi-set on one of B's NAPIs for the length of
//! a case, restored when the guard drops.

use crate::netkit::fixture::in_ns;
use crate::netkit::netdev::{NapiSettings, Netdev};
use crate::netkit::netns::NetNs;
use pollcheck_guest::{Ctx, Stop};
use pollcheck_proto::Feature;

/// Restores a NAPI's defer-hard-irqs and gro-flush-timeout on drop.
#[derive(Debug)]
pub struct Tuned<'a> {
    ns: &'a NetNs,
    id: u32,
    original: NapiSettings,
}

/// Set `defer` and `gro_ns` on NAPI `id` (in `ns`); Skip when napi-get reports neither (the
/// kernel predates per-NAPI settings).
pub fn tune<'a>(ctx: &mut Ctx<'_>, ns: &'a NetNs, id: u32, defer: u32, gro_ns: u64) -> Result<Tuned<'a>, Stop> {
    let want = NapiSettings { defer_hard_irqs: Some(defer), gro_flush_timeout: Some(gro_ns), ..Default::default() };
    tune_settings(ctx, ns, id, want)
}

/// Set the attributes `want` gives on NAPI `id` (in `ns`), restoring their values on drop; Skip
/// when napi-get does not report one of them (defer-hard-irqs, gro-flush-timeout: no per-NAPI
/// settings, before 6.13; irq-suspend-timeout: no IRQ suspension).
pub fn tune_settings<'a>(ctx: &mut Ctx<'_>, ns: &'a NetNs, id: u32, want: NapiSettings) -> Result<Tuned<'a>, Stop> {
    let now = in_ns(ctx, ns, "napi-get", move || Netdev::open()?.napi_get(id))?;
    let lacks = |asked: bool, has: bool| asked && !has;
    if lacks(want.defer_hard_irqs.is_some(), now.defer_hard_irqs.is_some())
        || lacks(want.gro_flush_timeout.is_some(), now.gro_flush_timeout.is_some())
    {
        return Err(ctx.absent(
            Feature::NapiSet,
            format!(
                "napi-get of NAPI {id} reports no defer-hard-irqs / gro-flush-timeout: no per-NAPI settings (before 6.13)"
            ),
        ));
    }
    if lacks(want.irq_suspend_timeout.is_some(), now.irq_suspend_timeout.is_some()) {
        return Err(ctx.absent(
            Feature::IrqSuspend,
            format!("napi-get of NAPI {id} reports no irq-suspend-timeout: no IRQ suspension (6.13+)"),
        ));
    }
    let original = NapiSettings {
        defer_hard_irqs: want.defer_hard_irqs.and(now.defer_hard_irqs),
        gro_flush_timeout: want.gro_flush_timeout.and(now.gro_flush_timeout),
        irq_suspend_timeout: want.irq_suspend_timeout.and(now.irq_suspend_timeout),
        threaded: None,
    };
    let set = want.clone();
    in_ns(ctx, ns, &format!("napi-set {want}"), move || Netdev::open()?.napi_set(id, &set))?;
    ctx.log(format!("NAPI {id}: {original} -> {want}"));
    Ok(Tuned { ns, id, original })
}

impl Drop for Tuned<'_> {
    fn drop(&mut self) {
        let (id, s) = (self.id, self.original.clone());
        let _ = self.ns.try_run(move || Netdev::open()?.napi_set(id, &s));
    }
}
