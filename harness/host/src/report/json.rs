//! JSON output: the serde form of [`RunReport`] with a `totals` object appended, pretty-printed
//! with a stable key order (struct field order).

use super::model::RunReport;
use super::Totals;
use serde::Serialize;

#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    report: &'a RunReport,
    totals: Totals,
}

/// Render the run as pretty JSON (newline-terminated).
pub fn json(report: &RunReport) -> String {
    let doc = JsonReport { report, totals: Totals::of(report) };
    // Only string-keyed structs and enums are serialised, which cannot fail; keep the output
    // valid JSON even so.
    let mut out = serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| serde_json::json!({ "error": format!("failed to serialize report: {e}") }).to_string());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn snapshot_sample() {
        insta::assert_snapshot!(json(&fixtures::sample()));
    }

    #[test]
    fn round_trips_into_run_report_and_counts_totals() {
        let sample = fixtures::sample();
        let text = json(&sample);
        let back: RunReport = serde_json::from_str(&text).expect("parses as RunReport");
        assert_eq!(back, sample);
        let value: serde_json::Value = serde_json::from_str(&text).expect("parses");
        for kind in ["pass", "fail", "skip", "xfail", "timeout", "error"] {
            assert_eq!(value["totals"][kind], 1, "{kind}");
        }
    }

    #[test]
    fn empty_report_has_zero_totals() {
        let value: serde_json::Value = serde_json::from_str(&json(&fixtures::empty())).expect("parses");
        assert_eq!(value["cases"], serde_json::json!([]));
        assert_eq!(value["totals"]["pass"], 0);
    }
}
