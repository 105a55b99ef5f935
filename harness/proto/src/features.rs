//! Kernel facts the guest detects at run time and announces in its Ready message.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the running kernel has, probed by the agent (never inferred from the version string).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Features {
    /// `uname -r` of the guest kernel.
    pub kernel_release: String,
    /// Number of online CPUs in the guest.
    pub cpus: u32,
    /// Named probes: `epoll_params` → "yes" / "no: EPIOCGPARAMS gives ENOTTY", etc.
    pub probes: BTreeMap<String, String>,
    /// Modules the agent loaded, in order, and any that failed with the reason.
    pub modules_loaded: Vec<String>,
    pub modules_failed: Vec<String>,
}
