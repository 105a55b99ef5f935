//! napi_threaded: threaded NAPI and threaded busy-poll (seed 002; napi.rst "Threaded NAPI" and
//! "Threaded NAPI busy polling"): the per-NAPI `threaded` attribute over netlink (6.17+, busy-poll
//! 6.19+), its kthread, the device-level sysfs switch, and what busy-poll mode does to CPU time,
//! interrupts and the data. Kernels without per-NAPI threaded or without busy-poll mode Skip,
//! detected from the kernel's own answers.

mod data;
mod kthread;
mod kthread_life;
mod mode;
mod payload;
mod probe;
mod round_trip;
mod spin;
mod sysfs;

use crate::netkit::Kind;
use pollcheck_guest::{Case, CaseResult, Ctx};

pub const SUITE: &str = "napi_threaded";

type CaseFn = fn(&mut Ctx<'_>) -> CaseResult;

/// (name, summary, variants, guest CPUs needed, timeout in ms, agent probes that must say yes,
/// function).
type Row = (&'static str, &'static str, &'static [Kind], u32, u64, &'static [&'static str], CaseFn);

/// The probes that let the host Skip these cases without booting their guest.
pub const PROBES: &[pollcheck_guest::Probe] = &[probe::PER_NAPI, probe::BUSY_POLL];
const THREADED: &[&str] = &[probe::PER_NAPI.name];
const BUSY_POLL: &[&str] = &[probe::PER_NAPI.name, probe::BUSY_POLL.name];

const BOTH: &[Kind] = &[Kind::Virtio, Kind::Netdevsim];

const CASES: &[Row] = &[
    (
        "round_trip",
        "napi-set threaded disabled/enabled on each NAPI reads back from napi-get, with a kthread pid exactly while threaded; other NAPIs untouched",
        BOTH,
        0,
        30_000,
        THREADED,
        round_trip::round_trip,
    ),
    (
        "busy_poll_round_trip",
        "threaded = busy-poll reads back with a pid; busy-poll <-> enabled keeps the kthread; disabled drops the pid",
        BOTH,
        0,
        30_000,
        BUSY_POLL,
        round_trip::busy_poll_round_trip,
    ),
    (
        "kthread",
        "a threaded NAPI's pid is a kernel thread named napi/<dev>-<napi id> (child of kthreadd); disabling stops it",
        BOTH,
        0,
        30_000,
        THREADED,
        kthread_life::kthread,
    ),
    (
        "sysfs",
        "/sys/class/net/<dev>/threaded 1/0 sets every NAPI (overriding per-NAPI busy-poll) and reads back; 2 is refused; napi-set leaves it alone",
        BOTH,
        0,
        30_000,
        THREADED,
        sysfs::sysfs,
    ),
    (
        "busy_poll_spin",
        "a busy-poll kthread uses about 100% of a CPU with no traffic, and datagrams arrive while the queue's IRQ stays quiet (enabled mode raises it)",
        BOTH,
        2,
        60_000,
        BUSY_POLL,
        spin::busy_poll_spin,
    ),
    (
        "busy_poll_stop",
        "switching busy-poll to enabled keeps the kthread but it sleeps (CPU ~0); switching to disabled makes it exit",
        BOTH,
        2,
        60_000,
        BUSY_POLL,
        spin::busy_poll_stop,
    ),
    (
        "data_intact",
        "a 1 MiB TCP stream and 1000 self-checking datagrams arrive intact in disabled, enabled and busy-poll mode",
        BOTH,
        2,
        90_000,
        THREADED,
        data::data_intact,
    ),
];

pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for &(name, summary, kinds, cpus, timeout_ms, probes, run) in CASES {
        for &kind in kinds {
            let mut meta = crate::net::meta(SUITE, name, summary, kind);
            meta.requires.cpus = cpus;
            meta.timeout_ms = timeout_ms;
            meta.requires.probes = probes.iter().map(|p| (*p).to_owned()).collect();
            // Threaded modes (a busy-poll kthread spins until disabled), restored by a guard.
            meta.mutates_global = true;
            out.push(Case { meta, run });
        }
    }
    out
}
