//! `modes.html`: one self-contained page (no scripts, no external resources): the run's facts,
//! the comparisons, the figures as inline SVG and each mode's table, every figure and table
//! naming the accelerator and QEMU version.

use super::compare::{self, Verdict};
use super::table::{cells, preamble, COLUMNS};
use super::{plot, ModeStatus, ModesReport};
use crate::matrix::html::esc;

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em;max-width:72em}\
table{border-collapse:collapse;margin:.5em 0 1.2em}th,td{border:1px solid #999;padding:.3em .5em;text-align:right}\
th{background:#eee}td.l,th.l{text-align:left}caption{text-align:left;font-weight:600;padding:.2em 0}\
td.yes{background:#c8ecc8}td.no{background:#f5b5b5}td.na{background:#e4e4e4}figure{margin:1em 0}\
figcaption{font-size:12px;color:#444}p.na{color:#555}";

fn table(caption: &str, header: &[String], rows: &[Vec<(String, &str)>]) -> String {
    let mut out = format!("<table><caption>{}</caption><tr>", esc(caption));
    for h in header {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr>\n");
    for r in rows {
        out.push_str("<tr>");
        for (cell, class) in r {
            out.push_str(&format!("<td class=\"{class}\">{}</td>", esc(cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

fn comparisons(r: &ModesReport) -> String {
    let header: Vec<String> =
        ["claim", "the post's figures", "kernel", "measured", "verdict"].map(str::to_owned).to_vec();
    let mut rows = Vec::new();
    for k in &r.kernels {
        for c in compare::compare(k) {
            let (v, class) = match &c.verdict {
                Verdict::Reproduced => ("reproduced".to_owned(), "yes"),
                Verdict::NotReproduced => ("not reproduced".to_owned(), "no"),
                Verdict::NotMeasured(why) => (format!("not measured: {why}"), "na"),
            };
            rows.push(vec![(c.claim, "l"), (c.post, "l"), (k.spec.clone(), "l"), (c.measured, "l"), (v, class)]);
        }
    }
    let caption = format!("Do the posts' comparisons hold here? ({}; {})", r.platform(), compare::THRESHOLDS);
    table(&caption, &header, &rows)
}

fn mode_section(r: &ModesReport, mode: &str) -> String {
    let several = r.kernels.len() > 1;
    let mut out = format!("<h2>{}</h2>\n", esc(mode));
    let mut header = vec!["load".to_owned()];
    if several {
        header.push("kernel".into());
    }
    header.extend(COLUMNS.iter().map(|c| (*c).to_owned()));
    let mut rows = Vec::new();
    for k in &r.kernels {
        let who = if several { format!(" on {}", k.spec) } else { String::new() };
        match k.mode(mode).map(|m| &m.status) {
            Some(ModeStatus::Measured { config, points }) => {
                out.push_str(&format!("<p>settings{}: {}</p>\n", esc(&who), esc(config)));
                for p in points {
                    let mut row = vec![(r.label_of(p.offered_rate), "l")];
                    if several {
                        row.push((k.spec.clone(), "l"));
                    }
                    row.extend(cells(p).into_iter().map(|c| (c, "")));
                    rows.push(row);
                }
            }
            Some(ModeStatus::Unavailable { reason }) => out.push_str(&format!(
                "<p class=\"na\">not available on this kernel{}: {}</p>\n",
                esc(&who),
                esc(reason)
            )),
            Some(ModeStatus::Failed { reason }) => {
                out.push_str(&format!("<p class=\"na\">the run failed{}: {}</p>\n", esc(&who), esc(reason)))
            }
            None => out.push_str(&format!("<p class=\"na\">not run{}</p>\n", esc(&who))),
        }
    }
    if !rows.is_empty() {
        out.push_str(&table(&format!("{mode} ({})", r.platform()), &header, &rows));
    }
    out
}

/// The page; a figure that cannot be drawn says why in its place.
pub fn html(r: &ModesReport) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pollcheck bench modes</title>\
         <style>{STYLE}</style></head><body>\n<h1>pollcheck bench modes: packet-delivery modes under load</h1>\n<ul>\n"
    );
    for l in preamble(r) {
        out.push_str(&format!("<li>{}</li>\n", esc(&l)));
    }
    if r.wall_ms > 0 {
        out.push_str(&format!("<li>wall time: {:.0} s</li>\n", r.wall_ms as f64 / 1000.0));
    }
    out.push_str("</ul>\n");
    out.push_str(&comparisons(r));
    for f in plot::figures(r) {
        let body = plot::svg(&f).unwrap_or_else(|e| format!("<p class=\"na\">{}</p>", esc(&e)));
        out.push_str(&format!("<figure>{body}<figcaption>{}</figcaption></figure>\n", esc(&f.title)));
    }
    for m in r.mode_names() {
        out.push_str(&mode_section(r, &m));
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modes::fixtures;

    #[test]
    fn one_self_contained_page() {
        let page = html(&fixtures::one());
        assert!(!page.contains("<script") && !page.contains("<link") && !page.contains("src=\""));
        assert_eq!(page.matches("<svg").count(), 3);
        assert_eq!(page.matches("<td class=\"yes\">reproduced</td>").count(), 6);
        assert!(page.contains("<caption>suspend20 (accel tcg, QEMU 10.0.2)</caption>"));
        assert!(page.contains("not available on this kernel: setsockopt SO_BUSY_POLL answered ENOPROTOOPT"));
        assert!(page.contains("<td class=\"l\">80%</td><td class=\"\">799</td>"));
    }

    #[test]
    fn text_is_escaped() {
        let mut r = fixtures::one();
        r.kernels[0].modes[6].status = ModeStatus::Unavailable { reason: "a <b> & c".into() };
        assert!(html(&r).contains("a &lt;b&gt; &amp; c"));
    }
}
