//! Unpacking a bzImage's compressed payload into the ELF `vmlinux` it carries, so QEMU can
//! boot it through the PVH entry point and skip the in-guest decompressor (about 2 s under TCG
//! for a Debian kernel).

use std::io::Read;

/// The compression of a bzImage payload, recognised by its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Xz,
    Zstd,
    Lz4Legacy,
    Uncompressed,
}

/// Why a bzImage cannot be turned into a bootable vmlinux (the caller then boots the bzImage).
#[derive(Debug, thiserror::Error)]
pub enum VmlinuxError {
    #[error("not a bzImage with a payload (boot protocol 2.08 or later needed)")]
    NoPayload,
    #[error("unknown payload compression (magic {0})")]
    UnknownCompression(String),
    #[error("failed to decompress the {0:?} payload: {1}")]
    Decompress(Compression, String),
    #[error("the payload is not an ELF with a PVH entry note (kernel built without CONFIG_PVH)")]
    NoPvh,
}

/// Locate the payload: `payload_offset`/`payload_length` in the setup header (x86 boot
/// protocol 2.08+), relative to the protected-mode code after the setup sectors.
pub fn payload(image: &[u8]) -> Result<&[u8], VmlinuxError> {
    let u32_at = |o: usize| image.get(o..o + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if image.get(0x202..0x206) != Some(b"HdrS") {
        return Err(VmlinuxError::NoPayload);
    }
    let version = image.get(0x206..0x208).map(|b| u16::from_le_bytes([b[0], b[1]])).unwrap_or(0);
    if version < 0x0208 {
        return Err(VmlinuxError::NoPayload);
    }
    let setup_sects = match image.get(0x1f1).copied().unwrap_or(0) {
        0 => 4,
        n => usize::from(n),
    };
    let (off, len) = (u32_at(0x248).ok_or(VmlinuxError::NoPayload)?, u32_at(0x24c).ok_or(VmlinuxError::NoPayload)?);
    let start = (setup_sects + 1) * 512 + off as usize;
    image.get(start..start + len as usize).ok_or(VmlinuxError::NoPayload)
}

/// Which compression a payload uses.
pub fn compression(payload: &[u8]) -> Result<Compression, VmlinuxError> {
    Ok(match payload {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Xz,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        [0x02, 0x21, 0x4c, 0x18, ..] => Compression::Lz4Legacy,
        [0x7f, b'E', b'L', b'F', ..] => Compression::Uncompressed,
        other => {
            let magic: String = other.iter().take(4).map(|b| format!("{b:02x}")).collect();
            return Err(VmlinuxError::UnknownCompression(magic));
        }
    })
}

/// The decompressed ELF vmlinux of a bzImage, checked for a PVH entry note.
pub fn extract(image: &[u8]) -> Result<Vec<u8>, VmlinuxError> {
    let p = payload(image)?;
    let kind = compression(p)?;
    let err = |e: String| VmlinuxError::Decompress(kind, e);
    let elf = match kind {
        Compression::Uncompressed => p.to_vec(),
        Compression::Gzip => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(p).read_to_end(&mut out).map_err(|e| err(e.to_string()))?;
            out
        }
        Compression::Xz => {
            let mut out = Vec::new();
            lzma_rs::xz_decompress(&mut std::io::BufReader::new(p), &mut out).map_err(|e| err(e.to_string()))?;
            out
        }
        Compression::Zstd => {
            // The kernel appends the decompressed size (4 bytes) after the frame; read one frame.
            let mut out = Vec::new();
            let mut dec = ruzstd::decoding::StreamingDecoder::new(p).map_err(|e| err(e.to_string()))?;
            dec.read_to_end(&mut out).map_err(|e| err(e.to_string()))?;
            out
        }
        Compression::Lz4Legacy => lz4_legacy(p).map_err(err)?,
    };
    if !has_pvh_note(&elf) {
        return Err(VmlinuxError::NoPvh);
    }
    Ok(elf)
}

