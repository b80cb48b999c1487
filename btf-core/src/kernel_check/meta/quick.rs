//! The meta pass's common case: whether a record passes every check of
//! `btf_check_meta` and its kind's `check_meta`, told with few branches
//! and no fault built.
//!
//! [`quick`] is the conjunction of [`check_meta`](super::check_meta)'s
//! checks, each written as a flag, in no particular order, the kind's
//! size and rules found in tables built once per walk. Three kinds are
//! tried first, before the tables: a FUNC, a FUNC_PROTO with no name and
//! a PTR (on vmlinux 99,000 of 125,000 records), whose `info` word each
//! compare checks at once; a record one of them does not pass goes on to
//! the tables. It says `None`
//! when a check fails, and for DATASEC (a few per blob), so that
//! [`check_meta`](super::check_meta), the definition, tells the kernel's
//! first fault; `Some` means the record passes, with the size `check_meta`
//! gives.
//!
//! Names are read first: the record's name before the jump on its kind,
//! a member's or enumerator's before its other checks, so that the few
//! bytes at a random place in the strings are on their way while those
//! branches settle (see [`Ctx::name_known`]). That costs instructions and
//! saves time: about 8% of the kernel's rules' time on vmlinux.

use super::super::limits::{MAX_NAME_OFFSET, MAX_TYPE_ID};
use super::super::resolve::Slot;
use super::super::{Ctx, Rec};
use crate::endian::Order;
use crate::id::Kind;
use crate::record::{self, Head, IntWord};
use crate::wire::{BtfEnum, BtfEnum64, BtfMember, BtfParam, BtfVar, INFO_KFLAG, INFO_VLEN_MASK};

/// The profile's limits as the checks use them, computed once per walk.
pub(super) struct Quick {
    /// The `info` bits the profile leaves undefined.
    bad_info: u32,
    /// Per kind number: the record's fixed size (`record::size` with no
    /// elements), 0 for unknown kinds.
    fixed: [u8; 128],
    /// Per kind number: the bytes per `vlen` element, 0 for unknown kinds.
    element: [u8; 128],
    /// Per kind number: the rules of a kind the profile knows
    /// ([`KernelProfile::max_kind`]), else [`Rules::Judge`].
    ///
    /// [`KernelProfile::max_kind`]: super::super::KernelProfile::max_kind
    rules: [Rules; 128],
    /// Name offsets below this are valid (`btf_name_offset_valid`).
    name_end: u32,
    /// The kind flag bit where TYPE_TAG and DECL_TAG may not set it (0
    /// where they may).
    tag_kflag: u32,
    /// The same for ENUM and ENUM64.
    enum_kflag: u32,
    /// The `info` word of a FUNC with no kind flag and `vlen` (linkage)
    /// 0, when the profile knows FUNC; else a word no record has once
    /// bit 0 is cleared.
    func_info: u32,
    /// The `info` bits a FUNC_PROTO must have as [`Quick::proto_info`]
    /// says: all but `vlen`'s, and those the profile leaves undefined.
    proto_mask: u32,
    /// The `info` word of a FUNC_PROTO with no kind flag, less `vlen`,
    /// when the profile knows FUNC_PROTO; else a word no record has.
    proto_info: u32,
    /// The `info` word of a PTR (no kind flag, `vlen` 0); every profile
    /// knows PTR.
    ptr_info: u32,
}

/// Which kind's checks a record gets (a kind or a few alike), numbered
/// densely so that the compiler dispatches on it without a range check.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rules {
    /// A kind the profile does not know (void included), or DATASEC (a
    /// few per blob): `check_meta` judges it.
    Judge,
    Int,
    Ptr,
    /// VOLATILE, CONST, RESTRICT.
    Modifier,
    Typedef,
    TypeTag,
    Fwd,
    Array,
    Struct,
    Union,
    Enum,
    Enum64,
    FuncProto,
    Func,
    Var,
    Float,
    DeclTag,
}

