//! `btf dump SOURCE [--base FILE] [--format raw|c]`.
//!
//! The output is byte-identical to `bpftool btf dump … format raw` (or
//! `format c`) and is written straight to standard output in 32 KiB
//! pieces.

use std::io::{self, Write};
use std::path::Path;

use btf_core::Btf;
use btf_core::dump::{self, ByteSink, LimitError, Limited};
use btf_core::elf::BtfSections;

use crate::Failure;
use crate::source::{self, Loaded};

/// The output formats `--format` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// One line per type, as `bpftool btf dump … format raw`
    Raw,
    /// C declarations (a vmlinux.h), as `bpftool btf dump … format c`
    C,
}

/// How much a dump may write: `--max-output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MaxOutput {
    /// The default: [`DEFAULT_MAX_BASE`] plus [`DEFAULT_MAX_PER_BYTE`]
    /// bytes per byte of the blob.
    Default,
    /// At most this many bytes.
    Bytes(u64),
    /// No bound.
    Unlimited,
}

/// The default bound's fixed part: 64 MiB.
pub(crate) const DEFAULT_MAX_BASE: u64 = 64 << 20;

/// The default bound's part per byte of the blob. A real kernel's dump is
/// about 2.3 times its BTF (raw; C is less), so the default cuts no real
/// kernel's or module's dump, only crafted blobs that expand (a 4 GiB
/// struct's C padding, many members sharing one long name).
pub(crate) const DEFAULT_MAX_PER_BYTE: u64 = 16;

impl MaxOutput {
    /// The bound for a blob of `len` bytes, if any.
    fn bound(self, len: usize) -> Option<u64> {
        match self {
            MaxOutput::Default => Some(
                DEFAULT_MAX_BASE.saturating_add(DEFAULT_MAX_PER_BYTE.saturating_mul(len as u64)),
            ),
            MaxOutput::Bytes(max) => Some(max),
            MaxOutput::Unlimited => None,
        }
    }
}

/// Reads `--max-output`: a number of bytes with an optional `K`, `M` or `G`
/// (powers of 1024), or `unlimited`.
pub(crate) fn parse_max_output(text: &str) -> Result<MaxOutput, String> {
    if text == "unlimited" {
        return Ok(MaxOutput::Unlimited);
    }
    let (digits, shift) = match text.as_bytes().last() {
        Some(b'K' | b'k') => (&text[..text.len() - 1], 10),
        Some(b'M' | b'm') => (&text[..text.len() - 1], 20),
        Some(b'G' | b'g') => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .map(MaxOutput::Bytes)
        .ok_or_else(|| {
            format!("{text:?} is not a byte count (e.g. 100M, 4096, 2G) or \"unlimited\"")
        })
}

/// Dumps `source` (split on `base`, or on its default base) to stdout,
/// writing no more than `max_output` allows.
pub(crate) fn run(
    source: &str,
    base: Option<&Path>,
    format: Format,
    max_output: MaxOutput,
) -> Result<(), Failure> {
    with_btf(source, base, |btf, blob_len| {
        write_dump(source, btf, blob_len, format, max_output)
    })
}

/// Reads `source` (split on `base`, or on its default base: vmlinux for
/// module BTF from sysfs or the kernel, an ELF file's `.BTF.base`), parses
/// and validates it, and hands the view and the blob's length to `f`.
/// Every failure is a message naming the source (or the base).
pub(crate) fn with_btf<R>(
    source: &str,
    base: Option<&Path>,
    f: impl FnOnce(&Btf<'_>, usize) -> Result<R, Failure>,
) -> Result<R, Failure> {
    let loaded = source::load(source)?;
    // A base that cannot be read is named as the base, as a bad one is.
    let read_base = |path: &Path| {
        source::read_file(path).map_err(|failure| match failure {
            Failure::Message(text) => Failure::Message(format!("base {text}")),
            other => other,
        })
    };
    let base_bytes = match (base, loaded.default_base) {
        (Some(path), _) => Some((path.display().to_string(), read_base(path)?)),
        (None, Some(path)) => Some((path.to_owned(), read_base(Path::new(path))?)),
        (None, None) => None,
    };
    let target = Target::of(source, &loaded, base_bytes.is_some())?;

    let base_btf = match (&base_bytes, target.distilled_base) {
        (Some((name, bytes)), _) => Some(parse_base(name, bytes)?),
        (None, Some(distilled)) => Some(
            Btf::parse(distilled)
                .and_then(validated)
                .map_err(|error| Failure::Message(format!("{source}: .BTF.base: {error}")))?,
        ),
        (None, None) => None,
    };
    // Indexed: a DATASEC entry names its variable's kind and name. Every
    // element is checked up front, as bpftool's libbpf does, so that a bad
    // one is reported with its place rather than dumped.
    let btf = match &base_btf {
        Some(base) => Btf::parse_split(target.blob, base),
        None => Btf::parse(target.blob),
    }
    .and_then(validated)
    .map_err(|error| {
        Failure::Message(parse_failure(
            source,
            target.blob,
            &error,
            base_btf.is_some(),
        ))
    })?;

    f(&btf, target.blob.len())
}

/// Writes the dump of `btf` to stdout, within `max_output`.
fn write_dump(
    source: &str,
    btf: &Btf<'_>,
    blob_len: usize,
    format: Format,
    max_output: MaxOutput,
) -> Result<(), Failure> {
    let mut out = Sink(source::stdout_file()?);
    let bound = max_output.bound(blob_len);
    let mut limited = Limited::new(&mut out, bound.unwrap_or(u64::MAX));
    let stopped = match format {
        Format::Raw => dump::write_raw(btf, &mut limited).map_err(Stop::from),
        Format::C => dump::write_c(btf, &mut limited).map_err(|error| match error {
            dump::CDumpError::Write(e) => Stop::from(e),
            other => Stop::Dump(other.to_string()),
        }),
    };
    let flushed = out.0.flush();
    match stopped {
        Ok(()) => flushed.map_err(|e| write_failure(source, e)),
        Err(Stop::Write(e)) => Err(write_failure(source, e)),
        Err(Stop::Dump(text)) => Err(Failure::Message(format!("{source}: {text}"))),
        Err(Stop::Limit(max)) => {
            let which = match max_output {
                MaxOutput::Default => format!(
                    "the default limit for a blob of {} bytes ({} MiB + {DEFAULT_MAX_PER_BYTE} \
                     per byte of BTF; no real kernel's dump comes near it)",
                    blob_len,
                    DEFAULT_MAX_BASE >> 20
                ),
                _ => "the --max-output limit".to_owned(),
            };
            Err(Failure::Message(format!(
                "{source}: the dump would be larger than {max} bytes, {which}; stopped after \
                 writing {max} (raise it with --max-output BYTES, or --max-output unlimited)"
            )))
        }
    }
}

/// Why a dump stopped early.
enum Stop {
    /// Standard output failed.
    Write(io::Error),
    /// The dump reached its bound.
    Limit(u64),
    /// The C dumper cannot write this blob.
    Dump(String),
}

impl From<LimitError<io::Error>> for Stop {
    fn from(error: LimitError<io::Error>) -> Stop {
        match error {
            LimitError::Exceeded { max } => Stop::Limit(max),
            LimitError::Sink(e) => Stop::Write(e),
        }
    }
}

/// A failed write to stdout: `btf dump … | head` (a broken pipe) is left to
/// main, which treats it as success.
fn write_failure(source: &str, error: io::Error) -> Failure {
    match error.kind() {
        io::ErrorKind::BrokenPipe => Failure::Io(error),
        _ => Failure::Message(format!("writing the dump of {source}: {error}")),
    }
}

/// The BTF blob inside a source's bytes.
struct Target<'a> {
    blob: &'a [u8],
    /// An ELF file's `.BTF.base` (a distilled base), used when no base is
    /// given.
    distilled_base: Option<&'a [u8]>,
}

impl<'a> Target<'a> {
    fn of(source: &str, loaded: &'a Loaded, have_base: bool) -> Result<Target<'a>, Failure> {
        let bytes = loaded.bytes.as_slice();
        if !bytes.starts_with(b"\x7fELF") {
            source::check_btf_magic(source, bytes)?;
            return Ok(Target {
                blob: bytes,
                distilled_base: None,
            });
        }
        let sections = BtfSections::parse(bytes)
            .map_err(|error| Failure::Message(format!("{source}: {error}")))?;
        if have_base && sections.btf_base().is_some() {
            return Err(Failure::Message(format!(
                "{source}: .BTF is split on its own .BTF.base (a distilled base); \
                 relocating it onto --base is not supported yet, so leave out --base"
            )));
        }
        Ok(Target {
            blob: sections.btf(),
            distilled_base: sections.btf_base(),
        })
    }
}

/// Parses the base: raw BTF or the `.BTF` of an ELF file.
fn parse_base<'a>(name: &str, bytes: &'a [u8]) -> Result<Btf<'a>, Failure> {
    let blob = if bytes.starts_with(b"\x7fELF") {
        BtfSections::parse(bytes)
            .map_err(|error| Failure::Message(format!("base {name}: {error}")))?
            .btf()
    } else {
        source::check_btf_magic(&format!("base {name}"), bytes)?;
        bytes
    };
    Btf::parse(blob)
        .and_then(validated)
        .map_err(|error| Failure::Message(format!("base {name}: {}{error}", truncation(blob))))
}

