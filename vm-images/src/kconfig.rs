//! A kernel's build configuration (`.config` / Debian's `config-<release>`): which options it has.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::ImageError;

/// The options of one kernel config, as `SYMBOL` (without `CONFIG_`) → value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelConfig {
    path: PathBuf,
    values: HashMap<String, String>,
}

impl KernelConfig {
    /// Parses config text; `# CONFIG_X is not set` and unknown lines leave X absent.
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> KernelConfig {
        let values = text
            .lines()
            .filter_map(|l| l.strip_prefix("CONFIG_"))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        KernelConfig { path: path.into(), values }
    }

    pub fn read(path: &Path) -> Result<KernelConfig, ImageError> {
        let text = std::fs::read_to_string(path).map_err(ImageError::io(path))?;
        Ok(KernelConfig::parse(path, &text))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The symbol's value (`y`, `m`, a number or string), None when unset.
    pub fn value(&self, symbol: &str) -> Option<&str> {
        self.values.get(symbol.strip_prefix("CONFIG_").unwrap_or(symbol)).map(String::as_str)
    }

    /// Built in (`y`) or as a module (`m`; the harness loads modules a case asks for).
    pub fn has(&self, symbol: &str) -> bool {
        let symbol = symbol.strip_prefix("CONFIG_").unwrap_or(symbol);
        matches!(self.values.get(symbol).map(String::as_str), Some("y" | "m"))
    }

    /// The symbols of `wanted` this config lacks, as `CONFIG_X`, in the order asked.
    pub fn missing<'a>(&self, wanted: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        wanted
            .into_iter()
            .filter(|s| !self.has(s))
            .map(|s| if s.starts_with("CONFIG_") { s.clone() } else { format!("CONFIG_{s}") })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# comment
CONFIG_EPOLL=y
CONFIG_VIRTIO_NET=m
# CONFIG_NETDEVSIM is not set
CONFIG_NR_CPUS=8
CONFIG_LOCALVERSION=\"\"
";

    #[test]
    fn built_in_and_modules_count_not_set_does_not() {
        let c = KernelConfig::parse("/x/.config", TEXT);
        assert!(c.has("EPOLL"));
        assert!(c.has("CONFIG_VIRTIO_NET"));
        assert!(!c.has("NETDEVSIM"));
        assert!(!c.has("NR_CPUS"), "a number is not a feature switch");
        assert!(!c.has("NET_RX_BUSY_POLL"));
    }

    #[test]
    fn missing_keeps_order_and_prefix() {
        let c = KernelConfig::parse("/x/.config", TEXT);
        let wanted: Vec<String> = ["NETDEVSIM", "EPOLL", "CONFIG_XDP_SOCKETS"].map(String::from).to_vec();
        assert_eq!(c.missing(&wanted), vec!["CONFIG_NETDEVSIM", "CONFIG_XDP_SOCKETS"]);
    }
}
