//! The generic-netlink controller (`nlctrl`, include/uapi/linux/genetlink.h): what a family is and
//! does, as the kernel itself lists it. CTRL_CMD_GETFAMILY gives a family's id, version and
//! operations (CTRL_ATTR_OPS, each with its GENL_CMD_CAP_* flags); CTRL_CMD_GETPOLICY with
//! CTRL_ATTR_OP gives one operation's attribute policy (net/netlink/policy.c, dumped by
//! ctrl_dumppolicy in net/netlink/genetlink.c).
//!
//! These are the answers that prove absence: a kernel without a family answers GETFAMILY with
//! ENOENT (ctrl_getfamily), a family without an operation does not list it, an operation's
//! policy without an attribute does not dump it. An operation that *is* listed and then answers
//! EOPNOTSUPP is a broken kernel, not an old one.

use super::nlerr::{from_nlmsgerr, uint};
use super::NetError;
use neli::consts::nl::NlmF;
use neli::consts::socket::NlFamily;
use neli::genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, Nlattr, NlattrBuilder, NoUserHeader};
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::socket::NlSocket;
use neli::types::{Buffer, GenlBuffer, NlBuffer};
use neli::utils::Groups;
use neli::{FromBytesWithInput, Size, ToBytes};
use std::collections::BTreeMap;
use std::io::Cursor;

/// GENL_ID_CTRL (NLMSG_MIN_TYPE): the controller's own family id.
const GENL_ID_CTRL: u16 = 0x10;
const NLMSG_DONE: u16 = 3;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_CMD_GETPOLICY: u8 = 10;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const CTRL_ATTR_VERSION: u16 = 3;
const CTRL_ATTR_OPS: u16 = 6;
const CTRL_ATTR_POLICY: u16 = 8;
const CTRL_ATTR_OP_POLICY: u16 = 9;
const CTRL_ATTR_OP: u16 = 10;
const CTRL_ATTR_OP_ID: u16 = 1;
const CTRL_ATTR_OP_FLAGS: u16 = 2;
const CTRL_ATTR_POLICY_DO: u16 = 1;
const CTRL_ATTR_POLICY_DUMP: u16 = 2;
// enum netlink_policy_type_attr (include/uapi/linux/netlink.h)
const NL_POLICY_TYPE_ATTR_TYPE: u16 = 1;
const NL_POLICY_TYPE_ATTR_MIN_VALUE_S: u16 = 2;
const NL_POLICY_TYPE_ATTR_MAX_VALUE_S: u16 = 3;
const NL_POLICY_TYPE_ATTR_MIN_VALUE_U: u16 = 4;
const NL_POLICY_TYPE_ATTR_MAX_VALUE_U: u16 = 5;

type Msg = Genlmsghdr<u8, u16>;
type Attr = Nlattr<u16, Buffer>;

/// An operation's CTRL_ATTR_OP_FLAGS (GENL_* in include/uapi/linux/genetlink.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpFlags(pub u32);

impl OpFlags {
    pub const ADMIN_PERM: u32 = 0x01;
    pub const CAP_DO: u32 = 0x02;
    pub const CAP_DUMP: u32 = 0x04;
    pub const CAP_HASPOL: u32 = 0x08;

    /// The op has a doit (a plain request).
    pub fn can_do(self) -> bool {
        self.0 & Self::CAP_DO != 0
    }

    /// The op has a dumpit (NLM_F_DUMP).
    pub fn can_dump(self) -> bool {
        self.0 & Self::CAP_DUMP != 0
    }

    /// The op validates its attributes against a policy.
    pub fn has_policy(self) -> bool {
        self.0 & Self::CAP_HASPOL != 0
    }
}

impl std::fmt::Display for OpFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names =
            [(Self::CAP_DO, "do"), (Self::CAP_DUMP, "dump"), (Self::CAP_HASPOL, "policy"), (Self::ADMIN_PERM, "admin")];
        let set: Vec<&str> = names.iter().filter(|(bit, _)| self.0 & bit != 0).map(|(_, n)| *n).collect();
        write!(f, "{}", if set.is_empty() { "none".to_owned() } else { set.join("|") })
    }
}

