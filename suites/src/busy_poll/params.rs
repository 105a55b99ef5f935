//! The EPIOCSPARAMS/EPIOCGPARAMS argument contract (fs/eventpoll.c `ep_eventpoll_ioctl`):
//! defaults, EFAULT, EINVAL rules, the CAP_NET_ADMIN budget limit, round trip, ENOTTY elsewhere.

use super::{require_epoll_params, SUITE};
use crate::sys::epoll_params::{bad_pointer, epoll, get, ioctl_raw, params, set};
use caps::Capability;
use pollcheck_guest::{without_capability, Case, CaseBuilder, CaseResult, Ctx, Errno};
use pollcheck_proto::Feature;
use std::os::fd::{AsFd, OwnedFd};

/// A params case: it holds the EPIOCSPARAMS/EPIOCGPARAMS contract.
fn case(name: &str, summary: &str, run: fn(&mut Ctx<'_>) -> CaseResult) -> CaseBuilder {
    Case::new(SUITE, name, summary, run).features(&[Feature::EpollParams])
}

/// Every params case.
pub(super) fn cases() -> Vec<CaseBuilder> {
    vec![
        case(
            "params_defaults",
            "a fresh epoll instance reports busy_poll_usecs, budget, prefer and pad all 0",
            defaults,
        ),
        case("params_efault", "EPIOCGPARAMS and EPIOCSPARAMS with an unmapped pointer fail with EFAULT", efault),
        case("params_pad", "EPIOCSPARAMS with __pad != 0 fails with EINVAL", pad),
        case("params_usecs_range", "busy_poll_usecs = S32_MAX is accepted, S32_MAX + 1 is EINVAL", usecs_range),
        case("params_prefer_range", "prefer_busy_poll 0 and 1 are accepted, 2 is EINVAL", prefer_range),
        case(
            "params_unknown_ioctl",
            "an unknown ioctl in the epoll range on an epoll fd is EINVAL (not ENOTTY)",
            unknown_ioctl,
        ),
        case(
            "params_budget_cap",
            "busy_poll_budget > 64 needs CAP_NET_ADMIN: EPERM without it, accepted with it",
            budget_cap,
        ),
        case("params_round_trip", "values set with EPIOCSPARAMS read back unchanged, per instance", round_trip),
        case("params_not_epoll", "EPIOCSPARAMS/EPIOCGPARAMS on a socket and on a pipe fail with ENOTTY", not_epoll),
    ]
}

fn fresh(ctx: &mut Ctx<'_>) -> Result<OwnedFd, pollcheck_guest::Stop> {
    require_epoll_params(ctx)?;
    let ep = epoll();
    ctx.setup(ep, "epoll_create1")
}

fn defaults(ctx: &mut Ctx<'_>) -> CaseResult {
    let ep = fresh(ctx)?;
    let p = ctx.assert_ok(get(ep.as_fd()), "EPIOCGPARAMS on a fresh epoll fd")?;
    ctx.expect(p.busy_poll_usecs == 0, "default busy_poll_usecs is 0", p.busy_poll_usecs);
    ctx.expect(p.busy_poll_budget == 0, "default busy_poll_budget is 0", p.busy_poll_budget);
    ctx.expect(p.prefer_busy_poll == 0, "default prefer_busy_poll is 0", p.prefer_busy_poll);
    ctx.expect(p.__pad == 0, "__pad reads back 0 (the kernel clears the whole struct)", p.__pad);
    Ok(())
}

fn efault(ctx: &mut Ctx<'_>) -> CaseResult {
    let ep = fresh(ctx)?;
    ctx.assert_errno(
        ioctl_raw(ep.as_fd(), libc::EPIOCGPARAMS, bad_pointer()),
        Errno::EFAULT,
        "EPIOCGPARAMS to an unmapped address",
    )?;
    ctx.assert_errno(
        ioctl_raw(ep.as_fd(), libc::EPIOCSPARAMS, bad_pointer()),
        Errno::EFAULT,
        "EPIOCSPARAMS from an unmapped address",
    )?;
    Ok(())
}

fn pad(ctx: &mut Ctx<'_>) -> CaseResult {
    let ep = fresh(ctx)?;
    ctx.assert_errno(set(ep.as_fd(), &params(0, 0, 0, 1)), Errno::EINVAL, "EPIOCSPARAMS with __pad = 1")?;
    ctx.assert_errno(
        set(ep.as_fd(), &params(10, 8, 1, 0xff)),
        Errno::EINVAL,
        "EPIOCSPARAMS with valid fields and __pad = 0xff",
    )?;
    unchanged(ctx, &ep)
}

fn usecs_range(ctx: &mut Ctx<'_>) -> CaseResult {
    let ep = fresh(ctx)?;
    let max = i32::MAX as u32;
    ctx.assert_errno(set(ep.as_fd(), &params(max + 1, 0, 0, 0)), Errno::EINVAL, "busy_poll_usecs = S32_MAX + 1")?;
    ctx.assert_errno(set(ep.as_fd(), &params(u32::MAX, 0, 0, 0)), Errno::EINVAL, "busy_poll_usecs = U32_MAX")?;
    unchanged(ctx, &ep)?;
    ctx.assert_ok(set(ep.as_fd(), &params(max, 0, 0, 0)), "busy_poll_usecs = S32_MAX")?;
    let p = ctx.assert_ok(get(ep.as_fd()), "EPIOCGPARAMS after setting S32_MAX")?;
    ctx.assert_eq(p.busy_poll_usecs, max, "S32_MAX reads back")
}

fn prefer_range(ctx: &mut Ctx<'_>) -> CaseResult {
    let ep = fresh(ctx)?;
    ctx.assert_errno(set(ep.as_fd(), &params(0, 0, 2, 0)), Errno::EINVAL, "prefer_busy_poll = 2")?;
    ctx.assert_errno(set(ep.as_fd(), &params(0, 0, 255, 0)), Errno::EINVAL, "prefer_busy_poll = 255")?;
    unchanged(ctx, &ep)?;
    for v in [1u8, 0] {
        ctx.assert_ok(set(ep.as_fd(), &params(0, 0, v, 0)), format!("prefer_busy_poll = {v}"))?;
        let p = ctx.assert_ok(get(ep.as_fd()), "EPIOCGPARAMS")?;
        ctx.assert_eq(p.prefer_busy_poll, v, format!("prefer_busy_poll {v} reads back"))?;
    }
    Ok(())
}

fn unknown_ioctl(ctx: &mut Ctx<'_>) -> CaseResult {
    let ep = fresh(ctx)?;
    let mut p = params(0, 0, 0, 0);
    let cmd = libc::EPIOCGPARAMS + 10;
    let r = ioctl_raw(ep.as_fd(), cmd, (&mut p as *mut libc::epoll_params).cast());
    ctx.assert_errno(r, Errno::EINVAL, format!("ioctl {cmd:#x} (EPIOCGPARAMS + 10) on an epoll fd"))
}

fn budget_cap(ctx: &mut Ctx<'_>) -> CaseResult {
    let ep = fresh(ctx)?;
    let without = without_capability(Capability::CAP_NET_ADMIN, || {
        (set(ep.as_fd(), &params(0, 65, 0, 0)), set(ep.as_fd(), &params(0, 64, 0, 0)))
    });
    let (over, at_limit) = ctx.setup(without, "dropping CAP_NET_ADMIN from the effective set")?;
    ctx.expect(over == Err(Errno::EPERM), "budget 65 without CAP_NET_ADMIN is EPERM", format!("{over:?}"));
    ctx.expect(
        at_limit.is_ok(),
        "budget 64 (NAPI_POLL_WEIGHT) without CAP_NET_ADMIN is accepted",
        format!("{at_limit:?}"),
    );
    ctx.assert_ok(set(ep.as_fd(), &params(0, u16::MAX, 0, 0)), "budget 65535 with CAP_NET_ADMIN")?;
    let p = ctx.assert_ok(get(ep.as_fd()), "EPIOCGPARAMS")?;
    ctx.assert_eq(p.busy_poll_budget, u16::MAX, "budget 65535 reads back")
}

fn round_trip(ctx: &mut Ctx<'_>) -> CaseResult {
    let a = fresh(ctx)?;
    let b = ctx.setup(epoll(), "second epoll_create1")?;
    ctx.assert_ok(set(a.as_fd(), &params(25, 16, 1, 0)), "EPIOCSPARAMS {25, 16, 1}")?;
    let p = ctx.assert_ok(get(a.as_fd()), "EPIOCGPARAMS")?;
    ctx.expect(
        (p.busy_poll_usecs, p.busy_poll_budget, p.prefer_busy_poll, p.__pad) == (25, 16, 1, 0),
        "{25, 16, 1} reads back as {25, 16, 1, pad 0}",
        format!("{{{}, {}, {}, pad {}}}", p.busy_poll_usecs, p.busy_poll_budget, p.prefer_busy_poll, p.__pad),
    );
    let q = ctx.assert_ok(get(b.as_fd()), "EPIOCGPARAMS on the other instance")?;
    ctx.expect(
        (q.busy_poll_usecs, q.busy_poll_budget, q.prefer_busy_poll) == (0, 0, 0),
        "the other epoll instance is unaffected",
        format!("{{{}, {}, {}}}", q.busy_poll_usecs, q.busy_poll_budget, q.prefer_busy_poll),
    );
    Ok(())
}

fn not_epoll(ctx: &mut Ctx<'_>) -> CaseResult {
    require_epoll_params(ctx)?;
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    // A socket answers unknown ioctls itself (net/socket.c); a pipe leaves it to the VFS, which
    // turns -ENOIOCTLCMD into ENOTTY: check both paths.
    let sock =
        ctx.setup(socket(AddressFamily::Unix, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None), "AF_UNIX socket")?;
    let (pipe_r, _pipe_w) = ctx.setup(nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC), "pipe2")?;
    for (what, fd) in [("an AF_UNIX socket", sock.as_fd()), ("a pipe", pipe_r.as_fd())] {
        ctx.expect(
            get(fd) == Err(Errno::ENOTTY),
            format!("EPIOCGPARAMS on {what} fails with ENOTTY"),
            format!("{:?}", get(fd).map(|_| ())),
        );
        let set_r = set(fd, &params(0, 0, 0, 0));
        ctx.expect(
            set_r == Err(Errno::ENOTTY),
            format!("EPIOCSPARAMS on {what} fails with ENOTTY"),
            format!("{set_r:?}"),
        );
    }
    Ok(())
}

/// A rejected EPIOCSPARAMS must leave the instance as it was.
fn unchanged(ctx: &mut Ctx<'_>, ep: &OwnedFd) -> CaseResult {
    let p = ctx.assert_ok(get(ep.as_fd()), "EPIOCGPARAMS after a rejected EPIOCSPARAMS")?;
    ctx.expect(
        (p.busy_poll_usecs, p.busy_poll_budget, p.prefer_busy_poll) == (0, 0, 0),
        "a rejected EPIOCSPARAMS changes nothing",
        format!("{{{}, {}, {}}}", p.busy_poll_usecs, p.busy_poll_budget, p.prefer_busy_poll),
    );
    Ok(())
}
