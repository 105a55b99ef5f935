//! Choosing KVM or TCG: a real short KVM boot decides (a /dev/kvm that opens is not enough),
//! and the verdict is cached per host CPU, host kernel and QEMU version.

use crate::qemu::Qemu;
use crate::report::model::Accel;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AccelChoice {
    #[default]
    Auto,
    Kvm,
    Tcg,
}

/// The accelerator to use and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccelDecision {
    pub accel: Accel,
    pub reason: String,
}

/// Why a KVM probe boot did not reach the agent, and whether that says something lasting about
/// this host and QEMU (KVM refused the guest, or the guest died under it) or not (QEMU could not
/// even start: nothing to remember, the next run probes again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFailure {
    pub reason: String,
    pub lasting: bool,
}

/// Decide the accelerator. `probe` boots a guest under KVM and says whether its agent came up.
pub fn decide(
    choice: AccelChoice,
    qemu: &Qemu,
    cache_dir: &Path,
    probe: impl FnOnce() -> Result<(), ProbeFailure>,
) -> AccelDecision {
    match choice {
        AccelChoice::Tcg => return AccelDecision { accel: Accel::Tcg, reason: "TCG requested".into() },
        AccelChoice::Kvm => return AccelDecision { accel: Accel::Kvm, reason: "KVM requested".into() },
        AccelChoice::Auto => {}
    }
    if let Err(e) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm") {
        return AccelDecision { accel: Accel::Tcg, reason: format!("TCG: /dev/kvm cannot be opened ({e})") };
    }
    probe_cached(&cache_file(cache_dir, &host_key(qemu)), probe)
}

/// The verdict cached in `file`, else `probe`'s, cached when it says something lasting.
fn probe_cached(file: &Path, probe: impl FnOnce() -> Result<(), ProbeFailure>) -> AccelDecision {
    if let Some(d) = std::fs::read(file).ok().and_then(|b| serde_json::from_slice::<AccelDecision>(&b).ok()) {
        return AccelDecision { accel: d.accel, reason: format!("{} (cached probe)", d.reason) };
    }
    let decision = match probe() {
        Ok(()) => AccelDecision { accel: Accel::Kvm, reason: "KVM: a probe boot reached the agent".into() },
        Err(ProbeFailure { reason, lasting: false }) => {
            return AccelDecision { accel: Accel::Tcg, reason: format!("TCG: the KVM probe could not run ({reason})") };
        }
        Err(ProbeFailure { reason, .. }) => {
            AccelDecision { accel: Accel::Tcg, reason: format!("TCG: a KVM probe boot failed ({reason})") }
        }
    };
    if let Some(parent) = file.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Ok(bytes) = serde_json::to_vec(&decision) {
        let _ = std::fs::write(file, bytes);
    }
    decision
}

fn cache_file(cache_dir: &Path, key: &str) -> PathBuf {
    cache_dir.join("accel").join(format!("{key}.json"))
}

/// A key for "this host with this QEMU": QEMU's version line, the host kernel, the CPU model.
fn host_key(qemu: &Qemu) -> String {
    let version = &qemu.version_line;
    let release = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .unwrap_or_default()
        .to_owned();
    key_of(version, &release, &cpu)
}

/// Pure: the cache key from its three inputs.
pub fn key_of(qemu_version: &str, host_release: &str, cpu_model: &str) -> String {
    let mut h = Sha256::new();
    for part in [qemu_version, host_release, cpu_model] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_choices_skip_the_probe() {
        let dir = tempfile::tempdir().expect("tempdir");
        let qemu = Qemu { path: "/nonexistent".into(), version: String::new(), version_line: String::new() };
        let d = decide(AccelChoice::Tcg, &qemu, dir.path(), || panic!("no probe"));
        assert_eq!(d.accel, Accel::Tcg);
    }

    #[test]
    fn only_lasting_probe_failures_are_cached() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("accel").join("k.json");
        let fleeting = || Err(ProbeFailure { reason: "failed to start QEMU".into(), lasting: false });
        let d = probe_cached(&file, fleeting);
        assert_eq!((d.accel, file.exists()), (Accel::Tcg, false), "{}", d.reason);
        let kvm_refused = || Err(ProbeFailure { reason: "KVM internal error".into(), lasting: true });
        assert_eq!(probe_cached(&file, kvm_refused).accel, Accel::Tcg);
        let cached = probe_cached(&file, || panic!("the cached verdict is used"));
        assert_eq!(cached.reason, "TCG: a KVM probe boot failed (KVM internal error) (cached probe)");
    }

    #[test]
    fn key_changes_with_each_input() {
        let k = key_of("QEMU 7.2", "6.1.0", "AMD EPYC");
        assert_eq!(k.len(), 16);
        assert_ne!(k, key_of("QEMU 8.0", "6.1.0", "AMD EPYC"));
        assert_ne!(k, key_of("QEMU 7.2", "6.2.0", "AMD EPYC"));
        assert_ne!(k, key_of("QEMU 7.2", "6.1.0", "Intel"));
    }
}
