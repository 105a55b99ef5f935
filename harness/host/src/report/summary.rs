//! Human summary for a terminal: header, one aligned line per case with the details of what went
//! wrong indented below it, and a totals line; ANSI colour only on request.

use super::model::{CaseRecord, RunReport};
use super::{failed_checks, first_line, fold, log_lines, severity_name, Totals};
use pollcheck_proto::{Outcome, OutcomeKind};

/// Console excerpts longer than this are cut, pointing at the full console log.
const MAX_CONSOLE_LINES: usize = 20;
/// Width of the outcome column (`TIMEOUT` is the longest label).
const LABEL_WIDTH: usize = 7;
const DETAIL_INDENT: &str = "         ";

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";

/// Render the run for a terminal (newline-terminated); `color` adds ANSI escape codes.
pub fn summary(report: &RunReport, color: bool) -> String {
    let paint = Paint { color };
    let name_width = report.cases.iter().map(|c| c.id.to_string().len()).max().unwrap_or(0);
    let mut lines = vec![header(report, paint)];
    for case in &report.cases {
        lines.push(case_line(case, name_width, paint));
        lines.extend(details(case).into_iter().map(|d| format!("{DETAIL_INDENT}{d}").trim_end().to_owned()));
    }
    lines.push(totals_line(&Totals::of(report), paint));
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[derive(Clone, Copy)]
struct Paint {
    color: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

fn kind_color(kind: OutcomeKind) -> &'static str {
    match kind {
        OutcomeKind::Pass => "\x1b[32m",
        OutcomeKind::Fail => "\x1b[1;31m",
        OutcomeKind::Skip => "\x1b[33m",
        OutcomeKind::XFail => "\x1b[36m",
        OutcomeKind::Timeout => "\x1b[1;35m",
        OutcomeKind::Error => "\x1b[1;31m",
    }
}

fn header(report: &RunReport, paint: Paint) -> String {
    let title = paint.wrap(BOLD, &format!("pollcheck run {}", report.run_id));
    let net = report.network.as_ref().map(|n| format!("\nnetwork: {n}")).unwrap_or_default();
    let expect =
        if report.expectations.is_empty() { String::new() } else { format!("\nexpectations: {}", report.expectations) };
    let modules: String = report.modules_failed.iter().map(|m| format!("\nmodule failed to load: {m}")).collect();
    format!(
        "{title}: kernel {} ({}), accel {} (QEMU {}), {} on {} guest(s){net}{expect}{modules}",
        report.kernel.spec,
        report.kernel.release,
        report.accel,
        report.qemu,
        seconds(report.duration_ms),
        report.guests
    )
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

/// `PASS     busy_poll::params.defaults  12 ms`, plus the reason for SKIP and XFAIL.
fn case_line(case: &CaseRecord, name_width: usize, paint: Paint) -> String {
    let kind = case.outcome.kind();
    let label = paint.wrap(kind_color(kind), &format!("{:<LABEL_WIDTH$}", kind.to_string()));
    let line = format!("{label}  {:<name_width$}  {:>6} ms", case.id.to_string(), case.duration_ms);
    match &case.outcome {
        Outcome::Skip { reason, .. } | Outcome::XFail { reason } => format!("{line}  ({})", fold(reason)),
        _ => line,
    }
}

/// Indented lines explaining a failure, timeout or error; nothing for the other outcomes.
fn details(case: &CaseRecord) -> Vec<String> {
    if !case.outcome.is_failure() {
        return Vec::new();
    }
    let mut lines = outcome_detail(&case.outcome);
    for check in failed_checks(case) {
        lines.push(format!("{} failed: {}", severity_name(check.severity), fold(&check.what)));
        lines.push(format!("  observed: {}", fold(&check.observed)));
        lines.push(format!("  at {}", check.location));
    }
    lines.extend(log_lines(case).map(|l| format!("log: {}", fold(l))));
    if let Some(console) = &case.console_excerpt {
        lines.extend(console_lines(console));
    }
    lines
}

fn outcome_detail(outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::Timeout { after_ms } => vec![format!("timed out after {after_ms} ms")],
        Outcome::Error { kind, detail } => vec![format!("{kind}: {}", first_line(detail))],
        _ => Vec::new(),
    }
}

fn console_lines(console: &str) -> Vec<String> {
    let all: Vec<&str> = console.lines().collect();
    let mut lines = vec!["console:".to_owned()];
    lines.extend(all.iter().take(MAX_CONSOLE_LINES).map(|l| format!("  {}", l.trim_end())));
    if all.len() > MAX_CONSOLE_LINES {
        lines.push(format!("  ... {} more lines in console.log", all.len() - MAX_CONSOLE_LINES));
    }
    lines
}

/// `12 passed, 1 failed, 3 skipped`, then xfail/timeout/error counts when nonzero.
fn totals_line(t: &Totals, paint: Paint) -> String {
    let mut parts = vec![format!("{} passed", t.pass), format!("{} failed", t.fail), format!("{} skipped", t.skip)];
    if t.xfail > 0 {
        parts.push(format!("{} xfailed", t.xfail));
    }
    if t.timeout > 0 {
        parts.push(format!("{} timed out", t.timeout));
    }
    if t.error > 0 {
        parts.push(format!("{} {}", t.error, if t.error == 1 { "error" } else { "errors" }));
    }
    let bad = t.fail + t.timeout + t.error > 0;
    let code = if bad { kind_color(OutcomeKind::Fail) } else { kind_color(OutcomeKind::Pass) };
    paint.wrap(code, &parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;
    use rstest::rstest;

    #[test]
    fn snapshot_sample() {
        insta::assert_snapshot!(summary(&fixtures::sample(), false));
    }

    #[rstest]
    #[case(false)]
    #[case(true)]
    fn colour_only_when_asked(#[case] color: bool) {
        let out = summary(&fixtures::sample(), color);
        assert_eq!(out.contains('\x1b'), color);
        assert!(out.lines().all(|l| l == l.trim_end()), "trailing blanks in\n{out}");
    }

    #[test]
    fn empty_report_has_header_and_zero_totals() {
        let report = RunReport { expectations: String::new(), modules_failed: Vec::new(), ..fixtures::empty() };
        let out = summary(&report, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert_eq!(lines[1], "0 passed, 0 failed, 0 skipped");
    }

    #[test]
    fn long_console_excerpt_is_cut_at_twenty_lines() {
        let console: String = (0..30).map(|i| format!("[ {i}] line\n")).collect();
        let lines = console_lines(&console);
        assert_eq!(lines.len(), 1 + MAX_CONSOLE_LINES + 1);
        assert_eq!(lines.last().map(String::as_str), Some("  ... 10 more lines in console.log"));
    }

    #[rstest]
    #[case(Totals { pass: 12, fail: 1, skip: 3, ..Totals::default() }, "12 passed, 1 failed, 3 skipped")]
    #[case(Totals { pass: 1, xfail: 2, timeout: 1, error: 2, ..Totals::default() }, "1 passed, 0 failed, 0 skipped, 2 xfailed, 1 timed out, 2 errors")]
    fn totals_mention_rare_kinds_only_when_present(#[case] totals: Totals, #[case] want: &str) {
        assert_eq!(totals_line(&totals, Paint { color: false }), want);
    }
}
