//! Why a `.BTF.ext` section was refused, and where.

use super::access::AccessError;
use super::records::ExtSection;
use crate::id::{StrOffset, TypeId};
use core::fmt;

/// Where a record is: its subsection, its block (the `btf_ext_info_sec`
/// of one ELF section, counted from 0 in its subsection), its index in
/// the block, and its byte offset from the start of `.BTF.ext`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordAt {
    /// The subsection.
    pub section: ExtSection,
    /// The block's index in the subsection.
    pub block: u32,
    /// The record's index in the block.
    pub record: u32,
    /// The record's byte offset in `.BTF.ext`.
    pub offset: usize,
}

impl fmt::Display for RecordAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} block {} record {} (offset {})",
            self.section, self.block, self.record, self.offset
        )
    }
}

/// A string field of a record or block, as named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StrField {
    /// A block's `sec_name_off`: the ELF section's name.
    SectionName,
    /// A line_info record's `file_name_off`.
    FileName,
    /// A line_info record's `line_off`.
    Line,
    /// A core_relo record's `access_str_off`.
    AccessString,
}

impl fmt::Display for StrField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StrField::SectionName => "section name",
            StrField::FileName => "file name",
            StrField::Line => "line text",
            StrField::AccessString => "access string",
        })
    }
}

/// Why a `.BTF.ext` section was refused. Every variant says where:
/// `offset` fields are byte offsets from the start of `.BTF.ext`. Small
/// and `Copy`; the `Display` text is lowercase.
///
/// ```
/// use btf_core::ext::{BtfExt, ExtError};
/// # let blob = btf_core::testing::tiny_blob();
/// # let btf = btf_core::Btf::parse(&blob)?;
/// let err = BtfExt::parse(b"\x9f\xeb\x01", &btf).unwrap_err();
/// assert_eq!(err, ExtError::HeaderTruncated { len: 3, needed: 8 });
/// assert_eq!(err.to_string(), ".BTF.ext of 3 bytes is too short for its header (8 bytes)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtError {
    /// The data ends inside the header: before `hdr_len` (8 bytes), or
    /// before the `hdr_len` bytes it claims.
    HeaderTruncated {
        /// The data's length.
        len: usize,
        /// The bytes needed.
        needed: u64,
    },
    /// The first two bytes are not `0xeB9F` in either byte order.
    BadMagic {
        /// The bytes found.
        found: [u8; 2],
    },
    /// The version (offset 2) is not 1.
    UnsupportedVersion {
        /// The version found.
        version: u8,
    },
    /// The flags (offset 3) are not 0.
    UnsupportedFlags {
        /// The flags found.
        flags: u8,
    },
    /// `hdr_len` is below 24, so func_info and line_info are missing
    /// (libbpf: "BTF.ext header missing func_info, line_info").
    HeaderTooShort {
        /// The `hdr_len` found.
        hdr_len: u32,
    },
    /// Nothing follows the header (libbpf: "BTF.ext has no data").
    NoData {
        /// The data's length, which is `hdr_len`.
        len: usize,
    },
    /// A subsection's offset is not a multiple of 4.
    SectionMisaligned {
        /// The subsection.
        section: ExtSection,
        /// Its offset from the end of the header.
        off: u32,
    },
    /// A subsection runs past the end of the data.
    SectionOutOfBounds {
        /// The subsection.
        section: ExtSection,
        /// Its offset from the end of the header.
        off: u32,
        /// Its length.
        len: u32,
        /// The data's length.
        data_len: usize,
    },
    /// A non-empty subsection is too short for its `u32` record size.
    RecordSizeMissing {
        /// The subsection.
        section: ExtSection,
        /// Its byte offset.
        offset: usize,
    },
    /// A record size below the known record's or not a multiple of 4.
    BadRecordSize {
        /// The subsection.
        section: ExtSection,
        /// The record size's byte offset.
        offset: usize,
        /// The record size found.
        rec_size: u32,
    },
    /// A subsection holds its record size and nothing else (libbpf: "has
    /// no records").
    NoRecords {
        /// The subsection.
        section: ExtSection,
        /// Its byte offset.
        offset: usize,
    },
    /// A block's 8-byte header or its records run past the end of the
    /// subsection.
    BlockTruncated {
        /// The subsection.
        section: ExtSection,
        /// The block's index in the subsection.
        block: u32,
        /// The block's byte offset.
        offset: usize,
        /// The bytes the block needs (8 for its header, or 8 + records).
        needed: u64,
        /// The bytes left in the subsection.
        left: usize,
    },
    /// A block has `num_info` 0 (libbpf: "incorrect num_records").
    EmptyBlock {
        /// The subsection.
        section: ExtSection,
        /// The block's index in the subsection.
        block: u32,
        /// The block's byte offset.
        offset: usize,
    },
    /// A block's section name is out of range in the `.BTF` strings or
    /// empty.
    BadSectionName {
        /// The subsection.
        section: ExtSection,
        /// The block's index in the subsection.
        block: u32,
        /// The block's byte offset.
        offset: usize,
        /// The name offset found.
        name_off: StrOffset,
    },
    /// A record's string offset is out of range in the `.BTF` strings.
    StringOutOfRange {
        /// The record.
        at: RecordAt,
        /// Which field.
        field: StrField,
        /// The offset found.
        str_off: StrOffset,
    },
    /// A record's `type_id` is not a type of `.BTF`.
    DanglingType {
        /// The record.
        at: RecordAt,
        /// The id found.
        type_id: TypeId,
    },
    /// A CO-RE relocation's `insn_off` is not a multiple of 8, so it does
    /// not name an instruction (libbpf: `-EINVAL` when it applies the
    /// relocation).
    InsnMisaligned {
        /// The record.
        at: RecordAt,
        /// The `insn_off` found.
        insn_off: u32,
    },
    /// A CO-RE relocation's access string is malformed.
    BadAccessString {
        /// The record.
        at: RecordAt,
        /// The string's offset in the `.BTF` strings.
        str_off: StrOffset,
        /// What is wrong with it.
        error: AccessError,
    },
}

