//! A session: one kernel, a list of cases, as many VMs as it takes (a crash or a timeout costs
//! a reboot, never the rest of the run), and the report at the end.

use crate::accel::{self, AccelChoice, AccelDecision};
use crate::error::HostError;
use crate::net::{self, NetPlan};
use crate::report::model::{Accel, CaseRecord, KernelInfo, RunReport};
use crate::report::{new_run_id, ArtifactDir};
use crate::vm::{BootConfig, BootError, Guest};
use crate::{agent_bin, cleanup, initramfs, qemu};
use pollcheck_images::KernelImage;
use pollcheck_proto::{CaseMeta, ErrorKind, Features, Outcome};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Modules every guest gets when the kernel has them as modules (network suites need them).
pub const BASE_MODULES: &[&str] = &["virtio_pci", "virtio_net"];

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub kernel: KernelImage,
    pub accel: AccelChoice,
    /// Guest CPUs; `None` picks [`default_cpus`].
    pub cpus: Option<u32>,
    pub memory_mb: u32,
    /// Queue pairs per test-network NIC (see [`crate::net`]) when a case needs the network;
    /// `None`: `$POLLCHECK_QUEUES`, else [`net::DEFAULT_QUEUES`].
    pub queues: Option<u32>,
    /// Artifact runs go to `<root>/<run-id>/`.
    pub artifacts_root: PathBuf,
    /// Where per-host facts (the KVM verdict) are cached.
    pub cache_dir: PathBuf,
}

