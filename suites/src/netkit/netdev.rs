//! The netdev generic-netlink family (Documentation/netlink/specs/netdev.yaml): NAPI instances
//! and queues of a device, and per-NAPI settings (napi-get, queue-get dumps, napi-set).
//! Requests act on the calling thread's network namespace.
//!
//! Absence is decided from the generic-netlink controller ([`super::genl_ctrl`]), never from an
//! op's errno: an op the family's op list lacks, or a napi-set attribute its policy lacks, is
//! [`NetError::Absent`]; an op that is listed and answers EOPNOTSUPP, an attribute the policy
//! lists and the kernel calls unknown, a value inside the policy's range answered ERANGE, is
//! [`NetError::Lost`].

use super::genl_ctrl::{AttrPolicy, Controller, FamilyOps, OpFlags, OpPolicy};
use super::nlerr::{from_nlmsgerr, uint};
use super::NetError;
use neli::consts::nl::NlmF;
use neli::consts::socket::NlFamily;
use neli::genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, NlattrBuilder, NoUserHeader};
use neli::nl::{NlPayload, NlmsghdrBuilder};
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

/// The feature a kernel lacks when its netdev family lacks op `cmd`.
fn op_feature(cmd: u8) -> Feature {
    match cmd {
        CMD_NAPI_SET => Feature::NapiSet,
        _ => Feature::NetdevNapiGet,
    }
}

/// The op's name in the netdev spec.
fn op_name(cmd: u8) -> &'static str {
    match cmd {
        CMD_QUEUE_GET => "queue-get",
        CMD_NAPI_GET => "napi-get",
        CMD_NAPI_SET => "napi-set",
        _ => "an op",
    }
}

/// A per-NAPI attribute napi-set takes (enum netdev_a_napi).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NapiAttr {
    DeferHardIrqs,
    GroFlushTimeout,
    IrqSuspendTimeout,
    Threaded,
}

impl NapiAttr {
    pub const ALL: [NapiAttr; 4] =
        [NapiAttr::DeferHardIrqs, NapiAttr::GroFlushTimeout, NapiAttr::IrqSuspendTimeout, NapiAttr::Threaded];

    /// Its attribute type.
    pub fn id(self) -> u16 {
        match self {
            Self::DeferHardIrqs => A_NAPI_DEFER_HARD_IRQS,
            Self::GroFlushTimeout => A_NAPI_GRO_FLUSH_TIMEOUT,
            Self::IrqSuspendTimeout => A_NAPI_IRQ_SUSPEND_TIMEOUT,
            Self::Threaded => A_NAPI_THREADED,
        }
    }

    /// Its name in the netdev spec.
    pub fn name(self) -> &'static str {
        match self {
            Self::DeferHardIrqs => "defer-hard-irqs",
            Self::GroFlushTimeout => "gro-flush-timeout",
            Self::IrqSuspendTimeout => "irq-suspend-timeout",
            Self::Threaded => "threaded",
        }
    }

    /// The feature a kernel without the attribute lacks.
    pub fn feature(self) -> Feature {
        match self {
            Self::DeferHardIrqs | Self::GroFlushTimeout => Feature::NapiSet,
            Self::IrqSuspendTimeout => Feature::IrqSuspend,
            Self::Threaded => Feature::NapiThreaded,
        }
    }
}

impl NapiSettings {
    /// The attributes of the request, with their values.
    fn attrs(&self) -> Vec<(NapiAttr, u64)> {
        let mut out = Vec::new();
        if let Some(v) = self.defer_hard_irqs {
            out.push((NapiAttr::DeferHardIrqs, u64::from(v)));
        }
        if let Some(v) = self.gro_flush_timeout {
            out.push((NapiAttr::GroFlushTimeout, v));
        }
        if let Some(v) = self.irq_suspend_timeout {
            out.push((NapiAttr::IrqSuspendTimeout, v));
        }
        if let Some(v) = self.threaded {
            out.push((NapiAttr::Threaded, u64::from(v.to_u32())));
        }
        out
    }

    /// The feature the request exercises: its most specific attribute's.
    fn feature(&self) -> Feature {
        match (self.threaded, self.irq_suspend_timeout) {
            (Some(Threaded::BusyPoll), _) => Feature::ThreadedBusyPoll,
            (Some(_), _) => Feature::NapiThreaded,
            (None, Some(_)) => Feature::IrqSuspend,
            (None, None) => Feature::NapiSet,
        }
    }
}

