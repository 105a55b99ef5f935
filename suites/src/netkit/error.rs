//! What goes wrong while building or inspecting a test network, each saying what failed.

use pollcheck_proto::Feature;

/// A failed network operation; messages start with "failed to …" and name the object.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A netlink request the kernel refused: its errno and, when it gave one, the extack message.
    #[error("failed to {what}: {errno}{}", extack.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Kernel { what: String, errno: nix::errno::Errno, extack: Option<String> },
    /// A netlink exchange that broke below the kernel's answer (socket, parse).
    #[error("failed to {what}: {detail}")]
    Netlink { what: String, detail: String },
    /// A system call or file operation.
    #[error("failed to {what}: {source}")]
    Sys { what: String, source: nix::errno::Errno },
    /// The kernel lacks an interface the request needs (a netlink family or operation): `feature`
    /// is what is absent, `why` says how that was established.
    #[error("{why}")]
    Absent { feature: Feature, why: String },
    /// The kernel advertises the interface (the op in its family's op list, the attribute in
    /// the op's policy, the value in the attribute's range) and then refuses it the way a kernel
    /// without it would: a broken kernel. Cases turn it into a FAIL, never a Skip.
    #[error("{why}")]
    Lost { feature: Feature, why: String },
    /// The topology cannot be built as asked (bad input or a missing device); says what to do.
    #[error("{0}")]
    Unusable(String),
}

impl NetError {
    pub(crate) fn sys(what: impl Into<String>) -> impl FnOnce(nix::errno::Errno) -> NetError {
        let what = what.into();
        move |source| NetError::Sys { what, source }
    }

    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetError {
        let what = what.into();
        move |e| NetError::Sys { what, source: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)) }
    }

    /// The kernel's errno when the kernel refused the request.
    pub fn errno(&self) -> Option<nix::errno::Errno> {
        match self {
            NetError::Kernel { errno, .. } | NetError::Sys { source: errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// The kernel's extack message, when it gave one.
    pub fn extack(&self) -> Option<&str> {
        match self {
            NetError::Kernel { extack, .. } => extack.as_deref(),
            _ => None,
        }
    }
}
