//! The per-run artifact directory (`<root>/<run-id>/`) with every report format written into it,
//! and the sortable run ids that name it.

use super::model::RunReport;
use super::{json, junit, ktap, summary, ReportError};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// `<root>/<run-id>/`, created on construction.
#[derive(Debug, Clone)]
pub struct ArtifactDir {
    path: PathBuf,
}

impl ArtifactDir {
    /// Create (or reuse) `<root>/<run_id>/`, creating `root` too if needed.
    pub fn create(root: &Path, run_id: &str) -> Result<ArtifactDir, ReportError> {
        if !is_plain_name(run_id) {
            return Err(ReportError::InvalidRunId(run_id.to_owned()));
        }
        let path = root.join(run_id);
        fs::create_dir_all(&path).map_err(|source| ReportError::CreateDir { path: path.clone(), source })?;
        Ok(ArtifactDir { path })
    }

    /// The run directory, `<root>/<run-id>`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write `results.ktap`, `junit.xml`, `results.json` and `summary.txt` (without colour).
    pub fn write_all(&self, report: &RunReport) -> Result<(), ReportError> {
        self.write("results.ktap", &ktap(report))?;
        self.write("junit.xml", &junit(report)?)?;
        self.write("results.json", &json(report))?;
        self.write("summary.txt", &summary(report, false))
    }

    fn write(&self, name: &str, contents: &str) -> Result<(), ReportError> {
        let path = self.path.join(name);
        fs::write(&path, contents).map_err(|source| ReportError::Write { path, source })
    }
}

/// A run id usable as a single directory name.
fn is_plain_name(run_id: &str) -> bool {
    !run_id.is_empty() && run_id != "." && run_id != ".." && !run_id.contains(['/', '\\', '\0'])
}

/// A new run id, sortable by start time: `yyyymmdd-hhmmss-xxxx` (UTC, then 4 random hex digits).
pub fn new_run_id() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    run_id_at(now.as_secs(), entropy(now.subsec_nanos()))
}

/// The run id for a given Unix time and 16 bits of entropy.
fn run_id_at(unix_secs: u64, entropy: u16) -> String {
    let (year, month, day) = civil_from_days(unix_secs / 86_400);
    let secs = unix_secs % 86_400;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    format!("{year:04}{month:02}{day:02}-{h:02}{m:02}{s:02}-{entropy:04x}")
}

/// Two bytes from `/dev/urandom`, or the pid mixed with the clock's nanoseconds without it.
fn entropy(nanos: u32) -> u16 {
    let mut buf = [0u8; 2];
    let read = fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    match read {
        Ok(()) => u16::from_le_bytes(buf),
        Err(_) => {
            let mixed = std::process::id() ^ nanos ^ (nanos >> 16);
            (mixed & 0xffff) as u16
        }
    }
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u32) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The proleptic Gregorian date `(year, month, day)` that is `days` after 1970-01-01.
///
/// Walks whole years, then months: at most a few hundred steps for any realistic date.
fn civil_from_days(mut days: u64) -> (u64, u32, u32) {
    let mut year = 1970;
    loop {
        let len = if is_leap(year) { 366 } else { 365 };
        if days < len {
            break;
        }
        days -= len;
        year += 1;
    }
    let mut month = 1;
    while days >= days_in_month(year, month) {
        days -= days_in_month(year, month);
        month += 1;
    }
    // `days` is below 31 here, so the day of month fits.
    (year, month, days as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;
    use rstest::rstest;

    #[rstest]
    #[case(0, (1970, 1, 1))]
    #[case(31, (1970, 2, 1))]
    #[case(59, (1970, 3, 1))]
    #[case(365, (1971, 1, 1))]
    #[case(789, (1972, 2, 29))]
    #[case(10_957, (2000, 1, 1))]
    #[case(11_016, (2000, 2, 29))]
    #[case(11_017, (2000, 3, 1))]
    #[case(20_088, (2024, 12, 31))]
    #[case(20_089, (2025, 1, 1))]
    #[case(47_540, (2100, 2, 28))]
    #[case(47_541, (2100, 3, 1))]
    fn civil_from_days_matches_the_calendar(#[case] days: u64, #[case] want: (u64, u32, u32)) {
        assert_eq!(civil_from_days(days), want);
    }

    #[test]
    fn run_id_formats_utc_time_and_entropy() {
        assert_eq!(run_id_at(1_700_000_000, 0xbeef), "20231114-221320-beef");
        assert_eq!(run_id_at(0, 7), "19700101-000000-0007");
    }

    #[test]
    fn new_run_ids_sort_by_time_and_have_the_right_shape() {
        let id = new_run_id();
        assert_eq!(id.len(), "yyyymmdd-hhmmss-xxxx".len(), "{id}");
        assert!(id.as_str() > "20250101", "{id}");
        assert!(run_id_at(1_700_000_000, 0xffff) < run_id_at(1_700_000_001, 0));
    }

    #[test]
    fn writes_every_format_into_the_run_directory() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = ArtifactDir::create(&root.path().join("pollcheck"), "run-1").expect("creates");
        assert_eq!(dir.path(), root.path().join("pollcheck/run-1"));
        let report = fixtures::sample();
        dir.write_all(&report).expect("writes");
        for (name, want) in [
            ("results.ktap", ktap(&report)),
            ("junit.xml", junit(&report).expect("junit")),
            ("results.json", json(&report)),
            ("summary.txt", summary(&report, false)),
        ] {
            let got = fs::read_to_string(dir.path().join(name)).expect("reads");
            assert_eq!(got, want, "{name}");
        }
    }

    #[rstest]
    #[case("")]
    #[case("..")]
    #[case("a/b")]
    fn rejects_run_ids_that_are_not_one_directory(#[case] run_id: &str) {
        let root = tempfile::tempdir().expect("tempdir");
        let err = ArtifactDir::create(root.path(), run_id).expect_err("rejected");
        assert!(err.to_string().starts_with("failed to use run id"));
    }

    #[test]
    fn reports_the_path_it_could_not_create() {
        let root = tempfile::tempdir().expect("tempdir");
        let file = root.path().join("file");
        fs::write(&file, "").expect("writes");
        let err = ArtifactDir::create(&file, "run").expect_err("a file is not a directory");
        assert!(err.to_string().contains("failed to create artifact directory"), "{err}");
    }
}
