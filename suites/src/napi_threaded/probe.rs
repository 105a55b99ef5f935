//! Device-free probes for per-NAPI threaded and its busy-poll mode, run by the agent at start-up
//! so that the host can Skip this suite's multi-vCPU cases without booting a guest for them.
//!
//! The answer comes from the generic-netlink controller, which a kernel that lost the feature
//! cannot fake: napi-set's attribute policy (CTRL_CMD_GETPOLICY) without `threaded` means no
//! per-NAPI threaded; `threaded` with maximum 1 (NLA_POLICY_MAX(NLA_U32, 1), 6.17/6.18) means no
//! busy-poll mode; maximum 2 means busy-poll mode is there. A kernel without napi-set in the
//! netdev op list, or without the netdev family, lacks both.
//!
//! Then napi-set must agree. It validates its attributes against the policy before it looks the
//! NAPI up, so `threaded = mode` on an id no NAPI has (ids ≤ NR_CPUS are never NAPI ids) answers
//! ENOENT when the value passed. Any other answer while the policy admits the mode (ERANGE, say)
//! is Unknown: the cases run and FAIL for themselves.

use crate::netkit::genl_ctrl::AttrPolicy;
use crate::netkit::netdev::{NapiAttr, NapiSettings, Netdev, Threaded};
use crate::netkit::NetError;
use nix::errno::Errno;
use pollcheck_guest::Probe;
use pollcheck_proto::{Feature, ProbeAnswer};

/// An id that is never a NAPI's: NAPI ids start above NR_CPUS.
const NO_NAPI: u32 = 1;

/// `threaded = enabled` is in napi-set's policy, and napi-set accepts it.
pub const PER_NAPI: Probe =
    Probe { name: "napi_threaded", feature: Feature::NapiThreaded, run: || answer(Threaded::Enabled) };

/// `threaded = busy-poll` is in napi-set's policy, and napi-set accepts it.
pub const BUSY_POLL: Probe =
    Probe { name: "napi_threaded_busy_poll", feature: Feature::ThreadedBusyPoll, run: || answer(Threaded::BusyPoll) };

fn answer(mode: Threaded) -> ProbeAnswer {
    let nd = match Netdev::open() {
        Ok(nd) => nd,
        Err(e) => return verdict(mode, Err(e), || Ok(())),
    };
    let policy = nd.settable(NapiAttr::Threaded);
    verdict(mode, policy, || nd.napi_set(NO_NAPI, &NapiSettings { threaded: Some(mode), ..Default::default() }))
}

/// What the feature is called in a No.
fn absent(mode: Threaded) -> &'static str {
    match mode {
        Threaded::BusyPoll => "threaded busy-poll absent",
        _ => "per-NAPI threaded absent",
    }
}

/// The probe's answer from napi-set's policy of `threaded`, and, when the policy says the mode
/// is there, from napi-set's reply (`said`, asked only then). Pure, so it is unit-tested.
fn verdict(
    mode: Threaded,
    policy: Result<AttrPolicy, NetError>,
    said: impl FnOnce() -> Result<(), NetError>,
) -> ProbeAnswer {
    let p = match policy {
        Ok(p) => p,
        Err(NetError::Absent { why, .. }) => return ProbeAnswer::No(format!("{}: {why}", absent(mode))),
        Err(e) => return ProbeAnswer::Unknown(format!("could not read napi-set's attribute policy: {e}")),
    };
    let max = p.max.map_or("none".to_owned(), |m| m.to_string());
    if mode == Threaded::BusyPoll && p.max.is_some_and(|m| m < 2) {
        return ProbeAnswer::No(format!(
            "{}: napi-set's attribute policy (CTRL_CMD_GETPOLICY) caps threaded at {max} (enabled), busy-poll is 2",
            absent(mode)
        ));
    }
    match said() {
        Err(NetError::Kernel { errno: Errno::ENOENT, .. }) => ProbeAnswer::Yes,
        Ok(()) => ProbeAnswer::Unknown(format!("napi-set on NAPI id {NO_NAPI} succeeded")),
        Err(e) => ProbeAnswer::Unknown(format!(
            "napi-set's attribute policy admits threaded={mode} (max {max}) but napi-set of it on NAPI id {NO_NAPI} \
             answered: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netkit::genl_ctrl::AttrKind;

    fn kernel(errno: Errno) -> Result<(), NetError> {
        Err(NetError::Kernel { what: "napi-set".into(), errno, extack: Some("bad".into()) })
    }

    fn threaded(max: i128) -> Result<AttrPolicy, NetError> {
        Ok(AttrPolicy { kind: AttrKind::U32, min: Some(0), max: Some(max) })
    }

    fn no(answer: ProbeAnswer) -> String {
        match answer {
            ProbeAnswer::No(why) => why,
            other => panic!("want no, got {other}"),
        }
    }

    fn unasked() -> Result<(), NetError> {
        panic!("napi-set asked though the policy decided")
    }

    #[test]
    fn the_policy_decides_absence() {
        let none = || {
            Err(NetError::Absent {
                feature: Feature::NapiThreaded,
                why: "napi-set's attribute policy (CTRL_CMD_GETPOLICY) has no threaded (attribute 8)".into(),
            })
        };
        assert_eq!(
            no(verdict(Threaded::Enabled, none(), unasked)),
            "per-NAPI threaded absent: napi-set's attribute policy (CTRL_CMD_GETPOLICY) has no threaded (attribute 8)"
        );
        assert!(no(verdict(Threaded::BusyPoll, none(), unasked)).starts_with("threaded busy-poll absent"));
        // 6.17 / 6.18: threaded capped at 1.
        assert_eq!(verdict(Threaded::Enabled, threaded(1), || kernel(Errno::ENOENT)), ProbeAnswer::Yes);
        assert!(no(verdict(Threaded::BusyPoll, threaded(1), unasked)).contains("caps threaded at 1"));
        // 6.19+: busy-poll is 2.
        assert_eq!(verdict(Threaded::BusyPoll, threaded(2), || kernel(Errno::ENOENT)), ProbeAnswer::Yes);
    }

    #[test]
    fn napi_set_must_agree_with_the_policy() {
        // The policy admits busy-poll but napi-set says ERANGE: a broken kernel, the cases judge.
        match verdict(Threaded::BusyPoll, threaded(2), || kernel(Errno::ERANGE)) {
            ProbeAnswer::Unknown(why) => assert!(why.contains("admits threaded=busy-poll (max 2)"), "{why}"),
            other => panic!("want unknown, got {other}"),
        }
        let lost = || Err(NetError::Lost { feature: Feature::NapiThreaded, why: "listed yet EOPNOTSUPP".into() });
        assert!(matches!(verdict(Threaded::Enabled, threaded(1), lost), ProbeAnswer::Unknown(_)));
        assert!(matches!(verdict(Threaded::Enabled, threaded(1), || Ok(())), ProbeAnswer::Unknown(_)));
        // A controller that could not be read decides nothing either.
        let broken = Err(NetError::Netlink { what: "dump".into(), detail: "short".into() });
        assert!(matches!(verdict(Threaded::Enabled, broken, unasked), ProbeAnswer::Unknown(_)));
    }

    #[test]
    fn no_family_is_absent() {
        let family = NetError::Absent { feature: Feature::NetdevNapiGet, why: "no family".into() };
        assert_eq!(no(verdict(Threaded::Enabled, Err(family), unasked)), "per-NAPI threaded absent: no family");
    }
}
