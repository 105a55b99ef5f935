//! Running one build step: its output streamed line by line to the caller and appended to the log.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::error::BuildError;

/// How many trailing log lines a build failure shows.
pub const TAIL_LINES: usize = 30;

/// Where a step runs and what it inherits.
pub struct Runner<'a> {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
    pub on_line: &'a mut dyn FnMut(&str),
}

impl std::fmt::Debug for Runner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").field("dir", &self.dir).field("log", &self.log).finish_non_exhaustive()
    }
}

impl Runner<'_> {
    /// Runs `program args…` (under `nice -n 19`), streaming stdout+stderr; a non-zero exit is a
    /// [`BuildError::BuildFailed`] with the last [`TAIL_LINES`] lines.
    pub fn step(&mut self, program: &str, args: &[String]) -> Result<(), BuildError> {
        let step = format!("{program} {}", args.join(" "));
        let mut log =
            std::fs::OpenOptions::new().create(true).append(true).open(&self.log).map_err(BuildError::io(&self.log))?;
        writeln!(log, "$ {step}").map_err(BuildError::io(&self.log))?;
        let mut nice_args = vec!["-n".to_string(), "19".to_string(), program.to_string()];
        nice_args.extend(args.iter().cloned());
        let mut expr = duct::cmd("nice", &nice_args).dir(&self.dir).stderr_to_stdout().unchecked();
        for (k, v) in &self.env {
            expr = expr.env(k, v);
        }
        let reader = expr.reader().map_err(BuildError::command(&step))?;
        let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES + 1);
        for line in BufReader::new(&reader).split(b'\n') {
            let line = line.map_err(BuildError::command(&step))?;
            let line = String::from_utf8_lossy(&line);
            writeln!(log, "{line}").map_err(BuildError::io(&self.log))?;
            (self.on_line)(&line);
            tail.push_back(line.into_owned());
            if tail.len() > TAIL_LINES {
                tail.pop_front();
            }
        }
        let status = reader.try_wait().map_err(BuildError::command(&step))?.map(|o| o.status);
        if status.is_some_and(|s| s.success()) {
            return Ok(());
        }
        Err(BuildError::BuildFailed {
            step,
            log: self.log.clone(),
            tail: tail.into_iter().collect::<Vec<_>>().join("\n"),
        })
    }
}

/// `CC` for make: `ccache gcc` when ccache runs, else `gcc`.
pub fn compiler() -> String {
    let ccache = duct::cmd!("ccache", "--version").stdout_null().stderr_null().run().is_ok();
    if ccache { "ccache gcc" } else { "gcc" }.to_string()
}

/// ccache settings that make objects reusable across trees under `cache_root`.
pub fn ccache_env(cache_root: &Path) -> Vec<(String, String)> {
    let mut env = vec![
        ("CCACHE_BASEDIR".to_string(), cache_root.display().to_string()),
        ("CCACHE_NOHASHDIR".to_string(), "1".to_string()),
    ];
    if std::env::var_os("CCACHE_DIR").is_none() {
        env.push(("CCACHE_DIR".to_string(), cache_root.join("ccache").display().to_string()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_lines_and_reports_the_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("build.log");
        let mut seen = Vec::new();
        let mut on_line = |l: &str| seen.push(l.to_string());
        let mut r = Runner { dir: dir.path().into(), env: vec![], log: log.clone(), on_line: &mut on_line };
        r.step("sh", &["-c".into(), "echo one; echo two >&2".into()]).expect("runs");
        let err = r.step("sh", &["-c".into(), "seq 1 40; exit 3".into()]).expect_err("fails");
        let msg = err.to_string();
        assert!(msg.contains("build.log"), "{msg}");
        assert!(msg.contains("\n11\n12\n") && msg.ends_with("\n40"), "{msg}");
        assert!(!msg.contains("\n10\n"), "only the last 30 lines: {msg}");
        drop(r);
        assert_eq!(&seen[..2], ["one", "two"]);
        let text = std::fs::read_to_string(&log).expect("log");
        assert!(text.contains("$ sh -c echo one") && text.contains("\n40\n"), "{text}");
    }
}