/// Op `cmd` as the family lists it, able to do (or dump): else Absent, said as the op list says it.
fn listed(family: &FamilyOps, cmd: u8, dump: bool) -> Result<OpFlags, NetError> {
    let how = if dump { "dump" } else { "do" };
    match family.op(cmd) {
        Some(f) if (dump && f.can_dump()) || (!dump && f.can_do()) => Ok(f),
        Some(f) => Err(NetError::Absent {
            feature: op_feature(cmd),
            why: format!(
                "the netdev family's op list (CTRL_CMD_GETFAMILY) has {} (cmd {cmd}) without {how} (flags {f})",
                op_name(cmd)
            ),
        }),
        None => Err(NetError::Absent {
            feature: op_feature(cmd),
            why: format!("the netdev family's op list (CTRL_CMD_GETFAMILY) has no {} (cmd {cmd})", op_name(cmd)),
        }),
    }
}

/// Whether napi-set's policy takes `s`: Absent for an attribute the policy lacks, and for
/// `threaded = busy-poll` beyond the policy's maximum for `threaded` (6.17/6.18 cap it at 1).
/// Other values outside the range are left to the kernel (cases send them on purpose).
fn admitted(policy: &OpPolicy, s: &NapiSettings) -> Result<(), NetError> {
    for (a, _) in s.attrs() {
        if policy.attr(a.id()).is_none() {
            return Err(NetError::Absent {
                feature: a.feature(),
                why: format!(
                    "napi-set's attribute policy (CTRL_CMD_GETPOLICY) has no {} (attribute {})",
                    a.name(),
                    a.id()
                ),
            });
        }
    }
    if s.threaded == Some(Threaded::BusyPoll) {
        let p = policy.attr(A_NAPI_THREADED);
        if let Some(max) = p.and_then(|p| p.max).filter(|&m| m < 2) {
            return Err(NetError::Absent {
                feature: Feature::ThreadedBusyPoll,
                why: format!(
                    "napi-set's attribute policy (CTRL_CMD_GETPOLICY) caps threaded at {max} (enabled): no busy-poll mode (2)"
                ),
            });
        }
    }
    Ok(())
}

/// The nla_validate messages of an attribute a policy does not know (lib/nlattr.c).
fn unknown_attribute(extack: Option<&str>) -> bool {
    extack.is_some_and(|m| m.contains("Unknown attribute type") || m.contains("Unsupported attribute"))
}

/// The kernel's refusal of a request to listed op `cmd` with `sent` attributes, judged against
/// what the controller said: refusals only a kernel without the op, the attribute or the value
/// gives, from a kernel that advertises them, are [`NetError::Lost`].
fn judge(
    cmd: u8,
    flags: OpFlags,
    policy: Option<&OpPolicy>,
    sent: &[(NapiAttr, u64)],
    feature: Feature,
    err: NetError,
) -> NetError {
    let op = op_name(cmd);
    let names = || sent.iter().map(|(a, v)| format!("{}={v}", a.name())).collect::<Vec<_>>().join(" ");
    let lists = |p: &OpPolicy| sent.iter().all(|(a, _)| p.attr(a.id()).is_some());
    let admits = |p: &OpPolicy| {
        sent.iter().all(|(a, v)| p.attr(a.id()).is_some_and(|ap: &AttrPolicy| ap.admits(i128::from(*v))))
    };
    match err.errno() {
        Some(nix::errno::Errno::EOPNOTSUPP) => NetError::Lost {
            feature: if cmd == CMD_NAPI_SET { feature } else { op_feature(cmd) },
            why: format!("the netdev family lists {op} (cmd {cmd}, {flags}) yet it answered EOPNOTSUPP: {err}"),
        },
        Some(nix::errno::Errno::EINVAL) if unknown_attribute(err.extack()) && policy.is_some_and(lists) => {
            NetError::Lost {
                feature,
                why: format!(
                    "{op}'s attribute policy (CTRL_CMD_GETPOLICY) lists {} yet the kernel calls one unknown: {err}",
                    names()
                ),
            }
        }
        Some(nix::errno::Errno::ERANGE) if !sent.is_empty() && policy.is_some_and(admits) => NetError::Lost {
            feature,
            why: format!(
                "{op}'s attribute policy (CTRL_CMD_GETPOLICY) admits {} yet the kernel answered ERANGE: {err}",
                names()
            ),
        },
        _ => err,
    }
}

/// A netdev-family socket in the calling thread's namespace.
///
/// Requests go through a plain socket read until NLMSG_DONE or the ACK: the kernel's newer
/// generic-netlink dumps (genlmsg_iput) don't set NLM_F_MULTI on each message, and neli's router
/// takes a message without it for the last one (seen: a 4-queue dump came back as one queue).
pub struct Netdev {
    sock: NlSocketHandle,
    ctrl: Controller,
    family: FamilyOps,
    /// napi-set's do policy, asked for the first time napi-set is.
    napi_set_policy: std::cell::OnceCell<OpPolicy>,
    seq: std::cell::Cell<u32>,
}

