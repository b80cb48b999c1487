//! Where `btf dump` gets its bytes: a file (raw BTF or ELF, possibly
//! compressed) or a kernel BTF object by id.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use btf_sys::{BtfId, Linux};

use crate::{Failure, elf};

/// The kernel's own BTF, and the directory of module BTF beside it.
pub(crate) const SYSFS_VMLINUX: &str = "/sys/kernel/btf/vmlinux";
pub(crate) const SYSFS_DIR: &str = "/sys/kernel/btf";

/// The most bytes a compressed file may expand to (a kernel module is a few
/// MiB; vmlinux with full debug info is under 1 GiB). Far less is kept when
/// the bytes say how long they are (see [`decompress`]).
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
    Err(Failure::Message(format!(
        "{what}: not a BTF blob or ELF file (starts with {}); accepted: raw BTF \
         (starts with 9f eb or eb 9f), an ELF file with a .BTF section (vmlinux, \
         a module .ko, a BPF .o), and either compressed with gzip, zstd or xz",
        hex_start(bytes)
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

/// Expands `bytes`, judging the result as it grows: its first bytes must
/// be BTF's or ELF's magic, and once the BTF header or the ELF section
/// headers are in, no more is kept than they describe (the rest of the
/// stream is still read, to check its checksums, up to
/// [`MAX_DECOMPRESSED`] bytes in all). A stream of zeros is refused after
/// its first piece, so a decompression bomb costs neither memory nor time.
/// Every stream, frame or member is read, and checksums are checked.
pub(crate) fn decompress(compression: Compression, bytes: &[u8]) -> io::Result<Vec<u8>> {
    match compression {
        Compression::Gzip => inflate(GzMembers::new(bytes)),
        Compression::Zstd => inflate(zstd::stream::read::Decoder::new(bytes)?),
        Compression::Xz => inflate(liblzma::read::XzDecoder::new_multi_decoder(bytes)),
    }
}

/// The gzip members of a buffer, one after another; trailing zero bytes
/// (padding that tape and block devices add) end the input, as GNU gzip
/// allows.
struct GzMembers<'a> {
    member: Option<flate2::bufread::GzDecoder<&'a [u8]>>,
}

impl<'a> GzMembers<'a> {
    fn new(bytes: &'a [u8]) -> GzMembers<'a> {
        GzMembers {
            member: Some(flate2::bufread::GzDecoder::new(bytes)),
        }
    }
}

impl Read for GzMembers<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(member) = self.member.as_mut() {
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // This member is complete, its CRC checked: on to the next
            // one, unless only zeros follow.
            let rest = self.member.take().map_or(&[][..], |m| m.into_inner());
            if rest.iter().any(|&b| b != 0) {
                self.member = Some(flate2::bufread::GzDecoder::new(rest));
            }
        }
        Ok(0)
    }
}

/// The piece read from a decompressor at a time: the most that is kept
/// before the bytes are judged.
const PIECE: usize = 64 << 10;

/// Reads all of `reader`, judging the bytes as they come (see
/// [`decompress`]).
fn inflate(mut reader: impl Read) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut piece = vec![0u8; PIECE];
    // How many bytes the format says it spans, once known.
    let mut span: Option<u64> = None;
    // Every byte the stream gave, kept or not.
    let mut total: u64 = 0;
    loop {
        let n = match reader.read(&mut piece) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        total = total.saturating_add(n as u64);
        if total > MAX_DECOMPRESSED {
            return Err(too_big());
        }
        let got = piece.get(..n).unwrap_or_default();
        match span {
            Some(end) => {
                let room = end.saturating_sub(out.len() as u64);
                let keep = usize::try_from(room).map_or(got.len(), |room| room.min(got.len()));
                out.extend_from_slice(got.get(..keep).unwrap_or_default());
            }
            None => {
                out.extend_from_slice(got);
                span = judge(&out)?;
                if let Some(end) = span {
                    out.truncate(usize::try_from(end).unwrap_or(usize::MAX));
                }
            }
        }
    }
}

/// How many bytes `bytes` (the start of a decompressed stream) span by
/// their own description: `None` until enough is in to tell; an error when
/// they are neither BTF nor ELF.
fn judge(bytes: &[u8]) -> io::Result<Option<u64>> {
    if bytes.len() < 4 {
        Ok(None)
    } else if bytes.starts_with(b"\x7fELF") {
        Ok(elf::span(bytes))
    } else if bytes.starts_with(&[0x9f, 0xeb]) || bytes.starts_with(&[0xeb, 0x9f]) {
        Ok(btf_span(bytes))
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the decompressed bytes are not BTF or ELF (they start with {})",
                hex_start(bytes)
            ),
        ))
    }
}

/// The first bytes of `bytes` in hex, for messages: `72 6f 6f 74`.
fn hex_start(bytes: &[u8]) -> String {
    let start: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    start.join(" ")
}

