//! The matrix as one self-contained HTML page: a colour per verdict, and each cell opens its
//! cases, why each ended so, and any console excerpt. No scripts, no external resources.

use super::{CellVerdict, Matrix};

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn class(v: CellVerdict) -> &'static str {
    match v {
        CellVerdict::Error => "error",
        CellVerdict::Fail => "fail",
        CellVerdict::Partial => "partial",
        CellVerdict::Pass => "pass",
        CellVerdict::Skip => "skip",
        CellVerdict::NotRun => "notrun",
    }
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em}\
table{border-collapse:collapse}th,td{border:1px solid #999;padding:.4em .6em;vertical-align:top}\
th small{font-weight:normal;color:#444}td.pass{background:#c8ecc8}td.fail{background:#f5b5b5}\
td.error{background:#e08080}td.partial{background:#f3e6a6}td.skip{background:#e4e4e4}\
td.notrun{background:#fff;color:#777}summary{cursor:pointer;font-weight:600}\
ul{margin:.3em 0;padding-left:1.2em}li{margin:.15em 0}code{font-size:12px}\
pre{background:#222;color:#eee;padding:.5em;max-width:60em;overflow:auto;font-size:12px}";

pub fn html(m: &Matrix) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pollcheck matrix</title>\
         <style>{STYLE}</style></head><body>\n<h1>pollcheck: feature × kernel</h1>\n<table>\n<tr><th>feature</th>"
    );
    for c in &m.columns {
        let mut sub = esc(&c.release);
        if let Some(a) = &c.accel {
            sub.push_str(&format!("<br>{} · {:.1} s", esc(a), c.duration_ms as f64 / 1000.0));
        }
        if let Some(e) = &c.error {
            sub.push_str(&format!("<br>not run: {}", esc(e)));
        }
        out.push_str(&format!("<th>{}<br><small>{sub}</small></th>", esc(&c.spec)));
    }
    out.push_str("</tr>\n");
    for row in &m.rows {
        out.push_str(&format!("<tr><th>{}</th>", esc(&row.feature)));
        for cell in &row.cells {
            out.push_str(&format!("<td class=\"{}\">", class(cell.verdict)));
            if cell.cases.is_empty() {
                out.push_str(&esc(&cell.counts_text()));
            } else {
                out.push_str(&format!("<details><summary>{}</summary><ul>", esc(&cell.counts_text())));
                for case in &cell.cases {
                    out.push_str(&format!("<li><b>{}</b> <code>{}</code>", case.outcome, esc(&case.id)));
                    if !case.detail.is_empty() {
                        out.push_str(&format!(": {}", esc(&case.detail)));
                    }
                    if let Some(console) = &case.console_excerpt {
                        out.push_str(&format!("<pre>{}</pre>", esc(console)));
                    }
                    out.push_str("</li>");
                }
                out.push_str("</ul></details>");
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_escapes_and_colours() {
        let page = html(&Matrix::build(&super::super::tests::runs()));
        assert!(page.contains("Oops: general protection fault &lt;&amp;&gt;"));
        assert!(page.contains("<td class=\"fail\">") && page.contains("<td class=\"skip\">"));
        assert!(!page.contains("<script"));
        insta::assert_snapshot!(page);
    }
}