/// What a session tells its caller as it goes.
#[derive(Debug)]
pub enum SessionEvent<'a> {
    AccelChosen(&'a AccelDecision),
    Network(&'a NetPlan),
    Booted {
        boot_time: Duration,
        features: &'a Features,
    },
    /// A guest crashed or hung before its agent was ready; the boot is tried once more.
    BootRetry {
        cpus: u32,
        error: &'a BootError,
    },
    CaseFinished(&'a CaseRecord),
}

/// Everything a finished session produced.
#[derive(Debug)]
pub struct SessionResult {
    pub report: RunReport,
    pub artifacts: ArtifactDir,
    pub accel: AccelDecision,
    /// Time from session start until the first case was sent to a guest.
    pub time_to_first_case: Option<Duration>,
}

/// Run `cases` on `cfg.kernel` and write the reports.
pub fn run(
    cfg: &SessionConfig,
    cases: &[CaseMeta],
    on: &mut dyn FnMut(SessionEvent<'_>),
) -> Result<SessionResult, HostError> {
    cleanup::install_interrupt_handler();
    cleanup::sweep_stale(&std::env::temp_dir());
    let start = Instant::now();
    let started_unix = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let qemu = qemu::find_qemu()?;
    let agent = agent_bin::agent_path()?;
    let agent_bytes =
        std::fs::read(&agent).map_err(|source| HostError::Io { what: "agent read", path: agent.clone(), source })?;
    let modules = match &cfg.kernel.modules_dir {
        Some(dir) => Some(pollcheck_images::resolve_modules(dir, &cfg.kernel.release, &wanted_modules(cases))?),
        None => None,
    };
    let run_id = new_run_id();
    let artifacts = ArtifactDir::create(&cfg.artifacts_root, &run_id)?;
    let work = tempfile::Builder::new().prefix("pollcheck-run-").tempdir().map_err(|source| HostError::Io {
        what: "temp dir",
        path: std::env::temp_dir(),
        source,
    })?;
    cleanup::register_dir(work.path().to_owned());
    let initramfs_path = work.path().join("initramfs.cpio");
    initramfs::write(&initramfs_path, initramfs::entries(&agent_bytes, modules.as_ref()))?;

    let mut boot = BootConfig {
        qemu: qemu.clone(),
        accel: Accel::Tcg,
        kernel: boot_image(&cfg.kernel, &cfg.cache_dir),
        initramfs: initramfs_path,
        cpus: 1,
        memory_mb: cfg.memory_mb,
        boot_timeout: Duration::from_secs(20),
        console_log: artifacts.path().join("console.log"),
        network: None,
    };
    let decision = accel::decide(cfg.accel, &qemu, &cfg.cache_dir, || probe_kvm(&boot));
    on(SessionEvent::AccelChosen(&decision));
    boot.accel = decision.accel;
    boot.boot_timeout = boot_timeout(decision.accel);
    // Each case boots with the vCPUs it needs: cases needing more run last, in a guest of their own.
    let cpus_for =
        |meta: &CaseMeta| cfg.cpus.unwrap_or_else(|| default_cpus(decision.accel, std::slice::from_ref(meta)));
    if cases.iter().any(|c| c.requires.network) {
        let plan = NetPlan::new(net::validate_queues(cfg.queues.map_or_else(net::env_queues, Ok)?)?, net::probe_taps());
        on(SessionEvent::Network(&plan));
        boot.network = Some(plan);
    }

    let mut records = Vec::with_capacity(cases.len());
    // Records carry their case's position: skips decided here come first, reports list by position.
    let (runnable, ruled_out) = partition_by_config(cases, cfg.kernel.config.as_deref());
    for (pos, meta, reason) in ruled_out {
        let rec = record(meta, Outcome::Skip { reason }, 0);
        on(SessionEvent::CaseFinished(&rec));
        records.push((pos, rec));
    }
    let mut release = cfg.kernel.release.clone();
    let mut time_to_first_case = None;
    let mut runnable = runnable;
    runnable.sort_by_key(|(pos, meta)| (cpus_for(meta), *pos));
    let mut pending = runnable.into_iter().peekable();
    // The probe answers of the last guest of this kernel: later groups need not boot for cases
    // whose required probes it already answered "no".
    let mut answers: Option<std::collections::BTreeMap<String, String>> = None;
    loop {
        if let Some(answers) = &answers {
            let mut keep = Vec::new();
            for (pos, meta) in pending {
                match crate::plan::probe_gap(meta, answers) {
                    None => keep.push((pos, meta)),
                    Some(reason) => {
                        let rec = record(meta, Outcome::Skip { reason }, 0);
                        on(SessionEvent::CaseFinished(&rec));
                        records.push((pos, rec));
                    }
                }
            }
            pending = keep.into_iter().peekable();
        }
        let Some((_, next)) = pending.peek() else { break };
        boot.cpus = cpus_for(next);
        let booted = boot_retrying(&boot, &mut |e: &BootError| {
            on(SessionEvent::BootRetry { cpus: boot.cpus, error: e });
        });
        let mut guest = match booted {
            Ok(g) => g,
            Err(e) => {
                // No guest, no verdicts: every case meant for it is an infrastructure error.
                let kind = ErrorKind::BootFailed;
                let why = format!("{e} (a {}-vCPU guest, booted {BOOT_ATTEMPTS} times)", boot.cpus);
                while let Some((pos, meta)) = pending.next_if(|(_, m)| cpus_for(m) == boot.cpus) {
                    let rec = record(meta, Outcome::error(kind, why.clone()), 0);
                    on(SessionEvent::CaseFinished(&rec));
                    records.push((pos, rec));
                }
                continue;
            }
        };
        on(SessionEvent::Booted { boot_time: guest.boot_time, features: &guest.features });
        release = guest.features.kernel_release.clone();
        answers = Some(guest.features.probes.clone());
        while let Some((pos, meta)) = pending.next_if(|(_, m)| cpus_for(m) == boot.cpus) {
            time_to_first_case.get_or_insert_with(|| start.elapsed());
            let (timeout, grace) = case_limits(meta, decision.accel);
            let run = guest.run_case(meta, timeout, grace);
            let rec = CaseRecord {
                id: meta.id.clone(),
                summary: meta.summary.clone(),
                outcome: run.outcome,
                duration_ms: run.duration_ms,
                checks: run.checks,
                logs: run.logs,
                console_excerpt: run.console_excerpt,
            };
            let dirty = left_state_behind(meta, &rec.outcome);
            on(SessionEvent::CaseFinished(&rec));
            records.push((pos, rec));
            if !run.guest_usable || dirty {
                break;
            }
        }
        guest.shutdown(Duration::from_secs(5));
    }
    drop(work);
    records.sort_by_key(|(pos, _)| *pos);
    let records = records.into_iter().map(|(_, rec)| rec).collect();
    let report = RunReport {
        run_id,
        kernel: KernelInfo { spec: cfg.kernel.spec.clone(), release },
        accel: decision.accel,
        network: boot.network.as_ref().map(NetPlan::describe),
        started_unix,
        duration_ms: start.elapsed().as_millis() as u64,
        cases: records,
    };
    artifacts.write_all(&report)?;
    Ok(SessionResult { report, artifacts, accel: decision, time_to_first_case })
}

/// Whether a case may have left global state changed (a sysctl, a NAPI's settings, a threaded
/// NAPI's kthread): it says it changes such state and it ended without its cleanup having run for
/// sure (a guest-side timeout SIGKILLs the case, a crash skips its guards). The next case then
/// gets a fresh guest.
pub fn left_state_behind(meta: &CaseMeta, outcome: &Outcome) -> bool {
    meta.mutates_global && matches!(outcome, Outcome::Timeout { .. } | Outcome::Error { .. })
}

/// How many times a guest is booted before its cases are given up as boot failures.
pub const BOOT_ATTEMPTS: u32 = 2;

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

/// Splits `cases` into those to run and those the kernel's config rules out (with the reason).
/// Without a readable config every case runs and the guest's probes decide.
/// A case with its position in the session's list.
type Positioned<'a> = (usize, &'a CaseMeta);

/// Both lists carry each case's position in `cases`.
fn partition_by_config<'a>(
    cases: &'a [CaseMeta],
    config: Option<&std::path::Path>,
) -> (Vec<Positioned<'a>>, Vec<(usize, &'a CaseMeta, String)>) {
    let config = config.and_then(|p| pollcheck_images::KernelConfig::read(p).ok());
    let mut run = Vec::new();
    let mut out = Vec::new();
    for (pos, meta) in cases.iter().enumerate() {
        match config.as_ref().and_then(|c| crate::plan::config_gap(meta, c)) {
            Some(reason) => out.push((pos, meta, reason)),
            None => run.push((pos, meta)),
        }
    }
    (run, out)
}

