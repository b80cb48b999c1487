//! The meta pass: `btf_check_all_metas`, `btf_check_meta` and each kind's
//! `check_meta`, record by record in id order.

mod quick;

use super::limits::MAX_TYPE_ID;
use super::reject::{Errno, Rule};
use super::resolve::{Slot, Sweep};
use super::{Ctx, Fault, Rec, Sink, Stop};
use crate::endian::{Be, Endian, Le, Order, U32};
use crate::id::Kind;
use crate::record::{self, Info, IntWord, MemberOffset};
use crate::wire::{BtfEnum, BtfEnum64, BtfMember, BtfVar, BtfVarSecinfo};
use quick::{Quick, quick};

/// Walks the type section, checking each record and filling `ctx.offs`
/// and `ctx.modifiers`, and `ctx.slots` when `slots` (the resolve pass
/// needs them).
///
/// The walk is compiled once per byte order and per need of slots, so
/// that neither is asked again for every record.
pub(super) fn check_all(ctx: &mut Ctx<'_, '_>, slots: bool, sink: &mut Sink) -> Result<(), Stop> {
    // The lists are filled through locals and the walk reads `ctx`
    // shared, so that the compiler keeps its fields in registers rather
    // than reloading them after every push.
    let mut index = Index {
        offs: core::mem::take(&mut ctx.offs),
        slots: core::mem::take(&mut ctx.slots),
        sweep: core::mem::take(&mut ctx.sweep),
        modifiers: core::mem::take(&mut ctx.modifiers),
    };
    let flow = match (ctx.p.endian, slots) {
        (Endian::Little, false) => walk::<Le, false>(ctx, &mut index, sink),
        (Endian::Little, true) => walk::<Le, true>(ctx, &mut index, sink),
        (Endian::Big, false) => walk::<Be, false>(ctx, &mut index, sink),
        (Endian::Big, true) => walk::<Be, true>(ctx, &mut index, sink),
    };
    ctx.offs = index.offs;
    ctx.slots = index.slots;
    ctx.sweep = index.sweep;
    ctx.modifiers = index.modifiers;
    flow
}

/// What the meta pass records of each registered type.
struct Index {
    offs: alloc::vec::Vec<u32>,
    /// Empty unless the walk fills slots: then void's, then one per
    /// record.
    slots: alloc::vec::Vec<Slot>,
    /// Empty unless the walk fills slots: then the fast path's bits.
    sweep: Sweep,
    modifiers: alloc::vec::Vec<u32>,
}

