//! One booted guest: QEMU, its console, the agent link, and running a case on it.

mod console;
pub mod crash;
mod link;

use crate::cleanup;
use crate::qemu::{qemu_args, QemuProcess, TcgOptions, VmShape};
use crate::report::model::Accel;
use crate::testnet::{self, NetPlan};
use console::ConsoleTail;
use crash::Splat;
use pollcheck_proto::boot::BootParams;
use pollcheck_proto::{CaseMeta, Check, ErrorKind, Event, Features, Outcome, Request, PROTOCOL_VERSION};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a case may still run after the kernel Oopsed, BUGged or panicked under it.
const CRASH_GRACE: Duration = Duration::from_secs(5);

/// What the threads watching a guest report.
#[derive(Debug)]
pub enum VmEvent {
    Agent(Event),
    Splat { kind: Splat, line: String },
    ChannelClosed,
    QemuExited,
}

/// How to boot a guest (the parts that are not per-VM paths).
#[derive(Debug, Clone)]
pub struct BootConfig {
    pub qemu: PathBuf,
    pub accel: Accel,
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
    pub cpus: u32,
    pub memory_mb: u32,
    /// How long to wait for the agent's Ready.
    pub boot_timeout: Duration,
    /// Where this guest's console is written (appended: a guest booted again keeps both boots).
    pub console_log: PathBuf,
    /// The test network, when the run's cases need one.
    pub network: Option<NetPlan>,
    pub tcg: TcgOptions,
}

/// Why a boot did not reach the agent.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("{0}")]
    Spawn(String),
    #[error("KVM cannot run this guest (QEMU: {0})")]
    Kvm(String),
    #[error("the guest did not come up within {secs} s{detail}")]
    Timeout { secs: u64, detail: String },
    #[error("QEMU exited before the agent was ready{detail}")]
    Exited { detail: String },
    #[error("the agent speaks protocol {got}, this host speaks {want}: rebuild the agent")]
    Protocol { got: u32, want: u32 },
}

impl BootError {
    /// The guest itself crashed or hung (as opposed to QEMU, KVM or the agent build failing).
    pub fn guest_failed(&self) -> bool {
        matches!(self, BootError::Exited { .. } | BootError::Timeout { .. })
    }
}

/// The result of running one case on a guest.
#[derive(Debug, Clone)]
pub struct CaseRun {
    pub outcome: Outcome,
    pub duration_ms: u64,
    pub checks: Vec<Check>,
    pub logs: Vec<String>,
    pub console_excerpt: Option<String>,
    /// The guest can take another case (false after a timeout, a lost agent or a crash).
    pub guest_usable: bool,
}

/// A booted guest whose agent said Ready.
#[derive(Debug)]
pub struct Guest {
    qemu: QemuProcess,
    stream: UnixStream,
    events: Receiver<VmEvent>,
    tail: Arc<ConsoleTail>,
    dir: tempfile::TempDir,
    stderr_path: PathBuf,
    pub features: Features,
    pub boot_time: Duration,
}

