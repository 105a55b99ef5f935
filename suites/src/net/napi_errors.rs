//! The kernel's netlink errors reach the case whole: the errno and the extack (message, or the
//! offset of the attribute the kernel refused). napi-get of an unknown id is ENOENT; napi-set
//! outside an attribute's policy is ERANGE; napi-set without CAP_NET_ADMIN is EPERM whatever it
//! asks for (the op is GENL_ADMIN_PERM, net/core/netdev-genl-gen.c:230, which
//! genl_family_rcv_msg checks at net/netlink/genetlink.c:1182, before it parses a single
//! attribute) and changes nothing.

use crate::netkit::fixture::{in_ns, topology};
use crate::netkit::napi_attrs::{reported, settable};
use crate::netkit::netdev::{NapiAttr, NapiSettings, Netdev};
use crate::netkit::netns::NetNs;
use crate::netkit::{Kind, NetError};
use caps::Capability;
use pollcheck_guest::{without_capability, CaseResult, Ctx, Errno, Stop};

/// Puts a NAPI's defer-hard-irqs back when dropped (a kernel that wrongly accepts one of the
/// refused requests below would otherwise leave it changed for the cases after this one).
struct RestoreDefer<'a> {
    ns: &'a NetNs,
    id: u32,
    value: u32,
}

impl Drop for RestoreDefer<'_> {
    fn drop(&mut self) {
        let (id, s) = (self.id, NapiSettings { defer_hard_irqs: Some(self.value), ..Default::default() });
        let _ = self.ns.try_run(move || Netdev::open()?.napi_set(id, &s));
    }
}

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
    let original = reported(ctx, &topo.b.ns, NapiAttr::DeferHardIrqs, id, napi.defer_hard_irqs)?;
    ctx.log(format!("napi-set's policy of defer-hard-irqs: {range:?}"));
    let _restore = RestoreDefer { ns: &topo.b.ns, id, value: original };
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
    without_admin(ctx, &topo.b.ns, id, original)
}

/// napi-set from a thread without CAP_NET_ADMIN (its socket opened without it too): a valid
/// value and an out-of-range one are both EPERM, and the NAPI keeps its defer-hard-irqs.
fn without_admin(ctx: &mut Ctx<'_>, ns: &NetNs, id: u32, original: u32) -> Result<(), Stop> {
    let valid = original.wrapping_add(3) % 1000;
    for (value, what) in [
        (valid, format!("a valid defer-hard-irqs ({valid})")),
        (i32::MAX as u32 + 1, "defer-hard-irqs = S32_MAX + 1".into()),
    ] {
        let s = NapiSettings { defer_hard_irqs: Some(value), ..Default::default() };
        let res = in_ns(ctx, ns, "napi-set without CAP_NET_ADMIN", move || {
            Ok(without_capability(Capability::CAP_NET_ADMIN, || Netdev::open().and_then(|nd| nd.napi_set(id, &s))))
        })?;
        let res: Result<(), NetError> = ctx.setup(res, "drop CAP_NET_ADMIN from the effective set")?;
        ctx.log(format!("without CAP_NET_ADMIN, {what}: {res:?}"));
        let errno = res.as_ref().err().and_then(NetError::errno);
        ctx.expect(
            errno == Some(Errno::EPERM),
            format!(
                "napi-set of {what} without CAP_NET_ADMIN is EPERM (GENL_ADMIN_PERM, checked before the attributes)"
            ),
            format!("{res:?}"),
        );
        let now = in_ns(ctx, ns, "napi-get", move || Netdev::open()?.napi_get(id))?;
        ctx.expect(
            now.defer_hard_irqs == Some(original),
            format!("the refused napi-set left NAPI {id}'s defer-hard-irqs at {original}"),
            format!("{:?}", now.defer_hard_irqs),
        );
    }
    Ok(())
}
