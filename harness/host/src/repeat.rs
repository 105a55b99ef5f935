//! Repeated runs of the same cases on one kernel, summarised: each suite's wall time (median, min,
//! max over the runs) and each case's outcome stability — a case whose outcome kind differs between
//! runs is flaky; one that fails every time is failing, not flaky.

use crate::report::RunReport;
use pollcheck_proto::OutcomeKind;
use std::collections::BTreeMap;
use std::fmt;

/// Median, min and max of a sample of milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    pub median_ms: u64,
    pub min_ms: u64,
    pub max_ms: u64,
}

impl Spread {
    /// None for an empty sample. The median of an even sample is the upper middle value.
    pub fn of(sample: &[u64]) -> Option<Self> {
        let mut xs = sample.to_vec();
        xs.sort_unstable();
        Some(Self { median_ms: *xs.get(xs.len() / 2)?, min_ms: *xs.first()?, max_ms: *xs.last()? })
    }
}

impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |ms: u64| ms as f64 / 1000.0;
        write!(f, "median {:.2} s (min {:.2}, max {:.2})", s(self.median_ms), s(self.min_ms), s(self.max_ms))
    }
}

/// How one case fared over the runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStability {
    pub case: String,
    /// How many runs ended in each outcome kind.
    pub kinds: BTreeMap<OutcomeKind, u32>,
}

impl CaseStability {
    /// More than one outcome kind over the runs.
    pub fn is_flaky(&self) -> bool {
        self.kinds.len() > 1
    }

    /// Runs in which the case failed (FAIL, TIMEOUT, ERROR).
    pub fn failures(&self) -> u32 {
        self.kinds.iter().filter(|(k, _)| is_bad(**k)).map(|(_, n)| n).sum()
    }
}

fn is_bad(kind: OutcomeKind) -> bool {
    matches!(kind, OutcomeKind::Fail | OutcomeKind::Timeout | OutcomeKind::Error)
}

/// One suite's numbers over the runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteSummary {
    pub suite: String,
    /// Sum of the suite's case durations per run.
    pub wall: Spread,
    pub cases: Vec<CaseStability>,
    /// Runs in which at least one of the suite's cases failed.
    pub failed_runs: u32,
}

/// The whole series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub runs: u32,
    /// Whole-run wall time, boot included.
    pub whole: Spread,
    pub suites: Vec<SuiteSummary>,
    /// Runs in which at least one case failed.
    pub failed_runs: u32,
}

impl Summary {
    /// Cases with more than one outcome over the runs.
    pub fn flaky(&self) -> impl Iterator<Item = &CaseStability> {
        self.suites.iter().flat_map(|s| &s.cases).filter(|c| c.is_flaky())
    }

    /// Cases that failed in every run.
    pub fn always_failing(&self) -> impl Iterator<Item = &CaseStability> {
        self.suites.iter().flat_map(|s| &s.cases).filter(move |c| !c.is_flaky() && c.failures() == self.runs)
    }
}

/// Summarise runs of the same cases; None when there were none.
pub fn summarise(runs: &[RunReport]) -> Option<Summary> {
    let whole = Spread::of(&runs.iter().map(|r| r.duration_ms).collect::<Vec<_>>())?;
    let mut walls: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut failed: BTreeMap<&str, u32> = BTreeMap::new();
    let mut kinds: BTreeMap<&str, BTreeMap<String, BTreeMap<OutcomeKind, u32>>> = BTreeMap::new();
    for run in runs {
        let mut per_suite: BTreeMap<&str, u64> = BTreeMap::new();
        let mut failed_here: std::collections::BTreeSet<&str> = Default::default();
        for c in &run.cases {
            *per_suite.entry(&c.id.suite).or_default() += c.duration_ms;
            if is_bad(c.outcome.kind()) {
                failed_here.insert(&c.id.suite);
            }
            *kinds
                .entry(&c.id.suite)
                .or_default()
                .entry(c.id.to_string())
                .or_default()
                .entry(c.outcome.kind())
                .or_default() += 1;
        }
        for (suite, ms) in per_suite {
            walls.entry(suite).or_default().push(ms);
        }
        for suite in failed_here {
            *failed.entry(suite).or_default() += 1;
        }
    }
    let suites = walls
        .into_iter()
        .filter_map(|(suite, ms)| {
            let cases = kinds
                .remove(suite)
                .unwrap_or_default()
                .into_iter()
                .map(|(case, kinds)| CaseStability { case, kinds })
                .collect();
            let failed_runs = failed.get(suite).copied().unwrap_or(0);
            Some(SuiteSummary { suite: suite.to_owned(), wall: Spread::of(&ms)?, cases, failed_runs })
        })
        .collect();
    let failed_runs = runs.iter().filter(|r| r.cases.iter().any(|c| is_bad(c.outcome.kind()))).count() as u32;
    Some(Summary { runs: runs.len() as u32, whole, suites, failed_runs })
}