impl Rules {
    fn of(k: Kind) -> Rules {
        match k {
            Kind::INT => Rules::Int,
            Kind::PTR => Rules::Ptr,
            Kind::VOLATILE | Kind::CONST | Kind::RESTRICT => Rules::Modifier,
            Kind::TYPEDEF => Rules::Typedef,
            Kind::TYPE_TAG => Rules::TypeTag,
            Kind::FWD => Rules::Fwd,
            Kind::ARRAY => Rules::Array,
            Kind::STRUCT => Rules::Struct,
            Kind::UNION => Rules::Union,
            Kind::ENUM => Rules::Enum,
            Kind::ENUM64 => Rules::Enum64,
            Kind::FUNC_PROTO => Rules::FuncProto,
            Kind::FUNC => Rules::Func,
            Kind::VAR => Rules::Var,
            Kind::FLOAT => Rules::Float,
            Kind::DECL_TAG => Rules::DeclTag,
            _ => Rules::Judge,
        }
    }
}

impl Quick {
    pub(super) fn new(ctx: &Ctx<'_, '_>) -> Quick {
        let forbid = |allowed: bool| if allowed { 0 } else { INFO_KFLAG };
        // The `info` word of kind `k` with nothing else set, when the
        // profile knows `k`; else 1, which the FUNC and FUNC_PROTO
        // compares in `quick` never meet (they clear bit 0 first). Every
        // profile knows PTR (kind 2, in BTF from the start).
        let known_info = |k: Kind| {
            if ctx.max_kind >= k.get() {
                u32::from(k.get()) << 24
            } else {
                1
            }
        };
        let mut fixed = [0u8; 128];
        let mut element = [0u8; 128];
        let mut rules = [Rules::Judge; 128];
        let entries = fixed.iter_mut().zip(&mut element).zip(&mut rules);
        for (kind, ((fixed, element), rules)) in (0u8..).zip(entries) {
            let k = Kind::new(kind);
            let sizes = record::size(k, 0, &[]).zip(record::size(k, 1, &[]));
            if let (true, Some((bare, one))) = (kind != 0 && kind <= ctx.max_kind, sizes) {
                // Both below 256: a common part, a fixed part of at most
                // 16 bytes, elements of at most 16.
                *fixed = bare as u8;
                *element = (one - bare) as u8;
                *rules = Rules::of(k);
            }
        }
        Quick {
            bad_info: !ctx.info_mask,
            fixed,
            element,
            rules,
            // Both bounds below 2^32: MAX_NAME_OFFSET + 1 is.
            name_end: ctx.str_end.min(u64::from(MAX_NAME_OFFSET) + 1) as u32,
            tag_kflag: forbid(ctx.p.decl_tag_kflag()),
            enum_kflag: forbid(ctx.p.enum_kflag()),
            func_info: known_info(Kind::FUNC),
            proto_mask: !INFO_VLEN_MASK | !ctx.info_mask,
            proto_info: known_info(Kind::FUNC_PROTO),
            ptr_info: known_info(Kind::PTR),
        }
    }
}

/// `vlen` and the kind flag, both of which most kinds want zero.
const VLEN_KFLAG: u32 = INFO_VLEN_MASK | INFO_KFLAG;

/// A type id a record may name in a field the meta pass checks
/// (1..=`BTF_MAX_TYPE`).
#[inline(always)]
fn type_id(id: u32) -> bool {
    id.wrapping_sub(1) < MAX_TYPE_ID
}

/// A record [`quick`] passed.
#[derive(Clone, Copy)]
pub(super) struct Passed {
    /// Its size in bytes.
    pub(super) size: usize,
    /// Whether it is a modifier ([`super::super::resolve::is_modifier`]).
    pub(super) modifier: bool,
    /// Its slot for the resolve pass, from the words in hand (unused,
    /// and so not computed, for the kernel's own BTF).
    pub(super) slot: Slot,
}

