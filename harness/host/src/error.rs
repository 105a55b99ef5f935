//! Errors of the host library: each says what failed and, where it can, what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("qemu-system-x86_64 not found on PATH: install it (`apt-get install --no-install-recommends qemu-system-x86`) or set POLLCHECK_QEMU")]
    QemuMissing,
    #[error("POLLCHECK_QEMU is {0}, which is not a file: point it at qemu-system-x86_64 or unset it")]
    QemuNotAt(PathBuf),
    #[error("cargo not found on PATH: the guest agent is built from this workspace; install Rust (rustup) or set POLLCHECK_AGENT to a built agent")]
    CargoMissing,
    #[error("the workspace this pollcheck was built in ({0}) is gone, and the guest agent is built from it: rebuild pollcheck where its sources now are, or set POLLCHECK_AGENT to a built agent")]
    WorkspaceGone(PathBuf),
    #[error("failed to start QEMU: {0}")]
    QemuSpawn(std::io::Error),
    #[error("failed to prepare the kernel: {0}")]
    Image(#[from] pollcheck_images::ImageError),
    #[error("failed to build the guest agent (`{command}`): {detail}")]
    AgentBuild { command: String, detail: String },
    #[error("failed to list the agent's cases: {0}")]
    AgentList(String),
    #[error("failed to write the initramfs {path}: {source}")]
    Initramfs { path: PathBuf, source: std::io::Error },
    #[error("failed to create {what} at {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("failed to write the reports: {0}")]
    Report(#[from] crate::report::ReportError),
    #[error("failed to set up the test network: {0}")]
    BadQueues(String),
    #[error("{0}")]
    Qemu(String),
    #[error("{0}")]
    BadInput(String),
    #[error("failed to read the expectations {path}: {why}")]
    BadExpect { path: PathBuf, why: String },
    #[error("the guest agent {agent} speaks protocol {got}, this host speaks {want}: rebuild it (cargo build) or unset POLLCHECK_AGENT")]
    ProtocolMismatch { agent: PathBuf, got: u32, want: u32 },
    #[error("no case matches {filter:?}{hint}")]
    NoCaseMatches { filter: String, hint: String },
}
