//! `git bisect run pollcheck bisect-run` end to end: a git repository made from linux-source 7.2
//! with a handful of commits, one of which is a one-line mutant of fs/eventpoll.c; the bisection
//! must name that commit. Slow (kernel builds, ccache helps), so `#[ignore]`d: .ci/run and
//! `cargo test -p pollcheck --test git_bisect -- --ignored --nocapture` run it.

use pollcheck_images::build::debian_source_tree;
use pollcheck_images::Cache;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn git(dir: &Path, args: &[&str]) -> String {
    duct::cmd("git", args)
        .dir(dir)
        .env("GIT_AUTHOR_NAME", "pollcheck")
        .env("GIT_AUTHOR_EMAIL", "pollcheck@localhost")
        .env("GIT_COMMITTER_NAME", "pollcheck")
        .env("GIT_COMMITTER_EMAIL", "pollcheck@localhost")
        .stderr_to_stdout()
        .read()
        .unwrap_or_else(|e| panic!("git {args:?}: {e}"))
}

/// Appends a comment line to `file` and commits it with `message`; returns the commit id.
fn commit_comment(repo: &Path, file: &str, message: &str) -> String {
    let path = repo.join(file);
    let mut text = std::fs::read_to_string(&path).expect("read");
    text.push_str(&format!("/* {message} */\n"));
    std::fs::write(&path, text).expect("write");
    commit(repo, message)
}

fn commit(repo: &Path, message: &str) -> String {
    git(repo, &["commit", "-q", "-a", "-m", message]);
    git(repo, &["rev-parse", "HEAD"]).trim().to_string()
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

#[test]
#[ignore = "builds kernels: minutes; run with --ignored"]
fn git_bisect_run_names_the_mutant_commit() {
    let cache = Cache::open_default().expect("cache");
    let pristine = debian_source_tree("7.2", cache.root(), &mut |l| eprintln!("{l}")).expect("linux-source-7.2");
    // Inside the cache root, beside the other trees: same filesystem, and ccache sees the same
    // relative paths as in the other 7.2 builds, so the first build is warm.
    let scratch = tempfile::Builder::new().prefix("pollcheck-bisect-demo-").tempdir_in(cache.root()).expect("tmp");
    let repo = scratch.path().join("linux");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let t = Instant::now();
    duct::cmd!("tar", "-C", &pristine, "--exclude=./.obj-*", "-cf", "-", ".")
        .pipe(duct::cmd!("tar", "-C", &repo, "-xf", "-"))
        .run()
        .expect("copy the tree");
    git(&repo, &["init", "-q"]);
    // -f: Debian's linux-source adds a top-level `/*` to .gitignore (its packaging repository's rule).
    git(&repo, &["add", "-A", "-f"]);
    let root = commit(&repo, "linux-source 7.2, as Debian ships it");
    eprintln!("repository made in {:.0} s", t.elapsed().as_secs_f64());

    commit_comment(&repo, "net/core/dev.c", "harmless 1: a comment in net/core/dev.c");
    commit_comment(&repo, "kernel/fork.c", "harmless 2: a comment in kernel/fork.c");
    let patch = fixtures().join("patches/mutants/epoll-params-pad-unchecked.patch");
    duct::cmd!("patch", "-p1", "-s", "-i", &patch).dir(&repo).run().expect("mutant applies");
    let mutant = commit(&repo, "the regression: EPIOCSPARAMS stops checking __pad");
    commit_comment(&repo, "net/core/sock.c", "harmless 3: a comment in net/core/sock.c");
    commit_comment(&repo, "fs/eventpoll.c", "harmless 4: a comment at the end of fs/eventpoll.c");

    let t = Instant::now();
    git(&repo, &["bisect", "start", "HEAD", &root]);
    let out = duct::cmd(
        "git",
        ["bisect", "run", env!("CARGO_BIN_EXE_pollcheck"), "bisect-run", "--case", "busy_poll::params_pad"],
    )
    .dir(&repo)
    .stderr_to_stdout()
    .unchecked()
    .read()
    .expect("git bisect run");
    eprintln!("{out}");
    let steps = out.matches("pollcheck bisect-run: building").count();
    eprintln!("git bisect run: {steps} steps in {:.0} s", t.elapsed().as_secs_f64());
    assert!(out.contains(&format!("{mutant} is the first bad commit")), "bisect did not name {mutant}");
    git(&repo, &["bisect", "reset"]);
}
