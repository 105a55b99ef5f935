//! Interrupt and softirq counters: per-IRQ counts from /proc/interrupts (summed over CPUs, found
//! by the action name a driver gave, e.g. `virtio1-input.2`), and NET_RX from /proc/softirqs.

use super::NetError;
use std::collections::BTreeMap;
use std::fs;

/// One line of /proc/interrupts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrqLine {
    /// The IRQ number (numeric lines only; NMI, LOC, … are left out).
    pub irq: u32,
    /// Count summed over all CPUs.
    pub count: u64,
    /// The action (device) name: the last word of the line.
    pub name: String,
}

/// Parse /proc/interrupts text: a header of CPU columns, then `N: c0 c1 … chip hwirq type name`.
pub fn parse_interrupts(text: &str) -> Vec<IrqLine> {
    let mut lines = text.lines();
    let cpus = lines.next().map(|h| h.split_whitespace().count()).unwrap_or(0);
    lines
        .filter_map(|l| {
            let (num, rest) = l.split_once(':')?;
            let irq = num.trim().parse().ok()?;
            let words: Vec<&str> = rest.split_whitespace().collect();
            let count = words.iter().take(cpus).map(|w| w.parse::<u64>().unwrap_or(0)).sum();
            let name = if words.len() > cpus {
                words.last().map(|s| (*s).to_owned()).unwrap_or_default()
            } else {
                String::new()
            };
            Some(IrqLine { irq, count, name })
        })
        .collect()
}

/// Parse the NET_RX line of /proc/softirqs: one count per CPU.
pub fn parse_net_rx(text: &str) -> Vec<u64> {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix("NET_RX:"))
        .map(|rest| rest.split_whitespace().filter_map(|w| w.parse().ok()).collect())
        .unwrap_or_default()
}

/// A snapshot of every numbered IRQ's count.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IrqCounts(pub BTreeMap<u32, u64>);

impl IrqCounts {
    pub fn read() -> Result<Self, NetError> {
        let text = fs::read_to_string("/proc/interrupts").map_err(NetError::io("read /proc/interrupts"))?;
        Ok(Self(parse_interrupts(&text).into_iter().map(|l| (l.irq, l.count)).collect()))
    }

    /// How much `irq` grew since `before`.
    pub fn delta(&self, before: &IrqCounts, irq: u32) -> u64 {
        self.0.get(&irq).copied().unwrap_or(0).saturating_sub(before.0.get(&irq).copied().unwrap_or(0))
    }
}

/// The IRQ whose action is named exactly `name`.
pub fn irq_named(name: &str) -> Result<Option<u32>, NetError> {
    let text = fs::read_to_string("/proc/interrupts").map_err(NetError::io("read /proc/interrupts"))?;
    Ok(parse_interrupts(&text).into_iter().find(|l| l.name == name).map(|l| l.irq))
}

/// NET_RX softirqs so far, summed over CPUs.
pub fn net_rx_total() -> Result<u64, NetError> {
    let text = fs::read_to_string("/proc/softirqs").map_err(NetError::io("read /proc/softirqs"))?;
    Ok(parse_net_rx(&text).iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERRUPTS: &str = "           CPU0       CPU1       
  0:         40          0   IO-APIC   2-edge      timer
 24:          0          0  PCI-MSIX-0000:00:02.0   0-edge      virtio0-config
 25:        117          3  PCI-MSIX-0000:00:02.0   1-edge      virtio0-input.0
 26:          5          0  PCI-MSIX-0000:00:02.0   2-edge      virtio0-output.0
NMI:          0          0   Non-maskable interrupts
LOC:       3051       2788   Local timer interrupts
ERR:          0
";

    #[test]
    fn interrupts_sum_cpus_and_keep_names() {
        let lines = parse_interrupts(INTERRUPTS);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2], IrqLine { irq: 25, count: 120, name: "virtio0-input.0".into() });
        assert_eq!(lines[0].name, "timer");
    }

    #[test]
    fn net_rx_per_cpu() {
        let text = "                    CPU0       CPU1\n          HI:          1          0\n      NET_TX:          2          0\n      NET_RX:        310         12\n";
        assert_eq!(parse_net_rx(text), vec![310, 12]);
        assert!(parse_net_rx("nothing\n").is_empty());
    }
}
