//! Why a relocation failed, why a candidate did not match, and why an
//! instruction could not be patched.

use super::target::Candidate;
use crate::error::Error;
use crate::ext::AccessError;
use crate::id::{Kind, TypeId};
use core::fmt;

/// Why a CO-RE relocation could not be computed (libbpf fails the whole
/// object then; a relocation whose field or type is merely missing is not
/// an error: its instruction is poisoned). Positions (`pos`) count the
/// access string's indices from 0; ids are local unless said otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelocError {
    /// A type lookup in the local or a target BTF failed.
    Btf(Error),
    /// The access string is malformed or wrong for the kind.
    Access(AccessError),
    /// A kind libbpf does not know.
    UnknownKind {
        /// Its raw value.
        kind: u32,
    },
    /// An index picks a member past the end of the composite.
    MemberOutOfRange {
        /// Position in the access string.
        pos: u8,
        /// The struct or union.
        type_id: TypeId,
        /// The index.
        idx: u32,
        /// How many members it has.
        vlen: u32,
    },
    /// An index is past the end of a (non-flexible) array.
    ArrayOutOfRange {
        /// Position in the access string.
        pos: u8,
        /// The array.
        type_id: TypeId,
        /// The index.
        idx: u32,
        /// How many elements it has.
        nelems: u32,
    },
    /// The access string steps into a type that is neither a struct, a
    /// union nor an array.
    NotAggregate {
        /// Position in the access string.
        pos: u8,
        /// The type.
        type_id: TypeId,
        /// Its kind.
        kind: Kind,
    },
    /// An enumerator relocation whose type is not an enum.
    NotEnum {
        /// The type (modifiers and typedefs skipped).
        type_id: TypeId,
        /// Its kind.
        kind: Kind,
    },
    /// An enumerator index past the enum's values.
    EnumeratorOutOfRange {
        /// The enum.
        type_id: TypeId,
        /// The index.
        idx: u32,
        /// How many values it has.
        vlen: u32,
    },
    /// A type's size cannot be resolved (void, a forward declaration, a
    /// function, an overflow).
    NoSize {
        /// The type (in whichever BTF was being read).
        type_id: TypeId,
    },
    /// The relocation's root type has no name: libbpf searches no
    /// candidates for anonymous types.
    Anonymous {
        /// The root type.
        type_id: TypeId,
    },
    /// A relocation kind other than byte offset and byte size on an array
    /// element.
    ArrayElementKind,
    /// A bitfield that no load of at most 8 bytes covers.
    BitfieldTooWide {
        /// Whether in the target (else the local BTF).
        target: bool,
        /// The bit offset.
        bit_offset: u32,
        /// The bitfield's width.
        bit_size: u32,
    },
    /// Nesting deeper than libbpf allows (64 access indices, 32 levels of
    /// type recursion), or a cycle.
    TooDeep,
    /// Two matching candidates give different answers.
    Ambiguous {
        /// The first matching candidate.
        first: Candidate,
        /// The one that disagrees.
        second: Candidate,
        /// How.
        why: Ambiguity,
    },
    /// The instruction cannot take the result.
    Patch(PatchError),
}

/// How two candidates disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ambiguity {
    /// Their fields are at different bit offsets.
    Offset {
        /// The first candidate's.
        first: u32,
        /// The second's.
        second: u32,
    },
    /// One poisons and the other not, or their values differ (`None`
    /// for a poisoned result).
    Decision {
        /// The first candidate's value.
        first: Option<u64>,
        /// The second's.
        second: Option<u64>,
    },
}

