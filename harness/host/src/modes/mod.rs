//! `pollcheck bench modes` as data: what each kernel's run of the `modesbench` cases measured
//! (read from their `modes: ` log lines), and its renderings — the posts' tables
//! ([`table`]), their comparisons as ratios ([`compare`]), SVG plots ([`plot`]) and one HTML
//! page ([`html`]). Everything here is pure; `cli::bench_modes` runs the guests.

pub mod compare;
pub mod html;
pub mod plot;
pub mod sweep;
pub mod table;

use crate::report::model::{CaseRecord, RunReport};
use crate::report::{explain, fold};
use pollcheck_proto::modes::{ModesLine, ModesPoint};
use pollcheck_proto::Outcome;
use serde::{Deserialize, Serialize};

/// The suite and case whose variants are the modes.
pub const SUITE: &str = "modesbench";
pub const CASE: &str = "mode";

/// How one mode ended on one kernel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ModeStatus {
    /// It ran: what it configured and one point per offered rate.
    Measured { config: String, points: Vec<ModesPoint> },
    /// The kernel lacks what the mode needs; `reason` says how that was established.
    Unavailable { reason: String },
    /// The run of the mode itself failed (setup error, timeout, crash).
    Failed { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeRun {
    pub mode: String,
    #[serde(flatten)]
    pub status: ModeStatus,
}

impl ModeRun {
    pub fn points(&self) -> &[ModesPoint] {
        match &self.status {
            ModeStatus::Measured { points, .. } => points,
            _ => &[],
        }
    }
}

/// One kernel's sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelModes {
    pub spec: String,
    pub release: String,
    pub accel: String,
    pub qemu: String,
    pub network: Option<String>,
    /// The session's run directory (console logs, results.json).
    pub run_dir: String,
    pub modes: Vec<ModeRun>,
}

impl KernelModes {
    pub fn mode(&self, name: &str) -> Option<&ModeRun> {
        self.modes.iter().find(|m| m.mode == name)
    }

    /// "src:7.2 (7.2.13)".
    pub fn label(&self) -> String {
        if self.release.is_empty() || self.release == self.spec {
            self.spec.clone()
        } else {
            format!("{} ({})", self.spec, self.release)
        }
    }
}

/// The saturation search the automatic rates came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saturation {
    /// The most replies per second the ramp saw.
    pub rate: f64,
    pub kernel: String,
    pub mode: String,
    pub points: Vec<ModesPoint>,
}

/// A whole `bench modes` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModesReport {
    pub kernels: Vec<KernelModes>,
    /// The offered rates, requests/s, and each one's label (`20%` or `1000/s`).
    pub rates: Vec<f64>,
    pub labels: Vec<String>,
    pub saturation: Option<Saturation>,
    pub window_ms: u64,
    pub warmup_ms: u64,
    pub delay_us: u32,
    /// Wall time of the whole command, ms (0 while it is still running).
    pub wall_ms: u64,
}

impl ModesReport {
    /// "accel tcg, QEMU 10.0.2" over every kernel (each distinct pair once).
    pub fn platform(&self) -> String {
        let mut seen: Vec<String> = Vec::new();
        for k in &self.kernels {
            let s = format!("accel {}, QEMU {}", k.accel, if k.qemu.is_empty() { "unknown" } else { &k.qemu });
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
        seen.join("; ")
    }

    /// The modes in the order first seen over the kernels.
    pub fn mode_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in self.kernels.iter().flat_map(|k| &k.modes) {
            if !out.contains(&m.mode) {
                out.push(m.mode.clone());
            }
        }
        out
    }

    /// The label of offered rate `rate` (its sweep position), or the rate itself.
    pub fn label_of(&self, rate: f64) -> String {
        self.rates
            .iter()
            .position(|r| (r - rate).abs() < 1e-6)
            .and_then(|i| self.labels.get(i).cloned())
            .unwrap_or_else(|| format!("{rate:.0}/s"))
    }
}

/// The mode a case id names (`modesbench::mode.<name>`).
pub fn mode_of(record: &CaseRecord) -> Option<&str> {
    (record.id.suite == SUITE && record.id.case == CASE).then_some(record.id.variant.as_deref()).flatten()
}