/// The image QEMU boots: the unpacked vmlinux through its PVH entry when the kernel has one
/// (skips the in-guest decompressor, about 2 s under TCG), else the bzImage itself.
fn boot_image(kernel: &KernelImage, cache_dir: &std::path::Path) -> PathBuf {
    pollcheck_images::vmlinux::cached(&kernel.bzimage, cache_dir).unwrap_or_else(|_| kernel.bzimage.clone())
}

fn record(meta: &CaseMeta, outcome: Outcome, duration_ms: u64) -> CaseRecord {
    CaseRecord {
        id: meta.id.clone(),
        summary: meta.summary.clone(),
        outcome,
        duration_ms,
        checks: Vec::new(),
        logs: Vec::new(),
        console_excerpt: None,
    }
}

/// The modules to pack: the base set plus what the cases ask for, each once.
pub fn wanted_modules(cases: &[CaseMeta]) -> Vec<&str> {
    let mut out: Vec<&str> = BASE_MODULES.to_vec();
    for m in cases.iter().flat_map(|c| c.requires.modules.iter()) {
        if !out.contains(&m.as_str()) {
            out.push(m);
        }
    }
    out
}

/// One vCPU under TCG unless a case needs more: with multi-threaded TCG (QEMU 7.2), a guest
/// kernel patching its own text (static keys, via int3) while another vCPU runs it sometimes
/// dies with "Oops: int3" in the patched function (seen in 1 of 13 boots of Debian 7.3.4, at
/// sched_clock_cpu when the TSC calibration flips the sched_clock static key). Two under KVM.
pub fn default_cpus(accel: Accel, cases: &[CaseMeta]) -> u32 {
    let needed = cases.iter().map(|c| c.requires.cpus).max().unwrap_or(0);
    let base = match accel {
        Accel::Kvm => 2,
        Accel::Tcg => 1,
    };
    base.max(needed)
}

