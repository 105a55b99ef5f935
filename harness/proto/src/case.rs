//! Case identity (`suite::case[.variant]`) and the static metadata the host plans with.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The name of one runnable case: `<suite>::<case>[.<variant>]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseId {
    pub suite: String,
    pub case: String,
    pub variant: Option<String>,
}

impl CaseId {
    pub fn new(suite: &str, case: &str) -> Self {
        Self { suite: suite.to_owned(), case: case.to_owned(), variant: None }
    }

    pub fn with_variant(mut self, variant: &str) -> Self {
        self.variant = Some(variant.to_owned());
        self
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.suite, self.case)?;
        if let Some(v) = &self.variant {
            write!(f, ".{v}")?;
        }
        Ok(())
    }
}

/// Why a string is not a case name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to parse case name {input:?}: expected <suite>::<case>[.<variant>]")]
pub struct CaseIdError {
    pub input: String,
}

impl FromStr for CaseId {
    type Err = CaseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CaseIdError { input: s.to_owned() };
        let (suite, rest) = s.split_once("::").ok_or_else(err)?;
        let (case, variant) = match rest.split_once('.') {
            Some((c, v)) => (c, Some(v)),
            None => (rest, None),
        };
        let ok = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok(suite) || !ok(case) || variant.is_some_and(|v| !ok(v)) {
            return Err(err());
        }
        Ok(Self { suite: suite.to_owned(), case: case.to_owned(), variant: variant.map(str::to_owned) })
    }
}

/// What a case needs from the kernel and the VM, known without booting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requires {
    /// Kconfig symbols (without `CONFIG_`) that must be `y` or `m`.
    pub kconfig: Vec<String>,
    /// Kernel modules to load in the guest before the case runs (if the image has them as modules).
    pub modules: Vec<String>,
    /// Minimum number of guest CPUs.
    pub cpus: u32,
    /// The case needs the guest's test network (two virtio-net NICs with N queue pairs each).
    #[serde(default)]
    pub network: bool,
    /// Agent probes (see `Features::probes`) that must answer "yes". A guest of the same kernel
    /// that answered otherwise lets the host Skip the case without booting another guest for it.
    #[serde(default)]
    pub probes: Vec<String>,
}

/// Static description of a case, shared by the host (planning, listing) and the guest (running).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMeta {
    pub id: CaseId,
    /// One line: the behaviour this case asserts.
    pub summary: String,
    pub requires: Requires,
    /// Guest-side limit for one run of the case, in milliseconds (before the accelerator slowdown).
    pub timeout_ms: u64,
    /// The case changes global state (sysctls, device config) that it restores itself; when it
    /// ends in a timeout or an error (its cleanup may not have run) the host boots a fresh guest
    /// for the next case.
    pub mutates_global: bool,
    /// Run only when a filter names its suite (the harness's own selftests, benchmarks).
    #[serde(default)]
    pub hidden: bool,
    /// The kernel features the case checks: when the kernel promises one of them (release and
    /// config, or a patch set in its spec), finding it absent is a FAIL.
    #[serde(default)]
    pub features: Vec<crate::Feature>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("busy_poll::params", "busy_poll", "params", None)]
    #[case("irq_suspend::start.virtio", "irq_suspend", "start", Some("virtio"))]
    fn parses_and_round_trips(#[case] s: &str, #[case] suite: &str, #[case] case: &str, #[case] variant: Option<&str>) {
        let id: CaseId = s.parse().expect("valid");
        assert_eq!(id.suite, suite);
        assert_eq!(id.case, case);
        assert_eq!(id.variant.as_deref(), variant);
        assert_eq!(id.to_string(), s);
    }

    #[rstest]
    #[case("busy_poll")]
    #[case("::params")]
    #[case("busy_poll::")]
    #[case("busy poll::x")]
    #[case("a::b.")]
    fn rejects_bad_names(#[case] s: &str) {
        let err = s.parse::<CaseId>().expect_err("invalid");
        assert!(err.to_string().starts_with("failed to parse case name"));
    }
}