/// The record starting `rest` (which runs to the end of the type
/// section), in byte order `O`, when it passes the meta pass's checks;
/// `None` when it fails or this cannot tell.
#[inline(always)]
pub(super) fn quick<O: Order>(ctx: &Ctx<'_, '_>, q: &Quick, rest: &[u8]) -> Option<Passed> {
    // The offset is for faults, which this does not build.
    let t = Rec {
        bytes: rest,
        e: O::ENDIAN,
        at: 0,
        head: Head::read::<O>(rest)?,
    };
    let info = t.info().raw();
    let kind = usize::from(t.kind());
    let name = t.name_off();
    let st = t.st();
    // A FUNC (almost half the records of vmlinux) whose name is known
    // good, without the tables and the jump on the kind: every bit of
    // `info` but the linkage's low one is fixed, so one compare does the
    // checks of `info`, and the record is the 12 bytes of its head.
    if info & !1 == q.func_info && (name != 0) & (name < q.name_end) && ctx.name_known(name) {
        return Some(Passed {
            size: record::COMMON,
            modifier: false,
            slot: Slot::unsized_parts(u32::from(Kind::FUNC.get()), st),
        });
    }
    // A FUNC_PROTO (most of the rest) with no name and no kind flag: no
    // name to read, and its size from `vlen` alone.
    if info & q.proto_mask == q.proto_info && name == 0 {
        // At most 12 + 8 * (2^24 - 1): no overflow.
        let size = record::COMMON + size_of::<BtfParam>() * (info & INFO_VLEN_MASK) as usize;
        if size <= rest.len() {
            return Some(Passed {
                size,
                modifier: false,
                slot: Slot::unsized_parts(u32::from(Kind::FUNC_PROTO.get()), st),
            });
        }
    }
    // A PTR: one compare for `info`, no name.
    if info == q.ptr_info && name == 0 && st <= MAX_TYPE_ID {
        return Some(Passed {
            size: record::COMMON,
            modifier: false,
            slot: Slot::unsized_parts(u32::from(Kind::PTR.get()), st),
        });
    }
    let fixed = q.fixed.get(kind).copied().unwrap_or(0);
    let element = q.element.get(kind).copied().unwrap_or(0);
    // At most 28 + 16 * (2^24 - 1): no overflow.
    let size = usize::from(fixed) + t.vlen() as usize * usize::from(element);
    let common = (info & q.bad_info == 0) & (name < q.name_end) & (size <= t.bytes.len());
    if !common {
        return None;
    }
    // The record's name, read before the kind's branch (see
    // `Ctx::name_known`): an identifier, or under the '.' rule of VAR.
    let name_known = ctx.name_known(name);
    let identifier = || ctx.name_valid_given(name, name_known, false);
    let slot = Slot::unsized_parts(kind as u32, st);
    let passed = |ok: bool| {
        ok.then_some(Passed {
            size,
            modifier: false,
            slot,
        })
    };
    let modifier = |ok: bool| {
        ok.then_some(Passed {
            size,
            slot,
            modifier: true,
        })
    };
    match q.rules.get(kind).copied().unwrap_or(Rules::Judge) {
        Rules::Judge => None,
        Rules::Int => {
            let word = t.int_word();
            let w = IntWord::decode(word);
            let nr_bits = u32::from(w.bits) + u32::from(w.offset);
            let ok = (info & VLEN_KFLAG == 0)
                & (word & IntWord::RESERVED == 0)
                & (nr_bits <= 128)
                & (nr_bits.div_ceil(8) <= st)
                & matches!(w.encoding, 0 | 1 | 2 | 4);
            ok.then_some(Passed {
                size,
                modifier: false,
                slot: Slot::from_parts(kind as u32, st, word),
            })
        }
        Rules::Ptr => passed((info & VLEN_KFLAG == 0) & (st <= MAX_TYPE_ID) & (name == 0)),
        Rules::Modifier => modifier((info & VLEN_KFLAG == 0) & (st <= MAX_TYPE_ID) & (name == 0)),
        Rules::Typedef => {
            modifier((info & VLEN_KFLAG == 0) & (st <= MAX_TYPE_ID) && name != 0 && identifier())
        }
        Rules::TypeTag => modifier(
            (info & (INFO_VLEN_MASK | q.tag_kflag) == 0) & (st <= MAX_TYPE_ID) & ctx.nonempty(name),
        ),
        Rules::Fwd => passed((info & INFO_VLEN_MASK == 0) & (st == 0) && name != 0 && identifier()),
        Rules::Array => {
            let (elem, index, _) = t.array();
            passed(
                (info & VLEN_KFLAG == 0) & (name == 0) & (st == 0) & type_id(elem) & type_id(index),
            )
        }
        Rules::Struct => passed((name == 0 || identifier()) && members(ctx, q, t, false)),
        Rules::Union => passed((name == 0 || identifier()) && members(ctx, q, t, true)),
        Rules::Enum => {
            let names = t.elements::<BtfEnum>(t.vlen() as usize).iter();
            passed(enumeration(
                ctx,
                q,
                t,
                identifier,
                names.map(|e| e.name_off.get(t.e)),
            ))
        }
        Rules::Enum64 => {
            let names = t.elements::<BtfEnum64>(t.vlen() as usize).iter();
            passed(enumeration(
                ctx,
                q,
                t,
                identifier,
                names.map(|e| e.name_off.get(t.e)),
            ))
        }
        Rules::FuncProto => passed((info & INFO_KFLAG == 0) & (name == 0)),
        // `vlen` (the linkage) at most 1.
        Rules::Func => passed((info & (VLEN_KFLAG & !1) == 0) && name != 0 && identifier()),
        Rules::Var => {
            let linkage = t.part::<BtfVar>().linkage.get(t.e);
            passed(
                (info & VLEN_KFLAG == 0) & type_id(st) & (linkage <= 1)
                    && name != 0
                    && ctx.name_valid_given(name, name_known, true),
            )
        }
        Rules::Float => passed((info & VLEN_KFLAG == 0) & matches!(st, 2 | 4 | 8 | 12 | 16)),
        Rules::DeclTag => passed(
            (info & (INFO_VLEN_MASK | q.tag_kflag) == 0)
                & (t.component_idx() >= -1)
                & ctx.nonempty(name),
        ),
    }
}

