//! Applying a patch with `patch -p1`, and naming the hunk that failed.

use std::path::Path;

use super::error::BuildError;

/// Applies `patch_file` to `tree` with `patch -p1 --forward --batch`.
pub fn apply(tree: &Path, patch_file: &Path) -> Result<(), BuildError> {
    run_patch(tree, patch_file, &["--forward"], "")
}

/// Takes `patch_file` back out of `tree` (`patch -R -p1`).
pub fn revert(tree: &Path, patch_file: &Path) -> Result<(), BuildError> {
    run_patch(tree, patch_file, &["-R"], "while taking it back out: ")
}

/// `patch -p1 <extra> --batch` with `patch_file`; a failure names the hunk, after `context`.
fn run_patch(tree: &Path, patch_file: &Path, extra: &[&str], context: &str) -> Result<(), BuildError> {
    let failed = |hunk: String| BuildError::PatchFailed { patch: patch_file.to_path_buf(), hunk };
    let abs = std::fs::canonicalize(patch_file).map_err(|e| failed(format!("cannot read it: {e}")))?;
    let mut args: Vec<std::ffi::OsString> = vec!["-p1".into()];
    args.extend(extra.iter().map(Into::into));
    args.extend(["--batch".into(), "--no-backup-if-mismatch".into(), "-i".into(), abs.into_os_string()]);
    let out = duct::cmd("patch", args)
        .dir(tree)
        .stderr_to_stdout()
        .stdout_capture()
        .unchecked()
        .run()
        .map_err(BuildError::command("patch"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(failed(format!("{context}{}", failing_hunk(&String::from_utf8_lossy(&out.stdout)))))
}

/// The first failure in `patch`'s output, prefixed by the file it was patching.
pub fn failing_hunk(output: &str) -> String {
    let mut file = None;
    for line in output.lines() {
        if let Some(f) = line.strip_prefix("patching file ") {
            file = Some(f.trim().trim_matches('\''));
        }
        let lower = line.to_ascii_lowercase();
        let bad = ["failed", "can't find file", "malformed", "reversed", "only garbage", "no such file"];
        if bad.iter().any(|b| lower.contains(b)) {
            return match file {
                Some(f) if !line.contains(f) => format!("{f}: {}", line.trim()),
                _ => line.trim().to_string(),
            };
        }
    }
    output.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("patch failed without output").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_failed_hunk_and_file() {
        let out = "patching file fs/eventpoll.c\nHunk #1 FAILED at 740.\n\
                   1 out of 1 hunk FAILED -- saving rejects to file fs/eventpoll.c.rej\n";
        assert_eq!(failing_hunk(out), "fs/eventpoll.c: Hunk #1 FAILED at 740.");
    }

    #[test]
    fn missing_file_and_reversed() {
        let out = "can't find file to patch at input line 3\nPerhaps you used the wrong -p or --strip option?\n";
        assert_eq!(failing_hunk(out), "can't find file to patch at input line 3");
        let out = "patching file fs/eventpoll.c\nReversed (or previously applied) patch detected!  Skipping patch.\n";
        assert!(failing_hunk(out).starts_with("fs/eventpoll.c: Reversed"));
        assert_eq!(failing_hunk(""), "patch failed without output");
    }

    #[test]
    fn applies_and_rejects_for_real() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("fs")).expect("mkdir");
        std::fs::write(dir.path().join("fs/x.c"), "a\nb\nc\n").expect("write");
        let p = dir.path().join("ok.patch");
        std::fs::write(&p, "header line\n--- a/fs/x.c\n+++ b/fs/x.c\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n")
            .expect("write");
        apply(dir.path(), &p).expect("applies");
        assert_eq!(std::fs::read_to_string(dir.path().join("fs/x.c")).expect("read"), "a\nB\nc\n");
        let err = apply(dir.path(), &p).expect_err("second time fails");
        assert!(err.to_string().contains("ok.patch"), "{err}");
        assert!(err.to_string().contains("fs/x.c"), "{err}");
        revert(dir.path(), &p).expect("reverts");
        assert_eq!(std::fs::read_to_string(dir.path().join("fs/x.c")).expect("read"), "a\nb\nc\n");
    }
}
