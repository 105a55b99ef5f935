//! The sweep's figures as SVG (plotters' SVG backend, text left to the viewer's fonts): p50 and
//! p99 latency vs achieved rate per mode (log scale), the server vCPU's busy % vs rate, and the
//! steered queue's hard IRQs/s vs rate. One series per kernel and mode; each title names the
//! accelerator and QEMU version.

use super::ModesReport;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use pollcheck_proto::modes::ModesPoint;

const SIZE: (u32, u32) = (860, 480);

/// One line of a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Palette index: one per kernel and mode, shared by that pair's lines.
    pub color: usize,
    pub dashed: bool,
}

/// One figure: its title, y axis, and lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: String,
    pub y_label: String,
    pub log_y: bool,
    /// A fixed top of the y axis (CPU %: 100) unless a value exceeds it.
    pub y_max: Option<f64>,
    pub series: Vec<Series>,
}

/// One series per kernel and mode with `y` of each measured point, x the achieved rate.
fn lines(r: &ModesReport, suffix: &str, dashed: bool, y: fn(&ModesPoint) -> Option<f64>) -> Vec<Series> {
    let several = r.kernels.len() > 1;
    let modes = r.mode_names();
    let mut out = Vec::new();
    for (ki, k) in r.kernels.iter().enumerate() {
        for (mi, m) in modes.iter().enumerate() {
            let Some(run) = k.mode(m) else { continue };
            let points: Vec<(f64, f64)> = run.points().iter().filter_map(|p| Some((p.achieved_rate, y(p)?))).collect();
            if points.is_empty() {
                continue;
            }
            let who = if several { format!("{} ", k.spec) } else { String::new() };
            out.push(Series { label: format!("{who}{m}{suffix}"), points, color: ki * modes.len() + mi, dashed });
        }
    }
    out
}

pub fn latency(r: &ModesReport) -> Figure {
    let mut series = lines(r, " p99", false, |p| Some(p.p99_us));
    series.extend(lines(r, " p50", true, |p| Some(p.p50_us)));
    Figure {
        title: format!("p50 (dashed) and p99 latency vs achieved rate — {}", r.platform()),
        y_label: "latency, µs (log)".into(),
        log_y: true,
        y_max: None,
        series,
    }
}

pub fn cpu(r: &ModesReport) -> Figure {
    Figure {
        title: format!("server vCPU busy % vs achieved rate — {}", r.platform()),
        y_label: "server vCPU busy, %".into(),
        log_y: false,
        y_max: Some(100.0),
        series: lines(r, "", false, |p| Some(p.server_cpu_pct)),
    }
}

pub fn irqs(r: &ModesReport) -> Figure {
    Figure {
        title: format!("hard IRQs/s on the steered queue vs achieved rate — {}", r.platform()),
        y_label: "IRQs/s".into(),
        log_y: false,
        y_max: None,
        series: lines(r, "", false, |p| p.irqs_per_s),
    }
}

/// Every figure of the report.
pub fn figures(r: &ModesReport) -> Vec<Figure> {
    vec![latency(r), cpu(r), irqs(r)]
}

/// The x range (from 0) and y range (from 0, or the smallest value on a log axis) with headroom.
pub fn bounds(f: &Figure) -> ((f64, f64), (f64, f64)) {
    let all = f.series.iter().flat_map(|s| s.points.iter().copied());
    let (mut xmax, mut ymin, mut ymax) = (0.0f64, f64::INFINITY, 0.0f64);
    for (x, y) in all.filter(|(_, y)| !f.log_y || *y > 0.0) {
        xmax = xmax.max(x);
        ymin = ymin.min(y);
        ymax = ymax.max(y);
    }
    let xmax = if xmax > 0.0 { xmax * 1.05 } else { 1.0 };
    if f.log_y {
        let lo = if ymin.is_finite() { ymin / 1.5 } else { 1.0 };
        ((0.0, xmax), (lo, (ymax * 1.5).max(lo * 10.0)))
    } else {
        let top = if ymax > 0.0 { ymax * 1.1 } else { 1.0 };
        ((0.0, xmax), (0.0, f.y_max.filter(|m| *m >= ymax).unwrap_or(top)))
    }
}

