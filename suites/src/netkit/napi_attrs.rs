//! napi-get's report of a per-NAPI attribute, judged against napi-set's attribute policy: an
//! attribute is absent only when the controller says so (no napi-set in the netdev op list, or
//! no such attribute in its policy); one the policy lists and napi-get does not report is a FAIL.

use super::fixture::in_ns;
use super::genl_ctrl::AttrPolicy;
use super::netdev::{NapiAttr, Netdev};
use super::netns::NetNs;
use pollcheck_guest::{Ctx, Stop};

/// napi-set's policy of `attr` (asked in `ns`), or a Skip naming `attr`'s feature and how the
/// controller showed it absent.
pub fn settable(ctx: &mut Ctx<'_>, ns: &NetNs, attr: NapiAttr) -> Result<AttrPolicy, Stop> {
    in_ns(ctx, ns, &format!("read napi-set's policy of {}", attr.name()), move || Netdev::open()?.settable(attr))
}

/// `value`, napi-get's report of `attr` on NAPI `napi`, when it is there; otherwise a Skip when
/// napi-set's policy proves `attr` absent, and a FAIL when the policy has it.
#[track_caller]
pub fn reported<T>(ctx: &mut Ctx<'_>, ns: &NetNs, attr: NapiAttr, napi: u32, value: Option<T>) -> Result<T, Stop> {
    if let Some(v) = value {
        return Ok(v);
    }
    let policy = settable(ctx, ns, attr)?;
    ctx.assert(
        false,
        format!("napi-get of NAPI {napi} reports {}, which napi-set's attribute policy lists", attr.name()),
        format!("not reported; the policy (CTRL_CMD_GETPOLICY) has attribute {}: {policy:?}", attr.id()),
    )?;
    Err(Stop::Failed)
}
