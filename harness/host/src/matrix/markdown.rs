//! The matrix as GitHub-flavoured Markdown (fit for `$GITHUB_STEP_SUMMARY`): the table, then one
//! line per case that failed, errored or timed out.

use super::{CellVerdict, Matrix};
use pollcheck_proto::OutcomeKind;

fn mark(v: CellVerdict) -> &'static str {
    match v {
        CellVerdict::Error => "🟥",
        CellVerdict::Fail => "❌",
        CellVerdict::Partial => "🟨",
        CellVerdict::Pass => "✅",
        CellVerdict::Skip => "⬜",
        CellVerdict::NotRun => "➖",
    }
}

/// Table cells may not hold `|` or newlines.
fn cell_text(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

pub fn markdown(m: &Matrix) -> String {
    let mut out = String::from("## pollcheck: feature × kernel\n\n| feature |");
    for c in &m.columns {
        let release = if c.release.is_empty() { String::new() } else { format!("<br>{}", c.release) };
        out.push_str(&format!(" {}{} |", cell_text(&c.spec), cell_text(&release)));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(m.columns.len()));
    out.push('\n');
    for row in &m.rows {
        out.push_str(&format!("| {} |", cell_text(&row.feature)));
        for cell in &row.cells {
            out.push_str(&format!(" {} {} |", mark(cell.verdict), cell.counts_text()));
        }
        out.push('\n');
    }
    out.push_str(
        "\n✅ pass · ❌ fail · 🟥 error/timeout · 🟨 partly skipped · ⬜ skipped (feature absent) · ➖ not run\n",
    );

    let mut problems = Vec::new();
    for (i, col) in m.columns.iter().enumerate() {
        if let Some(e) = &col.error {
            problems.push(format!("- **{}**: not run: {}", col.spec, cell_text(e)));
        }
        for row in &m.rows {
            for case in &row.cells[i].cases {
                if matches!(case.outcome, OutcomeKind::Fail | OutcomeKind::Error | OutcomeKind::Timeout) {
                    problems.push(format!(
                        "- **{}** `{}` {}: {}",
                        col.spec,
                        case.id,
                        case.outcome,
                        cell_text(&case.detail)
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        out.push_str("\n### Failures\n\n");
        out.push_str(&problems.join("\n"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(markdown(&Matrix::build(&super::super::tests::runs())));
    }
}
