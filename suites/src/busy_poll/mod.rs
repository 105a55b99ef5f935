//! busy_poll: per-epoll busy-poll configuration (EPIOCSPARAMS/EPIOCGPARAMS, seed 000, 6.9+).
//!
//! `params_*` cases hold the ioctl's argument contract (parity with upstream's
//! tools/testing/selftests/net/epoll_busy_poll.c); behavioural cases come with the test networks.

mod params;

use crate::sys::epoll_params::{self, Support};
use pollcheck_guest::{Case, CaseResult, Ctx, Probe, Stop};
use pollcheck_proto::{CaseId, CaseMeta, Requires};

pub const SUITE: &str = "busy_poll";

/// Kconfig symbols every busy_poll case needs.
pub const KCONFIG: &[&str] = &["EPOLL", "NET_RX_BUSY_POLL"];

pub const PROBE: Probe = Probe {
    name: "epoll_params",
    run: || match epoll_params::detect() {
        Support::Present => "yes".into(),
        Support::Absent(why) | Support::Broken(why) => format!("no: {why}"),
    },
};

pub fn cases() -> Vec<Case> {
    params::CASES.iter().map(|&(name, summary, run)| case(name, summary, run)).collect()
}

fn case(name: &str, summary: &str, run: fn(&mut Ctx<'_>) -> CaseResult) -> Case {
    Case {
        meta: CaseMeta {
            id: CaseId::new(SUITE, name),
            summary: summary.to_owned(),
            requires: Requires { kconfig: KCONFIG.iter().map(|s| (*s).to_owned()).collect(), ..Requires::default() },
            timeout_ms: 10_000,
            mutates_global: false,
        },
        run,
    }
}

/// Skip (with the kernel's own answer as the reason) unless the epoll ioctls exist.
fn require_epoll_params(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    match epoll_params::detect() {
        Support::Present => Ok(()),
        Support::Absent(why) => Err(ctx.skip(why)),
        Support::Broken(why) => ctx.assert(false, "probing EPIOCGPARAMS on a fresh epoll fd", why),
    }
}
