//! The kernel's netlink errors reach the case whole: the errno and the extack (message, or the
//! offset of the attribute the kernel refused).

use crate::netkit::fixture::{in_ns, topology};
use crate::netkit::napi_attrs::{reported, settable};
use crate::netkit::netdev::{NapiAttr, NapiSettings, Netdev};
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx, Errno};

pub(super) fn napi_errors(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let ifindex = topo.b.ifindex;
    let bad = in_ns(ctx, &topo.b.ns, "napi-get of an unknown id", || Ok(Netdev::open()?.napi_get(0x7fff_fff0)))?;
    let err = ctx.setup(bad.err().ok_or("napi-get of NAPI 0x7ffffff0 succeeded"), "napi-get of an unknown id fails")?;
    ctx.log(format!("unknown id: {err}"));
    ctx.expect(
        err.errno() == Some(Errno::ENOENT),
        "napi-get of an unknown NAPI id is ENOENT",
        format!("{:?}", err.errno()),
    );
    ctx.expect(err.extack().is_some(), "the kernel's extack points at the attribute", format!("{:?}", err.extack()));
    let napis = in_ns(ctx, &topo.b.ns, "napi-get dump", move || Netdev::open()?.napis(ifindex))?;
    let napi = ctx.setup(napis.first().cloned().ok_or("the device lists no NAPI"), "find a NAPI")?;
    let id = napi.id;
    // Absent only as napi-set's policy says; the policy's range is what the kernel must enforce.
    let range = settable(ctx, &topo.b.ns, NapiAttr::DeferHardIrqs)?;
    reported(ctx, &topo.b.ns, NapiAttr::DeferHardIrqs, id, napi.defer_hard_irqs)?;
    ctx.log(format!("napi-set's policy of defer-hard-irqs: {range:?}"));
    let s = NapiSettings { defer_hard_irqs: Some(i32::MAX as u32 + 1), ..Default::default() };
    let res = in_ns(ctx, &topo.b.ns, "napi-set out of range", move || Ok(Netdev::open()?.napi_set(id, &s)))?;
    let err =
        ctx.setup(res.err().ok_or("napi-set defer-hard-irqs = S32_MAX + 1 succeeded"), "napi-set out of range fails")?;
    ctx.log(format!("out of range: {err}"));
    // The attribute's policy (max: s32-max) refuses it in nla_validate_int_range: ERANGE.
    ctx.expect(
        err.errno() == Some(Errno::ERANGE),
        "defer-hard-irqs = S32_MAX + 1 is ERANGE (policy max s32-max)",
        format!("{:?}", err.errno()),
    );
    ctx.expect(
        err.extack().is_some_and(|m| !m.is_empty()),
        "with the kernel's extack text",
        format!("{:?}", err.extack()),
    );
    Ok(())
}
