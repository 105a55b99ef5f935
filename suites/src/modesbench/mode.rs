//! The packet-delivery modes and what each sets, as the two series' benchmarks configured them:
//! the IRQ suspension cover letter ("net: Suspend softirq when prefer_busy_poll is set", v1,
//! 2024: base, deferX, napibusy, fullbusy, suspendX with memcached) and the threaded busy-poll
//! cover letter ("Add support to do threaded napi busy poll", v10, 2025: interrupts only,
//! SO_BUSYPOLL inline, SO_BUSYPOLL on a separate thread, NAPI threaded busy-poll).

use crate::netkit::Kind;
use pollcheck_guest::Variant;
use pollcheck_proto::CaseMeta;

/// One delivery mode; `Defer(x)` and `Suspend(x)` carry gro-flush-timeout in µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Base,
    Defer(u32),
    NapiBusy,
    FullBusy,
    Suspend(u32),
    Threaded,
    SoBusyPoll,
    SoBusyPollThread,
}

/// Per-epoll busy-poll parameters (EPIOCSPARAMS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpollBusy {
    pub usecs: u32,
    pub budget: u16,
    pub prefer: bool,
}

/// How the server waits for requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// epoll_wait, then drain the socket; `timeout_ms` None blocks.
    Epoll { timeout_ms: Option<u32> },
    /// Blocking recv() on the socket itself (SO_BUSY_POLL spins inside it).
    Recv,
    /// Blocking epoll_wait as `Epoll`, with a second thread that keeps calling a non-blocking
    /// recv(MSG_PEEK) on the socket, each of which busy polls its NAPI once.
    EpollWithPoller,
}

/// Everything a mode sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub defer_hard_irqs: u32,
    pub gro_flush_timeout_ns: u64,
    /// irq-suspend-timeout, ns (suspend modes only).
    pub irq_suspend_timeout_ns: Option<u64>,
    /// napi-set threaded = busy-poll on the NAPI.
    pub threaded_busy_poll: bool,
    pub epoll: Option<EpollBusy>,
    /// SO_BUSY_POLL µs, with SO_PREFER_BUSY_POLL, on the server socket.
    pub so_busy_poll_us: Option<u32>,
    pub server: Server,
}

const BLOCKING: Server = Server::Epoll { timeout_ms: None };
/// The threaded busy-poll cover letter's script: defer 100, gro-flush-timeout 15 µs, SO_BUSYPOLL 400 µs.
const KHAWAJA_GRO_NS: u64 = 15_000;
const KHAWAJA_BUSY_US: u32 = 400;

impl Mode {
    /// Every mode a case exists for: the suspension letter's X values (10, 20, 50, 200 µs).
    pub const ALL: [Mode; 14] = [
        Mode::Base,
        Mode::Defer(10),
        Mode::Defer(20),
        Mode::Defer(50),
        Mode::Defer(200),
        Mode::NapiBusy,
        Mode::FullBusy,
        Mode::Suspend(10),
        Mode::Suspend(20),
        Mode::Suspend(50),
        Mode::Suspend(200),
        Mode::Threaded,
        Mode::SoBusyPoll,
        Mode::SoBusyPollThread,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Base => "base",
            Mode::Defer(10) => "defer10",
            Mode::Defer(20) => "defer20",
            Mode::Defer(50) => "defer50",
            Mode::Defer(_) => "defer200",
            Mode::NapiBusy => "napibusy",
            Mode::FullBusy => "fullbusy",
            Mode::Suspend(10) => "suspend10",
            Mode::Suspend(20) => "suspend20",
            Mode::Suspend(50) => "suspend50",
            Mode::Suspend(_) => "suspend200",
            Mode::Threaded => "threaded",
            Mode::SoBusyPoll => "so_busy_poll",
            Mode::SoBusyPollThread => "so_busy_poll_thread",
        }
    }

    pub fn config(self) -> Config {
        let plain = Config {
            defer_hard_irqs: 0,
            gro_flush_timeout_ns: 0,
            irq_suspend_timeout_ns: None,
            threaded_busy_poll: false,
            epoll: None,
            so_busy_poll_us: None,
            server: BLOCKING,
        };
        let deferred = |gro_ns: u64| Config { defer_hard_irqs: 100, gro_flush_timeout_ns: gro_ns, ..plain };
        let busy = |usecs| Some(EpollBusy { usecs, budget: 64, prefer: true });
        match self {
            Mode::Base => plain,
            Mode::Defer(x) => deferred(u64::from(x) * 1000),
            Mode::NapiBusy => Config { epoll: busy(64), ..deferred(200_000) },
            // libevent's non-blocking epoll_wait turned into a 1 ms timeout, as the letter did.
            Mode::FullBusy => {
                Config { epoll: busy(1000), server: Server::Epoll { timeout_ms: Some(1) }, ..deferred(5_000_000) }
            }
            Mode::Suspend(x) => {
                Config { irq_suspend_timeout_ns: Some(20_000_000), epoll: busy(0), ..deferred(u64::from(x) * 1000) }
            }
            Mode::Threaded => Config { threaded_busy_poll: true, ..deferred(KHAWAJA_GRO_NS) },
            Mode::SoBusyPoll => {
                Config { so_busy_poll_us: Some(KHAWAJA_BUSY_US), server: Server::Recv, ..deferred(KHAWAJA_GRO_NS) }
            }
            Mode::SoBusyPollThread => Config {
                so_busy_poll_us: Some(KHAWAJA_BUSY_US),
                server: Server::EpollWithPoller,
                ..deferred(KHAWAJA_GRO_NS)
            },
        }
    }
}

impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "defer-hard-irqs {}, gro-flush-timeout {} ns", self.defer_hard_irqs, self.gro_flush_timeout_ns)?;
        if let Some(ns) = self.irq_suspend_timeout_ns {
            write!(f, ", irq-suspend-timeout {ns} ns")?;
        }
        if self.threaded_busy_poll {
            f.write_str(", threaded busy-poll")?;
        }
        if let Some(e) = self.epoll {
            write!(f, ", EPIOCSPARAMS busy_poll_usecs {} budget {} prefer {}", e.usecs, e.budget, u8::from(e.prefer))?;
        }
        if let Some(us) = self.so_busy_poll_us {
            write!(f, ", SO_BUSY_POLL {us} µs + SO_PREFER_BUSY_POLL")?;
        }
        match self.server {
            Server::Epoll { timeout_ms: None } => f.write_str(", blocking epoll_wait"),
            Server::Epoll { timeout_ms: Some(ms) } => write!(f, ", epoll_wait with a {ms} ms timeout"),
            Server::Recv => f.write_str(", blocking recv"),
            Server::EpollWithPoller => f.write_str(", blocking epoll_wait + a recv(MSG_PEEK) poller thread"),
        }
    }
}

/// A mode case runs on the virtio test network (its queue's MSI-X vector is what it counts).
impl Variant for Mode {
    fn name(self) -> &'static str {
        Mode::name(self)
    }

    fn apply(self, meta: &mut CaseMeta) {
        Kind::Virtio.apply(meta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip_the_letters_x() {
        let names: Vec<&str> = Mode::ALL.iter().map(|m| m.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "{names:?}");
        assert!(names.contains(&"defer20") && names.contains(&"suspend200"));
    }

    #[test]
    fn each_mode_sets_what_its_letter_says() {
        let s20 = Mode::Suspend(20).config();
        assert_eq!(
            (s20.defer_hard_irqs, s20.gro_flush_timeout_ns, s20.irq_suspend_timeout_ns),
            (100, 20_000, Some(20_000_000))
        );
        assert_eq!(s20.epoll, Some(EpollBusy { usecs: 0, budget: 64, prefer: true }));
        let full = Mode::FullBusy.config();
        assert_eq!((full.gro_flush_timeout_ns, full.server), (5_000_000, Server::Epoll { timeout_ms: Some(1) }));
        assert_eq!(full.epoll.map(|e| e.usecs), Some(1000));
        assert_eq!(Mode::NapiBusy.config().epoll.map(|e| e.usecs), Some(64));
        assert_eq!(Mode::Base.config().defer_hard_irqs, 0);
        assert_eq!(Mode::Defer(50).config().gro_flush_timeout_ns, 50_000);
        assert!(Mode::Threaded.config().threaded_busy_poll);
        assert_eq!(Mode::SoBusyPollThread.config().server, Server::EpollWithPoller);
        assert_eq!(
            Mode::Suspend(20).config().to_string(),
            "defer-hard-irqs 100, gro-flush-timeout 20000 ns, irq-suspend-timeout 20000000 ns, \
             EPIOCSPARAMS busy_poll_usecs 0 budget 64 prefer 1, blocking epoll_wait"
        );
    }
}
