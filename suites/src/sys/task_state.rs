//! Where a thread of this process is: its scheduler state letter (`/proc/self/task/<tid>/stat`)
//! and the system call it is blocked in (`/proc/self/task/<tid>/syscall`, HAVE_ARCH_TRACEHOOK).

use std::fmt;

/// x86_64 numbers of the calls that block in `ep_poll` (arch/x86/entry/syscalls/syscall_64.tbl).
pub const EPOLL_WAIT_SYSCALLS: &[i64] = &[232, 281, 441];

/// One sample of a thread's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    /// `R`, `S`, `D`, …, the third field of `stat`.
    pub state: char,
    /// The syscall number it is in, None when `syscall` says `running` (on a CPU right now).
    pub syscall: Option<i64>,
}

impl TaskState {
    /// Asleep (interruptibly) inside epoll_wait/epoll_pwait/epoll_pwait2.
    pub fn sleeping_in_epoll_wait(&self) -> bool {
        self.state == 'S' && self.syscall.is_some_and(|n| EPOLL_WAIT_SYSCALLS.contains(&n))
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.syscall {
            Some(n) => write!(f, "{} in syscall {n}", self.state),
            None => write!(f, "{} (running)", self.state),
        }
    }
}

/// Failed to read a thread's state (it may have exited).
#[derive(Debug, thiserror::Error)]
#[error("failed to read /proc/self/task/{tid}/{file}: {detail}")]
pub struct TaskStateError {
    pub tid: i32,
    pub file: &'static str,
    pub detail: String,
}

/// Sample thread `tid` of this process.
pub fn read(tid: i32) -> Result<TaskState, TaskStateError> {
    let get = |file: &'static str| {
        std::fs::read_to_string(format!("/proc/self/task/{tid}/{file}")).map_err(|e| TaskStateError {
            tid,
            file,
            detail: e.to_string(),
        })
    };
    let stat = get("stat")?;
    let state = parse_state(&stat).ok_or_else(|| TaskStateError { tid, file: "stat", detail: "no state".into() })?;
    let syscall = parse_syscall(&get("syscall")?);
    Ok(TaskState { state, syscall })
}

/// The state letter: the first field after the `(comm)`, which may itself hold spaces and `)`.
pub fn parse_state(stat: &str) -> Option<char> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().next()?.chars().next()
}

/// The first word of `syscall`: a number, or `running` / `-1` (not in a syscall).
pub fn parse_syscall(text: &str) -> Option<i64> {
    text.split_whitespace().next()?.parse::<i64>().ok().filter(|n| *n >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_after_a_tricky_comm() {
        assert_eq!(parse_state("42 (a) b) S 1 42 42 0 -1"), Some('S'));
        assert_eq!(parse_state("7 (pollcheck-agent) R 1"), Some('R'));
        assert_eq!(parse_state("garbage"), None);
    }

    #[test]
    fn syscall_line() {
        assert_eq!(parse_syscall("232 0x3 0x7ffc 0x1 0xffffffff 0x0 0x0 0x7ffc 0x7f00\n"), Some(232));
        assert_eq!(parse_syscall("running\n"), None);
        assert_eq!(parse_syscall("-1 0x7ffc 0x7f00\n"), None);
    }

    #[test]
    fn sleeping_in_epoll_wait_needs_both() {
        let t = |state, syscall| TaskState { state, syscall };
        assert!(t('S', Some(232)).sleeping_in_epoll_wait());
        assert!(t('S', Some(281)).sleeping_in_epoll_wait());
        assert!(!t('R', Some(232)).sleeping_in_epoll_wait());
        assert!(!t('S', Some(202)).sleeping_in_epoll_wait());
        assert!(!t('S', None).sleeping_in_epoll_wait());
    }

    #[test]
    fn reads_this_thread() {
        let me = nix::unistd::gettid().as_raw();
        let s = read(me).expect("own task state");
        assert_eq!(s.state, 'R');
    }
}
