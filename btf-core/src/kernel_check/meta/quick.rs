//! The meta pass's common case: whether a record passes every check of
//! `btf_check_meta` and its kind's `check_meta`, told with few branches
//! and no fault built.
//!
//! [`quick`] is the conjunction of [`check_meta`](super::check_meta)'s
//! checks, each written as a flag, in no particular order. It says `None`
//! when a check fails, and for DATASEC (a few per blob), so that
//! [`check_meta`](super::check_meta), the definition, tells the kernel's
//! first fault; `Some` means the record passes, with the size `check_meta`
//! gives.

use super::super::limits::{MAX_NAME_OFFSET, MAX_TYPE_ID};
use super::super::{Ctx, Rec};
use crate::id::Kind;
use crate::record::{self, IntWord};
use crate::wire::{BtfEnum, BtfEnum64, BtfMember, BtfVar, INFO_KFLAG, INFO_VLEN_MASK};

/// The profile's limits as the checks use them, computed once per walk.
pub(super) struct Quick {
    /// The `info` bits the profile leaves undefined.
    bad_info: u32,
    /// Per kind number: 0 for a kind the profile does not know (void
    /// included), else [`KNOWN`], the record's fixed size and its bytes
    /// per `vlen` element (`size`, by [`KernelProfile::max_kind`]).
    ///
    /// [`KernelProfile::max_kind`]: super::super::KernelProfile::max_kind
    layout: [u32; 128],
    /// Name offsets below this are valid (`btf_name_offset_valid`).
    name_end: u32,
    /// The kind flag bit where TYPE_TAG and DECL_TAG may not set it (0
    /// where they may).
    tag_kflag: u32,
    /// The same for ENUM and ENUM64.
    enum_kflag: u32,
}

impl Quick {
    pub(super) fn new(ctx: &Ctx<'_, '_>) -> Quick {
        let forbid = |allowed: bool| if allowed { 0 } else { INFO_KFLAG };
        let mut layout = [0u32; 128];
        for (kind, entry) in (0u8..).zip(&mut layout) {
            let known = kind != 0 && kind <= ctx.max_kind;
            let sizes =
                record::size(Kind::new(kind), 0, &[]).zip(record::size(Kind::new(kind), 1, &[]));
            if let (true, Some((fixed, one))) = (known, sizes) {
                // Both below 256: a common part, a fixed part of at most
                // 16 bytes, elements of at most 16.
                *entry = KNOWN | fixed as u32 | ((one - fixed) as u32) << 8;
            }
        }
        Quick {
            bad_info: !ctx.info_mask,
            layout,
            // Both bounds below 2^32: MAX_NAME_OFFSET + 1 is.
            name_end: ctx.str_end.min(u64::from(MAX_NAME_OFFSET) + 1) as u32,
            tag_kflag: forbid(ctx.p.decl_tag_kflag()),
            enum_kflag: forbid(ctx.p.enum_kflag()),
        }
    }
}

/// In [`Quick::layout`]: the profile knows the kind.
const KNOWN: u32 = 1 << 16;

/// `vlen` and the kind flag, both of which most kinds want zero.
const VLEN_KFLAG: u32 = INFO_VLEN_MASK | INFO_KFLAG;

/// A type id a record may name in a field the meta pass checks
/// (1..=`BTF_MAX_TYPE`).
#[inline(always)]
fn type_id(id: u32) -> bool {
    id.wrapping_sub(1) < MAX_TYPE_ID
}