impl Guest {
    pub fn boot(cfg: &BootConfig) -> Result<Guest, BootError> {
        let start = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("pollcheck-vm-")
            .tempdir_in("/tmp")
            .map_err(|e| BootError::Spawn(format!("failed to create a temp dir: {e}")))?;
        cleanup::register_dir(dir.path().to_owned());
        let spec = VmShape {
            accel: cfg.accel,
            kernel: cfg.kernel.clone(),
            initramfs: cfg.initramfs.clone(),
            cpus: cfg.cpus,
            memory_mb: cfg.memory_mb,
            channel_socket: dir.path().join("chan.sock"),
            params: BootParams { net: cfg.network.as_ref().map(NetPlan::params), ..BootParams::default() },
            tcg: cfg.tcg.clone(),
        };
        let stderr_path = dir.path().join("qemu.stderr");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&cfg.console_log)
            .map_err(|e| BootError::Spawn(format!("failed to open {}: {e}", cfg.console_log.display())))?;
        let mut args = qemu_args(&spec);
        if let Some(plan) = &cfg.network {
            args.extend(testnet::nic_args(plan, dir.path()));
        }
        let (program, args) = testnet::launch_command(&cfg.qemu, &args, cfg.network.as_ref());
        let qemu = QemuProcess::spawn(&program, &args, &stderr_path).map_err(|e| BootError::Spawn(e.to_string()))?;
        let (tx, events) = channel();
        let tail = Arc::new(ConsoleTail::default());
        {
            let (console, tail, tx) = (qemu.console(), Arc::clone(&tail), tx.clone());
            std::thread::spawn(move || console::pump(console, log, tail, tx));
        }
        let deadline = start + cfg.boot_timeout;
        let stream = connect(&spec.channel_socket, &qemu, &stderr_path, deadline, cfg)?;
        {
            let (reader, tx) = (stream.try_clone().map_err(|e| BootError::Spawn(e.to_string()))?, tx);
            std::thread::spawn(move || link::pump(reader, tx));
        }
        let mut guest = Guest {
            qemu,
            stream,
            events,
            tail,
            dir,
            stderr_path,
            features: Features::default(),
            boot_time: Duration::ZERO,
        };
        guest.features = guest.wait_ready(deadline, cfg)?;
        guest.boot_time = start.elapsed();
        Ok(guest)
    }

    fn wait_ready(&mut self, deadline: Instant, cfg: &BootConfig) -> Result<Features, BootError> {
        loop {
            if let Some(err) = kvm_failure(&self.stderr_path) {
                return Err(BootError::Kvm(err));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(BootError::Timeout { secs: cfg.boot_timeout.as_secs(), detail: self.tail_detail() });
            }
            match self.events.recv_timeout(left.min(Duration::from_millis(100))) {
                Ok(VmEvent::Agent(Event::Ready { protocol, features })) => {
                    if protocol != PROTOCOL_VERSION {
                        return Err(BootError::Protocol { got: protocol, want: PROTOCOL_VERSION });
                    }
                    return Ok(features);
                }
                Ok(VmEvent::QemuExited | VmEvent::ChannelClosed) => {
                    std::thread::sleep(Duration::from_millis(50));
                    if let Some(err) = kvm_failure(&self.stderr_path) {
                        return Err(BootError::Kvm(err));
                    }
                    return Err(BootError::Exited { detail: self.tail_detail() });
                }
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(BootError::Exited { detail: self.tail_detail() }),
            }
        }
    }

    fn tail_detail(&self) -> String {
        let mut out = String::new();
        let said = qemu_complaints(&self.stderr_path);
        if !said.is_empty() {
            out.push_str(&format!("; QEMU said: {}", said.join(" | ")));
        }
        let lines = self.tail.last(15);
        if lines.is_empty() {
            out.push_str("; the console was empty");
        } else {
            out.push_str(&format!("; last console lines:\n{}", lines.join("\n")));
        }
        out
    }

    /// Run one case with the run's `params` (see `Request::Run`); `host_grace` is added to the
    /// case's own limit before the host gives up.
    pub fn run_case(
        &mut self,
        meta: &CaseMeta,
        params: Option<&serde_json::Value>,
        timeout: Duration,
        host_grace: Duration,
    ) -> CaseRun {
        let start = Instant::now();
        let mark = self.tail.position();
        let mut run = CaseRun {
            outcome: Outcome::Pass,
            duration_ms: 0,
            checks: Vec::new(),
            logs: Vec::new(),
            console_excerpt: None,
            guest_usable: true,
        };
        let req = run_request(meta, params, timeout);
        if !link::send(&mut self.stream, &req) {
            run.outcome = Outcome::error(ErrorKind::AgentLost, "failed to send the case to the agent: channel closed");
            run.guest_usable = false;
            return run;
        }
        let (verdict, splat) = self.await_verdict(&mut run, start, start + timeout + host_grace);
        if run.duration_ms == 0 {
            run.duration_ms = start.elapsed().as_millis() as u64;
        }
        run.outcome = verdict;
        if let Some((kind, line)) = splat {
            let excerpt = self.tail.since(mark, 80).join("\n");
            run.console_excerpt = Some(excerpt);
            run.outcome =
                Outcome::error(ErrorKind::KernelCrash, format!("{kind:?} on the console while the case ran: {line}"));
            run.guest_usable = run.guest_usable && !kind.ends_guest();
        } else if matches!(run.outcome, Outcome::Timeout { .. } | Outcome::Error { kind: ErrorKind::AgentLost, .. }) {
            run.console_excerpt = Some(self.tail.since(mark, 80).join("\n"));
        }
        run
    }

    /// Collects the case's checks and logs until its verdict, its limit (`deadline`), a lost
    /// guest, or shortly after a splat that ends the guest; the verdict and the first splat.
    fn await_verdict(
        &mut self,
        run: &mut CaseRun,
        start: Instant,
        mut deadline: Instant,
    ) -> (Outcome, Option<(Splat, String)>) {
        let mut splat: Option<(Splat, String)> = None;
        let mut started = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                run.guest_usable = false;
                return (Outcome::Timeout { after_ms: start.elapsed().as_millis() as u64 }, splat);
            }
            match self.events.recv_timeout(left) {
                Ok(VmEvent::Agent(Event::Started { .. })) => started = true,
                Ok(VmEvent::Agent(Event::Check { check, .. })) => run.checks.push(check),
                Ok(VmEvent::Agent(Event::Log { line, .. })) => run.logs.push(line),
                Ok(VmEvent::Agent(Event::Done { outcome, duration_ms, .. })) => {
                    run.duration_ms = duration_ms;
                    return (outcome, splat);
                }
                Ok(VmEvent::Agent(Event::Refused { reason })) => {
                    let refused = format!("the agent refused the case: {reason}");
                    return (Outcome::error(ErrorKind::Host, refused), splat);
                }
                Ok(VmEvent::Agent(Event::Ready { .. })) | Err(RecvTimeoutError::Timeout) => {}
                Ok(VmEvent::Splat { kind, line }) => {
                    if kind.is_fatal() {
                        // Let the rest of the trace reach the console before QEMU goes away.
                        std::thread::sleep(Duration::from_millis(300));
                    }
                    if kind.ends_guest() {
                        // The case ends as a kernel crash whatever it reports now, and an Oops
                        // may have killed it silently: wait for the trace, not the case's limit.
                        deadline = deadline.min(Instant::now() + CRASH_GRACE);
                    }
                    splat.get_or_insert((kind, line));
                }
                Ok(VmEvent::QemuExited | VmEvent::ChannelClosed) | Err(RecvTimeoutError::Disconnected) => {
                    run.guest_usable = false;
                    std::thread::sleep(Duration::from_millis(200));
                    let when = if started { "while the case ran" } else { "before the agent started the case" };
                    let lost = format!("QEMU exited or the agent link closed {when}");
                    return (Outcome::error(ErrorKind::AgentLost, lost), splat);
                }
            }
        }
    }

    /// Ask the agent to power off; kill QEMU if it has not gone within `grace`.
    pub fn shutdown(mut self, grace: Duration) {
        let _ = link::send(&mut self.stream, &Request::Shutdown);
        let until = Instant::now() + grace;
        while Instant::now() < until && !self.qemu.has_exited() {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Drop kills anything left and removes the temp dir.
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        self.qemu.kill();
        cleanup::unregister_dir(self.dir.path());
    }
}