/// Why an instruction could not be patched (libbpf's
/// `bpf_core_patch_insn` errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatchError {
    /// The instruction index is past the section (or the second half of
    /// an `ld_imm64` is).
    NoInsn {
        /// The index.
        index: usize,
    },
    /// An ALU instruction with a register source: nothing to patch.
    NotImmediate {
        /// Its opcode.
        code: u8,
    },
    /// An instruction class that relocations cannot patch.
    Class {
        /// Its opcode.
        code: u8,
    },
    /// The instruction does not hold the value the local BTF gives.
    Unexpected {
        /// What it holds (sign-extended as libbpf compares).
        found: u64,
        /// The local value.
        expected: u64,
    },
    /// A new memory offset above `i16::MAX`.
    OffsetTooBig {
        /// The offset.
        value: u64,
    },
    /// A load or store whose size is not the local field's.
    MemSize {
        /// The instruction's size in bytes (`-1` for an unknown size).
        found: i32,
        /// The local field's size.
        expected: u32,
    },
    /// A target field size no load or store has.
    BadMemSize {
        /// The size.
        size: u32,
    },
    /// An `ld_imm64` that is not in its plain form.
    LdImm64Form,
}

/// Why a candidate target type does not match (not an error: with no
/// matching candidate the instruction is poisoned, or the existence
/// relocations give 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// Type-based relocation: the types are not compatible.
    TypesIncompatible,
    /// TYPE_MATCHES: the types do not match.
    TypesDoNotMatch,
    /// Enumerator relocation: the candidate is not an enum.
    NotEnum {
        /// The candidate type (modifiers and typedefs skipped).
        type_id: TypeId,
        /// Its kind.
        kind: Kind,
    },
    /// The enum has no enumerator of that essential name.
    NoEnumerator {
        /// The enum.
        type_id: TypeId,
    },
    /// A named member is looked for in a type that is not a struct or
    /// union.
    NotComposite {
        /// The accessor's position (high-level: named members and array
        /// indices).
        pos: u8,
        /// The target type.
        type_id: TypeId,
        /// Its kind.
        kind: Kind,
    },
    /// No member of that name (anonymous members searched too).
    NoMember {
        /// The accessor's position.
        pos: u8,
        /// The target struct or union.
        type_id: TypeId,
    },
    /// A member of that name whose type is not compatible.
    MemberIncompatible {
        /// The accessor's position.
        pos: u8,
        /// The target struct or union.
        type_id: TypeId,
        /// The member's type in the target.
        member_type: TypeId,
    },
    /// An array index on a type that is not an array.
    NotArray {
        /// The accessor's position.
        pos: u8,
        /// The target type.
        type_id: TypeId,
        /// Its kind.
        kind: Kind,
    },
    /// An array index past the target array's end.
    ArrayOutOfRange {
        /// The accessor's position.
        pos: u8,
        /// The target array's element type.
        type_id: TypeId,
        /// The index.
        idx: u32,
        /// The target array's length.
        nelems: u32,
    },
}

fn kind_name(k: Kind) -> &'static str {
    k.name().unwrap_or("UNKNOWN")
}

