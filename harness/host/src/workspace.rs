//! What every command starts from, made once: the guest agent (built from this workspace), the
//! cases it carries, the kernel cache, and QEMU (looked up when a command first needs it).

use crate::error::HostError;
use crate::qemu::Qemu;
use pollcheck_images::{Cache, KernelImage};
use pollcheck_proto::CaseMeta;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The agent, its cases, the kernel cache and where runs go.
#[derive(Debug)]
pub struct Workspace {
    /// The static guest agent binary.
    pub agent: PathBuf,
    /// Every case the agent carries, in report order.
    pub cases: Vec<CaseMeta>,
    pub cache: Cache,
    /// Run directories go to `<artifacts_root>/<run-id>/`.
    pub artifacts_root: PathBuf,
    qemu: OnceLock<Result<Qemu, String>>,
}

impl Workspace {
    /// Builds the agent (a no-op when nothing changed), lists its cases and opens the cache.
    pub fn open() -> Result<Self, HostError> {
        let agent = crate::agent_bin::agent_path()?;
        Self::with_agent(agent, crate::libtest::artifacts_root())
    }

    /// The same with a given agent binary and artifacts root.
    pub fn with_agent(agent: PathBuf, artifacts_root: PathBuf) -> Result<Self, HostError> {
        let cases = crate::agent_bin::list_cases(&agent)?;
        let cache = Cache::open_default()?;
        Ok(Self { agent, cases, cache, artifacts_root, qemu: OnceLock::new() })
    }

    /// A workspace with no agent and no cases, for unit tests of what takes one.
    #[cfg(test)]
    pub(crate) fn for_tests(dir: &Path) -> Self {
        Self {
            agent: dir.join("agent"),
            cases: Vec::new(),
            cache: Cache::at(dir.join("cache")),
            artifacts_root: dir.join("runs"),
            qemu: OnceLock::new(),
        }
    }

    /// QEMU, found (and its version read) once.
    pub fn qemu(&self) -> Result<&Qemu, HostError> {
        self.qemu
            .get_or_init(|| Qemu::find().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| HostError::Qemu(e.clone()))
    }

    /// The cases `filters` select (all non-hidden ones without filters), or the error naming the
    /// filter and the nearest case name.
    pub fn select(&self, filters: &[String], exact: bool) -> Result<Vec<CaseMeta>, HostError> {
        crate::plan::select_some(&self.cases, filters, exact)
    }

    /// Fetches, builds or checks the kernel `spec` names.
    pub fn kernel(&self, spec: &str, modules: Option<&Path>) -> Result<KernelImage, HostError> {
        let progress = crate::progress::TermProgress::default();
        Ok(pollcheck_images::resolve(spec, modules, &self.cache, &progress)?)
    }
}
