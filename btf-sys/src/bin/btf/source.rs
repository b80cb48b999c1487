//! Where `btf dump` gets its bytes: a file (raw BTF or ELF, possibly
//! compressed) or a kernel BTF object by id.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use btf_sys::{BtfId, Linux};

use crate::Failure;

/// The kernel's own BTF, and the directory of module BTF beside it.
pub(crate) const SYSFS_VMLINUX: &str = "/sys/kernel/btf/vmlinux";
pub(crate) const SYSFS_DIR: &str = "/sys/kernel/btf";

/// The most bytes a compressed file may expand to (a kernel module is a few
/// MiB; vmlinux with full debug info is under 1 GiB).
pub(crate) const MAX_DECOMPRESSED: u64 = 1 << 30;

/// The most bytes read from a source that is not a regular file (a pipe, a
/// device): its size is not known beforehand.
pub(crate) const MAX_STREAM: u64 = 256 << 20;

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
    let fd = btf_sys::open_btf(&Linux, id).map_err(|error| open_failure(source, id, error))?;
    let object = btf_sys::read_btf(&Linux, &fd)?;
    let module = object.info.kernel_btf && object.info.name != "vmlinux";
    Ok(Loaded {
        bytes: object.bytes,
        default_base: module.then_some(SYSFS_VMLINUX),
    })
}

/// Refuses bytes that are neither raw BTF nor ELF with a message that says
/// what they start with and what is accepted (rather than btf-core's "bad
/// magic", which assumes the bytes were meant to be BTF). `what` names the
/// source in the message.
pub(crate) fn check_btf_magic(what: &str, bytes: &[u8]) -> Result<(), Failure> {
    if bytes.starts_with(&[0x9f, 0xeb]) || bytes.starts_with(&[0xeb, 0x9f]) {
        return Ok(());
    }
    if bytes.is_empty() {
        return Err(Failure::Message(format!(
            "{what}: empty file, not a BTF blob or ELF file"
        )));
    }
    let start: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Err(Failure::Message(format!(
        "{what}: not a BTF blob or ELF file (starts with {}); accepted: raw BTF \
         (starts with 9f eb or eb 9f), an ELF file with a .BTF section (vmlinux, \
         a module .ko, a BPF .o), and either compressed with gzip, zstd or xz",
        start.join(" ")
    )))
}

/// What `BPF_BTF_GET_FD_BY_ID` failing means for someone who typed `id:N`,
/// and what to do instead.
fn open_failure(source: &str, id: BtfId, error: btf_sys::Error) -> Failure {
    match error.raw_os_error() {
        Some(libc::ENOENT) => Failure::Message(format!(
            "{source}: no BTF object with id {id} (see `btf list` for the ids there are)"
        )),
        Some(libc::EPERM | libc::EACCES) => Failure::Message(format!(
            "{source}: opening a BTF object by id needs CAP_SYS_ADMIN (run as root); \
             without it, read kernel BTF from /sys/kernel/btf/<name> \
             (e.g. `btf dump /sys/kernel/btf/vmlinux`) ({error})"
        )),
        _ => Failure::Btf(error),
    }
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
        } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            // A skippable frame first, as pzstd writes.
            || matches!(bytes, [m, 0x2a, 0x4d, 0x18, ..] if m & 0xf0 == 0x50)
        {
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
/// bytes, whatever the file is called). A file that is not a regular file
/// (a pipe, a device) is read up to [`MAX_STREAM`] bytes.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    let shown = path.display();
    let failed = |error: io::Error| Failure::Message(format!("{shown}: {error}"));
    let file = File::open(path).map_err(failed)?;
    let metadata = file.metadata().map_err(failed)?;
    let bytes = if metadata.is_file() {
        let mut bytes = Vec::new();
        (&file).read_to_end(&mut bytes).map_err(failed)?;
        bytes
    } else {
        bounded(file, MAX_STREAM).map_err(failed)?
    };
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

/// Expands `bytes`, refusing output over [`MAX_DECOMPRESSED`]. Every
/// stream, frame or member is read, and checksums are checked.
pub(crate) fn decompress(compression: Compression, bytes: &[u8]) -> io::Result<Vec<u8>> {
    match compression {
        Compression::Gzip => gunzip(bytes),
        Compression::Zstd => bounded(zstd::stream::read::Decoder::new(bytes)?, MAX_DECOMPRESSED),
        Compression::Xz => bounded(
            liblzma::read::XzDecoder::new_multi_decoder(bytes),
            MAX_DECOMPRESSED,
        ),
    }
}

/// Every gzip member of `bytes`; trailing zero bytes (padding that tape
/// and block devices add) end the input, as GNU gzip allows.
fn gunzip(mut bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let mut member = flate2::bufread::GzDecoder::new(bytes);
        let room = (MAX_DECOMPRESSED + 1).saturating_sub(out.len() as u64);
        (&mut member).take(room).read_to_end(&mut out)?;
        if out.len() as u64 > MAX_DECOMPRESSED {
            return Err(too_big());
        }
        bytes = member.into_inner();
        if bytes.iter().all(|&b| b == 0) {
            return Ok(out);
        }
    }
}

