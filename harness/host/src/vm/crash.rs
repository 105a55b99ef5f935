//! Recognising kernel trouble on the console: panic, Oops, BUG, WARNING, hung task, stalls.

use regex::RegexSet;
use std::sync::OnceLock;

/// What kind of splat a console line starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Splat {
    Panic,
    Oops,
    Bug,
    Warning,
    HungTask,
    Stall,
}

impl Splat {
    /// Whether the kernel goes on after this (so the case may still finish).
    pub fn is_fatal(self) -> bool {
        matches!(self, Splat::Panic)
    }

    /// Whether the guest can't be trusted with another case after this (panic, Oops, BUG).
    pub fn ends_guest(self) -> bool {
        matches!(self, Splat::Panic | Splat::Oops | Splat::Bug)
    }
}

const PATTERNS: &[(&str, Splat)] = &[
    (r"Kernel panic - not syncing", Splat::Panic),
    (r"\bOops(: |\[#)", Splat::Oops),
    (r"general protection fault", Splat::Oops),
    (r"\bBUG: ", Splat::Bug),
    (r"kernel BUG at ", Splat::Bug),
    (r"WARNING: (CPU: \d+ PID: \d+|.* at .*\+0x)", Splat::Warning),
    (r"INFO: task .* blocked for more than \d+ seconds", Splat::HungTask),
    (r"rcu: INFO: rcu_\w+ (self-)?detected stall", Splat::Stall),
];

fn set() -> &'static RegexSet {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| RegexSet::new(PATTERNS.iter().map(|(p, _)| *p)).unwrap_or_else(|_| RegexSet::empty()))
}

/// The splat this console line announces, if any.
pub fn classify(line: &str) -> Option<Splat> {
    set().matches(line).iter().next().map(|i| PATTERNS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("[    3.1] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100", Some(Splat::Panic))]
    #[case("[   12.0] Oops: general protection fault, probably for non-canonical address", Some(Splat::Oops))]
    #[case("[    5.5] BUG: kernel NULL pointer dereference, address: 0000000000000000", Some(Splat::Bug))]
    #[case("[    5.5] kernel BUG at fs/eventpoll.c:812!", Some(Splat::Bug))]
    #[case(
        "[    9.2] WARNING: CPU: 1 PID: 73 at net/core/dev.c:6890 napi_complete_done+0x1c/0x1d0",
        Some(Splat::Warning)
    )]
    #[case("[  122.0] INFO: task kworker/0:1:23 blocked for more than 120 seconds.", Some(Splat::HungTask))]
    #[case("[   30.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", Some(Splat::Stall))]
    #[case("[    0.1] ACPI BIOS Warning (bug): Incorrect checksum in table", None)]
    #[case("[    1.0] Run /init as init process", None)]
    #[case("[    2.0] virtio_net virtio0 eth0: renamed from eth0", None)]
    fn classifies_console_lines(#[case] line: &str, #[case] want: Option<Splat>) {
        assert_eq!(classify(line), want);
    }
}
