//! Choosing the sweep: `--rates` as given or `auto` (a short ramp in base mode finds the
//! saturation point, then fractions of it are offered, as the IRQ suspension letter's loads are
//! fractions of its 1M qps), the params each run gets, and each case's time limit.

use crate::error::HostError;
use pollcheck_proto::modes::{ModesParams, ModesPoint};
use pollcheck_proto::CaseMeta;

/// The fractions of the saturation rate `auto` offers.
pub const FRACTIONS: [f64; 4] = [0.2, 0.4, 0.6, 0.8];
/// The ramp's rates (it stops at the first the pair cannot keep up with).
pub const RAMP: [f64; 9] = [250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16_000.0, 32_000.0, 64_000.0];
pub const RAMP_WINDOW_MS: u64 = 1000;
pub const RAMP_WARMUP_MS: u64 = 300;
/// The modes of the default sweep: the IRQ suspension letter's comparison.
pub const DEFAULT_MODES: [&str; 5] = ["base", "defer20", "napibusy", "fullbusy", "suspend20"];

/// What `--rates` asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Rates {
    Auto,
    Given(Vec<f64>),
}

/// `auto`, or comma-separated rates in requests/s (`500,1k,2.5k`).
pub fn parse_rates(s: &str) -> Result<Rates, HostError> {
    if s.trim() == "auto" {
        return Ok(Rates::Auto);
    }
    let bad = |item: &str| {
        HostError::BadInput(format!(
            "--rates {s:?}: {item:?} is not a rate: pass `auto` or requests/s such as 500,1000,2k"
        ))
    };
    let rates = s
        .split(',')
        .map(|item| {
            let t = item.trim();
            let (num, scale) = match t.strip_suffix(['k', 'K']) {
                Some(n) => (n, 1000.0),
                None => (t, 1.0),
            };
            num.parse::<f64>().ok().map(|v| v * scale).filter(|v| v.is_finite() && *v > 0.0).ok_or_else(|| bad(item))
        })
        .collect::<Result<Vec<f64>, HostError>>()?;
    Ok(Rates::Given(rates))
}

/// The saturation rate a ramp found: the most replies per second it saw.
pub fn saturation(ramp: &[ModesPoint]) -> Option<f64> {
    ramp.iter().map(|p| p.achieved_rate).filter(|r| r.is_finite() && *r > 0.0).max_by(f64::total_cmp)
}

/// The rates offered at `FRACTIONS` of `sat`, rounded to 10/s, with their labels.
pub fn fractions_of(sat: f64) -> (Vec<f64>, Vec<String>) {
    let rates = FRACTIONS.iter().map(|f| ((sat * f / 10.0).round() * 10.0).max(10.0)).collect();
    let labels = FRACTIONS.iter().map(|f| format!("{:.0}%", f * 100.0)).collect();
    (rates, labels)
}

/// Labels of given rates: the rate itself.
pub fn given_labels(rates: &[f64]) -> Vec<String> {
    rates.iter().map(|r| format!("{r:.0}/s")).collect()
}

/// The warm-up before each window: a fifth of it, between 200 ms and 1 s.
pub fn warmup_ms(window_ms: u64) -> u64 {
    (window_ms / 5).clamp(200, 1000)
}

pub fn sweep_params(rates: Vec<f64>, window_ms: u64, delay_us: u32) -> ModesParams {
    ModesParams { rates, window_ms, warmup_ms: warmup_ms(window_ms), delay_us, ramp: false }
}

pub fn ramp_params(delay_us: u32) -> ModesParams {
    ModesParams { rates: RAMP.to_vec(), window_ms: RAMP_WINDOW_MS, warmup_ms: RAMP_WARMUP_MS, delay_us, ramp: true }
}

/// A mode case's limit for `p` (before the accelerator's slowdown): a minute for the topology
/// and the mode's setup, and each rate's warm-up, window and drain with 2 s to spare.
pub fn case_timeout_ms(p: &ModesParams) -> u64 {
    60_000 + p.rates.len() as u64 * (p.warmup_ms + p.window_ms + 2_000)
}

