//! The three record types of `.BTF.ext`, as on the wire and decoded, and
//! the CO-RE relocation kinds.

use crate::endian::{Endian, U32};
use crate::id::{StrOffset, TypeId};
use core::fmt;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// The size of one BPF instruction (`struct bpf_insn`), the unit of
/// `insn_off / 8`.
pub const BPF_INSN_SIZE: u32 = 8;

/// `struct bpf_func_info` (Linux 5.0; libbpf's `bpf_func_info_min`): the
/// 8 bytes every func_info record starts with.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BpfFuncInfo {
    /// Byte offset of the function's first instruction in its ELF section.
    pub insn_off: U32,
    /// The function's `FUNC` type in `.BTF`.
    pub type_id: U32,
}

/// `struct bpf_line_info` (Linux 5.0; libbpf's `bpf_line_info_min`): the
/// 16 bytes every line_info record starts with.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BpfLineInfo {
    /// Byte offset of the instruction in its ELF section.
    pub insn_off: U32,
    /// The source file's name in the `.BTF` strings.
    pub file_name_off: U32,
    /// The source line's text in the `.BTF` strings.
    pub line_off: U32,
    /// Line number << 10 | column.
    pub line_col: U32,
}

/// `struct bpf_core_relo` (Linux 5.17 uapi; libbpf since 0.0.6): the 16
/// bytes every CO-RE relocation record starts with.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BpfCoreRelo {
    /// Byte offset of the instruction to patch in its ELF section.
    pub insn_off: U32,
    /// The root type in `.BTF`.
    pub type_id: U32,
    /// The access string (`"0:1:2"`) in the `.BTF` strings.
    pub access_str_off: U32,
    /// The relocation kind, `enum bpf_core_relo_kind`.
    pub kind: U32,
}

/// One of the three kinds of records (and subsections) of `.BTF.ext`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExtSection {
    /// `func_info`: where each function starts and its `FUNC` type.
    FuncInfo,
    /// `line_info`: source file, line and column of instructions.
    LineInfo,
    /// `core_relo`: CO-RE relocations.
    CoreRelo,
}

impl ExtSection {
    /// libbpf's name for it, as in its messages: `"func_info"`,
    /// `"line_info"`, `"core_relo"`.
    pub const fn name(self) -> &'static str {
        match self {
            ExtSection::FuncInfo => "func_info",
            ExtSection::LineInfo => "line_info",
            ExtSection::CoreRelo => "core_relo",
        }
    }

    /// The smallest record size libbpf accepts: 8, 16 and 16 bytes.
    pub const fn min_record_size(self) -> u32 {
        match self {
            ExtSection::FuncInfo => 8,
            ExtSection::LineInfo | ExtSection::CoreRelo => 16,
        }
    }
}

impl fmt::Display for ExtSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A record type of `.BTF.ext`: [`FuncInfo`], [`LineInfo`] or
/// [`CoreRelo`]. Sealed.
pub trait ExtRecord: Copy + fmt::Debug + 'static + private::Sealed {
    /// The subsection holding records of this type.
    const SECTION: ExtSection;

    /// Decodes the known prefix of a record (`bytes` holds at least
    /// [`ExtSection::min_record_size`] bytes; `None` otherwise).
    fn decode(bytes: &[u8], endian: Endian) -> Option<Self>;

    /// The record's `insn_off`: byte offset of its instruction in the ELF
    /// section its block names.
    fn insn_off(&self) -> u32;

    /// The instruction index, `insn_off / 8`.
    fn insn_index(&self) -> u32 {
        self.insn_off() / BPF_INSN_SIZE
    }
}

mod private {
    // Deliberately unnameable: it seals a public trait.
    #[allow(unnameable_types)]
    pub trait Sealed {}
    impl Sealed for super::FuncInfo {}
    impl Sealed for super::LineInfo {}
    impl Sealed for super::CoreRelo {}
}

/// A func_info record, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FuncInfo {
    /// Byte offset of the function's first instruction in its ELF section.
    pub insn_off: u32,
    /// The function's type (a `FUNC`) in `.BTF`.
    pub type_id: TypeId,
}

impl ExtRecord for FuncInfo {
    const SECTION: ExtSection = ExtSection::FuncInfo;

    fn decode(bytes: &[u8], endian: Endian) -> Option<FuncInfo> {
        let (w, _) = BpfFuncInfo::read_from_prefix(bytes).ok()?;
        Some(FuncInfo {
            insn_off: w.insn_off.get(endian),
            type_id: TypeId::new(w.type_id.get(endian)),
        })
    }

    fn insn_off(&self) -> u32 {
        self.insn_off
    }
}

