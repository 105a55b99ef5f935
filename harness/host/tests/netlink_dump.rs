//! Snapshots of what the netdev netlink family reports for the test topologies on the pinned
//! source-built kernel (`src:7.2`): queue → NAPI links and per-NAPI settings, with ids, pids and
//! IRQ numbers normalised by the guest (`net::netlink_dump`). A kernel change to what queue-get
//! or napi-get report shows up as a snapshot diff. Ignored by default because it needs the
//! source build; `.ci/run` runs it after building src:7.2.

use pollcheck::session::{self, SessionConfig};
use pollcheck::Workspace;

const PREFIX: &str = "netlink-dump: ";

#[test]
#[ignore = "boots src:7.2 (a source build; .ci/run builds it first)"]
fn netlink_dumps_of_both_topologies() {
    let ws = Workspace::open().expect("the agent builds and lists its cases");
    let names = ["net::netlink_dump.virtio", "net::netlink_dump.netdevsim"];
    let cases: Vec<_> =
        names.iter().map(|n| ws.cases.iter().find(|c| c.id.to_string() == *n).expect("case exists").clone()).collect();
    let mut cfg = SessionConfig::new(ws.kernel("src:7.2", None).expect("kernel"), &ws);
    cfg.queues = Some(4);
    let result = session::run(&ws, &cfg, &cases, &session::Quiet).expect("session runs");
    for rec in &result.report.cases {
        let line = rec.logs.iter().find_map(|l| l.strip_prefix(PREFIX)).unwrap_or_else(|| {
            panic!("{} logged no dump: {:?} {:?}", rec.id, rec.outcome, rec.logs);
        });
        let doc: serde_json::Value = serde_json::from_str(line).expect("the dump is JSON");
        let variant = rec.id.variant.clone().unwrap_or_default();
        insta::assert_json_snapshot!(format!("netlink_dump_{variant}"), doc);
    }
}
