//! Running a schedule: for each guest shape in turn, up to `jobs` guests side by side take the
//! shape's cases from one queue; a guest that crashed, lost its agent or may hold state a case
//! left behind is replaced by a fresh one. Probe answers of the first guest of the kernel spare
//! later shapes a boot for cases they rule out.

use super::events::{Observer, SessionEvent};
use super::limits::{case_limits, left_state_behind, BOOT_ATTEMPTS};
use super::prepare::Prepared;
use super::record;
use super::slots::Slots;
use crate::plan::Schedule;
use crate::report::model::CaseRecord;
use crate::vm::{BootConfig, BootError, Guest};
use pollcheck_proto::{CaseMeta, ErrorKind, Features, Outcome};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What the guests produced.
#[derive(Debug, Default)]
pub struct Executed {
    /// One record per case, with its position in the session's list.
    pub records: Vec<(usize, CaseRecord)>,
    /// What the first guest to come up announced.
    pub features: Option<Features>,
    /// Time from `start` until the first case was sent to a guest.
    pub time_to_first_case: Option<Duration>,
    /// Guests booted (retries included).
    pub guests: u32,
}

struct Shared<'a> {
    prepared: &'a Prepared,
    cases: &'a [CaseMeta],
    params: Option<&'a serde_json::Value>,
    observer: &'a dyn Observer,
    kernel: &'a str,
    queue: Mutex<VecDeque<usize>>,
    records: Mutex<Vec<(usize, CaseRecord)>>,
    features: OnceLock<Features>,
    guests: AtomicU32,
    start: Instant,
    first_case: OnceLock<Duration>,
}

impl Shared<'_> {
    fn push(&self, pos: usize, rec: CaseRecord) {
        self.observer.event(self.kernel, &SessionEvent::CaseFinished(&rec));
        self.records.lock().unwrap_or_else(|p| p.into_inner()).push((pos, rec));
    }

    fn next(&self) -> Option<usize> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
    }

    fn is_empty(&self) -> bool {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }
}

/// What the guests of one session work on.
#[derive(Clone, Copy)]
pub struct Work<'a> {
    pub prepared: &'a Prepared,
    pub cases: &'a [CaseMeta],
    /// Handed to every case run (`Request::Run`'s params).
    pub params: Option<&'a serde_json::Value>,
    pub observer: &'a dyn Observer,
    /// The kernel's spec, for the observer.
    pub kernel: &'a str,
    /// When the session started.
    pub start: Instant,
}

impl std::fmt::Debug for Work<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Work").field("kernel", &self.kernel).field("cases", &self.cases.len()).finish_non_exhaustive()
    }
}

/// Runs `schedule`'s groups, at most `jobs` guests of this session and `slots` guests overall at once.
pub fn execute(work: Work<'_>, mut schedule: Schedule, slots: &Slots, jobs: usize) -> Executed {
    let Work { prepared, cases, params, observer, kernel, start } = work;
    let shared = Shared {
        prepared,
        cases,
        params,
        observer,
        kernel,
        queue: Mutex::new(VecDeque::new()),
        records: Mutex::new(Vec::new()),
        features: OnceLock::new(),
        guests: AtomicU32::new(0),
        start,
        first_case: OnceLock::new(),
    };
    for index in 0..schedule.groups.len() {
        if let Some(f) = shared.features.get() {
            for (pos, outcome) in schedule.drop_by_probes(index, cases, &f.probes) {
                shared.push(pos, record::decided(&cases[pos], outcome, &prepared.expectations));
            }
        }
        let group = &schedule.groups[index];
        if group.cases.is_empty() {
            continue;
        }
        *shared.queue.lock().unwrap_or_else(|p| p.into_inner()) = group.cases.iter().copied().collect();
        let workers = jobs.clamp(1, group.cases.len());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| worker(&shared, group.cpus, slots));
            }
        });
    }
    Executed {
        records: shared.records.into_inner().unwrap_or_else(|p| p.into_inner()),
        features: shared.features.into_inner(),
        time_to_first_case: shared.first_case.into_inner(),
        guests: shared.guests.into_inner(),
    }
}

/// Boots guests of `cpus` vCPUs one after another and runs queued cases on them until the
/// queue is empty.
fn worker(sh: &Shared<'_>, cpus: u32, slots: &Slots) {
    while !sh.is_empty() {
        let _slot = slots.take();
        if sh.is_empty() {
            return;
        }
        let guest = sh.guests.fetch_add(1, Ordering::SeqCst) + 1;
        let mut boot = sh.prepared.boot.clone();
        boot.cpus = cpus;
        boot.console_log = sh.prepared.artifacts.path().join(format!("console-{guest}.log"));
        let booted = boot_retrying(&boot, &mut |e| {
            sh.observer.event(sh.kernel, &SessionEvent::BootRetry { guest, cpus, error: e });
        });
        match booted {
            Ok(g) => run_on(sh, g, guest),
            Err(e) => {
                // No guest, no verdicts: every case left for this shape is an infrastructure error.
                let why = format!("{e} (a {cpus}-vCPU guest, booted {BOOT_ATTEMPTS} times)");
                while let Some(pos) = sh.next() {
                    let outcome = Outcome::error(ErrorKind::BootFailed, why.clone());
                    sh.push(pos, record::decided(&sh.cases[pos], outcome, &sh.prepared.expectations));
                }
            }
        }
    }
}

/// Runs queued cases on `g` until the queue is empty or the guest must be replaced.
fn run_on(sh: &Shared<'_>, mut g: Guest, guest: u32) {
    sh.observer.event(sh.kernel, &SessionEvent::Booted { guest, boot_time: g.boot_time, features: &g.features });
    let _ = sh.features.set(g.features.clone());
    while let Some(pos) = sh.next() {
        let meta = &sh.cases[pos];
        sh.first_case.get_or_init(|| sh.start.elapsed());
        sh.observer.event(sh.kernel, &SessionEvent::CaseStarted { guest, id: &meta.id });
        let (timeout, grace) = case_limits(meta, sh.prepared.accel.accel);
        let run = g.run_case(meta, sh.params, timeout, grace);
        let replace = !run.guest_usable || left_state_behind(meta, &run.outcome);
        let rec = record::ran(meta, run, guest, &g.features, &sh.prepared.expectations);
        sh.push(pos, rec);
        if replace {
            break;
        }
    }
    g.shutdown(Duration::from_secs(5));
}

/// Boot a guest; a guest that crashed or hung before its agent was ready (no case has run on
/// it, so no verdict is at stake) is booted again, up to [`BOOT_ATTEMPTS`] in all. Seen needed:
/// Debian 6.12 with 2 vCPUs under QEMU 7.2's TCG Oopses in about 1 of 4 runs, mostly during boot.
fn boot_retrying(boot: &BootConfig, on_retry: &mut dyn FnMut(&BootError)) -> Result<Guest, BootError> {
    let mut attempt = 1;
    loop {
        match Guest::boot(boot) {
            Err(e) if e.guest_failed() && attempt < BOOT_ATTEMPTS => {
                on_retry(&e);
                attempt += 1;
            }
            other => return other,
        }
    }
}
