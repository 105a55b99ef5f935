//! Which cases killed a mutant: those that passed on the unmutated kernel and failed, timed out
//! or errored on the mutant, each with the observation that failed. A case that passed there and
//! only skipped here is listed apart: the mutant made the feature look absent.

use crate::report::explain;
use crate::report::model::RunReport;
use pollcheck_proto::{Outcome, OutcomeKind};
use serde::{Deserialize, Serialize};

/// One case that told the mutant apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kill {
    pub case: String,
    pub outcome: OutcomeKind,
    /// Why it ended so: the failed check and what was observed.
    pub observed: String,
}

/// What became of one mutant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutantResult {
    pub name: String,
    /// The first line of its patch.
    pub says: String,
    /// The patch sets under it.
    pub base: Vec<String>,
    pub killed_by: Vec<Kill>,
    /// Cases that passed unmutated and skipped on the mutant.
    pub hidden_by_skip: Vec<Kill>,
    pub build_s: f64,
    pub run_s: f64,
    /// Why it could not be judged (the patch did not apply, the build failed), if so.
    pub error: Option<String>,
    /// The run directory of its cases (reports, console logs).
    #[serde(default)]
    pub run_dir: Option<String>,
}

impl MutantResult {
    pub fn killed(&self) -> bool {
        !self.killed_by.is_empty()
    }
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillTable {
    /// The kernel source the mutants are built from (`src:7.2`).
    pub kernel: String,
    pub accel: String,
    pub qemu: String,
    pub mutants: Vec<MutantResult>,
}

impl KillTable {
    /// Mutants no case killed (judged ones only).
    pub fn survivors(&self) -> impl Iterator<Item = &MutantResult> {
        self.mutants.iter().filter(|m| m.error.is_none() && !m.killed())
    }
}

/// The cases of `mutant` that tell it apart from `unmutated`: (killed by, hidden by a skip).
pub fn kills(unmutated: &RunReport, mutant: &RunReport) -> (Vec<Kill>, Vec<Kill>) {
    let (mut killed, mut hidden) = (Vec::new(), Vec::new());
    for rec in &mutant.cases {
        let passed_before = unmutated.cases.iter().any(|b| b.id == rec.id && b.outcome == Outcome::Pass);
        if !passed_before {
            continue;
        }
        let kill = Kill { case: rec.id.to_string(), outcome: rec.outcome.kind(), observed: explain(rec) };
        if rec.outcome.is_failure() {
            killed.push(kill);
        } else if rec.outcome.kind() == OutcomeKind::Skip {
            hidden.push(kill);
        }
    }
    (killed, hidden)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::CaseRecord;
    use pollcheck_proto::{CaseId, Check, Feature, Severity};

    fn report(cases: Vec<(&str, Outcome)>) -> RunReport {
        let mut r = crate::report::fixtures::empty();
        r.cases = cases
            .into_iter()
            .map(|(id, outcome)| CaseRecord {
                id: id.parse::<CaseId>().expect("id"),
                summary: String::new(),
                outcome,
                duration_ms: 1,
                checks: Vec::new(),
                logs: Vec::new(),
                console_excerpt: None,
                guest: Some(1),
            })
            .collect();
        r
    }

    #[test]
    fn only_cases_that_passed_unmutated_count() {
        let fail = Outcome::Fail {
            checks: vec![Check {
                what: "budget 1 wakes with 1 event".into(),
                passed: false,
                severity: Severity::Assert,
                observed: "8 events".into(),
                location: "x:1".into(),
            }],
        };
        let before =
            report(vec![("b::a", Outcome::Pass), ("b::b", Outcome::not_here("one CPU")), ("b::c", Outcome::Pass)]);
        let after = report(vec![
            ("b::a", fail),
            ("b::b", Outcome::Timeout { after_ms: 9 }),
            ("b::c", Outcome::absent(Feature::EpollParams, "ENOTTY")),
        ]);
        let (killed, hidden) = kills(&before, &after);
        assert_eq!(killed.len(), 1, "b::b skipped unmutated: its timeout says nothing of the mutant");
        assert_eq!(killed[0].observed, "budget 1 wakes with 1 event: observed 8 events");
        assert_eq!(hidden.iter().map(|k| k.case.as_str()).collect::<Vec<_>>(), ["b::c"]);
    }
}
