//! The agent protocol: host → guest [`Request`]s and guest → host [`Event`]s.
//!
//! Sequence: guest sends `Ready`; host sends `Run`; guest answers with `Started`, any number of
//! `Log` and `Check`, then `Done`; host sends the next `Run` or `Shutdown`.

use crate::{CaseId, Check, Features, Outcome};
use serde::{Deserialize, Serialize};

/// Bumped whenever a message changes shape; host and agent refuse to talk across versions.
pub const PROTOCOL_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Run one case in a forked child with this limit (already scaled for the accelerator).
    /// `params`, when given, is handed to the case (`Ctx::params`): what a benchmark's host asks
    /// of this run (a sweep's rates). Conformance runs send none; an older host's message without
    /// the field decodes as none.
    Run {
        case: CaseId,
        timeout_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        params: Option<serde_json::Value>,
    },
    /// Power the guest off.
    Shutdown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The agent is up: protocol version and what the kernel has.
    Ready {
        protocol: u32,
        features: Features,
    },
    Started {
        case: CaseId,
    },
    Log {
        case: CaseId,
        line: String,
    },
    Check {
        case: CaseId,
        check: Check,
    },
    Done {
        case: CaseId,
        outcome: Outcome,
        duration_ms: u64,
    },
    /// The agent could not understand or carry out a request.
    Refused {
        reason: String,
    },
}
