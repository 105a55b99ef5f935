//! The feature × kernel matrix: many runs folded into one table, and its renderings.
//!
//! Rows are features (suites), columns are kernels; a cell holds the outcome counts of that
//! suite's cases on that kernel, a verdict for its colour, and every case with why it ended so.

pub mod html;
pub mod markdown;
pub mod runner;

use crate::report::explain;
use crate::report::model::RunReport;
use pollcheck_proto::OutcomeKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One kernel's run, or why it could not run at all.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KernelRun {
    pub spec: String,
    pub result: Result<RunReport, String>,
}

/// What a cell's colour says, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellVerdict {
    /// The kernel crashed, a case timed out or the VM failed.
    Error,
    /// A case found the kernel breaking the feature's promise.
    Fail,
    /// Some cases passed, others were skipped (part of the feature is absent).
    Partial,
    Pass,
    /// Every case was skipped: the kernel lacks the feature.
    Skip,
    /// Not run on this kernel (the kernel could not be prepared, or no case selected).
    NotRun,
}

impl CellVerdict {
    pub fn label(self) -> &'static str {
        match self {
            CellVerdict::Error => "ERROR",
            CellVerdict::Fail => "FAIL",
            CellVerdict::Partial => "PARTIAL",
            CellVerdict::Pass => "PASS",
            CellVerdict::Skip => "SKIP",
            CellVerdict::NotRun => "NOT RUN",
        }
    }

    fn of(counts: &BTreeMap<OutcomeKind, usize>) -> CellVerdict {
        let n = |k| counts.get(&k).copied().unwrap_or(0);
        if n(OutcomeKind::Error) + n(OutcomeKind::Timeout) > 0 {
            CellVerdict::Error
        } else if n(OutcomeKind::Fail) > 0 {
            CellVerdict::Fail
        } else if n(OutcomeKind::Pass) + n(OutcomeKind::XFail) > 0 && n(OutcomeKind::Skip) > 0 {
            CellVerdict::Partial
        } else if n(OutcomeKind::Pass) + n(OutcomeKind::XFail) > 0 {
            CellVerdict::Pass
        } else if n(OutcomeKind::Skip) > 0 {
            CellVerdict::Skip
        } else {
            CellVerdict::NotRun
        }
    }
}

/// A kernel column's heading facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub spec: String,
    /// `uname -r` of the booted kernel (empty when it never ran).
    pub release: String,
    pub accel: Option<String>,
    pub run_id: Option<String>,
    pub duration_ms: u64,
    /// Why nothing ran on this kernel.
    pub error: Option<String>,
}

/// One case in a cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellCase {
    pub id: String,
    pub outcome: OutcomeKind,
    /// Why it ended so (empty for a pass).
    pub detail: String,
    pub console_excerpt: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub verdict: CellVerdict,
    pub counts: BTreeMap<OutcomeKind, usize>,
    pub cases: Vec<CellCase>,
}

impl Cell {
    /// `PASS 9`, `FAIL 2 · PASS 7`: the counts, worst outcome first.
    pub fn counts_text(&self) -> String {
        if self.counts.is_empty() {
            return self.verdict.label().to_string();
        }
        let mut parts: Vec<(OutcomeKind, usize)> = self.counts.iter().map(|(k, n)| (*k, *n)).collect();
        parts.sort_by_key(|(k, _)| severity_rank(*k));
        parts.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(" · ")
    }
}

