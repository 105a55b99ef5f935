//! The comparisons the two letters draw, measured as ratios on one kernel's sweep: IRQ
//! suspension's CPU at low load close to plain deferral's and far below napibusy's and
//! fullbusy's, its latency close to fullbusy's and, at the highest load, far below deferral's
//! ("net: Suspend softirq when prefer_busy_poll is set", v1 cover letter, its 200K–800K rows);
//! threaded busy-poll's p99 flat across packet rates ("Add support to do threaded napi busy
//! poll", v10 cover letter). A report, not a test: each says reproduced or not, with its ratio.

use super::{KernelModes, ModeStatus};
use pollcheck_proto::modes::ModesPoint;

/// Within this factor either way is "close".
pub const CLOSE: f64 = 1.5;
/// At most this ratio is "far below".
pub const FAR_BELOW: f64 = 0.7;
/// p99 max/min across rates of at most this is "flat".
pub const FLAT: f64 = 1.5;
pub const THRESHOLDS: &str =
    "close: within 1.5× either way; far below: at most 0.7×; flat: max/min p99 over the rates at most 1.5×";

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Reproduced,
    NotReproduced,
    NotMeasured(String),
}

/// One claim checked on one kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub claim: String,
    /// The figures the post gives for it.
    pub post: String,
    /// What this run measured, as ratios.
    pub measured: String,
    pub ratio: Option<f64>,
    pub verdict: Verdict,
}

/// The measured points of `mode`, or why there are none.
fn points<'k>(k: &'k KernelModes, mode: &str) -> Result<&'k [ModesPoint], String> {
    match k.mode(mode).map(|m| &m.status) {
        Some(ModeStatus::Measured { points, .. }) if !points.is_empty() => Ok(points),
        Some(ModeStatus::Measured { .. }) => Err(format!("{mode} measured no rate")),
        Some(ModeStatus::Unavailable { .. }) => Err(format!("{mode} is not available on this kernel")),
        Some(ModeStatus::Failed { .. }) => Err(format!("{mode}'s run failed")),
        None => Err(format!("{mode} was not run (add it to --modes)")),
    }
}

/// The first mode of the run named `<prefix>…`, preferring `<prefix>20` (the letters' default).
fn family(k: &KernelModes, prefix: &str) -> String {
    let want = format!("{prefix}20");
    if k.mode(&want).is_some() {
        return want;
    }
    k.modes.iter().map(|m| m.mode.clone()).find(|m| m.starts_with(prefix)).unwrap_or(want)
}

/// Pairs of points of `a` and `b` at the same offered rate, lowest rate first.
fn pairs<'p>(a: &'p [ModesPoint], b: &'p [ModesPoint]) -> Vec<(&'p ModesPoint, &'p ModesPoint)> {
    let mut v: Vec<_> =
        a.iter().filter_map(|p| b.iter().find(|q| q.offered_rate == p.offered_rate).map(|q| (p, q))).collect();
    v.sort_by(|x, y| x.0.offered_rate.total_cmp(&y.0.offered_rate));
    v
}