/// The figure as an SVG document.
pub fn svg(f: &Figure) -> Result<String, String> {
    let ((x0, x1), (y0, y1)) = bounds(f);
    let mut out = String::new();
    if f.log_y {
        draw(f, &mut out, x0..x1, (y0..y1).log_scale())?;
    } else {
        draw(f, &mut out, x0..x1, y0..y1)?;
    }
    Ok(out)
}

fn draw<Y>(f: &Figure, out: &mut String, x: std::ops::Range<f64>, y: Y) -> Result<(), String>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let e = |e: DrawingAreaErrorKind<std::io::Error>| format!("failed to draw {:?}: {e}", f.title);
    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&f.title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("achieved rate, replies/s")
        .y_desc(f.y_label.as_str())
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(e)?;
    for s in &f.series {
        let color = Palette99::pick(s.color).to_rgba();
        let style = color.stroke_width(2);
        let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(|(_, y)| !f.log_y || *y > 0.0).collect();
        let drawn = if s.dashed {
            chart.draw_series(DashedLineSeries::new(pts, 6, 4, style)).map_err(e)?
        } else {
            chart.draw_series(LineSeries::new(pts, style).point_size(3)).map_err(e)?
        };
        drawn.label(s.label.as_str()).legend(move |(lx, ly)| PathElement::new(vec![(lx, ly), (lx + 18, ly)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modes::fixtures;

    #[test]
    fn figures_have_a_line_per_kernel_and_mode() {
        let one = fixtures::one();
        let lat = latency(&one);
        assert_eq!(lat.series.len(), 12, "six measured modes, p99 and p50");
        assert!(lat.title.ends_with("accel tcg, QEMU 10.0.2"));
        assert_eq!(lat.series[0].label, "base p99");
        assert!(lat.series.iter().any(|s| s.label == "suspend20 p50" && s.dashed));
        let two = fixtures::report(vec![fixtures::kernel("a", 1.0), fixtures::kernel("b", 1.0)]);
        let c = cpu(&two);
        assert_eq!(c.series.len(), 12);
        assert_eq!(c.series[7].label, "b defer20");
        assert_ne!(c.series[1].color, c.series[7].color);
    }

    #[test]
    fn bounds_leave_headroom_and_log_axes_skip_zero() {
        let f = Figure {
            title: "t".into(),
            y_label: "y".into(),
            log_y: true,
            y_max: None,
            series: vec![Series {
                label: "s".into(),
                points: vec![(100.0, 0.0), (200.0, 10.0), (400.0, 1000.0)],
                color: 0,
                dashed: false,
            }],
        };
        let ((x0, x1), (y0, y1)) = bounds(&f);
        assert_eq!((x0, x1), (0.0, 420.0));
        assert!((y0 - 10.0 / 1.5).abs() < 1e-9 && (y1 - 1500.0).abs() < 1e-9);
        let empty = Figure { series: Vec::new(), log_y: false, ..f.clone() };
        assert_eq!(bounds(&empty), ((0.0, 1.0), (0.0, 1.0)));
        let cpu = |top: f64| Figure {
            log_y: false,
            y_max: Some(100.0),
            series: vec![Series { points: vec![(1.0, top)], ..f.series[0].clone() }],
            ..f.clone()
        };
        assert_eq!(bounds(&cpu(50.0)).1, (0.0, 100.0), "CPU % up to 100");
        assert!((bounds(&cpu(200.0)).1 .1 - 220.0).abs() < 1e-9, "a value above the cap widens the axis");
    }

    #[test]
    fn svg_documents_name_the_platform_and_every_series() {
        for f in figures(&fixtures::one()) {
            let doc = svg(&f).expect("draws");
            assert!(doc.starts_with("<svg") && doc.trim_end().ends_with("</svg>"), "{}", &doc[..60]);
            assert!(doc.contains("QEMU 10.0.2"));
            for s in &f.series {
                assert!(doc.contains(&s.label), "{} missing", s.label);
            }
        }
    }
}
