//! Test-only sample run: one case of each outcome, shared by the reporters' snapshot tests.

use super::model::{Accel, CaseRecord, KernelInfo, RunReport};
use pollcheck_proto::{CaseId, Check, ErrorKind, Outcome, Severity};

fn check(what: &str, passed: bool, severity: Severity, observed: &str, location: &str) -> Check {
    Check { what: what.to_owned(), passed, severity, observed: observed.to_owned(), location: location.to_owned() }
}

fn record(id: CaseId, summary: &str, outcome: Outcome, duration_ms: u64) -> CaseRecord {
    CaseRecord {
        id,
        summary: summary.to_owned(),
        outcome,
        duration_ms,
        checks: Vec::new(),
        logs: Vec::new(),
        console_excerpt: None,
        guest: None,
    }
}

fn pass() -> CaseRecord {
    let mut r = record(
        CaseId::new("busy_poll", "params").with_variant("defaults"),
        "EPIOCGPARAMS on a fresh epoll returns all-zero parameters",
        Outcome::Pass,
        12,
    );
    r.checks.push(check(
        "EPIOCGPARAMS succeeds",
        true,
        Severity::Assert,
        "Ok(())",
        "suites/src/busy_poll/params.rs:31",
    ));
    r.logs.push("busy_poll_usecs=0 busy_poll_budget=0 prefer_busy_poll=0".to_owned());
    r
}

fn fail() -> CaseRecord {
    let ok = check("EPIOCGPARAMS succeeds", true, Severity::Assert, "Ok(())", "suites/src/busy_poll/params.rs:52");
    let bad = check(
        "EPIOCSPARAMS with __pad=1 fails with EINVAL",
        false,
        Severity::Expect,
        "got Ok(()) & params <changed>",
        "suites/src/busy_poll/params.rs:57",
    );
    let mut r = record(
        CaseId::new("busy_poll", "params").with_variant("pad"),
        "EPIOCSPARAMS rejects a non-zero __pad",
        Outcome::Fail { checks: vec![bad.clone()] },
        3,
    );
    r.checks = vec![ok, bad];
    r.logs.push("set __pad=1\nioctl returned 0".to_owned());
    r
}

fn skip() -> CaseRecord {
    record(
        CaseId::new("busy_poll", "napi").with_variant("threaded"),
        "threaded NAPI busy poll keeps the NAPI thread parked",
        Outcome::absent(
            pollcheck_proto::Feature::ThreadedBusyPoll,
            "kernel lacks threaded busy poll: /sys/class/net/eth0/threaded missing",
        ),
        0,
    )
}

fn xfail() -> CaseRecord {
    record(
        CaseId::new("irq_suspend", "start").with_variant("virtio"),
        "irq_suspend_timeout defers the first IRQ",
        Outcome::XFail { reason: "virtio-net ignores irq_suspend_timeout\nsee docs/known-failures.md".to_owned() },
        840,
    )
}

fn timeout() -> CaseRecord {
    let mut r = record(
        CaseId::new("irq_suspend", "timeout"),
        "IRQs resume after irq_suspend_timeout",
        Outcome::Timeout { after_ms: 5000 },
        5003,
    );
    r.logs.push("waiting for IRQ on eth0".to_owned());
    r
}

fn error() -> CaseRecord {
    let mut r = record(
        CaseId::new("irq_suspend", "teardown"),
        "closing the epoll fd mid-suspend re-arms IRQs",
        Outcome::error(
            ErrorKind::KernelCrash,
            "BUG: kernel NULL pointer dereference, address: 0000000000000008\nseen at 12.345678 on the console",
        ),
        211,
    );
    r.checks.push(check(
        "epoll_wait returns the packet",
        true,
        Severity::Assert,
        "1 event",
        "suites/src/irq_suspend/teardown.rs:88",
    ));
    r.console_excerpt = Some(
        [
            "[   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000008",
            "[   12.345702] #PF: supervisor read access in kernel mode",
            "[   12.345719] RIP: 0010:napi_busy_loop+0x3c/0x2a0",
            "",
            "[   12.345801] Call Trace:",
        ]
        .join("\n"),
    );
    r
}

/// A fixed run with one case of each outcome, in the order Pass, Fail, Skip, XFail, Timeout, Error.
pub(crate) fn sample() -> RunReport {
    RunReport {
        network: None,
        run_id: "20250301-101500-beef".to_owned(),
        kernel: KernelInfo { spec: "7.3".to_owned(), release: "7.3.0-pollcheck".to_owned() },
        accel: Accel::Tcg,
        qemu: "7.2.19".into(),
        expectations: "auto: release 7.3.0-pollcheck, its config".into(),
        modules_failed: vec!["netdevsim.ko: failed to load: ENOEXEC".into()],
        guests: 1,
        probes: Default::default(),
        started_unix: 1_740_824_100,
        duration_ms: 12_345,
        cases: vec![pass(), fail(), skip(), xfail(), timeout(), error()],
    }
}

/// The sample without any case.
pub(crate) fn empty() -> RunReport {
    RunReport { cases: Vec::new(), ..sample() }
}
