//! Turning a catalogue kernel into a verified cache entry: download, check, extract, rename.

use std::path::{Path, PathBuf};

use crate::apt::Apt;
use crate::cache::{sha256_file, Cache, Manifest};
use crate::catalogue::CatalogueKernel;
use crate::{bzimage, ImageError, Progress};

fn first_existing(candidates: &[PathBuf]) -> Option<PathBuf> {
    candidates.iter().find(|p| p.exists()).cloned()
}

fn rename(from: &Path, to: &Path) -> Result<(), ImageError> {
    std::fs::rename(from, to).map_err(ImageError::io(from))
}

/// Downloads and unpacks `kernel` into its cache entry and returns the entry directory.
pub(crate) fn install(
    kernel: &CatalogueKernel,
    apt: &Apt,
    cache: &Cache,
    progress: &dyn Progress,
) -> Result<PathBuf, ImageError> {
    let kernels = cache.kernels_dir();
    std::fs::create_dir_all(&kernels).map_err(ImageError::io(&kernels))?;
    let tmp = tempfile::Builder::new().prefix(".fetch-").tempdir_in(&kernels).map_err(ImageError::io(&kernels))?;
    let debs_dir = tmp.path().join("debs");
    let root = tmp.path().join("root");
    let entry = tmp.path().join("entry");
    for d in [&debs_dir, &root, &entry] {
        std::fs::create_dir_all(d).map_err(ImageError::io(d))?;
    }

    let mb: u64 = kernel.debs.iter().map(|d| d.size).sum::<u64>() / 1_000_000;
    progress.message(&format!("downloading Linux {} ({} MB)", kernel.release, mb));
    for deb in &kernel.debs {
        apt.download_watched(&format!("{}={}", deb.package, deb.version), deb.size, &debs_dir, progress)?;
    }

    for deb in &kernel.debs {
        let prefix = format!("{}_", deb.package);
        let file = std::fs::read_dir(&debs_dir)
            .map_err(ImageError::io(&debs_dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
            })
            .ok_or_else(|| ImageError::BadPackage {
                package: deb.package.clone(),
                what: "downloaded .deb file".into(),
            })?;
        let sum = sha256_file(&file)?;
        if sum != deb.sha256 {
            return Err(ImageError::Checksum {
                what: file.display().to_string(),
                expected: deb.sha256.clone(),
                actual: sum,
            });
        }
        progress.message(&format!("unpacking {}", deb.package));
        duct::cmd!("dpkg-deb", "-x", &file, &root).stdout_null().stderr_capture().run().map_err(|e| {
            ImageError::Command { command: format!("dpkg-deb -x {}", file.display()), detail: e.to_string() }
        })?;
    }

    let r = &kernel.release;
    let mod_dirs = [root.join("usr/lib/modules").join(r), root.join("lib/modules").join(r)];
    let vmlinuz = first_existing(&[
        root.join(format!("boot/vmlinuz-{r}")),
        mod_dirs[0].join("vmlinuz"),
        mod_dirs[1].join("vmlinuz"),
    ])
    .ok_or_else(|| ImageError::BadPackage { package: kernel.package.clone(), what: "vmlinuz".into() })?;
    rename(&vmlinuz, &entry.join("vmlinuz"))?;
    let config = first_existing(&[
        root.join(format!("boot/config-{r}")),
        mod_dirs[0].join("config"),
        mod_dirs[1].join("config"),
    ]);
    if let Some(c) = &config {
        rename(c, &entry.join("config"))?;
    }
    let has_modules = match first_existing(&mod_dirs) {
        Some(m) if m.join("kernel").is_dir() => {
            std::fs::create_dir_all(entry.join("modules")).map_err(ImageError::io(&entry))?;
            rename(&m, &entry.join("modules").join(r))?;
            true
        }
        _ => false,
    };

    let info = bzimage::read_bzimage(&entry.join("vmlinuz"))?;
    if &info.release != r {
        return Err(ImageError::BadPackage {
            package: kernel.package.clone(),
            what: format!("vmlinuz for {r} (its header says {})", info.release),
        });
    }
    let manifest = Manifest {
        package: kernel.package.clone(),
        version: kernel.version.clone(),
        release: r.clone(),
        vmlinuz_size: std::fs::metadata(entry.join("vmlinuz")).map_err(ImageError::io(&entry))?.len(),
        vmlinuz_sha256: sha256_file(&entry.join("vmlinuz"))?,
        has_modules,
        has_config: config.is_some(),
        debs: kernel.debs.clone(),
    };
    manifest.save(&entry)?;

    let dest = cache.entry_dir(&kernel.package, &kernel.version);
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(ImageError::io(&dest))?;
    }
    rename(&entry, &dest)?;
    Ok(dest)
}
