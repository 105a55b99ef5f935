//! `cargo test` entry for the conformance cases: one trial per case, run in a QEMU guest.
//! See pollcheck::libtest for the environment variables that pick the kernel.

fn main() {
    let metas = pollcheck_suites::cases().into_iter().map(|c| c.meta).collect();
    pollcheck::libtest::main(metas)
}
