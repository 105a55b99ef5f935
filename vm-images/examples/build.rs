//! Builds a kernel from source into the default cache and prints the bzImage path.
//!
//! `cargo run -p pollcheck-images --example build -- [7.2 | /path/to/tree] [--patch P]… [--fragment F]…`
//! Without `--fragment`, uses fixtures/config/base.config and net.config.

use std::path::PathBuf;
use std::time::Instant;

use pollcheck_images::build::{build, BuildRequest, SourceSpec};
use pollcheck_images::Cache;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut source = "7.2".to_string();
    let (mut patches, mut fragments) = (Vec::new(), Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--patch" => patches.push(PathBuf::from(args.next().ok_or("--patch needs a file")?)),
            "--fragment" => fragments.push(PathBuf::from(args.next().ok_or("--fragment needs a file")?)),
            _ => source = a,
        }
    }
    if fragments.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/config");
        fragments = vec![dir.join("base.config"), dir.join("net.config")];
    }
    let source = if source.contains('/') { SourceSpec::Tree(source.into()) } else { SourceSpec::DebianVersion(source) };
    let req = BuildRequest { source, patches, fragments };
    let cache = Cache::open_default()?;
    let start = Instant::now();
    let mut lines = 0usize;
    let mut on_line = |l: &str| {
        lines += 1;
        if l.starts_with("pollcheck:") || l.starts_with("Kernel:") || lines.is_multiple_of(250) {
            eprintln!("[{lines:>5}] {l}");
        }
    };
    let k = build(&req, cache.root(), &mut on_line)?;
    eprintln!("built {} in {:.1}s (log {})", k.release, start.elapsed().as_secs_f64(), k.log.display());
    println!("{}", k.bzimage.display());
    Ok(())
}