impl std::fmt::Debug for Netdev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netdev").field("family", &self.family.id).field("seq", &self.seq.get()).finish()
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
    /// Look the family up with the controller: a kernel without it (before 6.3) answers ENOENT.
    pub fn open() -> Result<Self, NetError> {
        let ctrl = Controller::open()?;
        let family = ctrl.family("netdev")?.ok_or_else(|| NetError::Absent {
            feature: Feature::NetdevNapiGet,
            why: "the generic-netlink controller has no netdev family (CTRL_CMD_GETFAMILY \"netdev\": ENOENT)".into(),
        })?;
        let sock = NlSocketHandle::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|e| NetError::Netlink { what: "open a generic netlink socket".into(), detail: e.to_string() })?;
        let _ = sock.enable_ext_ack(true);
        Ok(Self { sock, ctrl, family, napi_set_policy: std::cell::OnceCell::new(), seq: std::cell::Cell::new(1) })
    }

    /// The family as the controller lists it.
    pub fn family(&self) -> &FamilyOps {
        &self.family
    }

    /// napi-set's attribute policy (its doit's): Absent when the op list has no napi-set.
    pub fn napi_set_policy(&self) -> Result<&OpPolicy, NetError> {
        listed(&self.family, CMD_NAPI_SET, false)?;
        if let Some(p) = self.napi_set_policy.get() {
            return Ok(p);
        }
        let policy = self.ctrl.op_policy(self.family.id, CMD_NAPI_SET)?.doit.ok_or_else(|| NetError::Netlink {
            what: "read napi-set's attribute policy (CTRL_CMD_GETPOLICY)".into(),
            detail: "the controller reports no do policy for napi-set".into(),
        })?;
        Ok(self.napi_set_policy.get_or_init(|| policy))
    }

    /// napi-set's policy of `attr`: Absent (naming `attr`'s feature) when the op list has no
    /// napi-set or its policy has no such attribute.
    pub fn settable(&self, attr: NapiAttr) -> Result<AttrPolicy, NetError> {
        let policy = self.napi_set_policy().map_err(|e| match e {
            NetError::Absent { why, .. } => {
                NetError::Absent { feature: attr.feature(), why: format!("{why}, so no {}", attr.name()) }
            }
            other => other,
        })?;
        policy.attr(attr.id()).copied().ok_or_else(|| NetError::Absent {
            feature: attr.feature(),
            why: format!(
                "napi-set's attribute policy (CTRL_CMD_GETPOLICY) has no {} (attribute {})",
                attr.name(),
                attr.id()
            ),
        })
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
            .nl_type(self.family.id)
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
        let msgs = self.checked(&what, CMD_NAPI_GET, NlmF::ACK, vec![attr(A_NAPI_ID, id)?])?;
        msgs.first()
            .and_then(parse_napi)
            .ok_or_else(|| NetError::Netlink { what, detail: "the reply had no NAPI id".into() })
    }

    /// napi-get dump of every NAPI of `ifindex`, sorted by id.
    pub fn napis(&self, ifindex: u32) -> Result<Vec<Napi>, NetError> {
        let what = format!("list the NAPIs of link {ifindex} (netdev napi-get dump)");
        let msgs = self.checked(&what, CMD_NAPI_GET, NlmF::DUMP, vec![attr(A_NAPI_IFINDEX, ifindex)?])?;
        let mut out: Vec<Napi> = msgs.iter().filter_map(parse_napi).filter(|n| n.ifindex == ifindex).collect();
        out.sort_by_key(|n| n.id);
        Ok(out)
    }

    /// queue-get dump of every queue of `ifindex`, RX first, by id.
    pub fn queues(&self, ifindex: u32) -> Result<Vec<Queue>, NetError> {
        let what = format!("list the queues of link {ifindex} (netdev queue-get dump)");
        let msgs = self.checked(&what, CMD_QUEUE_GET, NlmF::DUMP, vec![attr(A_QUEUE_IFINDEX, ifindex)?])?;
        let mut out: Vec<Queue> = msgs.iter().filter_map(parse_queue).filter(|q| q.ifindex == ifindex).collect();
        out.sort_by_key(|q| (q.kind == QueueType::Tx, q.id));
        Ok(out)
    }

    /// napi-set: the attributes given in `s` on NAPI `id` (needs CAP_NET_ADMIN). Absent when
    /// the op list has no napi-set or its policy lacks an attribute of `s` (or busy-poll mode).
    pub fn napi_set(&self, id: u32, s: &NapiSettings) -> Result<(), NetError> {
        let what = format!("set {s} on NAPI {id} (netdev napi-set)");
        let flags = listed(&self.family, CMD_NAPI_SET, false).map_err(|e| match e {
            NetError::Absent { why, .. } => NetError::Absent { feature: s.feature(), why },
            other => other,
        })?;
        let policy = self.napi_set_policy()?;
        admitted(policy, s)?;
        let sent = s.attrs();
        let mut attrs = vec![attr(A_NAPI_ID, id)?];
        for (a, v) in &sent {
            attrs.push(match a {
                NapiAttr::DeferHardIrqs | NapiAttr::Threaded => attr(a.id(), u32::try_from(*v).unwrap_or(u32::MAX))?,
                NapiAttr::GroFlushTimeout | NapiAttr::IrqSuspendTimeout => attr(a.id(), *v)?,
            });
        }
        self.request(&what, CMD_NAPI_SET, NlmF::ACK, attrs)
            .map(|_| ())
            .map_err(|e| judge(CMD_NAPI_SET, flags, Some(policy), &sent, s.feature(), e))
    }

    /// A request to an op without napi-set's attributes: Absent when the op list lacks it, Lost
    /// when a listed op answers EOPNOTSUPP.
    fn checked(
        &self,
        what: &str,
        cmd: u8,
        flags: NlmF,
        attrs: Vec<neli::genl::Nlattr<u16, Buffer>>,
    ) -> Result<Vec<Msg>, NetError> {
        let op = listed(&self.family, cmd, flags.contains(NlmF::DUMP))?;
        self.request(what, cmd, flags, attrs).map_err(|e| judge(cmd, op, None, &[], op_feature(cmd), e))
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
    use crate::netkit::genl_ctrl::AttrKind;
    use nix::errno::Errno;
    use std::collections::BTreeMap;

    fn family(ops: &[(u8, u32)]) -> FamilyOps {
        FamilyOps {
            name: "netdev".into(),
            id: 20,
            version: 1,
            ops: ops.iter().map(|&(c, f)| (c, OpFlags(f))).collect::<BTreeMap<_, _>>(),
        }
    }

    /// napi-set's policy: id, defer-hard-irqs (s32-max), gro-flush-timeout, and as asked
    /// irq-suspend-timeout and threaded (with its maximum).
    fn policy(irq_suspend: bool, threaded_max: Option<i128>) -> OpPolicy {
        let u = |kind, max| AttrPolicy { kind, min: Some(0), max: Some(max) };
        let mut attrs = BTreeMap::from([
            (A_NAPI_ID, u(AttrKind::U32, u32::MAX.into())),
            (A_NAPI_DEFER_HARD_IRQS, u(AttrKind::U32, i32::MAX.into())),
            (A_NAPI_GRO_FLUSH_TIMEOUT, u(AttrKind::Uint, u64::MAX.into())),
        ]);
        if irq_suspend {
            attrs.insert(A_NAPI_IRQ_SUSPEND_TIMEOUT, u(AttrKind::Uint, u64::MAX.into()));
        }
        if let Some(m) = threaded_max {
            attrs.insert(A_NAPI_THREADED, u(AttrKind::U32, m));
        }
        OpPolicy { attrs }
    }

    fn absent(r: Result<impl std::fmt::Debug, NetError>) -> (Feature, String) {
        match r {
            Err(NetError::Absent { feature, why }) => (feature, why),
            other => panic!("want absent, got {other:?}"),
        }
    }

    fn kernel(errno: Errno, extack: Option<&str>) -> NetError {
        NetError::Kernel { what: "napi-set".into(), errno, extack: extack.map(str::to_owned) }
    }

    const DO_POL: u32 = OpFlags::CAP_DO | OpFlags::CAP_HASPOL;

    #[test]
    fn absence_comes_from_the_op_list() {
        // Debian 6.12: queue-get and napi-get, no napi-set.
        let f = family(&[(CMD_QUEUE_GET, 0x0e), (CMD_NAPI_GET, 0x0e)]);
        assert!(listed(&f, CMD_NAPI_GET, true).is_ok());
        let (feature, why) = absent(listed(&f, CMD_NAPI_SET, false));
        assert_eq!(feature, Feature::NapiSet);
        assert_eq!(why, "the netdev family's op list (CTRL_CMD_GETFAMILY) has no napi-set (cmd 14)");
        // An op listed without the handler asked for is absent as such.
        let f = family(&[(CMD_QUEUE_GET, DO_POL)]);
        let (feature, why) = absent(listed(&f, CMD_QUEUE_GET, true));
        assert_eq!(feature, Feature::NetdevNapiGet);
        assert!(why.ends_with("has queue-get (cmd 10) without dump (flags do|policy)"), "{why}");
    }

    #[test]
    fn absence_of_an_attribute_comes_from_the_policy() {
        let irq = NapiSettings { irq_suspend_timeout: Some(5), ..Default::default() };
        let (feature, why) = absent(admitted(&policy(false, None), &irq));
        assert_eq!(feature, Feature::IrqSuspend);
        assert_eq!(why, "napi-set's attribute policy (CTRL_CMD_GETPOLICY) has no irq-suspend-timeout (attribute 7)");
        let busy = NapiSettings { threaded: Some(Threaded::BusyPoll), ..Default::default() };
        assert_eq!(absent(admitted(&policy(true, None), &busy)).0, Feature::NapiThreaded);
        // 6.18: threaded capped at 1.
        let (feature, why) = absent(admitted(&policy(true, Some(1)), &busy));
        assert_eq!(feature, Feature::ThreadedBusyPoll);
        assert!(why.contains("caps threaded at 1"), "{why}");
        assert!(admitted(&policy(true, Some(2)), &busy).is_ok());
        // Out-of-range values of other attributes are the kernel's to refuse (ERANGE).
        let big = NapiSettings { defer_hard_irqs: Some(i32::MAX as u32 + 1), ..Default::default() };
        assert!(admitted(&policy(true, Some(2)), &big).is_ok());
    }

    #[test]
    fn refusals_of_what_is_advertised_are_lost() {
        let p = policy(true, Some(2));
        let flags = OpFlags(DO_POL | OpFlags::ADMIN_PERM);
        let irq = NapiSettings { irq_suspend_timeout: Some(5), ..Default::default() };
        let lost = |e| match judge(CMD_NAPI_SET, flags, Some(&p), &irq.attrs(), irq.feature(), e) {
            NetError::Lost { feature, why } => (feature, why),
            other => panic!("want lost, got {other:?}"),
        };
        let (feature, why) = lost(kernel(Errno::EOPNOTSUPP, None));
        assert_eq!(feature, Feature::IrqSuspend);
        assert!(why.starts_with("the netdev family lists napi-set (cmd 14, do|policy|admin) yet"), "{why}");
        let (_, why) = lost(kernel(Errno::EINVAL, Some("Unknown attribute type")));
        assert!(why.contains("lists irq-suspend-timeout=5"), "{why}");
        let (_, why) = lost(kernel(Errno::ERANGE, None));
        assert!(why.contains("admits irq-suspend-timeout=5"), "{why}");
        // napi-get's EOPNOTSUPP is the op's feature.
        let e = judge(CMD_NAPI_GET, OpFlags(0x0e), None, &[], Feature::NetdevNapiGet, kernel(Errno::EOPNOTSUPP, None));
        assert!(matches!(e, NetError::Lost { feature: Feature::NetdevNapiGet, .. }), "{e:?}");
    }

    #[test]
    fn other_refusals_stay_the_kernels() {
        let p = policy(true, Some(2));
        let flags = OpFlags(DO_POL);
        let keep = |s: &NapiSettings, e| {
            matches!(judge(CMD_NAPI_SET, flags, Some(&p), &s.attrs(), s.feature(), e), NetError::Kernel { .. })
        };
        let big = NapiSettings { defer_hard_irqs: Some(i32::MAX as u32 + 1), ..Default::default() };
        assert!(keep(&big, kernel(Errno::ERANGE, Some("integer out of range"))), "outside the policy's range");
        let irq = NapiSettings { irq_suspend_timeout: Some(5), ..Default::default() };
        assert!(keep(&irq, kernel(Errno::EINVAL, None)), "a plain EINVAL is for the case to judge");
        assert!(keep(&irq, kernel(Errno::ENOENT, None)));
        assert!(keep(&irq, kernel(Errno::EPERM, None)));
    }

    #[test]
    fn a_request_exercises_its_most_specific_feature() {
        let s =
            |t, i| NapiSettings { defer_hard_irqs: Some(1), irq_suspend_timeout: i, threaded: t, ..Default::default() };
        assert_eq!(s(None, None).feature(), Feature::NapiSet);
        assert_eq!(s(None, Some(1)).feature(), Feature::IrqSuspend);
        assert_eq!(s(Some(Threaded::Enabled), Some(1)).feature(), Feature::NapiThreaded);
        assert_eq!(s(Some(Threaded::BusyPoll), None).feature(), Feature::ThreadedBusyPoll);
    }
}
