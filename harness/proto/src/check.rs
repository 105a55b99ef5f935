//! One assertion made by a case, as the guest reports it.

use serde::{Deserialize, Serialize};

/// ASSERT stops the case when it fails; EXPECT records the failure and lets the case go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Assert,
    Expect,
}

/// The result of one assertion, with the numbers behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was asserted, e.g. `EPIOCSPARAMS with __pad=1 fails with EINVAL`.
    pub what: String,
    pub passed: bool,
    pub severity: Severity,
    /// What was observed, e.g. `got Ok(())`, `errno EPERM`, `IRQs 3 in busy window vs 412 idle`.
    pub observed: String,
    /// `file:line` of the assertion in the suite source.
    pub location: String,
}
