//! Disturbing B's NIC the way an operator does, for cases that check what survives it: the link
//! taken down and up again (`ip link set down/up`: ndo_stop disables every NAPI, netdevsim even
//! deletes them; ndo_open adds and enables them again), and the combined channel count changed
//! (`ethtool -L`, here through [`super::ethtool`]). NAPI ids are not promised to survive either,
//! so NAPIs are found again by RX queue index (queue-get) after each step; a guard puts the link
//! and the channel count back.

use super::netdev::{Netdev, QueueType};
use super::topology::Topology;
use super::{ethtool, rtnl, NetError};
use pollcheck_proto::Feature;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long NAPIs may take to come back after the link goes up or the channel count changes.
const SETTLE: Duration = Duration::from_secs(5);

/// B's RX queue index → the id of the NAPI queue-get names for it.
pub fn rx_napis(topo: &Topology) -> Result<BTreeMap<u32, u32>, NetError> {
    let ifindex = topo.b.ifindex;
    let queues = topo.b.ns.try_run(move || Netdev::open()?.queues(ifindex))?;
    let rx: Vec<_> = queues.into_iter().filter(|q| q.kind == QueueType::Rx).collect();
    if !rx.is_empty() && rx.iter().all(|q| q.napi_id.is_none()) {
        return Err(NetError::Absent {
            feature: Feature::VirtioNapiQueues,
            why: super::steer::unlinked_queues(&topo.b.ifname),
        });
    }
    Ok(rx.into_iter().filter_map(|q| Some((q.id, q.napi_id?))).collect())
}

/// [`rx_napis`] once it lists exactly `count` RX queues, each with a NAPI (waits up to [`SETTLE`]).
pub fn rx_napis_settled(topo: &Topology, count: u32) -> Result<BTreeMap<u32, u32>, NetError> {
    let until = Instant::now() + SETTLE;
    loop {
        let now = rx_napis(topo)?;
        if now.len() as u32 == count && now.keys().copied().eq(0..count) {
            return Ok(now);
        }
        if Instant::now() > until {
            return Err(NetError::Unusable(format!(
                "{} lists RX queues {:?} with NAPIs {} s after the change, expected queues 0..{count}",
                topo.b.ifname,
                now,
                SETTLE.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What napi-get said about a NAPI while the link was down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhileDown {
    pub id: u32,
    /// The kernel's errno (ENOENT: a disabled NAPI is not in the NAPI hash), or None if found.
    pub errno: Option<nix::errno::Errno>,
}

/// Take B's link down, ask napi-get for each of `ids` meanwhile, bring it up again, and wait until
/// queue-get lists `queues` RX queues with NAPIs again.
pub fn bounce(topo: &Topology, ids: &[u32], queues: u32) -> Result<Vec<WhileDown>, NetError> {
    let ifindex = topo.b.ifindex;
    topo.b.ns.try_run(|| rtnl::set_down(ifindex))?;
    let seen = topo.b.ns.try_run(|| {
        let nd = Netdev::open()?;
        Ok(ids.iter().map(|&id| WhileDown { id, errno: nd.napi_get(id).err().and_then(|e| e.errno()) }).collect())
    });
    // Up again whatever napi-get said.
    topo.b.ns.try_run(|| rtnl::set_up(ifindex))?;
    let seen = seen?;
    rx_napis_settled(topo, queues)?;
    Ok(seen)
}

/// Set B's combined channel count to `n` (`ethtool -L <dev> combined n`).
pub fn set_channels(topo: &Topology, n: u32) -> Result<(), NetError> {
    let name = topo.b.ifname.clone();
    topo.b.ns.try_run(move || ethtool::set_combined(&name, n))
}

/// B's combined channel count now.
pub fn channels(topo: &Topology) -> Result<u32, NetError> {
    let name = topo.b.ifname.clone();
    topo.b.ns.try_run(move || ethtool::get(&name)).map(|c| c.combined_count)
}

/// Brings B's link up and its channel count back to what it was when dropped.
#[derive(Debug)]
pub struct Restore<'t> {
    topo: &'t Topology,
    channels: u32,
}

/// A guard for B's link state and channel count (read now).
pub fn guard(topo: &Topology) -> Result<Restore<'_>, NetError> {
    Ok(Restore { topo, channels: channels(topo)? })
}

impl Restore<'_> {
    /// The channel count B had when the guard was made.
    pub fn channels(&self) -> u32 {
        self.channels
    }
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        let ifindex = self.topo.b.ifindex;
        let _ = self.topo.b.ns.try_run(|| rtnl::set_up(ifindex));
        let _ = set_channels(self.topo, self.channels);
    }
}
