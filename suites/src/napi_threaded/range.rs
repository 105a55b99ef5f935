//! napi-set refuses a `threaded` mode the kernel doesn't define: the attribute's policy is
//! NLA_POLICY_MAX(NLA_U32, 2) in linux-source-7.2 (net/core/netdev-genl-gen.c:121, busy-poll
//! being 2; 6.17 and 6.18, without busy-poll, have max 1), which nla_validate_range_unsigned
//! answers with ERANGE and the extack "integer out of range" (lib/nlattr.c:318) before the op
//! runs. Which maximum this kernel has is read from its own answer to 2 (accepted: max 2;
//! ERANGE: max 1), and every value above it must be refused, leaving the NAPI as it was.

use super::mode::{self, get, try_set};
use crate::netkit::fixture::topology;
use crate::netkit::netdev::Threaded;
use crate::netkit::{Kind, NetError};
use nix::errno::Errno;
use pollcheck_guest::{CaseResult, Ctx};
use pollcheck_proto::Feature;

pub(super) fn threaded_range(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let id = mode::target(ctx, &topo)?;
    let _restore = mode::reset(ctx, &topo)?;
    let max = match try_set(&topo, id, Threaded::BusyPoll) {
        Ok(()) => {
            mode::set(ctx, &topo, id, Threaded::Disabled)?;
            ctx.log("threaded = 2 (busy-poll) accepted: the policy maximum is 2 (6.19+)");
            2
        }
        Err(e @ NetError::Kernel { errno: Errno::ERANGE, .. }) => {
            ctx.log(format!(
                "threaded = 2 refused ({e}): the policy maximum is 1 (per-NAPI threaded without busy-poll)"
            ));
            1
        }
        Err(NetError::Absent { feature: Feature::ThreadedBusyPoll, why }) => {
            ctx.log(format!("{why}: the maximum is 1; threaded = 2 goes to the kernel below as an out-of-range value"));
            1
        }
        Err(e) => return ctx.setup(Err(e), "napi-set threaded = 2"),
    };
    let mut values = vec![max + 1, 3, 0x100, u32::MAX];
    values.dedup();
    for v in values {
        let res = try_set(&topo, id, Threaded::Other(v));
        ctx.log(format!("threaded = {v}: {res:?}"));
        let (errno, extack) = match &res {
            Err(e) => (e.errno(), e.extack().map(str::to_owned)),
            Ok(()) => (None, None),
        };
        ctx.expect(
            errno == Some(Errno::ERANGE),
            format!("napi-set threaded = {v} (above the maximum {max}) is ERANGE"),
            format!("{res:?}"),
        );
        if errno == Some(Errno::ERANGE) {
            ctx.expect(
                extack.as_deref().is_some_and(|m| m.contains("out of range")),
                format!("threaded = {v}: the extack says the integer is out of range"),
                format!("{extack:?}"),
            );
        }
        let got = get(ctx, &topo, id)?;
        ctx.expect(
            got.threaded == Some(Threaded::Disabled) && got.pid.is_none(),
            format!("the refused threaded = {v} left NAPI {id} disabled without a kthread"),
            format!("{:?}, pid {:?}", got.threaded, got.pid),
        );
        if got.threaded != Some(Threaded::Disabled) {
            mode::set(ctx, &topo, id, Threaded::Disabled)?;
        }
    }
    Ok(())
}
