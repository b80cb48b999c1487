//! The on-disk layouts, one struct per kernel C struct in
//! `include/uapi/linux/btf.h`, all alignment 1 so they can be viewed in place
//! at any offset. Fields are [`U16`]/[`U32`] byte arrays decoded with the
//! blob's [`Endian`](crate::Endian).
//!
//! These are exposed for users who want the raw records (for example to
//! hash or copy them); the type views ([`Type`](crate::Type), [`TypeKind`](crate::TypeKind)) are the usual way
//! in.

use crate::endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// The magic number at offset 0, read in the blob's own order.
pub const BTF_MAGIC: u16 = 0xeb9f;
/// The only version there is.
pub const BTF_VERSION: u8 = 1;

/// `struct btf_header` (Linux 4.18): the classic 24-byte header.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfHeader {
    /// `0xeB9F` in the producer's byte order.
    pub magic: U16,
    /// Always 1.
    pub version: u8,
    /// Always 0.
    pub flags: u8,
    /// Length of the header; section offsets count from its end.
    pub hdr_len: U32,
    /// Offset of the type section.
    pub type_off: U32,
    /// Length of the type section.
    pub type_len: U32,
    /// Offset of the string section.
    pub str_off: U32,
    /// Length of the string section.
    pub str_len: U32,
}

/// The two fields the 2026 header adds after [`BtfHeader`] (32 bytes in all):
/// where the kind layout section is.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfHeaderLayout {
    /// Offset of the layout section.
    pub layout_off: U32,
    /// Length of the layout section (4 bytes per kind).
    pub layout_len: U32,
}

/// `struct btf_kind_layout` (2026): how to size a record of one kind, so that
/// readers can skip kinds they do not know.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfKindLayout {
    /// Bytes after the 12-byte common record.
    pub info_sz: u8,
    /// Bytes per `vlen` element after those.
    pub elem_sz: u8,
    /// Flags (none are defined for readers).
    pub flags: U16,
}

/// `struct btf_type` (Linux 4.18): the 12 bytes every record starts with.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfType {
    /// Offset of the name in the string section.
    pub name_off: U32,
    /// vlen in bits 0..=23, kind in 24..=30, kind_flag in bit 31.
    pub info: U32,
    /// A size or a type id, depending on the kind.
    pub size_or_type: U32,
}

/// Mask of `vlen` in `info` (24 bits since 2026; 16 before).
pub const INFO_VLEN_MASK: u32 = 0x00ff_ffff;
/// Shift of `kind` in `info`.
pub const INFO_KIND_SHIFT: u32 = 24;
/// Mask of `kind` after the shift (7 bits since 2026; 5 before).
pub const INFO_KIND_MASK: u32 = 0x7f;
/// The `kind_flag` bit of `info`.
pub const INFO_KFLAG: u32 = 1 << 31;

/// The INT encoding word: `BTF_INT_SIGNED`.
pub const INT_SIGNED: u8 = 1 << 0;
/// The INT encoding word: `BTF_INT_CHAR`.
pub const INT_CHAR: u8 = 1 << 1;
/// The INT encoding word: `BTF_INT_BOOL`.
pub const INT_BOOL: u8 = 1 << 2;

/// `struct btf_array` (Linux 4.18).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfArray {
    /// Element type.
    pub type_: U32,
    /// Index type.
    pub index_type: U32,
    /// Number of elements.
    pub nelems: U32,
}

/// `struct btf_member` (Linux 4.18): one struct or union member.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfMember {
    /// Name offset.
    pub name_off: U32,
    /// Member type.
    pub type_: U32,
    /// Bit offset; with kind_flag, `bitfield_size << 24 | bit_offset`.
    pub offset: U32,
}

/// `struct btf_enum` (Linux 4.18): one enumerator of an ENUM.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfEnum {
    /// Name offset.
    pub name_off: U32,
    /// Value (signed when the enum's kind_flag is set).
    pub val: U32,
}

/// `struct btf_enum64` (Linux 6.0): one enumerator of an ENUM64.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfEnum64 {
    /// Name offset.
    pub name_off: U32,
    /// Low 32 bits of the value.
    pub val_lo32: U32,
    /// High 32 bits of the value.
    pub val_hi32: U32,
}

/// `struct btf_param` (Linux 5.0): one FUNC_PROTO parameter.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfParam {
    /// Name offset.
    pub name_off: U32,
    /// Parameter type; 0 with name 0 in last place means `...`.
    pub type_: U32,
}

/// `struct btf_var` (Linux 5.2): the word after a VAR record.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfVar {
    /// 0 static, 1 global, 2 extern.
    pub linkage: U32,
}

/// `struct btf_var_secinfo` (Linux 5.2): one DATASEC entry.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfVarSecinfo {
    /// The VAR (or FUNC) this entry places.
    pub type_: U32,
    /// Byte offset in the section.
    pub offset: U32,
    /// Byte size.
    pub size: U32,
}

/// `struct btf_decl_tag` (Linux 5.16): the word after a DECL_TAG record.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfDeclTag {
    /// -1 for the type itself, else a member or parameter index.
    pub component_idx: U32,
}

// The kernel's sizes, checked at compile time.
const _: () = {
    assert!(size_of::<BtfHeader>() == 24);
    assert!(size_of::<BtfHeader>() + size_of::<BtfHeaderLayout>() == 32);
    assert!(size_of::<BtfKindLayout>() == 4);
    assert!(size_of::<BtfType>() == 12);
    assert!(size_of::<BtfArray>() == 12);
    assert!(size_of::<BtfMember>() == 12);
    assert!(size_of::<BtfEnum>() == 8);
    assert!(size_of::<BtfEnum64>() == 12);
    assert!(size_of::<BtfParam>() == 8);
    assert!(size_of::<BtfVar>() == 4);
    assert!(size_of::<BtfVarSecinfo>() == 12);
    assert!(size_of::<BtfDeclTag>() == 4);
};
