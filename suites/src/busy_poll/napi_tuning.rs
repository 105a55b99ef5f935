//! The per-NAPI prerequisites of prefer_busy_poll (defer-hard-irqs, gro-flush-timeout) set with
//! netdev napi-set on one of B's NAPIs for the length of a case, restored when the guard drops.

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
    let now = in_ns(ctx, ns, "napi-get", move || Netdev::open()?.napi_get(id))?;
    let d0 = reported(ctx, ns, NapiAttr::DeferHardIrqs, id, now.defer_hard_irqs)?;
    let g0 = reported(ctx, ns, NapiAttr::GroFlushTimeout, id, now.gro_flush_timeout)?;
    let want = NapiSettings { defer_hard_irqs: Some(defer), gro_flush_timeout: Some(gro_ns), ..Default::default() };
    in_ns(ctx, ns, "napi-set defer-hard-irqs and gro-flush-timeout", move || Netdev::open()?.napi_set(id, &want))?;
    ctx.log(format!("NAPI {id}: defer-hard-irqs {d0} -> {defer}, gro-flush-timeout {g0} -> {gro_ns} ns"));
    let original = NapiSettings { defer_hard_irqs: Some(d0), gro_flush_timeout: Some(g0), ..Default::default() };
    Ok(Tuned { ns, id, original })
}

impl Drop for Tuned<'_> {
    fn drop(&mut self) {
        let (id, s) = (self.id, self.original.clone());
        let _ = self.ns.try_run(move || Netdev::open()?.napi_set(id, &s));
    }
}
