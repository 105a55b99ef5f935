//! Everything decided once per session before the first guest boots: the initramfs, the
//! accelerator (a KVM probe boot when asked to choose), the boot config, the test network, the
//! kernel's config and what to expect of the kernel.

use super::config::SessionConfig;
use super::events::{Observer, SessionEvent};
use super::limits::boot_timeout;
use crate::accel::{self, AccelDecision};
use crate::error::HostError;
use crate::plan::Expectations;
use crate::qemu::Qemu;
use crate::report::model::Accel;
use crate::report::{new_run_id, ArtifactDir};
use crate::testnet::{self, NetPlan};
use crate::vm::{BootConfig, BootError, Guest};
use crate::workspace::Workspace;
use crate::{cleanup, initramfs};
use pollcheck_images::{KernelConfig, KernelImage};
use pollcheck_proto::CaseMeta;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Modules every guest gets when the kernel has them as modules (network suites need them).
pub const BASE_MODULES: &[&str] = &["virtio_pci", "virtio_net"];

/// A session ready to boot guests.
#[derive(Debug)]
pub struct Prepared {
    pub run_id: String,
    pub artifacts: ArtifactDir,
    pub qemu: Qemu,
    pub accel: AccelDecision,
    /// How to boot a guest; the executor sets its vCPUs and console file per guest.
    pub boot: BootConfig,
    pub config: Option<KernelConfig>,
    pub expectations: Expectations,
    /// Holds the initramfs; removed when the session ends.
    _work: tempfile::TempDir,
}

/// Prepares `cases` on `cfg.kernel`.
pub fn prepare(
    ws: &Workspace,
    cfg: &SessionConfig,
    cases: &[CaseMeta],
    observer: &dyn Observer,
) -> Result<Prepared, HostError> {
    let qemu = ws.qemu()?.clone();
    let kernel = &cfg.kernel;
    let config = kernel.config.as_deref().and_then(|p| KernelConfig::read(p).ok());
    let expectations = Expectations::of_kernel(&cfg.expect, kernel, config.as_ref())?;
    let run_id = new_run_id();
    let artifacts = ArtifactDir::create(&cfg.artifacts_root, &run_id)?;
    let work = tempfile::Builder::new().prefix("pollcheck-run-").tempdir().map_err(|source| HostError::Io {
        what: "temp dir",
        path: std::env::temp_dir(),
        source,
    })?;
    cleanup::register_dir(work.path().to_owned());
    let initramfs = work.path().join("initramfs.cpio");
    write_initramfs(&ws.agent, kernel, cases, &initramfs)?;
    let kernel_path = boot_image(kernel, ws.cache.root());
    let image = |accel: Accel| BootConfig {
        qemu: qemu.path.clone(),
        accel,
        kernel: kernel_path.clone(),
        initramfs: initramfs.clone(),
        cpus: 1,
        memory_mb: cfg.memory_mb,
        boot_timeout: boot_timeout(accel),
        console_log: artifacts.path().join("console.log"),
        network: None,
        tcg: crate::qemu::TcgOptions::from_env(),
    };
    let decision = accel::decide(cfg.accel, &qemu, ws.cache.root(), || probe_kvm(image(Accel::Kvm)));
    observer.event(&kernel.spec, &SessionEvent::AccelChosen(&decision));
    let mut boot = image(decision.accel);
    if cases.iter().any(|c| c.requires.network) {
        let queues = testnet::validate_queues(cfg.queues.map_or_else(testnet::env_queues, Ok)?)?;
        let plan = NetPlan::new(queues, testnet::probe_taps());
        observer.event(&kernel.spec, &SessionEvent::Network(&plan));
        boot.network = Some(plan);
    }
    Ok(Prepared { run_id, artifacts, qemu, accel: decision, boot, config, expectations, _work: work })
}

fn write_initramfs(agent: &Path, kernel: &KernelImage, cases: &[CaseMeta], to: &Path) -> Result<(), HostError> {
    let bytes =
        std::fs::read(agent).map_err(|source| HostError::Io { what: "agent read", path: agent.into(), source })?;
    let modules = match &kernel.modules_dir {
        Some(dir) => Some(pollcheck_images::resolve_modules(dir, &kernel.release, &wanted_modules(cases))?),
        None => None,
    };
    initramfs::write(to, initramfs::entries(&bytes, modules.as_ref()))
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

/// The image QEMU boots: the unpacked vmlinux through its PVH entry when the kernel has one
/// (skips the in-guest decompressor, about 2 s under TCG), else the bzImage itself.
fn boot_image(kernel: &KernelImage, cache_dir: &Path) -> PathBuf {
    pollcheck_images::vmlinux::cached(&kernel.bzimage, cache_dir).unwrap_or_else(|_| kernel.bzimage.clone())
}

/// A real short boot under KVM: does the agent come up?
fn probe_kvm(mut probe: BootConfig) -> Result<(), accel::ProbeFailure> {
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
    use crate::plan::tests::meta;

    #[test]
    fn modules_are_deduplicated_after_the_base_set() {
        let mut a = meta("s", "a");
        a.requires.modules = vec!["netdevsim".into(), "virtio_net".into()];
        let mut b = meta("s", "b");
        b.requires.modules = vec!["netdevsim".into()];
        assert_eq!(wanted_modules(&[a, b]), vec!["virtio_pci", "virtio_net", "netdevsim"]);
    }
}