impl fmt::Display for RelocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RelocError::Btf(e) => write!(f, "btf: {e}"),
            RelocError::Access(e) => fmt::Display::fmt(&e, f),
            RelocError::UnknownKind { kind } => write!(f, "unknown relocation kind {kind}"),
            RelocError::MemberOutOfRange {
                pos,
                type_id,
                idx,
                vlen,
            } => write!(
                f,
                "access index {pos} picks member {idx} of type [{type_id}], which has {vlen} (or an unnamed one)"
            ),
            RelocError::ArrayOutOfRange {
                pos,
                type_id,
                idx,
                nelems,
            } => write!(
                f,
                "access index {pos} picks element {idx} of array [{type_id}], which has {nelems}"
            ),
            RelocError::NotAggregate { pos, type_id, kind } => write!(
                f,
                "access index {pos} steps into type [{type_id}], a {}, not a struct, union or array",
                kind_name(kind)
            ),
            RelocError::NotEnum { type_id, kind } => write!(
                f,
                "enumerator relocation on type [{type_id}], a {}",
                kind_name(kind)
            ),
            RelocError::EnumeratorOutOfRange { type_id, idx, vlen } => {
                write!(f, "enumerator {idx} of enum [{type_id}], which has {vlen}")
            }
            RelocError::NoSize { type_id } => {
                write!(f, "the size of type [{type_id}] cannot be resolved")
            }
            RelocError::Anonymous { type_id } => write!(
                f,
                "type [{type_id}] is anonymous: no candidates can be searched for it"
            ),
            RelocError::ArrayElementKind => {
                f.write_str("only byte offset and byte size relocations apply to an array element")
            }
            RelocError::BitfieldTooWide {
                target,
                bit_offset,
                bit_size,
            } => write!(
                f,
                "the {} bitfield at bit {bit_offset}, {bit_size} bits wide, cannot be read with one load of at most 8 bytes",
                if target { "target" } else { "local" }
            ),
            RelocError::TooDeep => f.write_str("types nest too deep (or form a cycle)"),
            RelocError::Ambiguous { first, second, why } => {
                write!(
                    f,
                    "ambiguous: candidates [{}] (target {}) and [{}] (target {}) disagree: ",
                    first.id, first.target, second.id, second.target
                )?;
                match why {
                    Ambiguity::Offset { first, second } => {
                        write!(f, "field bit offset {first} != {second}")
                    }
                    Ambiguity::Decision { first, second } => {
                        let show = |v: Option<u64>| match v {
                            Some(v) => alloc::format!("value {v}"),
                            None => "poison".into(),
                        };
                        write!(f, "{} != {}", show(first), show(second))
                    }
                }
            }
            RelocError::Patch(e) => fmt::Display::fmt(&e, f),
        }
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PatchError::NoInsn { index } => {
                write!(f, "instruction {index} is past the end of the section")
            }
            PatchError::NotImmediate { code } => write!(
                f,
                "instruction (code {code:#04x}) takes a register, not an immediate"
            ),
            PatchError::Class { code } => write!(
                f,
                "instruction code {code:#04x} is not of a class relocations patch"
            ),
            PatchError::Unexpected { found, expected } => write!(
                f,
                "the instruction holds {found}, but the local value is {expected}"
            ),
            PatchError::OffsetTooBig { value } => {
                write!(f, "new memory offset {value} does not fit 16 bits")
            }
            PatchError::MemSize { found, expected } => write!(
                f,
                "the instruction accesses {found} bytes, the local field has {expected}"
            ),
            PatchError::BadMemSize { size } => {
                write!(f, "no load or store has the target field's size {size}")
            }
            PatchError::LdImm64Form => f.write_str("ld_imm64 is not in its plain form"),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Mismatch::TypesIncompatible => f.write_str("types are not compatible"),
            Mismatch::TypesDoNotMatch => f.write_str("types do not match"),
            Mismatch::NotEnum { type_id, kind } => {
                write!(f, "[{type_id}] is a {}, not an enum", kind_name(kind))
            }
            Mismatch::NoEnumerator { type_id } => {
                write!(f, "enum [{type_id}] has no enumerator of that name")
            }
            Mismatch::NotComposite { pos, type_id, kind } => write!(
                f,
                "step {pos}: [{type_id}] is a {}, not a struct or union",
                kind_name(kind)
            ),
            Mismatch::NoMember { pos, type_id } => {
                write!(f, "step {pos}: [{type_id}] has no member of that name")
            }
            Mismatch::MemberIncompatible {
                pos,
                type_id,
                member_type,
            } => write!(
                f,
                "step {pos}: the member of [{type_id}] has incompatible type [{member_type}]"
            ),
            Mismatch::NotArray { pos, type_id, kind } => write!(
                f,
                "step {pos}: [{type_id}] is a {}, not an array",
                kind_name(kind)
            ),
            Mismatch::ArrayOutOfRange {
                pos,
                type_id,
                idx,
                nelems,
            } => write!(
                f,
                "step {pos}: index {idx} past the {nelems} elements of the array of [{type_id}]"
            ),
        }
    }
}

impl core::error::Error for RelocError {}
impl core::error::Error for PatchError {}

impl From<PatchError> for RelocError {
    fn from(e: PatchError) -> RelocError {
        RelocError::Patch(e)
    }
}