fn severity_rank(k: OutcomeKind) -> u8 {
    match k {
        OutcomeKind::Error => 0,
        OutcomeKind::Timeout => 1,
        OutcomeKind::Fail => 2,
        OutcomeKind::Pass => 3,
        OutcomeKind::XFail => 4,
        OutcomeKind::Skip => 5,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub feature: String,
    /// One per column, in column order.
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl Matrix {
    /// Folds the runs (one per kernel, in column order) into the table; features in first-seen order.
    pub fn build(runs: &[KernelRun]) -> Matrix {
        let mut features: Vec<String> = Vec::new();
        for report in runs.iter().filter_map(|r| r.result.as_ref().ok()) {
            for case in &report.cases {
                if !features.contains(&case.id.suite) {
                    features.push(case.id.suite.clone());
                }
            }
        }
        let columns = runs.iter().map(column).collect();
        let rows = features
            .iter()
            .map(|feature| Row { feature: feature.clone(), cells: runs.iter().map(|r| cell(r, feature)).collect() })
            .collect();
        Matrix { columns, rows }
    }

    /// True when any cell failed or errored (the matrix command's exit status).
    pub fn has_failures(&self) -> bool {
        self.columns.iter().any(|c| c.error.is_some())
            || self
                .rows
                .iter()
                .flat_map(|r| &r.cells)
                .any(|c| matches!(c.verdict, CellVerdict::Error | CellVerdict::Fail))
    }
}

fn column(run: &KernelRun) -> Column {
    match &run.result {
        Ok(r) => Column {
            spec: run.spec.clone(),
            release: r.kernel.release.clone(),
            accel: Some(if r.qemu.is_empty() { r.accel.to_string() } else { format!("{} (QEMU {})", r.accel, r.qemu) }),
            run_id: Some(r.run_id.clone()),
            duration_ms: r.duration_ms,
            error: None,
        },
        Err(e) => Column {
            spec: run.spec.clone(),
            release: String::new(),
            accel: None,
            run_id: None,
            duration_ms: 0,
            error: Some(e.clone()),
        },
    }
}

fn cell(run: &KernelRun, feature: &str) -> Cell {
    let Ok(report) = &run.result else {
        return Cell { verdict: CellVerdict::NotRun, counts: BTreeMap::new(), cases: Vec::new() };
    };
    let mut counts = BTreeMap::new();
    let mut cases = Vec::new();
    for case in report.cases.iter().filter(|c| c.id.suite == feature) {
        let kind = case.outcome.kind();
        *counts.entry(kind).or_insert(0) += 1;
        cases.push(CellCase {
            id: case.id.to_string(),
            outcome: kind,
            detail: explain(case),
            console_excerpt: case.console_excerpt.clone(),
        });
    }
    Cell { verdict: CellVerdict::of(&counts), counts, cases }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::model::{Accel, CaseRecord, KernelInfo};
    use pollcheck_proto::{CaseId, Check, Outcome, Severity};

    fn case(suite: &str, name: &str, outcome: Outcome) -> CaseRecord {
        CaseRecord {
            id: CaseId::new(suite, name),
            summary: String::new(),
            outcome,
            duration_ms: 5,
            checks: Vec::new(),
            logs: Vec::new(),
            console_excerpt: None,
            guest: None,
        }
    }

    pub(crate) fn runs() -> Vec<KernelRun> {
        let report = |spec: &str, release: &str, cases| RunReport {
            network: None,
            run_id: format!("run-{spec}"),
            kernel: KernelInfo { spec: spec.into(), release: release.into() },
            accel: Accel::Tcg,
            qemu: "7.2.19".into(),
            expectations: String::new(),
            modules_failed: Vec::new(),
            guests: 1,
            started_unix: 0,
            duration_ms: 2100,
            cases,
        };
        let skip = || Outcome::absent(pollcheck_proto::Feature::EpollParams, "EPIOCGPARAMS not supported (ENOTTY)");
        let bad = Check {
            what: "EPIOCSPARAMS with __pad != 0 is EINVAL".into(),
            passed: false,
            severity: Severity::Assert,
            observed: "succeeded".into(),
            location: "suites/src/busy_poll/params.rs:70".into(),
        };
        let mut crashed =
            case("exclusive", "wake_one", Outcome::error(pollcheck_proto::ErrorKind::KernelCrash, "Oops"));
        crashed.console_excerpt = Some("Oops: general protection fault <&>".into());
        vec![
            KernelRun {
                spec: "6.1".into(),
                result: Ok(report(
                    "6.1",
                    "6.1.0-50-cloud-amd64",
                    vec![
                        case("busy_poll", "params_pad", skip()),
                        case("busy_poll", "params_defaults", skip()),
                        case("exclusive", "wake_one", Outcome::Pass),
                    ],
                )),
            },
            KernelRun {
                spec: "src:7.2+mutants".into(),
                result: Ok(report(
                    "src:7.2+mutants",
                    "7.2.13",
                    vec![
                        case("busy_poll", "params_pad", Outcome::Fail { checks: vec![bad] }),
                        case("busy_poll", "params_defaults", Outcome::Pass),
                        crashed,
                    ],
                )),
            },
            KernelRun {
                spec: "6.5".into(),
                result: Err("no Debian kernel matches 6.5; nearest offered: 6.1.176".into()),
            },
        ]
    }

    #[test]
    fn verdicts_per_cell() {
        let m = Matrix::build(&runs());
        assert_eq!(m.rows.iter().map(|r| r.feature.as_str()).collect::<Vec<_>>(), ["busy_poll", "exclusive"]);
        let v: Vec<Vec<CellVerdict>> = m.rows.iter().map(|r| r.cells.iter().map(|c| c.verdict).collect()).collect();
        assert_eq!(v[0], [CellVerdict::Skip, CellVerdict::Fail, CellVerdict::NotRun]);
        assert_eq!(v[1], [CellVerdict::Pass, CellVerdict::Error, CellVerdict::NotRun]);
        assert_eq!(m.rows[0].cells[1].counts_text(), "FAIL 1 · PASS 1");
        assert!(m.has_failures());
        assert_eq!(m.columns[2].error.as_deref(), Some("no Debian kernel matches 6.5; nearest offered: 6.1.176"));
        assert_eq!(m.rows[0].cells[1].cases[0].detail, "EPIOCSPARAMS with __pad != 0 is EINVAL: observed succeeded");
    }

    #[test]
    fn partial_when_some_pass_and_some_skip() {
        let counts = BTreeMap::from([(OutcomeKind::Pass, 2), (OutcomeKind::Skip, 1)]);
        assert_eq!(CellVerdict::of(&counts), CellVerdict::Partial);
    }
}
