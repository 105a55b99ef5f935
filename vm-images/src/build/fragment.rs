//! Kconfig fragments and `.config` files: parsing settings and checking that requested ones survived.

use std::collections::BTreeMap;

/// One requested setting: `CONFIG_X=value` or `# CONFIG_X is not set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Set { name: String, value: String },
    Unset { name: String },
}

impl Setting {
    pub fn name(&self) -> &str {
        match self {
            Setting::Set { name, .. } | Setting::Unset { name } => name,
        }
    }

    /// The line as it appears in a fragment or `.config`.
    pub fn line(&self) -> String {
        match self {
            Setting::Set { name, value } => format!("{name}={value}"),
            Setting::Unset { name } => format!("# {name} is not set"),
        }
    }
}

/// Parses one line: `Ok(None)` for blanks and comments, `Err(())` for anything else.
fn parse_line(line: &str) -> Result<Option<Setting>, ()> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("# ") {
        if let Some(name) = rest.strip_suffix(" is not set").filter(|n| is_symbol(n)) {
            return Ok(Some(Setting::Unset { name: name.to_string() }));
        }
        return Ok(None);
    }
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    match line.split_once('=') {
        Some((name, value)) if is_symbol(name) && !value.is_empty() => {
            Ok(Some(Setting::Set { name: name.to_string(), value: value.to_string() }))
        }
        _ => Err(()),
    }
}

fn is_symbol(name: &str) -> bool {
    name.strip_prefix("CONFIG_")
        .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Parses a fragment; on error returns the 1-based line number and its text.
pub fn parse_fragment(text: &str) -> Result<Vec<Setting>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Some(s)) => out.push(s),
            Ok(None) => {}
            Err(()) => return Err((i + 1, line.to_string())),
        }
    }
    Ok(out)
}

/// Merges fragments in order: a later setting of the same symbol replaces an earlier one.
pub fn merge(fragments: &[Vec<Setting>]) -> Vec<Setting> {
    let mut order: Vec<String> = Vec::new();
    let mut by_name: BTreeMap<String, Setting> = BTreeMap::new();
    for s in fragments.iter().flatten() {
        if by_name.insert(s.name().to_string(), s.clone()).is_none() {
            order.push(s.name().to_string());
        }
    }
    order.into_iter().filter_map(|n| by_name.remove(&n)).collect()
}

/// The requested settings a final `.config` does not honour, each as `wanted (got: found)`.
pub fn missing(requested: &[Setting], config: &str) -> Vec<String> {
    let mut have: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for line in config.lines() {
        match parse_line(line) {
            Ok(Some(Setting::Set { .. })) => {
                if let Some((name, value)) = line.trim().split_once('=') {
                    have.insert(name, Some(value));
                }
            }
            Ok(Some(Setting::Unset { .. })) => {
                if let Some(name) = line.trim().strip_prefix("# ").and_then(|r| r.strip_suffix(" is not set")) {
                    have.insert(name, None);
                }
            }
            _ => {}
        }
    }
    requested
        .iter()
        .filter_map(|s| {
            let found = have.get(s.name()).copied().flatten();
            let ok = match s {
                Setting::Set { value, .. } => found == Some(value.as_str()),
                Setting::Unset { .. } => found.is_none(),
            };
            let got = match found {
                Some(v) => format!("{}={v}", s.name()),
                None if have.contains_key(s.name()) => "is not set".to_string(),
                None => "absent".to_string(),
            };
            (!ok).then(|| format!("{} (got: {got})", s.line()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: &str, v: &str) -> Setting {
        Setting::Set { name: n.into(), value: v.into() }
    }

    #[test]
    fn parses_sets_unsets_and_comments() {
        let text = "# a comment\n\nCONFIG_A=y\nCONFIG_NR_CPUS=8\n# CONFIG_MODULES is not set\nCONFIG_S=\"x y\"\n";
        assert_eq!(
            parse_fragment(text),
            Ok(vec![
                set("CONFIG_A", "y"),
                set("CONFIG_NR_CPUS", "8"),
                Setting::Unset { name: "CONFIG_MODULES".into() },
                set("CONFIG_S", "\"x y\""),
            ])
        );
    }

    #[test]
    fn rejects_garbage_with_line_number() {
        assert_eq!(parse_fragment("CONFIG_A=y\nA=y\n"), Err((2, "A=y".into())));
        assert_eq!(parse_fragment("CONFIG_A=\n"), Err((1, "CONFIG_A=".into())));
        assert_eq!(parse_fragment("CONFIG_A y\n"), Err((1, "CONFIG_A y".into())));
    }

    #[test]
    fn later_fragment_wins() {
        let a = vec![set("CONFIG_A", "y"), set("CONFIG_B", "y")];
        let b = vec![Setting::Unset { name: "CONFIG_A".into() }];
        assert_eq!(merge(&[a, b]), vec![Setting::Unset { name: "CONFIG_A".into() }, set("CONFIG_B", "y")]);
    }

    #[test]
    fn survival_check_lists_what_was_dropped() {
        let req = vec![
            set("CONFIG_NETDEVSIM", "y"),
            set("CONFIG_NR_CPUS", "8"),
            set("CONFIG_VETH", "y"),
            set("CONFIG_XDP_SOCKETS", "y"),
            Setting::Unset { name: "CONFIG_MODULES".into() },
            Setting::Unset { name: "CONFIG_PANIC_ON_OOPS".into() },
        ];
        let config = "CONFIG_NETDEVSIM=y\nCONFIG_NR_CPUS=8\nCONFIG_VETH=m\n# CONFIG_XDP_SOCKETS is not set\n\
                      CONFIG_MODULES=y\n";
        assert_eq!(
            missing(&req, config),
            vec![
                "CONFIG_VETH=y (got: CONFIG_VETH=m)".to_string(),
                "CONFIG_XDP_SOCKETS=y (got: is not set)".to_string(),
                "# CONFIG_MODULES is not set (got: CONFIG_MODULES=y)".to_string(),
            ]
        );
    }

    #[test]
    fn absent_symbol_is_missing_when_set_requested() {
        assert_eq!(missing(&[set("CONFIG_X", "y")], ""), vec!["CONFIG_X=y (got: absent)".to_string()]);
    }
}
