//! The device-level switch /sys/class/net/<dev>/threaded (Documentation/ABI/testing/
//! sysfs-class-net: 0 or 1, "for all napi belonging to this device") against per-NAPI state:
//! writing 1 or 0 sets every NAPI (overriding a per-NAPI busy-poll), reads back what was
//! written, and other values are refused (busy-poll is netlink-only, napi.rst); a per-NAPI
//! napi-set changes that NAPI only and leaves the device-level value as it was (dev.c:
//! napi_set_threaded does not touch dev->threaded).

use super::mode::{self, get, set};
use crate::netkit::fixture::topology;
use crate::netkit::netdev::Threaded;
use crate::netkit::nssysfs::NsSysfs;
use crate::netkit::{Kind, NetError, Topology};
use pollcheck_guest::{CaseResult, Ctx, Stop};

const ATTR: &str = "threaded";

/// Writes 0 to the device-level switch when dropped.
struct SwitchOff<'a>(&'a NsSysfs, &'a str);

impl Drop for SwitchOff<'_> {
    fn drop(&mut self) {
        let _ = self.0.write(self.1, ATTR, "0");
    }
}

pub(super) fn sysfs(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let all = mode::napis(ctx, &topo)?;
    let first = ctx.setup(all.first().cloned().ok_or("the device lists no NAPI"), "find B's NAPIs")?;
    mode::require_per_napi(ctx, &topo, &first)?;
    let _restore = mode::reset(ctx, &topo)?;
    let fs = ctx.setup(NsSysfs::mount(&topo.b.ns), "mount sysfs inside B's namespace")?;
    let dev = topo.b.ifname.as_str();
    let _off = SwitchOff(&fs, dev);
    let id = first.id;
    ctx.log(format!("{dev}: NAPIs {:?}; /sys/class/net/{dev}/threaded reads {:?}", ids(&all), fs.read(dev, ATTR).ok()));

    for v in ["1", "0"] {
        ctx.setup(fs.write(dev, ATTR, v), "write the device-level threaded switch")?;
        expect_reads(ctx, &fs, dev, v, &format!("after writing {v}"));
        let want = if v == "1" { Threaded::Enabled } else { Threaded::Disabled };
        expect_all(ctx, &topo, want, &format!("after writing {v} to /sys/class/net/{dev}/threaded"))?;
    }

    set(ctx, &topo, id, Threaded::Enabled)?;
    let got = get(ctx, &topo, id)?;
    ctx.expect(
        got.threaded == Some(Threaded::Enabled),
        format!("napi-set enabled NAPI {id}"),
        format!("{:?}", got.threaded),
    );
    expect_reads(ctx, &fs, dev, "0", &format!("after napi-set enabled NAPI {id} alone"));

    let busy = mode::try_set(&topo, id, Threaded::BusyPoll).is_ok();
    let per_napi = if busy { Threaded::BusyPoll } else { Threaded::Enabled };
    ctx.log(format!("NAPI {id} left in per-NAPI mode {per_napi:?} before the device-level writes"));
    ctx.setup(fs.write(dev, ATTR, "1"), "write 1 to the device-level switch")?;
    expect_all(ctx, &topo, Threaded::Enabled, &format!("after writing 1 over NAPI {id} in {per_napi:?}"))?;
    if busy {
        mode::set(ctx, &topo, id, Threaded::BusyPoll)?;
    }
    ctx.setup(fs.write(dev, ATTR, "0"), "write 0 to the device-level switch")?;
    expect_all(ctx, &topo, Threaded::Disabled, &format!("after writing 0 over NAPI {id} in {per_napi:?}"))?;

    let two = fs.write(dev, ATTR, "2");
    let errno = two.as_ref().err().and_then(NetError::errno);
    ctx.expect(
        errno == Some(nix::errno::Errno::EOPNOTSUPP),
        "writing 2 (busy-poll) to the device-level switch is refused with EOPNOTSUPP",
        format!("{two:?}"),
    );
    expect_reads(ctx, &fs, dev, "0", "after the refused write of 2");
    expect_all(ctx, &topo, Threaded::Disabled, "after the refused write of 2")?;
    Ok(())
}

fn ids(all: &[crate::netkit::netdev::Napi]) -> Vec<u32> {
    all.iter().map(|n| n.id).collect()
}

fn expect_reads(ctx: &mut Ctx<'_>, fs: &NsSysfs, dev: &str, want: &str, when: &str) {
    let got = fs.read(dev, ATTR);
    let ok = got.as_deref().ok() == Some(want);
    ctx.expect(ok, format!("/sys/class/net/{dev}/threaded reads {want} {when}"), format!("{got:?}"));
}

/// Every NAPI of B reads `want`, with a pid iff threaded.
fn expect_all(ctx: &mut Ctx<'_>, topo: &Topology, want: Threaded, when: &str) -> Result<(), Stop> {
    let all = mode::napis(ctx, topo)?;
    let threaded = want != Threaded::Disabled;
    let off: Vec<String> = all
        .iter()
        .filter(|n| n.threaded != Some(want) || n.pid.is_some() != threaded)
        .map(|n| format!("{}: {:?} pid {:?}", n.id, n.threaded, n.pid))
        .collect();
    let pid = if threaded { "with a kthread pid" } else { "without a pid" };
    ctx.expect(off.is_empty(), format!("every NAPI reads {want:?} {pid} {when}"), format!("differing: {off:?}"));
    Ok(())
}
