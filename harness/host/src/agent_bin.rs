//! The static guest agent: where it is, building it when needed, and asking it for its cases.

use crate::error::HostError;
use pollcheck_proto::CaseMeta;
use std::path::{Path, PathBuf};

/// The workspace this host library was built in (the agent is built from the same sources).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The agent binary: `$POLLCHECK_AGENT` if set, else built (statically, for the guest) from
/// this workspace into `target/guest` — cargo makes that a no-op when nothing changed.
pub fn agent_path() -> Result<PathBuf, HostError> {
    if let Some(p) = std::env::var_os("POLLCHECK_AGENT") {
        return Ok(PathBuf::from(p));
    }
    let root = workspace_root();
    let target_dir = root.join("target/guest");
    let args = build_args(&target_dir);
    let command = format!("cargo {}", args.join(" "));
    let out = duct::cmd("cargo", &args)
        .dir(&root)
        .env("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS", "-C target-feature=+crt-static")
        .env_remove("RUSTFLAGS")
        .stdout_null()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => HostError::CargoMissing,
            _ => HostError::AgentBuild { command: command.clone(), detail: e.to_string() },
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(HostError::AgentBuild { command, detail: tail.join("\n") });
    }
    Ok(target_dir.join("x86_64-unknown-linux-gnu/release/pollcheck-agent"))
}

/// `cargo` arguments that build the static agent (pure, for tests).
pub fn build_args(target_dir: &Path) -> Vec<String> {
    [
        "build",
        "--release",
        "--quiet",
        "-p",
        "pollcheck-suites",
        "--bin",
        "pollcheck-agent",
        "--target",
        "x86_64-unknown-linux-gnu",
        "--target-dir",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([target_dir.display().to_string()])
    .collect()
}

/// The agent's cases, asked from the binary itself (`--list-json`), without booting anything.
pub fn list_cases(agent: &Path) -> Result<Vec<CaseMeta>, HostError> {
    let out = duct::cmd(agent, ["--list-json"])
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| HostError::AgentList(format!("failed to run {}: {e}", agent.display())))?;
    if !out.status.success() {
        return Err(HostError::AgentList(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| HostError::AgentList(format!("failed to parse the case list: {e}")))
}
