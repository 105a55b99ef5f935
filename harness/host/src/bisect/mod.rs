//! Bisecting a regression: over Debian's prebuilt kernels (`pollcheck bisect`) or, under
//! `git bisect run`, over the commits of a user's tree (`pollcheck bisect-run`).

pub mod search;

use crate::report::explain;
use crate::report::model::RunReport;
use pollcheck_proto::{ErrorKind, Outcome};
pub use search::{bisect, Verdict};

/// Judges one run: bad when a case failed, crashed the kernel or timed out; untestable when the
/// guest could not run the cases or every case skipped; good otherwise.
pub fn judge(report: &RunReport) -> Verdict {
    let bad = report.cases.iter().find(|c| match &c.outcome {
        Outcome::Fail { .. } | Outcome::Timeout { .. } => true,
        Outcome::Error { kind, .. } => *kind == ErrorKind::KernelCrash,
        _ => false,
    });
    if let Some(c) = bad {
        return Verdict::Bad(format!("{} {}: {}", c.outcome.kind(), c.id, explain(c)));
    }
    if let Some(c) = report.cases.iter().find(|c| matches!(c.outcome, Outcome::Error { .. })) {
        return Verdict::Untestable(format!("{} {}: {}", c.outcome.kind(), c.id, explain(c)));
    }
    if !report.cases.is_empty() && report.cases.iter().all(|c| matches!(c.outcome, Outcome::Skip { .. })) {
        return Verdict::Untestable(format!("every case skipped ({})", explain(&report.cases[0])));
    }
    Verdict::Good
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{Accel, CaseRecord, KernelInfo};
    use pollcheck_proto::CaseId;

    fn report(outcomes: Vec<Outcome>) -> RunReport {
        RunReport {
            network: None,
            run_id: "r".into(),
            kernel: KernelInfo { spec: "7.2".into(), release: "7.2.13".into() },
            accel: Accel::Tcg,
            qemu: "7.2.19".into(),
            expectations: String::new(),
            modules_failed: Vec::new(),
            guests: 1,
            probes: Default::default(),
            started_unix: 0,
            duration_ms: 1,
            cases: outcomes
                .into_iter()
                .enumerate()
                .map(|(i, outcome)| CaseRecord {
                    id: CaseId::new("busy_poll", &format!("c{i}")),
                    summary: String::new(),
                    outcome,
                    duration_ms: 1,
                    checks: Vec::new(),
                    logs: Vec::new(),
                    console_excerpt: None,
                    guest: None,
                })
                .collect(),
        }
    }

    #[test]
    fn verdicts() {
        let skip = || Outcome::absent(pollcheck_proto::Feature::EpollParams, "no EPIOCGPARAMS");
        assert_eq!(judge(&report(vec![Outcome::Pass, skip()])), Verdict::Good);
        assert!(matches!(judge(&report(vec![Outcome::Pass, Outcome::Fail { checks: vec![] }])), Verdict::Bad(_)));
        assert!(matches!(judge(&report(vec![Outcome::Timeout { after_ms: 5 }])), Verdict::Bad(_)));
        assert!(matches!(judge(&report(vec![Outcome::error(ErrorKind::KernelCrash, "Oops")])), Verdict::Bad(_)));
        assert!(matches!(
            judge(&report(vec![Outcome::error(ErrorKind::BootFailed, "no agent")])),
            Verdict::Untestable(_)
        ));
        assert_eq!(
            judge(&report(vec![skip(), skip()])),
            Verdict::Untestable("every case skipped (no EPIOCGPARAMS)".into())
        );
    }
}