/// A STRUCT's or UNION's members.
#[inline(always)]
fn members(ctx: &Ctx<'_, '_>, q: &Quick, t: Rec<'_>, union: bool) -> bool {
    // `off.div_ceil(8) <= size` is `off <= 8 * size`.
    let size_bits = u64::from(t.st()) * 8;
    let offset_mask = if t.kflag() { 0x00ff_ffff } else { u32::MAX };
    let mut last = 0u32;
    for member in t.elements::<BtfMember>(t.vlen() as usize) {
        let (name, ty) = (member.name_off.get(t.e), member.type_.get(t.e));
        let off = member.offset.get(t.e) & offset_mask;
        let ok = (name < q.name_end)
            & type_id(ty)
            & !(union & (off != 0))
            & (last <= off)
            & (u64::from(off) <= size_bits);
        // The name is read whatever `ok` says (see `Ctx::name_known`).
        let known = ctx.name_known(name);
        if !ok || (name != 0 && !ctx.name_valid_given(name, known, false)) {
            return false;
        }
        last = off;
    }
    true
}

/// An ENUM's or ENUM64's size, flag, name and enumerators' names.
#[inline(always)]
fn enumeration(
    ctx: &Ctx<'_, '_>,
    q: &Quick,
    t: Rec<'_>,
    name_ok: impl FnOnce() -> bool,
    names: impl Iterator<Item = u32>,
) -> bool {
    let size = t.st();
    let name = t.name_off();
    let ok = (size <= 8) & size.is_power_of_two() & (t.info().raw() & q.enum_kflag == 0)
        && (name == 0 || name_ok());
    if !ok {
        return false;
    }
    for name in names {
        // Read first (see `Ctx::name_known`).
        let known = ctx.name_known(name);
        if !(name < q.name_end && name != 0 && ctx.name_valid_given(name, known, false)) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_are_the_resolve_pass_s() {
        // `quick` says which records are modifiers by their rules, and
        // `slow` by `is_modifier`: both as the type tag pass counts them.
        for k in 0..=u8::MAX {
            let kind = Kind::new(k);
            let by_rules = matches!(
                Rules::of(kind),
                Rules::Modifier | Rules::Typedef | Rules::TypeTag
            );
            let modifier = super::super::super::resolve::is_modifier(kind);
            assert_eq!(by_rules, modifier, "kind {k}");
            assert_eq!(super::super::is_modifier(k), modifier, "kind {k}");
        }
    }
}
