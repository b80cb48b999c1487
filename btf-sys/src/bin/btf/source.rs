//! Where `btf dump` gets its bytes: a file (raw BTF or ELF, possibly
//! compressed) or a kernel BTF object by id.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use btf_sys::{BtfId, Linux};

use crate::Failure;

/// The kernel's own BTF, and the directory of module BTF beside it.
pub(crate) const SYSFS_VMLINUX: &str = "/sys/kernel/btf/vmlinux";
const SYSFS_DIR: &str = "/sys/kernel/btf";

/// The most bytes a compressed file may expand to (a kernel module is a few
/// MiB; vmlinux with full debug info is under 1 GiB).
pub(crate) const MAX_DECOMPRESSED: u64 = 1 << 30;

/// The bytes of a source and what is known about them.
pub(crate) struct Loaded {
    /// The bytes: raw BTF or an ELF file, decompressed.
    pub(crate) bytes: Vec<u8>,
    /// The base a split blob from here needs when none is given: vmlinux
    /// for module BTF from sysfs or from the kernel.
    pub(crate) default_base: Option<&'static str>,
}

/// Reads `source`: `id:N` for a kernel BTF object, otherwise a path.
pub(crate) fn load(source: &str) -> Result<Loaded, Failure> {
    match source.strip_prefix("id:") {
        Some(number) => load_id(source, number),
        None => {
            let path = Path::new(source);
            Ok(Loaded {
                bytes: read_file(path)?,
                default_base: is_sysfs_module(path).then_some(SYSFS_VMLINUX),
            })
        }
    }
}

/// True for `/sys/kernel/btf/<module>`: split BTF on the kernel's vmlinux
/// (bpftool makes the same choice).
pub(crate) fn is_sysfs_module(path: &Path) -> bool {
    path.parent() == Some(Path::new(SYSFS_DIR))
        && path.file_name().is_some_and(|name| name != "vmlinux")
}

fn load_id(source: &str, number: &str) -> Result<Loaded, Failure> {
    let id = number
        .parse::<u32>()
        .ok()
        .and_then(BtfId::new)
        .ok_or_else(|| {
            Failure::Message(format!(
                "{source}: a btf object id is a number from 1 to {}",
                u32::MAX
            ))
        })?;
    let fd = btf_sys::open_btf(&Linux, id)?;
    let object = btf_sys::read_btf(&Linux, &fd)?;
    let module = object.info.kernel_btf && object.info.name != "vmlinux";
    Ok(Loaded {
        bytes: object.bytes,
        default_base: module.then_some(SYSFS_VMLINUX),
    })
}

/// How a file is compressed, told by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    Gzip,
    Zstd,
    Xz,
}

impl Compression {
    /// The compression whose magic `bytes` starts with, if any.
    pub(crate) fn detect(bytes: &[u8]) -> Option<Compression> {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Compression::Xz)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
        }
    }
}

/// Reads a whole file, decompressing gzip, zstd and xz (told by their magic
/// bytes, whatever the file is called).
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|error| match error.kind() {
        // Sysfs and procfs refuse reads of some files with EINVAL; say so.
        io::ErrorKind::InvalidInput => {
            Failure::Message(format!("{shown}: cannot be read: {error}"))
        }
        _ => Failure::Message(format!("{shown}: {error}")),
    })?;
    match Compression::detect(&bytes) {
        None => Ok(bytes),
        Some(compression) => decompress(compression, &bytes).map_err(|error| {
            Failure::Message(format!(
                "{shown}: {} decompression failed: {error}",
                compression.name()
            ))
        }),
    }
}

/// Expands `bytes`, refusing output over [`MAX_DECOMPRESSED`].
pub(crate) fn decompress(compression: Compression, bytes: &[u8]) -> io::Result<Vec<u8>> {
    match compression {
        Compression::Gzip => bounded(flate2::read::MultiGzDecoder::new(bytes)),
        Compression::Zstd => {
            let decoder = ruzstd::decoding::StreamingDecoder::new(bytes)
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error.to_string()))?;
            bounded(decoder)
        }
        Compression::Xz => bounded(liblzma::read::XzDecoder::new_multi_decoder(bytes)),
    }
}

fn bounded(reader: impl Read) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    reader
        .take(MAX_DECOMPRESSED.saturating_add(1))
        .read_to_end(&mut out)?;
    if u64::try_from(out.len()).map_or(true, |len| len > MAX_DECOMPRESSED) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("output exceeds {MAX_DECOMPRESSED} bytes"),
        ));
    }
    Ok(out)
}

/// Opens standard output as a file, so a dump reaches it in large writes
/// without the line buffering of `io::Stdout`.
pub(crate) fn stdout_file() -> io::Result<File> {
    use std::os::fd::AsFd;
    Ok(File::from(io::stdout().as_fd().try_clone_to_owned()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_modules_default_to_vmlinux() {
        assert!(is_sysfs_module(Path::new("/sys/kernel/btf/nf_tables")));
        assert!(!is_sysfs_module(Path::new("/sys/kernel/btf/vmlinux")));
        assert!(!is_sysfs_module(Path::new("/tmp/nf_tables")));
        assert!(!is_sysfs_module(Path::new("nf_tables")));
    }

    #[test]
    fn compression_is_told_by_magic() {
        assert_eq!(
            Compression::detect(b"\x1f\x8b\x08"),
            Some(Compression::Gzip)
        );
        assert_eq!(
            Compression::detect(b"\x28\xb5\x2f\xfd\x00"),
            Some(Compression::Zstd)
        );
        assert_eq!(
            Compression::detect(b"\xfd7zXZ\x00\x00"),
            Some(Compression::Xz)
        );
        assert_eq!(Compression::detect(b"\x7fELF"), None);
        assert_eq!(Compression::detect(b"\x9f\xeb\x01\x00"), None);
    }

    #[test]
    fn corrupt_input_is_an_error() {
        for compression in [Compression::Gzip, Compression::Zstd, Compression::Xz] {
            let mut bytes = match compression {
                Compression::Gzip => b"\x1f\x8b".to_vec(),
                Compression::Zstd => b"\x28\xb5\x2f\xfd".to_vec(),
                Compression::Xz => b"\xfd7zXZ\x00".to_vec(),
            };
            bytes.extend_from_slice(&[0x55; 64]);
            assert!(decompress(compression, &bytes).is_err(), "{compression:?}");
        }
    }

    #[test]
    fn ids_are_checked() {
        for bad in ["id:", "id:0", "id:x", "id:-1", "id:4294967296"] {
            match load(bad) {
                Err(Failure::Message(text)) => assert!(text.contains("number"), "{text}"),
                _ => panic!("{bad} accepted"),
            }
        }
    }
}