/// A family as CTRL_CMD_GETFAMILY lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyOps {
    pub name: String,
    pub id: u16,
    pub version: u32,
    /// Every operation the family registered, by command number.
    pub ops: BTreeMap<u8, OpFlags>,
}

impl FamilyOps {
    pub fn op(&self, cmd: u8) -> Option<OpFlags> {
        self.ops.get(&cmd).copied()
    }
}

/// enum netlink_attribute_type: what the policy says an attribute holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    Flag,
    U8,
    U16,
    U32,
    U64,
    S8,
    S16,
    S32,
    S64,
    Binary,
    String,
    NulString,
    Nested,
    NestedArray,
    Bitfield32,
    Sint,
    Uint,
    Other(u32),
}

impl AttrKind {
    fn from_u32(v: u32) -> Self {
        use AttrKind::*;
        match v {
            1 => Flag,
            2 => U8,
            3 => U16,
            4 => U32,
            5 => U64,
            6 => S8,
            7 => S16,
            8 => S32,
            9 => S64,
            10 => Binary,
            11 => String,
            12 => NulString,
            13 => Nested,
            14 => NestedArray,
            15 => Bitfield32,
            16 => Sint,
            17 => Uint,
            n => Other(n),
        }
    }
}

/// One attribute of a policy: its type and, for integers with a range, the range's ends
/// (NL_POLICY_TYPE_ATTR_{MIN,MAX}_VALUE_{U,S}; the kernel writes them for every integer
/// attribute validated by range, the type's own limits when the policy gives none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrPolicy {
    pub kind: AttrKind,
    pub min: Option<i128>,
    pub max: Option<i128>,
}

impl AttrPolicy {
    /// Whether `v` passes the range (true when the policy states none).
    pub fn admits(&self, v: i128) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

/// One policy: the attributes it accepts, by attribute type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpPolicy {
    pub attrs: BTreeMap<u16, AttrPolicy>,
}

impl OpPolicy {
    pub fn attr(&self, kind: u16) -> Option<&AttrPolicy> {
        self.attrs.get(&kind)
    }
}

/// An operation's policies as CTRL_ATTR_OP_POLICY maps them: the doit's and the dumpit's
/// (`None`: that handler has no policy or the op has no such handler).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpPolicies {
    pub doit: Option<OpPolicy>,
    pub dumpit: Option<OpPolicy>,
}

/// What one request got back: the messages, or the kernel's refusal.
#[derive(Debug)]
enum Answer {
    Msgs(Vec<Msg>),
    Refused(NetError),
}

/// Collects the datagrams of one exchange (sequence number `seq`): payloads until NLMSG_DONE
/// or the ACK, or the kernel's error. Pure, so captured datagrams can be fed to it.
#[derive(Debug)]
struct Gather {
    seq: u32,
    what: String,
    msgs: Vec<Msg>,
}

impl Gather {
    fn new(seq: u32, what: &str) -> Self {
        Self { seq, what: what.to_owned(), msgs: Vec::new() }
    }

    /// Take one datagram; `Some` once the exchange is over.
    fn feed(&mut self, datagram: &[u8]) -> Result<Option<Answer>, NetError> {
        let broken = |detail: String| NetError::Netlink { what: self.what.clone(), detail };
        let msgs = NlBuffer::<u16, Msg>::from_bytes_with_input(&mut Cursor::new(datagram), datagram.len())
            .map_err(|e| broken(format!("undecodable reply: {e}")))?;
        for m in msgs.iter() {
            if *m.nl_seq() != self.seq {
                continue;
            }
            if *m.nl_type() == NLMSG_DONE {
                return Ok(Some(Answer::Msgs(std::mem::take(&mut self.msgs))));
            }
            match m.nl_payload() {
                NlPayload::Payload(p) => self.msgs.push(p.clone()),
                NlPayload::Err(e) => return Ok(Some(Answer::Refused(from_nlmsgerr(&self.what, e)))),
                NlPayload::Ack(_) | NlPayload::DumpExtAck(_) => {
                    return Ok(Some(Answer::Msgs(std::mem::take(&mut self.msgs))))
                }
                NlPayload::Empty => {}
            }
        }
        Ok(None)
    }
}

