//! Running a schedule: up to `jobs` guests of this session at once (and no more than `slots`
//! allows across sessions) take cases from one queue per guest shape, longest expected first. A
//! guest keeps taking cases of its shape; one that crashed, lost its agent or may hold state a
//! case left behind is replaced. The first guest's probe answers rule cases out of every queue
//! before they boot anything: a guest is not booted for cases that need probes until some guest
//! of the kernel has answered them (unless nothing else is left to boot, or the kernel promises
//! every feature such a case checks). Each guest's slot is asked for with the session's claim
//! (its queued work per guest), so sessions sharing slots are served longest first.

use super::events::{Observer, SessionEvent};
use super::limits::{boot_guess, case_limits, left_state_behind, BOOT_ATTEMPTS};
use super::prepare::Prepared;
use super::record;
use super::slots::{claim, Slots};
use crate::plan::{Expectations, Schedule};
use crate::report::model::CaseRecord;
use crate::vm::{BootConfig, BootError, Guest};
use pollcheck_proto::{CaseMeta, ErrorKind, Features, Outcome};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
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

/// The queues and what is known, under one lock.
struct State {
    /// Per guest shape: its vCPUs and its cases not yet started, longest expected first.
    schedule: Schedule,
    /// Guests booting that have not said Ready yet.
    booting: usize,
    /// Guests of each shape booted, booting or about to be (a worker chose the shape and waits
    /// for a slot), so that two workers never both take a shape for unserved.
    active: Vec<usize>,
    guests: u32,
    records: Vec<(usize, CaseRecord)>,
    /// How long the first guest took to boot, once one has.
    boot_ms: Option<u64>,
}

struct Shared<'a> {
    work: Work<'a>,
    /// Each case's expected run time, by position.
    expected: Vec<u64>,
    /// By position: the case needs probe answers before a guest is booted for it (see
    /// [`waits_for_probes`]).
    waits: Vec<bool>,
    /// A boot's expected time before one has been seen.
    boot_guess_ms: u64,
    state: Mutex<State>,
    changed: Condvar,
    features: OnceLock<Features>,
    first_case: OnceLock<Duration>,
}

/// Runs `schedule`, at most `jobs` guests of this session and `slots` guests overall at once.
/// `expected` gives each case's expected run time (for the longest-first order).
pub fn execute(
    work: Work<'_>,
    mut schedule: Schedule,
    slots: &Slots,
    jobs: usize,
    expected: &dyn Fn(&CaseMeta) -> u64,
) -> Executed {
    let expected: Vec<u64> = work.cases.iter().map(expected).collect();
    let waits = work.cases.iter().map(|m| waits_for_probes(m, &work.prepared.expectations)).collect();
    for g in &mut schedule.groups {
        g.cases.sort_by_key(|&pos| std::cmp::Reverse(expected[pos]));
    }
    let total = schedule.to_run();
    let shared = Shared {
        work,
        expected,
        waits,
        boot_guess_ms: boot_guess(work.prepared.accel.accel).as_millis() as u64,
        state: Mutex::new(State {
            active: vec![0; schedule.groups.len()],
            schedule,
            booting: 0,
            guests: 0,
            records: Vec::new(),
            boot_ms: None,
        }),
        changed: Condvar::new(),
        features: OnceLock::new(),
        first_case: OnceLock::new(),
    };
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, total.max(1)) {
            s.spawn(|| worker(&shared, slots));
        }
    });
    let state = shared.state.into_inner().unwrap_or_else(|p| p.into_inner());
    Executed {
        records: state.records,
        features: shared.features.into_inner(),
        time_to_first_case: shared.first_case.into_inner(),
        guests: state.guests,
    }
}