impl fmt::Display for ExtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ExtError::HeaderTruncated { len, needed } => write!(
                f,
                ".BTF.ext of {len} bytes is too short for its header ({needed} bytes)"
            ),
            ExtError::BadMagic { found } => write!(
                f,
                "bad .BTF.ext magic {:02x} {:02x} at offset 0 (expected 9f eb or eb 9f)",
                found[0], found[1]
            ),
            ExtError::UnsupportedVersion { version } => write!(
                f,
                "unsupported .BTF.ext version {version} at offset 2 (expected 1)"
            ),
            ExtError::UnsupportedFlags { flags } => write!(
                f,
                "unsupported .BTF.ext flags {flags:#x} at offset 3 (expected 0)"
            ),
            ExtError::HeaderTooShort { hdr_len } => write!(
                f,
                ".BTF.ext header length {hdr_len} at offset 4 leaves out func_info and line_info (24 bytes at least)"
            ),
            ExtError::NoData { len } => {
                write!(f, ".BTF.ext of {len} bytes has a header and no data")
            }
            ExtError::SectionMisaligned { section, off } => write!(
                f,
                ".BTF.ext {section} subsection offset {off} is not a multiple of 4"
            ),
            ExtError::SectionOutOfBounds {
                section,
                off,
                len,
                data_len,
            } => write!(
                f,
                ".BTF.ext {section} subsection (offset {off} after the header, length {len}) runs past the end of the {data_len} bytes"
            ),
            ExtError::RecordSizeMissing { section, offset } => write!(
                f,
                ".BTF.ext {section} subsection at offset {offset} is too short for its record size"
            ),
            ExtError::BadRecordSize {
                section,
                offset,
                rec_size,
            } => write!(
                f,
                ".BTF.ext {section} record size {rec_size} at offset {offset} is invalid (a multiple of 4, at least {})",
                section.min_record_size()
            ),
            ExtError::NoRecords { section, offset } => write!(
                f,
                ".BTF.ext {section} subsection at offset {offset} has no records"
            ),
            ExtError::BlockTruncated {
                section,
                block,
                offset,
                needed,
                left,
            } => write!(
                f,
                ".BTF.ext {section} block {block} at offset {offset} needs {needed} bytes, {left} are left in the subsection"
            ),
            ExtError::EmptyBlock {
                section,
                block,
                offset,
            } => write!(
                f,
                ".BTF.ext {section} block {block} at offset {offset} has no records"
            ),
            ExtError::BadSectionName {
                section,
                block,
                offset,
                name_off,
            } => write!(
                f,
                ".BTF.ext {section} block {block} at offset {offset}: section name offset {name_off} is empty or out of range in the .BTF strings"
            ),
            ExtError::StringOutOfRange { at, field, str_off } => write!(
                f,
                ".BTF.ext {at}: {field} offset {str_off} is out of range in the .BTF strings"
            ),
            ExtError::DanglingType { at, type_id } => {
                write!(f, ".BTF.ext {at}: type [{type_id}] is not in .BTF")
            }
            ExtError::InsnMisaligned { at, insn_off } => write!(
                f,
                ".BTF.ext {at}: insn_off {insn_off} is not a multiple of 8"
            ),
            ExtError::BadAccessString { at, str_off, error } => write!(
                f,
                ".BTF.ext {at}: access string at string offset {str_off}: {error}"
            ),
        }
    }
}

impl core::error::Error for ExtError {}
