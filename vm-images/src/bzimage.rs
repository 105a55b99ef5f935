//! Facts read from a kernel image file: the x86 boot protocol header and the kernel release.

use std::path::Path;

use crate::ImageError;

/// What the boot header of a bzImage says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BzImageInfo {
    /// `uname -r` of the kernel, e.g. `7.3.4+deb13-cloud-amd64`.
    pub release: String,
    /// Boot protocol version (major, minor), e.g. (2, 15).
    pub protocol: (u8, u8),
}

/// Why some bytes are not a usable x86 bzImage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rejection {
    Elf,
    Arch(&'static str),
    Other(String),
}

/// Reads the boot header of the bzImage at `path`.
pub fn read_bzimage(path: &Path) -> Result<BzImageInfo, ImageError> {
    if !path.exists() {
        return Err(ImageError::NotFound(path.to_path_buf()));
    }
    let bytes = std::fs::read(path).map_err(ImageError::io(path))?;
    parse(&bytes).map_err(|r| match r {
        Rejection::Elf => ImageError::ElfVmlinux { path: path.to_path_buf() },
        Rejection::Arch(arch) => ImageError::WrongArch { path: path.to_path_buf(), arch },
        Rejection::Other(why) => ImageError::NotBzImage { path: path.to_path_buf(), why },
    })
}

fn u16_at(bytes: &[u8], off: usize) -> Option<u16> {
    let b = bytes.get(off..off + 2)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// Parses the boot header out of the image bytes.
pub(crate) fn parse(bytes: &[u8]) -> Result<BzImageInfo, Rejection> {
    if bytes.starts_with(b"\x7fELF") {
        return Err(Rejection::Elf);
    }
    if bytes.get(0x38..0x3c) == Some(b"ARM\x64") {
        return Err(Rejection::Arch("arm64"));
    }
    if bytes.get(0x34..0x38) == Some(b"RSC\x05") {
        return Err(Rejection::Arch("riscv64"));
    }
    if bytes.get(0x202..0x206) != Some(b"HdrS") {
        return Err(Rejection::Other("no \"HdrS\" boot header at 0x202".into()));
    }
    let protocol = u16_at(bytes, 0x206).ok_or_else(|| Rejection::Other("truncated header".into()))?;
    let ptr = u16_at(bytes, 0x20e).ok_or_else(|| Rejection::Other("truncated header".into()))?;
    let start = usize::from(ptr) + 0x200;
    let tail =
        bytes.get(start..).filter(|_| ptr != 0).ok_or_else(|| Rejection::Other("no kernel_version string".into()))?;
    let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len()).min(512);
    let text = String::from_utf8_lossy(&tail[..end]);
    let release = text
        .split_whitespace()
        .next()
        .ok_or_else(|| Rejection::Other("empty kernel_version string".into()))?
        .to_string();
    let [minor, major] = protocol.to_le_bytes();
    Ok(BzImageInfo { release, protocol: (major, minor) })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rstest::rstest;

    /// A minimal synthetic bzImage header carrying `version` as its kernel_version string.
    pub(crate) fn fake_bzimage(version: &str) -> Vec<u8> {
        let mut b = vec![0u8; 0x1000];
        b[0x202..0x206].copy_from_slice(b"HdrS");
        b[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
        let ptr: u16 = 0x400;
        b[0x20e..0x210].copy_from_slice(&ptr.to_le_bytes());
        let at = usize::from(ptr) + 0x200;
        b[at..at + version.len()].copy_from_slice(version.as_bytes());
        b
    }

    #[test]
    fn reads_release_and_protocol() {
        let b = fake_bzimage("7.3.4+deb13-cloud-amd64 (debian-kernel@example) #1 SMP");
        assert_eq!(parse(&b), Ok(BzImageInfo { release: "7.3.4+deb13-cloud-amd64".into(), protocol: (2, 15) }));
    }

    #[rstest]
    #[case::elf(b"\x7fELF\x02\x01\x01".to_vec(), Rejection::Elf)]
    #[case::arm64({ let mut b = vec![0u8; 0x100]; b[0x38..0x3c].copy_from_slice(b"ARM\x64"); b }, Rejection::Arch("arm64"))]
    #[case::riscv({ let mut b = vec![0u8; 0x100]; b[0x34..0x38].copy_from_slice(b"RSC\x05"); b }, Rejection::Arch("riscv64"))]
    fn rejects(#[case] bytes: Vec<u8>, #[case] want: Rejection) {
        assert_eq!(parse(&bytes), Err(want));
    }

    #[test]
    fn rejects_random_bytes() {
        assert!(matches!(parse(&[0u8; 16]), Err(Rejection::Other(_))));
    }

    #[test]
    fn errors_name_the_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope");
        assert!(matches!(read_bzimage(&missing), Err(ImageError::NotFound(_))));
        let elf = dir.path().join("vmlinux");
        std::fs::write(&elf, b"\x7fELF\x02\x01\x01\0").expect("write");
        let msg = read_bzimage(&elf).expect_err("elf").to_string();
        assert!(msg.contains("ELF vmlinux") && msg.contains("arch/x86/boot/bzImage"), "{msg}");
    }
}
