//! [`WriteError`]: why a builder could not encode or copy, with the type id
//! concerned and what is wrong with it.

use crate::error::{Error, Section};
use crate::id::{Kind, StrOffset, TypeId};
use core::fmt;

/// Where in a record a problem is: the record itself or one of its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Place {
    /// The record's own fields (`name_off`, `size_or_type`).
    Type,
    /// A STRUCT or UNION member, by index.
    Member(u32),
    /// A FUNC_PROTO parameter, by index.
    Param(u32),
    /// An ENUM or ENUM64 enumerator, by index.
    Enumerator(u32),
    /// A DATASEC entry, by index.
    Secinfo(u32),
    /// An ARRAY's element type.
    ArrayElem,
    /// An ARRAY's index type.
    ArrayIndex,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Place::Type => f.write_str("the type"),
            Place::Member(i) => write!(f, "member {i}"),
            Place::Param(i) => write!(f, "parameter {i}"),
            Place::Enumerator(i) => write!(f, "enumerator {i}"),
            Place::Secinfo(i) => write!(f, "datasec entry {i}"),
            Place::ArrayElem => f.write_str("the element type"),
            Place::ArrayIndex => f.write_str("the index type"),
        }
    }
}

/// What is wrong with one type record.
///
/// The rules are those the kernel's verifier applies to each record on its
/// own (`btf_check_meta`), plus references that must exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Kind 0, or a kind above [`Kind::MAX_KNOWN`] without a layout entry
    /// (or encoded without a layout section).
    UnknownKind {
        /// The kind.
        kind: Kind,
    },
    /// A raw record's length does not match its kind and `vlen`.
    RecordLength {
        /// 32-bit words the kind and `vlen` call for.
        expected: u64,
        /// 32-bit words the record has.
        found: usize,
    },
    /// More elements than `vlen` can count ([`MAX_VLEN`](super::MAX_VLEN)),
    /// or than the limit asked for
    /// ([`EncodeOptions::with_max_vlen`](super::EncodeOptions::with_max_vlen)).
    VlenTooLarge {
        /// The number of elements.
        count: usize,
    },
    /// This kind must have `vlen` 0.
    UnexpectedVlen {
        /// The `vlen` found.
        vlen: u32,
    },
    /// This kind must not have the kind flag.
    UnexpectedKindFlag,
    /// A name offset lies past the strings (or past
    /// [`MAX_NAME_OFFSET`](super::MAX_NAME_OFFSET)).
    NameOutOfRange {
        /// Where.
        place: Place,
        /// The offset.
        name_off: StrOffset,
    },
    /// A name must be a C identifier (`[A-Za-z_.][A-Za-z0-9_.]*`, at most
    /// 512 bytes) and is not.
    NotIdentifier {
        /// Where.
        place: Place,
        /// The name's offset.
        name_off: StrOffset,
    },
    /// A DATASEC name must be printable ASCII, at most 512 bytes.
    NotSectionName {
        /// The name's offset.
        name_off: StrOffset,
    },
    /// A name is required here and is empty.
    NameRequired {
        /// Where.
        place: Place,
    },
    /// This kind must be anonymous.
    NameNotAllowed,
    /// A type id refers to no type.
    DanglingType {
        /// Where.
        place: Place,
        /// The missing id.
        target: TypeId,
    },
    /// A type id must not be `void` (0) here.
    VoidType {
        /// Where.
        place: Place,
    },
    /// `size_or_type` must be 0 for this kind (ARRAY, FWD).
    NonZeroSizeOrType {
        /// The value found.
        value: u32,
    },
    /// An INT's data word sets reserved bits 28..=31.
    IntReservedBits {
        /// The word.
        word: u32,
    },
    /// An INT's `offset + bits` exceeds 128 or its size.
    IntBits {
        /// Bit offset.
        offset: u8,
        /// Bit count.
        bits: u8,
        /// Size in bytes.
        size: u32,
    },
    /// An INT's encoding is not one of none, signed, char, bool.
    IntEncoding {
        /// The encoding bits.
        encoding: u8,
    },
    /// An ENUM or ENUM64 size is not 1, 2, 4 or 8.
    EnumSize {
        /// The size found.
        size: u32,
    },
    /// A FLOAT size is not 2, 4, 8, 12 or 16.
    FloatSize {
        /// The size found.
        size: u32,
    },
    /// A FUNC or VAR linkage is neither static (0) nor global (1).
    Linkage {
        /// The linkage found.
        linkage: u32,
    },
    /// A member's offset is out of order, past the struct's size, or not 0
    /// in a union.
    MemberOffset {
        /// Member index.
        index: u32,
        /// Its bit offset.
        bit_offset: u32,
    },
    /// A DATASEC has size 0.
    DatasecSize,
    /// A DATASEC entry overlaps the previous one, is empty, or lies past the
    /// section's size.
    SecinfoBounds {
        /// Entry index.
        index: u32,
    },
    /// A DECL_TAG's `component_idx` is below -1.
    ComponentIdx {
        /// The index found.
        component_idx: i32,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Problem::UnknownKind { kind } => write!(
                f,
                "kind {} is unknown (kinds above 19 need a layout entry and a layout section)",
                kind.get()
            ),
            Problem::RecordLength { expected, found } => write!(
                f,
                "record has {found} words but its kind and vlen call for {expected}"
            ),
            Problem::VlenTooLarge { count } => {
                write!(f, "{count} elements exceed the vlen limit")
            }
            Problem::UnexpectedVlen { vlen } => write!(f, "vlen is {vlen}, must be 0"),
            Problem::UnexpectedKindFlag => f.write_str("kind flag must not be set"),
            Problem::NameOutOfRange { place, name_off } => {
                write!(f, "{place} has name offset {name_off}, past the strings")
            }
            Problem::NotIdentifier { place, name_off } => write!(
                f,
                "{place} has name (offset {name_off}) that is not a valid identifier"
            ),
            Problem::NotSectionName { name_off } => write!(
                f,
                "datasec name (offset {name_off}) is not printable ascii of at most 512 bytes"
            ),
            Problem::NameRequired { place } => write!(f, "{place} needs a name"),
            Problem::NameNotAllowed => f.write_str("type of this kind must be anonymous"),
            Problem::DanglingType { place, target } => {
                write!(f, "{place} refers to type [{target}], which does not exist")
            }
            Problem::VoidType { place } => write!(f, "{place} must not be void"),
            Problem::NonZeroSizeOrType { value } => {
                write!(f, "size_or_type is {value}, must be 0")
            }
            Problem::IntReservedBits { word } => {
                write!(f, "int data word {word:#010x} sets reserved bits 28..=31")
            }
            Problem::IntBits { offset, bits, size } => write!(
                f,
                "int offset {offset} + bits {bits} exceed 128 or the size of {size} bytes"
            ),
            Problem::IntEncoding { encoding } => {
                write!(
                    f,
                    "int encoding {encoding:#x} is not 0, signed, char or bool"
                )
            }
            Problem::EnumSize { size } => write!(f, "enum size {size} is not 1, 2, 4 or 8"),
            Problem::FloatSize { size } => {
                write!(f, "float size {size} is not 2, 4, 8, 12 or 16")
            }
            Problem::Linkage { linkage } => {
                write!(f, "linkage {linkage} is neither static (0) nor global (1)")
            }
            Problem::MemberOffset { index, bit_offset } => write!(
                f,
                "member {index} at bit {bit_offset} is out of order, past the size, or not 0 in a union"
            ),
            Problem::DatasecSize => f.write_str("datasec size is 0"),
            Problem::SecinfoBounds { index } => write!(
                f,
                "datasec entry {index} overlaps the previous one, is empty, or lies past the size"
            ),
            Problem::ComponentIdx { component_idx } => {
                write!(f, "decl tag component_idx {component_idx} is below -1")
            }
        }
    }
}

