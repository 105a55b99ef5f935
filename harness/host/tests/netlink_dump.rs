//! Snapshots of what the netdev netlink family reports for the test topologies on the pinned
//! source-built kernel (`src:7.2`): queue → NAPI links and per-NAPI settings, with ids, pids and
//! IRQ numbers normalised by the guest (`net::netlink_dump`). A kernel change to what queue-get
//! or napi-get report shows up as a snapshot diff. Ignored by default because it needs the
//! source build; `.ci/run` runs it after building src:7.2.

use pollcheck::accel::AccelChoice;
use pollcheck::agent_bin;
use pollcheck::session::{self, SessionConfig};

const PREFIX: &str = "netlink-dump: ";

#[test]
#[ignore = "boots src:7.2 (a source build; .ci/run builds it first)"]
fn netlink_dumps_of_both_topologies() {
    let agent = agent_bin::agent_path().expect("agent builds");
    let all = agent_bin::list_cases(&agent).expect("agent lists its cases");
    let names = ["net::netlink_dump.virtio", "net::netlink_dump.netdevsim"];
    let cases: Vec<_> =
        names.iter().map(|n| all.iter().find(|c| c.id.to_string() == *n).expect("case exists").clone()).collect();
    let cache = pollcheck_images::Cache::open_default().expect("cache");
    let kernel = pollcheck_images::resolve("src:7.2", None, &cache, &pollcheck_images::NoProgress).expect("kernel");
    let cfg = SessionConfig {
        queues: Some(4),
        kernel,
        accel: AccelChoice::Auto,
        cpus: None,
        memory_mb: 1024,
        artifacts_root: pollcheck::libtest::artifacts_root(),
        cache_dir: cache.root().to_owned(),
    };
    let result = session::run(&cfg, &cases, &mut |_| {}).expect("session runs");
    for rec in &result.report.cases {
        let line = rec.logs.iter().find_map(|l| l.strip_prefix(PREFIX)).unwrap_or_else(|| {
            panic!("{} logged no dump: {:?} {:?}", rec.id, rec.outcome, rec.logs);
        });
        let doc: serde_json::Value = serde_json::from_str(line).expect("the dump is JSON");
        let variant = rec.id.variant.clone().unwrap_or_default();
        insta::assert_json_snapshot!(format!("netlink_dump_{variant}"), doc);
    }
}
