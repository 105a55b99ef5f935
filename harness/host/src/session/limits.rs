//! How big and how patient a guest is: vCPUs per case, TCG's slowdown, boot and case limits,
//! and when a guest must be replaced.

use crate::report::model::Accel;
use pollcheck_proto::{CaseMeta, Outcome};
use std::time::Duration;

/// How many times a guest is booted before its cases are given up as boot failures.
pub const BOOT_ATTEMPTS: u32 = 2;

/// One vCPU under TCG unless a case needs more: with multi-threaded TCG (QEMU 7.2), a guest
/// kernel patching its own text (static keys, via int3) while another vCPU runs it sometimes
/// dies with "Oops: int3" in the patched function (seen in 1 of 13 boots of Debian 7.3.4, at
/// sched_clock_cpu when the TSC calibration flips the sched_clock static key). Two under KVM.
pub fn default_cpus(accel: Accel, meta: &CaseMeta) -> u32 {
    let base = match accel {
        Accel::Kvm => 2,
        Accel::Tcg => 1,
    };
    base.max(meta.requires.cpus)
}

/// TCG runs kernels several times slower; timeouts scale with it, margins stay generous.
pub fn slowdown(accel: Accel) -> u32 {
    match accel {
        Accel::Kvm => 1,
        Accel::Tcg => 4,
    }
}

/// How long a guest may take to say Ready.
pub fn boot_timeout(accel: Accel) -> Duration {
    Duration::from_secs(15 * u64::from(slowdown(accel)))
}

/// What a boot is expected to take before one has been timed (Debian 7.3 under TCG here: about
/// 3 to 4.5 s to Ready, modules and probes included).
pub fn boot_guess(accel: Accel) -> Duration {
    Duration::from_millis(1_000 * u64::from(slowdown(accel)))
}

/// The guest-side limit for a case and the extra time the host waits before declaring it lost.
pub fn case_limits(meta: &CaseMeta, accel: Accel) -> (Duration, Duration) {
    let s = u64::from(slowdown(accel));
    (Duration::from_millis(meta.timeout_ms * s), Duration::from_secs(5 * s))
}

/// Whether a case may have left global state changed (a sysctl, a NAPI's settings, a threaded
/// NAPI's kthread): it says it changes such state and it ended without its cleanup having run for
/// sure (a guest-side timeout SIGKILLs the case, a crash skips its guards). The next case then
/// gets a fresh guest.
pub fn left_state_behind(meta: &CaseMeta, outcome: &Outcome) -> bool {
    meta.mutates_global && matches!(outcome, Outcome::Timeout { .. } | Outcome::Error { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::meta;
    use pollcheck_proto::ErrorKind;

    #[test]
    fn a_global_case_that_did_not_finish_cleanly_costs_a_fresh_guest() {
        let mut m = meta("s", "c");
        let timeout = Outcome::Timeout { after_ms: 5 };
        let crashed = Outcome::error(ErrorKind::CaseCrashed, "SIGSEGV");
        let failed = Outcome::Fail { checks: Vec::new() };
        assert!(!left_state_behind(&m, &timeout), "cases that change nothing global keep the guest");
        m.mutates_global = true;
        assert!(left_state_behind(&m, &timeout));
        assert!(left_state_behind(&m, &crashed));
        assert!(!left_state_behind(&m, &failed), "a failed case's cleanup stack ran");
        assert!(!left_state_behind(&m, &Outcome::Pass));
    }

    #[test]
    fn cpus_default_to_one_under_tcg_unless_a_case_needs_more() {
        let mut two = meta("s", "c");
        two.requires.cpus = 2;
        assert_eq!(default_cpus(Accel::Tcg, &meta("s", "c")), 1);
        assert_eq!(default_cpus(Accel::Tcg, &two), 2);
        assert_eq!(default_cpus(Accel::Kvm, &meta("s", "c")), 2);
    }

    #[test]
    fn tcg_scales_limits() {
        let mut m = meta("s", "c");
        m.timeout_ms = 1000;
        let (t, g) = case_limits(&m, Accel::Tcg);
        assert_eq!(t, Duration::from_millis(4000));
        assert!(g >= Duration::from_secs(5));
        assert_eq!(case_limits(&m, Accel::Kvm).0, Duration::from_millis(1000));
    }
}
