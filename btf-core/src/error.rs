//! The one error type, with where and what.

use crate::endian::Endian;
use crate::id::{Kind, StrOffset, TypeId};
use core::fmt;

/// A section of a BTF blob, as named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// The header.
    Header,
    /// The type section.
    Types,
    /// The string section.
    Strings,
    /// The 2026 kind layout section.
    Layout,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Header => "header",
            Section::Types => "type section",
            Section::Strings => "string section",
            Section::Layout => "layout section",
        })
    }
}

/// Why a blob was refused, or a lookup failed.
///
/// Every variant says where: `offset` fields are byte offsets from the start
/// of the blob (so `xxd -s` finds them), and `id` fields name the type
/// record concerned. The error is small and `Copy`.
///
/// ```
/// use btf_core::{Btf, Error};
/// let err = Btf::parse(b"\x9f\xeb").unwrap_err();
/// assert_eq!(err, Error::HeaderTruncated { len: 2 });
/// assert_eq!(err.to_string(), "blob of 2 bytes is too short for a btf header (24 bytes)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The blob is shorter than the 24-byte header.
    HeaderTruncated {
        /// The blob's length.
        len: usize,
    },
    /// The first two bytes are not `0xeB9F` in either byte order.
    BadMagic {
        /// The bytes found.
        found: [u8; 2],
    },
    /// The version is not 1.
    UnsupportedVersion {
        /// The version found.
        version: u8,
    },
    /// The header flags are not 0.
    UnsupportedFlags {
        /// The flags found.
        flags: u8,
    },
    /// `hdr_len` is below 24 or past the end of the blob.
    HeaderLength {
        /// The `hdr_len` found.
        hdr_len: u32,
        /// The blob's length.
        len: usize,
    },
    /// A header byte this reader does not understand is not zero.
    HeaderNotZero {
        /// Byte offset of the first non-zero byte.
        offset: usize,
    },
    /// A section does not fit in the blob.
    SectionOutOfBounds {
        /// Which section.
        section: Section,
        /// Its offset from the end of the header.
        offset: u32,
        /// Its length.
        len: u32,
        /// Bytes there are after the header.
        available: usize,
    },
    /// A section's offset is not 4-byte aligned.
    SectionMisaligned {
        /// Which section.
        section: Section,
        /// Its offset from the end of the header.
        offset: u32,
    },
    /// Two sections share bytes.
    SectionsOverlap {
        /// The section that starts first.
        first: Section,
        /// The section that starts inside it.
        second: Section,
        /// The second section's offset from the end of the header.
        offset: u32,
    },
    /// The string section's last byte is not NUL.
    StringsNotTerminated {
        /// Byte offset of that last byte.
        offset: usize,
    },
    /// A base blob's string section does not start with NUL (offset 0 must be
    /// the empty string).
    StringsStart {
        /// Byte offset of the string section.
        offset: usize,
    },
    /// A type record runs past the end of the type section.
    RecordTruncated {
        /// The record's type id.
        id: TypeId,
        /// Byte offset of the record.
        offset: usize,
        /// Bytes the record needs.
        needed: u64,
        /// Bytes left in the type section.
        available: usize,
    },
    /// A record has kind 0, which is never valid.
    InvalidKind {
        /// The record's type id.
        id: TypeId,
        /// Byte offset of the record.
        offset: usize,
    },
    /// A record has a kind this crate does not know and no layout section
    /// (own or base's) describes it.
    UnknownKind {
        /// The record's type id.
        id: TypeId,
        /// Byte offset of the record.
        offset: usize,
        /// The kind.
        kind: Kind,
    },
    /// The layout section describes a kind this crate knows with a different
    /// record layout.
    LayoutMismatch {
        /// The kind.
        kind: Kind,
        /// Byte offset of its layout entry.
        offset: usize,
    },
    /// The layout section's length is not a multiple of 4.
    LayoutLength {
        /// The `layout_len` found.
        len: u32,
    },
    /// A record refers to a type id that exists neither here nor in a base
    /// (from parsing, for a record's own fields; from
    /// [`Btf::validate`](crate::Btf::validate), for its elements').
    DanglingType {
        /// The referring record's type id.
        id: TypeId,
        /// Byte offset of the field holding the reference.
        offset: usize,
        /// The missing id.
        target: TypeId,
    },
    /// A record's name offset is past the end of the strings (from parsing,
    /// for the record's own name; from [`Btf::validate`](crate::Btf::validate),
    /// for its elements').
    NameOutOfRange {
        /// The record's type id.
        id: TypeId,
        /// Byte offset of the `name_off` field.
        offset: usize,
        /// The offset found.
        name_off: StrOffset,
    },
    /// The type ids would not fit in 32 bits.
    TooManyTypes {
        /// Byte offset of the record that overflowed (for a split on a base
        /// whose ids end at `u32::MAX`, the split's type section, where its
        /// first record would be).
        offset: usize,
    },
    /// A split was given a base already
    /// [`MAX_SPLIT_DEPTH`](crate::MAX_SPLIT_DEPTH) levels deep.
    SplitTooDeep {
        /// The depth the split would have had.
        depth: usize,
        /// The limit, [`MAX_SPLIT_DEPTH`](crate::MAX_SPLIT_DEPTH).
        limit: usize,
    },
    /// A split's byte order (from its magic, at offset 0) differs from its
    /// base's. libbpf refuses these too.
    SplitEndianMismatch {
        /// The split's byte order.
        split: Endian,
        /// The base's byte order.
        base: Endian,
    },
    /// A split's string offsets would not fit in 32 bits: its bases'
    /// string sections add up to more than `u32::MAX` bytes.
    StringsOverflow {
        /// Byte offset of the split's string section.
        offset: usize,
    },
    /// A base blob was given where it cannot serve (for example a
    /// [`BtfIndex`](crate::BtfIndex) built for another blob or base).
    IndexMismatch,
    /// Caller-supplied index storage is too small.
    IndexTooSmall {
        /// Entries needed (one per own type).
        needed: u32,
        /// Entries supplied.
        provided: usize,
    },
    /// No type has this id.
    NoSuchType {
        /// The id asked for.
        id: TypeId,
    },
    /// A string offset is past the end of the strings.
    StringOutOfRange {
        /// The offset asked for.
        offset: StrOffset,
    },
    /// A string is not valid UTF-8.
    InvalidUtf8 {
        /// Its offset.
        offset: StrOffset,
    },
    /// Following type references went deeper than the limit (a loop, or an
    /// absurd chain).
    ResolveDepth {
        /// The type where the walk started.
        id: TypeId,
    },
    /// Finding the alignment of the type visited more than
    /// [`MAX_ALIGN_VISITS`](crate::MAX_ALIGN_VISITS) types: aggregates
    /// that embed one another that many times over.
    ResolveLimit {
        /// The type whose alignment was asked for.
        id: TypeId,
        /// The limit.
        visits: u32,
    },
    /// The type has no size (void, FWD, FUNC, FUNC_PROTO, unknown kinds).
    NoSize {
        /// The type without a size.
        id: TypeId,
        /// Its kind.
        kind: Kind,
    },
    /// A computed size does not fit in 32 bits.
    SizeOverflow {
        /// The type whose size overflowed.
        id: TypeId,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::HeaderTruncated { len } => {
                write!(
                    f,
                    "blob of {len} bytes is too short for a btf header (24 bytes)"
                )
            }
            Error::BadMagic { found } => write!(
                f,
                "bad magic {:02x} {:02x} at offset 0 (expected 9f eb or eb 9f)",
                found[0], found[1]
            ),
            Error::UnsupportedVersion { version } => {
                write!(
                    f,
                    "unsupported btf version {version} at offset 2 (expected 1)"
                )
            }
            Error::UnsupportedFlags { flags } => {
                write!(
                    f,
                    "unsupported header flags {flags:#x} at offset 3 (expected 0)"
                )
            }
            Error::HeaderLength { hdr_len, len } => write!(
                f,
                "header length {hdr_len} at offset 4 is invalid for a blob of {len} bytes"
            ),
            Error::HeaderNotZero { offset } => {
                write!(f, "unknown header field at offset {offset} is not zero")
            }
            Error::SectionOutOfBounds {
                section,
                offset,
                len,
                available,
            } => write!(
                f,
                "{section} at offset {offset} with length {len} runs past the {available} bytes after the header"
            ),
            Error::SectionMisaligned { section, offset } => {
                write!(f, "{section} offset {offset} is not 4-byte aligned")
            }
            Error::SectionsOverlap {
                first,
                second,
                offset,
            } => {
                write!(f, "{second} at offset {offset} overlaps the {first}")
            }
            Error::StringsNotTerminated { offset } => write!(
                f,
                "string section does not end with NUL (last byte at offset {offset})"
            ),
            Error::StringsStart { offset } => write!(
                f,
                "base string section at offset {offset} does not start with NUL"
            ),
            Error::RecordTruncated {
                id,
                offset,
                needed,
                available,
            } => write!(
                f,
                "type [{id}] at offset {offset} needs {needed} bytes but only {available} remain in the type section"
            ),
            Error::InvalidKind { id, offset } => {
                write!(f, "type [{id}] at offset {offset} has invalid kind 0")
            }
            Error::UnknownKind { id, offset, kind } => write!(
                f,
                "type [{id}] at offset {offset} has unknown kind {} and no layout section describes it",
                kind.get()
            ),
            Error::LayoutMismatch { kind, offset } => write!(
                f,
                "layout entry for kind {kind} at offset {offset} disagrees with its known layout"
            ),
            Error::LayoutLength { len } => {
                write!(f, "layout section length {len} is not a multiple of 4")
            }
            Error::DanglingType { id, offset, target } => write!(
                f,
                "type [{id}] refers at offset {offset} to type [{target}], which does not exist"
            ),
            Error::NameOutOfRange {
                id,
                offset,
                name_off,
            } => write!(
                f,
                "type [{id}] has name offset {name_off} at offset {offset}, past the end of the strings"
            ),
            Error::TooManyTypes { offset } => {
                write!(f, "type ids overflow 32 bits at offset {offset}")
            }
            Error::SplitTooDeep { depth, limit } => write!(
                f,
                "split btf would be {depth} levels deep, past the limit of {limit} splits on splits"
            ),
            Error::SplitEndianMismatch { split, base } => write!(
                f,
                "split btf is {} (magic at offset 0) but its base is {}",
                order_name(split),
                order_name(base)
            ),
            Error::StringsOverflow { offset } => write!(
                f,
                "string section at offset {offset} would start past 32-bit string offsets (the bases' strings are too long)"
            ),
            Error::IndexMismatch => write!(f, "index or base does not belong to this blob"),
            Error::IndexTooSmall { needed, provided } => write!(
                f,
                "index storage holds {provided} entries but the blob has {needed} types"
            ),
            Error::NoSuchType { id } => write!(f, "no type with id [{id}]"),
            Error::StringOutOfRange { offset } => {
                write!(f, "string offset {offset} is past the end of the strings")
            }
            Error::InvalidUtf8 { offset } => write!(f, "string at offset {offset} is not utf-8"),
            Error::ResolveDepth { id } => write!(
                f,
                "resolving type [{id}] exceeded the depth limit (a loop or an absurd chain)"
            ),
            Error::ResolveLimit { id, visits } => write!(
                f,
                "aligning type [{id}] visited more than {visits} types (aggregates embedded many times over)"
            ),
            Error::NoSize { id, kind } => write!(f, "type [{id}] of kind {kind} has no size"),
            Error::SizeOverflow { id } => write!(f, "size of type [{id}] overflows 32 bits"),
        }
    }
}

/// A byte order as errors name it.
fn order_name(endian: Endian) -> &'static str {
    match endian {
        Endian::Little => "little-endian",
        Endian::Big => "big-endian",
    }
}

impl core::error::Error for Error {}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