/// The bytes a raw BTF blob spans by its header (header and every section),
/// once the header is in.
fn btf_span(bytes: &[u8]) -> Option<u64> {
    let little = bytes.starts_with(&[0x9f, 0xeb]);
    let word = |at: usize| {
        let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(u64::from(if little {
            u32::from_le_bytes(raw)
        } else {
            u32::from_be_bytes(raw)
        }))
    };
    let hdr_len = word(4)?;
    // The classic header is 24 bytes; a longer one is read when it is in.
    if (bytes.len() as u64) < hdr_len.max(24) {
        return None;
    }
    let end = |off: usize| Some(word(off)? + word(off + 4)?);
    let mut sections = end(8)?.max(end(16)?);
    if hdr_len >= 32 {
        sections = sections.max(end(24)?);
    }
    Some(hdr_len + sections)
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

    /// Some bytes that compress and that decompression keeps whole: a
    /// BTF header whose string section spans a counter's decimal digits.
    fn sample() -> Vec<u8> {
        let digits: Vec<u8> = (0..20_000u32)
            .flat_map(|i| i.to_string().into_bytes())
            .collect();
        btf_with_strings(&digits)
    }

    /// A little-endian BTF header with no types and `strings` after it.
    fn btf_with_strings(strings: &[u8]) -> Vec<u8> {
        let mut blob = vec![0x9f, 0xeb, 1, 0];
        let len = u32::try_from(strings.len()).unwrap();
        for word in [24, 0, 0, 0, len] {
            blob.extend_from_slice(&u32::to_le_bytes(word));
        }
        blob.extend_from_slice(strings);
        blob
    }

    fn xz(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 1);
        std::io::Write::write_all(&mut encoder, bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use flate2::{Compression as Level, write::GzEncoder};
        let mut encoder = GzEncoder::new(Vec::new(), Level::default());
        std::io::Write::write_all(&mut encoder, bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// Zeros are refused after the first piece, in every format: a bomb
    /// costs neither memory nor time (`cli_dump` checks the memory).
    #[test]
    fn bytes_that_are_not_btf_or_elf_stop_the_stream() {
        let zeros = vec![0u8; 8 << 20];
        for (compression, bytes) in [
            (Compression::Zstd, zstd_frame(&zeros, false)),
            (Compression::Xz, xz(&zeros)),
            (Compression::Gzip, gzip(&zeros)),
        ] {
            let error = decompress(compression, &bytes).unwrap_err();
            assert_eq!(
                error.to_string(),
                "the decompressed bytes are not BTF or ELF (they start with 00 00 00 00 00 00 00 00)",
                "{compression:?}"
            );
        }
        // A stream shorter than a magic is left to the caller to judge.
        assert_eq!(
            decompress(Compression::Zstd, &zstd_frame(b"\x9f", true)).unwrap(),
            b"\x9f"
        );
    }

    /// What follows the bytes a BTF header describes is read (checksums
    /// and all) but not kept.
    #[test]
    fn btf_keeps_what_its_header_spans() {
        let blob = sample();
        let mut padded = blob.clone();
        padded.extend(std::iter::repeat_n(0x55, 200_000));
        for (compression, bytes) in [
            (Compression::Zstd, zstd_frame(&padded, true)),
            (Compression::Xz, xz(&padded)),
            (Compression::Gzip, gzip(&padded)),
        ] {
            assert_eq!(
                decompress(compression, &bytes).unwrap(),
                blob,
                "{compression:?}"
            );
        }
        // The header arrives in two pieces (two gzip members, the first
        // shorter than a header): judged once it is whole.
        let mut two = gzip(blob.get(..10).unwrap());
        two.extend(gzip(blob.get(10..).unwrap()));
        assert_eq!(decompress(Compression::Gzip, &two).unwrap(), blob);
        // A wrong checksum past the span is still an error.
        let mut bad = zstd_frame(&padded, true);
        let n = bad.len();
        bad[n - 4..].fill(0);
        assert!(decompress(Compression::Zstd, &bad).is_err());
    }

    /// An ELF file keeps what its headers describe; a module's signature
    /// after its last section is dropped.
    #[test]
    fn elf_keeps_what_its_headers_span() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let mut signed = exe.clone();
        signed.extend_from_slice(b"~Module signature appended~\n");
        let out = decompress(Compression::Zstd, &zstd_frame(&signed, true)).unwrap();
        assert_eq!(out.len(), exe.len());
        assert!(out == exe);
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
        let gz = gzip;
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
        // A bomb behind a real header: a small BTF blob as an xz stream,
        // then one MiB of zeros as another, repeated until the whole
        // expands past the limit. Only the blob is kept; the stream is
        // read to the limit.
        let mut bomb = xz(&sample());
        let zeros = xz(&vec![0u8; 1 << 20]);
        bomb.extend(zeros.repeat(((MAX_DECOMPRESSED >> 20) + 1) as usize));
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
