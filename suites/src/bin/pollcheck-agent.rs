//! The guest agent binary: PID 1 in every pollcheck VM, carrying all suites' cases.

fn main() {
    pollcheck_guest::agent_main(pollcheck_suites::agent_cases(), &pollcheck_suites::probes())
}
