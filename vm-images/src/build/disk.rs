//! Free disk space under a directory, from `df -Pk`.

use std::path::Path;

use super::error::BuildError;

/// A kernel tree (1.8 GiB) plus objects and ccache: refuse to start with less than this.
pub const NEEDED_BYTES: u64 = 3 << 30;

/// Available kilobytes from `df -Pk` output (second line, fourth column).
pub fn parse_df_available_kib(output: &str) -> Option<u64> {
    output.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

/// Fails with [`BuildError::DiskSpace`] when `path`'s filesystem has less than `needed` bytes free.
pub fn check_free(path: &Path, needed: u64) -> Result<(), BuildError> {
    let out = duct::cmd!("df", "-Pk", path).stdout_capture().stderr_null().run().map_err(BuildError::command("df"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kib = parse_df_available_kib(&text).ok_or_else(|| BuildError::Command {
        command: format!("df -Pk {}", path.display()),
        detail: format!("unexpected output {text:?}"),
    })?;
    let available = kib.saturating_mul(1024);
    if available < needed {
        return Err(BuildError::DiskSpace {
            path: path.to_path_buf(),
            available_mib: available >> 20,
            needed_mib: needed >> 20,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_df() {
        let out = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                   /dev/vda         263174212 14000000  81000000      15% /\n";
        assert_eq!(parse_df_available_kib(out), Some(81_000_000));
        assert_eq!(parse_df_available_kib("garbage"), None);
    }

    #[test]
    fn too_little_space_is_an_error() {
        let err = check_free(Path::new("/"), u64::MAX).expect_err("nobody has that much");
        assert!(err.to_string().contains("not enough disk space"), "{err}");
    }
}
