//! The error type of source builds: one clear line each, naming the file or log to look at.

use std::path::PathBuf;

/// Everything that can go wrong while building a kernel from source.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{path} is not a kernel source tree ({why}); pass the top directory of a Linux tree")]
    NotKernelTree { path: PathBuf, why: String },
    #[error("failed to fetch linux-source-{version}: {detail}")]
    Fetch { version: String, detail: String },
    #[error("failed to apply patch {patch}: {hunk}")]
    PatchFailed { patch: PathBuf, hunk: String },
    #[error("failed to parse config fragment {path}:{line}: {text:?} is neither `CONFIG_X=value` nor `# CONFIG_X is not set`")]
    BadFragment { path: PathBuf, line: usize, text: String },
    #[error("the final .config {config} dropped requested options: {}; check their dependencies (make menuconfig, search with /)", .missing.join(", "))]
    OptionsDropped { config: PathBuf, missing: Vec<String> },
    #[error("failed to build the kernel (`{step}`); full log: {log}\n{tail}")]
    BuildFailed { step: String, log: PathBuf, tail: String },
    #[error("not enough disk space under {path}: {available_mib} MiB free, a kernel build needs {needed_mib} MiB; free some space or set POLLCHECK_CACHE elsewhere")]
    DiskSpace { path: PathBuf, available_mib: u64, needed_mib: u64 },
    #[error("failed to run {command}: {detail}")]
    Command { command: String, detail: String },
    #[error("failed to access {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl BuildError {
    /// Wrap an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BuildError {
        let path = path.into();
        move |source| BuildError::Io { path, source }
    }

    /// Wrap a failure to start or wait for a command.
    pub(crate) fn command(command: impl Into<String>) -> impl FnOnce(std::io::Error) -> BuildError {
        let command = command.into();
        move |e| BuildError::Command { command, detail: e.to_string() }
    }
}
