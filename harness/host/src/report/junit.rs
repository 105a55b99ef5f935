//! JUnit XML output (via quick-junit): one `<testsuite>` per pollcheck suite and kernel release,
//! failures as `<failure>`, infrastructure trouble and timeouts as `<error>`.

use super::model::{CaseRecord, RunReport};
use super::{error_kind_slug, failed_checks, first_line, fold, log_lines, severity_name, short_name, ReportError};
use pollcheck_proto::{Check, Outcome};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// Render the run as a JUnit XML document.
pub fn junit(report: &RunReport) -> Result<String, ReportError> {
    let mut doc = Report::new(format!("pollcheck {}", report.run_id));
    doc.set_time(Duration::from_millis(report.duration_ms));
    for (suite, cases) in group_by_suite(&report.cases) {
        doc.add_test_suite(test_suite(report, suite, &cases));
    }
    Ok(doc.to_string()?)
}

/// Cases grouped by suite, suites in order of first appearance, cases in run order.
fn group_by_suite(cases: &[CaseRecord]) -> Vec<(&str, Vec<&CaseRecord>)> {
    let mut groups: Vec<(&str, Vec<&CaseRecord>)> = Vec::new();
    for case in cases {
        let suite = case.id.suite.as_str();
        match groups.iter_mut().find(|(name, _)| *name == suite) {
            Some((_, members)) => members.push(case),
            None => groups.push((suite, vec![case])),
        }
    }
    groups
}

fn test_suite(report: &RunReport, suite: &str, cases: &[&CaseRecord]) -> TestSuite {
    let mut ts = TestSuite::new(format!("{suite}@{}", report.kernel.release));
    ts.add_properties([
        Property::new("kernel", report.kernel.spec.as_str()),
        Property::new("release", report.kernel.release.as_str()),
        Property::new("accel", report.accel.to_string()),
        Property::new("qemu", report.qemu.as_str()),
        Property::new("expectations", report.expectations.as_str()),
    ]);
    for m in &report.modules_failed {
        ts.add_property(Property::new("module-failed", m.as_str()));
    }
    ts.set_time(Duration::from_millis(cases.iter().map(|c| c.duration_ms).sum()));
    ts.add_test_cases(cases.iter().map(|c| test_case(c)));
    ts
}

fn test_case(case: &CaseRecord) -> TestCase {
    let mut tc = TestCase::new(short_name(case), status(case));
    tc.set_classname(case.id.suite.as_str());
    tc.set_time(Duration::from_millis(case.duration_ms));
    let logs: Vec<&str> = log_lines(case).collect();
    if !logs.is_empty() {
        tc.set_system_out(logs.join("\n"));
    }
    if let Some(console) = &case.console_excerpt {
        tc.set_system_err(console.as_str());
    }
    tc
}

fn status(case: &CaseRecord) -> TestCaseStatus {
    match &case.outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::Fail { .. } => failure(case),
        Outcome::Skip { reason, .. } => skipped(fold(reason)),
        Outcome::XFail { reason } => skipped(format!("xfail: {}", fold(reason))),
        Outcome::Timeout { after_ms } => error("timeout", format!("timed out after {after_ms} ms"), None),
        Outcome::Error { kind, detail } => {
            let full = (detail.trim().lines().count() > 1).then(|| detail.clone());
            error(error_kind_slug(*kind), first_line(detail).to_owned(), full)
        }
    }
}

fn failure(case: &CaseRecord) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    let first = failed_checks(case).first().map(|c| fold(&format!("{}: {}", c.what, c.observed)));
    status.set_message(first.unwrap_or_else(|| "case failed without a failed check".to_owned()));
    let all: Vec<String> = case.checks.iter().map(describe_check).collect();
    if !all.is_empty() {
        status.set_description(all.join("\n"));
    }
    status
}

/// One check per line: `[FAIL] expect: what: observed (at file:line)`.
fn describe_check(check: &Check) -> String {
    let verdict = if check.passed { "pass" } else { "FAIL" };
    let severity = severity_name(check.severity);
    format!("[{verdict}] {severity}: {}: {} (at {})", check.what, check.observed, check.location)
}

fn skipped(message: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::skipped();
    status.set_message(message);
    status
}

fn error(ty: &str, message: String, description: Option<String>) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_type(ty).set_message(message);
    if let Some(d) = description {
        status.set_description(d);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn snapshot_sample() {
        insta::assert_snapshot!(junit(&fixtures::sample()).expect("serializes"));
    }

    #[test]
    fn empty_report_has_no_suites() {
        let xml = junit(&fixtures::empty()).expect("serializes");
        assert!(xml.contains("tests=\"0\""), "{xml}");
        assert!(!xml.contains("<testsuite "), "{xml}");
    }

    #[test]
    fn messages_are_single_line_attributes() {
        let xml = junit(&fixtures::sample()).expect("serializes");
        assert!(
            xml.contains(
                r#"<skipped message="xfail: virtio-net ignores irq_suspend_timeout | see docs/known-failures.md"/>"#
            ),
            "{xml}"
        );
    }

    #[test]
    fn groups_suites_in_first_seen_order() {
        let report = fixtures::sample();
        let groups = group_by_suite(&report.cases);
        let names: Vec<(&str, usize)> = groups.iter().map(|(s, c)| (*s, c.len())).collect();
        assert_eq!(names, [("busy_poll", 3), ("irq_suspend", 3)]);
    }
}
