//! How long each case took last time on each kernel, kept in the cache so that the next session
//! starts the longest cases first (a longest-first order keeps side-by-side guests busy to the
//! end) and a matrix starts its longest kernels first. A case takes very different times on
//! different kernels (4 s where irq-suspend-timeout exists, 5 ms where it Skips), so its time on
//! this kernel counts first, then its last time on any kernel, else its whole limit.

use crate::report::model::RunReport;
use pollcheck_proto::CaseMeta;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FILE: &str = "durations.json";

/// `case` and `case@release` → milliseconds, from earlier runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History(BTreeMap<String, u64>);

impl History {
    /// The history under `cache_root` (empty when there is none or it cannot be read).
    pub fn load(cache_root: &Path) -> Self {
        let text = std::fs::read(file(cache_root)).unwrap_or_default();
        Self(serde_json::from_slice(&text).unwrap_or_default())
    }

    /// The case's last run time on the kernel `release` (`uname -r`; empty when not known),
    /// else on any kernel, else its limit.
    pub fn expected_ms(&self, release: &str, meta: &CaseMeta) -> u64 {
        let id = meta.id.to_string();
        let on_kernel = Some(key(&id, release)).filter(|_| !release.is_empty()).and_then(|k| self.0.get(&k));
        on_kernel.or_else(|| self.0.get(&id)).copied().unwrap_or(meta.timeout_ms)
    }

    /// Adds the cases of `report` that ran on the kernel `release` (as given to
    /// [`Self::expected_ms`]; best effort: a lost update only costs ordering).
    pub fn record(cache_root: &Path, release: &str, report: &RunReport) {
        let mut h = Self::load(cache_root);
        h.merge(release, report);
        let path = file(cache_root);
        let tmp = path.with_extension(format!("json.{}", std::process::id()));
        if let Ok(bytes) = serde_json::to_vec(&h.0) {
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
    }

    /// Takes the durations of the cases that ran on a guest (pure).
    pub fn merge(&mut self, release: &str, report: &RunReport) {
        for c in report.cases.iter().filter(|c| c.guest.is_some()) {
            let id = c.id.to_string();
            self.0.insert(key(&id, release), c.duration_ms);
            self.0.insert(id, c.duration_ms);
        }
    }
}

fn key(case: &str, release: &str) -> String {
    format!("{case}@{release}")
}

fn file(cache_root: &Path) -> PathBuf {
    cache_root.join(FILE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::meta;

    #[test]
    fn last_run_times_else_the_limit() {
        let mut report = crate::report::fixtures::sample();
        for c in &mut report.cases {
            c.guest = Some(1);
        }
        let release = report.kernel.release.clone();
        let mut h = History::default();
        h.merge(&release, &report);
        let first = &report.cases[0];
        let mut m = meta(&first.id.suite, &first.id.case);
        m.id = first.id.clone();
        assert_eq!(h.expected_ms(&release, &m), first.duration_ms);
        let mut other = report.clone();
        other.cases[0].duration_ms = 5;
        h.merge("6.1.0-50-cloud-amd64", &other);
        assert_eq!(h.expected_ms("6.1.0-50-cloud-amd64", &m), 5, "its time on that kernel");
        assert_eq!(h.expected_ms(&release, &m), first.duration_ms, "another kernel's time does not count");
        assert_eq!(h.expected_ms("6.12.1", &m), 5, "a kernel never seen: the last time anywhere");
        let mut unseen = meta("x", "y");
        unseen.timeout_ms = 60_000;
        assert_eq!(h.expected_ms(&release, &unseen), 60_000);
        let dir = tempfile::tempdir().expect("tempdir");
        History::record(dir.path(), &release, &report);
        let mut once = History::default();
        once.merge(&release, &report);
        assert_eq!(History::load(dir.path()), once);
    }
}