/// [`check_all`]'s loop, in byte order `O`, filling slots when `SLOTS`.
///
/// Each record is first judged by [`quick()`], which only says "passes";
/// anything else goes to [`slow`] and [`check_meta`], the definition,
/// which says what fails first.
fn walk<O: Order, const SLOTS: bool>(
    ctx: &Ctx<'_, '_>,
    index: &mut Index,
    sink: &mut Sink,
) -> Result<(), Stop> {
    let types = ctx.types;
    let q = Quick::new(ctx);
    // Locals, so that their lengths stay in registers.
    let mut offs = core::mem::take(&mut index.offs);
    let mut modifiers = core::mem::take(&mut index.modifiers);
    let mut slots = core::mem::take(&mut index.slots);
    let mut visit = core::mem::take(&mut index.sweep.visit);
    let mut funcs = core::mem::take(&mut index.sweep.funcs);
    let _ = offs.try_reserve(types.len() / 24 + 16);
    if SLOTS {
        let _ = slots.try_reserve(types.len() / 24 + 16);
        // Indexed by id: slot 0 is void's.
        slots.push(Slot::VOID);
        // A word per 64 records.
        let _ = visit.try_reserve(types.len() / (24 * 64) + 16);
        let _ = funcs.try_reserve(types.len() / (24 * 64) + 16);
    }
    // With slots, offsets and slots go through two small buffers, moved to
    // the lists CHUNK at a time: two stores per record, placed by its index
    // in the walk, rather than two pushes, each with its capacity check and
    // its length kept in memory. (Offsets alone are pushed: one push costs
    // less than the buffer.) The fast path's bits for the same records
    // gather in two words, with no branch on the kind.
    const CHUNK: usize = 64;
    let mut chunk_offs = [0u32; CHUNK];
    let mut chunk_slots = [Slot::VOID; CHUNK];
    let (mut chunk_visit, mut chunk_funcs) = (0u64, 0u64);
    let mut cur = 0usize;
    let mut id = ctx.first_id;
    let mut flow = Ok(());
    while let Some(rest) = types.get(cur..).filter(|r| !r.is_empty()) {
        let (size, modifier, slot) = match quick::<O>(ctx, &q, rest) {
            Some(passed) => (passed.size, passed.modifier, passed.slot),
            None => match slow(ctx, id, cur, sink) {
                Ok((size, modifier)) => {
                    // Read again: rare (every DATASEC, every fault).
                    let rec = Rec::new(rest, O::ENDIAN, ctx.types_at.saturating_add(cur));
                    (size, modifier, Slot::of(rec.truncated(size)))
                }
                Err(stop) => {
                    flow = Err(stop);
                    break;
                }
            },
        };
        if SLOTS {
            // The record's place in the buffers: its index in the walk.
            let at = id.wrapping_sub(ctx.first_id) as usize % CHUNK;
            #[allow(clippy::indexing_slicing)] // `at` < CHUNK
            {
                chunk_offs[at] = cur as u32;
                chunk_slots[at] = slot;
            }
            chunk_visit |= slot.visit_bit() << at;
            chunk_funcs |= slot.func_bit() << at;
            if at == CHUNK - 1 {
                offs.extend_from_slice(&chunk_offs);
                slots.extend_from_slice(&chunk_slots);
                visit.push(chunk_visit);
                funcs.push(chunk_funcs);
                (chunk_visit, chunk_funcs) = (0, 0);
            }
        } else {
            offs.push(cur as u32);
        }
        if modifier {
            modifiers.push(id);
        }
        // `size` is at most `rest.len()`; ids do not wrap (a blob and its
        // bases hold far fewer than 2^32 records).
        cur += size;
        id = id.wrapping_add(1);
    }
    if SLOTS {
        // What the buffers hold past the last full CHUNK.
        let filled = id.wrapping_sub(ctx.first_id) as usize % CHUNK;
        offs.extend_from_slice(chunk_offs.get(..filled).unwrap_or_default());
        slots.extend_from_slice(chunk_slots.get(..filled).unwrap_or_default());
        if filled > 0 {
            visit.push(chunk_visit);
            funcs.push(chunk_funcs);
        }
    }
    // `btf_add_type` fails with E2BIG once a base blob holds
    // `BTF_MAX_TYPE` entries (void included), and the caller ignores
    // the failure: later records are checked but not registered, so no
    // id reaches them and the resolve pass never sees them. The loop
    // registered every record; those are dropped here.
    let mut complete = true;
    if ctx.base.is_none() {
        // A base's ids start at 1.
        let last = MAX_TYPE_ID - 1;
        let cut = offs.len() > last as usize;
        offs.truncate(last as usize);
        slots.truncate(last as usize + 1);
        modifiers.truncate(modifiers.partition_point(|&id| id <= last));
        // The fast path does not sweep a blob cut short: the walk does.
        complete = !cut;
    }
    // The bits cover each registered type once (a word per 64), unless
    // the walk stopped at a fault (then the fast path does not run).
    let words = slots.len().saturating_sub(1).div_ceil(CHUNK);
    index.offs = offs;
    index.modifiers = modifiers;
    index.slots = slots;
    index.sweep = Sweep {
        complete: SLOTS && complete && flow.is_ok() && visit.len() == words && funcs.len() == words,
        visit,
        funcs,
    };
    flow
}

/// The kinds [`super::resolve::is_modifier`] names (a test holds them
/// to it), a bit per kind number.
const MODIFIERS: u32 = 1 << Kind::TYPEDEF.get()
    | 1 << Kind::VOLATILE.get()
    | 1 << Kind::CONST.get()
    | 1 << Kind::RESTRICT.get()
    | 1 << Kind::TYPE_TAG.get();