/// The size of record `t` (`t.bytes` running to the end of the type
/// section) when it passes the meta pass's checks; `None` when it fails
/// or this cannot tell.
#[inline(always)]
pub(super) fn quick(ctx: &Ctx<'_, '_>, q: &Quick, t: Rec<'_>) -> Option<usize> {
    let info = t.info().raw();
    let kind = t.kind();
    let name = t.name_off();
    let st = t.st();
    // A record shorter than the common part reads as zeros: kind 0 fails.
    let layout = q.layout.get(usize::from(kind)).copied().unwrap_or(0);
    // At most 28 + 16 * (2^24 - 1): no overflow.
    let size = (layout & 0xff) as usize + t.vlen() as usize * (layout >> 8 & 0xff) as usize;
    let common = (info & q.bad_info == 0)
        & (layout & KNOWN != 0)
        & (name < q.name_end)
        & (size <= t.bytes.len());
    if !common {
        return None;
    }
    let k = Kind::new(kind);
    let known = |off: u32| ctx.identifier(off);
    let ok = match k {
        Kind::INT => {
            let word = t.int_word();
            let w = IntWord::decode(word);
            let nr_bits = u32::from(w.bits) + u32::from(w.offset);
            (info & VLEN_KFLAG == 0)
                & (word & IntWord::RESERVED == 0)
                & (nr_bits <= 128)
                & (nr_bits.div_ceil(8) <= st)
                & matches!(w.encoding, 0 | 1 | 2 | 4)
        }
        Kind::PTR | Kind::VOLATILE | Kind::CONST | Kind::RESTRICT => {
            (info & VLEN_KFLAG == 0) & (st <= MAX_TYPE_ID) & (name == 0)
        }
        Kind::TYPEDEF => (info & VLEN_KFLAG == 0) & (st <= MAX_TYPE_ID) && name != 0 && known(name),
        Kind::TYPE_TAG => {
            (info & (INFO_VLEN_MASK | q.tag_kflag) == 0) & (st <= MAX_TYPE_ID) & ctx.nonempty(name)
        }
        Kind::FWD => (info & INFO_VLEN_MASK == 0) & (st == 0) && name != 0 && known(name),
        Kind::ARRAY => {
            let (elem, index, _) = t.array();
            (info & VLEN_KFLAG == 0) & (name == 0) & (st == 0) & type_id(elem) & type_id(index)
        }
        Kind::STRUCT | Kind::UNION => {
            (name == 0 || known(name)) && members(ctx, q, t, k == Kind::UNION)
        }
        Kind::ENUM => {
            let names = t.elements::<BtfEnum>(t.vlen() as usize).iter();
            enumeration(ctx, q, t, names.map(|e| e.name_off.get(t.e)))
        }
        Kind::ENUM64 => {
            let names = t.elements::<BtfEnum64>(t.vlen() as usize).iter();
            enumeration(ctx, q, t, names.map(|e| e.name_off.get(t.e)))
        }
        Kind::FUNC_PROTO => (info & INFO_KFLAG == 0) & (name == 0),
        // `vlen` (the linkage) at most 1.
        Kind::FUNC => (info & (VLEN_KFLAG & !1) == 0) && name != 0 && known(name),
        Kind::VAR => {
            let linkage = t.part::<BtfVar>().linkage.get(t.e);
            (info & VLEN_KFLAG == 0) & type_id(st) & (linkage <= 1)
                && name != 0
                && ctx.name_valid(name, true)
        }
        Kind::FLOAT => (info & VLEN_KFLAG == 0) & matches!(st, 2 | 4 | 8 | 12 | 16),
        Kind::DECL_TAG => {
            (info & (INFO_VLEN_MASK | q.tag_kflag) == 0)
                & (t.component_idx() >= -1)
                & ctx.nonempty(name)
        }
        // DATASEC (one or a few per blob), and kinds the profile does not
        // know.
        _ => false,
    };
    ok.then_some(size)
}

/// A STRUCT's or UNION's members.
#[inline(always)]
fn members(ctx: &Ctx<'_, '_>, q: &Quick, t: Rec<'_>, union: bool) -> bool {
    let size = t.st();
    let offset_mask = if t.kflag() { 0x00ff_ffff } else { u32::MAX };
    let mut last = 0u32;
    let mut ok = true;
    for member in t.elements::<BtfMember>(t.vlen() as usize) {
        let (name, ty) = (member.name_off.get(t.e), member.type_.get(t.e));
        let off = member.offset.get(t.e) & offset_mask;
        ok &= (name < q.name_end)
            & type_id(ty)
            & !(union & (off != 0))
            & (last <= off)
            & (off.div_ceil(8) <= size);
        ok = ok && (name == 0 || ctx.identifier(name));
        last = off;
    }
    ok
}

/// An ENUM's or ENUM64's size, flag, name and enumerators' names.
#[inline(always)]
fn enumeration(ctx: &Ctx<'_, '_>, q: &Quick, t: Rec<'_>, names: impl Iterator<Item = u32>) -> bool {
    let size = t.st();
    let name = t.name_off();
    let mut ok = (size <= 8) & size.is_power_of_two() & (t.info().raw() & q.enum_kflag == 0)
        && (name == 0 || ctx.identifier(name));
    for name in names {
        ok = ok && name < q.name_end && name != 0 && ctx.identifier(name);
    }
    ok
}