/// TCG runs kernels several times slower; timeouts scale with it, margins stay generous.
pub fn slowdown(accel: Accel) -> u32 {
    match accel {
        Accel::Kvm => 1,
        Accel::Tcg => 4,
    }
}

fn boot_timeout(accel: Accel) -> Duration {
    Duration::from_secs(15 * u64::from(slowdown(accel)))
}

/// The guest-side limit for a case and the extra time the host waits before declaring it lost.
pub fn case_limits(meta: &CaseMeta, accel: Accel) -> (Duration, Duration) {
    let s = u64::from(slowdown(accel));
    (Duration::from_millis(meta.timeout_ms * s), Duration::from_secs(5 * s))
}

/// A real short boot under KVM: does the agent come up?
fn probe_kvm(boot: &BootConfig) -> Result<(), accel::ProbeFailure> {
    let mut probe = boot.clone();
    probe.accel = Accel::Kvm;
    probe.boot_timeout = Duration::from_secs(20);
    let dir = tempfile::tempdir()
        .map_err(|e| accel::ProbeFailure { reason: format!("failed to create a temp dir: {e}"), lasting: false })?;
    probe.console_log = dir.path().join("probe-console.log");
    match Guest::boot(&probe) {
        Ok(g) => {
            g.shutdown(Duration::from_secs(3));
            Ok(())
        }
        Err(e) => Err(accel::ProbeFailure {
            lasting: !matches!(e, BootError::Spawn(_)),
            reason: e.to_string().lines().next().unwrap_or_default().to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollcheck_proto::{CaseId, Requires};

    #[test]
    fn a_global_case_that_did_not_finish_cleanly_costs_a_fresh_guest() {
        let mut m = meta(&[], 1);
        let timeout = Outcome::Timeout { after_ms: 5 };
        let crashed = Outcome::error(ErrorKind::CaseCrashed, "SIGSEGV");
        let failed = Outcome::Fail { checks: Vec::new() };
        assert!(!left_state_behind(&m, &timeout), "cases that change nothing global keep the guest");
        m.mutates_global = true;
        assert!(left_state_behind(&m, &timeout));
        assert!(left_state_behind(&m, &crashed));
        assert!(!left_state_behind(&m, &failed), "a failed case's cleanup stack ran");
        assert!(!left_state_behind(&m, &Outcome::Pass));
    }

    fn meta(modules: &[&str], timeout_ms: u64) -> CaseMeta {
        CaseMeta {
            id: CaseId::new("s", "c"),
            summary: String::new(),
            requires: Requires { modules: modules.iter().map(|s| (*s).to_owned()).collect(), ..Requires::default() },
            timeout_ms,
            mutates_global: false,
        }
    }

    #[test]
    fn modules_are_deduplicated_after_the_base_set() {
        let cases = vec![meta(&["netdevsim", "virtio_net"], 1), meta(&["netdevsim"], 1)];
        assert_eq!(wanted_modules(&cases), vec!["virtio_pci", "virtio_net", "netdevsim"]);
    }

    #[test]
    fn cpus_default_to_one_under_tcg_unless_a_case_needs_more() {
        let mut two = meta(&[], 1);
        two.requires.cpus = 2;
        assert_eq!(default_cpus(Accel::Tcg, &[meta(&[], 1)]), 1);
        assert_eq!(default_cpus(Accel::Tcg, &[meta(&[], 1), two]), 2);
        assert_eq!(default_cpus(Accel::Kvm, &[]), 2);
    }

    #[test]
    fn tcg_scales_limits() {
        let (t, g) = case_limits(&meta(&[], 1000), Accel::Tcg);
        assert_eq!(t, Duration::from_millis(4000));
        assert!(g >= Duration::from_secs(5));
        assert_eq!(case_limits(&meta(&[], 1000), Accel::Kvm).0, Duration::from_millis(1000));
    }
}
