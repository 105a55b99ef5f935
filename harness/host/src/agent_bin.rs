//! The static guest agent: where it is, building it when needed, and asking it for its cases.

use crate::error::HostError;
use pollcheck_proto::boot::{self, CaseList};
use pollcheck_proto::{CaseMeta, PROTOCOL_VERSION};
use std::path::{Path, PathBuf};

/// The workspace this host library was built in (the agent is built from the same sources).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The agent binary: `$POLLCHECK_AGENT` if set, else built (statically, for the guest) from
/// this workspace into `target/guest` — cargo makes that a no-op when nothing changed. The
/// agent goes without debug info (symbols stay, for backtraces): the guest unpacks and maps
/// every byte of the initramfs, and the agent with line tables is 19.5 MB against 3.9 MB; a
/// Debian 7.3 boot to the agent's first word took a median 4.87 s with them and 4.56 s without
/// (9 alternating pairs of the same QEMU command by hand; median ratio 0.94, 0.78–1.04).
pub fn agent_path() -> Result<PathBuf, HostError> {
    if let Some(p) = std::env::var_os("POLLCHECK_AGENT") {
        return Ok(PathBuf::from(p));
    }
    let root = workspace_root();
    if !root.join("Cargo.toml").is_file() {
        return Err(HostError::WorkspaceGone(root));
    }
    let target_dir = root.join("target/guest");
    let args = build_args(&target_dir);
    let command = format!("cargo {}", args.join(" "));
    let out = duct::cmd("cargo", &args)
        .dir(&root)
        .env("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS", AGENT_RUSTFLAGS)
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

/// Static, so that the initramfs needs no libc; without debug info (see [`agent_path`]).
pub const AGENT_RUSTFLAGS: &str = "-C target-feature=+crt-static -C strip=debuginfo";

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

/// The agent's cases, asked from the binary itself (its list flag), without booting anything.
/// An agent of another protocol version is refused here, before any guest boots.
pub fn list_cases(agent: &Path) -> Result<Vec<CaseMeta>, HostError> {
    let out = duct::cmd(agent, [boot::LIST_FLAG])
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| HostError::AgentList(format!("failed to run {}: {e}", agent.display())))?;
    if !out.status.success() {
        return Err(HostError::AgentList(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    parse_list(agent, &out.stdout)
}

/// The cases of an agent's list output, if it speaks this host's protocol (pure).
pub fn parse_list(agent: &Path, json: &[u8]) -> Result<Vec<CaseMeta>, HostError> {
    #[derive(serde::Deserialize)]
    struct Version {
        protocol: u32,
    }
    let mismatch = |got| HostError::ProtocolMismatch { agent: agent.to_owned(), got, want: PROTOCOL_VERSION };
    match serde_json::from_slice::<Version>(json) {
        Ok(v) if v.protocol != PROTOCOL_VERSION => return Err(mismatch(v.protocol)),
        Ok(_) => {}
        // Version 1 agents printed a bare array of cases.
        Err(_) if json.first() == Some(&b'[') => return Err(mismatch(1)),
        Err(e) => return Err(HostError::AgentList(format!("failed to parse the case list: {e}"))),
    }
    let list: CaseList = serde_json::from_slice(json)
        .map_err(|e| HostError::AgentList(format!("failed to parse the case list: {e}")))?;
    Ok(list.cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_of_another_protocol_is_one_clear_error() {
        let agent = Path::new("/a/pollcheck-agent");
        let ok = format!("{{\"protocol\":{PROTOCOL_VERSION},\"cases\":[]}}");
        assert!(parse_list(agent, ok.as_bytes()).expect("parses").is_empty());
        let newer = parse_list(agent, b"{\"protocol\":99,\"cases\":[]}").expect_err("refused").to_string();
        assert!(newer.contains("speaks protocol 99, this host speaks"), "{newer}");
        let old = parse_list(agent, b"[]").expect_err("refused").to_string();
        assert!(old.contains("speaks protocol 1"), "{old}");
        assert!(parse_list(agent, b"garbage").is_err());
    }
}
