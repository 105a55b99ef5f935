//! A runnable case: its static metadata and the function that runs it.

use crate::Ctx;
use pollcheck_proto::CaseMeta;

/// How a case stops early. Returned through `?` from the assertion helpers on [`Ctx`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A fatal assertion failed (already recorded as a failed check).
    Failed,
    /// The kernel lacks what the case needs; the reason says what and how it was detected.
    Skipped(String),
    /// A documented failure expected on this kernel.
    XFail(String),
}

pub type CaseResult = Result<(), Stop>;

/// One case of a suite.
#[derive(Debug, Clone)]
pub struct Case {
    pub meta: CaseMeta,
    pub run: fn(&mut Ctx<'_>) -> CaseResult,
}
