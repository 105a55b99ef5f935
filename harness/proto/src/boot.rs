//! How the host starts a guest, spelled once for both sides: the kernel command-line words the
//! agent reads, the test network's NIC addresses, the initramfs layout and the agent's list flag.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The agent's command-line flag that prints its [`CaseList`] as JSON instead of running.
pub const LIST_FLAG: &str = "--list-json";

/// Path of the agent inside the initramfs (the kernel runs it as PID 1 with `rdinit=/init`).
pub const INIT: &str = "init";
/// Directory of the kernel modules the host packs.
pub const MODULES_DIR: &str = "modules";
/// File in [`MODULES_DIR`] listing the module files to load, one per line, dependencies first.
pub const MODULE_ORDER: &str = "modules/order";

/// The result channel's device in the guest: the second UART.
pub const CHANNEL_DEVICE: &str = "/dev/ttyS1";

/// Guest MAC addresses of the test network's NIC 0 and NIC 1 (locally administered QEMU range).
pub const NIC_MACS: [&str; 2] = ["52:54:00:50:43:00", "52:54:00:50:43:01"];

const CHANNEL_KEY: &str = "pollcheck.channel";
const NET_KEY: &str = "pollcheck.net";

/// What the agent prints for [`LIST_FLAG`]: its protocol version and its cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseList {
    pub protocol: u32,
    pub cases: Vec<crate::CaseMeta>,
}

/// How the host joined the two test-network NICs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetBackend {
    /// multi_queue taps on a bridge in a private user+net namespace.
    Tap,
    /// Connected unix datagram sockets, one queue.
    Dgram,
}

/// The test network as the guest learns it from its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetParams {
    pub backend: NetBackend,
    /// Queue pairs per NIC.
    pub queues: u32,
}

/// Everything the host tells the agent on the kernel command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootParams {
    /// Where the result channel is.
    pub channel: String,
    /// The test network, when the host attached one.
    pub net: Option<NetParams>,
}

impl Default for BootParams {
    fn default() -> Self {
        Self { channel: CHANNEL_DEVICE.to_owned(), net: None }
    }
}

impl fmt::Display for NetBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetBackend::Tap => "tap",
            NetBackend::Dgram => "dgram",
        })
    }
}

impl BootParams {
    /// The command-line words (host side).
    pub fn words(&self) -> Vec<String> {
        let mut out = vec![format!("{CHANNEL_KEY}={}", self.channel)];
        if let Some(n) = self.net {
            out.push(format!("{NET_KEY}={},{}", n.backend, n.queues));
        }
        out
    }

    /// Read them back from `/proc/cmdline` text (guest side); words it doesn't know are ignored.
    pub fn parse(cmdline: &str) -> Self {
        let value = |key: &str| {
            cmdline.split_whitespace().find_map(|w| w.strip_prefix(key)?.strip_prefix('=').map(str::to_owned))
        };
        let net = value(NET_KEY).and_then(|v| {
            let (backend, queues) = v.split_once(',')?;
            let backend = match backend {
                "tap" => NetBackend::Tap,
                "dgram" => NetBackend::Dgram,
                _ => return None,
            };
            Some(NetParams { backend, queues: queues.parse().ok()? })
        });
        Self { channel: value(CHANNEL_KEY).unwrap_or_else(|| CHANNEL_DEVICE.to_owned()), net }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_back() {
        let p =
            BootParams { channel: "/dev/ttyS1".into(), net: Some(NetParams { backend: NetBackend::Tap, queues: 4 }) };
        let line = format!("console=ttyS0 {} quiet", p.words().join(" "));
        assert_eq!(line, "console=ttyS0 pollcheck.channel=/dev/ttyS1 pollcheck.net=tap,4 quiet");
        assert_eq!(BootParams::parse(&line), p);
    }

    #[test]
    fn missing_or_malformed_words_fall_back() {
        assert_eq!(BootParams::parse("quiet"), BootParams::default());
        assert_eq!(BootParams::parse("pollcheck.net=tap,x pollcheck.channelx=/y").net, None);
        assert_eq!(BootParams::parse("pollcheck.net=vde,2").net, None);
        let dgram = BootParams::parse("pollcheck.net=dgram,1").net;
        assert_eq!(dgram, Some(NetParams { backend: NetBackend::Dgram, queues: 1 }));
    }
}
