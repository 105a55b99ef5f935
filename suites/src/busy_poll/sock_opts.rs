//! The per-socket busy-poll path: SO_BUSY_POLL makes a blocking recv() on a socket with a NAPI
//! id spin for that many microseconds before sleeping and again after the timeout (about twice
//! that much CPU per empty recv with a timeout); a socket without it sleeps at once.
//! SO_PREFER_BUSY_POLL and SO_BUSY_POLL_BUDGET are accepted and leave the busy poll in place
//! (SO_PREFER_BUSY_POLL reads back; the budget has no getsockopt: ENOPROTOOPT).

use super::measure::{spin, Summary};
use super::rig::{flows_on_one_napi, Flow};
use super::verdict::{expect_busy, expect_ratio, expect_sleeps};
use super::{ROUNDS, TIMEOUT_MS, USECS};
use crate::netkit::fixture::{skip_absent, topology};
use crate::netkit::Kind;
use crate::sys::epoll::thread_cpu;
use crate::sys::sockopt::{get_int, set_int};
use nix::errno::Errno;
use pollcheck_guest::{CaseResult, Ctx};
use pollcheck_proto::Feature;
use std::io::ErrorKind;
use std::time::Duration;

const PORT: u16 = 9300;
const BUDGET: i32 = 8;

/// One round on `f`: a datagram received, then the CPU time of a recv() that times out.
fn round(f: &Flow) -> Result<Duration, String> {
    let mut buf = [0u8; 64];
    f.rx.set_read_timeout(Some(Duration::from_secs(3))).map_err(|e| format!("failed to set SO_RCVTIMEO: {e}"))?;
    f.tx.send(b"bp").map_err(|e| format!("failed to send a datagram: {e}"))?;
    f.rx.recv(&mut buf).map_err(|e| format!("the datagram did not arrive: {e}"))?;
    let t = Duration::from_millis(TIMEOUT_MS as u64);
    f.rx.set_read_timeout(Some(t)).map_err(|e| format!("failed to set SO_RCVTIMEO: {e}"))?;
    let before = thread_cpu();
    let r = f.rx.recv(&mut buf);
    let cpu = thread_cpu().saturating_sub(before);
    match r {
        Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => Ok(cpu),
        Err(e) => Err(format!("the empty recv failed: {e}")),
        Ok(_) => Err("a datagram arrived during the recv meant to be empty".into()),
    }
}

pub(super) fn so_busy_poll(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let topo = topology(ctx, kind, None)?;
    let flows = skip_absent(ctx, flows_on_one_napi(&topo, PORT, 3), "find three flows on one NAPI")?;
    ctx.log(format!("flows on RX queue {:?} (NAPI {})", flows[0].queue, flows[0].napi_id));
    use std::os::fd::AsFd;
    let (busy, plain, preferring) = (flows[0].rx.as_fd(), flows[1].rx.as_fd(), flows[2].rx.as_fd());
    match set_int(busy, libc::SO_BUSY_POLL, USECS as i32) {
        Err(Errno::ENOPROTOOPT) => {
            return Err(ctx.absent(Feature::SocketBusyPoll, "SO_BUSY_POLL: ENOPROTOOPT (CONFIG_NET_RX_BUSY_POLL off)"))
        }
        r => ctx.assert_ok(r, format!("SO_BUSY_POLL = {USECS}"))?,
    }
    ctx.assert_ok(set_int(preferring, libc::SO_BUSY_POLL, USECS as i32), "SO_BUSY_POLL on the third socket")?;
    ctx.assert_ok(set_int(preferring, libc::SO_PREFER_BUSY_POLL, 1), "SO_PREFER_BUSY_POLL = 1")?;
    ctx.assert_ok(set_int(preferring, libc::SO_BUSY_POLL_BUDGET, BUDGET), format!("SO_BUSY_POLL_BUDGET = {BUDGET}"))?;
    for (fd, opt, name, want) in [
        (busy, libc::SO_BUSY_POLL, "SO_BUSY_POLL", USECS as i32),
        (plain, libc::SO_BUSY_POLL, "SO_BUSY_POLL (untouched)", 0),
        (preferring, libc::SO_PREFER_BUSY_POLL, "SO_PREFER_BUSY_POLL", 1),
    ] {
        let got = ctx.assert_ok(get_int(fd, opt), format!("getsockopt {name}"))?;
        ctx.expect(got == want, format!("{name} reads back {want}"), got);
    }
    let mut samples = [Vec::new(), Vec::new(), Vec::new()];
    let mut spins = Vec::new();
    for _ in 0..ROUNDS {
        for (f, s) in flows.iter().zip(samples.iter_mut()) {
            s.push(ctx.setup(round(f), "measure CPU per empty recv")?);
        }
        spins.push(spin(2 * USECS));
    }
    let [b, p, q] = [0, 1, 2].map(|i| Summary::of(&samples[i]));
    ctx.log(format!(
        "blocking recv, {TIMEOUT_MS} ms SO_RCVTIMEO: SO_BUSY_POLL {USECS} {b}; none {p}; with prefer + budget {BUDGET} {q}; spin of {} us {}",
        2 * USECS,
        Summary::of(&spins)
    ));
    // UDP's receive path (net/ipv4/udp.c __skb_recv_udp) busy polls before it sleeps and once
    // more after the timeout ends the sleep: an empty recv spends about twice SO_BUSY_POLL.
    expect_busy(ctx, "a socket with SO_BUSY_POLL (before and after sleeping)", &samples[0], &spins, 2 * USECS);
    expect_sleeps(ctx, "a socket without SO_BUSY_POLL", &p, USECS);
    let both = "a socket with SO_BUSY_POLL, SO_PREFER_BUSY_POLL and SO_BUSY_POLL_BUDGET";
    expect_busy(ctx, both, &samples[2], &spins, 2 * USECS);
    expect_ratio(ctx, "SO_BUSY_POLL vs none on the same NAPI", &b, &p);
    Ok(())
}
