//! Device-free probes for per-NAPI threaded and its busy-poll mode, run by the agent at start-up
//! so that the host can Skip this suite's multi-vCPU cases without booting a guest for them.
//!
//! napi-set validates its attributes against the op's policy before it looks the NAPI up, so a
//! napi-set of `threaded = mode` on an id no NAPI has (ids ≤ NR_CPUS are never NAPI ids) tells
//! what the kernel accepts without touching a device: ENOENT (no such NAPI) means the value
//! passed the policy; ERANGE means the attribute exists but not that mode (a kernel with only
//! disabled/enabled); EINVAL means napi-set has no `threaded` attribute at all; a kernel without
//! napi-set or the netdev family answers that it lacks them.

use crate::netkit::netdev::{NapiSettings, Netdev, Threaded};
use crate::netkit::NetError;
use nix::errno::Errno;
use pollcheck_guest::Probe;
use pollcheck_proto::{Feature, ProbeAnswer};

/// An id that is never a NAPI's: NAPI ids start above NR_CPUS.
const NO_NAPI: u32 = 1;

/// `threaded = enabled` is accepted by napi-set.
pub const PER_NAPI: Probe =
    Probe { name: "napi_threaded", feature: Feature::NapiThreaded, run: || answer(Threaded::Enabled) };

/// `threaded = busy-poll` is accepted by napi-set.
pub const BUSY_POLL: Probe =
    Probe { name: "napi_threaded_busy_poll", feature: Feature::ThreadedBusyPoll, run: || answer(Threaded::BusyPoll) };

/// Yes, or No with what the kernel said; Unknown when its answer decides nothing.
fn answer(mode: Threaded) -> ProbeAnswer {
    let said = Netdev::open()
        .and_then(|nd| nd.napi_set(NO_NAPI, &NapiSettings { threaded: Some(mode), ..Default::default() }));
    verdict(mode, said)
}

/// The probe's answer to napi-set's reply (pure, so the mapping is unit-tested).
fn verdict(mode: Threaded, said: Result<(), NetError>) -> ProbeAnswer {
    match said {
        Err(NetError::Kernel { errno: Errno::ENOENT, .. }) => ProbeAnswer::Yes,
        Err(NetError::Kernel { errno: errno @ Errno::ERANGE, extack, .. }) => {
            ProbeAnswer::No(format!("napi-set refuses threaded={mode}: {errno}{}", extack_text(extack)))
        }
        Err(NetError::Kernel { errno: errno @ Errno::EINVAL, extack, .. }) => ProbeAnswer::No(format!(
            "per-NAPI threaded absent: napi-set has no `threaded` attribute: {errno}{}",
            extack_text(extack)
        )),
        Err(NetError::Absent { why, .. }) => ProbeAnswer::No(format!("per-NAPI threaded absent: {why}")),
        Ok(()) => ProbeAnswer::Unknown(format!("napi-set on NAPI id {NO_NAPI} succeeded")),
        Err(e) => ProbeAnswer::Unknown(e.to_string()),
    }
}

fn extack_text(extack: Option<String>) -> String {
    extack.map(|m| format!(" ({m})")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel(errno: Errno) -> Result<(), NetError> {
        Err(NetError::Kernel { what: "napi-set".into(), errno, extack: None })
    }

    fn no(answer: ProbeAnswer) -> String {
        match answer {
            ProbeAnswer::No(why) => why,
            other => panic!("want no, got {other}"),
        }
    }

    #[test]
    fn reads_the_kernels_answer() {
        assert_eq!(verdict(Threaded::BusyPoll, kernel(Errno::ENOENT)), ProbeAnswer::Yes);
        assert!(no(verdict(Threaded::BusyPoll, kernel(Errno::ERANGE)))
            .starts_with("napi-set refuses threaded=busy-poll: ERANGE"));
        assert!(no(verdict(Threaded::Enabled, kernel(Errno::EINVAL))).starts_with("per-NAPI threaded absent"));
        let family = NetError::Absent { feature: Feature::NetdevNapiGet, why: "no family".into() };
        assert_eq!(no(verdict(Threaded::Enabled, Err(family))), "per-NAPI threaded absent: no family");
        // Anything else decides nothing: the cases run and judge for themselves.
        assert!(matches!(verdict(Threaded::Enabled, kernel(Errno::EPERM)), ProbeAnswer::Unknown(_)));
        assert!(matches!(verdict(Threaded::Enabled, Ok(())), ProbeAnswer::Unknown(_)));
        assert_eq!(
            verdict(Threaded::Enabled, Ok(())).to_string(),
            format!("unknown: napi-set on NAPI id {NO_NAPI} succeeded")
        );
    }
}
