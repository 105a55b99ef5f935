//! Running part of a case without one capability (for EPERM checks).

use caps::{CapSet, Capability};

/// Run `f` with `cap` removed from the effective set, then restore it.
///
/// The case runs in its own forked process, so the change never leaks into other cases.
pub fn without_capability<T>(cap: Capability, f: impl FnOnce() -> T) -> Result<T, String> {
    let had = caps::has_cap(None, CapSet::Effective, cap).map_err(|e| format!("failed to read capabilities: {e}"))?;
    caps::drop(None, CapSet::Effective, cap).map_err(|e| format!("failed to drop {cap}: {e}"))?;
    let out = f();
    if had {
        caps::raise(None, CapSet::Effective, cap).map_err(|e| format!("failed to restore {cap}: {e}"))?;
    }
    Ok(out)
}
