//! The options every command that boots guests takes, and how they fill a session config.

use clap::Args;
use pollcheck::accel::AccelChoice;
use pollcheck::plan::ExpectChoice;
use pollcheck::session::SessionConfig;

#[derive(Debug, Clone, Args)]
pub struct GuestArgs {
    #[arg(long, value_enum, default_value = "auto")]
    pub accel: AccelChoice,
    /// Guest CPUs for every case (default: 1 under TCG, 2 under KVM, more if a case needs it).
    #[arg(long)]
    pub cpus: Option<u32>,
    /// Guest memory in MiB.
    #[arg(long, default_value_t = pollcheck::session::config::DEFAULT_MEMORY_MB)]
    pub memory_mb: u32,
    /// Queue pairs per test-network NIC (default: $POLLCHECK_QUEUES, else 4).
    #[arg(long)]
    pub queues: Option<u32>,
    /// Guests at once (default: as many as the host's CPUs and memory hold).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// What to expect of the kernel: `auto` (its release, config and patch sets), `none`
    /// (every absence is a Skip), or a TOML file (see `pollcheck list --kernel`).
    #[arg(long, default_value = "auto")]
    pub expect: ExpectChoice,
}

impl GuestArgs {
    /// The values in range, before any kernel is fetched.
    pub fn validate(&self) -> Result<(), pollcheck::HostError> {
        let host = pollcheck::session::config::host_cpus();
        pollcheck::session::config::check_limits(self.memory_mb, self.cpus, self.jobs, host)?;
        if let Some(q) = self.queues {
            pollcheck::testnet::validate_queues(q)?;
        }
        Ok(())
    }

    /// These options on top of `cfg`'s defaults.
    pub fn apply(&self, mut cfg: SessionConfig) -> SessionConfig {
        cfg.accel = self.accel;
        cfg.cpus = self.cpus;
        cfg.memory_mb = self.memory_mb;
        cfg.queues = self.queues;
        cfg.jobs = self.jobs;
        cfg.expect = self.expect.clone();
        cfg
    }
}
