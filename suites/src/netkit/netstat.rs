//! Counters of /proc/net/netstat (per network namespace): a header line `Prefix: names…` then
//! `Prefix: values…`, e.g. TcpExt BusyPollRxPackets (net/ipv4/proc.c), which every busy-poll
//! pass that received packets adds to, for every protocol (net/core/dev.c __napi_busy_loop).

use super::netns::NetNs;
use super::NetError;

/// The counter `name` of row `prefix` in /proc/net/netstat text.
pub fn netstat_value(text: &str, prefix: &str, name: &str) -> Option<u64> {
    let tag = format!("{prefix}:");
    let mut rows = text.lines().filter(|l| l.starts_with(&tag));
    let names = rows.next()?.split_whitespace().skip(1);
    let values = rows.next()?.split_whitespace().skip(1);
    names.zip(values).find(|(n, _)| *n == name).and_then(|(_, v)| v.parse().ok())
}

/// TcpExt BusyPollRxPackets in netstat text (`None` on kernels without the counter).
pub fn busy_poll_rx_packets(text: &str) -> Option<u64> {
    netstat_value(text, "TcpExt", "BusyPollRxPackets")
}

/// Packets NAPI busy polling delivered in `ns` so far (0 without the counter).
pub fn busy_polled(ns: &NetNs) -> Result<u64, NetError> {
    ns.try_run(|| {
        let text = std::fs::read_to_string("/proc/thread-self/net/netstat")
            .map_err(NetError::io("read /proc/thread-self/net/netstat"))?;
        Ok(busy_poll_rx_packets(&text).unwrap_or(0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netstat_counter_by_name() {
        let text =
            "TcpExt: SyncookiesSent BusyPollRxPackets TCPAutoCorking\nTcpExt: 0 417 3\nIpExt: InNoRoutes\nIpExt: 9\n";
        assert_eq!(netstat_value(text, "TcpExt", "BusyPollRxPackets"), Some(417));
        assert_eq!(busy_poll_rx_packets(text), Some(417));
        assert_eq!(netstat_value(text, "IpExt", "InNoRoutes"), Some(9));
        assert_eq!(netstat_value(text, "TcpExt", "Missing"), None);
        assert_eq!(netstat_value("", "TcpExt", "BusyPollRxPackets"), None);
    }
}
