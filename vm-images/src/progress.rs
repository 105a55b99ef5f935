//! How the library tells its caller what it is doing (the host renders it with indicatif).

/// Receives one-line progress messages ("downloading linux-image-… (25 MB)").
pub trait Progress {
    fn message(&self, msg: &str);

    /// `done` of `total` bytes of `what` have arrived (called repeatedly; `done == total` last).
    fn transfer(&self, what: &str, done: u64, total: u64) {
        let _ = (what, done, total);
    }
}

/// Discards every message.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn message(&self, _msg: &str) {}
}

/// Prints every message to stderr; handy for examples and tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct StderrProgress;

impl Progress for StderrProgress {
    fn message(&self, msg: &str) {
        eprintln!("{msg}");
    }
}
