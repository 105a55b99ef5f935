//! The netdev generic-netlink family (Documentation/netlink/specs/netdev.yaml): NAPI instances
//! and queues of a device, and per-NAPI settings (napi-get, queue-get dumps, napi-set).
//! Requests act on the calling thread's network namespace.

use super::nlerr::{from_nlmsgerr, uint};
use super::NetError;
use neli::consts::nl::NlmF;
use neli::consts::socket::NlFamily;
use neli::genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, NlattrBuilder, NoUserHeader};
use neli::nl::{NlPayload, NlmsghdrBuilder};
use neli::router::synchronous::NlRouter;
use neli::socket::synchronous::NlSocketHandle;
use neli::types::{Buffer, GenlBuffer};
use neli::utils::Groups;
use pollcheck_proto::Feature;
use serde::Serialize;

/// include/uapi/linux/netlink.h
const NLMSG_DONE: u16 = 3;

// include/uapi/linux/netdev.h
const CMD_QUEUE_GET: u8 = 10;
const CMD_NAPI_GET: u8 = 11;
const CMD_NAPI_SET: u8 = 14;
const A_NAPI_IFINDEX: u16 = 1;
const A_NAPI_ID: u16 = 2;
const A_NAPI_IRQ: u16 = 3;
const A_NAPI_PID: u16 = 4;
const A_NAPI_DEFER_HARD_IRQS: u16 = 5;
const A_NAPI_GRO_FLUSH_TIMEOUT: u16 = 6;
const A_NAPI_IRQ_SUSPEND_TIMEOUT: u16 = 7;
const A_NAPI_THREADED: u16 = 8;
const A_QUEUE_ID: u16 = 1;
const A_QUEUE_IFINDEX: u16 = 2;
const A_QUEUE_TYPE: u16 = 3;
const A_QUEUE_NAPI_ID: u16 = 4;

/// enum netdev_napi_threaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Threaded {
    Disabled,
    Enabled,
    BusyPoll,
    Other(u32),
}

impl Threaded {
    fn from_u32(v: u32) -> Self {
        match v {
            0 => Self::Disabled,
            1 => Self::Enabled,
            2 => Self::BusyPoll,
            n => Self::Other(n),
        }
    }

    fn to_u32(self) -> u32 {
        match self {
            Self::Disabled => 0,
            Self::Enabled => 1,
            Self::BusyPoll => 2,
            Self::Other(n) => n,
        }
    }
}

/// One NAPI instance as napi-get reports it; attributes the kernel did not send are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Napi {
    pub id: u32,
    pub ifindex: u32,
    pub irq: Option<u32>,
    pub pid: Option<u32>,
    pub defer_hard_irqs: Option<u32>,
    pub gro_flush_timeout: Option<u64>,
    pub irq_suspend_timeout: Option<u64>,
    pub threaded: Option<Threaded>,
}

/// Per-NAPI settings for napi-set; `None` leaves an attribute out of the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NapiSettings {
    pub defer_hard_irqs: Option<u32>,
    pub gro_flush_timeout: Option<u64>,
    pub irq_suspend_timeout: Option<u64>,
    pub threaded: Option<Threaded>,
}

impl std::fmt::Display for Threaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Disabled => f.write_str("disabled"),
            Self::Enabled => f.write_str("enabled"),
            Self::BusyPoll => f.write_str("busy-poll"),
            Self::Other(n) => write!(f, "{n}"),
        }
    }
}

/// The attributes in the request, as the netdev spec names them: `threaded=busy-poll`.
impl std::fmt::Display for NapiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(v) = self.defer_hard_irqs {
            parts.push(format!("defer-hard-irqs={v}"));
        }
        if let Some(v) = self.gro_flush_timeout {
            parts.push(format!("gro-flush-timeout={v}"));
        }
        if let Some(v) = self.irq_suspend_timeout {
            parts.push(format!("irq-suspend-timeout={v}"));
        }
        if let Some(v) = self.threaded {
            parts.push(format!("threaded={v}"));
        }
        f.write_str(&parts.join(" "))
    }
}

/// RX or TX queue (enum netdev_queue_type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueType {
    Rx,
    Tx,
}

/// One queue as queue-get reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queue {
    pub id: u32,
    pub ifindex: u32,
    pub kind: QueueType,
    pub napi_id: Option<u32>,
}

type Msg = Genlmsghdr<u8, u16>;

/// The feature a kernel lacks when it answers `cmd` with EOPNOTSUPP.
fn op_feature(cmd: u8) -> Feature {
    match cmd {
        CMD_NAPI_SET => Feature::NapiSet,
        _ => Feature::NetdevNapiGet,
    }
}

