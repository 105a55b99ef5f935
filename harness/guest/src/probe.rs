//! Feature probes a suite registers; the agent runs them at start-up and announces the results.

/// A named run-time probe, e.g. `epoll_params` → `yes` or `no: EPIOCGPARAMS gives ENOTTY`.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub name: &'static str,
    pub run: fn() -> String,
}
