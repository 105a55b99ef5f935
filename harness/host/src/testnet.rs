//! The host end of the guest's test network: two virtio-net NICs whose backends are multi_queue
//! taps on a bridge inside a private user+net namespace that dies with QEMU, or, when taps are
//! impossible here, a pair of connected unix datagram sockets (one queue each).
//!
//! Frames sent by NIC 0 cross the host bridge and enter NIC 1 through one of its RX virtqueues,
//! so every packet the guest receives went through a real virtio RX queue and its MSI-X vector.
//! Which queue a frame lands on is the host tun driver's choice (a symmetric flow hash, or the
//! queue the guest last sent that flow on); the guest steers flows by choosing ports (see the
//! suites' `netkit::steer`).

use crate::error::HostError;
use pollcheck_proto::boot::{NetBackend, NetParams, NIC_MACS};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Queue pairs per NIC when the user does not say.
pub const DEFAULT_QUEUES: u32 = 4;

/// tun's MAX_TAP_QUEUES (include/uapi/linux/if_tun.h): a multi_queue tap has at most 256 queues.
pub const MAX_QUEUES: u32 = 256;

/// Names inside the private namespace (it holds nothing else, so they cannot collide).
const TAPS: [&str; 2] = ["pctap0", "pctap1"];
const BRIDGE: &str = "pcbr0";

/// How the two NICs are connected on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// multi_queue taps on a bridge in a private user+net namespace.
    Tap,
    /// Connected unix datagram sockets: one queue, no namespace; `why` taps were impossible.
    Dgram { why: String },
}

/// The network a guest gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPlan {
    pub backend: Backend,
    /// Queue pairs per NIC (1 for the datagram backend).
    pub queues: u32,
}

impl NetPlan {
    /// The plan for `queues` queue pairs given whether taps work here.
    pub fn new(queues: u32, taps: Result<(), String>) -> Self {
        match taps {
            Ok(()) => Self { backend: Backend::Tap, queues },
            Err(why) => Self { backend: Backend::Dgram { why }, queues: 1 },
        }
    }

    /// One line for run headers and reports.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Tap => format!(
                "2 virtio-net NICs x {} queue pairs on multi_queue taps (private user+net namespace)",
                self.queues
            ),
            Backend::Dgram { why } => {
                format!("2 virtio-net NICs x 1 queue on unix datagram sockets (taps unavailable: {why})")
            }
        }
    }

    /// What the guest is told of it (on its kernel command line).
    pub fn params(&self) -> NetParams {
        let backend = match self.backend {
            Backend::Tap => NetBackend::Tap,
            Backend::Dgram { .. } => NetBackend::Dgram,
        };
        NetParams { backend, queues: self.queues }
    }
}

/// The queue count from `$POLLCHECK_QUEUES`, else [`DEFAULT_QUEUES`].
pub fn env_queues() -> Result<u32, HostError> {
    match std::env::var("POLLCHECK_QUEUES") {
        Err(_) => Ok(DEFAULT_QUEUES),
        Ok(v) => v.trim().parse().map_err(|_| {
            HostError::BadQueues(format!(
                "POLLCHECK_QUEUES is {v:?}, not a number: set it to a queue count (1 to {MAX_QUEUES})"
            ))
        }),
    }
}

/// Check a requested queue count against what the backends can have.
pub fn validate_queues(queues: u32) -> Result<u32, HostError> {
    if (1..=MAX_QUEUES).contains(&queues) {
        Ok(queues)
    } else {
        Err(HostError::BadQueues(format!(
            "a virtio-net NIC here can have 1 to {MAX_QUEUES} queue pairs (tun's MAX_TAP_QUEUES), not {queues}: \
             pass --queues between 1 and {MAX_QUEUES}"
        )))
    }
}

/// QEMU arguments for the two NICs; `dir` holds the datagram sockets.
pub fn nic_args(plan: &NetPlan, dir: &Path) -> Vec<String> {
    let mut args = Vec::new();
    for (i, mac) in NIC_MACS.iter().enumerate() {
        let id = format!("nic{i}");
        let (netdev, device) = match &plan.backend {
            Backend::Tap => (
                format!("tap,id={id},ifname={},script=no,downscript=no,queues={},vhost=off", TAPS[i], plan.queues),
                format!("virtio-net-pci,netdev={id},mac={mac},mq=on,vectors={}", 2 * plan.queues + 2),
            ),
            Backend::Dgram { .. } => {
                let sock = |n: usize| dir.join(format!("nic{n}.sock")).display().to_string();
                (
                    format!(
                        "dgram,id={id},local.type=unix,local.path={},remote.type=unix,remote.path={}",
                        sock(i),
                        sock(1 - i)
                    ),
                    format!("virtio-net-pci,netdev={id},mac={mac}"),
                )
            }
        };
        args.extend(["-netdev".to_owned(), netdev, "-device".to_owned(), device]);
    }
    args
}

