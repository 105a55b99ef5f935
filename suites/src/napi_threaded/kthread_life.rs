//! The kthread behind a threaded NAPI: napi-get's pid is a kernel thread named
//! `napi/<dev>-<napi id>` (napi_kthread_create in net/core/dev.c; napi.rst "Threaded NAPI"),
//! and setting the NAPI back to disabled stops it (napi_stop_kthread): the task goes away.

use super::kthread::{self, name_matches, PF_KTHREAD};
use super::mode::{self, get, set};
use crate::netkit::fixture::topology;
use crate::netkit::netdev::Threaded;
use crate::netkit::Kind;
use pollcheck_guest::{CaseResult, Ctx};
use std::time::Duration;

/// How long a stopped kthread may take to leave /proc.
const EXIT_LIMIT: Duration = Duration::from_secs(3);

pub(super) fn kthread(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let id = mode::target(ctx, &topo)?;
    let _restore = mode::reset(ctx, &topo)?;
    set(ctx, &topo, id, Threaded::Enabled)?;
    let got = get(ctx, &topo, id)?;
    let pid = ctx.setup(got.pid.ok_or("napi-get reported no pid for an enabled NAPI"), "read the kthread pid")?;
    let st = ctx.setup(kthread::stat(pid).ok_or(format!("/proc/{pid}/stat is missing")), "read the kthread")?;
    let want = format!("napi/{}-{id}", topo.b.ifname);
    ctx.log(format!("NAPI {id} enabled: pid {pid}, name {:?}, state {}, ppid {}", st.comm, st.state, st.ppid));
    ctx.expect(name_matches(&st.comm, &want), format!("the kthread is named {want}"), &st.comm);
    ctx.expect(
        st.flags & PF_KTHREAD != 0,
        "the task is a kernel thread (PF_KTHREAD)",
        format!("flags {:#x}", st.flags),
    );
    ctx.expect(st.ppid == 2, "its parent is kthreadd (pid 2)", st.ppid);
    set(ctx, &topo, id, Threaded::Disabled)?;
    let gone = kthread::wait_gone(pid, EXIT_LIMIT);
    let after = get(ctx, &topo, id)?;
    ctx.expect(after.pid.is_none(), "napi-get reports no pid once disabled", format!("{:?}", after.pid));
    match gone {
        Some(t) => ctx.log(format!("kthread {want} (pid {pid}) exited {} ms after disabling", t.as_millis())),
        None => {
            ctx.log(format!("kthread {want} (pid {pid}) still in /proc {} s after disabling", EXIT_LIMIT.as_secs()))
        }
    }
    let still = kthread::stat(pid).map(|s| format!("{} in state {}", s.comm, s.state)).unwrap_or_default();
    ctx.assert(gone.is_some(), "disabling the NAPI stops its kthread (/proc/<pid> disappears)", still)
}
