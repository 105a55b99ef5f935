//! A mode's NAPI settings on the flow's NAPI, put back when the guard drops: napi-set
//! (defer-hard-irqs, gro-flush-timeout, irq-suspend-timeout; 6.13+) where napi-get reports the
//! attributes, else the device-wide sysfs files the IRQ suspension letter itself used
//! (napi_defer_hard_irqs, gro_flush_timeout); `threaded = busy-poll` through napi-set with its
//! kthread on the server's vCPU. A mode needing what the kernel lacks Skips with the kernel's
//! answer (napi-get without the attribute, napi-set refusing the value).

use super::mode::Config;
use super::rig::{napi_now, Rig, SERVER_CPU};
use crate::napi_threaded::{kthread, mode as threaded};
use crate::netkit::fixture::skip_absent;
use crate::netkit::netdev::{Napi, NapiSettings, Netdev};
use pollcheck_guest::{Ctx, Stop};
use pollcheck_proto::Feature;

/// What to put back.
#[derive(Debug)]
enum Original {
    Napi(u32, NapiSettings),
    Sysfs { defer: String, gro: String },
}

/// The applied settings; dropping it restores them (and turns threaded NAPIs off again).
#[derive(Debug)]
pub struct Knobs<'r> {
    rig: &'r Rig,
    original: Original,
    _threaded: Option<threaded::Restore<'r>>,
    /// What was set and how, for the log.
    pub how: String,
}

impl Drop for Knobs<'_> {
    fn drop(&mut self) {
        match &self.original {
            Original::Napi(id, s) => {
                let (id, s) = (*id, s.clone());
                let _ = self.rig.topo.b.ns.try_run(move || Netdev::open()?.napi_set(id, &s));
            }
            Original::Sysfs { defer, gro } => {
                let b = &self.rig.topo.b.ifname;
                let _ = self.rig.sysfs_b.write(b, "napi_defer_hard_irqs", defer);
                let _ = self.rig.sysfs_b.write(b, "gro_flush_timeout", gro);
            }
        }
    }
}

/// Apply `cfg`'s NAPI settings on the rig's NAPI.
pub fn apply<'r>(ctx: &mut Ctx<'_>, rig: &'r Rig, cfg: &Config) -> Result<Knobs<'r>, Stop> {
    let napi = napi_now(ctx, rig)?;
    let per_napi = napi.as_ref().filter(|n| n.defer_hard_irqs.is_some() && n.gro_flush_timeout.is_some());
    if let Some(ns) = cfg.irq_suspend_timeout_ns {
        require_suspend(ctx, napi.as_ref(), ns)?;
    }
    let restore_threaded =
        if cfg.threaded_busy_poll { Some(busy_poll_kthread(ctx, rig, napi.as_ref())?) } else { None };
    let (original, how) = match per_napi {
        Some(n) => set_per_napi(ctx, rig, n, cfg)?,
        None => set_sysfs(ctx, rig, cfg)?,
    };
    let how = match &restore_threaded {
        Some(_) => format!("{how}; napi-set threaded=busy-poll, kthread pinned to CPU {SERVER_CPU}"),
        None => how,
    };
    Ok(Knobs { rig, original, _threaded: restore_threaded, how })
}

/// Skip unless napi-get reports irq-suspend-timeout for the NAPI (IRQ suspension, 6.13+).
fn require_suspend(ctx: &mut Ctx<'_>, napi: Option<&Napi>, ns: u64) -> Result<(), Stop> {
    match napi {
        Some(n) if n.irq_suspend_timeout.is_some() => Ok(()),
        Some(n) => Err(ctx.absent(
            Feature::IrqSuspend,
            format!("napi-get of NAPI {} reports no irq-suspend-timeout: no IRQ suspension (6.13+) to set {ns} ns on", n.id),
        )),
        None => Err(ctx.absent(
            Feature::IrqSuspend,
            "no NAPI to napi-set irq-suspend-timeout on: the kernel has no netdev napi-get, or names no NAPI for the queue",
        )),
    }
}

/// threaded = busy-poll on the NAPI (every other NAPI of B back to disabled first and after),
/// its kthread on the server's vCPU.
fn busy_poll_kthread<'r>(ctx: &mut Ctx<'_>, rig: &'r Rig, napi: Option<&Napi>) -> Result<threaded::Restore<'r>, Stop> {
    let Some(n) = napi else {
        return Err(
            ctx.absent(Feature::NapiThreaded, "no NAPI to napi-set threaded on: the kernel has no netdev napi-get")
        );
    };
    threaded::require_per_napi(ctx, &rig.topo, n)?;
    let restore = threaded::reset(ctx, &rig.topo)?;
    threaded::require_busy_poll(ctx, &rig.topo, n.id)?;
    let now = threaded::get(ctx, &rig.topo, n.id)?;
    let pid = ctx.setup(now.pid.ok_or("napi-get reports no kthread pid in busy-poll mode"), "find the kthread")?;
    ctx.setup(kthread::pin(pid, SERVER_CPU), "pin the busy-poll kthread to the server's vCPU")?;
    Ok(restore)
}

fn set_per_napi(ctx: &mut Ctx<'_>, rig: &Rig, n: &Napi, cfg: &Config) -> Result<(Original, String), Stop> {
    let original = NapiSettings {
        defer_hard_irqs: n.defer_hard_irqs,
        gro_flush_timeout: n.gro_flush_timeout,
        irq_suspend_timeout: n.irq_suspend_timeout,
        threaded: None,
    };
    let want = NapiSettings {
        defer_hard_irqs: Some(cfg.defer_hard_irqs),
        gro_flush_timeout: Some(cfg.gro_flush_timeout_ns),
        // 0 where the kernel has it and the mode does not suspend: nothing left from before.
        irq_suspend_timeout: n.irq_suspend_timeout.map(|_| cfg.irq_suspend_timeout_ns.unwrap_or(0)),
        threaded: None,
    };
    let how = format!("napi-set {want} on NAPI {}", n.id);
    let (id, s) = (n.id, want);
    skip_absent(ctx, rig.topo.b.ns.try_run(move || Netdev::open()?.napi_set(id, &s)), "napi-set the mode's settings")?;
    Ok((Original::Napi(n.id, original), how))
}

fn set_sysfs(ctx: &mut Ctx<'_>, rig: &Rig, cfg: &Config) -> Result<(Original, String), Stop> {
    let (fs, b) = (&rig.sysfs_b, &rig.topo.b.ifname);
    let defer = ctx.setup(fs.read(b, "napi_defer_hard_irqs"), "read napi_defer_hard_irqs")?;
    let gro = ctx.setup(fs.read(b, "gro_flush_timeout"), "read gro_flush_timeout")?;
    ctx.setup(fs.write(b, "napi_defer_hard_irqs", &cfg.defer_hard_irqs.to_string()), "write napi_defer_hard_irqs")?;
    ctx.setup(fs.write(b, "gro_flush_timeout", &cfg.gro_flush_timeout_ns.to_string()), "write gro_flush_timeout")?;
    let how = format!(
        "sysfs napi_defer_hard_irqs={} gro_flush_timeout={} on {b} (device-wide: napi-get reports no per-NAPI settings)",
        cfg.defer_hard_irqs, cfg.gro_flush_timeout_ns
    );
    Ok((Original::Sysfs { defer, gro }, how))
}
