//! Runs one session per kernel, several VMs at once within the machine's CPUs and memory.

use super::KernelRun;
use crate::accel::AccelChoice;
use crate::session::{self, SessionConfig};
use pollcheck_images::KernelImage;
use pollcheck_proto::CaseMeta;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What every session of the matrix shares.
#[derive(Debug, Clone)]
pub struct MatrixConfig {
    pub accel: AccelChoice,
    pub memory_mb: u32,
    pub artifacts_root: PathBuf,
    pub cache_dir: PathBuf,
    /// VMs at once.
    pub jobs: usize,
}

/// As many VMs as there are host CPUs (a TCG vCPU keeps one busy), fewer if memory is short
/// (each guest's RAM plus ~256 MiB for QEMU itself).
pub fn default_jobs(memory_mb: u32) -> usize {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let per_vm_kib = (u64::from(memory_mb) + 256) * 1024;
    let fit = mem_available_kib().map(|kib| (kib / per_vm_kib) as usize).unwrap_or(cpus);
    cpus.min(fit).max(1)
}

fn mem_available_kib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    mem_available_from(&text)
}

fn mem_available_from(meminfo: &str) -> Option<u64> {
    meminfo.lines().find_map(|l| l.strip_prefix("MemAvailable:")?.trim().strip_suffix("kB")?.trim().parse().ok())
}

/// Runs `cases` on each kernel (`Err` = the kernel could not be prepared), `cfg.jobs` at a time;
/// `on_done` hears of each kernel as it finishes. Results come back in the order given.
pub fn run_all(
    kernels: Vec<(String, Result<KernelImage, String>)>,
    cases: &[CaseMeta],
    cfg: &MatrixConfig,
    on_done: &(dyn Fn(&KernelRun) + Sync),
) -> Vec<KernelRun> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<KernelRun>>> = kernels.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..cfg.jobs.clamp(1, kernels.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((spec, kernel)) = kernels.get(i) else { break };
                let run = KernelRun { spec: spec.clone(), result: run_one(kernel, cases, cfg) };
                on_done(&run);
                *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(run);
            });
        }
    });
    slots
        .into_iter()
        .zip(kernels)
        .map(|(slot, (spec, _))| {
            slot.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or(KernelRun { spec, result: Err("the worker running it stopped".into()) })
        })
        .collect()
}

fn run_one(
    kernel: &Result<KernelImage, String>,
    cases: &[CaseMeta],
    cfg: &MatrixConfig,
) -> Result<crate::report::model::RunReport, String> {
    let kernel = kernel.as_ref().map_err(Clone::clone)?;
    let session_cfg = SessionConfig {
        queues: None,
        kernel: kernel.clone(),
        accel: cfg.accel,
        cpus: None,
        memory_mb: cfg.memory_mb,
        artifacts_root: cfg.artifacts_root.clone(),
        cache_dir: cfg.cache_dir.clone(),
    };
    session::run(&session_cfg, cases, &mut |_| {}).map(|r| r.report).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mem_available() {
        let text = "MemTotal:       24576000 kB\nMemFree:         1000 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(mem_available_from(text), Some(20_000_000));
        assert_eq!(mem_available_from("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn a_kernel_that_could_not_be_prepared_is_reported_not_run() {
        let cfg = MatrixConfig {
            accel: AccelChoice::Tcg,
            memory_mb: 512,
            artifacts_root: PathBuf::from("/nonexistent"),
            cache_dir: PathBuf::from("/nonexistent"),
            jobs: 2,
        };
        let runs = run_all(vec![("6.5".into(), Err("no Debian kernel matches 6.5".into()))], &[], &cfg, &|_| {});
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].result.as_ref().err().map(String::as_str), Some("no Debian kernel matches 6.5"));
    }
}
