//! The `cargo test` face of pollcheck: one libtest-mimic trial per case, named
//! `<suite>::<case>[.<variant>]`. Listing boots nothing; the first trial that runs boots one VM
//! for every selected case, and each trial reports its own case's outcome from that session.
//!
//! Environment: `POLLCHECK_KERNEL` (a spec or a bzImage path; default: the newest Debian cloud
//! kernel), `POLLCHECK_MODULES` (modules dir for a path kernel), `POLLCHECK_ACCEL` (auto|kvm|tcg),
//! `POLLCHECK_EXPECT` (auto|none|FILE), `POLLCHECK_JOBS` (guests at once).

use crate::accel::AccelChoice;
use crate::display::{Detail, LiveDisplay};
use crate::report::model::CaseRecord;
use crate::session::{self, SessionConfig};
use crate::workspace::Workspace;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use pollcheck_proto::{CaseMeta, Outcome};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

type Results = Result<HashMap<String, CaseRecord>, String>;

struct Shared {
    selected: Vec<CaseMeta>,
    results: OnceLock<Results>,
}

impl Shared {
    fn outcome(&self, name: &str) -> Result<Completion, Failed> {
        let results = self.results.get_or_init(|| run_session(&self.selected));
        let map = results.as_ref().map_err(|e| Failed::from(e.as_str()))?;
        let rec =
            map.get(name).ok_or_else(|| Failed::from(format!("{name} was not run (see the session error above)")))?;
        completion(rec)
    }
}

/// Run the harness over `cases` and exit with libtest's status.
pub fn main(cases: Vec<CaseMeta>) -> ! {
    let args = Arguments::from_args();
    let selected: Vec<CaseMeta> = cases
        .iter()
        .filter(|m| {
            let probe = Trial::test(m.id.to_string(), || Ok(()));
            !args.is_filtered_out(&probe) && !args.is_ignored(&probe)
        })
        .cloned()
        .collect();
    let shared = Arc::new(Shared { selected, results: OnceLock::new() });
    let trials = cases
        .into_iter()
        .map(|m| {
            let name = m.id.to_string();
            let shared = Arc::clone(&shared);
            let key = name.clone();
            Trial::ignorable_test(name, move || shared.outcome(&key))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

/// How one record reads to libtest: skips and xfails are "ignored" with their reason.
pub fn completion(rec: &CaseRecord) -> Result<Completion, Failed> {
    match &rec.outcome {
        Outcome::Pass => Ok(Completion::Completed),
        Outcome::Skip { reason, .. } => Ok(Completion::ignored_with(format!("SKIP {reason}"))),
        Outcome::XFail { reason } => Ok(Completion::ignored_with(format!("XFAIL {reason}"))),
        Outcome::Fail { checks } => {
            let lines: Vec<String> =
                checks.iter().map(|c| format!("FAIL {}: {} ({})", c.what, c.observed, c.location)).collect();
            Err(Failed::from(lines.join("\n")))
        }
        Outcome::Timeout { after_ms } => Err(Failed::from(format!("TIMEOUT after {after_ms} ms"))),
        Outcome::Error { kind, detail } => {
            let mut msg = format!("ERROR ({kind}): {detail}");
            if let Some(ex) = &rec.console_excerpt {
                msg.push_str("\nconsole:\n");
                msg.push_str(ex);
            }
            Err(Failed::from(msg))
        }
    }
}

fn run_session(cases: &[CaseMeta]) -> Results {
    let spec = std::env::var("POLLCHECK_KERNEL").unwrap_or_else(|_| "default".into());
    let modules = std::env::var_os("POLLCHECK_MODULES").map(PathBuf::from);
    let ws = Workspace::open().map_err(|e| e.to_string())?;
    let kernel = ws.kernel(&spec, modules.as_deref()).map_err(|e| e.to_string())?;
    let mut cfg = SessionConfig::new(kernel, &ws);
    cfg.accel = match std::env::var("POLLCHECK_ACCEL").as_deref() {
        Ok("kvm") => AccelChoice::Kvm,
        Ok("tcg") => AccelChoice::Tcg,
        _ => AccelChoice::Auto,
    };
    if let Ok(e) = std::env::var("POLLCHECK_EXPECT") {
        cfg.expect = e.parse().unwrap_or_default();
    }
    if let Ok(j) = std::env::var("POLLCHECK_JOBS") {
        cfg.jobs = Some(j.trim().parse().map_err(|_| format!("POLLCHECK_JOBS is {j:?}, not a number of guests"))?);
    }
    let display = LiveDisplay::new(Detail::Boots, false);
    let result = session::run(&ws, &cfg, cases, &display).map_err(|e| e.to_string())?;
    display.finish();
    eprintln!(
        "pollcheck: kernel {spec} (release {}); {} case(s) in {} ms on {} guest(s); reports in {}",
        result.report.kernel.release,
        result.report.cases.len(),
        result.report.duration_ms,
        result.report.guests,
        result.artifacts.path().display()
    );
    Ok(result.report.cases.into_iter().map(|r| (r.id.to_string(), r)).collect())
}

/// `$POLLCHECK_ARTIFACTS`, else `<workspace>/target/pollcheck`.
pub fn artifacts_root() -> PathBuf {
    std::env::var_os("POLLCHECK_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::agent_bin::workspace_root().join("target/pollcheck"))
}
