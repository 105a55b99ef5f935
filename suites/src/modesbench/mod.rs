//! modesbench: packet-delivery modes under an open-loop UDP request/response load, for
//! `pollcheck bench modes` (never a conformance verdict). One case per mode
//! (`modesbench::mode.<name>`, see [`mode::Mode`]); the host's `Request::Run` params
//! ([`ModesParams`]) say which rates to offer and for how long. Each case configures its mode on
//! the steered queue as the IRQ suspension and threaded busy-poll letters did, runs the server on
//! vCPU 1 and the client on vCPU 0, and logs one [`ModesLine`] per fact. A mode the kernel lacks
//! Skips, naming the feature and the kernel's answer.

mod client;
mod counters;
mod knobs;
mod mode;
mod pins;
mod rig;
mod server;
mod sweep;

pub use mode::Mode;

use crate::sys::epoll_params::{self, Support};
use crate::sys::sockopt::set_int;
use nix::errno::Errno;
use pollcheck_guest::{Case, CaseResult, Ctx, Stop};
use pollcheck_proto::modes::{ModesLine, ModesParams};
use pollcheck_proto::Feature;
use rig::{Rig, SERVER_CPU};
use server::Serving;
use std::os::fd::AsFd;
use std::time::Duration;

pub const SUITE: &str = "modesbench";

/// The sweep of a run without params (`pollcheck run modesbench`): two short rates.
fn default_params() -> ModesParams {
    ModesParams { rates: vec![200.0, 400.0], window_ms: 1000, warmup_ms: 200, delay_us: 0, ramp: false }
}

pub fn cases() -> Vec<Case> {
    Case::with_variants(
        SUITE,
        "mode",
        "one packet-delivery mode under an open-loop UDP request/response load: latency, CPU, IRQs per offered rate",
        &Mode::ALL,
        run,
    )
    .cpus(2)
    // The host sets each run's limit from its sweep; this is for runs without params.
    .timeout(Duration::from_secs(120))
    // NAPI settings, IRQ affinity, XPS and the busy-poll sysctls, restored by guards.
    .mutates_global()
    .hidden()
    .build()
}

fn params(ctx: &mut Ctx<'_>) -> Result<ModesParams, Stop> {
    match ctx.params().cloned() {
        None => Ok(default_params()),
        Some(v) => ctx.setup(serde_json::from_value(v), "read the sweep's parameters"),
    }
}

fn run(ctx: &mut Ctx<'_>, mode: Mode) -> CaseResult {
    let p = params(ctx)?;
    let cfg = mode.config();
    if cfg.epoll.is_some() {
        match epoll_params::detect() {
            Support::Present => {}
            Support::Absent(why) => return Err(ctx.absent(Feature::EpollParams, why)),
            Support::Broken(why) => ctx.setup(Err::<(), String>(why), "probe EPIOCGPARAMS on a fresh epoll fd")?,
        }
    }
    let rig = Rig::up(ctx)?;
    for n in &rig.notes {
        ctx.log(n.clone());
    }
    socket_busy_poll(ctx, &rig, cfg.so_busy_poll_us)?;
    let knobs = knobs::apply(ctx, &rig, &cfg)?;
    let ep = ctx.setup(server::epoll_for(&rig.server, cfg.epoll), "create the server's epoll instance")?;
    ctx.log(ModesLine::Setup { mode: mode.name().into(), config: format!("{cfg}; {}", knobs.how) }.to_log());
    let serving = Serving { server: cfg.server, delay: Duration::from_micros(p.delay_us.into()), cpu: SERVER_CPU };
    let mut points = 0;
    let res = sweep::sweep(&rig, &ep, serving, &p, mode.name(), &mut |pt| {
        points += 1;
        ctx.log(ModesLine::Point(pt).to_log());
    });
    ctx.setup(res, "run the sweep")?;
    drop(knobs);
    ctx.assert(points > 0, "at least one rate was measured", points)
}

/// SO_BUSY_POLL and SO_PREFER_BUSY_POLL on the server socket; a kernel without them (or
/// without CONFIG_NET_RX_BUSY_POLL) answers ENOPROTOOPT.
fn socket_busy_poll(ctx: &mut Ctx<'_>, rig: &Rig, usecs: Option<u32>) -> Result<(), Stop> {
    let Some(us) = usecs else { return Ok(()) };
    let fd = rig.server.as_fd();
    for (opt, name, v) in
        [(libc::SO_BUSY_POLL, "SO_BUSY_POLL", us as i32), (libc::SO_PREFER_BUSY_POLL, "SO_PREFER_BUSY_POLL", 1)]
    {
        match set_int(fd, opt, v) {
            Ok(()) => {}
            Err(Errno::ENOPROTOOPT) => {
                return Err(ctx.absent(Feature::SocketBusyPoll, format!("setsockopt {name} answered ENOPROTOOPT")))
            }
            Err(e) => ctx.setup(Err(e), &format!("setsockopt {name} = {v}"))?,
        }
    }
    Ok(())
}
