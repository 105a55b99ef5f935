//! `pollcheck bench userpoll`: events per second harvested from an EPOLL_USERPOLL ring versus
//! with epoll_wait on the same workload in the same VM (the userpollbench suite's
//! `bench: key=value` lines), as median, min and max over repeated runs.

use super::guest_args::GuestArgs;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct UserpollBenchArgs {
    /// A kernel with EPOLL_USERPOLL (our patch set); on others the case Skips and prints why.
    #[arg(long, short, default_value = "src:7.2+userpoll")]
    kernel: String,
    #[arg(default_value = "userpollbench::ring_vs_epoll_wait")]
    filters: Vec<String>,
    #[arg(long, default_value_t = 3)]
    repeat: u32,
    #[command(flatten)]
    guest: GuestArgs,
}

pub fn bench_userpoll(args: UserpollBenchArgs) -> anyhow::Result<ExitCode> {
    super::bench_net::repeat_bench(&args.kernel, &args.filters, args.repeat, &args.guest)
}
