//! Turning what a guest (or the plan) said about a case into its record: the kernel's
//! expectations applied, the guest that ran it, and Skips explained by modules that failed to load.

use crate::plan::Expectations;
use crate::report::model::CaseRecord;
use crate::vm::CaseRun;
use pollcheck_proto::{CaseMeta, Features, Outcome};

/// The record of a case decided without running it (config, probes, a guest that never booted).
pub fn decided(meta: &CaseMeta, outcome: Outcome, expectations: &Expectations) -> CaseRecord {
    CaseRecord {
        id: meta.id.clone(),
        summary: meta.summary.clone(),
        outcome: expectations.judge(meta, outcome),
        duration_ms: 0,
        checks: Vec::new(),
        logs: Vec::new(),
        console_excerpt: None,
        guest: None,
    }
}

/// The record of a case that ran on guest `guest`.
pub fn ran(meta: &CaseMeta, run: CaseRun, guest: u32, features: &Features, e: &Expectations) -> CaseRecord {
    let outcome = with_module_failures(e.judge(meta, run.outcome), &features.modules_failed);
    CaseRecord {
        id: meta.id.clone(),
        summary: meta.summary.clone(),
        outcome,
        duration_ms: run.duration_ms,
        checks: run.checks,
        logs: run.logs,
        console_excerpt: run.console_excerpt,
        guest: Some(guest),
    }
}

/// A Skip in a guest where modules failed to load says so: the absence may be theirs.
pub fn with_module_failures(outcome: Outcome, failed: &[String]) -> Outcome {
    match outcome {
        Outcome::Skip { reason, feature } if !failed.is_empty() => {
            Outcome::Skip { reason: format!("{reason} (modules that failed to load: {})", failed.join("; ")), feature }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollcheck_proto::Feature;

    #[test]
    fn skips_name_the_modules_that_failed_to_load() {
        let skip = Outcome::absent(Feature::VirtioNet, "no virtio_net driver");
        assert_eq!(with_module_failures(skip.clone(), &[]), skip);
        assert_eq!(
            with_module_failures(skip, &["virtio_net.ko: failed to load: ENOEXEC".into()]),
            Outcome::absent(
                Feature::VirtioNet,
                "no virtio_net driver (modules that failed to load: virtio_net.ko: failed to load: ENOEXEC)"
            )
        );
        assert_eq!(with_module_failures(Outcome::Pass, &["x".into()]), Outcome::Pass);
    }
}
