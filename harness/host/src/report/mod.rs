//! Reporters: turn a finished [`RunReport`] into KTAP, JUnit XML, JSON and a terminal summary,
//! and lay them out in a per-run artifact directory.

pub mod artifacts;
pub mod json;
pub mod junit;
pub mod ktap;
pub mod model;
pub mod summary;

#[cfg(test)]
pub(crate) mod fixtures;

pub use artifacts::{new_run_id, ArtifactDir};
pub use json::json;
pub use junit::junit;
pub use ktap::ktap;
pub use model::{Accel, CaseRecord, KernelInfo, RunReport};
pub use summary::summary;

use pollcheck_proto::{Check, ErrorKind, Outcome, OutcomeKind, Severity};
use serde::Serialize;
use std::path::PathBuf;

/// Why a report could not be produced or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("failed to create artifact directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write report file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to serialize the JUnit report")]
    Junit(#[from] quick_junit::SerializeError),
    #[error(
        "failed to use run id {0:?} as a directory name: it must be non-empty and contain no path separators or '..'"
    )]
    InvalidRunId(String),
}

/// How many cases ended with each [`OutcomeKind`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub xfail: usize,
    pub timeout: usize,
    pub error: usize,
}

impl Totals {
    /// Count the outcomes of every case in the report.
    pub fn of(report: &RunReport) -> Self {
        let mut totals = Self::default();
        for case in &report.cases {
            *totals.slot(case.outcome.kind()) += 1;
        }
        totals
    }

    /// The count for one kind.
    pub fn get(&self, kind: OutcomeKind) -> usize {
        match kind {
            OutcomeKind::Pass => self.pass,
            OutcomeKind::Fail => self.fail,
            OutcomeKind::Skip => self.skip,
            OutcomeKind::XFail => self.xfail,
            OutcomeKind::Timeout => self.timeout,
            OutcomeKind::Error => self.error,
        }
    }

    /// Number of cases counted.
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.skip + self.xfail + self.timeout + self.error
    }

    fn slot(&mut self, kind: OutcomeKind) -> &mut usize {
        match kind {
            OutcomeKind::Pass => &mut self.pass,
            OutcomeKind::Fail => &mut self.fail,
            OutcomeKind::Skip => &mut self.skip,
            OutcomeKind::XFail => &mut self.xfail,
            OutcomeKind::Timeout => &mut self.timeout,
            OutcomeKind::Error => &mut self.error,
        }
    }
}

/// The failing checks to explain a case with: those carried by a `Fail` outcome, or else the
/// failed ones among all the checks the case made (a case can fail an EXPECT and then crash).
pub(crate) fn failed_checks(case: &CaseRecord) -> Vec<&Check> {
    match &case.outcome {
        Outcome::Fail { checks } if !checks.is_empty() => checks.iter().collect(),
        _ => case.checks.iter().filter(|c| !c.passed).collect(),
    }
}

/// The machine-readable name of an error kind, as it appears in JSON (`kernel-crash`, ...).
pub(crate) fn error_kind_slug(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::KernelCrash => "kernel-crash",
        ErrorKind::BootFailed => "boot-failed",
        ErrorKind::AgentLost => "agent-lost",
        ErrorKind::CaseCrashed => "case-crashed",
        ErrorKind::Setup => "setup",
        ErrorKind::Host => "host",
    }
}

/// One line saying why a case ended as it did: the skip reason, the first failed check with what
/// was observed, the timeout, or the error; empty for a plain pass.
pub fn explain(case: &CaseRecord) -> String {
    match &case.outcome {
        Outcome::Pass => String::new(),
        Outcome::Skip { reason, .. } | Outcome::XFail { reason } => fold(reason),
        Outcome::Timeout { after_ms } => format!("timed out after {after_ms} ms"),
        Outcome::Error { kind, detail } => format!("{kind}: {}", first_line(detail)),
        Outcome::Fail { .. } => failed_checks(case)
            .first()
            .map(|c| format!("{}: observed {}", fold(&c.what), fold(&c.observed)))
            .unwrap_or_else(|| "failed".into()),
    }
}

/// `assert` or `expect`, as the suites write them.
pub(crate) fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Assert => "assert",
        Severity::Expect => "expect",
    }
}

/// Fold text onto one line: lines are trimmed, empty ones dropped, the rest joined with ` | `,
/// and any remaining control character becomes a space.
pub(crate) fn fold(text: &str) -> String {
    let joined = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" | ");
    joined.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The first non-empty line of a text, trimmed (empty if there is none).
pub(crate) fn first_line(text: &str) -> &str {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
}

/// Every line of every log entry (an entry may itself hold newlines).
pub(crate) fn log_lines(case: &CaseRecord) -> impl Iterator<Item = &str> {
    case.logs.iter().flat_map(|entry| entry.lines())
}

/// `case[.variant]`: the case name without its suite.
pub(crate) fn short_name(case: &CaseRecord) -> String {
    match &case.id.variant {
        Some(v) => format!("{}.{v}", case.id.case),
        None => case.id.case.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("plain", "plain")]
    #[case("two\nlines", "two | lines")]
    #[case("  crlf\r\n\r\nand blank  \n", "crlf | and blank")]
    #[case("tab\there", "tab here")]
    #[case("", "")]
    fn folds_text_onto_one_line(#[case] input: &str, #[case] want: &str) {
        assert_eq!(fold(input), want);
    }

    #[rstest]
    #[case("\n\n  BUG: x\nmore", "BUG: x")]
    #[case("", "")]
    fn finds_first_line(#[case] input: &str, #[case] want: &str) {
        assert_eq!(first_line(input), want);
    }

    #[test]
    fn counts_one_of_each_outcome_in_the_sample() {
        let totals = Totals::of(&fixtures::sample());
        assert_eq!(totals, Totals { pass: 1, fail: 1, skip: 1, xfail: 1, timeout: 1, error: 1 });
        assert_eq!(totals.total(), 6);
        assert_eq!(totals.get(OutcomeKind::XFail), 1);
    }
}
