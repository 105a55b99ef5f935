//! Kernel facts the guest detects at run time and announces in its Ready message.

use crate::Feature;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What a feature probe found. `No` is a claim that the feature is absent and says how that was
/// established; `Unknown` decides nothing (the cases run and judge for themselves).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", content = "detail", rename_all = "lowercase")]
pub enum ProbeAnswer {
    Yes,
    No(String),
    Unknown(String),
}

impl fmt::Display for ProbeAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeAnswer::Yes => f.write_str("yes"),
            ProbeAnswer::No(why) => write!(f, "no: {why}"),
            ProbeAnswer::Unknown(why) => write!(f, "unknown: {why}"),
        }
    }
}

/// One probe's answer, with the feature it speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probed {
    pub feature: Feature,
    pub answer: ProbeAnswer,
}

/// What the running kernel has, probed by the agent (never inferred from the version string).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Features {
    /// `uname -r` of the guest kernel.
    pub kernel_release: String,
    /// Number of online CPUs in the guest.
    pub cpus: u32,
    /// Named probes: `epoll_params` → yes, or no with how absence was established.
    pub probes: BTreeMap<String, Probed>,
    /// Modules the agent loaded, in order.
    pub modules_loaded: Vec<String>,
    /// Modules that failed to load, each `name: why`.
    pub modules_failed: Vec<String>,
}
