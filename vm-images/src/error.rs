//! The one error type of this crate: each message says what failed, or what is wrong and what to do.

use std::path::PathBuf;

/// Everything that can go wrong while resolving a kernel image or its modules.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("kernel image {0} does not exist; pass a path to a bzImage, a Debian version (e.g. 7.3) or `default`")]
    NotFound(PathBuf),
    #[error("{path} is an ELF vmlinux; pass arch/x86/boot/bzImage instead")]
    ElfVmlinux { path: PathBuf },
    #[error("{path} is a kernel image for {arch}; pollcheck boots x86_64 kernels only")]
    WrongArch { path: PathBuf, arch: &'static str },
    #[error("{path} is not a bzImage ({why}); pass an x86_64 bzImage (arch/x86/boot/bzImage)")]
    NotBzImage { path: PathBuf, why: String },
    #[error("failed to read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot find a cache directory; set POLLCHECK_CACHE or HOME")]
    NoCacheDir,
    #[error("kernel spec {spec:?} is not valid: {why}")]
    BadSpec { spec: String, why: String },
    #[error("failed to build kernel {spec}: {source}")]
    Build {
        spec: String,
        #[source]
        source: crate::build::BuildError,
    },
    #[error("no Debian kernel matches {spec}; nearest offered: {nearest}")]
    NoMatch { spec: String, nearest: String },
    #[error("the Debian archive is unreachable ({reason}) and no cached kernel matches {spec}; connect to the network and retry")]
    OfflineNoMatch { spec: String, reason: String },
    #[error("no apt mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources; add a `deb` line for Debian")]
    NoMirror,
    #[error("failed to run {command}: {detail}")]
    Command { command: String, detail: String },
    #[error("failed to verify {what}: expected sha256 {expected}, got {actual}")]
    Checksum { what: String, expected: String, actual: String },
    #[error("package {package} has no {what}; the Debian package layout is not one pollcheck knows")]
    BadPackage { package: String, what: String },
    #[error(
        "modules dir {dir} is for release {found} but the kernel is {kernel}; pass the modules dir of this kernel"
    )]
    ModulesMismatch { dir: PathBuf, found: String, kernel: String },
    #[error("kernel module {name} is neither in {dir} nor built into the kernel; check the module name or the kernel config")]
    ModuleMissing { name: String, dir: PathBuf },
    #[error("failed to parse kernel module {path}: {why}")]
    BadModule { path: PathBuf, why: String },
    #[error("kernel modules depend on each other in a cycle: {0}")]
    ModuleCycle(String),
    #[error("failed to parse {path}: {why}")]
    Parse { path: PathBuf, why: String },
}

impl ImageError {
    /// Wrap an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ImageError {
        let path = path.into();
        move |source| ImageError::Io { path, source }
    }
}