fn kind(a: &Attr) -> u16 {
    *a.nla_type().nla_type()
}

fn nested(a: &Attr) -> Result<Vec<Attr>, String> {
    a.get_attr_handle::<u16>()
        .map(|h| h.get_attrs().to_vec())
        .map_err(|e| format!("attribute {} does not hold nested attributes: {e}", kind(a)))
}

fn find(attrs: &[Attr], k: u16) -> Option<&Attr> {
    attrs.iter().find(|a| kind(a) == k)
}

fn u32_in(a: &Attr) -> Option<u32> {
    let b: &[u8] = a.nla_payload().as_ref();
    Some(u32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}

fn u16_in(a: &Attr) -> Option<u16> {
    let b: &[u8] = a.nla_payload().as_ref();
    Some(u16::from_ne_bytes(b.get(..2)?.try_into().ok()?))
}

fn s64_in(a: &Attr) -> Option<i64> {
    let b: &[u8] = a.nla_payload().as_ref();
    Some(i64::from_ne_bytes(b.get(..8)?.try_into().ok()?))
}

fn top(m: &Msg) -> Vec<Attr> {
    m.attrs().iter().cloned().collect()
}

/// The family in a CTRL_CMD_GETFAMILY reply.
fn parse_family(msgs: &[Msg]) -> Result<FamilyOps, String> {
    let m = msgs.first().ok_or("the reply has no message")?;
    let attrs = top(m);
    let id = find(&attrs, CTRL_ATTR_FAMILY_ID).and_then(u16_in).ok_or("the reply has no CTRL_ATTR_FAMILY_ID")?;
    let name = find(&attrs, CTRL_ATTR_FAMILY_NAME)
        .map(|a| {
            let b: &[u8] = a.nla_payload().as_ref();
            String::from_utf8_lossy(b).trim_end_matches('\0').to_owned()
        })
        .unwrap_or_default();
    let version = find(&attrs, CTRL_ATTR_VERSION).and_then(u32_in).unwrap_or(0);
    let mut ops = BTreeMap::new();
    if let Some(list) = find(&attrs, CTRL_ATTR_OPS) {
        for op in nested(list)? {
            let fields = nested(&op)?;
            let cmd = find(&fields, CTRL_ATTR_OP_ID).and_then(u32_in).ok_or("an op without CTRL_ATTR_OP_ID")?;
            let cmd = u8::try_from(cmd).map_err(|_| format!("op id {cmd} is not a genl command"))?;
            let flags = find(&fields, CTRL_ATTR_OP_FLAGS).and_then(u32_in).unwrap_or(0);
            ops.insert(cmd, OpFlags(flags));
        }
    }
    Ok(FamilyOps { name, id, version, ops })
}

fn parse_attr(fields: &[Attr]) -> Result<AttrPolicy, String> {
    let t = find(fields, NL_POLICY_TYPE_ATTR_TYPE).and_then(u32_in).ok_or("an attribute without a type")?;
    let unsigned = |k| find(fields, k).and_then(|a| uint(a.nla_payload())).map(i128::from);
    let signed = |k| find(fields, k).and_then(s64_in).map(i128::from);
    Ok(AttrPolicy {
        kind: AttrKind::from_u32(t),
        min: unsigned(NL_POLICY_TYPE_ATTR_MIN_VALUE_U).or_else(|| signed(NL_POLICY_TYPE_ATTR_MIN_VALUE_S)),
        max: unsigned(NL_POLICY_TYPE_ATTR_MAX_VALUE_U).or_else(|| signed(NL_POLICY_TYPE_ATTR_MAX_VALUE_S)),
    })
}

/// The policies of op `cmd` in a CTRL_CMD_GETPOLICY dump: CTRL_ATTR_OP_POLICY maps the op to
/// policy indexes, each CTRL_ATTR_POLICY message carries policy index → attribute → its type.
fn parse_policy(msgs: &[Msg], cmd: u8) -> Result<OpPolicies, String> {
    let mut tables: BTreeMap<u32, OpPolicy> = BTreeMap::new();
    let (mut doit, mut dumpit) = (None, None);
    for m in msgs {
        let attrs = top(m);
        if let Some(map) = find(&attrs, CTRL_ATTR_OP_POLICY) {
            for op in nested(map)? {
                if kind(&op) != u16::from(cmd) {
                    continue;
                }
                let idx = nested(&op)?;
                doit = find(&idx, CTRL_ATTR_POLICY_DO).and_then(u32_in).or(doit);
                dumpit = find(&idx, CTRL_ATTR_POLICY_DUMP).and_then(u32_in).or(dumpit);
            }
        }
        if let Some(p) = find(&attrs, CTRL_ATTR_POLICY) {
            for table in nested(p)? {
                let entry = tables.entry(u32::from(kind(&table))).or_default();
                for attr in nested(&table)? {
                    entry.attrs.insert(kind(&attr), parse_attr(&nested(&attr)?)?);
                }
            }
        }
    }
    let pick = |i: Option<u32>| i.map(|i| tables.get(&i).cloned().unwrap_or_default());
    Ok(OpPolicies { doit: pick(doit), dumpit: pick(dumpit) })
}

fn attr(kind: u16, payload: impl Size + ToBytes) -> Result<Attr, NetError> {
    let broken = |e: String| NetError::Netlink { what: "build a controller attribute".into(), detail: e };
    let t = AttrTypeBuilder::default().nla_type(kind).build().map_err(|e| broken(e.to_string()))?;
    NlattrBuilder::default().nla_type(t).nla_payload(payload).build().map_err(|e| broken(e.to_string()))
}

/// A socket to the controller.
pub struct Controller {
    sock: NlSocket,
    seq: std::cell::Cell<u32>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller").field("seq", &self.seq.get()).finish()
    }
}