/// The shell script run inside the private namespace before it becomes QEMU: two multi_queue
/// taps enslaved to a bridge, all up. `"$@"` is the QEMU command line.
pub fn namespace_script() -> String {
    let mut s = String::from("set -e\n");
    s.push_str(&format!("ip link add {BRIDGE} type bridge\n"));
    for tap in TAPS {
        s.push_str(&format!("ip tuntap add dev {tap} mode tap multi_queue\n"));
        s.push_str(&format!("ip link set {tap} master {BRIDGE} up\n"));
    }
    s.push_str(&format!("ip link set {BRIDGE} up\n"));
    s.push_str("exec \"$@\"\n");
    s
}

/// The program and arguments that start QEMU for `plan`: through `unshare -Urn` for taps (the
/// namespace, its bridge and taps vanish with the QEMU process), QEMU itself otherwise.
pub fn launch_command(qemu: &Path, qemu_args: &[String], plan: Option<&NetPlan>) -> (PathBuf, Vec<String>) {
    match plan.map(|p| &p.backend) {
        Some(Backend::Tap) => {
            let mut args: Vec<String> =
                ["-Urn", "sh", "-c", &namespace_script(), "pollcheck-net"].iter().map(|s| (*s).to_owned()).collect();
            args.push(qemu.display().to_string());
            args.extend(qemu_args.iter().cloned());
            (on_path("unshare").unwrap_or_else(|| PathBuf::from("/usr/bin/unshare")), args)
        }
        _ => (qemu.to_owned(), qemu_args.to_vec()),
    }
}

/// `name` found on $PATH (duct would run a bare relative path as `./name`).
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Whether multi_queue taps can be made here: try it in a throwaway private namespace.
/// `POLLCHECK_NET_BACKEND=dgram` forces the fallback (to test it, or where taps misbehave).
pub fn probe_taps() -> Result<(), String> {
    if std::env::var("POLLCHECK_NET_BACKEND").is_ok_and(|v| v == "dgram") {
        return Err("POLLCHECK_NET_BACKEND=dgram".into());
    }
    let out = Command::new("unshare")
        .args(["-Urn", "ip", "tuntap", "add", "dev", "pcprobe", "mode", "tap", "multi_queue"])
        .output()
        .map_err(|e| format!("failed to run unshare (util-linux): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let said = String::from_utf8_lossy(&out.stderr);
        Err(format!("`unshare -Urn ip tuntap add … multi_queue` failed: {}", said.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap(queues: u32) -> NetPlan {
        NetPlan::new(queues, Ok(()))
    }

    #[test]
    fn tap_nics_have_queues_and_vectors() {
        let a = nic_args(&tap(4), Path::new("/d"));
        insta::assert_snapshot!(a.join("\n"));
    }

    #[test]
    fn dgram_nics_cross_connect() {
        let plan = NetPlan::new(4, Err("no tun".into()));
        assert_eq!(plan.queues, 1);
        let a = nic_args(&plan, Path::new("/d"));
        assert!(a[1].contains("local.path=/d/nic0.sock") && a[1].contains("remote.path=/d/nic1.sock"));
        assert!(a[5].contains("local.path=/d/nic1.sock") && a[5].contains("remote.path=/d/nic0.sock"));
        assert!(plan.describe().contains("taps unavailable: no tun"));
        assert_eq!(plan.params(), NetParams { backend: NetBackend::Dgram, queues: 1 });
    }

    #[test]
    fn tap_launch_goes_through_unshare_and_ends_in_qemu() {
        let plan = tap(2);
        let (prog, args) = launch_command(Path::new("/usr/bin/qemu"), &["-m".into(), "64".into()], Some(&plan));
        assert!(prog.ends_with("unshare"), "{}", prog.display());
        assert_eq!(&args[..3], &["-Urn", "sh", "-c"]);
        assert!(args[3].ends_with("exec \"$@\"\n"));
        assert_eq!(&args[4..], &["pollcheck-net", "/usr/bin/qemu", "-m", "64"]);
        let (prog, args) = launch_command(Path::new("/usr/bin/qemu"), &["-m".into()], None);
        assert_eq!((prog, args), (PathBuf::from("/usr/bin/qemu"), vec!["-m".to_owned()]));
    }

    #[test]
    fn queue_counts_are_bounded() {
        assert!(validate_queues(1).is_ok() && validate_queues(256).is_ok());
        for bad in [0, 257] {
            let e = validate_queues(bad).expect_err("out of range").to_string();
            assert!(e.contains("1 to 256") && e.contains(&bad.to_string()), "{e}");
        }
    }
}
