//! The result channel: framed events out, framed requests in, over a serial port or a pipe.

use pollcheck_proto::{frame, Event, Request};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Where events go: the serial port in the agent, a pipe in a forked case.
#[derive(Debug)]
pub(crate) struct EventSink {
    out: File,
}

impl EventSink {
    pub(crate) fn new(fd: OwnedFd) -> Self {
        Self { out: File::from(fd) }
    }

    /// Write one event. A broken channel cannot be reported anywhere, so it is ignored here and
    /// noticed by the host as a lost agent.
    pub(crate) fn send(&mut self, event: &Event) {
        let _ = self.out.write_all(frame::encode(event).as_bytes());
        let _ = self.out.flush();
    }
}

/// The agent's side of the host link.
#[derive(Debug)]
pub(crate) struct Channel {
    reader: BufReader<File>,
    pub(crate) sink: EventSink,
}

impl Channel {
    /// Open a serial port in raw mode (no echo, no line editing, no CR/LF translation).
    pub(crate) fn open_serial(path: &Path) -> Result<Self, String> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(path)
            .map_err(|e| format!("failed to open result channel {}: {e}", path.display()))?;
        let mut t = nix::sys::termios::tcgetattr(file.as_fd()).map_err(|e| format!("failed to read termios: {e}"))?;
        nix::sys::termios::cfmakeraw(&mut t);
        nix::sys::termios::tcsetattr(file.as_fd(), nix::sys::termios::SetArg::TCSANOW, &t)
            .map_err(|e| format!("failed to set raw mode: {e}"))?;
        let writer = file.try_clone().map_err(|e| format!("failed to clone channel fd: {e}"))?;
        Ok(Self { reader: BufReader::new(file), sink: EventSink { out: writer } })
    }

    /// The next request, skipping unframed noise. `None` when the host has gone away.
    pub(crate) fn next_request(&mut self) -> Option<Result<Request, String>> {
        let mut line = String::new();
        loop {
            line.clear();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => match frame::decode::<Request>(&line) {
                    Ok(r) => return Some(Ok(r)),
                    Err(frame::FrameError::NotFramed) => continue,
                    Err(e) => return Some(Err(e.to_string())),
                },
            }
        }
    }
}