fn too_big() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("more than {MAX_DECOMPRESSED} bytes"),
    )
}

/// All of `reader`, or an error past `limit` bytes.
fn bounded(reader: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("more than {limit} bytes"),
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

    /// Some bytes that compress: a counter's decimal digits.
    fn sample() -> Vec<u8> {
        (0..20_000u32)
            .flat_map(|i| i.to_string().into_bytes())
            .collect()
    }

    fn zstd_frame(bytes: &[u8], checksum: bool) -> Vec<u8> {
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        encoder.include_checksum(checksum).unwrap();
        std::io::Write::write_all(&mut encoder, bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn zstd_frames_skippable_frames_and_checksums() {
        let data = sample();
        let (head, tail) = data.split_at(10_000);
        // Two frames, as concatenated `zstd` outputs are.
        let mut two = zstd_frame(head, true);
        two.extend(zstd_frame(tail, true));
        assert_eq!(Compression::detect(&two), Some(Compression::Zstd));
        assert_eq!(decompress(Compression::Zstd, &two).unwrap(), data);
        // A skippable frame first, as pzstd writes.
        let mut skip = vec![0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
        skip.extend(&two);
        assert_eq!(Compression::detect(&skip), Some(Compression::Zstd));
        assert_eq!(decompress(Compression::Zstd, &skip).unwrap(), data);
        // A wrong content checksum is an error, not wrong bytes.
        let mut bad = zstd_frame(&data, true);
        let n = bad.len();
        bad[n - 4..].fill(0);
        assert!(decompress(Compression::Zstd, &bad).is_err());
    }

    #[test]
    fn gzip_members_and_trailing_zeros() {
        use flate2::{Compression as Level, write::GzEncoder};
        let gz = |bytes: &[u8]| {
            let mut e = GzEncoder::new(Vec::new(), Level::default());
            std::io::Write::write_all(&mut e, bytes).unwrap();
            e.finish().unwrap()
        };
        let data = sample();
        let (head, tail) = data.split_at(7_000);
        let mut two = gz(head);
        two.extend(gz(tail));
        assert_eq!(decompress(Compression::Gzip, &two).unwrap(), data);
        two.extend([0; 16]);
        assert_eq!(decompress(Compression::Gzip, &two).unwrap(), data);
        two.push(1);
        assert!(decompress(Compression::Gzip, &two).is_err());
        // A corrupt CRC is an error.
        let mut bad = gz(&data);
        let n = bad.len();
        bad[n - 8] ^= 1;
        assert!(decompress(Compression::Gzip, &bad).is_err());
    }

    #[test]
    fn streams_are_bounded() {
        // /dev/zero never ends: reading stops at MAX_STREAM with an error.
        match read_file(Path::new("/dev/zero")) {
            Err(Failure::Message(text)) => assert!(text.contains("more than"), "{text}"),
            _ => panic!("/dev/zero was read"),
        }
        // A bomb: one MiB of zeros as an xz stream, that stream repeated
        // until the whole expands past the limit.
        let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 1);
        std::io::Write::write_all(&mut encoder, &vec![0u8; 1 << 20]).unwrap();
        let stream = encoder.finish().unwrap();
        let bomb = stream.repeat(((MAX_DECOMPRESSED >> 20) + 1) as usize);
        let error = decompress(Compression::Xz, &bomb).unwrap_err();
        assert!(error.to_string().contains("more than"), "{error}");
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