/// What a case's log and outcome say about its mode.
pub fn status(record: &CaseRecord) -> ModeStatus {
    let lines: Vec<ModesLine> = record.logs.iter().filter_map(|l| ModesLine::from_log(l)).collect();
    let config = lines.iter().find_map(|l| match l {
        ModesLine::Setup { config, .. } => Some(config.clone()),
        ModesLine::Point(_) => None,
    });
    let points: Vec<ModesPoint> = lines
        .into_iter()
        .filter_map(|l| match l {
            ModesLine::Point(p) => Some(p),
            ModesLine::Setup { .. } => None,
        })
        .collect();
    match &record.outcome {
        Outcome::Pass => ModeStatus::Measured { config: config.unwrap_or_default(), points },
        Outcome::Skip { reason, .. } => ModeStatus::Unavailable { reason: fold(reason) },
        Outcome::Fail { checks } => match checks.iter().find(|c| c.what.starts_with("feature lost")) {
            Some(c) => ModeStatus::Unavailable { reason: format!("{} ({})", fold(&c.observed), fold(&c.what)) },
            None => ModeStatus::Failed { reason: explain(record) },
        },
        _ => ModeStatus::Failed { reason: explain(record) },
    }
}

/// One kernel's modes from its run, in `modes` order (a mode the run has no record of is
/// Failed, saying so).
pub fn collect(report: &RunReport, run_dir: &str, modes: &[String]) -> KernelModes {
    let runs = modes
        .iter()
        .map(|m| {
            let rec = report.cases.iter().find(|c| mode_of(c) == Some(m.as_str()));
            let status =
                rec.map(status).unwrap_or_else(|| ModeStatus::Failed { reason: "the run has no record of it".into() });
            ModeRun { mode: m.clone(), status }
        })
        .collect();
    KernelModes {
        spec: report.kernel.spec.clone(),
        release: report.kernel.release.clone(),
        accel: report.accel.to_string(),
        qemu: report.qemu.clone(),
        network: report.network.clone(),
        run_dir: run_dir.to_owned(),
        modes: runs,
    }
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;
    use pollcheck_proto::{CaseId, Check, Feature, Severity};

    fn record(variant: &str, outcome: Outcome, logs: Vec<String>) -> CaseRecord {
        CaseRecord {
            id: CaseId::new(SUITE, CASE).with_variant(variant),
            summary: String::new(),
            outcome,
            duration_ms: 1,
            checks: Vec::new(),
            logs,
            console_excerpt: None,
            guest: Some(1),
        }
    }

    #[test]
    fn outcomes_become_statuses() {
        let p = fixtures::point("base", 100.0, 200.0, 10.0);
        let logs = vec![
            ModesLine::Setup { mode: "base".into(), config: "nothing".into() }.to_log(),
            "topology: x".into(),
            ModesLine::Point(p.clone()).to_log(),
        ];
        let measured = status(&record("base", Outcome::Pass, logs));
        assert_eq!(measured, ModeStatus::Measured { config: "nothing".into(), points: vec![p] });
        let skip = record(
            "suspend20",
            Outcome::absent(Feature::IrqSuspend, "napi-get reports no\nirq-suspend-timeout"),
            vec![],
        );
        assert_eq!(
            status(&skip),
            ModeStatus::Unavailable { reason: "napi-get reports no | irq-suspend-timeout".into() }
        );
        let lost = Check {
            what: "feature lost: IRQ suspension expected release 6.13+".into(),
            passed: false,
            severity: Severity::Assert,
            observed: "napi-get reports none".into(),
            location: String::new(),
        };
        let fail = record("suspend20", Outcome::Fail { checks: vec![lost] }, vec![]);
        assert!(
            matches!(status(&fail), ModeStatus::Unavailable { reason } if reason.starts_with("napi-get reports none (feature lost"))
        );
        let timeout = record("fullbusy", Outcome::Timeout { after_ms: 5 }, vec![]);
        assert_eq!(status(&timeout), ModeStatus::Failed { reason: "timed out after 5 ms".into() });
    }

    #[test]
    fn collect_keeps_the_asked_order_and_names_missing_modes() {
        let mut report = crate::report::fixtures::sample();
        report.cases = vec![record("defer20", Outcome::Pass, vec![]), record("base", Outcome::Pass, vec![])];
        let k = collect(&report, "runs/x", &["base".into(), "defer20".into(), "napibusy".into()]);
        let names: Vec<&str> = k.modes.iter().map(|m| m.mode.as_str()).collect();
        assert_eq!(names, ["base", "defer20", "napibusy"]);
        assert!(matches!(&k.modes[2].status, ModeStatus::Failed { reason } if reason.contains("no record")));
        assert_eq!(k.accel, "tcg");
    }
}
