//! A NAPI kthread seen through /proc: its name, state, flags and CPU time from /proc/<pid>/stat,
//! the share of one CPU it used over an interval, pinning it, and waiting for it to exit.

use std::fs;
use std::time::{Duration, Instant};

/// PF_KTHREAD (include/linux/sched.h): the task is a kernel thread.
pub const PF_KTHREAD: u64 = 0x0020_0000;

/// The fields of /proc/<pid>/stat this suite reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Field 2 without the parentheses (kthreads show their full name, not the 15-byte comm).
    pub comm: String,
    /// Field 3: R running, S sleeping, …
    pub state: char,
    /// Field 4.
    pub ppid: u32,
    /// Field 9.
    pub flags: u64,
    /// Fields 14 + 15 (utime + stime), in clock ticks.
    pub ticks: u64,
}

/// Parse /proc/<pid>/stat text. The name may hold spaces and parentheses, so it runs from the
/// first '(' to the last ')'.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_owned();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3.
    let field = |n: usize| rest.get(n - 3).copied();
    let state = field(3)?.chars().next()?;
    let ppid = field(4)?.parse().ok()?;
    let flags = field(9)?.parse().ok()?;
    let utime: u64 = field(14)?.parse().ok()?;
    let stime: u64 = field(15)?.parse().ok()?;
    Some(Stat { comm, state, ppid, flags, ticks: utime + stime })
}

/// /proc/<pid>/stat now; `None` once the task is gone.
pub fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Clock ticks per second (USER_HZ) for the tick fields of /proc/<pid>/stat.
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as u64
    } else {
        100
    }
}

/// Online CPUs.
pub fn online_cpus() -> usize {
    // SAFETY: sysconf has no memory effects.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    n.max(1) as usize
}

/// The share of one CPU `pid` used over `interval` (1.0 = all of it), or `None` if it exited.
pub fn cpu_share(pid: u32, interval: Duration) -> Option<f64> {
    let (t0, s0) = (Instant::now(), stat(pid)?);
    std::thread::sleep(interval);
    let (t1, s1) = (Instant::now(), stat(pid)?);
    let secs = t1.duration_since(t0).as_secs_f64();
    Some(s1.ticks.saturating_sub(s0.ticks) as f64 / (secs * clock_ticks() as f64))
}

/// `samples` consecutive [`cpu_share`] readings.
pub fn cpu_shares(pid: u32, interval: Duration, samples: usize) -> Option<Vec<f64>> {
    (0..samples).map(|_| cpu_share(pid, interval)).collect()
}

/// The median of `v` (0 for none).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(0.0)
}

/// Shares as percentages for a log line: "[98%, 97%, 99%]".
pub fn percents(v: &[f64]) -> String {
    let p: Vec<String> = v.iter().map(|x| format!("{:.0}%", x * 100.0)).collect();
    format!("[{}]", p.join(", "))
}

/// Wait up to `limit` for /proc/<pid> to disappear; how long it took, or `None` if it stayed.
pub fn wait_gone(pid: u32, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    loop {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return Some(t0.elapsed());
        }
        if t0.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Pin task `pid` (0: the calling thread) to `cpu`.
pub fn pin(pid: u32, cpu: usize) -> Result<(), nix::errno::Errno> {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu)?;
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(pid as i32), &set)
}

/// Whether `comm` is the kthread name `want`: equal, or its first 15 bytes where the kernel
/// shows the truncated task comm (TASK_COMM_LEN) rather than the full kthread name.
pub fn name_matches(comm: &str, want: &str) -> bool {
    comm == want || (comm.len() == 15 && want.starts_with(comm))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "258 (napi/eth1-13) S 2 0 0 0 -1 2129984 0 0 0 0 0 197 0 0 20 0 1 0 823 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    #[test]
    fn stat_fields() {
        let s = parse_stat(STAT).expect("parses");
        assert_eq!(s, Stat { comm: "napi/eth1-13".into(), state: 'S', ppid: 2, flags: 2_129_984, ticks: 197 });
        assert_ne!(s.flags & PF_KTHREAD, 0);
    }

    #[test]
    fn stat_name_with_parens_and_spaces() {
        let s = parse_stat("7 (a (b) c) R 1 0 0 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 0 0").expect("parses");
        assert_eq!((s.comm.as_str(), s.state, s.ticks), ("a (b) c", 'R', 7));
        assert_eq!(parse_stat("7 (x) R 1"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn medians_and_percents() {
        assert_eq!(median(&[0.9, 0.1, 0.5]), 0.5);
        assert_eq!(median(&[]), 0.0);
        assert_eq!(percents(&[0.974, 1.0]), "[97%, 100%]");
    }

    #[test]
    fn kthread_names() {
        assert!(name_matches("napi/eth1-13", "napi/eth1-13"));
        assert!(name_matches("napi/eni1np1-81", "napi/eni1np1-8193"));
        assert!(!name_matches("napi/eth1-14", "napi/eth1-13"));
        assert!(!name_matches("napi/eth", "napi/eth1-13"));
    }
}
