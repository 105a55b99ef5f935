//! KTAP version 1 output (the kernel's Documentation/dev-tools/ktap.rst): plan, one result
//! line per case with SKIP/XFAIL/TIMEOUT/ERROR directives, and `# ` diagnostic lines.

use super::model::{CaseRecord, RunReport};
use super::{error_kind_slug, failed_checks, first_line, fold, log_lines, severity_name, Totals};
use pollcheck_proto::Outcome;

/// Render the run as a KTAP version 1 document (newline-terminated).
pub fn ktap(report: &RunReport) -> String {
    let mut lines = vec!["KTAP version 1".to_owned(), format!("1..{}", report.cases.len())];
    lines.extend(header(report));
    for (index, case) in report.cases.iter().enumerate() {
        if case.outcome.is_failure() {
            lines.extend(diagnostics(case));
        }
        lines.push(result_line(index + 1, case));
    }
    lines.push(totals_line(&Totals::of(report)));
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn header(report: &RunReport) -> Vec<String> {
    let mut lines = vec![
        format!("# pollcheck run {}", fold(&report.run_id)),
        format!("# kernel: {} ({})", fold(&report.kernel.spec), fold(&report.kernel.release)),
        format!("# accel: {}", report.accel),
        format!("# qemu: {}", fold(&report.qemu)),
    ];
    if !report.expectations.is_empty() {
        lines.push(format!("# expectations: {}", fold(&report.expectations)));
    }
    lines.extend(report.modules_failed.iter().map(|m| format!("# module failed to load: {}", fold(m))));
    lines.extend(
        report
            .probes
            .iter()
            .map(|(name, p)| format!("# probe {name} ({}): {}", p.feature, fold(&p.answer.to_string()))),
    );
    if let Some(net) = &report.network {
        lines.push(format!("# network: {}", fold(net)));
    }
    lines
}

/// `ok`/`not ok`, the 1-based number, the case name and the directive if any.
fn result_line(number: usize, case: &CaseRecord) -> String {
    let status = if case.outcome.is_failure() { "not ok" } else { "ok" };
    let line = format!("{status} {number} {}", fold(&case.id.to_string()));
    match directive(&case.outcome) {
        Some(d) => format!("{line} # {d}"),
        None => line,
    }
}

fn directive(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Pass | Outcome::Fail { .. } => None,
        Outcome::Skip { reason, .. } => Some(with_text("SKIP", &fold(reason))),
        Outcome::XFail { reason } => Some(with_text("XFAIL", &fold(reason))),
        Outcome::Timeout { after_ms } => Some(format!("TIMEOUT after {after_ms} ms")),
        Outcome::Error { kind, detail } => {
            Some(with_text(&format!("ERROR {}:", error_kind_slug(*kind)), &fold(first_line(detail))))
        }
    }
}

fn with_text(word: &str, text: &str) -> String {
    if text.is_empty() {
        word.trim_end_matches(':').to_owned()
    } else {
        format!("{word} {text}")
    }
}

/// The `# ` lines that explain a failing case, emitted before its result line.
fn diagnostics(case: &CaseRecord) -> Vec<String> {
    let name = case.id.to_string();
    let mut lines = Vec::new();
    for check in failed_checks(case) {
        lines.push(format!("# {name}: {} failed at {}", severity_name(check.severity), fold(&check.location)));
        lines.push(format!("#   what: {}", fold(&check.what)));
        lines.push(format!("#   observed: {}", fold(&check.observed)));
    }
    if let Outcome::Error { detail, .. } = &case.outcome {
        if detail.trim().lines().count() > 1 {
            lines.push(format!("# {name}: error detail:"));
            lines.extend(detail.lines().map(comment));
        }
    }
    lines.extend(log_lines(case).map(|l| format!("# {name}: log: {}", fold(l))));
    if let Some(console) = &case.console_excerpt {
        lines.push(format!("# {name}: console excerpt:"));
        lines.extend(console.lines().map(comment));
    }
    lines
}

/// One line of free text as a KTAP diagnostic line (no trailing blank, no control characters).
fn comment(text: &str) -> String {
    let text = fold(text);
    if text.is_empty() {
        "#".to_owned()
    } else {
        format!("# {text}")
    }
}

fn totals_line(t: &Totals) -> String {
    format!(
        "# totals: pass:{} fail:{} skip:{} xfail:{} timeout:{} error:{}",
        t.pass, t.fail, t.skip, t.xfail, t.timeout, t.error
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;
    use rstest::rstest;

    #[test]
    fn snapshot_sample() {
        insta::assert_snapshot!(ktap(&fixtures::sample()));
    }

    #[test]
    fn empty_report_has_an_empty_plan() {
        let out = ktap(&fixtures::empty());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[..2], ["KTAP version 1", "1..0"]);
        assert_eq!(lines.last(), Some(&"# totals: pass:0 fail:0 skip:0 xfail:0 timeout:0 error:0"));
        assert!(!out.lines().any(|l| l.starts_with("ok") || l.starts_with("not ok")));
    }

    #[rstest]
    #[case(Outcome::not_here("no\nthreaded\r\nNAPI"), "ok 1 a::b # SKIP no | threaded | NAPI")]
    #[case(Outcome::XFail { reason: "known\n\nbug".into() }, "ok 1 a::b # XFAIL known | bug")]
    #[case(Outcome::not_here(""), "ok 1 a::b # SKIP")]
    #[case(Outcome::Timeout { after_ms: 7 }, "not ok 1 a::b # TIMEOUT after 7 ms")]
    #[case(
        Outcome::error(pollcheck_proto::ErrorKind::AgentLost, "\nqemu exited\nstatus 1"),
        "not ok 1 a::b # ERROR agent-lost: qemu exited"
    )]
    #[case(Outcome::error(pollcheck_proto::ErrorKind::Setup, ""), "not ok 1 a::b # ERROR setup")]
    fn result_lines_stay_on_one_line(#[case] outcome: Outcome, #[case] want: &str) {
        let mut report = fixtures::empty();
        let mut case = fixtures::sample().cases.remove(0);
        case.id = pollcheck_proto::CaseId::new("a", "b");
        case.outcome = outcome;
        case.console_excerpt = None;
        report.cases.push(case);
        let out = ktap(&report);
        assert!(out.lines().any(|l| l == want), "no line {want:?} in\n{out}");
        assert!(out.lines().all(|l| l.starts_with('#') || !l.contains('\r')));
        let results = out.lines().filter(|l| l.starts_with("ok ") || l.starts_with("not ok ")).count();
        assert_eq!(results, 1);
    }

    #[test]
    fn every_line_is_version_plan_result_or_diagnostic() {
        let out = ktap(&fixtures::sample());
        for line in out.lines().skip(2) {
            let ok = line == "#" || line.starts_with("# ") || line.starts_with("ok ") || line.starts_with("not ok ");
            assert!(ok, "stray line {line:?}");
        }
    }
}
