//! Turning neli's router errors into [`NetError`]s that keep the kernel's errno and extack text.

use super::NetError;
use neli::consts::nl::NlmsgerrAttr;
use neli::err::{Nlmsgerr, RouterError};
use neli::types::Buffer;

/// Convert a router error from a request described by `what`.
pub fn from_router<T, P>(what: &str, err: RouterError<T, P>) -> NetError
where
    T: std::fmt::Debug,
    P: std::fmt::Debug,
{
    match err {
        RouterError::Nlmsgerr(e) => from_nlmsgerr(what, &e),
        other => NetError::Netlink { what: what.to_owned(), detail: format!("{other:?}") },
    }
}

/// Convert the kernel's error message (errno plus extack attributes).
pub fn from_nlmsgerr<M>(what: &str, e: &Nlmsgerr<M>) -> NetError {
    {
        {
            let attr = |kind| e.ext_ack().iter().find(|a| *a.nla_type().nla_type() == kind);
            let msg = attr(NlmsgerrAttr::Msg).map(|a| {
                let bytes: &[u8] = a.nla_payload().as_ref();
                String::from_utf8_lossy(bytes).trim_end_matches('\0').to_owned()
            });
            // No message but an offset: the kernel pointed at the attribute it refused.
            let extack = msg.or_else(|| {
                attr(NlmsgerrAttr::Offset)
                    .and_then(|a| uint(a.nla_payload()))
                    .map(|o| format!("bad attribute at offset {o}"))
            });
            NetError::Kernel { what: what.to_owned(), errno: nix::errno::Errno::from_raw(-*e.error()), extack }
        }
    }
}

/// A u32 or u64 attribute payload (netlink `uint` attributes may be either).
pub fn uint(payload: &Buffer) -> Option<u64> {
    let b: &[u8] = payload.as_ref();
    match b.len() {
        4 => Some(u64::from(u32::from_ne_bytes(b.try_into().ok()?))),
        8 => Some(u64::from_ne_bytes(b.try_into().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint_reads_both_widths() {
        assert_eq!(uint(&Buffer::from(7u32.to_ne_bytes().to_vec())), Some(7));
        assert_eq!(uint(&Buffer::from((1u64 << 40).to_ne_bytes().to_vec())), Some(1 << 40));
        assert_eq!(uint(&Buffer::from(vec![1, 2])), None);
    }
}