/// The request that runs `meta` once with `params` and a guest-side limit of `timeout`.
fn run_request(meta: &CaseMeta, params: Option<&serde_json::Value>, timeout: Duration) -> Request {
    Request::Run { case: meta.id.clone(), timeout_ms: timeout.as_millis() as u64, params: params.cloned() }
}

/// What QEMU wrote on stderr, minus its informational chatter.
fn qemu_complaints(stderr: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(stderr).unwrap_or_default();
    text.lines().filter(|l| !l.contains("info: QEMU waiting for connection")).take(5).map(str::to_owned).collect()
}

/// QEMU's complaint when KVM cannot run the guest ("KVM internal error", failed KVM init).
fn kvm_failure(stderr: &Path) -> Option<String> {
    let text = std::fs::read_to_string(stderr).ok()?;
    text.lines()
        .find(|l| {
            [
                "KVM internal error",
                "failed to initialize kvm",
                "Could not access KVM",
                "kvm_buf_set_msrs",
                "failed to set MSR",
            ]
            .iter()
            .any(|pat| l.contains(pat))
        })
        .map(str::to_owned)
}

/// Wait for QEMU's listening socket and connect (QEMU starts the guest only then).
fn connect(
    sock: &Path,
    qemu: &QemuProcess,
    stderr: &Path,
    deadline: Instant,
    cfg: &BootConfig,
) -> Result<UnixStream, BootError> {
    loop {
        if let Ok(s) = UnixStream::connect(sock) {
            return Ok(s);
        }
        if qemu.has_exited() {
            return Err(BootError::Exited { detail: format!("; QEMU said: {}", qemu_complaints(stderr).join(" | ")) });
        }
        if Instant::now() > deadline {
            return Err(BootError::Timeout {
                secs: cfg.boot_timeout.as_secs(),
                detail: "; QEMU never opened its channel socket".into(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_carries_the_sessions_params() {
        let meta = crate::plan::tests::meta("modesbench", "mode");
        let params = serde_json::json!({"rates": [200.0]});
        let req = run_request(&meta, Some(&params), Duration::from_millis(1500));
        assert_eq!(req, Request::Run { case: meta.id.clone(), timeout_ms: 1500, params: Some(params) });
        let plain = run_request(&meta, None, Duration::from_secs(1));
        assert_eq!(plain, Request::Run { case: meta.id, timeout_ms: 1000, params: None });
    }
}
