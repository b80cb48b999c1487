//! The meta pass: `btf_check_all_metas`, `btf_check_meta` and each kind's
//! `check_meta`, record by record in id order.

use super::limits::{INT_MASK, MAX_TYPE_ID};
use super::reject::{Errno, Rule};
use super::{Ctx, Fault, Rec, Sink, Stop, words3};
use crate::id::Kind;

/// Walks the type section, checking each record and filling `ctx.offs`,
/// and `ctx.slots` when `slots` (the resolve pass needs them).
pub(super) fn check_all(ctx: &mut Ctx<'_, '_>, slots: bool, sink: &mut Sink) -> Result<(), Stop> {
    let types = ctx.types;
    let _ = ctx.offs.try_reserve(types.len() / 24 + 16);
    if slots {
        let _ = ctx.slots.try_reserve(types.len() / 24 + 16);
    }
    let mut cur = 0usize;
    let mut id = ctx.first_id;
    while cur < types.len() {
        let left = types.len() - cur;
        let rec = Rec::new(
            types.get(cur..).unwrap_or_default(),
            ctx.p.endian,
            ctx.types_at.saturating_add(cur),
        );
        let size = match check_meta(ctx, id, rec, left) {
            Ok(size) => size,
            Err(mut fault) => {
                fault.record = Some(rec.at);
                sink.report(fault)?;
                // Go on only when the record's size can be told.
                match plain_size(ctx, rec).filter(|&n| n <= left) {
                    Some(n) => n,
                    None => return Err(Stop),
                }
            }
        };
        // `btf_add_type` fails with E2BIG once a base blob holds
        // `BTF_MAX_TYPE` entries (void included), and the caller ignores
        // the failure: later records are checked but not registered, so
        // no id reaches them and the resolve pass never sees them.
        if ctx.base.is_some() || id < MAX_TYPE_ID {
            ctx.offs.push(cur as u32);
            if slots {
                ctx.slots
                    .push(super::resolve::Slot::of(rec.truncated(size)));
            }
        }
        cur = cur.saturating_add(size);
        id = id.saturating_add(1);
    }
    Ok(())
}

/// The size of a record of a kind this kernel knows, from its kind and vlen.
fn plain_size(ctx: &Ctx<'_, '_>, rec: Rec<'_>) -> Option<usize> {
    if rec.bytes.len() < 12 {
        return None;
    }
    let kind = rec.kind();
    if kind == 0 || kind > ctx.max_kind {
        return None;
    }
    let vlen = (rec.info() & ctx.info_mask & 0x00ff_ffff) as usize;
    let (info_sz, elem_sz) = Kind::new(kind).record_layout()?;
    Some(12 + usize::from(info_sz) + vlen.saturating_mul(usize::from(elem_sz)))
}

/// `btf_check_meta`: the record's size, or the fault.
fn check_meta(ctx: &Ctx<'_, '_>, id: u32, t: Rec<'_>, left: usize) -> Result<usize, Fault> {
    let at = t.at;
    let bad = |rule| Fault::new(rule, Errno::Inval, Some(id), at);
    if left < 12 {
        return Err(bad(Rule::MetaTruncated).args(left as u64, 12));
    }
    let meta_left = left - 12;
    let info = t.info();
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
    let extra = match k {
        Kind::INT => int(ctx, t, meta_left, bad)?,
        Kind::PTR
        | Kind::TYPEDEF
        | Kind::VOLATILE
        | Kind::CONST
        | Kind::RESTRICT
        | Kind::TYPE_TAG => ref_type(ctx, t, k, bad)?,
        Kind::FWD => fwd(ctx, t, bad)?,
        Kind::ARRAY => array(t, meta_left, bad)?,
        Kind::STRUCT | Kind::UNION => composite(ctx, id, t, k, meta_left, bad)?,
        Kind::ENUM => enumeration(ctx, id, t, meta_left, 2, bad)?,
        Kind::ENUM64 => enumeration(ctx, id, t, meta_left, 3, bad)?,
        Kind::FUNC_PROTO => func_proto(t, meta_left, bad)?,
        Kind::FUNC => func(ctx, t, bad)?,
        Kind::VAR => var(ctx, t, meta_left, bad)?,
        Kind::DATASEC => datasec(ctx, id, t, meta_left, bad)?,
        Kind::FLOAT => float(t, bad)?,
        Kind::DECL_TAG => decl_tag(ctx, t, meta_left, bad)?,
        _ => return Err(bad(Rule::BadKind).args(u64::from(kind), 0)),
    };
    Ok(12 + extra)
}