/// `btf` once [`Btf::validate`] has checked its elements.
fn validated(btf: Btf<'_>) -> btf_core::Result<Btf<'_>> {
    btf.validate().map(|()| btf)
}

/// `"truncated: ... "` when `blob`'s header describes more bytes than the
/// blob holds, else nothing: a cut download or copy, not a malformed blob.
fn truncation(blob: &[u8]) -> String {
    let Ok(header) = btf_core::Header::parse(blob) else {
        return String::new();
    };
    let end = |off: u32, len: u32| u64::from(header.hdr_len) + u64::from(off) + u64::from(len);
    let layout = header.layout.map_or(0, |(off, len)| end(off, len));
    let needed = end(header.type_off, header.type_len)
        .max(end(header.str_off, header.str_len))
        .max(layout);
    let have = blob.len() as u64;
    if needed > have {
        format!(
            "truncated: the header describes {needed} bytes but there are {have} \
             ({} missing); ",
            needed - have
        )
    } else {
        String::new()
    }
}

/// The message for a blob that did not parse, with a hint when it looks
/// like split BTF given without its base.
fn parse_failure(source: &str, blob: &[u8], error: &btf_core::Error, based: bool) -> String {
    let truncated = truncation(blob);
    if !truncated.is_empty() {
        return format!("{source}: {truncated}{error}");
    }
    let looks_split = !based
        && btf_core::Header::parse(blob).is_ok_and(|header| {
            let start = u64::from(header.hdr_len) + u64::from(header.str_off);
            usize::try_from(start)
                .ok()
                .and_then(|start| blob.get(start))
                .is_some_and(|&first| first != 0)
        });
    if looks_split {
        format!("{source}: {error} (this looks like split btf: give its base with --base)")
    } else {
        format!("{source}: {error}")
    }
}

/// Standard output as a [`ByteSink`].
struct Sink<W>(W);

impl<W: Write> ByteSink for Sink<W> {
    type Error = io::Error;

    fn write_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }
}