/// A line_info record, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LineInfo {
    /// Byte offset of the instruction in its ELF section.
    pub insn_off: u32,
    /// The source file's name in the `.BTF` strings.
    pub file_name_off: StrOffset,
    /// The source line's text in the `.BTF` strings.
    pub line_off: StrOffset,
    /// Line number (bits 10..=31) and column (bits 0..=9), as the kernel's
    /// `BPF_LINE_INFO_LINE_NUM` and `BPF_LINE_INFO_LINE_COL` read them.
    pub line_col: u32,
}

impl LineInfo {
    /// The line number, `line_col >> 10`.
    pub fn line(&self) -> u32 {
        self.line_col >> 10
    }

    /// The column, `line_col & 0x3ff`.
    pub fn column(&self) -> u32 {
        self.line_col & 0x3ff
    }
}

impl ExtRecord for LineInfo {
    const SECTION: ExtSection = ExtSection::LineInfo;

    fn decode(bytes: &[u8], endian: Endian) -> Option<LineInfo> {
        let (w, _) = BpfLineInfo::read_from_prefix(bytes).ok()?;
        Some(LineInfo {
            insn_off: w.insn_off.get(endian),
            file_name_off: StrOffset::new(w.file_name_off.get(endian)),
            line_off: StrOffset::new(w.line_off.get(endian)),
            line_col: w.line_col.get(endian),
        })
    }

    fn insn_off(&self) -> u32 {
        self.insn_off
    }
}

/// A CO-RE relocation record, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CoreRelo {
    /// Byte offset of the instruction to patch in its ELF section.
    pub insn_off: u32,
    /// The root type in `.BTF` (the local BTF).
    pub type_id: TypeId,
    /// The access string in the `.BTF` strings; see
    /// [`AccessSpec`](super::AccessSpec).
    pub access_str_off: StrOffset,
    /// What to compute.
    pub kind: CoreReloKind,
}

impl ExtRecord for CoreRelo {
    const SECTION: ExtSection = ExtSection::CoreRelo;

    fn decode(bytes: &[u8], endian: Endian) -> Option<CoreRelo> {
        let (w, _) = BpfCoreRelo::read_from_prefix(bytes).ok()?;
        Some(CoreRelo {
            insn_off: w.insn_off.get(endian),
            type_id: TypeId::new(w.type_id.get(endian)),
            access_str_off: StrOffset::new(w.access_str_off.get(endian)),
            kind: CoreReloKind::from_raw(w.kind.get(endian)),
        })
    }

    fn insn_off(&self) -> u32 {
        self.insn_off
    }
}

/// `enum bpf_core_relo_kind`, with libbpf's numbering; kinds it does not
/// know are kept as [`CoreReloKind::Unknown`].
///
/// ```
/// use btf_core::ext::CoreReloKind;
/// assert_eq!(CoreReloKind::from_raw(9), CoreReloKind::TypeSize);
/// assert_eq!(CoreReloKind::from_raw(99).raw(), 99);
/// assert_eq!(CoreReloKind::FieldByteOffset.to_string(), "byte_off");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CoreReloKind {
    /// 0, `BPF_CORE_FIELD_BYTE_OFFSET`: field byte offset.
    FieldByteOffset,
    /// 1, `BPF_CORE_FIELD_BYTE_SIZE`: field size in bytes.
    FieldByteSize,
    /// 2, `BPF_CORE_FIELD_EXISTS`: whether the field exists in the target.
    FieldExists,
    /// 3, `BPF_CORE_FIELD_SIGNED`: whether the field is signed.
    FieldSigned,
    /// 4, `BPF_CORE_FIELD_LSHIFT_U64`: left shift to extract a bitfield.
    FieldLshiftU64,
    /// 5, `BPF_CORE_FIELD_RSHIFT_U64`: right shift to extract a bitfield.
    FieldRshiftU64,
    /// 6, `BPF_CORE_TYPE_ID_LOCAL`: the type's id in the local BTF.
    TypeIdLocal,
    /// 7, `BPF_CORE_TYPE_ID_TARGET`: the type's id in the target BTF.
    TypeIdTarget,
    /// 8, `BPF_CORE_TYPE_EXISTS`: whether the type exists in the target.
    TypeExists,
    /// 9, `BPF_CORE_TYPE_SIZE`: the type's size in the target.
    TypeSize,
    /// 10, `BPF_CORE_ENUMVAL_EXISTS`: whether the enumerator exists.
    EnumvalExists,
    /// 11, `BPF_CORE_ENUMVAL_VALUE`: the enumerator's value.
    EnumvalValue,
    /// 12, `BPF_CORE_TYPE_MATCHES`: whether the target type matches.
    TypeMatches,
    /// A kind libbpf 1.7 does not know, with its raw value.
    Unknown(u32),
}

