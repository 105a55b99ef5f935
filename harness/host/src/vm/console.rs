//! The console thread: copies the guest console to a log file, keeps a tail for excerpts, and
//! reports kernel splats as they appear.

use super::crash::{classify, Splat};
use super::VmEvent;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

const TAIL_LINES: usize = 400;

/// The recent console lines, shared with the guest controller for excerpts.
#[derive(Debug, Default)]
pub struct ConsoleTail {
    lines: Mutex<VecDeque<String>>,
    total: Mutex<u64>,
}

impl ConsoleTail {
    /// Lines seen so far (a position to take an excerpt from later).
    pub fn position(&self) -> u64 {
        self.total.lock().map(|t| *t).unwrap_or(0)
    }

    /// Console lines from `pos` on, at most `max` of them.
    pub fn since(&self, pos: u64, max: usize) -> Vec<String> {
        let total = self.position();
        let Ok(lines) = self.lines.lock() else { return Vec::new() };
        let available = lines.len() as u64;
        let skip = (available + pos).saturating_sub(total) as usize;
        lines.iter().skip(skip).take(max).cloned().collect()
    }

    /// The last `n` lines.
    pub fn last(&self, n: usize) -> Vec<String> {
        let Ok(lines) = self.lines.lock() else { return Vec::new() };
        lines.iter().skip(lines.len().saturating_sub(n)).cloned().collect()
    }

    fn push(&self, line: String) {
        if let Ok(mut lines) = self.lines.lock() {
            if lines.len() == TAIL_LINES {
                lines.pop_front();
            }
            lines.push_back(line);
        }
        if let Ok(mut t) = self.total.lock() {
            *t += 1;
        }
    }
}

/// Run until the console closes (QEMU exited), then send [`VmEvent::QemuExited`].
pub fn pump(console: impl Read, mut log: File, tail: Arc<ConsoleTail>, events: Sender<VmEvent>) {
    let mut reader = BufReader::new(console);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let _ = log.write_all(&buf);
                let line = String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_owned();
                let splat: Option<Splat> = classify(&line);
                tail.push(line.clone());
                if let Some(kind) = splat {
                    let _ = events.send(VmEvent::Splat { kind, line });
                }
            }
        }
    }
    let _ = log.flush();
    let _ = events.send(VmEvent::QemuExited);
}
