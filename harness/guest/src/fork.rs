//! Fork-per-case: run one case in a child process with a deadline, relay its events, and turn
//! however it ended (verdict, signal, panic, timeout) into an [`Outcome`].

use crate::case::{Case, Stop};
use crate::channel::EventSink;
use crate::ctx::Ctx;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, pipe2, setpgid, ForkResult, Pid};
use pollcheck_proto::{frame, ErrorKind, Event, Outcome};
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

/// Run `case` in a forked child with the run's `params`; relay its checks and logs to `out`;
/// return its outcome.
pub(crate) fn run_case(
    case: &Case,
    params: Option<serde_json::Value>,
    timeout: Duration,
    out: &mut EventSink,
) -> Outcome {
    let (rd, wr) = match pipe2(nix::fcntl::OFlag::O_CLOEXEC) {
        Ok(p) => p,
        Err(e) => return Outcome::error(ErrorKind::Setup, format!("failed to create a pipe: {e}")),
    };
    // SAFETY: the agent is single-threaded, so the child may run arbitrary code after fork.
    match unsafe { fork() } {
        Err(e) => Outcome::error(ErrorKind::Setup, format!("failed to fork: {e}")),
        Ok(ForkResult::Child) => {
            drop(rd);
            child(case, params, wr)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(wr);
            // Also from the parent, so a kill of the group cannot race the child's own setpgid.
            let _ = setpgid(child, child);
            let outcome = relay(rd, child, timeout, out);
            // Reap whatever the case left behind in its process group.
            let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGKILL);
            outcome
        }
    }
}

fn child(case: &Case, params: Option<serde_json::Value>, wr: OwnedFd) -> ! {
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut m) = PANIC_MESSAGE.lock() {
            *m = Some(info.to_string());
        }
    }));
    let mut sink = EventSink::new(wr);
    let outcome = {
        let mut ctx = Ctx::new(case.meta.id.clone(), params, &mut sink);
        let result = catch_unwind(AssertUnwindSafe(|| case.run(&mut ctx)));
        // Cleanups run before the verdict is sent, so a failing cleanup is still reported.
        let cleanup = catch_unwind(AssertUnwindSafe(|| ctx.run_deferred()));
        match (result, cleanup) {
            (Err(_), _) | (_, Err(_)) => {
                let msg = PANIC_MESSAGE.lock().ok().and_then(|mut m| m.take()).unwrap_or_else(|| "panic".into());
                Outcome::error(ErrorKind::CaseCrashed, format!("case panicked: {msg}"))
            }
            (Ok(r), Ok(())) => verdict(r, ctx.failed_checks()),
        }
    };
    sink.send(&Event::Done { case: case.meta.id.clone(), outcome, duration_ms: 0 });
    // SAFETY: leave without running the parent's atexit handlers or flushing its buffers.
    unsafe { libc::_exit(0) }
}

/// The outcome of a case that returned normally. A failure observed before the case skipped or
/// met a setup error is still a failure.
pub(crate) fn verdict(result: Result<(), Stop>, failed: &[pollcheck_proto::Check]) -> Outcome {
    if !failed.is_empty() {
        return Outcome::Fail { checks: failed.to_vec() };
    }
    match result {
        Ok(()) => Outcome::Pass,
        Err(Stop::Skipped { feature, reason }) => Outcome::Skip { reason, feature },
        Err(Stop::Setup { step, error }) => Outcome::error(ErrorKind::Setup, format!("{step}: {error}")),
        Err(Stop::Failed) => Outcome::error(ErrorKind::CaseCrashed, "case stopped as failed without a failed check"),
    }
}

fn relay(rd: OwnedFd, child: Pid, timeout: Duration, out: &mut EventSink) -> Outcome {
    let deadline = Instant::now() + timeout;
    let mut file = std::fs::File::from(rd);
    let mut pending = Vec::new();
    let mut verdict = None;
    let mut buf = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGKILL);
            let _ = kill(child, Signal::SIGKILL);
            let _ = waitpid(child, None);
            return Outcome::Timeout { after_ms: timeout.as_millis() as u64 };
        }
        let ms = PollTimeout::try_from(left.as_millis().min(60_000) as u32).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, ms) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Outcome::error(ErrorKind::AgentLost, format!("failed to poll the case pipe: {e}")),
            Ok(_) => {}
        }
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                pending.extend_from_slice(&buf[..n]);
                drain_lines(&mut pending, out, &mut verdict);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Outcome::error(ErrorKind::AgentLost, format!("failed to read the case pipe: {e}")),
        }
    }
    let status = waitpid(child, None);
    match (verdict, status) {
        (Some(v), _) => v,
        (None, Ok(WaitStatus::Signaled(_, sig, _))) => {
            Outcome::error(ErrorKind::CaseCrashed, format!("case process killed by {sig:?}"))
        }
        (None, Ok(WaitStatus::Exited(_, code))) => {
            Outcome::error(ErrorKind::CaseCrashed, format!("case process exited with {code} before its verdict"))
        }
        (None, other) => {
            Outcome::error(ErrorKind::CaseCrashed, format!("case process ended without a verdict: {other:?}"))
        }
    }
}

/// Forward complete lines; keep the child's own `Done` (its verdict) for the parent to send.
fn drain_lines(pending: &mut Vec<u8>, out: &mut EventSink, verdict: &mut Option<Outcome>) {
    while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = pending.drain(..=pos).collect();
        let line = String::from_utf8_lossy(&line);
        match frame::decode::<Event>(&line) {
            Ok(Event::Done { outcome, .. }) => *verdict = Some(outcome),
            Ok(ev) => out.send(&ev),
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::verdict;
    use crate::Stop;
    use pollcheck_proto::{Check, ErrorKind, Feature, Outcome, OutcomeKind, Severity};

    fn failed_check() -> Check {
        Check {
            what: "x".into(),
            passed: false,
            severity: Severity::Expect,
            observed: "y".into(),
            location: "f:1".into(),
        }
    }

    #[test]
    fn verdict_rules() {
        let skip = || Err(Stop::Skipped { feature: Some(Feature::EpollParams), reason: "ENOTTY".into() });
        let setup = || Err(Stop::Setup { step: "build the test network".into(), error: "EBUSY".into() });
        assert_eq!(verdict(Ok(()), &[]), Outcome::Pass);
        assert_eq!(verdict(skip(), &[]), Outcome::absent(Feature::EpollParams, "ENOTTY"));
        assert_eq!(verdict(Ok(()), &[failed_check()]).kind(), OutcomeKind::Fail);
        // A skip or a setup error after a failed EXPECT is still a failure: it was observed.
        assert_eq!(verdict(skip(), &[failed_check()]).kind(), OutcomeKind::Fail);
        assert_eq!(verdict(setup(), &[failed_check()]).kind(), OutcomeKind::Fail);
        assert_eq!(verdict(setup(), &[]), Outcome::error(ErrorKind::Setup, "build the test network: EBUSY"));
        assert_eq!(verdict(Err(Stop::Failed), &[failed_check()]).kind(), OutcomeKind::Fail);
        assert_eq!(verdict(Err(Stop::Failed), &[]).kind(), OutcomeKind::Error);
    }
}
