//! The guest's initramfs: the static agent as /init plus the modules it loads, as a newc cpio.
//!
//! Left uncompressed: the kernel unpacks it faster under TCG than it would inflate gzip.

use crate::error::HostError;
use cpio::newc::{Builder, ModeFileType};
use pollcheck_images::ModuleSet;
use pollcheck_proto::boot;
use std::io::Cursor;
use std::path::Path;

/// One file or directory of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub mode: u32,
    pub data: Vec<u8>,
}

/// The archive's entries: directories, `/init`, `/modules/<name>.ko` and `/modules/order`.
pub fn entries(agent: &[u8], modules: Option<&ModuleSet>) -> Vec<Entry> {
    let dir = |p: &str| Entry { path: p.to_owned(), mode: 0o755, data: Vec::new() };
    let mut out: Vec<Entry> = ["dev", "proc", "sys", "tmp", "run", boot::MODULES_DIR].iter().map(|d| dir(d)).collect();
    out.push(Entry { path: boot::INIT.into(), mode: 0o755, data: agent.to_vec() });
    let mut order = String::new();
    for m in modules.map(|s| s.modules.as_slice()).unwrap_or_default() {
        let file = format!("{}.ko", m.name);
        order.push_str(&file);
        order.push('\n');
        out.push(Entry { path: format!("{}/{file}", boot::MODULES_DIR), mode: 0o644, data: m.data.clone() });
    }
    out.push(Entry { path: boot::MODULE_ORDER.into(), mode: 0o644, data: order.into_bytes() });
    out
}

/// Write `entries` as a newc archive to `path`.
pub fn write(path: &Path, entries: Vec<Entry>) -> Result<(), HostError> {
    let err = |source| HostError::Initramfs { path: path.to_owned(), source };
    let file = std::fs::File::create(path).map_err(err)?;
    let inputs = entries.into_iter().map(|e| {
        let kind = if e.path.contains('.') || e.path == boot::INIT || e.path == boot::MODULE_ORDER {
            ModeFileType::Regular
        } else {
            ModeFileType::Directory
        };
        let b = Builder::new(&e.path).mode(e.mode).set_mode_file_type(kind).nlink(1);
        (b, Cursor::new(e.data))
    });
    let mut w = std::io::BufWriter::new(file);
    cpio::write_cpio(inputs, &mut w).map_err(err)?;
    std::io::Write::flush(&mut w).map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollcheck_images::{Module, ModuleSet};

    #[test]
    fn archive_lists_modules_in_order_and_reads_back() {
        let set = ModuleSet {
            release: "7.3.4".into(),
            modules: vec![
                Module { name: "failover".into(), data: b"a".to_vec() },
                Module { name: "virtio_net".into(), data: b"b".to_vec() },
            ],
        };
        let e = entries(b"\x7fELF", Some(&set));
        let order = e.iter().find(|x| x.path == "modules/order").expect("order file");
        assert_eq!(String::from_utf8_lossy(&order.data), "failover.ko\nvirtio_net.ko\n");
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("i.cpio");
        write(&p, e).expect("writes");
        let mut r = std::fs::File::open(&p).expect("open");
        let mut names = Vec::new();
        loop {
            let rd = cpio::NewcReader::new(r).expect("entry");
            if rd.entry().is_trailer() {
                break;
            }
            names.push((rd.entry().name().to_owned(), rd.entry().mode() & 0o170000));
            r = rd.finish().expect("finish");
        }
        assert!(names.contains(&("init".into(), 0o100000)));
        assert!(names.contains(&("proc".into(), 0o040000)));
        assert!(names.contains(&("modules/virtio_net.ko".into(), 0o100000)));
    }
}