/// [`super::resolve::is_modifier`] of kind number `kind`.
#[inline(always)]
fn is_modifier(kind: u8) -> bool {
    MODIFIERS
        .checked_shr(u32::from(kind))
        .is_some_and(|bits| bits & 1 != 0)
}

/// The record at `cur` in the type section, which [`quick()`] did not
/// pass: [`check_meta`] judges it, its fault goes to `sink`, and the walk
/// goes on when the record's size can be told; the size, and whether the
/// record is a modifier.
#[cold]
#[inline(never)]
fn slow(ctx: &Ctx<'_, '_>, id: u32, cur: usize, sink: &mut Sink) -> Result<(usize, bool), Stop> {
    let rest = ctx.types.get(cur..).unwrap_or_default();
    let rec = Rec::new(rest, ctx.p.endian, ctx.types_at.saturating_add(cur));
    let left = rest.len();
    let size = match check_meta(ctx, id, rec, left) {
        Ok(size) => size,
        Err(mut fault) => {
            fault.record = Some(rec.at);
            sink.report(fault)?;
            plain_size(ctx, rec).filter(|&n| n <= left).ok_or(Stop)?
        }
    };
    Ok((size, is_modifier(rec.kind())))
}

/// The size of a record of a kind this kernel knows, from its kind and
/// its `vlen` under the profile's `info` mask (the kind unmasked: one
/// the profile does not know stops the walk).
fn plain_size(ctx: &Ctx<'_, '_>, rec: Rec<'_>) -> Option<usize> {
    if rec.bytes.len() < record::COMMON {
        return None;
    }
    let kind = rec.kind();
    if kind == 0 || kind > ctx.max_kind {
        return None;
    }
    let vlen = Info::new(rec.info().raw() & ctx.info_mask).vlen();
    usize::try_from(record::size(Kind::new(kind), vlen, &[])?).ok()
}

/// `btf_check_meta`: the record's size, or the fault.
fn check_meta(ctx: &Ctx<'_, '_>, id: u32, t: Rec<'_>, left: usize) -> Result<usize, Fault> {
    const COMMON: usize = record::COMMON;
    let at = t.at;
    let bad = |rule| Fault::new(rule, Errno::Inval, Some(id), at);
    if left < COMMON {
        return Err(bad(Rule::MetaTruncated).args(left as u64, COMMON as u64));
    }
    let meta_left = left - COMMON;
    let info = t.info().raw();
    if info & !ctx.info_mask != 0 {
        return Err(bad(Rule::BadInfo).args(u64::from(info), 0));
    }
    let kind = t.kind();
    if kind == 0 || kind > ctx.max_kind {
        return Err(bad(Rule::BadKind).args(u64::from(kind), 0));
    }
    if !ctx.name_offset_valid(t.name_off()) {
        return Err(bad(Rule::NameOffset).args(u64::from(t.name_off()), 0));
    }
    let k = Kind::new(kind);
    // Every kind's `check_meta` starts with the `meta_left:%u
    // meta_needed:%u` check of its tail (0 bytes for the kinds without
    // one, which cannot fail).
    let Some(size) = record::size(k, t.vlen(), &[]) else {
        return Err(bad(Rule::BadKind).args(u64::from(kind), 0));
    };
    let needed = size - COMMON as u64;
    if (meta_left as u64) < needed {
        return Err(bad(Rule::MetaTruncated).args(meta_left as u64, needed));
    }
    match k {
        Kind::INT => int(t, bad)?,
        Kind::PTR
        | Kind::TYPEDEF
        | Kind::VOLATILE
        | Kind::CONST
        | Kind::RESTRICT
        | Kind::TYPE_TAG => ref_type(ctx, t, k, bad)?,
        Kind::FWD => fwd(ctx, t, bad)?,
        Kind::ARRAY => array(t, bad)?,
        Kind::STRUCT | Kind::UNION => composite(ctx, id, t, k, bad)?,
        Kind::ENUM => {
            let names = t.elements::<BtfEnum>(t.vlen() as usize).iter();
            enumeration::<BtfEnum>(ctx, id, t, names.map(|e| e.name_off), bad)?;
        }
        Kind::ENUM64 => {
            let names = t.elements::<BtfEnum64>(t.vlen() as usize).iter();
            enumeration::<BtfEnum64>(ctx, id, t, names.map(|e| e.name_off), bad)?;
        }
        Kind::FUNC_PROTO => func_proto(t, bad)?,
        Kind::FUNC => func(ctx, t, bad)?,
        Kind::VAR => var(ctx, t, bad)?,
        Kind::DATASEC => datasec(ctx, id, t, bad)?,
        Kind::FLOAT => float(t, bad)?,
        Kind::DECL_TAG => decl_tag(ctx, t, bad)?,
        _ => return Err(bad(Rule::BadKind).args(u64::from(kind), 0)),
    }
    // At most `left`, checked above: it fits.
    Ok(size as usize)
}