/// `--duration` in seconds as a window in ms (at least 100 ms).
pub fn window_ms(duration_s: f64) -> Result<u64, HostError> {
    if !(duration_s.is_finite() && duration_s >= 0.1) {
        return Err(HostError::BadInput(format!(
            "--duration {duration_s} is too short: pass seconds per rate, 0.1 or more (default 5)"
        )));
    }
    Ok((duration_s * 1000.0).round() as u64)
}

/// The agent's case for each of `modes` (`modesbench::mode.<name>`), with `timeout_ms`; an
/// unknown name is an error listing the known ones.
pub fn mode_cases(all: &[CaseMeta], modes: &[String], timeout_ms: u64) -> Result<Vec<CaseMeta>, HostError> {
    let known: Vec<&CaseMeta> = all
        .iter()
        .filter(|c| c.id.suite == super::SUITE && c.id.case == super::CASE && c.id.variant.is_some())
        .collect();
    modes
        .iter()
        .map(|m| {
            let found = known.iter().find(|c| c.id.variant.as_deref() == Some(m.as_str()));
            let mut meta = (*found.ok_or_else(|| {
                let names: Vec<&str> = known.iter().filter_map(|c| c.id.variant.as_deref()).collect();
                HostError::BadInput(format!("--modes: no mode {m:?}; the agent has: {}", names.join(", ")))
            })?)
            .clone();
            meta.timeout_ms = timeout_ms;
            Ok(meta)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modes::fixtures::point;

    #[test]
    fn rates_parse_with_k_and_refuse_nonsense() {
        assert_eq!(parse_rates("auto").expect("auto"), Rates::Auto);
        assert_eq!(parse_rates("500, 1k,2.5K").expect("list"), Rates::Given(vec![500.0, 1000.0, 2500.0]));
        for bad in ["", "x", "0", "-5", "1,,2"] {
            let e = parse_rates(bad).expect_err(bad).to_string();
            assert!(e.contains("is not a rate"), "{e}");
        }
    }

    #[test]
    fn auto_rates_are_fractions_of_the_best_ramp_rate() {
        let ramp = [point("base", 500.0, 1.0, 1.0), point("base", 1000.0, 1.0, 1.0), point("base", 2000.0, 1.0, 1.0)];
        let sat = saturation(&ramp).expect("a rate");
        assert!((sat - 1998.0).abs() < 1e-9);
        let (rates, labels) = fractions_of(sat);
        assert_eq!(rates, [400.0, 800.0, 1200.0, 1600.0]);
        assert_eq!(labels, ["20%", "40%", "60%", "80%"]);
        assert_eq!(saturation(&[]), None);
        assert_eq!(fractions_of(12.0).0, [10.0, 10.0, 10.0, 10.0]);
    }

    #[test]
    fn modes_name_the_agents_cases() {
        let mut a = crate::plan::tests::meta("modesbench", "mode");
        a.id = a.id.with_variant("base");
        let other = crate::plan::tests::meta("netbench", "udp_rr");
        let got = mode_cases(&[other, a], &["base".into()], 9_000).expect("found");
        assert_eq!((got[0].id.to_string().as_str(), got[0].timeout_ms), ("modesbench::mode.base", 9_000));
        let e = mode_cases(&[], &["nope".into()], 1).expect_err("unknown").to_string();
        assert!(e.starts_with("--modes: no mode \"nope\""), "{e}");
    }

    #[test]
    fn params_and_limits() {
        let p = sweep_params(vec![100.0, 200.0], 3000, 0);
        assert_eq!((p.warmup_ms, p.ramp), (600, false));
        assert_eq!(case_timeout_ms(&p), 60_000 + 2 * 5_600);
        assert_eq!(warmup_ms(100), 200);
        assert_eq!(warmup_ms(60_000), 1000);
        assert!(ramp_params(0).ramp);
        assert_eq!(window_ms(2.5).expect("ok"), 2500);
        assert!(window_ms(0.0).is_err() && window_ms(f64::NAN).is_err());
        assert_eq!(given_labels(&[1000.0]), ["1000/s"]);
    }
}
