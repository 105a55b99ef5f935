//! Resolves kernel specs into the default cache and prints the load order of the wanted modules.
//!
//! `cargo run -p pollcheck-images --example resolve -- default 6.1 6.12 [--modules virtio_net,…]`

use std::time::Instant;

use pollcheck_images::{read_bzimage, resolve, resolve_modules, Cache, ImageError, StderrProgress};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), ImageError> {
    let mut specs = Vec::new();
    let mut wanted = "virtio_net".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--modules" {
            wanted = args.next().unwrap_or_default();
        } else {
            specs.push(a);
        }
    }
    if specs.is_empty() {
        specs.push("default".into());
    }
    let cache = Cache::open_default()?;
    let wanted: Vec<&str> = wanted.split(',').filter(|s| !s.is_empty()).collect();
    for spec in &specs {
        let t = Instant::now();
        let k = resolve(spec, None, &cache, &StderrProgress)?;
        let info = read_bzimage(&k.bzimage)?;
        println!(
            "{spec}: {} protocol {}.{:02} in {:.1?}\n  bzimage {}\n  config  {:?}",
            k.release,
            info.protocol.0,
            info.protocol.1,
            t.elapsed(),
            k.bzimage.display(),
            k.config
        );
        if let Some(dir) = &k.modules_dir {
            let t = Instant::now();
            let set = resolve_modules(dir, &k.release, &wanted)?;
            let names: Vec<String> =
                set.modules.iter().map(|m| format!("{} ({} KiB)", m.name, m.data.len() / 1024)).collect();
            println!("  modules {:?}: {} [{:.1?}]", wanted, names.join(", "), t.elapsed());
        } else {
            println!("  no modules dir");
        }
    }
    Ok(())
}
