//! netbench: measurements of the test networks for `pollcheck bench net` (never a conformance
//! verdict): topology setup time in the guest, and the UDP request/response rate across the
//! pair, the baseline later suites compare against. Results are `bench: <key>=<value>` log lines.

use crate::netkit::fixture::topology;
use crate::netkit::Kind;
use pollcheck_guest::{Case, CaseResult, Ctx};
use std::time::{Duration, Instant};

pub const SUITE: &str = "netbench";

/// How long the request/response loop runs.
const WINDOW: Duration = Duration::from_secs(3);

pub fn cases() -> Vec<Case> {
    Case::with_variants(
        SUITE,
        "udp_rr",
        "topology setup time and UDP request/response transactions per second",
        &Kind::ALL,
        udp_rr,
    )
    .timeout(Duration::from_secs(30))
    .hidden()
    .build()
}

fn udp_rr(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let started = Instant::now();
    let topo = topology(ctx, kind, None)?;
    ctx.log(format!("bench: setup_ms={}", started.elapsed().as_millis()));
    let server = ctx.setup(topo.b.udp(7000), "bind the echo socket")?;
    let client = ctx.setup(topo.a.udp(0), "bind the client socket")?;
    ctx.setup(client.connect((topo.b.addr, 7000)), "connect the client")?;
    ctx.setup(client.set_read_timeout(Some(Duration::from_secs(1))), "set a client timeout")?;
    ctx.setup(server.set_read_timeout(Some(Duration::from_millis(200))), "set a server timeout")?;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (done, lost) = std::thread::scope(|s| {
        s.spawn(|| {
            let mut buf = [0u8; 64];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok((n, from)) = server.recv_from(&mut buf) {
                    let _ = server.send_to(&buf[..n], from);
                }
            }
        });
        let (mut done, mut lost) = (0u64, 0u64);
        let mut buf = [0u8; 64];
        let until = Instant::now() + WINDOW;
        while Instant::now() < until {
            if client.send(&done.to_be_bytes()).is_err() || client.recv(&mut buf).is_err() {
                lost += 1;
            } else {
                done += 1;
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (done, lost)
    });
    let rate = done as f64 / WINDOW.as_secs_f64();
    ctx.log(format!("bench: udp_rr_per_s={rate:.0}"));
    ctx.log(format!("{done} transactions in {} s, {lost} lost ({})", WINDOW.as_secs(), topo.description));
    ctx.assert(done > 0, "at least one request/response completed", done)
}
