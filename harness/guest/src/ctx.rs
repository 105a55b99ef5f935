//! The test-author API: checks (ASSERT stops, EXPECT continues), skips that say what is absent
//! and how that was established, setup steps, logs and a defer stack.

use crate::case::Stop;
use crate::channel::EventSink;
use nix::errno::Errno;
use pollcheck_proto::{CaseId, Check, Event, Feature, Severity};
use std::fmt::{Debug, Display};
use std::panic::Location;

type Deferred = Box<dyn FnOnce()>;

/// Handed to every case. Records checks as they happen and runs deferred cleanups (last in,
/// first out) when the case ends, whether it passed, failed or returned early.
pub struct Ctx<'s> {
    id: CaseId,
    params: Option<serde_json::Value>,
    sink: &'s mut EventSink,
    failed: Vec<Check>,
    deferred: Vec<Deferred>,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("id", &self.id).field("failed", &self.failed.len()).finish()
    }
}

impl<'s> Ctx<'s> {
    pub(crate) fn new(id: CaseId, params: Option<serde_json::Value>, sink: &'s mut EventSink) -> Self {
        Self { id, params, sink, failed: Vec::new(), deferred: Vec::new() }
    }

    pub fn id(&self) -> &CaseId {
        &self.id
    }

    /// What the host asked of this run (`Request::Run`'s params: a benchmark's sweep), if anything.
    pub fn params(&self) -> Option<&serde_json::Value> {
        self.params.as_ref()
    }

    /// A line for the report: measured numbers, what was set up.
    pub fn log(&mut self, line: impl Into<String>) {
        self.sink.send(&Event::Log { case: self.id.clone(), line: line.into() });
    }

    /// Run `f` when the case ends (LIFO), even when an assertion stops it.
    pub fn defer(&mut self, f: impl FnOnce() + 'static) {
        self.deferred.push(Box::new(f));
    }

    /// `feature` is absent, established as `how` says (an answer a kernel that broke the feature
    /// could not give the same way); return it with `return Err(ctx.absent(..))`. The host turns
    /// it into a FAIL when the kernel promised the feature.
    pub fn absent(&mut self, feature: Feature, how: impl Into<String>) -> Stop {
        Stop::Skipped { feature: Some(feature), reason: how.into() }
    }

    /// This guest cannot run the case (too few CPUs, one queue): not a claim about the kernel.
    pub fn not_here(&mut self, why: impl Into<String>) -> Stop {
        Stop::Skipped { feature: None, reason: why.into() }
    }

    /// Fatal check: records it and stops the case when `ok` is false.
    #[track_caller]
    pub fn assert(&mut self, ok: bool, what: impl Into<String>, observed: impl Display) -> Result<(), Stop> {
        if self.record(Severity::Assert, ok, what.into(), observed.to_string(), Location::caller()) {
            Ok(())
        } else {
            Err(Stop::Failed)
        }
    }

    /// Non-fatal check: records it and lets the case go on.
    #[track_caller]
    pub fn expect(&mut self, ok: bool, what: impl Into<String>, observed: impl Display) -> bool {
        self.record(Severity::Expect, ok, what.into(), observed.to_string(), Location::caller())
    }

    /// Fatal check that `got` equals `want`.
    #[track_caller]
    pub fn assert_eq<T: PartialEq + Debug>(&mut self, got: T, want: T, what: impl Into<String>) -> Result<(), Stop> {
        let observed = format!("got {got:?}, want {want:?}");
        self.assert(got == want, what, observed)
    }

    /// Fatal check that a syscall failed with exactly `want`.
    #[track_caller]
    pub fn assert_errno<T: Debug>(
        &mut self,
        res: Result<T, Errno>,
        want: Errno,
        what: impl Into<String>,
    ) -> Result<(), Stop> {
        let observed = describe(&res);
        self.assert(res.err() == Some(want), what, format!("{observed}, want {}", want.desc_name()))
    }

    /// Fatal check that a syscall succeeded; yields its value.
    #[track_caller]
    pub fn assert_ok<T: Debug>(&mut self, res: Result<T, Errno>, what: impl Into<String>) -> Result<T, Stop> {
        let observed = describe(&res);
        match res {
            Ok(v) => {
                self.record(Severity::Assert, true, what.into(), observed, Location::caller());
                Ok(v)
            }
            Err(_) => {
                self.record(Severity::Assert, false, what.into(), observed, Location::caller());
                Err(Stop::Failed)
            }
        }
    }

    /// Setup that must work for the case to mean anything. Its failure is no verdict on the
    /// feature: the case ends as ERROR setup, naming `step` and the error.
    #[track_caller]
    pub fn setup<T, E: Display>(&mut self, res: Result<T, E>, step: &str) -> Result<T, Stop> {
        res.map_err(|e| {
            let at = Location::caller();
            Stop::Setup { step: step.to_owned(), error: format!("{e} (at {}:{})", at.file(), at.line()) }
        })
    }

    fn record(&mut self, severity: Severity, passed: bool, what: String, observed: String, at: &Location<'_>) -> bool {
        let check = Check { what, passed, severity, observed, location: format!("{}:{}", at.file(), at.line()) };
        self.sink.send(&Event::Check { case: self.id.clone(), check: check.clone() });
        if !passed {
            self.failed.push(check);
        }
        passed
    }

    pub(crate) fn failed_checks(&self) -> &[Check] {
        &self.failed
    }

    /// Run the defer stack now (LIFO). Called once when the case returns.
    pub(crate) fn run_deferred(&mut self) {
        while let Some(f) = self.deferred.pop() {
            f();
        }
    }
}

impl Drop for Ctx<'_> {
    fn drop(&mut self) {
        self.run_deferred();
    }
}

fn describe<T: Debug>(res: &Result<T, Errno>) -> String {
    match res {
        Ok(v) => format!("succeeded with {v:?}"),
        Err(e) => format!("failed with {}", e.desc_name()),
    }
}

trait ErrnoName {
    fn desc_name(&self) -> String;
}

impl ErrnoName for Errno {
    fn desc_name(&self) -> String {
        format!("{self:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_runs_params_reach_the_case() {
        let (rd, wr) = nix::unistd::pipe().expect("pipe");
        let mut sink = EventSink::new(wr);
        let want = serde_json::json!({"rates": [100.0, 400.0], "window_ms": 500});
        let mut ctx = Ctx::new(CaseId::new("s", "c"), Some(want.clone()), &mut sink);
        assert_eq!(ctx.params(), Some(&want));
        ctx.log("x");
        drop(ctx);
        let mut none_sink = EventSink::new(nix::unistd::pipe().expect("pipe").1);
        assert_eq!(Ctx::new(CaseId::new("s", "c"), None, &mut none_sink).params(), None);
        drop(sink);
        let mut text = String::new();
        std::fs::File::from(rd).read_to_string(&mut text).expect("read");
        assert!(text.contains("\"line\":\"x\""), "{text}");
    }
}
