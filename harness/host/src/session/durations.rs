//! How long each case took last time, kept in the cache so that the next session starts the
//! longest cases first (a longest-first order keeps side-by-side guests busy to the end). A case
//! never seen is expected to take its whole limit.

use crate::report::model::RunReport;
use pollcheck_proto::CaseMeta;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FILE: &str = "durations.json";

/// Case name → milliseconds, from earlier runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History(BTreeMap<String, u64>);

impl History {
    /// The history under `cache_root` (empty when there is none or it cannot be read).
    pub fn load(cache_root: &Path) -> Self {
        let text = std::fs::read(file(cache_root)).unwrap_or_default();
        Self(serde_json::from_slice(&text).unwrap_or_default())
    }

    /// The case's last run time, else its limit.
    pub fn expected_ms(&self, meta: &CaseMeta) -> u64 {
        self.0.get(&meta.id.to_string()).copied().unwrap_or(meta.timeout_ms)
    }

    /// Adds the cases of `report` that ran (best effort: a lost update only costs ordering).
    pub fn record(cache_root: &Path, report: &RunReport) {
        let mut h = Self::load(cache_root);
        h.merge(report);
        let path = file(cache_root);
        let tmp = path.with_extension(format!("json.{}", std::process::id()));
        if let Ok(bytes) = serde_json::to_vec(&h.0) {
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
    }

    /// Takes the durations of the cases that ran on a guest (pure).
    pub fn merge(&mut self, report: &RunReport) {
        for c in report.cases.iter().filter(|c| c.guest.is_some()) {
            self.0.insert(c.id.to_string(), c.duration_ms);
        }
    }
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
        let mut h = History::default();
        h.merge(&report);
        let first = &report.cases[0];
        let mut m = meta(&first.id.suite, &first.id.case);
        m.id = first.id.clone();
        assert_eq!(h.expected_ms(&m), first.duration_ms);
        let mut unseen = meta("x", "y");
        unseen.timeout_ms = 60_000;
        assert_eq!(h.expected_ms(&unseen), 60_000);
        let dir = tempfile::tempdir().expect("tempdir");
        History::record(dir.path(), &report);
        assert_eq!(History::load(dir.path()), h);
    }
}