impl Shared<'_> {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, st: &mut State, pos: usize, rec: CaseRecord) {
        self.work.observer.event(self.work.kernel, &SessionEvent::CaseFinished(&rec));
        st.records.push((pos, rec));
    }

    /// The shape a free worker should boot next, waiting while the only work left needs probe
    /// answers a booting guest is about to give; None when every queue is empty, or when the
    /// only shape left has a guest already and not enough queued for another to pay its boot
    /// (the worker ends; the guest there drains the queue).
    fn pick(&self) -> Option<usize> {
        let mut st = self.lock();
        loop {
            let needs = |pos: usize| self.waits[pos];
            let answered = self.features.get().is_some();
            match choose(&st.schedule, &st.active, &self.expected, &needs, answered, st.booting) {
                Choice::Boot(i) => {
                    let queued = st.schedule.groups[i].cases.iter().map(|&pos| self.expected[pos]).sum();
                    let boot = st.boot_ms.unwrap_or(self.boot_guess_ms);
                    if !worth_a_guest(queued, st.active[i], boot) {
                        return None;
                    }
                    st.active[i] += 1;
                    return Some(i);
                }
                Choice::Done => return None,
                Choice::Wait => st = self.changed.wait(st).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }

    /// This session's claim on a guest slot for a guest it counts already: its queued work per
    /// guest (see [`claim`]).
    fn claim(&self) -> u64 {
        let st = self.lock();
        let queued = st.schedule.groups.iter().flat_map(|g| &g.cases).map(|&pos| self.expected[pos]).sum();
        claim(queued, st.active.iter().sum::<usize>().saturating_sub(1))
    }

    /// The first Ready of the session: its probe answers rule out queued cases of every shape.
    fn answered(&self, features: &Features) {
        let mut st = self.lock();
        st.booting = st.booting.saturating_sub(1);
        if self.features.set(features.clone()).is_ok() {
            for (pos, outcome) in st.schedule.drop_by_probes(0, self.work.cases, &features.probes) {
                let rec = record::decided(&self.work.cases[pos], outcome, &self.work.prepared.expectations);
                self.push(&mut st, pos, rec);
            }
        }
        self.changed.notify_all();
    }

    /// The next case of `shape` for a guest of it; `Err(None)` when the queue is empty, and
    /// `Err(Some(other))` when the guest should make way for `other`, a shape no guest serves yet
    /// (see [`make_way`]): the freed worker boots `other` itself.
    fn next_of(&self, shape: usize) -> Result<usize, Option<usize>> {
        let mut st = self.lock();
        let needs = |pos: usize| self.waits[pos];
        let answered = self.features.get().is_some();
        if let Some(other) = make_way(&st.schedule, &st.active, &self.expected, &needs, answered, shape) {
            st.active[other] += 1;
            return Err(Some(other));
        }
        let q = &mut st.schedule.groups[shape].cases;
        if q.is_empty() {
            Err(None)
        } else {
            Ok(q.remove(0))
        }
    }
}

/// Whether a guest should not be booted for `meta` before some guest of the kernel has
/// answered its probes: it has probes, and the kernel does not promise every feature it checks
/// (pure). Probe answers that could rule out a promised feature would only turn the case into a
/// FAIL "feature lost", which it reaches by running as well, so such cases start at once (a
/// 2-vCPU guest for napi_threaded boots beside the first, not after it).
pub fn waits_for_probes(meta: &CaseMeta, expectations: &Expectations) -> bool {
    let promised = !meta.features.is_empty() && meta.features.iter().all(|&f| expectations.promise(f).is_some());
    !meta.requires.probes.is_empty() && !promised
}

/// Whether to boot a guest of a shape with `active` guests and `queued_ms` of cases queued: always
/// for a shape nobody serves; for another guest beside those, only when its share of the queue
/// is at least two boots' time, so that it saves at least as much as its boot costs the other
/// sessions waiting for a slot (pure). Without this a matrix's last kernel got every freed slot at
/// the end, each booting for a few milliseconds of Skips (Debian 7.0: 6 guests for 7 s of cases).
pub fn worth_a_guest(queued_ms: u64, active: usize, boot_ms: u64) -> bool {
    active == 0 || claim(queued_ms, active) >= 2 * boot_ms
}

/// What a free worker does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Boot a guest of this shape (group index).
    Boot(usize),
    /// Wait: what is left needs probe answers a booting guest is about to give.
    Wait,
    /// Every queue is empty.
    Done,
}

