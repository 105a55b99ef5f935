//! The one live display of running sessions, shared by `run`, `matrix`, `bench` and the
//! `cargo test` trials: the accelerator, network and boots as lines on stderr, each finished
//! case as a line (when asked), and on a terminal a bar counting cases across every session.

use crate::session::{Observer, SessionEvent};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

/// How much the display says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Accelerator, network, boots and retries, and one line per finished case.
    Cases,
    /// The same without the per-case lines.
    Boots,
    /// Only retries (something worth knowing went wrong).
    Quiet,
}

/// A live display; cheap to share across the threads of a session or a matrix.
#[derive(Debug)]
pub struct LiveDisplay {
    detail: Detail,
    /// Prefix lines with the kernel (several kernels at once).
    with_kernel: bool,
    bar: Option<ProgressBar>,
    total: AtomicU64,
}

impl LiveDisplay {
    /// A display on stderr; the bar only when stderr is a terminal.
    pub fn new(detail: Detail, with_kernel: bool) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} cases {elapsed} {msg}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Self { detail, with_kernel, bar, total: AtomicU64::new(0) }
    }

    fn line(&self, kernel: &str, text: &str) {
        let text =
            if self.with_kernel { format!("pollcheck: [{kernel}] {text}") } else { format!("pollcheck: {text}") };
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Clears the bar (before the command prints its results).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for LiveDisplay {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The line an event gets at `detail`, if any (pure).
pub fn describe(event: &SessionEvent<'_>, detail: Detail) -> Option<String> {
    let boots = detail != Detail::Quiet;
    match event {
        SessionEvent::Planned { .. } | SessionEvent::CaseStarted { .. } => None,
        SessionEvent::AccelChosen(d) if boots => Some(format!("accelerator {} ({})", d.accel, d.reason)),
        SessionEvent::Network(plan) if boots => Some(format!("network: {}", plan.describe())),
        SessionEvent::Booted { guest, boot_time, features } if boots => Some(format!(
            "guest {guest}: booted {} with {} vCPU(s) in {:.1} s",
            features.kernel_release,
            features.cpus,
            boot_time.as_secs_f64()
        )),
        SessionEvent::BootRetry { guest, cpus, error } => {
            let first = error.to_string();
            let first = first.lines().next().unwrap_or_default().to_owned();
            Some(format!("guest {guest}: a {cpus}-vCPU guest failed to boot ({first}); booting it once more"))
        }
        SessionEvent::CaseFinished(rec) if detail == Detail::Cases => {
            Some(format!("{} {}", rec.outcome.kind(), rec.id))
        }
        _ => None,
    }
}

impl Observer for LiveDisplay {
    fn event(&self, kernel: &str, event: &SessionEvent<'_>) {
        if let Some(bar) = &self.bar {
            match event {
                SessionEvent::Planned { cases, .. } => {
                    let total = self.total.fetch_add(*cases as u64, Ordering::SeqCst) + *cases as u64;
                    bar.set_length(total);
                }
                SessionEvent::CaseStarted { id, .. } => bar.set_message(id.to_string()),
                SessionEvent::CaseFinished(_) => bar.inc(1),
                _ => {}
            }
        }
        if let Some(text) = describe(event, self.detail) {
            self.line(kernel, &text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::CaseRecord;
    use pollcheck_proto::{CaseId, Outcome};

    #[test]
    fn case_lines_only_at_case_detail() {
        let rec = CaseRecord {
            id: CaseId::new("busy_poll", "params_pad"),
            summary: String::new(),
            outcome: Outcome::Pass,
            duration_ms: 1,
            checks: Vec::new(),
            logs: Vec::new(),
            console_excerpt: None,
            guest: Some(1),
        };
        let ev = SessionEvent::CaseFinished(&rec);
        assert_eq!(describe(&ev, Detail::Cases).as_deref(), Some("PASS busy_poll::params_pad"));
        assert_eq!(describe(&ev, Detail::Boots), None);
        assert_eq!(describe(&SessionEvent::Planned { cases: 3, decided: 0 }, Detail::Cases), None);
    }
}