/// The `meta_left:%u meta_needed:%u` check.
fn need(meta_left: usize, needed: u64, bad: impl Fn(Rule) -> Fault) -> Result<usize, Fault> {
    if (meta_left as u64) < needed {
        return Err(bad(Rule::MetaTruncated).args(meta_left as u64, needed));
    }
    Ok(needed as usize)
}

fn int(
    ctx: &Ctx<'_, '_>,
    t: Rec<'_>,
    meta_left: usize,
    bad: impl Fn(Rule) -> Fault,
) -> Result<usize, Fault> {
    let needed = need(meta_left, 4, &bad)?;
    let _ = ctx;
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    let data = t.extra(0);
    if data & !INT_MASK != 0 {
        return Err(bad(Rule::IntData).args(u64::from(data), 0));
    }
    let nr_bits = (data & 0xff) + ((data >> 16) & 0xff);
    if nr_bits > 128 {
        return Err(bad(Rule::IntBitsOver128));
    }
    if nr_bits.div_ceil(8) > t.st() {
        return Err(bad(Rule::IntBitsOverSize));
    }
    let encoding = (data >> 24) & 0x0f;
    if !matches!(encoding, 0 | 1 | 2 | 4) {
        let mut f = bad(Rule::IntEncoding);
        f.errno = Errno::NotSupp;
        return Err(f);
    }
    Ok(needed)
}

/// `btf_ref_type_check_meta`: PTR, TYPEDEF, VOLATILE, CONST, RESTRICT,
/// TYPE_TAG.
fn ref_type(
    ctx: &Ctx<'_, '_>,
    t: Rec<'_>,
    k: Kind,
    bad: impl Fn(Rule) -> Fault,
) -> Result<usize, Fault> {
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
    Ok(0)
}

