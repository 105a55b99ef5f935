//! Real fetch from the Debian archive into a throw-away cache (network, ~40 MB): `cargo test -- --ignored`.

use pollcheck_images::{read_bzimage, resolve, resolve_modules, Cache, NoProgress};

#[test]
#[ignore = "downloads a kernel from the Debian archive"]
fn fetches_default_kernel_and_virtio_net() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = Cache::at(dir.path());
    let k = resolve("default", None, &cache, &NoProgress).expect("resolve default");
    assert_eq!(read_bzimage(&k.bzimage).expect("bzimage").release, k.release);
    let modules = k.modules_dir.as_deref().expect("modules dir");
    let set = resolve_modules(modules, &k.release, &["virtio-net"]).expect("modules");
    let names: Vec<&str> = set.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names.last(), Some(&"virtio_net"));
    assert!(set.modules.iter().all(|m| m.data.starts_with(b"\x7fELF")));
    // Second resolve: served from the cache, same answer.
    let again = resolve("default", None, &cache, &NoProgress).expect("cached");
    assert_eq!(again, k);
}