impl Controller {
    pub fn open() -> Result<Self, NetError> {
        let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(NetError::io("open a generic netlink socket"))?;
        sock.block().map_err(NetError::io("make the generic netlink socket blocking"))?;
        let _ = sock.enable_ext_ack(true);
        Ok(Self { sock, seq: std::cell::Cell::new(1) })
    }

    fn exchange(&self, what: &str, cmd: u8, flags: NlmF, attrs: Vec<Attr>) -> Result<Answer, NetError> {
        let broken = |detail: String| NetError::Netlink { what: what.to_owned(), detail };
        let hdr = GenlmsghdrBuilder::<u8, u16, NoUserHeader>::default()
            .cmd(cmd)
            .version(2)
            .attrs(attrs.into_iter().collect::<GenlBuffer<_, _>>())
            .build()
            .map_err(|e| broken(e.to_string()))?;
        let seq = self.seq.get();
        self.seq.set(seq.wrapping_add(1));
        let msg: Nlmsghdr<u16, Msg> = NlmsghdrBuilder::default()
            .nl_type(GENL_ID_CTRL)
            .nl_flags(flags | NlmF::REQUEST)
            .nl_seq(seq)
            .nl_pid(0)
            .nl_payload(NlPayload::Payload(hdr))
            .build()
            .map_err(|e| broken(e.to_string()))?;
        let mut out = Cursor::new(vec![0; msg.padded_size()]);
        msg.to_bytes(&mut out).map_err(|e| broken(e.to_string()))?;
        self.sock.send(out.get_ref(), neli::consts::socket::Msg::empty()).map_err(NetError::io(what))?;
        let mut gather = Gather::new(seq, what);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let (n, _) =
                self.sock.recv(&mut buf[..], neli::consts::socket::Msg::empty()).map_err(NetError::io(what))?;
            if let Some(answer) = gather.feed(&buf[..n])? {
                return Ok(answer);
            }
        }
    }

    /// CTRL_CMD_GETFAMILY for `name`: `None` when the controller answers that it has no such
    /// family (ENOENT, ctrl_getfamily), the family otherwise.
    pub fn family(&self, name: &str) -> Result<Option<FamilyOps>, NetError> {
        let what = format!("look up the {name} family (CTRL_CMD_GETFAMILY)");
        let mut bytes = name.as_bytes().to_vec();
        bytes.push(0);
        let attrs = vec![attr(CTRL_ATTR_FAMILY_NAME, Buffer::from(bytes))?];
        match self.exchange(&what, CTRL_CMD_GETFAMILY, NlmF::ACK, attrs)? {
            Answer::Refused(e) if e.errno() == Some(nix::errno::Errno::ENOENT) => Ok(None),
            Answer::Refused(e) => Err(e),
            Answer::Msgs(msgs) => parse_family(&msgs).map(Some).map_err(|detail| NetError::Netlink { what, detail }),
        }
    }

    /// CTRL_CMD_GETPOLICY for op `cmd` of family `family`. An op without any policy (ENODATA,
    /// ctrl_dumppolicy_start) has neither.
    pub fn op_policy(&self, family: u16, cmd: u8) -> Result<OpPolicies, NetError> {
        let what = format!("dump the policy of op {cmd} of family {family} (CTRL_CMD_GETPOLICY)");
        let attrs = vec![attr(CTRL_ATTR_FAMILY_ID, family)?, attr(CTRL_ATTR_OP, u32::from(cmd))?];
        match self.exchange(&what, CTRL_CMD_GETPOLICY, NlmF::DUMP, attrs)? {
            Answer::Refused(e) if e.errno() == Some(nix::errno::Errno::ENODATA) => Ok(OpPolicies::default()),
            Answer::Refused(e) => Err(e),
            Answer::Msgs(msgs) => parse_policy(&msgs, cmd).map_err(|detail| NetError::Netlink { what, detail }),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Captured from a 6.18.44 kernel (the machine the suites are developed on) with a raw
    /// NETLINK_GENERIC socket, NETLINK_EXT_ACK on: CTRL_CMD_GETFAMILY "netdev" with NLM_F_ACK
    /// (the family, then the ACK), one datagram per line.
    const NETDEV_FAMILY: [&str; 2] = [
        "1c01000010000000010000008d080000010200000b0002006e657464657600000600010014000000080003000100000008000400000000000800050000000000a4000600140001000800010001000000080002000e000000140002000800010005000000080002000e00000014000300080001000a000000080002000e00000014000400080001000b000000080002000e00000014000500080001000c000000080002000c00000014000600080001000d000000080002000b00000014000700080001000e000000080002000b00000014000800080001000f000000080002000a00000038000700180001000800020004000000090001006d676d74000000001c00020008000200050000000e000100706167652d706f6f6c000000",
        "2400000002000001010000008d0800000000000020000000100005000100000000000000",
    ];
    /// The same kernel: GETFAMILY "nosuchfamily" (seq 2).
    const NO_FAMILY: &str = "3c00000002000000020000008d080000feffffff2800000010000500020000000000000003010000110002006e6f7375636866616d696c7900000000";
    /// The same kernel: GETPOLICY family 20 (netdev) op 14 (napi-set), seq 3: the op map, one
    /// message per attribute of policy 0, NLMSG_DONE.
    const NAPI_SET_POLICY: [&str; 2] = [
        "2c00000010000200030000008d0800000a0200000600010014000000100009800c000e8008000100000000004800000010000200030000008d0800000a02000006000100140000002c00088028000080240002800c00040000000000000000000c000500ffffffff0000000008000100040000004800000010000200030000008d0800000a02000006000100140000002c00088028000080240005800c00040000000000000000000c000500ffffff7f0000000008000100040000004800000010000200030000008d0800000a02000006000100140000002c00088028000080240006800c00040000000000000000000c000500ffffffffffffffff08000100110000004800000010000200030000008d0800000a02000006000100140000002c00088028000080240007800c00040000000000000000000c000500ffffffffffffffff08000100110000004800000010000200030000008d0800000a02000006000100140000002c00088028000080240008800c00040000000000000000000c00050001000000000000000800010004000000",
        "1400000003000200030000008d08000000000000",
    ];
    /// The same kernel: GETPOLICY op 99 of netdev (seq 4): ENOENT pointing at CTRL_ATTR_OP.
    const NO_OP_POLICY: &str = "4000000002000002040000008d080000feffffff240000001000010304000000000000000a010000060001001400000008000a0063000000080002001c000000";

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("the test input parses")).collect()
    }

    fn run(seq: u32, datagrams: &[&str]) -> Answer {
        let mut g = Gather::new(seq, "test");
        for d in datagrams {
            if let Some(a) = g.feed(&hex(d)).expect("the test input parses") {
                return a;
            }
        }
        panic!("the exchange did not end")
    }

    fn msgs(a: Answer) -> Vec<Msg> {
        match a {
            Answer::Msgs(m) => m,
            Answer::Refused(e) => panic!("refused: {e}"),
        }
    }

    /// A reply message built by hand: `attrs` as (type, payload) with nested ones pre-encoded.
    pub(crate) fn nla(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = 4 + payload.len();
        let mut v = (len as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(payload);
        v.resize(len.div_ceil(4) * 4, 0);
        v
    }

    pub(crate) fn genl(seq: u32, flags: u16, cmd: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = [vec![cmd, 2, 0, 0], attrs.concat()].concat();
        let mut v = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(&GENL_ID_CTRL.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&body);
        v
    }

    pub(crate) fn done(seq: u32) -> Vec<u8> {
        let mut v = 20u32.to_ne_bytes().to_vec();
        v.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        v.extend_from_slice(&2u16.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&[0; 8]);
        v
    }

    /// A napi-set policy dump like the kernel's, with `threaded_max` as the `threaded`
    /// attribute's maximum (None: no `threaded`) and `irq_suspend` saying whether attribute 7 is
    /// there.
    pub(crate) fn napi_set_policy(seq: u32, threaded_max: Option<u64>, irq_suspend: bool) -> Vec<u8> {
        let n = |k: u16, inner: &[Vec<u8>]| nla(k | 0x8000, &inner.concat());
        let u32a = |k: u16, v: u32| nla(k, &v.to_ne_bytes());
        let u64a = |k: u16, v: u64| nla(k, &v.to_ne_bytes());
        let one = |attr: u16, kind: u32, max: u64| {
            genl(
                seq,
                2,
                CTRL_CMD_GETPOLICY,
                &[
                    u32a(CTRL_ATTR_FAMILY_ID, 20),
                    n(
                        CTRL_ATTR_POLICY,
                        &[n(0, &[n(attr, &[u64a(4, 0), u64a(5, max), u32a(NL_POLICY_TYPE_ATTR_TYPE, kind)])])],
                    ),
                ],
            )
        };
        let mut v =
            genl(seq, 2, CTRL_CMD_GETPOLICY, &[n(CTRL_ATTR_OP_POLICY, &[n(14, &[u32a(CTRL_ATTR_POLICY_DO, 0)])])]);
        v.extend(one(2, 4, u64::from(u32::MAX)));
        v.extend(one(5, 4, i32::MAX as u64));
        v.extend(one(6, 17, u64::MAX));
        if irq_suspend {
            v.extend(one(7, 17, u64::MAX));
        }
        if let Some(max) = threaded_max {
            v.extend(one(8, 4, max));
        }
        v.extend(done(seq));
        v
    }

    #[test]
    fn netdev_family_and_its_ops() {
        let f = parse_family(&msgs(run(1, &NETDEV_FAMILY))).expect("the test input parses");
        assert_eq!((f.name.as_str(), f.id, f.version), ("netdev", 20, 1));
        assert_eq!(f.ops.keys().copied().collect::<Vec<_>>(), vec![1, 5, 10, 11, 12, 13, 14, 15]);
        let get = f.op(11).expect("the test input parses");
        assert!(get.can_do() && get.can_dump() && get.has_policy());
        let set = f.op(14).expect("the test input parses");
        assert!(set.can_do() && !set.can_dump() && set.has_policy());
        assert_eq!(set.to_string(), "do|policy|admin");
        assert_eq!(f.op(3), None, "cmd 3 (dev-del-ntf) is a notification, no op");
    }

    #[test]
    fn unknown_family_is_the_controllers_enoent() {
        match run(2, &[NO_FAMILY]) {
            Answer::Refused(e) => assert_eq!(e.errno(), Some(nix::errno::Errno::ENOENT)),
            Answer::Msgs(m) => panic!("want ENOENT, got {m:?}"),
        }
    }

    #[test]
    fn napi_set_policy_of_a_618_kernel() {
        let p = parse_policy(&msgs(run(3, &NAPI_SET_POLICY)), 14).expect("the test input parses");
        assert_eq!(p.dumpit, None);
        let d = p.doit.expect("the test input parses");
        assert_eq!(d.attrs.keys().copied().collect::<Vec<_>>(), vec![2, 5, 6, 7, 8]);
        assert_eq!(
            d.attr(2).expect("the test input parses"),
            &AttrPolicy { kind: AttrKind::U32, min: Some(0), max: Some(u32::MAX.into()) }
        );
        assert_eq!(d.attr(5).expect("the test input parses").max, Some(i32::MAX.into()), "defer-hard-irqs: s32-max");
        assert_eq!(d.attr(6).expect("the test input parses").kind, AttrKind::Uint);
        assert_eq!(d.attr(7).expect("the test input parses").max, Some(u64::MAX.into()));
        let threaded = d.attr(8).expect("the test input parses");
        assert_eq!((threaded.kind, threaded.max), (AttrKind::U32, Some(1)), "6.18: disabled/enabled only");
        assert!(threaded.admits(1) && !threaded.admits(2));
    }

    #[test]
    fn unknown_op_is_refused() {
        match run(4, &[NO_OP_POLICY]) {
            Answer::Refused(e) => {
                assert_eq!(e.errno(), Some(nix::errno::Errno::ENOENT));
                assert_eq!(e.extack(), Some("bad attribute at offset 28"));
            }
            Answer::Msgs(m) => panic!("want ENOENT, got {m:?}"),
        }
    }

    #[test]
    fn built_policies_parse_like_the_kernels() {
        let mut g = Gather::new(9, "test");
        let a =
            g.feed(&napi_set_policy(9, Some(2), false)).expect("the test input parses").expect("the test input parses");
        let d = parse_policy(&msgs(a), 14).expect("the test input parses").doit.expect("the test input parses");
        assert_eq!(d.attr(8).expect("the test input parses").max, Some(2));
        assert!(d.attr(7).is_none());
        // Another op's map entry is not this op's.
        let mut g = Gather::new(9, "test");
        let a = g.feed(&napi_set_policy(9, None, true)).expect("the test input parses").expect("the test input parses");
        assert_eq!(parse_policy(&msgs(a), 11).expect("the test input parses"), OpPolicies::default());
    }

    #[test]
    fn other_sequence_numbers_are_ignored() {
        let mut g = Gather::new(5, "test");
        assert!(g.feed(&hex(NETDEV_FAMILY[0])).expect("the test input parses").is_none());
        assert!(g.feed(&done(4)).expect("the test input parses").is_none());
        assert!(matches!(g.feed(&done(5)).expect("the test input parses"), Some(Answer::Msgs(m)) if m.is_empty()));
    }

    #[test]
    fn signed_ranges() {
        let fields = [
            nla(NL_POLICY_TYPE_ATTR_MIN_VALUE_S, &(-5i64).to_ne_bytes()),
            nla(NL_POLICY_TYPE_ATTR_MAX_VALUE_S, &7i64.to_ne_bytes()),
            nla(NL_POLICY_TYPE_ATTR_TYPE, &8u32.to_ne_bytes()),
        ]
        .concat();
        let attrs = GenlBuffer::<u16, Buffer>::from_bytes_with_input(&mut Cursor::new(&fields), fields.len())
            .expect("the test input parses");
        let attrs: Vec<Attr> = attrs.iter().cloned().collect();
        let p = parse_attr(&attrs).expect("the test input parses");
        assert_eq!(p, AttrPolicy { kind: AttrKind::S32, min: Some(-5), max: Some(7) });
        assert!(p.admits(-5) && !p.admits(8));
    }
}
