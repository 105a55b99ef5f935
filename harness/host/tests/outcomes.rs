//! Every way a case can end, proven on a real guest: the `selftest` cases misbehave on purpose
//! and each must come back as its outcome, with the guest rebooted after a kernel panic so the
//! cases after it still run, and after a case that changed global state and timed out. Boots the default kernel (or `POLLCHECK_KERNEL`).

use pollcheck::report::model::CaseRecord;
use pollcheck::session::{self, SessionConfig};
use pollcheck::Workspace;
use pollcheck_proto::{ErrorKind, Outcome, OutcomeKind};

fn by_name<'a>(recs: &'a [CaseRecord], name: &str) -> &'a CaseRecord {
    recs.iter().find(|r| r.id.to_string() == name).unwrap_or_else(|| panic!("{name} missing from the report"))
}

#[test]
fn each_misbehaviour_maps_to_its_outcome() {
    let ws = Workspace::open().expect("the agent builds and lists its cases");
    let all = &ws.cases;
    let order = [
        "selftest::pass",
        "selftest::fail_expect",
        "selftest::skip",
        "selftest::hang",
        "selftest::abort",
        "selftest::panic",
        "selftest::defer_runs",
        "selftest::defer_ran",
        "selftest::global_hang",
        "selftest::global_fresh",
        "selftest::kernel_panic",
        "selftest::pass",
    ];
    let cases: Vec<_> =
        order.iter().map(|n| all.iter().find(|c| c.id.to_string() == *n).expect("case exists").clone()).collect();
    let spec = std::env::var("POLLCHECK_KERNEL").unwrap_or_else(|_| "default".into());
    let mut cfg = SessionConfig::new(ws.kernel(&spec, None).expect("kernel"), &ws);
    cfg.memory_mb = 512;
    // One guest: defer_ran and global_fresh judge what the case before them left on that guest.
    cfg.jobs = Some(1);
    let result = session::run(&ws, &cfg, &cases, &session::Quiet).expect("session runs");
    let recs = &result.report.cases;
    assert_eq!(recs.len(), order.len(), "every case has a record");

    assert_eq!(by_name(recs, "selftest::pass").outcome, Outcome::Pass);
    match &by_name(recs, "selftest::fail_expect").outcome {
        Outcome::Fail { checks } => assert_eq!(checks.len(), 1, "only the failed EXPECT is listed: {checks:?}"),
        other => panic!("fail_expect: {other:?}"),
    }
    assert_eq!(by_name(recs, "selftest::fail_expect").checks.len(), 2, "passing checks are recorded too");
    assert_eq!(by_name(recs, "selftest::skip").outcome.kind(), OutcomeKind::Skip);
    assert_eq!(by_name(recs, "selftest::hang").outcome.kind(), OutcomeKind::Timeout);
    for crashed in ["selftest::abort", "selftest::panic"] {
        match &by_name(recs, crashed).outcome {
            Outcome::Error { kind: ErrorKind::CaseCrashed, detail } => {
                assert!(crashed != "selftest::panic" || detail.contains("on purpose"), "{detail}")
            }
            other => panic!("{crashed}: {other:?}"),
        }
    }
    assert_eq!(by_name(recs, "selftest::defer_runs").outcome.kind(), OutcomeKind::Fail);
    assert_eq!(by_name(recs, "selftest::defer_ran").outcome, Outcome::Pass, "cleanup ran after the failed ASSERT");
    assert_eq!(by_name(recs, "selftest::global_hang").outcome.kind(), OutcomeKind::Timeout);
    assert_eq!(
        by_name(recs, "selftest::global_fresh").outcome,
        Outcome::Pass,
        "a mutates_global case that timed out costs a fresh guest"
    );
    let crash = recs.iter().find(|r| r.id.case == "kernel_panic").expect("kernel_panic record");
    match &crash.outcome {
        Outcome::Error { kind: ErrorKind::KernelCrash, .. } => {
            let excerpt = crash.console_excerpt.as_deref().unwrap_or_default();
            assert!(excerpt.contains("Kernel panic"), "excerpt has the panic: {excerpt}");
        }
        other => panic!("kernel_panic: {other:?}"),
    }
    // The guest was rebooted after the panic, so the last case still ran and passed.
    assert_eq!(recs.last().map(|r| r.outcome.clone()), Some(Outcome::Pass));
    let ktap = std::fs::read_to_string(result.artifacts.path().join("results.ktap")).expect("ktap written");
    assert!(ktap.contains("# TIMEOUT") && ktap.contains("# SKIP") && ktap.contains("# ERROR"));
}