#[inline(always)]
fn int(t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<(), Fault> {
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    let data = t.int_word();
    if data & IntWord::RESERVED != 0 {
        return Err(bad(Rule::IntData).args(u64::from(data), 0));
    }
    let word = IntWord::decode(data);
    let nr_bits = u32::from(word.bits) + u32::from(word.offset);
    if nr_bits > 128 {
        return Err(bad(Rule::IntBitsOver128));
    }
    if nr_bits.div_ceil(8) > t.st() {
        return Err(bad(Rule::IntBitsOverSize));
    }
    if !matches!(word.encoding, 0 | 1 | 2 | 4) {
        let mut f = bad(Rule::IntEncoding);
        f.errno = Errno::NotSupp;
        return Err(f);
    }
    Ok(())
}

/// `btf_ref_type_check_meta`: PTR, TYPEDEF, VOLATILE, CONST, RESTRICT,
/// TYPE_TAG.
#[inline(always)]
fn ref_type(
    ctx: &Ctx<'_, '_>,
    t: Rec<'_>,
    k: Kind,
    bad: impl Fn(Rule) -> Fault,
) -> Result<(), Fault> {
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.kflag() && !(k == Kind::TYPE_TAG && ctx.p.decl_tag_kflag()) {
        return Err(bad(Rule::KflagNotAllowed));
    }
    if t.st() > MAX_TYPE_ID {
        return Err(bad(Rule::InvalidTypeId));
    }
    let name = t.name_off();
    let ok = match k {
        Kind::TYPEDEF => name != 0 && ctx.identifier(name),
        Kind::TYPE_TAG => !ctx.str_at(name).is_empty(),
        _ => name == 0,
    };
    if !ok {
        return Err(bad(Rule::InvalidName));
    }
    Ok(())
}

#[inline(always)]
fn fwd(ctx: &Ctx<'_, '_>, t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<(), Fault> {
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.st() != 0 {
        return Err(bad(Rule::TypeNotZero));
    }
    if t.name_off() == 0 || !ctx.identifier(t.name_off()) {
        return Err(bad(Rule::InvalidName));
    }
    Ok(())
}

#[inline(always)]
fn array(t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<(), Fault> {
    if t.name_off() != 0 {
        return Err(bad(Rule::InvalidName));
    }
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    if t.st() != 0 {
        return Err(bad(Rule::SizeNotZero));
    }
    let (elem, index, _) = t.array();
    if elem == 0 || elem > MAX_TYPE_ID {
        return Err(bad(Rule::InvalidElem));
    }
    if index == 0 || index > MAX_TYPE_ID {
        return Err(bad(Rule::InvalidIndex));
    }
    Ok(())
}

/// The bit offset of a member of aggregate `t` whose offset word is `raw`.
#[inline(always)]
pub(super) fn member_bit_offset(t: Rec<'_>, raw: u32) -> u32 {
    MemberOffset::decode(raw, t.kflag()).bit_offset
}

#[inline(always)]
fn composite(
    ctx: &Ctx<'_, '_>,
    id: u32,
    t: Rec<'_>,
    k: Kind,
    bad: impl Fn(Rule) -> Fault,
) -> Result<(), Fault> {
    if t.name_off() != 0 && !ctx.identifier(t.name_off()) {
        return Err(bad(Rule::InvalidName));
    }
    let size = t.st();
    let mut last = 0u32;
    for (i, member) in t
        .elements::<BtfMember>(t.vlen() as usize)
        .iter()
        .enumerate()
    {
        let at = t.element_at::<BtfMember>(i);
        let m = |rule| Fault::new(rule, Errno::Inval, Some(id), at);
        let (name, ty) = (member.name_off.get(t.e), member.type_.get(t.e));
        let raw = member.offset.get(t.e);
        if !ctx.name_offset_valid(name) {
            return Err(m(Rule::MemberNameOffset).args(u64::from(name), 0));
        }
        if name != 0 && !ctx.identifier(name) {
            return Err(m(Rule::InvalidName));
        }
        if ty == 0 || ty > MAX_TYPE_ID {
            return Err(m(Rule::InvalidTypeId));
        }
        let off = member_bit_offset(t, raw);
        if k == Kind::UNION && off != 0 {
            return Err(m(Rule::MemberBitsOffset));
        }
        if last > off {
            return Err(m(Rule::MemberBitsOffset));
        }
        if off.div_ceil(8) > size {
            return Err(m(Rule::MemberOffsetPastSize));
        }
        last = off;
    }
    Ok(())
}

/// ENUM (enumerators `E` = [`BtfEnum`]) and ENUM64 ([`BtfEnum64`]), the
/// enumerators' name offsets in `names`.
#[inline(always)]
fn enumeration<E>(
    ctx: &Ctx<'_, '_>,
    id: u32,
    t: Rec<'_>,
    names: impl Iterator<Item = U32>,
    bad: impl Fn(Rule) -> Fault,
) -> Result<(), Fault> {
    let size = t.st();
    if size > 8 || !size.is_power_of_two() {
        return Err(bad(Rule::EnumSize));
    }
    if t.kflag() && !ctx.p.enum_kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    if t.name_off() != 0 && !ctx.identifier(t.name_off()) {
        return Err(bad(Rule::InvalidName));
    }
    for (i, name) in names.enumerate() {
        let at = t.element_at::<E>(i);
        let name = name.get(t.e);
        if !ctx.name_offset_valid(name) {
            return Err(Fault::new(Rule::EnumNameOffset, Errno::Inval, Some(id), at)
                .args(u64::from(name), 0));
        }
        if name == 0 || !ctx.identifier(name) {
            return Err(Fault::new(Rule::InvalidName, Errno::Inval, Some(id), at));
        }
    }
    Ok(())
}

#[inline(always)]
fn func_proto(t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<(), Fault> {
    if t.name_off() != 0 {
        return Err(bad(Rule::InvalidName));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    Ok(())
}

#[inline(always)]
fn func(ctx: &Ctx<'_, '_>, t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<(), Fault> {
    if t.name_off() == 0 || !ctx.identifier(t.name_off()) {
        return Err(bad(Rule::InvalidName));
    }
    if t.vlen() > 1 {
        return Err(bad(Rule::FuncLinkage));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    Ok(())
}

#[inline(always)]
fn var(ctx: &Ctx<'_, '_>, t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<(), Fault> {
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    if t.name_off() == 0 || !ctx.name_valid(t.name_off(), true) {
        return Err(bad(Rule::InvalidName));
    }
    if t.st() == 0 || t.st() > MAX_TYPE_ID {
        return Err(bad(Rule::InvalidTypeId));
    }
    if t.part::<BtfVar>().linkage.get(t.e) > 1 {
        return Err(bad(Rule::VarLinkage));
    }
    Ok(())
}

#[inline(always)]
fn datasec(
    ctx: &Ctx<'_, '_>,
    id: u32,
    t: Rec<'_>,
    bad: impl Fn(Rule) -> Fault,
) -> Result<(), Fault> {
    let size = t.st();
    if size == 0 {
        return Err(bad(Rule::DatasecSizeZero));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    if t.name_off() == 0 || !ctx.section_name(t.name_off()) {
        return Err(bad(Rule::InvalidName));
    }
    let mut last_end = 0u64;
    let mut sum = 0u64;
    let entries = t.elements::<BtfVarSecinfo>(t.vlen() as usize);
    for (i, entry) in entries.iter().enumerate() {
        let at = t.element_at::<BtfVarSecinfo>(i);
        let v = |rule| Fault::new(rule, Errno::Inval, Some(id), at);
        let (ty, off, sz) = (
            entry.type_.get(t.e),
            entry.offset.get(t.e),
            entry.size.get(t.e),
        );
        if ty == 0 || ty > MAX_TYPE_ID {
            return Err(v(Rule::InvalidTypeId));
        }
        if u64::from(off) < last_end || off >= size {
            return Err(v(Rule::VsiOffset));
        }
        if sz == 0 || sz > size {
            return Err(v(Rule::VsiSize));
        }
        // The kernel adds in 32 bits and widens after.
        last_end = u64::from(off.wrapping_add(sz));
        if last_end > u64::from(size) {
            return Err(v(Rule::VsiOffsetSize));
        }
        sum += u64::from(sz);
    }
    if u64::from(size) < sum {
        return Err(bad(Rule::DatasecSum));
    }
    Ok(())
}

#[inline(always)]
fn float(t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<(), Fault> {
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    if !matches!(t.st(), 2 | 4 | 8 | 12 | 16) {
        return Err(bad(Rule::FloatSize));
    }
    Ok(())
}

#[inline(always)]
fn decl_tag(ctx: &Ctx<'_, '_>, t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<(), Fault> {
    if ctx.str_at(t.name_off()).is_empty() {
        return Err(bad(Rule::DeclTagValue));
    }
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.kflag() && !ctx.p.decl_tag_kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    if t.component_idx() < -1 {
        return Err(bad(Rule::ComponentIdx));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::quick::{Quick, quick};
    use super::{Slot, check_meta, is_modifier};
    use crate::Endian;
    use crate::endian::{Be, Le};
    use crate::kernel_check::{Ctx, KernelProfile, Loader, Rec, names};
    use alloc::vec::Vec;

    /// Strings with identifiers, a dotted name, a name with a byte the
    /// kernel refuses, one starting with a digit, and an empty one at 0;
    /// then, from offset 64, three 64-byte blocks of plain names (letters,
    /// digits, '_'; a dotted name and one starting with a digit in the
    /// first), where the blocks tell most names without reading them
    /// ([`names::Identifiers::known`]).
    const STRINGS: &[u8] = b"\0int\0x\0a.b\0.x\0\xff\0_t\09z\0long_name_here\0\
        pad_pad_pad_pad_pad_pad_pa\0\
        alpha\0beta_2\0gamma\0d.e\0x9\x000abc\0epsilon_zeta_eta_theta\0iota\0kappa\0\
        lambda_mu\0nu\0xi_omicron_pi_rho_sigma\0tau\0upsilon\0phi\0chi_psi\0omega_\0\
        one\0two\0three_four\0five\0six\0seven_eight_nine_ten\0eleven\0twelve\0z\0";
    /// Name offsets: none, each short string's start, one inside a
    /// string, past the end; in the plain blocks, names (one dotted, one
    /// starting with a digit), an offset inside a name, and two empty
    /// strings just before known names.
    const NAMES: [u32; 20] = [
        0, 1, 5, 7, 11, 14, 16, 19, 2, 400, 64, 70, 83, 87, 90, 129, 65, 190, 128, 63,
    ];
    /// Words for `size_or_type` and the tail: type ids, sizes, encodings,
    /// bit counts and offsets, and values past every limit.
    const WORDS: [u32; 16] = [
        0,
        1,
        2,
        3,
        4,
        7,
        8,
        16,
        32,
        64,
        0x0100_0020,
        0x0000_0081,
        0x0100_0000,
        0x000f_ffff,
        0xffff_ffff,
        0x2000_0008,
    ];

    /// [`quick`] passes a record only where [`check_meta`] passes it, with
    /// the same size, the modifiers marked and the record's slot, for
    /// records of every kind number (and a few past them) built from words
    /// that sit on each check's edges, under profiles that differ in their
    /// rules, in both byte orders. The report harness compares whole
    /// blobs; this holds the per-record shortcut to its definition
    /// directly.
    #[test]
    fn quick_passes_only_what_check_meta_passes() {
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut passed = 0u32;
        for (major, minor) in [(5, 10), (6, 1), (6, 12), (6, 18), (7, 1)] {
            for endian in [Endian::Little, Endian::Big] {
                let p = KernelProfile::new(major, minor)
                    .with_endian(endian)
                    .with_loader(Loader::User);
                let ctx = Ctx {
                    strings: STRINGS,
                    str_end: STRINGS.len() as u64,
                    idents: names::Identifiers::new(STRINGS, p.relaxed_names(), p.ksym_name_len()),
                    ..Ctx::empty(&p)
                };
                // Names in the plain blocks take the quick answer.
                assert!(ctx.name_known(129), "{major}.{minor}: 'lambda_mu' known");
                assert!(!ctx.name_known(90), "{major}.{minor}: '0abc' not known");
                // The block of 'alpha' holds 'd.e': plain where dots are.
                assert_eq!(ctx.name_known(64), p.relaxed_names(), "{major}.{minor}");
                let q = Quick::new(&ctx);
                for _ in 0..40_000 {
                    let r = next();
                    let kind = (r % 23) as u32;
                    let vlen = ((r >> 8) % 4) as u32;
                    let kflag = (r >> 12) & 7 == 0;
                    // Now and then a bit a profile may leave undefined.
                    let stray = match (r >> 52) & 31 {
                        0 => 1 << 16,
                        1 => 1 << 23,
                        2 => 1 << 29,
                        3 => 1 << 30,
                        _ => 0,
                    };
                    let info = kind << 24 | vlen | u32::from(kflag) << 31 | stray;
                    let pick = |r: u64, at: u32| {
                        let words = (r >> at) as usize;
                        WORDS.get(words % WORDS.len()).copied().unwrap_or(0)
                    };
                    let mut words = alloc::vec![
                        NAMES
                            .get((r >> 16) as usize % NAMES.len())
                            .copied()
                            .unwrap_or(0),
                        info,
                        pick(r, 20),
                    ];
                    let tail = next();
                    for i in 0..12 {
                        // Element names from the names, the rest from the words.
                        let w = if i % 3 == 0 && tail >> (i + 40) & 1 == 0 {
                            NAMES
                                .get((tail >> (i * 4)) as usize % NAMES.len())
                                .copied()
                                .unwrap_or(0)
                        } else {
                            pick(tail, i * 5 % 60)
                        };
                        words.push(w);
                    }
                    // Sometimes cut short.
                    let len = if r >> 60 == 0 {
                        (r >> 56 & 0xf) as usize * 4
                    } else {
                        60
                    };
                    let mut bytes: Vec<u8> = words
                        .iter()
                        .flat_map(|&w| match endian {
                            Endian::Little => w.to_le_bytes(),
                            Endian::Big => w.to_be_bytes(),
                        })
                        .collect();
                    bytes.truncate(len);
                    let quick = match endian {
                        Endian::Little => quick::<Le>(&ctx, &q, &bytes),
                        Endian::Big => quick::<Be>(&ctx, &q, &bytes),
                    };
                    let Some(quick) = quick else { continue };
                    passed += 1;
                    let rec = Rec::new(&bytes, endian, 0);
                    assert_eq!(
                        check_meta(&ctx, 1, rec, bytes.len()).ok(),
                        Some(quick.size),
                        "{major}.{minor} {endian:?}: quick passed {words:08x?} (cut to {len})"
                    );
                    assert_eq!(quick.modifier, is_modifier(kind as u8));
                    // The slot the resolve pass gets is the record's.
                    assert_eq!(
                        quick.slot.word(),
                        Slot::of(rec.truncated(quick.size)).word(),
                        "{major}.{minor} {endian:?}: slot of {words:08x?}"
                    );
                }
            }
        }
        // The words reach the pass side of every kind's checks often.
        assert!(passed > 20_000, "only {passed} records passed");
    }
}
