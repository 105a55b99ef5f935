//! The timing the irq_suspend cases use, chosen for TCG guests (real-time clocks, slow CPU):
//! timeouts in the tens to hundreds of milliseconds, traffic a datagram every few milliseconds,
//! an application that "works" longer than the gap between datagrams, so every epoll_wait finds
//! something while traffic lasts.

use std::time::Duration;

/// defer-hard-irqs: empty polls before plain deferral re-enables the IRQ.
pub const DEFER_HARD_IRQS: u32 = 2;
/// gro-flush-timeout (ns): the short deferral timer; DEFER_HARD_IRQS × this is far below PACE.
pub const GRO_FLUSH_TIMEOUT_NS: u64 = 500_000;
/// irq-suspend-timeout (ns) of the start, off and safety cases: well above WORK.
pub const IRQ_SUSPEND_TIMEOUT_NS: u64 = 200_000_000;
/// irq-suspend-timeout (ns) of the extension case: traffic lasts EXTENSION_FACTOR times this.
/// Six slices, each judged on its own: a deadline that is not pushed shows in the second slice
/// already (about one IRQ per datagram, ~48 per slice, against at most 4), so five slices after
/// the first leave a fivefold margin on a kernel whose pushes stop part-way (ten slices, as
/// before, cost another second per kernel and never failed one that six passed).
pub const EXTENSION_TIMEOUT_NS: u64 = 250_000_000;
pub const EXTENSION_FACTOR: u32 = 6;
/// irq-suspend-timeout (ns) where the case measures something that must be far shorter (end,
/// close): the larger, the clearer a kernel that waits for the safety timer instead.
pub const LONG_TIMEOUT_NS: u64 = 1_000_000_000;

/// One datagram every PACE from A.
pub const PACE: Duration = Duration::from_millis(5);
/// The application's processing time after each epoll_wait that returned events.
pub const WORK: Duration = Duration::from_millis(40);
/// Traffic before a measured window, so the NAPI is in its steady state (40 datagrams, five
/// epoll_waits; the epoll context has its NAPI id after the first). Lead-ins of 300 ms on
/// Debian 7.3 showed 0–23 IRQs before suspension took hold, all in the first ~115 ms; the
/// cases that time a resume also wait for a clean push after it (resume.rs).
pub const WARM_UP: Duration = Duration::from_millis(200);
/// A measured window of the start and off cases: 60 datagrams. Plain deferral raised about one
/// IRQ per datagram in every window seen (107–109 per 500 ms window on Debian 7.3, 202–204 per
/// 1 s on 7.3 and src:7.2), suspension 0 (0–16 on a loaded host); the verdicts need at least 20
/// under deferral and at most a quarter of it suspended, so 300 ms keeps a threefold margin on
/// the first and ~15 IRQs of room on the second.
pub const WINDOW: Duration = Duration::from_millis(300);
/// Windows in which the application itself stalled for longer than the suspend timeout say
/// nothing about the kernel; they are re-run up to this many times.
pub const TRIES: u32 = 3;
/// Measurements the end, safety and close cases repeat.
pub const SAMPLES: u32 = 3;

/// The UDP port B receives the flow on.
pub const PORT: u16 = 9200;

/// Nanoseconds as milliseconds, for logs.
pub fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// A duration in milliseconds, for logs.
pub fn dms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
