//! Guest runtime: the agent that runs as PID 1 inside the VM, and the API test cases are written in.
//!
//! A suite binary calls [`agent_main`] with its cases; the agent mounts what the cases need,
//! loads modules, announces itself on the result channel and runs each requested case in a
//! forked child with its own timeout.

mod agent;
mod caps;
mod case;
mod channel;
mod ctx;
mod fork;
mod init;
mod modules;
mod probe;

pub use agent::agent_main;
pub use caps::without_capability;
pub use case::{collect, Case, CaseBuilder, CaseResult, Stop, Variant};
pub use ctx::Ctx;
pub use probe::Probe;

/// Re-exported so suites name errnos without their own nix dependency version games.
pub use nix::errno::Errno;
