//! Content keys: a build's cache key and a patch set's tree name, both sha256 in hex.

use sha2::{Digest, Sha256};

/// Bump when the build recipe changes so old cache entries are not reused.
const RECIPE: &str = "pollcheck-build-v1";

/// The cache key of a build: the source identity, then every fragment, then every patch, in order.
pub fn cache_key(source_id: &str, fragments: &[&[u8]], patches: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    feed(&mut h, RECIPE.as_bytes());
    feed(&mut h, source_id.as_bytes());
    for (tag, parts) in [("fragments", fragments), ("patches", patches)] {
        feed(&mut h, tag.as_bytes());
        feed(&mut h, &(parts.len() as u64).to_le_bytes());
        for p in parts {
            feed(&mut h, p);
        }
    }
    hex(&h.finalize())
}

/// A short key for a patch set (names the patched source tree).
pub fn patchset_key(patches: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in patches {
        feed(&mut h, p);
    }
    hex(&h.finalize())[..12].to_string()
}

/// Length-prefixed so that ("ab","c") and ("a","bc") differ.
fn feed(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_stable_hex() {
        let k = cache_key("debian linux-source-7.2 7.2.13-1", &[b"CONFIG_A=y\n"], &[]);
        assert_eq!(k.len(), 64);
        assert!(k.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(k, cache_key("debian linux-source-7.2 7.2.13-1", &[b"CONFIG_A=y\n"], &[]));
    }

    #[test]
    fn key_depends_on_every_input_and_order() {
        let base = cache_key("v", &[b"a", b"b"], &[b"p"]);
        assert_ne!(base, cache_key("w", &[b"a", b"b"], &[b"p"]));
        assert_ne!(base, cache_key("v", &[b"b", b"a"], &[b"p"]));
        assert_ne!(base, cache_key("v", &[b"ab"], &[b"p"]));
        assert_ne!(base, cache_key("v", &[b"a", b"b"], &[]));
        assert_ne!(base, cache_key("v", &[b"a", b"b", b"p"], &[]));
    }

    #[test]
    fn patchset_key_is_short() {
        assert_eq!(patchset_key(&[b"x"]).len(), 12);
        assert_ne!(patchset_key(&[b"x"]), patchset_key(&[b"y"]));
    }
}
