//! napi_threaded: threaded NAPI and threaded busy-poll ("[PATCH net-next v10 0/2] Add support to
//! do threaded napi busy poll", Samiullah Khawaja, 2025-10; napi.rst "Threaded NAPI" and
//! "Threaded NAPI busy polling"): the per-NAPI `threaded` attribute over netlink (6.17+, busy-poll
//! 6.19+), its kthread, the device-level sysfs switch, and what busy-poll mode does to CPU time,
//! interrupts and the data. Kernels without per-NAPI threaded or without busy-poll mode Skip, as
//! napi-set's attribute policy shows it (no `threaded`, or `threaded` capped at 1); a kernel whose
//! policy has them and whose napi-get or napi-set does not live up to it FAILs.

mod data;
pub(crate) mod kthread;
mod kthread_life;
pub(crate) mod mode;
mod persist;
mod probe;
mod range;
mod round_trip;
mod spin;
mod sysfs;

use crate::netkit::Kind;
use pollcheck_guest::{Case, CaseBuilder, CaseResult, Ctx};
use pollcheck_proto::Feature;
use std::time::Duration;

pub const SUITE: &str = "napi_threaded";

/// The probes that let the host Skip these cases without booting their guest.
pub const PROBES: &[pollcheck_guest::Probe] = &[probe::PER_NAPI, probe::BUSY_POLL];
const THREADED: &[&str] = &[probe::PER_NAPI.name];
const BUSY_POLL: &[&str] = &[probe::PER_NAPI.name, probe::BUSY_POLL.name];

const BOTH: &[Kind] = &[Kind::Virtio, Kind::Netdevsim];

/// A napi_threaded case on both topologies, needing the agent's `probes` to say yes.
fn case(name: &str, summary: &str, probes: &[&str], run: fn(&mut Ctx<'_>, Kind) -> CaseResult) -> CaseBuilder {
    Case::with_variants(SUITE, name, summary, BOTH, run)
        .features(&[Feature::NapiThreaded])
        .probes(probes)
        .timeout(Duration::from_secs(30))
        // Threaded modes (a busy-poll kthread spins until disabled), restored by a guard.
        .mutates_global()
}

pub fn cases() -> Vec<Case> {
    pollcheck_guest::collect([
        case(
            "round_trip",
            "napi-set threaded disabled/enabled on each NAPI reads back from napi-get, with a kthread pid exactly while threaded; other NAPIs untouched",
            THREADED,
            round_trip::round_trip,
        ),
        case(
            "busy_poll_round_trip",
            "threaded = busy-poll reads back with a pid; busy-poll <-> enabled keeps the kthread; disabled drops the pid",
            BUSY_POLL,
            round_trip::busy_poll_round_trip,
        )
        .features(&[Feature::ThreadedBusyPoll]),
        case(
            "persist",
            "threaded = enabled set on two NAPIs reads back, with a kthread pid, after ip link set down/up and after ethtool -L combined 1 then back; the other NAPIs stay disabled",
            THREADED,
            persist::persist,
        )
        .timeout(Duration::from_secs(60)),
        case(
            "busy_poll_persist",
            "threaded = busy-poll on one NAPI (enabled on another) reads back, with a kthread pid, after ip link set down/up and after ethtool -L combined 1 then back; disabled again at the end",
            BUSY_POLL,
            persist::busy_poll_persist,
        )
        .features(&[Feature::ThreadedBusyPoll])
        .timeout(Duration::from_secs(60)),
        case(
            "threaded_range",
            "napi-set threaded above the policy's maximum (2 with busy-poll, else 1: 3, 256, u32::MAX) is ERANGE with the extack 'integer out of range', and the NAPI stays disabled",
            THREADED,
            range::threaded_range,
        ),
        case(
            "kthread",
            "a threaded NAPI's pid is a kernel thread named napi/<dev>-<napi id> (child of kthreadd); disabling stops it",
            THREADED,
            kthread_life::kthread,
        ),
        case(
            "sysfs",
            "/sys/class/net/<dev>/threaded 1/0 sets every NAPI (overriding per-NAPI busy-poll) and reads back; 2 is refused; napi-set leaves it alone",
            THREADED,
            sysfs::sysfs,
        )
        .features(&[Feature::ThreadedSysfs]),
        case(
            "busy_poll_spin",
            "a busy-poll kthread uses about 100% of a CPU with no traffic, and datagrams arrive while the queue's IRQ stays quiet (enabled mode raises it)",
            BUSY_POLL,
            spin::busy_poll_spin,
        )
        .features(&[Feature::ThreadedBusyPoll])
        .cpus(2)
        .timeout(Duration::from_secs(60)),
        case(
            "busy_poll_stop",
            "switching busy-poll to enabled keeps the kthread but it sleeps (CPU ~0); switching to disabled makes it exit",
            BUSY_POLL,
            spin::busy_poll_stop,
        )
        .features(&[Feature::ThreadedBusyPoll])
        .cpus(2)
        .timeout(Duration::from_secs(60)),
        case(
            "data_intact",
            "a 1 MiB TCP stream and 1000 self-checking datagrams arrive intact in disabled, enabled and busy-poll mode",
            THREADED,
            data::data_intact,
        )
        .cpus(2)
        .timeout(Duration::from_secs(90)),
    ])
}
