//! Terminal rendering of kernel-image progress: one line per message, an indicatif bar per download.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

/// Renders [`pollcheck_images::Progress`] on stderr. Bars draw only on a terminal; elsewhere (CI
/// logs) each download gets a single line when it completes.
#[derive(Debug, Default)]
pub struct TermProgress {
    bar: Mutex<Option<(String, ProgressBar)>>,
}

impl TermProgress {
    fn bar_for(&self, what: &str, total: u64) -> ProgressBar {
        let mut slot = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((name, bar)) = slot.as_ref() {
            if name == what {
                return bar.clone();
            }
            bar.finish_and_clear();
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template("{msg:32} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(what.to_string());
        *slot = Some((what.to_string(), bar.clone()));
        bar
    }
}

impl pollcheck_images::Progress for TermProgress {
    fn message(&self, msg: &str) {
        let slot = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some((_, bar)) if !bar.is_finished() => bar.println(msg),
            _ => eprintln!("{msg}"),
        }
    }

    fn transfer(&self, what: &str, done: u64, total: u64) {
        let bar = self.bar_for(what, total);
        bar.set_position(done);
        if done >= total && !bar.is_finished() {
            bar.finish_and_clear();
            eprintln!("downloaded {what} ({:.1} MB)", total as f64 / 1e6);
        }
    }
}
