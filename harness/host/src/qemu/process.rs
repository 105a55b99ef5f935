//! The QEMU child: spawned in its own process group, dying with us, killed as a group.

use crate::cleanup;
use crate::error::HostError;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::sync::Arc;

/// A running QEMU. Dropping it kills the whole process group.
#[derive(Debug)]
pub struct QemuProcess {
    handle: Arc<duct::ReaderHandle>,
    pgid: i32,
}

impl QemuProcess {
    /// Start QEMU with stdout (the guest console) as a pipe and stderr to `stderr_path`.
    pub fn spawn(qemu: &Path, args: &[String], stderr_path: &Path) -> Result<Self, HostError> {
        let handle = duct::cmd(qemu, args)
            .stdin_null()
            .stderr_path(stderr_path)
            .unchecked()
            .before_spawn(|cmd| {
                cmd.process_group(0);
                // SAFETY: prctl is async-signal-safe; it makes QEMU die if pollcheck dies.
                unsafe {
                    cmd.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                Ok(())
            })
            .reader()
            .map_err(HostError::QemuSpawn)?;
        let pgid = handle.pids().first().copied().unwrap_or(0) as i32;
        cleanup::register_pgid(pgid);
        Ok(Self { handle: Arc::new(handle), pgid })
    }

    /// A reader of the guest console (QEMU's stdout), for the console thread.
    pub fn console(&self) -> impl Read + Send + 'static {
        ConsoleReader(Arc::clone(&self.handle))
    }

    /// Whether QEMU has exited.
    pub fn has_exited(&self) -> bool {
        matches!(self.handle.try_wait(), Ok(Some(_)))
    }

    /// Kill QEMU and everything in its group, and reap it.
    pub fn kill(&self) {
        if self.pgid > 0 {
            // SAFETY: plain syscall on our own child's process group.
            unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
        }
        let _ = self.handle.kill();
    }
}

impl Drop for QemuProcess {
    fn drop(&mut self) {
        self.kill();
        cleanup::unregister_pgid(self.pgid);
    }
}

struct ConsoleReader(Arc<duct::ReaderHandle>);

impl Read for ConsoleReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        (&*self.0).read(buf)
    }
}