fn fwd(ctx: &Ctx<'_, '_>, t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<usize, Fault> {
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.st() != 0 {
        return Err(bad(Rule::TypeNotZero));
    }
    if t.name_off() == 0 || !ctx.identifier(t.name_off()) {
        return Err(bad(Rule::InvalidName));
    }
    Ok(0)
}

fn array(t: Rec<'_>, meta_left: usize, bad: impl Fn(Rule) -> Fault) -> Result<usize, Fault> {
    let needed = need(meta_left, 12, &bad)?;
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
    let (elem, index) = (t.extra(0), t.extra(1));
    if elem == 0 || elem > MAX_TYPE_ID {
        return Err(bad(Rule::InvalidElem));
    }
    if index == 0 || index > MAX_TYPE_ID {
        return Err(bad(Rule::InvalidIndex));
    }
    Ok(needed)
}

/// The bit offset of a member: the low 24 bits with the kind flag.
pub(super) fn member_bit_offset(t: Rec<'_>, raw: u32) -> u32 {
    if t.kflag() { raw & 0x00ff_ffff } else { raw }
}

fn composite(
    ctx: &Ctx<'_, '_>,
    id: u32,
    t: Rec<'_>,
    k: Kind,
    meta_left: usize,
    bad: impl Fn(Rule) -> Fault,
) -> Result<usize, Fault> {
    let vlen = t.vlen() as usize;
    let needed = need(meta_left, vlen as u64 * 12, &bad)?;
    if t.name_off() != 0 && !ctx.identifier(t.name_off()) {
        return Err(bad(Rule::InvalidName));
    }
    let size = t.st();
    let mut last = 0u32;
    for (i, member) in t.elems::<12>(vlen).iter().enumerate() {
        let at = t.elem_at(0, 12, i);
        let m = |rule| Fault::new(rule, Errno::Inval, Some(id), at);
        let [name, ty, raw] = words3(t.e, member);
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
    Ok(needed)
}

/// ENUM (`words` 2) and ENUM64 (`words` 3).
fn enumeration(
    ctx: &Ctx<'_, '_>,
    id: u32,
    t: Rec<'_>,
    meta_left: usize,
    words: usize,
    bad: impl Fn(Rule) -> Fault,
) -> Result<usize, Fault> {
    let vlen = t.vlen() as usize;
    let needed = need(meta_left, vlen as u64 * (words as u64 * 4), &bad)?;
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
    // The name is the first word of an enumerator (8 bytes, or 12 for
    // ENUM64).
    let names = t
        .bytes
        .get(12..)
        .unwrap_or_default()
        .chunks(words * 4)
        .take(vlen)
        .filter_map(|e| e.first_chunk::<4>());
    for (i, name) in names.enumerate() {
        let at = t.elem_at(0, words * 4, i);
        let name = t.e.read_u32(*name);
        if !ctx.name_offset_valid(name) {
            return Err(Fault::new(Rule::EnumNameOffset, Errno::Inval, Some(id), at)
                .args(u64::from(name), 0));
        }
        if name == 0 || !ctx.identifier(name) {
            return Err(Fault::new(Rule::InvalidName, Errno::Inval, Some(id), at));
        }
    }
    Ok(needed)
}

fn func_proto(t: Rec<'_>, meta_left: usize, bad: impl Fn(Rule) -> Fault) -> Result<usize, Fault> {
    let needed = need(meta_left, u64::from(t.vlen()) * 8, &bad)?;
    if t.name_off() != 0 {
        return Err(bad(Rule::InvalidName));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    Ok(needed)
}

fn func(ctx: &Ctx<'_, '_>, t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<usize, Fault> {
    if t.name_off() == 0 || !ctx.identifier(t.name_off()) {
        return Err(bad(Rule::InvalidName));
    }
    if t.vlen() > 1 {
        return Err(bad(Rule::FuncLinkage));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    Ok(0)
}

fn var(
    ctx: &Ctx<'_, '_>,
    t: Rec<'_>,
    meta_left: usize,
    bad: impl Fn(Rule) -> Fault,
) -> Result<usize, Fault> {
    let needed = need(meta_left, 4, &bad)?;
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
    if t.extra(0) > 1 {
        return Err(bad(Rule::VarLinkage));
    }
    Ok(needed)
}

fn datasec(
    ctx: &Ctx<'_, '_>,
    id: u32,
    t: Rec<'_>,
    meta_left: usize,
    bad: impl Fn(Rule) -> Fault,
) -> Result<usize, Fault> {
    let vlen = t.vlen() as usize;
    let needed = need(meta_left, vlen as u64 * 12, &bad)?;
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
    for (i, entry) in t.elems::<12>(vlen).iter().enumerate() {
        let at = t.elem_at(0, 12, i);
        let v = |rule| Fault::new(rule, Errno::Inval, Some(id), at);
        let [ty, off, sz] = words3(t.e, entry);
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
    Ok(needed)
}

fn float(t: Rec<'_>, bad: impl Fn(Rule) -> Fault) -> Result<usize, Fault> {
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    if !matches!(t.st(), 2 | 4 | 8 | 12 | 16) {
        return Err(bad(Rule::FloatSize));
    }
    Ok(0)
}

fn decl_tag(
    ctx: &Ctx<'_, '_>,
    t: Rec<'_>,
    meta_left: usize,
    bad: impl Fn(Rule) -> Fault,
) -> Result<usize, Fault> {
    let needed = need(meta_left, 4, &bad)?;
    if ctx.str_at(t.name_off()).is_empty() {
        return Err(bad(Rule::DeclTagValue));
    }
    if t.vlen() != 0 {
        return Err(bad(Rule::VlenNotZero));
    }
    if t.kflag() && !ctx.p.decl_tag_kflag() {
        return Err(bad(Rule::KflagNotAllowed));
    }
    if (t.extra(0) as i32) < -1 {
        return Err(bad(Rule::ComponentIdx));
    }
    Ok(needed)
}