/// The summary as Markdown: one row per suite, then the flaky and always-failing cases.
pub fn render(kernel: &str, s: &Summary) -> String {
    let mut out = format!("### {kernel}: {} runs, whole run {}\n\n", s.runs, s.whole);
    out.push_str("| suite | cases | wall time per run | flaky cases | runs with a failure |\n|---|---|---|---|---|\n");
    for suite in &s.suites {
        let flaky = suite.cases.iter().filter(|c| c.is_flaky()).count();
        out.push_str(&format!(
            "| {} | {} | {} | {flaky} | {}/{} |\n",
            suite.suite,
            suite.cases.len(),
            suite.wall,
            suite.failed_runs,
            s.runs
        ));
    }
    let describe = |c: &CaseStability| {
        let kinds: Vec<String> = c.kinds.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        format!("- {}: {}\n", c.case, kinds.join(", "))
    };
    let flaky: Vec<String> = s.flaky().map(describe).collect();
    if !flaky.is_empty() {
        out.push_str(&format!("\nFlaky ({}):\n{}", flaky.len(), flaky.concat()));
    }
    let failing: Vec<String> = s.always_failing().map(describe).collect();
    if !failing.is_empty() {
        out.push_str(&format!("\nFailing in every run ({}):\n{}", failing.len(), failing.concat()));
    }
    out.push_str(&format!("\nRuns with a failing case: {}/{}.\n", s.failed_runs, s.runs));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{fixtures, CaseRecord};
    use pollcheck_proto::Outcome;

    fn run(duration_ms: u64, outcomes: &[(&str, Outcome, u64)]) -> RunReport {
        let cases = outcomes
            .iter()
            .map(|(id, outcome, ms)| CaseRecord {
                id: id.parse().expect("a case id"),
                summary: String::new(),
                outcome: outcome.clone(),
                duration_ms: *ms,
                checks: Vec::new(),
                logs: Vec::new(),
                console_excerpt: None,
                guest: None,
            })
            .collect();
        RunReport { duration_ms, cases, ..fixtures::empty() }
    }

    fn fail() -> Outcome {
        Outcome::Fail { checks: vec![] }
    }

    #[test]
    fn spread_takes_the_upper_median() {
        assert_eq!(Spread::of(&[40, 10, 30, 20]), Some(Spread { median_ms: 30, min_ms: 10, max_ms: 40 }));
        assert_eq!(Spread::of(&[]), None);
    }

    #[test]
    fn a_case_that_changes_outcome_is_flaky_and_one_that_always_fails_is_not() {
        let runs = vec![
            run(1000, &[("a::x", Outcome::Pass, 10), ("a::y", fail(), 5), ("b::z", Outcome::Pass, 7)]),
            run(3000, &[("a::x", fail(), 30), ("a::y", fail(), 5), ("b::z", Outcome::Pass, 9)]),
            run(2000, &[("a::x", Outcome::Pass, 20), ("a::y", fail(), 5), ("b::z", Outcome::Pass, 8)]),
        ];
        let s = summarise(&runs).expect("three runs");
        assert_eq!(s.whole, Spread { median_ms: 2000, min_ms: 1000, max_ms: 3000 });
        assert_eq!(s.failed_runs, 3);
        assert_eq!(s.flaky().map(|c| c.case.as_str()).collect::<Vec<_>>(), ["a::x"]);
        assert_eq!(s.always_failing().map(|c| c.case.as_str()).collect::<Vec<_>>(), ["a::y"]);
        let (a, b) = (&s.suites[0], &s.suites[1]);
        assert_eq!((a.suite.as_str(), a.wall), ("a", Spread { median_ms: 25, min_ms: 15, max_ms: 35 }));
        assert_eq!((a.failed_runs, b.failed_runs), (3, 0));
        insta::assert_snapshot!(render("src:7.2", &s));
    }

    #[test]
    fn no_runs_no_summary() {
        assert_eq!(summarise(&[]), None);
    }
}
