//! Pure construction of the QEMU command line and the guest kernel command line.

use crate::report::model::Accel;
use pollcheck_proto::boot::{self, BootParams};
use std::path::PathBuf;

/// Everything that decides one VM's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmShape {
    pub accel: Accel,
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
    pub cpus: u32,
    pub memory_mb: u32,
    /// Unix socket QEMU listens on for the result channel (second UART, guest /dev/ttyS1).
    pub channel_socket: PathBuf,
    /// What the agent reads from the kernel command line.
    pub params: BootParams,
    /// The TCG workarounds (ignored under KVM).
    pub tcg: TcgOptions,
}

/// The TCG CPU model and threading, defaulting to the workarounds below; `POLLCHECK_TCG_CPU`
/// and `POLLCHECK_TCG_THREAD` (`single`|`multi`) override them to re-measure whether a QEMU
/// still needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcgOptions {
    pub cpu: String,
    /// `-accel tcg,thread=…` for guests of more than one vCPU.
    pub smp_thread: &'static str,
}

impl Default for TcgOptions {
    fn default() -> Self {
        Self { cpu: TCG_CPU.to_owned(), smp_thread: "single" }
    }
}

impl TcgOptions {
    /// The defaults with the environment's overrides.
    pub fn from_env() -> Self {
        let mut o = Self::default();
        if let Ok(cpu) = std::env::var("POLLCHECK_TCG_CPU") {
            o.cpu = cpu;
        }
        if std::env::var("POLLCHECK_TCG_THREAD").is_ok_and(|t| t == "multi") {
            o.smp_thread = "multi";
        }
        o
    }
}

/// The guest kernel command line.
///
/// `reboot=t` + QEMU `-no-reboot` make the agent's `reboot -f` end QEMU even on kernels without
/// ACPI; `panic=-1` turns a panic into an immediate reboot, i.e. QEMU exit; `loglevel=5` keeps
/// WARNING splats (KERN_WARNING) on the console for crash detection while hiding boot chatter.
pub fn kernel_cmdline(spec: &VmShape) -> String {
    let mut words: Vec<String> = ["console=ttyS0", "reboot=t", "panic=-1", "loglevel=5", "8250.nr_uarts=2"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    words.push(format!("rdinit=/{}", boot::INIT));
    words.extend(spec.params.words());
    words.join(" ")
}

/// The `-accel` value for TCG with `cpus` vCPUs: one host thread running the vCPUs in turn when
/// there are several. With multi-threaded TCG a guest patching its own text (static keys, via
/// int3) while another vCPU runs it sometimes dies: "Oops: int3" on Debian 7.3.4 under QEMU 7.2
/// (1 of 13 boots), and a 2-vCPU Debian 7.3.4 guest that died before its agent in 1 of 22 boots
/// under each of QEMU 7.2 and 10.0 (`POLLCHECK_TCG_THREAD=multi`; README, "Which QEMU").
/// Round-robin TCG has no concurrent vCPUs, so no such race.
pub fn tcg_accel(cpus: u32, opts: &TcgOptions) -> String {
    let thread = if cpus > 1 { opts.smp_thread } else { "multi" };
    format!("tcg,thread={thread}")
}

/// The `-cpu` value under TCG: everything QEMU can emulate except CMPXCHG16B. Debian 6.12.107's
/// SLUB fast path (`cmpxchg16b %gs:(%rsi)`) under QEMU 7.2's TCG came back with corrupted flags
/// and freelists: a GPF or double fault in `__kmalloc_noprof` right after that instruction in 8
/// of 30 runs. Debian's later 6.12.117 did not crash with the feature shown, in 34 runs under
/// each of QEMU 7.2 and 10.0 (`POLLCHECK_TCG_CPU=max`); hiding it stays, for the kernels that
/// do. No case here depends on CMPXCHG16B.
pub const TCG_CPU: &str = "max,-cx16";

/// The QEMU argument vector (without the program name).
pub fn qemu_args(spec: &VmShape) -> Vec<String> {
    let (accel, cpu) = match spec.accel {
        Accel::Kvm => ("kvm".to_owned(), "host"),
        Accel::Tcg => (tcg_accel(spec.cpus, &spec.tcg), spec.tcg.cpu.as_str()),
    };
    let s = |x: &str| x.to_owned();
    vec![
        s("-nodefaults"),
        s("-no-user-config"),
        s("-no-reboot"),
        s("-display"),
        s("none"),
        s("-machine"),
        s("q35"),
        s("-accel"),
        accel,
        s("-cpu"),
        s(cpu),
        s("-smp"),
        spec.cpus.to_string(),
        s("-m"),
        spec.memory_mb.to_string(),
        s("-kernel"),
        spec.kernel.display().to_string(),
        s("-initrd"),
        spec.initramfs.display().to_string(),
        s("-append"),
        kernel_cmdline(spec),
        // ttyS0: the console, on QEMU's stdout, read and scanned by the host.
        s("-serial"),
        s("stdio"),
        // ttyS1: the result channel; QEMU waits for the host to connect before starting the guest.
        s("-chardev"),
        format!("socket,id=pcchan,path={},server=on,wait=on", spec.channel_socket.display()),
        s("-serial"),
        s("chardev:pcchan"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(accel: Accel) -> VmShape {
        VmShape {
            accel,
            kernel: "/k/vmlinuz".into(),
            initramfs: "/t/initramfs.cpio".into(),
            cpus: 2,
            memory_mb: 1024,
            channel_socket: "/tmp/pc-x/chan.sock".into(),
            params: BootParams {
                channel: boot::CHANNEL_DEVICE.into(),
                net: Some(boot::NetParams { backend: boot::NetBackend::Tap, queues: 2 }),
            },
            tcg: TcgOptions::default(),
        }
    }

    #[test]
    fn tcg_args_are_stable() {
        insta::assert_snapshot!(qemu_args(&spec(Accel::Tcg)).join(" "));
    }

    #[test]
    fn tcg_runs_several_vcpus_round_robin() {
        let d = TcgOptions::default();
        assert_eq!(tcg_accel(1, &d), "tcg,thread=multi");
        assert_eq!(tcg_accel(2, &d), "tcg,thread=single");
        assert_eq!(tcg_accel(2, &TcgOptions { smp_thread: "multi", ..d }), "tcg,thread=multi");
        let one = qemu_args(&VmShape { cpus: 1, ..spec(Accel::Tcg) });
        assert!(one.windows(2).any(|w| w[0] == "-accel" && w[1] == "tcg,thread=multi"));
    }

    #[test]
    fn kvm_uses_host_cpu() {
        let a = qemu_args(&spec(Accel::Kvm));
        let i = a.iter().position(|x| x == "-accel").expect("has -accel");
        assert_eq!(a[i + 1], "kvm");
        assert!(a.windows(2).any(|w| w[0] == "-cpu" && w[1] == "host"));
    }

    #[test]
    fn cmdline_has_the_boot_params() {
        let c = kernel_cmdline(&spec(Accel::Tcg));
        assert!(c.contains("rdinit=/init pollcheck.channel=/dev/ttyS1 pollcheck.net=tap,2"), "{c}");
        assert!(c.contains("reboot=t") && c.contains("panic=-1"));
    }
}
