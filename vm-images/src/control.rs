//! Debian control-file stanzas (`Package: …` blocks as printed by `apt-cache show`).

use std::collections::BTreeMap;

/// One stanza: field name → value (continuation lines joined with '\n').
pub type Stanza = BTreeMap<String, String>;

/// Splits control text into stanzas; blank lines separate them.
pub fn parse_stanzas(text: &str) -> Vec<Stanza> {
    let mut out = Vec::new();
    let mut cur = Stanza::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            last = None;
        } else if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(v) = last.as_ref().and_then(|k| cur.get_mut(k)) {
                v.push('\n');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            cur.insert(k.trim().to_string(), v.trim().to_string());
            last = Some(k.trim().to_string());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A `Depends` alternative: package name and the version of an `(= v)` constraint if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub package: String,
    pub exact: Option<String>,
}

/// Parses a `Depends` field into its alternatives, flattened (`a | b, c` → a, b, c).
pub fn parse_relations(field: &str) -> Vec<Relation> {
    field
        .split([',', '|'])
        .filter_map(|item| {
            let item = item.trim();
            let (name, rest) = match item.split_once('(') {
                Some((n, r)) => (n.trim(), Some(r)),
                None => (item, None),
            };
            let name = name.split(':').next().unwrap_or(name).trim();
            if name.is_empty() {
                return None;
            }
            let exact = rest
                .and_then(|r| r.trim().strip_prefix('='))
                .map(|v| v.trim().trim_end_matches(')').trim().to_string());
            Some(Relation { package: name.to_string(), exact })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_and_continuations() {
        let s = parse_stanzas("Package: a\nVersion: 1\nDescription: x\n more\n\nPackage: b\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0]["Description"], "x\nmore");
        assert_eq!(s[1]["Package"], "b");
    }

    #[test]
    fn relations() {
        let r = parse_relations(
            "dracut | initramfs-tools (>= 0.120), linux-binary-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1)",
        );
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].exact, None);
        assert_eq!(r[2].package, "linux-binary-7.3.4+deb13-cloud-amd64");
        assert_eq!(r[2].exact.as_deref(), Some("7.3.4-1~bpo13+1"));
    }
}
