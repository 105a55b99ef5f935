//! QEMU: pure argument building, and the process that runs it.

mod args;
mod process;

pub use args::{kernel_cmdline, qemu_args, VmSpec};
pub use process::{find_qemu, QemuProcess};