fn ratio(x: f64, y: f64) -> Option<f64> {
    (y > 0.0 && x.is_finite()).then(|| x / y)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

fn judged(claim: String, post: &str, measured: String, r: Option<f64>, ok: impl Fn(f64) -> bool) -> Comparison {
    let verdict = match r {
        Some(x) if ok(x) => Verdict::Reproduced,
        Some(_) => Verdict::NotReproduced,
        None => Verdict::NotMeasured("a zero or missing denominator".into()),
    };
    Comparison { claim, post: post.into(), measured, ratio: r, verdict }
}

fn unmeasured(claim: String, post: &str, why: String) -> Comparison {
    Comparison { claim, post: post.into(), measured: "-".into(), ratio: None, verdict: Verdict::NotMeasured(why) }
}

/// `a`'s server CPU over `b`'s at their lowest common rate.
fn cpu_at_low_load(k: &KernelModes, a: &str, b: &str, claim: String, post: &str, ok: fn(f64) -> bool) -> Comparison {
    let (pa, pb) = match (points(k, a), points(k, b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return unmeasured(claim, post, e),
    };
    let Some(&(x, y)) = pairs(pa, pb).first() else {
        return unmeasured(claim, post, format!("{a} and {b} share no offered rate"));
    };
    let r = ratio(x.server_cpu_pct, y.server_cpu_pct);
    let measured = format!(
        "{:.0} % vs {:.0} % at {:.0} req/s: {}",
        x.server_cpu_pct,
        y.server_cpu_pct,
        x.offered_rate,
        r.map_or("-".into(), |v| format!("{v:.2}×"))
    );
    judged(claim, post, measured, r, ok)
}

fn close(x: f64) -> bool {
    (1.0 / CLOSE..=CLOSE).contains(&x)
}

fn far_below(x: f64) -> bool {
    x <= FAR_BELOW
}

/// suspend's latency over fullbusy's: the median over the common rates of the p99 ratios.
fn latency_close_to_fullbusy(k: &KernelModes, s: &str) -> Comparison {
    let claim = format!("{s}'s latency is close to fullbusy's");
    let post = "suspend20 vs fullbusy at 200K–800K: avg 57–77 vs 47–65 µs, p99 146–210 vs 129–191 µs (1.1–1.2×)";
    let (ps, pf) = match (points(k, s), points(k, "fullbusy")) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return unmeasured(claim, post, e),
    };
    let both = pairs(ps, pf);
    let p99 = median(both.iter().filter_map(|(a, b)| ratio(a.p99_us, b.p99_us)).collect());
    let avg = median(both.iter().filter_map(|(a, b)| ratio(a.mean_us, b.mean_us)).collect());
    let show = |v: Option<f64>| v.map_or("-".into(), |x| format!("{x:.2}×"));
    let measured = format!("median over {} rates: p99 {}, avg {}", both.len(), show(p99), show(avg));
    judged(claim, post, measured, p99, close)
}

/// suspend's p99 over deferral's at the highest common rate.
fn latency_below_defer_at_high_load(k: &KernelModes, s: &str, d: &str) -> Comparison {
    let claim = format!("at the highest load {s}'s p99 is far below {d}'s");
    let post = "suspend20 vs defer20 at 800K: p99 210 vs 2481 µs (0.08×)";
    let (ps, pd) = match (points(k, s), points(k, d)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return unmeasured(claim, post, e),
    };
    let Some(&(x, y)) = pairs(ps, pd).last() else {
        return unmeasured(claim, post, format!("{s} and {d} share no offered rate"));
    };
    let r = ratio(x.p99_us, y.p99_us);
    let measured = format!(
        "p99 {:.0} vs {:.0} µs at {:.0} req/s: {}",
        x.p99_us,
        y.p99_us,
        x.offered_rate,
        r.map_or("-".into(), |v| format!("{v:.2}×"))
    );
    judged(claim, post, measured, r, far_below)
}

/// The spread of `mode`'s p99 over its rates: max / min.
pub fn p99_spread(points: &[ModesPoint]) -> Option<f64> {
    let v: Vec<f64> = points.iter().map(|p| p.p99_us).filter(|x| *x > 0.0).collect();
    let max = v.iter().copied().max_by(f64::total_cmp)?;
    let min = v.iter().copied().min_by(f64::total_cmp)?;
    ratio(max, min)
}

fn threaded_flat(k: &KernelModes) -> Comparison {
    let claim = "threaded busy-poll's p99 is flat across rates".to_owned();
    let post = "NAPI threaded p99 12.8–13.1 µs at 12–125 Kpkt/s (max/min 1.02×)";
    let pts = match points(k, "threaded") {
        Ok(p) => p,
        Err(e) => return unmeasured(claim, post, e),
    };
    let r = p99_spread(pts);
    let base = points(k, "base").ok().and_then(p99_spread);
    let measured = format!(
        "p99 max/min over {} rates: {}{}",
        pts.len(),
        r.map_or("-".into(), |v| format!("{v:.2}×")),
        base.map_or(String::new(), |b| format!(" (base: {b:.2}×)"))
    );
    judged(claim, post, measured, r, |x| x <= FLAT)
}

/// Every comparison, for one kernel.
pub fn compare(k: &KernelModes) -> Vec<Comparison> {
    let s = family(k, "suspend");
    let d = family(k, "defer");
    vec![
        cpu_at_low_load(
            k,
            &s,
            &d,
            format!("at the lowest load {s}'s CPU is close to {d}'s"),
            "suspend20 29 % vs defer20 26 % at 200K (1.12×)",
            close,
        ),
        cpu_at_low_load(
            k,
            &s,
            "napibusy",
            format!("at the lowest load {s}'s CPU is far below napibusy's"),
            "suspend20 29 % vs napibusy 56 % at 200K (0.52×)",
            far_below,
        ),
        cpu_at_low_load(
            k,
            &s,
            "fullbusy",
            format!("at the lowest load {s}'s CPU is far below fullbusy's"),
            "suspend20 29 % vs fullbusy 100 % at 200K (0.29×)",
            far_below,
        ),
        latency_close_to_fullbusy(k, &s),
        latency_below_defer_at_high_load(k, &s, &d),
        threaded_flat(k),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modes::fixtures;

    #[test]
    fn the_letters_own_figures_reproduce_their_claims() {
        let k = fixtures::kernel("src:7.2", 1.0);
        let got = compare(&k);
        for c in &got {
            assert_eq!(c.verdict, Verdict::Reproduced, "{c:?}");
        }
        let r: Vec<String> = got.iter().map(|c| c.ratio.map_or("-".into(), |x| format!("{x:.2}"))).collect();
        assert_eq!(r, ["1.12", "0.52", "0.29", "1.10", "0.08", "1.02"]);
    }

    #[test]
    fn a_slower_suspend_is_not_reproduced_and_a_missing_mode_is_not_measured() {
        let mut k = fixtures::kernel("src:7.2", 3.0);
        k.modes.retain(|m| m.mode != "threaded");
        let got = compare(&k);
        assert_eq!(got[3].verdict, Verdict::NotReproduced, "{:?}", got[3]);
        assert_eq!(got[5].verdict, Verdict::NotMeasured("threaded was not run (add it to --modes)".into()));
        assert!(got[5].measured == "-");
    }

    #[test]
    fn spread_and_families() {
        let pts = [fixtures::point("t", 1.0, 100.0, 1.0), fixtures::point("t", 2.0, 150.0, 1.0)];
        assert_eq!(p99_spread(&pts), Some(1.5));
        assert_eq!(p99_spread(&[]), None);
        let mut k = fixtures::kernel("k", 1.0);
        assert_eq!(family(&k, "suspend"), "suspend20");
        k.modes.iter_mut().for_each(|m| m.mode = m.mode.replace("suspend20", "suspend50"));
        assert_eq!(family(&k, "suspend"), "suspend50");
    }
}
