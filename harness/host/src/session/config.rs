//! What one session runs on and with: the kernel, the guest's size, the accelerator, how many
//! guests at once, what to expect of the kernel, where reports go; and the checks that turn a
//! value out of range into one clear line before anything boots.

use crate::accel::AccelChoice;
use crate::error::HostError;
use crate::plan::ExpectChoice;
use crate::workspace::Workspace;
use pollcheck_images::KernelImage;
use std::path::PathBuf;

/// Guest memory when the user does not say, in MiB.
pub const DEFAULT_MEMORY_MB: u32 = 1024;
/// The least guest memory pollcheck boots with, in MiB: below it a Debian cloud kernel with the
/// agent and its modules does not reach the agent.
pub const MIN_MEMORY_MB: u32 = 256;

/// One session's settings; [`SessionConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub kernel: KernelImage,
    pub accel: AccelChoice,
    /// Guest vCPUs for every case; `None`: 1 under TCG (2 under KVM), more when a case asks.
    pub cpus: Option<u32>,
    pub memory_mb: u32,
    /// Queue pairs per test-network NIC; `None`: `$POLLCHECK_QUEUES`, else 4.
    pub queues: Option<u32>,
    /// Guests at once; `None`: as many as the host's CPUs and memory hold.
    pub jobs: Option<usize>,
    pub expect: ExpectChoice,
    /// Run directories go to `<root>/<run-id>/`.
    pub artifacts_root: PathBuf,
    /// Handed to every case the session runs (`Request::Run`'s params): what a benchmark asks
    /// of its hidden suite. `None` for conformance runs.
    pub params: Option<serde_json::Value>,
}

impl SessionConfig {
    /// The defaults for `kernel` in `ws`.
    pub fn new(kernel: KernelImage, ws: &Workspace) -> Self {
        Self {
            kernel,
            accel: AccelChoice::Auto,
            cpus: None,
            memory_mb: DEFAULT_MEMORY_MB,
            queues: None,
            jobs: None,
            expect: ExpectChoice::Auto,
            artifacts_root: ws.artifacts_root.clone(),
            params: None,
        }
    }

    /// Every value in range, or the one line saying which is not and what is allowed.
    pub fn validate(&self) -> Result<(), HostError> {
        check_limits(self.memory_mb, self.cpus, self.jobs, host_cpus())?;
        if let Some(q) = self.queues {
            crate::testnet::validate_queues(q)?;
        }
        Ok(())
    }

    /// The guests to run at once: `jobs`, else as many as fit.
    pub fn jobs(&self) -> usize {
        self.jobs.unwrap_or_else(|| default_jobs(self.memory_mb))
    }
}

/// The checks of [`SessionConfig::validate`], pure.
pub fn check_limits(memory_mb: u32, cpus: Option<u32>, jobs: Option<usize>, host_cpus: u32) -> Result<(), HostError> {
    if memory_mb < MIN_MEMORY_MB {
        return Err(HostError::BadInput(format!(
            "--memory-mb {memory_mb} is too little for a guest: pass {MIN_MEMORY_MB} or more (default {DEFAULT_MEMORY_MB})"
        )));
    }
    if let Some(n) = cpus {
        if n == 0 || n > host_cpus {
            return Err(HostError::BadInput(format!(
                "--cpus {n} is out of range: pass 1 to {host_cpus} (this host's CPUs), or leave it out"
            )));
        }
    }
    if jobs == Some(0) {
        return Err(HostError::BadInput("--jobs 0 runs nothing: pass 1 or more, or leave it out".into()));
    }
    Ok(())
}

/// CPUs this process may use.
pub fn host_cpus() -> u32 {
    std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1)
}

/// As many guests as there are host CPUs (a TCG vCPU keeps one busy), fewer if memory is short
/// (each guest's RAM plus ~256 MiB for QEMU itself).
pub fn default_jobs(memory_mb: u32) -> usize {
    let cpus = host_cpus() as usize;
    let per_vm_kib = (u64::from(memory_mb) + 256) * 1024;
    let fit = mem_available_kib().map(|kib| (kib / per_vm_kib) as usize).unwrap_or(cpus);
    cpus.min(fit).max(1)
}

fn mem_available_kib() -> Option<u64> {
    mem_available_from(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// `MemAvailable` of /proc/meminfo text, in KiB.
pub fn mem_available_from(meminfo: &str) -> Option<u64> {
    meminfo.lines().find_map(|l| l.strip_prefix("MemAvailable:")?.trim().strip_suffix("kB")?.trim().parse().ok())
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
    fn out_of_range_values_are_one_line_each() {
        assert!(check_limits(1024, None, None, 2).is_ok());
        assert!(check_limits(256, Some(2), Some(3), 2).is_ok());
        let msg = |r: Result<(), HostError>| r.expect_err("out of range").to_string();
        assert_eq!(
            msg(check_limits(1, None, None, 2)),
            "--memory-mb 1 is too little for a guest: pass 256 or more (default 1024)"
        );
        assert!(msg(check_limits(1024, Some(0), None, 2)).contains("pass 1 to 2"));
        assert!(msg(check_limits(1024, Some(3), None, 2)).contains("--cpus 3 is out of range"));
        assert!(msg(check_limits(1024, None, Some(0), 2)).starts_with("--jobs 0"));
    }
}
