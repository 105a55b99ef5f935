//! The agent loop: announce Ready, then run each requested case until told to shut down.

use crate::case::Case;
use crate::channel::Channel;
use crate::{fork, init, modules, probe::Probe};
use pollcheck_proto::boot::{self, BootParams, CaseList};
use pollcheck_proto::{Event, Features, Probed, Request, PROTOCOL_VERSION};
use std::path::Path;
use std::time::{Duration, Instant};

/// Entry point of a suite's agent binary.
///
/// On the host, `--list-json` prints the cases' metadata (so the host plans without booting).
/// As PID 1 in the guest it runs the agent loop and never returns.
pub fn agent_main(cases: Vec<Case>, probes: &[Probe]) -> ! {
    if std::env::args().nth(1).as_deref() == Some(boot::LIST_FLAG) {
        let list = CaseList { protocol: PROTOCOL_VERSION, cases: cases.iter().map(|c| c.meta.clone()).collect() };
        match serde_json::to_string(&list) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("pollcheck-agent: failed to encode the case list: {e}");
                std::process::exit(1);
            }
        }
        std::process::exit(0);
    }
    if std::process::id() != 1 {
        eprintln!(
            "pollcheck-agent: runs as PID 1 inside a pollcheck VM; on the host, use `pollcheck run` (or {})",
            boot::LIST_FLAG
        );
        std::process::exit(2);
    }
    let problems = init::setup();
    for p in &problems {
        eprintln!("pollcheck-agent: {p}");
    }
    run_agent(&cases, probes)
}

fn run_agent(cases: &[Case], probes: &[Probe]) -> ! {
    let params = BootParams::parse(&std::fs::read_to_string("/proc/cmdline").unwrap_or_default());
    let path = params.channel;
    let mut chan = match Channel::open_serial(Path::new(&path)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pollcheck-agent: {e}");
            init::power_off();
        }
    };
    let (modules_loaded, modules_failed) = modules::load_all(Path::new("/"));
    let features = Features {
        kernel_release: nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default(),
        cpus: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1),
        probes: probes.iter().map(|p| (p.name.to_owned(), Probed { feature: p.feature, answer: (p.run)() })).collect(),
        modules_loaded,
        modules_failed,
    };
    chan.sink.send(&Event::Ready { protocol: PROTOCOL_VERSION, features });
    while let Some(req) = chan.next_request() {
        match req {
            Ok(Request::Run { case, timeout_ms, params }) => {
                let Some(c) = cases.iter().find(|c| c.meta.id == case) else {
                    chan.sink.send(&Event::Refused { reason: format!("no case named {case} in this agent") });
                    continue;
                };
                chan.sink.send(&Event::Started { case: case.clone() });
                let start = Instant::now();
                let outcome = fork::run_case(c, params, Duration::from_millis(timeout_ms), &mut chan.sink);
                let duration_ms = start.elapsed().as_millis() as u64;
                chan.sink.send(&Event::Done { case, outcome, duration_ms });
            }
            Ok(Request::Shutdown) => break,
            Err(e) => chan.sink.send(&Event::Refused { reason: e }),
        }
    }
    init::power_off()
}