/// A netdev-family socket in the calling thread's namespace.
///
/// Requests go through a plain socket read until NLMSG_DONE or the ACK: the kernel's newer
/// generic-netlink dumps (genlmsg_iput) don't set NLM_F_MULTI on each message, and neli's router
/// takes a message without it for the last one (seen: a 4-queue dump came back as one queue).
pub struct Netdev {
    sock: NlSocketHandle,
    family: u16,
    seq: std::cell::Cell<u32>,
}

impl std::fmt::Debug for Netdev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netdev").field("family", &self.family).field("seq", &self.seq.get()).finish()
    }
}

fn attr(kind: u16, payload: impl neli::Size + neli::ToBytes) -> Result<neli::genl::Nlattr<u16, Buffer>, NetError> {
    let t = AttrTypeBuilder::default()
        .nla_type(kind)
        .build()
        .map_err(|e| NetError::Netlink { what: "build an attribute".into(), detail: e.to_string() })?;
    NlattrBuilder::default()
        .nla_type(t)
        .nla_payload(payload)
        .build()
        .map_err(|e| NetError::Netlink { what: "build an attribute".into(), detail: e.to_string() })
}

impl Netdev {
    /// Resolve the family; a kernel without it (before 6.5) answers that it doesn't exist.
    pub fn open() -> Result<Self, NetError> {
        let (router, _) = NlRouter::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|e| NetError::Netlink { what: "open a generic netlink socket".into(), detail: e.to_string() })?;
        let _ = router.enable_ext_ack(true);
        let family = router.resolve_genl_family("netdev").map_err(|e| {
            let answer = match super::nlerr::from_router("resolve", e) {
                NetError::Kernel { errno, .. } => format!("{errno}"),
                other => other.to_string(),
            };
            NetError::Absent {
                feature: Feature::NetdevNapiGet,
                why: format!("the kernel has no netdev generic-netlink family (CTRL_CMD_GETFAMILY: {answer})"),
            }
        })?;
        let sock = NlSocketHandle::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|e| NetError::Netlink { what: "open a generic netlink socket".into(), detail: e.to_string() })?;
        let _ = sock.enable_ext_ack(true);
        Ok(Self { sock, family, seq: std::cell::Cell::new(1) })
    }

    fn request(
        &self,
        what: &str,
        cmd: u8,
        flags: NlmF,
        attrs: Vec<neli::genl::Nlattr<u16, Buffer>>,
    ) -> Result<Vec<Msg>, NetError> {
        let hdr = GenlmsghdrBuilder::<u8, u16, NoUserHeader>::default()
            .cmd(cmd)
            .version(1)
            .attrs(attrs.into_iter().collect::<GenlBuffer<_, _>>())
            .build()
            .map_err(|e| NetError::Netlink { what: what.to_owned(), detail: e.to_string() })?;
        let seq = self.seq.get();
        self.seq.set(seq.wrapping_add(1));
        let broken = |detail: String| NetError::Netlink { what: what.to_owned(), detail };
        let msg = NlmsghdrBuilder::default()
            .nl_type(self.family)
            .nl_flags(flags | NlmF::REQUEST)
            .nl_seq(seq)
            .nl_pid(0)
            .nl_payload(NlPayload::Payload(hdr))
            .build()
            .map_err(|e| broken(e.to_string()))?;
        self.sock.send(&msg).map_err(|e| broken(e.to_string()))?;
        let mut out = Vec::new();
        loop {
            let (msgs, _) = self.sock.recv::<u16, Msg>().map_err(|e| broken(e.to_string()))?;
            for m in msgs {
                let m = m.map_err(|e| broken(e.to_string()))?;
                if *m.nl_seq() != seq {
                    continue;
                }
                if *m.nl_type() == NLMSG_DONE {
                    return Ok(out);
                }
                match m.nl_payload() {
                    NlPayload::Payload(p) => out.push(p.clone()),
                    NlPayload::Err(e) if -*e.error() == libc::EOPNOTSUPP => {
                        return Err(NetError::Absent {
                            feature: op_feature(cmd),
                            why: format!("the kernel's netdev family lacks the operation to {what} (EOPNOTSUPP)"),
                        })
                    }
                    NlPayload::Err(e) => return Err(from_nlmsgerr(what, e)),
                    NlPayload::Ack(_) | NlPayload::DumpExtAck(_) => return Ok(out),
                    NlPayload::Empty => {}
                }
                if !flags.contains(NlmF::DUMP) && !flags.contains(NlmF::ACK) {
                    return Ok(out);
                }
            }
        }
    }

    /// napi-get for one NAPI id.
    pub fn napi_get(&self, id: u32) -> Result<Napi, NetError> {
        let what = format!("get NAPI {id} (netdev napi-get)");
        let msgs = self.request(&what, CMD_NAPI_GET, NlmF::ACK, vec![attr(A_NAPI_ID, id)?])?;
        msgs.first()
            .and_then(parse_napi)
            .ok_or_else(|| NetError::Netlink { what, detail: "the reply had no NAPI id".into() })
    }

    /// napi-get dump of every NAPI of `ifindex`, sorted by id.
    pub fn napis(&self, ifindex: u32) -> Result<Vec<Napi>, NetError> {
        let what = format!("list the NAPIs of link {ifindex} (netdev napi-get dump)");
        let msgs = self.request(&what, CMD_NAPI_GET, NlmF::DUMP, vec![attr(A_NAPI_IFINDEX, ifindex)?])?;
        let mut out: Vec<Napi> = msgs.iter().filter_map(parse_napi).filter(|n| n.ifindex == ifindex).collect();
        out.sort_by_key(|n| n.id);
        Ok(out)
    }

    /// queue-get dump of every queue of `ifindex`, RX first, by id.
    pub fn queues(&self, ifindex: u32) -> Result<Vec<Queue>, NetError> {
        let what = format!("list the queues of link {ifindex} (netdev queue-get dump)");
        let msgs = self.request(&what, CMD_QUEUE_GET, NlmF::DUMP, vec![attr(A_QUEUE_IFINDEX, ifindex)?])?;
        let mut out: Vec<Queue> = msgs.iter().filter_map(parse_queue).filter(|q| q.ifindex == ifindex).collect();
        out.sort_by_key(|q| (q.kind == QueueType::Tx, q.id));
        Ok(out)
    }

    /// napi-set: the attributes given in `s` on NAPI `id` (needs CAP_NET_ADMIN).
    pub fn napi_set(&self, id: u32, s: &NapiSettings) -> Result<(), NetError> {
        let what = format!("set {s} on NAPI {id} (netdev napi-set)");
        let mut attrs = vec![attr(A_NAPI_ID, id)?];
        if let Some(v) = s.defer_hard_irqs {
            attrs.push(attr(A_NAPI_DEFER_HARD_IRQS, v)?);
        }
        if let Some(v) = s.gro_flush_timeout {
            attrs.push(attr(A_NAPI_GRO_FLUSH_TIMEOUT, v)?);
        }
        if let Some(v) = s.irq_suspend_timeout {
            attrs.push(attr(A_NAPI_IRQ_SUSPEND_TIMEOUT, v)?);
        }
        if let Some(v) = s.threaded {
            attrs.push(attr(A_NAPI_THREADED, v.to_u32())?);
        }
        self.request(&what, CMD_NAPI_SET, NlmF::ACK, attrs).map(|_| ())
    }
}

