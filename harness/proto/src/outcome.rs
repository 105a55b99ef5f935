//! The closed set of results a case can end with.

use crate::Check;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a case ended. Infrastructure trouble is an [`Outcome::Error`], never a `Fail` or a `Pass`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// At least one check failed; all failing checks are listed.
    Fail {
        checks: Vec<Check>,
    },
    /// The case did not run its checks: `feature` names the kernel feature found absent (the
    /// reason says how that was established), or is `None` when this guest cannot run the case
    /// (too few CPUs or queues; the reason says which).
    Skip {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feature: Option<crate::Feature>,
    },
    /// A failure the run's expectations declare known on this kernel, with their reason.
    XFail {
        reason: String,
    },
    /// The case did not finish within its limit.
    Timeout {
        after_ms: u64,
    },
    /// Something other than the feature under test went wrong.
    Error {
        kind: ErrorKind,
        detail: String,
    },
}

/// Which part of the machinery failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Panic, Oops, BUG, WARNING or hung task seen on the console while the case ran.
    KernelCrash,
    /// The guest never announced itself.
    BootFailed,
    /// The agent stopped answering or QEMU exited mid-case.
    AgentLost,
    /// The case process died from a signal or a Rust panic outside an assertion.
    CaseCrashed,
    /// The case could not set up what it needs (topology, privileges) for a reason other than a
    /// missing feature: the detail names the failing step and its error.
    Setup,
    /// The host could not prepare the run (kernel, initramfs, QEMU).
    Host,
}

/// The outcome without its payload, for counting and colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeKind {
    Pass,
    Fail,
    Skip,
    XFail,
    Timeout,
    Error,
}

impl Outcome {
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Pass => OutcomeKind::Pass,
            Outcome::Fail { .. } => OutcomeKind::Fail,
            Outcome::Skip { .. } => OutcomeKind::Skip,
            Outcome::XFail { .. } => OutcomeKind::XFail,
            Outcome::Timeout { .. } => OutcomeKind::Timeout,
            Outcome::Error { .. } => OutcomeKind::Error,
        }
    }

    /// Whether this outcome should make a run (or a bisect step) count as bad.
    pub fn is_failure(&self) -> bool {
        matches!(self.kind(), OutcomeKind::Fail | OutcomeKind::Timeout | OutcomeKind::Error)
    }

    pub fn error(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Outcome::Error { kind, detail: detail.into() }
    }

    /// A Skip because `feature` is absent, established as `how` says.
    pub fn absent(feature: crate::Feature, how: impl Into<String>) -> Self {
        Outcome::Skip { reason: how.into(), feature: Some(feature) }
    }

    /// A Skip because this guest cannot run the case (not a claim about the kernel).
    pub fn not_here(why: impl Into<String>) -> Self {
        Outcome::Skip { reason: why.into(), feature: None }
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutcomeKind::Pass => "PASS",
            OutcomeKind::Fail => "FAIL",
            OutcomeKind::Skip => "SKIP",
            OutcomeKind::XFail => "XFAIL",
            OutcomeKind::Timeout => "TIMEOUT",
            OutcomeKind::Error => "ERROR",
        })
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::KernelCrash => "kernel crash",
            ErrorKind::BootFailed => "boot failed",
            ErrorKind::AgentLost => "agent lost",
            ErrorKind::CaseCrashed => "case crashed",
            ErrorKind::Setup => "setup failed",
            ErrorKind::Host => "host error",
        })
    }
}