impl CoreReloKind {
    /// Every kind libbpf knows, in numbering order.
    pub const ALL: [CoreReloKind; 13] = [
        CoreReloKind::FieldByteOffset,
        CoreReloKind::FieldByteSize,
        CoreReloKind::FieldExists,
        CoreReloKind::FieldSigned,
        CoreReloKind::FieldLshiftU64,
        CoreReloKind::FieldRshiftU64,
        CoreReloKind::TypeIdLocal,
        CoreReloKind::TypeIdTarget,
        CoreReloKind::TypeExists,
        CoreReloKind::TypeSize,
        CoreReloKind::EnumvalExists,
        CoreReloKind::EnumvalValue,
        CoreReloKind::TypeMatches,
    ];

    /// The kind with raw value `raw`.
    pub const fn from_raw(raw: u32) -> CoreReloKind {
        match raw {
            0 => CoreReloKind::FieldByteOffset,
            1 => CoreReloKind::FieldByteSize,
            2 => CoreReloKind::FieldExists,
            3 => CoreReloKind::FieldSigned,
            4 => CoreReloKind::FieldLshiftU64,
            5 => CoreReloKind::FieldRshiftU64,
            6 => CoreReloKind::TypeIdLocal,
            7 => CoreReloKind::TypeIdTarget,
            8 => CoreReloKind::TypeExists,
            9 => CoreReloKind::TypeSize,
            10 => CoreReloKind::EnumvalExists,
            11 => CoreReloKind::EnumvalValue,
            12 => CoreReloKind::TypeMatches,
            other => CoreReloKind::Unknown(other),
        }
    }

    /// The raw value.
    pub const fn raw(self) -> u32 {
        match self {
            CoreReloKind::FieldByteOffset => 0,
            CoreReloKind::FieldByteSize => 1,
            CoreReloKind::FieldExists => 2,
            CoreReloKind::FieldSigned => 3,
            CoreReloKind::FieldLshiftU64 => 4,
            CoreReloKind::FieldRshiftU64 => 5,
            CoreReloKind::TypeIdLocal => 6,
            CoreReloKind::TypeIdTarget => 7,
            CoreReloKind::TypeExists => 8,
            CoreReloKind::TypeSize => 9,
            CoreReloKind::EnumvalExists => 10,
            CoreReloKind::EnumvalValue => 11,
            CoreReloKind::TypeMatches => 12,
            CoreReloKind::Unknown(raw) => raw,
        }
    }

    /// Whether the relocation is about a field (kinds 0 to 5; libbpf's
    /// `core_relo_is_field_based`).
    pub const fn is_field_based(self) -> bool {
        matches!(self.raw(), 0..=5)
    }

    /// Whether it is about a type as a whole (6 to 9 and 12; libbpf's
    /// `core_relo_is_type_based`): its access string must be `"0"`.
    pub const fn is_type_based(self) -> bool {
        matches!(self.raw(), 6..=9 | 12)
    }

    /// Whether it is about an enumerator (10, 11; libbpf's
    /// `core_relo_is_enumval_based`): its access string holds one index.
    pub const fn is_enumval_based(self) -> bool {
        matches!(self.raw(), 10 | 11)
    }

    /// libbpf's name for it in its messages (`core_relo_kind_str`), e.g.
    /// `"byte_off"`; `"unknown"` for unknown kinds.
    pub const fn libbpf_name(self) -> &'static str {
        match self {
            CoreReloKind::FieldByteOffset => "byte_off",
            CoreReloKind::FieldByteSize => "byte_sz",
            CoreReloKind::FieldExists => "field_exists",
            CoreReloKind::FieldSigned => "signed",
            CoreReloKind::FieldLshiftU64 => "lshift_u64",
            CoreReloKind::FieldRshiftU64 => "rshift_u64",
            CoreReloKind::TypeIdLocal => "local_type_id",
            CoreReloKind::TypeIdTarget => "target_type_id",
            CoreReloKind::TypeExists => "type_exists",
            CoreReloKind::TypeMatches => "type_matches",
            CoreReloKind::TypeSize => "type_size",
            CoreReloKind::EnumvalExists => "enumval_exists",
            CoreReloKind::EnumvalValue => "enumval_value",
            CoreReloKind::Unknown(_) => "unknown",
        }
    }
}

impl fmt::Display for CoreReloKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreReloKind::Unknown(raw) => write!(f, "unknown({raw})"),
            known => f.write_str(known.libbpf_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for (i, k) in CoreReloKind::ALL.iter().enumerate() {
            assert_eq!(k.raw(), i as u32);
            assert_eq!(CoreReloKind::from_raw(i as u32), *k);
            let classes = [k.is_field_based(), k.is_type_based(), k.is_enumval_based()];
            assert_eq!(classes.iter().filter(|&&c| c).count(), 1, "{k}");
        }
        assert_eq!(CoreReloKind::from_raw(13), CoreReloKind::Unknown(13));
        assert!(!CoreReloKind::Unknown(13).is_type_based());
        assert_eq!(core::mem::size_of::<BpfFuncInfo>(), 8);
        assert_eq!(core::mem::size_of::<BpfLineInfo>(), 16);
        assert_eq!(core::mem::size_of::<BpfCoreRelo>(), 16);
    }
}
