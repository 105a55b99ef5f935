//! The per-NAPI prerequisites of prefer_busy_poll (defer-hard-irqs, gro-flush-timeout) and of IRQ
//! suspension (irq-suspend-timeout) set with netdev napi-set on one of B's NAPIs for the length of
//! a case, restored when the guard drops.

use crate::netkit::fixture::in_ns;
use crate::netkit::napi_attrs::reported;
use crate::netkit::netdev::{NapiAttr, NapiSettings, Netdev};
use crate::netkit::netns::NetNs;
use pollcheck_guest::{Ctx, Stop};

/// Restores a NAPI's defer-hard-irqs and gro-flush-timeout on drop.
#[derive(Debug)]
pub struct Tuned<'a> {
    ns: &'a NetNs,
    id: u32,
    original: NapiSettings,
}

/// Set `defer` and `gro_ns` on NAPI `id` (in `ns`). Skip when napi-set's attribute policy (or
/// the netdev op list) shows the kernel has no such per-NAPI settings; FAIL when the policy has
/// them and napi-get does not report them.
pub fn tune<'a>(ctx: &mut Ctx<'_>, ns: &'a NetNs, id: u32, defer: u32, gro_ns: u64) -> Result<Tuned<'a>, Stop> {
    let want = NapiSettings { defer_hard_irqs: Some(defer), gro_flush_timeout: Some(gro_ns), ..Default::default() };
    tune_settings(ctx, ns, id, want)
}

/// Set the attributes `want` gives on NAPI `id` (in `ns`), restoring their values on drop; Skip
/// when napi-get does not report one of them (defer-hard-irqs, gro-flush-timeout: no per-NAPI
/// settings, before 6.13; irq-suspend-timeout: no IRQ suspension).
pub fn tune_settings<'a>(ctx: &mut Ctx<'_>, ns: &'a NetNs, id: u32, want: NapiSettings) -> Result<Tuned<'a>, Stop> {
    let now = in_ns(ctx, ns, "napi-get", move || Netdev::open()?.napi_get(id))?;
    // Each wanted attribute: Skip when napi-set's policy lacks it, FAIL when the policy has it and
    // napi-get does not report it; its current value is what the guard puts back.
    let mut original = NapiSettings::default();
    if want.defer_hard_irqs.is_some() {
        original.defer_hard_irqs = Some(reported(ctx, ns, NapiAttr::DeferHardIrqs, id, now.defer_hard_irqs)?);
    }
    if want.gro_flush_timeout.is_some() {
        original.gro_flush_timeout = Some(reported(ctx, ns, NapiAttr::GroFlushTimeout, id, now.gro_flush_timeout)?);
    }
    if want.irq_suspend_timeout.is_some() {
        let ist = reported(ctx, ns, NapiAttr::IrqSuspendTimeout, id, now.irq_suspend_timeout)?;
        original.irq_suspend_timeout = Some(ist);
    }
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
