//! pollcheck host library: plan a run, boot kernels in QEMU, drive the guest agent, collect typed
//! outcomes and write reports. The `pollcheck` binary and the `cargo test` harness sit on top.

pub mod accel;
pub mod agent_bin;
pub mod bisect;
pub mod cleanup;
pub mod display;
pub mod error;
pub mod initramfs;
pub mod libtest;
pub mod matrix;
pub mod modes;
pub mod mutants;
pub mod plan;
pub mod progress;
pub mod qemu;
pub mod repeat;
pub mod report;
pub mod session;
pub mod testnet;
pub mod vm;
pub mod workspace;

pub use error::HostError;
pub use workspace::Workspace;
