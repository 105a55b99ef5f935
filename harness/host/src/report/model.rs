//! What a finished run looks like to the reporters: one record per case, plus where and how it ran.

use pollcheck_proto::{CaseId, Check, Outcome};
use serde::{Deserialize, Serialize};

/// The accelerator a VM actually ran under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    Kvm,
    Tcg,
}

impl std::fmt::Display for Accel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        })
    }
}

/// The kernel a run booted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelInfo {
    /// What the user asked for: a path, `7.3`, `6.12.107+deb13`, `src:7.2+userpoll`.
    pub spec: String,
    /// The release string the guest reported (`uname -r`), or the one read from the image.
    pub release: String,
}

/// One case's result with everything a report needs to explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: CaseId,
    pub summary: String,
    pub outcome: Outcome,
    pub duration_ms: u64,
    /// Every check the case made, passing ones included, in order.
    pub checks: Vec<Check>,
    /// Log lines the case wrote (measured numbers, progress).
    pub logs: Vec<String>,
    /// The console lines around a kernel crash seen while the case ran.
    pub console_excerpt: Option<String>,
    /// The guest of the run that ran it (its console is `console-<guest>.log`); none for a
    /// case decided without booting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<u32>,
}

/// A whole run on one kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    pub run_id: String,
    pub kernel: KernelInfo,
    pub accel: Accel,
    /// The QEMU version the guests ran on (`7.2.19`).
    #[serde(default)]
    pub qemu: String,
    /// The guest's test network, when the run had one (see `testnet::NetPlan::describe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// How the kernel's expectations were made (`auto: release 7.2.13, its config`).
    #[serde(default)]
    pub expectations: String,
    /// Modules that failed to load in the guest, each `name: why`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules_failed: Vec<String>,
    /// Guests booted for the run.
    #[serde(default)]
    pub guests: u32,
    /// What the agent's feature probes answered in the first guest.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub probes: std::collections::BTreeMap<String, pollcheck_proto::Probed>,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
    pub duration_ms: u64,
    pub cases: Vec<CaseRecord>,
}
