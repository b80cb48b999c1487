//! The small values the builder's `add_*` methods take: names, members,
//! parameters, enumerators, datasec entries, and raw records.

use crate::id::{Kind, StrOffset, TypeId};

/// A name for a record or element: a string to add (deduplicated), or an
/// offset already in the strings.
///
/// `&str`, `&[u8]` and [`StrOffset`] convert into it, so the `add_*` methods
/// take any of them. A string stops at its first NUL, as BTF strings do.
///
/// ```
/// use btf_core::write::{Builder, Name};
/// use btf_core::StrOffset;
/// let mut b = Builder::new();
/// let off = b.add_str("x");
/// assert_eq!(b.name(Name::from("x")), off);
/// assert_eq!(b.name(off), off);
/// assert_eq!(b.name(""), StrOffset::EMPTY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Name<'n> {
    /// The string's bytes, added if not there yet.
    Bytes(&'n [u8]),
    /// An offset used as is (not checked until encoding).
    Offset(StrOffset),
}

impl Name<'_> {
    /// No name: offset 0.
    pub const ANON: Name<'static> = Name::Offset(StrOffset::EMPTY);
}

impl<'n> From<&'n str> for Name<'n> {
    fn from(s: &'n str) -> Name<'n> {
        Name::Bytes(s.as_bytes())
    }
}

impl<'n> From<&'n [u8]> for Name<'n> {
    fn from(s: &'n [u8]) -> Name<'n> {
        Name::Bytes(s)
    }
}

impl From<StrOffset> for Name<'_> {
    fn from(off: StrOffset) -> Name<'static> {
        Name::Offset(off)
    }
}

/// A STRUCT or UNION member for [`Builder::add_struct`](super::Builder::add_struct).
///
/// ```
/// use btf_core::write::MemberDef;
/// use btf_core::TypeId;
/// let int = TypeId::new(1);
/// let plain = MemberDef::new("a", int, 0);
/// let flags = MemberDef::bitfield("flags", int, 32, 3);
/// assert_eq!((plain.bitfield_size, flags.bitfield_size), (0, 3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberDef<'n> {
    /// Name (anonymous for [`Name::ANON`]).
    pub name: Name<'n>,
    /// Type.
    pub ty: TypeId,
    /// Offset in bits from the start of the aggregate (below 2^24 when the
    /// aggregate has bitfields).
    pub bit_offset: u32,
    /// Bitfield width in bits, 0 when not a bitfield.
    pub bitfield_size: u8,
}

impl<'n> MemberDef<'n> {
    /// A member that is not a bitfield.
    pub fn new(name: impl Into<Name<'n>>, ty: TypeId, bit_offset: u32) -> MemberDef<'n> {
        MemberDef {
            name: name.into(),
            ty,
            bit_offset,
            bitfield_size: 0,
        }
    }

    /// A bitfield of `bits` bits.
    pub fn bitfield(
        name: impl Into<Name<'n>>,
        ty: TypeId,
        bit_offset: u32,
        bits: u8,
    ) -> MemberDef<'n> {
        MemberDef {
            name: name.into(),
            ty,
            bit_offset,
            bitfield_size: bits,
        }
    }
}

/// A FUNC_PROTO parameter for [`Builder::add_func_proto`](super::Builder::add_func_proto).
///
/// ```
/// use btf_core::write::ParamDef;
/// use btf_core::TypeId;
/// let p = ParamDef::new("fd", TypeId::new(1));
/// assert!(!p.ty.is_void());
/// assert!(ParamDef::variadic().ty.is_void());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamDef<'n> {
    /// Name (the kernel wants one for a FUNC's parameters).
    pub name: Name<'n>,
    /// Type.
    pub ty: TypeId,
}

impl<'n> ParamDef<'n> {
    /// A named parameter.
    pub fn new(name: impl Into<Name<'n>>, ty: TypeId) -> ParamDef<'n> {
        ParamDef {
            name: name.into(),
            ty,
        }
    }

    /// The `...` of a variadic function: type void, no name, in last place.
    pub fn variadic() -> ParamDef<'static> {
        ParamDef {
            name: Name::ANON,
            ty: TypeId::VOID,
        }
    }
}

/// An enumerator for [`Builder::add_enum`](super::Builder::add_enum) and
/// [`Builder::add_enum64`](super::Builder::add_enum64).
///
/// The value is kept as 64 bits; an ENUM stores the low 32.
///
/// ```
/// use btf_core::write::EnumeratorDef;
/// assert_eq!(EnumeratorDef::new("NEG", -1).value, u64::MAX);
/// assert_eq!(EnumeratorDef::unsigned("BIG", 1 << 40).value, 1 << 40);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumeratorDef<'n> {
    /// Name (required by the kernel).
    pub name: Name<'n>,
    /// The value's bits.
    pub value: u64,
}

impl<'n> EnumeratorDef<'n> {
    /// An enumerator with a signed value.
    pub fn new(name: impl Into<Name<'n>>, value: i64) -> EnumeratorDef<'n> {
        EnumeratorDef {
            name: name.into(),
            value: value as u64,
        }
    }

    /// An enumerator with an unsigned value.
    pub fn unsigned(name: impl Into<Name<'n>>, value: u64) -> EnumeratorDef<'n> {
        EnumeratorDef {
            name: name.into(),
            value,
        }
    }
}

/// A DATASEC entry for [`Builder::add_datasec`](super::Builder::add_datasec).
///
/// ```
/// use btf_core::write::SecinfoDef;
/// use btf_core::TypeId;
/// let e = SecinfoDef { ty: TypeId::new(3), offset: 0, size: 4 };
/// assert_eq!(e.size, 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecinfoDef {
    /// The VAR placed.
    pub ty: TypeId,
    /// Byte offset in the section.
    pub offset: u32,
    /// Byte size.
    pub size: u32,
}

/// Any record, word by word, for [`Builder::add_raw`](super::Builder::add_raw):
/// the way to write what the typed methods will not (unknown kinds, odd
/// flags, inconsistent `vlen`).
///
/// ```
/// use btf_core::write::{Builder, Name, RawRecord};
/// use btf_core::Kind;
/// let mut b = Builder::new();
/// // An INT with an unknown encoding bit, for a negative test.
/// let id = b.add_raw(&RawRecord {
///     name: Name::from("odd"),
///     kind: Kind::INT,
///     kflag: false,
///     vlen: 0,
///     size_or_type: 4,
///     tail: &[0x0800_0020],
/// });
/// assert_eq!(id.get(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawRecord<'n, 'd> {
    /// Name.
    pub name: Name<'n>,
    /// Kind (bits 24..=30 of `info`; higher bits are dropped).
    pub kind: Kind,
    /// Kind flag (bit 31 of `info`).
    pub kflag: bool,
    /// `vlen` (bits 0..=23 of `info`; higher bits are dropped).
    pub vlen: u32,
    /// The `size_or_type` word.
    pub size_or_type: u32,
    /// The record's tail: the words after the 12-byte common part, in
    /// native order.
    pub tail: &'d [u32],
}
