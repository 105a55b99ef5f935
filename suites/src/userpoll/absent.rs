//! What holds for a classic epoll fd on every kernel (with or without EPOLL_USERPOLL), and, where
//! the probe finds EPOLL_USERPOLL, the inverted behaviour on a USERPOLL fd.

use super::case;
use crate::sys::userpoll::{self, page_size, Support, EPOLL_USERPOLL};
use pollcheck_guest::{CaseBuilder, CaseResult, Ctx, Errno};
use std::os::fd::AsFd;

pub(super) fn cases() -> Vec<CaseBuilder> {
    vec![
        case(
            "absent_create1_flag",
            "epoll_create1(EPOLL_USERPOLL) is EINVAL (no such flag on mainline; size 0 with the patch)",
            create1_flag,
        ),
        case(
            "absent_mmap_enodev",
            "mmap of a classic epoll fd is ENODEV; a USERPOLL fd maps where the feature exists",
            mmap_enodev,
        ),
        case(
            "absent_wait_null",
            "epoll_wait(classic epfd, NULL, 0) is EINVAL; on a USERPOLL fd it is the way to wait (0 when idle)",
            wait_null,
        ),
    ]
}

fn present() -> bool {
    userpoll::detect() == Support::Present
}

fn create1_flag(ctx: &mut Ctx<'_>) -> CaseResult {
    ctx.assert_errno(userpoll::epoll_create1(EPOLL_USERPOLL), Errno::EINVAL, "epoll_create1(EPOLL_USERPOLL)")?;
    ctx.assert_errno(
        userpoll::epoll_create1(EPOLL_USERPOLL | libc::EPOLL_CLOEXEC),
        Errno::EINVAL,
        "epoll_create1(EPOLL_USERPOLL | EPOLL_CLOEXEC)",
    )
}

fn mmap_enodev(ctx: &mut Ctx<'_>) -> CaseResult {
    let ep = ctx.setup(userpoll::epoll_create1(libc::EPOLL_CLOEXEC), "epoll_create1")?;
    let res = userpoll::map_raw(ep.as_fd(), page_size(), 0);
    if let Ok(p) = res {
        let _ = userpoll::unmap_raw(p, page_size());
    }
    ctx.assert_errno(res, Errno::ENODEV, "mmap of one page of a classic epoll fd")?;
    if present() {
        let uep = ctx.assert_ok(userpoll::create(8), "epoll_create2(EPOLL_USERPOLL, 8)")?;
        let res = userpoll::map_raw(uep.as_fd(), page_size(), 0);
        if let Ok(p) = res {
            let _ = userpoll::unmap_raw(p, page_size());
        }
        ctx.assert_ok(res, "mmap of one page of a USERPOLL epoll fd")?;
    }
    Ok(())
}

fn wait_null(ctx: &mut Ctx<'_>) -> CaseResult {
    let ep = ctx.setup(userpoll::epoll_create1(libc::EPOLL_CLOEXEC), "epoll_create1")?;
    ctx.assert_errno(userpoll::wait_null(ep.as_fd(), 0), Errno::EINVAL, "epoll_wait(classic epfd, NULL, 0, 0)")?;
    if present() {
        let uep = ctx.assert_ok(userpoll::create(8), "epoll_create2(EPOLL_USERPOLL, 8)")?;
        let n = ctx.assert_ok(userpoll::wait_null(uep.as_fd(), 0), "epoll_wait(USERPOLL epfd, NULL, 0, 0)")?;
        ctx.assert_eq(n, 0, "an idle USERPOLL epoll_wait returns 0")?;
    }
    Ok(())
}