/// The legacy LZ4 format the kernel uses: magic, then blocks of [u32 size][lz4 block], each
/// decompressing to at most 8 MiB; ends at the data's end or at the appended size word.
fn lz4_legacy(data: &[u8]) -> Result<Vec<u8>, String> {
    const BLOCK: usize = 8 << 20;
    let mut out = Vec::new();
    let mut pos = 4;
    while pos + 4 <= data.len() {
        let size = u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        pos += 4;
        if size == 0x184c_2102 {
            continue; // a concatenated stream repeats the magic
        }
        let Some(block) = data.get(pos..pos + size) else { break }; // the trailing size word
        let mut buf = vec![0u8; BLOCK];
        let n = lz4_flex::block::decompress_into(block, &mut buf).map_err(|e| e.to_string())?;
        out.extend_from_slice(&buf[..n]);
        pos += size;
    }
    Ok(out)
}

/// Whether an ELF carries the Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, type 18).
pub fn has_pvh_note(elf: &[u8]) -> bool {
    use object::read::elf::{ElfFile64, FileHeader, ProgramHeader};
    let Ok(file) = ElfFile64::<object::Endianness>::parse(elf) else { return false };
    let endian = file.endian();
    let Ok(segments) = file.elf_header().program_headers(endian, elf) else { return false };
    segments.iter().any(|ph| {
        let Ok(Some(mut notes)) = ph.notes(endian, elf) else { return false };
        while let Ok(Some(note)) = notes.next() {
            if note.name() == b"Xen" && note.n_type(endian) == object::elf::NoteType(18) {
                return true;
            }
        }
        false
    })
}

/// The PVH-bootable vmlinux for `bzimage`, extracted once and kept under
/// `<cache_root>/vmlinux/`, keyed by the image's path, size and modification time.
pub fn cached(bzimage: &std::path::Path, cache_root: &std::path::Path) -> Result<std::path::PathBuf, VmlinuxError> {
    use sha2::{Digest, Sha256};
    let io = |e: std::io::Error| VmlinuxError::Decompress(Compression::Uncompressed, e.to_string());
    let meta = std::fs::metadata(bzimage).map_err(io)?;
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(bzimage.to_string_lossy().as_bytes());
    h.update(meta.len().to_le_bytes());
    h.update(mtime.as_nanos().to_le_bytes());
    let key: String = h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    let dir = cache_root.join("vmlinux");
    let out = dir.join(format!("{key}.elf"));
    if out.is_file() {
        return Ok(out);
    }
    let elf = extract(&std::fs::read(bzimage).map_err(io)?)?;
    std::fs::create_dir_all(&dir).map_err(io)?;
    let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    std::fs::write(tmp.path(), &elf).map_err(io)?;
    tmp.persist(&out).map_err(|e| io(e.error))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_compressions_by_magic() {
        assert_eq!(compression(&[0x28, 0xb5, 0x2f, 0xfd, 0]).ok(), Some(Compression::Zstd));
        assert_eq!(compression(&[0x02, 0x21, 0x4c, 0x18]).ok(), Some(Compression::Lz4Legacy));
        assert_eq!(compression(b"\xfd7zXZ\0").ok(), Some(Compression::Xz));
        assert!(matches!(compression(b"abcd"), Err(VmlinuxError::UnknownCompression(m)) if m == "61626364"));
    }

    #[test]
    fn rejects_images_without_a_setup_header() {
        assert!(matches!(payload(&[0u8; 4096]), Err(VmlinuxError::NoPayload)));
        assert!(!has_pvh_note(b"not an elf"));
    }

    #[test]
    fn lz4_legacy_round_trip() {
        let raw: Vec<u8> = (0..100_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let block = lz4_flex::block::compress(&raw);
        let mut stream = vec![0x02, 0x21, 0x4c, 0x18];
        stream.extend_from_slice(&(block.len() as u32).to_le_bytes());
        stream.extend_from_slice(&block);
        stream.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        assert_eq!(lz4_legacy(&stream).expect("decodes"), raw);
    }
}
