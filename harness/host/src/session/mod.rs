//! A session: one kernel, a list of cases, as many guests as it takes (a crash or a timeout
//! costs a reboot, never the rest of the run), and the reports at the end.
//!
//! [`run`] is the whole walk: validate the config, [`prepare::prepare`] (initramfs, accelerator,
//! network, expectations), plan a [`Schedule`], [`execute::execute`] it, write the reports.

pub mod config;
pub mod durations;
pub mod events;
pub mod execute;
pub mod limits;
pub mod prepare;
pub mod record;
pub mod slots;

pub use config::SessionConfig;
pub use events::{Observer, Quiet, SessionEvent};
pub use slots::Slots;

use crate::accel::AccelDecision;
use crate::cleanup;
use crate::error::HostError;
use crate::plan::Schedule;
use crate::report::model::{KernelInfo, RunReport};
use crate::report::ArtifactDir;
use crate::testnet::NetPlan;
use crate::workspace::Workspace;
use pollcheck_proto::CaseMeta;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Everything a finished session produced.
#[derive(Debug)]
pub struct SessionResult {
    pub report: RunReport,
    pub artifacts: ArtifactDir,
    pub accel: AccelDecision,
    /// Time from session start until the first case was sent to a guest.
    pub time_to_first_case: Option<Duration>,
}

/// Runs `cases` on `cfg.kernel` with guest slots of its own and writes the reports.
pub fn run(
    ws: &Workspace,
    cfg: &SessionConfig,
    cases: &[CaseMeta],
    observer: &dyn Observer,
) -> Result<SessionResult, HostError> {
    cfg.validate()?;
    run_in(ws, cfg, cases, observer, &Slots::new(cfg.jobs()))
}

/// The same, taking guest slots from `slots` (shared with other sessions, as in a matrix).
pub fn run_in(
    ws: &Workspace,
    cfg: &SessionConfig,
    cases: &[CaseMeta],
    observer: &dyn Observer,
    slots: &Slots,
) -> Result<SessionResult, HostError> {
    let arrival = slots.arrival();
    cfg.validate()?;
    cleanup::install_interrupt_handler();
    cleanup::sweep_stale(&std::env::temp_dir());
    let start = Instant::now();
    let started_unix = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let kernel = cfg.kernel.spec.as_str();
    let prepared = prepare::prepare(ws, cfg, cases, observer)?;
    arrival.arrive();
    let accel = prepared.accel.accel;
    let schedule =
        Schedule::new(cases, prepared.config.as_ref(), |m| cfg.cpus.unwrap_or_else(|| limits::default_cpus(accel, m)));
    observer.event(kernel, &SessionEvent::Planned { cases: cases.len(), decided: schedule.decided.len() });
    let decided: Vec<_> = schedule
        .decided
        .iter()
        .map(|(pos, outcome)| (*pos, record::decided(&cases[*pos], outcome.clone(), &prepared.expectations)))
        .collect();
    for (_, rec) in &decided {
        observer.event(kernel, &SessionEvent::CaseFinished(rec));
    }
    let work = execute::Work { prepared: &prepared, cases, params: cfg.params.as_ref(), observer, kernel, start };
    let history = durations::History::load(ws.cache.root());
    let executed =
        execute::execute(work, schedule, slots, cfg.jobs(), &|m| history.expected_ms(&cfg.kernel.release, m));
    let mut records = decided;
    records.extend(executed.records);
    records.sort_by_key(|(pos, _)| *pos);
    let features = executed.features.unwrap_or_default();
    let release = if features.kernel_release.is_empty() { cfg.kernel.release.clone() } else { features.kernel_release };
    let report = RunReport {
        run_id: prepared.run_id.clone(),
        kernel: KernelInfo { spec: cfg.kernel.spec.clone(), release },
        accel,
        qemu: prepared.qemu.version.clone(),
        network: prepared.boot.network.as_ref().map(NetPlan::describe),
        expectations: prepared.expectations.source.clone(),
        modules_failed: features.modules_failed,
        probes: features.probes,
        guests: executed.guests,
        started_unix,
        duration_ms: start.elapsed().as_millis() as u64,
        cases: records.into_iter().map(|(_, rec)| rec).collect(),
    };
    prepared.artifacts.write_all(&report)?;
    durations::History::record(ws.cache.root(), &cfg.kernel.release, &report);
    Ok(SessionResult {
        report,
        artifacts: prepared.artifacts.clone(),
        accel: prepared.accel.clone(),
        time_to_first_case: executed.time_to_first_case,
    })
}
