//! QEMU: finding it, pure argument building, and the process that runs it.

mod args;
mod find;
mod process;

pub use args::{kernel_cmdline, qemu_args, tcg_accel, TcgOptions, VmShape, TCG_CPU};
pub use find::{version_of, Qemu};
pub use process::QemuProcess;