fn u32_of(m: &Msg, kind: u16) -> Option<u32> {
    m.attrs().get_attr_handle().get_attr_payload_as::<u32>(kind).ok()
}

fn uint_of(m: &Msg, kind: u16) -> Option<u64> {
    m.attrs().get_attr_handle().get_attribute(kind).and_then(|a| uint(a.nla_payload()))
}

fn parse_napi(m: &Msg) -> Option<Napi> {
    Some(Napi {
        id: u32_of(m, A_NAPI_ID)?,
        ifindex: u32_of(m, A_NAPI_IFINDEX).unwrap_or(0),
        irq: u32_of(m, A_NAPI_IRQ),
        pid: u32_of(m, A_NAPI_PID),
        defer_hard_irqs: u32_of(m, A_NAPI_DEFER_HARD_IRQS),
        gro_flush_timeout: uint_of(m, A_NAPI_GRO_FLUSH_TIMEOUT),
        irq_suspend_timeout: uint_of(m, A_NAPI_IRQ_SUSPEND_TIMEOUT),
        threaded: u32_of(m, A_NAPI_THREADED).map(Threaded::from_u32),
    })
}

fn parse_queue(m: &Msg) -> Option<Queue> {
    Some(Queue {
        id: u32_of(m, A_QUEUE_ID)?,
        ifindex: u32_of(m, A_QUEUE_IFINDEX).unwrap_or(0),
        kind: if u32_of(m, A_QUEUE_TYPE)? == 0 { QueueType::Rx } else { QueueType::Tx },
        napi_id: u32_of(m, A_QUEUE_NAPI_ID),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eopnotsupp_names_the_feature_of_the_op() {
        assert_eq!(op_feature(CMD_QUEUE_GET), Feature::NetdevNapiGet);
        assert_eq!(op_feature(CMD_NAPI_GET), Feature::NetdevNapiGet);
        assert_eq!(op_feature(CMD_NAPI_SET), Feature::NapiSet);
    }
}