/// The shape to boot, among those that can start now: one no guest serves yet before a second
/// guest of a served one (that second guest would only make way for it, a boot spent for
/// nothing), then the one whose next case is expected to take longest. A case needing probes
/// waits for the kernel's first answers, unless no guest is booting to give them (pure).
pub fn choose(
    schedule: &Schedule,
    active: &[usize],
    expected: &[u64],
    needs_probes: &dyn Fn(usize) -> bool,
    answered: bool,
    booting: usize,
) -> Choice {
    let groups = &schedule.groups;
    let ready = groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| g.cases.first().map(|&head| (i, head)))
        .filter(|&(_, head)| answered || !needs_probes(head))
        .max_by_key(|&(i, head)| (active[i] == 0, expected[head], std::cmp::Reverse(i)));
    match (ready, groups.iter().position(|g| !g.cases.is_empty())) {
        (Some((i, _)), _) => Choice::Boot(i),
        (None, None) => Choice::Done,
        (None, Some(i)) if booting == 0 => Choice::Boot(i),
        (None, Some(_)) => Choice::Wait,
    }
}

/// The shape a guest of `shape` should shut down for, to let its slot boot that one: a shape
/// that can start, has cases and no guest at all, whose next case is expected to take at least
/// as long as this shape's, while this shape keeps another guest (pure; the longest such head
/// wins). Without this the guests of the first shape would drain it before any other shape
/// began, and the longest cases of a later shape would run last. The worker boots the shape
/// named here rather than choosing again, so a guest that made way always leads to a guest of
/// a shape nobody served: choosing again could pick a shape that already has a guest, whose
/// second guest would make way again, and so on without a case run (seen: 783 guests booted
/// and shut down in 44 minutes of one 7.3 run).
pub fn make_way(
    schedule: &Schedule,
    active: &[usize],
    expected: &[u64],
    needs_probes: &dyn Fn(usize) -> bool,
    answered: bool,
    shape: usize,
) -> Option<usize> {
    let mine = schedule.groups[shape].cases.first().map_or(0, |&p| expected[p]);
    if active[shape] < 2 {
        return None;
    }
    schedule
        .groups
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != shape && active[i] == 0)
        .filter_map(|(i, g)| g.cases.first().map(|&head| (i, head)))
        .filter(|&(_, head)| (answered || !needs_probes(head)) && expected[head] >= mine)
        .max_by_key(|&(i, head)| (expected[head], std::cmp::Reverse(i)))
        .map(|(i, _)| i)
}

/// Boots guests (taking a slot for each) and runs queued cases on them until every queue is empty.
fn worker(sh: &Shared<'_>, slots: &Slots) {
    let mut handed = None;
    while let Some(shape) = handed.take().or_else(|| sh.pick()) {
        let _slot = slots.take(sh.claim());
        let (cpus, guest) = {
            let mut st = sh.lock();
            if st.schedule.groups[shape].cases.is_empty() {
                st.active[shape] -= 1;
                continue;
            }
            st.booting += 1;
            st.guests += 1;
            (st.schedule.groups[shape].cpus, st.guests)
        };
        let mut boot = sh.work.prepared.boot.clone();
        boot.cpus = cpus;
        boot.console_log = sh.work.prepared.artifacts.path().join(format!("console-{guest}.log"));
        let booted = boot_retrying(&boot, &mut |e| {
            sh.work.observer.event(sh.work.kernel, &SessionEvent::BootRetry { guest, cpus, error: e });
        });
        match booted {
            Ok(g) => {
                sh.lock().boot_ms.get_or_insert(g.boot_time.as_millis() as u64);
                sh.answered(&g.features);
                handed = run_on(sh, g, guest, shape);
            }
            Err(e) => give_up(sh, shape, cpus, &e),
        }
        sh.lock().active[shape] -= 1;
        sh.changed.notify_all();
    }
}

