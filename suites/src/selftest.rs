//! selftest: cases that misbehave on purpose, so the harness's own tests can prove each way a
//! case can end maps to the right outcome (a kernel panic, a hang, a crashing case process, a
//! failed EXPECT, a cleanup that must still run). Never part of a conformance run.

use pollcheck_guest::{Case, CaseBuilder, CaseResult, Ctx};
use std::time::Duration;

pub const SUITE: &str = "selftest";

/// A selftest case with limit `ms` (hidden: run only when a filter names the suite).
fn case(name: &str, summary: &str, ms: u64, run: fn(&mut Ctx<'_>) -> CaseResult) -> CaseBuilder {
    Case::new(SUITE, name, summary, run).timeout(Duration::from_millis(ms)).hidden()
}

pub fn cases() -> Vec<Case> {
    pollcheck_guest::collect([
        case("pass", "one passing check", 5_000, pass),
        case(
            "fail_expect",
            "a failed EXPECT, then a passing ASSERT: FAIL with the one failed check",
            5_000,
            fail_expect,
        ),
        case("skip", "skips with a reason", 5_000, skip),
        case("hang", "sleeps past its 1 s limit: TIMEOUT", 1_000, hang),
        case("abort", "the case process dies from SIGABRT: ERROR case crashed", 5_000, abort),
        case("panic", "a Rust panic in the case: ERROR case crashed with the message", 5_000, rust_panic),
        case(
            "kernel_panic",
            "crashes the kernel through sysrq: ERROR kernel crash with the console excerpt",
            5_000,
            kernel_panic,
        )
        .mutates_global(),
        case(
            "defer_runs",
            "a deferred cleanup runs after a failed ASSERT (it leaves a marker file)",
            5_000,
            defer_runs,
        ),
        case(
            "defer_ran",
            "the marker left by defer_runs' cleanup exists (run right after defer_runs)",
            5_000,
            defer_ran,
        ),
        case(
            "global_hang",
            "changes guest-wide state (a marker file), declares it, and hangs past its 1 s limit: TIMEOUT, cleanup never ran",
            1_000,
            global_hang,
        )
        .mutates_global(),
        case(
            "global_fresh",
            "run right after global_hang: a fresh guest, so global_hang's marker is gone",
            5_000,
            global_fresh,
        ),
    ])
}

fn pass(ctx: &mut Ctx<'_>) -> CaseResult {
    ctx.assert(true, "true holds", "true")
}

fn fail_expect(ctx: &mut Ctx<'_>) -> CaseResult {
    ctx.expect(1 + 1 == 3, "1 + 1 == 3", 1 + 1);
    ctx.assert(true, "the case goes on after a failed EXPECT", "it did")
}

fn skip(ctx: &mut Ctx<'_>) -> CaseResult {
    Err(ctx.not_here("selftest skip: nothing to test here"))
}

fn hang(_ctx: &mut Ctx<'_>) -> CaseResult {
    std::thread::sleep(std::time::Duration::from_secs(3600));
    Ok(())
}

fn abort(_ctx: &mut Ctx<'_>) -> CaseResult {
    std::process::abort()
}

fn rust_panic(_ctx: &mut Ctx<'_>) -> CaseResult {
    panic!("selftest panic on purpose")
}

fn kernel_panic(ctx: &mut Ctx<'_>) -> CaseResult {
    let r = std::fs::write("/proc/sysrq-trigger", "c");
    // Only reached when the kernel has no sysrq.
    Err(ctx.not_here(format!("no /proc/sysrq-trigger to crash the kernel with: {r:?}")))
}

const DEFER_MARKER: &str = "/tmp/selftest-defer-ran";

fn defer_runs(ctx: &mut Ctx<'_>) -> CaseResult {
    let _ = std::fs::remove_file(DEFER_MARKER);
    ctx.defer(|| {
        let _ = std::fs::write(DEFER_MARKER, "yes");
    });
    ctx.assert(false, "an ASSERT that fails on purpose", "false")
}

fn defer_ran(ctx: &mut Ctx<'_>) -> CaseResult {
    let found = std::fs::read_to_string(DEFER_MARKER);
    ctx.assert(found.as_deref().ok() == Some("yes"), "the deferred cleanup of defer_runs ran", format!("{found:?}"))
}

const GLOBAL_MARKER: &str = "/tmp/selftest-global-dirty";

fn global_hang(ctx: &mut Ctx<'_>) -> CaseResult {
    ctx.setup(std::fs::write(GLOBAL_MARKER, "dirty"), "leave the marker")?;
    // Killed at the limit, so this never runs: the host must not trust the guest afterwards.
    ctx.defer(|| {
        let _ = std::fs::remove_file(GLOBAL_MARKER);
    });
    std::thread::sleep(std::time::Duration::from_secs(3600));
    Ok(())
}

fn global_fresh(ctx: &mut Ctx<'_>) -> CaseResult {
    let left = std::path::Path::new(GLOBAL_MARKER).exists();
    ctx.assert(!left, "global_hang's marker is gone (the guest was rebooted)", format!("marker exists: {left}"))
}