/// Why a [`Builder`](super::Builder) could not encode, or a type could not be
/// copied.
///
/// ```
/// use btf_core::write::{Builder, EncodeOptions, Place, Problem, WriteError};
/// use btf_core::TypeId;
///
/// let mut b = Builder::new();
/// let ptr = b.add_ptr(TypeId::new(7)); // no type 7
/// let err = b.encode(&EncodeOptions::default()).unwrap_err();
/// assert_eq!(
///     err,
///     WriteError::InvalidType {
///         id: ptr,
///         problem: Problem::DanglingType { place: Place::Type, target: TypeId::new(7) },
///     }
/// );
/// assert_eq!(err.to_string(), "type [1]: the type refers to type [7], which does not exist");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteError {
    /// A type breaks a rule.
    InvalidType {
        /// The type.
        id: TypeId,
        /// What is wrong.
        problem: Problem,
    },
    /// The last type id is above [`MAX_TYPE_ID`](super::MAX_TYPE_ID).
    TooManyTypes {
        /// The last id.
        last: TypeId,
    },
    /// The builder's own string section is too long for name offsets.
    StringsTooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// A section or the whole blob does not fit in the header's 32-bit
    /// fields.
    TooLarge {
        /// The section (or [`Section::Header`] for the whole blob).
        section: Section,
        /// Its length in bytes.
        len: usize,
    },
    /// Reading the source of a copy failed.
    Source {
        /// The source type being copied.
        id: TypeId,
        /// The reader's error.
        error: Error,
    },
    /// The layout entry set for a kind this crate knows disagrees with that
    /// kind's record layout; readers (this crate's among them) refuse such
    /// a layout section.
    LayoutMismatch {
        /// The kind.
        kind: Kind,
        /// The entry's info bytes and element size.
        entry: (u8, u8),
        /// What the kind's records really have.
        known: (u8, u8),
    },
    /// A record of a kind this crate does not know cannot be copied with
    /// its references remapped (which words are type ids is unknown), or
    /// its length is not a whole number of 32-bit words.
    CannotCopy {
        /// The source type.
        id: TypeId,
        /// Its kind.
        kind: Kind,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WriteError::InvalidType { id, problem } => write!(f, "type [{id}]: {problem}"),
            WriteError::TooManyTypes { last } => write!(
                f,
                "last type id {last} is above the kernel's limit of {}",
                super::MAX_TYPE_ID
            ),
            WriteError::StringsTooLarge { len } => write!(
                f,
                "string section of {len} bytes is too long for name offsets"
            ),
            WriteError::TooLarge { section, len } => {
                write!(f, "{section} of {len} bytes does not fit in 32 bits")
            }
            WriteError::Source { id, error } => {
                write!(f, "copying source type [{id}]: {error}")
            }
            WriteError::LayoutMismatch { kind, entry, known } => write!(
                f,
                "layout entry for kind {kind} ({} info bytes, {}-byte elements) disagrees with its records ({} and {})",
                entry.0, entry.1, known.0, known.1
            ),
            WriteError::CannotCopy { id, kind } => write!(
                f,
                "source type [{id}] of unknown kind {} cannot be copied here (its fields are unknown or its length is not whole words)",
                kind.get()
            ),
        }
    }
}

impl core::error::Error for WriteError {}
