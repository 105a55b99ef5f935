//! Busy polling is scoped to the epoll instance that asked for it (the point of Joe Damato's RFC
//! "eventpoll: support busy poll per epoll instance", 2024-01): two
//! instances whose sockets sit on the same NAPI, one with busy_poll_usecs > 0 and one without,
//! in one process and in two processes; only the configured one spends CPU in empty waits.

use super::measure::{interleaved, Summary, Waiter};
use super::rig::{flows_on_one_napi, Flow};
use super::verdict::{expect_busy, expect_ratio, expect_sleeps};
use super::{require_epoll_params, ROUNDS, TIMEOUT_MS, USECS};
use crate::netkit::fixture::{skip_absent, topology};
use crate::netkit::Kind;
use crate::sys::epoll_params::params;
use pollcheck_guest::{CaseResult, Ctx, Stop};
use std::io::Read;
use std::os::fd::AsFd;
use std::time::Duration;

const PORT: u16 = 9100;

/// Two flows on one RX queue (one NAPI), logged.
fn two_flows(ctx: &mut Ctx<'_>, kind: Kind) -> Result<(crate::netkit::Topology, Vec<Flow>), Stop> {
    require_epoll_params(ctx)?;
    let topo = topology(ctx, kind, None)?;
    let flows = skip_absent(ctx, flows_on_one_napi(&topo, PORT, 2), "find two flows on one NAPI")?;
    ctx.log(format!(
        "flows: source ports {} and {} both on RX queue {:?} (NAPI ids {} and {})",
        flows[0].src_port, flows[1].src_port, flows[0].queue, flows[0].napi_id, flows[1].napi_id
    ));
    ctx.assert(
        flows[0].napi_id == flows[1].napi_id && flows[0].napi_id != 0,
        "both receivers report the same non-zero SO_INCOMING_NAPI_ID",
        format!("{} and {}", flows[0].napi_id, flows[1].napi_id),
    )?;
    Ok((topo, flows))
}

/// Judge per-round samples: the busy instance's, the plain one's, and a spin of [`USECS`] each round.
fn judge(ctx: &mut Ctx<'_>, busy: &[Duration], plain: &[Duration], spins: &[Duration], plain_who: &str) {
    let (b, p) = (Summary::of(busy), Summary::of(plain));
    ctx.log(format!(
        "busy instance ({USECS} us, {TIMEOUT_MS} ms waits): {b}; {plain_who}: {p}; spin of {USECS} us: {}",
        Summary::of(spins)
    ));
    expect_busy(ctx, "the instance with busy_poll_usecs set", busy, spins, USECS);
    expect_sleeps(ctx, plain_who, &p, USECS);
    expect_ratio(ctx, "busy vs plain instance on the same NAPI", &b, &p);
}

pub(super) fn same_process(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let (_topo, flows) = two_flows(ctx, kind)?;
    let (f0, f1) = (&flows[0], &flows[1]);
    let busy = ctx.setup(Waiter::new(f0.tx.as_fd(), f0.rx.as_fd(), Some(params(USECS, 0, 0, 0))), "busy instance")?;
    let plain = ctx.setup(Waiter::new(f1.tx.as_fd(), f1.rx.as_fd(), None), "plain instance")?;
    let m = ctx.setup(interleaved(&[&busy, &plain], ROUNDS, TIMEOUT_MS, &[USECS]), "measure CPU per empty wait")?;
    judge(ctx, &m.waiters[0], &m.waiters[1], &m.spins[0], "the plain instance in the same process");
    Ok(())
}

pub(super) fn two_processes(ctx: &mut Ctx<'_>, kind: Kind) -> CaseResult {
    let (_topo, flows) = two_flows(ctx, kind)?;
    let (f0, f1) = (&flows[0], &flows[1]);
    let (r, w) = ctx.setup(nix::unistd::pipe(), "pipe")?;
    // SAFETY: the case process is single-threaded here (namespace threads have been joined);
    // the child only makes system calls and formats numbers before _exit.
    let fork = unsafe { nix::unistd::fork() };
    match ctx.setup(fork, "fork the plain waiter's process")? {
        nix::unistd::ForkResult::Child => {
            drop(r);
            let out = match Waiter::new(f1.tx.as_fd(), f1.rx.as_fd(), None) {
                Ok(plain) => (0..ROUNDS)
                    .map(|_| plain.round(TIMEOUT_MS).map(|d| d.as_nanos().to_string()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_or_else(|e| format!("err {e}"), |v| format!("ok {}", v.join(" "))),
                Err(e) => format!("err {e}"),
            };
            let _ = nix::unistd::write(&w, out.as_bytes());
            // SAFETY: ends the child without running the parent's destructors or atexit hooks.
            unsafe { libc::_exit(0) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(w);
            let busy = Waiter::new(f0.tx.as_fd(), f0.rx.as_fd(), Some(params(USECS, 0, 0, 0)))
                .and_then(|b| interleaved(&[&b], ROUNDS, TIMEOUT_MS, &[USECS]));
            let mut text = String::new();
            let read = std::fs::File::from(r).read_to_string(&mut text);
            let _ = nix::sys::wait::waitpid(child, None);
            ctx.setup(read, "read the child's samples")?;
            let busy = ctx.setup(busy, "the busy waiter's rounds")?;
            let plain = ctx.setup(parse_child(&text), "the plain waiter's process")?;
            ctx.log(format!("plain waiter: pid {child} (the busy one is pid {})", std::process::id()));
            judge(ctx, &busy.waiters[0], &plain, &busy.spins[0], "the plain instance in another process");
            Ok(())
        }
    }
}

/// The child's report: `ok <ns> <ns> …` or `err <message>`.
fn parse_child(text: &str) -> Result<Vec<Duration>, String> {
    match text.split_once(' ') {
        Some(("ok", rest)) => rest
            .split_whitespace()
            .map(|w| w.parse::<u64>().map(Duration::from_nanos).map_err(|e| format!("bad sample {w:?}: {e}")))
            .collect(),
        Some(("err", why)) => Err(why.to_owned()),
        _ => Err(format!("the child reported nothing usable: {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_reports_parse() {
        assert_eq!(parse_child("ok 1000 2000"), Ok(vec![Duration::from_micros(1), Duration::from_micros(2)]));
        assert_eq!(parse_child("err no datagram"), Err("no datagram".into()));
        assert!(parse_child("").is_err());
        assert!(parse_child("ok x").is_err());
    }
}