/// No guest of this shape would boot: its cases are infrastructure errors, not verdicts.
fn give_up(sh: &Shared<'_>, shape: usize, cpus: u32, e: &BootError) {
    let why = format!("{e} (a {cpus}-vCPU guest, booted {BOOT_ATTEMPTS} times)");
    let mut st = sh.lock();
    st.booting = st.booting.saturating_sub(1);
    let left: Vec<usize> = st.schedule.groups[shape].cases.drain(..).collect();
    for pos in left {
        let outcome = Outcome::error(ErrorKind::BootFailed, why.clone());
        let rec = record::decided(&sh.work.cases[pos], outcome, &sh.work.prepared.expectations);
        sh.push(&mut st, pos, rec);
    }
}

/// Runs queued cases of `shape` on `g` until its queue is empty, the guest must be replaced, or
/// it makes way for the shape returned.
fn run_on(sh: &Shared<'_>, mut g: Guest, guest: u32, shape: usize) -> Option<usize> {
    let w = sh.work;
    w.observer.event(w.kernel, &SessionEvent::Booted { guest, boot_time: g.boot_time, features: &g.features });
    let mut handed = None;
    loop {
        let pos = match sh.next_of(shape) {
            Ok(pos) => pos,
            Err(other) => {
                handed = other;
                break;
            }
        };
        let meta = &w.cases[pos];
        sh.first_case.get_or_init(|| w.start.elapsed());
        w.observer.event(w.kernel, &SessionEvent::CaseStarted { guest, id: &meta.id });
        let (timeout, grace) = case_limits(meta, w.prepared.accel.accel);
        let run = g.run_case(meta, w.params, timeout, grace);
        let replace = !run.guest_usable || left_state_behind(meta, &run.outcome);
        let rec = record::ran(meta, run, guest, &g.features, &w.prepared.expectations);
        sh.push(&mut sh.lock(), pos, rec);
        if replace {
            break;
        }
    }
    g.shutdown(Duration::from_secs(5));
    handed
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Group;

    fn schedule(groups: &[(u32, &[usize])]) -> Schedule {
        Schedule {
            decided: Vec::new(),
            groups: groups.iter().map(|(cpus, c)| Group { cpus: *cpus, cases: c.to_vec() }).collect(),
        }
    }

    #[test]
    fn the_longest_head_goes_first_and_probe_cases_wait_for_answers() {
        // Cases 0, 1 on one vCPU; 2, 3 on two vCPUs and needing probes.
        let expected = [3_000, 1_000, 10_000, 4_000];
        let needs = |p: usize| p >= 2;
        let s = schedule(&[(1, &[0, 1]), (2, &[2, 3])]);
        assert_eq!(
            choose(&s, &[0, 0], &expected, &needs, false, 0),
            Choice::Boot(0),
            "no answers yet: a plain guest first"
        );
        assert_eq!(choose(&s, &[0, 0], &expected, &needs, true, 1), Choice::Boot(1), "answered: the 10 s case first");
        let only_probes = schedule(&[(1, &[]), (2, &[2, 3])]);
        assert_eq!(
            choose(&only_probes, &[0, 0], &expected, &needs, false, 1),
            Choice::Wait,
            "a booting guest will answer"
        );
        assert_eq!(choose(&only_probes, &[0, 0], &expected, &needs, false, 0), Choice::Boot(1), "nobody else will");
        assert_eq!(choose(&schedule(&[(1, &[]), (2, &[])]), &[0, 0], &expected, &needs, true, 0), Choice::Done);
        assert_eq!(choose(&s, &[1, 0], &expected, &needs, true, 1), Choice::Boot(1), "shape 1 unserved");
        let plain = |_: usize| false;
        assert_eq!(
            choose(&s, &[1, 0], &[9_000, 1_000, 2_000, 1_000], &plain, false, 1),
            Choice::Boot(1),
            "an unserved shape before a second guest of a served one, even with a shorter head"
        );
        assert_eq!(choose(&s, &[1, 1], &[9_000, 1_000, 2_000, 1_000], &plain, false, 2), Choice::Boot(0));
    }

    #[test]
    fn a_second_guest_of_a_shape_makes_way_for_a_shape_nobody_serves() {
        let expected = [3_000, 1_000, 10_000, 4_000];
        let needs = |p: usize| p >= 2;
        let s = schedule(&[(1, &[0, 1]), (2, &[2, 3])]);
        assert_eq!(make_way(&s, &[2, 0], &expected, &needs, true, 0), Some(1), "two guests on shape 0, none on 1");
        assert_eq!(make_way(&s, &[1, 0], &expected, &needs, true, 0), None, "the only guest of its shape stays");
        assert_eq!(make_way(&s, &[2, 1], &expected, &needs, true, 0), None, "shape 1 is served");
        assert_eq!(make_way(&s, &[2, 0], &expected, &needs, false, 0), None, "shape 1 waits for probe answers");
        let short = schedule(&[(1, &[0, 1]), (2, &[3])]);
        assert_eq!(make_way(&short, &[2, 0], &[3_000, 1_000, 0, 4_000], &needs, true, 0), Some(1));
        let longer = [5_000, 1_000, 0, 4_000];
        assert_eq!(make_way(&short, &[2, 0], &longer, &needs, true, 0), None, "own next case is longer");
    }

    #[test]
    fn another_guest_of_a_served_shape_must_save_more_than_its_boot() {
        assert!(worth_a_guest(10, 0, 4_000), "a shape nobody serves gets its guest");
        assert!(!worth_a_guest(14_000, 1, 4_000), "7 s each for a 4 s boot: saves 3 s, costs 4");
        assert!(worth_a_guest(16_000, 1, 4_000));
        assert!(!worth_a_guest(23_000, 2, 4_000));
    }

    #[test]
    fn only_cases_whose_features_are_not_all_promised_wait_for_probes() {
        use crate::plan::KernelFacts;
        use pollcheck_proto::Feature;
        let facts = |release| KernelFacts { release, config: None, patch_sets: &[], has_modules: true };
        let mut spin = crate::plan::tests::meta("napi_threaded", "busy_poll_spin");
        spin.requires.probes = vec!["napi_threaded_busy_poll".into()];
        spin.features = vec![Feature::ThreadedBusyPoll];
        let new = Expectations::auto(facts("7.3.4"));
        let old = Expectations::auto(facts("6.1.0"));
        assert!(!waits_for_probes(&spin, &new), "7.3 promises threaded busy poll: no need to wait");
        assert!(waits_for_probes(&spin, &old), "6.1 does not: its probes may rule the case out");
        spin.features.clear();
        assert!(waits_for_probes(&spin, &new), "a case naming no feature waits");
        spin.requires.probes.clear();
        assert!(!waits_for_probes(&spin, &old), "a case without probes never waits");
    }

    #[test]
    fn a_guest_that_makes_way_names_a_shape_choose_would_not_pick() {
        // Shape 2 already has a guest and the longest head, so choosing again would boot a second
        // guest of it, which would make way again: the handoff names shape 1 instead.
        let expected = [2_000, 1_000, 3_000, 9_000];
        let none = |_: usize| false;
        let s = schedule(&[(1, &[0]), (1, &[2]), (2, &[3])]);
        assert_eq!(choose(&s, &[0, 0, 0], &expected, &none, true, 0), Choice::Boot(2));
        assert_eq!(make_way(&s, &[2, 0, 1], &expected, &none, true, 0), Some(1));
        assert_eq!(make_way(&s, &[0, 0, 2], &expected, &none, true, 2), None, "shape 2's head is longer than 1's");
    }
}
