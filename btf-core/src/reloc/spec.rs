//! Access specs: a relocation's access string walked through the local
//! BTF (libbpf's `bpf_core_parse_spec`), and matched against a candidate
//! target type (`bpf_core_spec_match`), with the type compatibility rules
//! those use.

use super::error::{Mismatch, RelocError};
use super::name::{essential_eq, essential_name};
use super::target::{is_any_enum, kinds_core_compat};
use crate::btf::Btf;
use crate::ext::{AccessSpec, CoreReloKind, MAX_ACCESS_LEN};
use crate::id::{Kind, TypeId};
use crate::types::{Type, TypeKind};
use alloc::vec::Vec;

/// One high-level step of a spec: a named member of the composite
/// `type_id` (its `idx`-th), or an array element (`name` is `None`;
/// `type_id` is then the element type).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Accessor<'a> {
    pub type_id: TypeId,
    pub idx: u32,
    pub name: Option<&'a [u8]>,
}

/// A parsed or matched spec (libbpf's `struct bpf_core_spec`).
#[derive(Clone, Debug)]
pub(crate) struct Spec<'a> {
    pub btf: &'a Btf<'a>,
    pub root: TypeId,
    pub kind: CoreReloKind,
    /// The low-level indices (the access string; for a target, the path
    /// found, anonymous members included).
    pub raw: Vec<u32>,
    /// The high-level accessors.
    pub acc: Vec<Accessor<'a>>,
    /// Bit offset of the field from the root pointer.
    pub bit_offset: u32,
}

impl<'a> Spec<'a> {
    fn empty(btf: &'a Btf<'a>, root: TypeId, kind: CoreReloKind) -> Spec<'a> {
        Spec {
            btf,
            root,
            kind,
            raw: Vec::new(),
            acc: Vec::new(),
            bit_offset: 0,
        }
    }
}

pub(crate) fn skip<'a>(btf: &'a Btf<'a>, id: TypeId) -> Result<Type<'a>, RelocError> {
    btf.skip_mods_and_typedefs(id).map_err(RelocError::Btf)
}

pub(crate) fn size<'a>(btf: &'a Btf<'a>, id: TypeId) -> Result<u32, RelocError> {
    btf.size_of(id)
        .map_err(|_| RelocError::NoSize { type_id: id })
}

/// `idx * size * 8` added to a bit offset, wrapping as libbpf's `__u32`.
fn add_bits(bit_offset: u32, idx: u32, size: u32) -> u32 {
    let bits = i64::from(idx).wrapping_mul(i64::from(size)).wrapping_mul(8);
    bit_offset.wrapping_add(bits as u32)
}

/// Whether the array in the step after `prev` is a flexible array: no
/// elements, and the last member of the struct `prev` named.
fn is_flex_arr(btf: &Btf<'_>, prev: Option<&Accessor<'_>>, nelems: u32) -> bool {
    let Some(prev) = prev else { return false };
    if prev.name.is_none() || nelems > 0 {
        return false;
    }
    btf.type_by_id(prev.type_id)
        .is_ok_and(|t| prev.idx.checked_add(1) == Some(t.vlen()))
}

/// The `idx`-th enumerator's name of an ENUM or ENUM64.
pub(crate) fn enumerator_name<'a>(t: &Type<'a>, idx: u32) -> Option<&'a [u8]> {
    match t.as_kind() {
        TypeKind::Enum(e) => e.values().get(idx as usize)?.name_bytes().ok(),
        TypeKind::Enum64(e) => e.values().get(idx as usize)?.name_bytes().ok(),
        _ => None,
    }
}

/// libbpf's `bpf_core_parse_spec` for the local side.
pub(crate) fn parse_spec<'a>(
    btf: &'a Btf<'a>,
    root: TypeId,
    kind: CoreReloKind,
    access: &AccessSpec<'_>,
) -> Result<Spec<'a>, RelocError> {
    access.check_kind(kind).map_err(RelocError::Access)?;
    let mut spec = Spec::empty(btf, root, kind);
    if kind.is_type_based() {
        return Ok(spec);
    }
    spec.raw.extend(access.iter());
    let mut t = skip(btf, root)?;
    let mut id = t.id();
    let first = access.first();
    if kind.is_enumval_based() {
        if !is_any_enum(t.kind()) {
            return Err(RelocError::NotEnum {
                type_id: id,
                kind: t.kind(),
            });
        }
        let name = enumerator_name(&t, first).ok_or(RelocError::EnumeratorOutOfRange {
            type_id: id,
            idx: first,
            vlen: t.vlen(),
        })?;
        spec.acc.push(Accessor {
            type_id: id,
            idx: first,
            name: Some(name),
        });
        return Ok(spec);
    }
    if !kind.is_field_based() {
        return Err(RelocError::UnknownKind { kind: kind.raw() });
    }
    spec.acc.push(Accessor {
        type_id: id,
        idx: first,
        name: None,
    });
    spec.bit_offset = add_bits(0, first, size(btf, id)?);
    for (pos, idx) in access.iter().enumerate().skip(1) {
        t = skip(btf, id)?;
        id = t.id();
        let pos = pos as u8;
        match t.as_kind() {
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                let m = c
                    .members()
                    .get(idx as usize)
                    .ok_or(RelocError::MemberOutOfRange {
                        pos,
                        type_id: id,
                        idx,
                        vlen: t.vlen(),
                    })?;
                spec.bit_offset = spec.bit_offset.wrapping_add(m.bit_offset());
                if m.name_offset().get() != 0 {
                    let name = m.name_bytes().map_err(RelocError::Btf)?;
                    if name.is_empty() {
                        return Err(RelocError::MemberOutOfRange {
                            pos,
                            type_id: id,
                            idx,
                            vlen: t.vlen(),
                        });
                    }
                    spec.acc.push(Accessor {
                        type_id: id,
                        idx,
                        name: Some(name),
                    });
                }
                id = m.ty();
            }
            TypeKind::Array(a) => {
                let elem = skip(btf, a.elem)?;
                id = elem.id();
                let flex = is_flex_arr(btf, spec.acc.last(), a.nelems);
                if !flex && idx >= a.nelems {
                    return Err(RelocError::ArrayOutOfRange {
                        pos,
                        type_id: t.id(),
                        idx,
                        nelems: a.nelems,
                    });
                }
                spec.acc.push(Accessor {
                    type_id: id,
                    idx,
                    name: None,
                });
                spec.bit_offset = add_bits(spec.bit_offset, idx, size(btf, id)?);
            }
            _ => {
                return Err(RelocError::NotAggregate {
                    pos,
                    type_id: id,
                    kind: t.kind(),
                });
            }
        }
    }
    Ok(spec)
}

/// What matching a spec against a candidate gives.
pub(crate) enum Matched<'t> {
    /// The candidate matches: its spec.
    Yes(Spec<'t>),
    /// It does not, and why.
    No(Mismatch),
}

/// libbpf's `bpf_core_spec_match`.
pub(crate) fn spec_match<'l, 't>(
    local: &Spec<'l>,
    targ_btf: &'t Btf<'t>,
    targ_root: TypeId,
) -> Result<Matched<'t>, RelocError> {
    let mut targ = Spec::empty(targ_btf, targ_root, local.kind);
    if local.kind.is_type_based() {
        let ok = if local.kind == CoreReloKind::TypeMatches {
            types_match(local.btf, local.root, targ_btf, targ_root)?
        } else {
            types_are_compat(local.btf, local.root, targ_btf, targ_root)?
        };
        return Ok(if ok {
            Matched::Yes(targ)
        } else if local.kind == CoreReloKind::TypeMatches {
            Matched::No(Mismatch::TypesDoNotMatch)
        } else {
            Matched::No(Mismatch::TypesIncompatible)
        });
    }
    let Some(first) = local.acc.first() else {
        return Err(RelocError::UnknownKind {
            kind: local.kind.raw(),
        });
    };
    if local.kind.is_enumval_based() {
        let t = skip(targ_btf, targ_root)?;
        if !is_any_enum(t.kind()) {
            return Ok(Matched::No(Mismatch::NotEnum {
                type_id: t.id(),
                kind: t.kind(),
            }));
        }
        let local_name = first.name.unwrap_or_default();
        for i in 0..t.vlen() {
            let Some(name) = enumerator_name(&t, i) else {
                break;
            };
            if essential_eq(local_name, name) {
                targ.acc.push(Accessor {
                    type_id: t.id(),
                    idx: i,
                    name: Some(name),
                });
                targ.raw.push(i);
                return Ok(Matched::Yes(targ));
            }
        }
        return Ok(Matched::No(Mismatch::NoEnumerator { type_id: t.id() }));
    }
    if !local.kind.is_field_based() {
        return Err(RelocError::UnknownKind {
            kind: local.kind.raw(),
        });
    }
    let mut targ_id = targ_root;
    for (i, acc) in local.acc.iter().enumerate() {
        let t = skip(targ_btf, targ_id)?;
        targ_id = t.id();
        let pos = i as u8;
        if acc.name.is_some() {
            match match_member(local.btf, acc, targ_btf, targ_id, &mut targ)? {
                MemberMatch::Found(next) => targ_id = next,
                MemberMatch::NotComposite => {
                    return Ok(Matched::No(Mismatch::NotComposite {
                        pos,
                        type_id: targ_id,
                        kind: t.kind(),
                    }));
                }
                MemberMatch::NotFound { incompatible } => {
                    return Ok(Matched::No(match incompatible {
                        Some(member_type) => Mismatch::MemberIncompatible {
                            pos,
                            type_id: targ_id,
                            member_type,
                        },
                        None => Mismatch::NoMember {
                            pos,
                            type_id: targ_id,
                        },
                    }));
                }
            }
        } else {
            if i > 0 {
                let TypeKind::Array(a) = t.as_kind() else {
                    return Ok(Matched::No(Mismatch::NotArray {
                        pos,
                        type_id: targ_id,
                        kind: t.kind(),
                    }));
                };
                let flex = is_flex_arr(targ_btf, targ.acc.last(), a.nelems);
                if !flex && acc.idx >= a.nelems {
                    return Ok(Matched::No(Mismatch::ArrayOutOfRange {
                        pos,
                        type_id: targ_id,
                        idx: acc.idx,
                        nelems: a.nelems,
                    }));
                }
                targ_id = skip(targ_btf, a.elem)?.id();
            }
            if targ.raw.len() >= MAX_ACCESS_LEN {
                return Err(RelocError::TooDeep);
            }
            targ.acc.push(Accessor {
                type_id: targ_id,
                idx: acc.idx,
                name: None,
            });
            targ.raw.push(acc.idx);
            targ.bit_offset = add_bits(targ.bit_offset, acc.idx, size(targ_btf, targ_id)?);
        }
    }
    Ok(Matched::Yes(targ))
}

enum MemberMatch {
    /// Found; the member's type id (not skipped).
    Found(TypeId),
    NotComposite,
    /// Not found; the type of a member of that name found incompatible,
    /// if any.
    NotFound {
        incompatible: Option<TypeId>,
    },
}

/// libbpf's `bpf_core_match_member`: finds the local accessor's member,
/// by name, in the target composite `targ_id`, through anonymous members,
/// extending `spec` along the way.
fn match_member<'t>(
    local_btf: &Btf<'_>,
    local_acc: &Accessor<'_>,
    targ_btf: &'t Btf<'t>,
    targ_id: TypeId,
    spec: &mut Spec<'t>,
) -> Result<MemberMatch, RelocError> {
    let t = skip(targ_btf, targ_id)?;
    let targ_id = t.id();
    let Some(members) = t.members() else {
        return Ok(MemberMatch::NotComposite);
    };
    let local_t = local_btf
        .type_by_id(local_acc.type_id)
        .map_err(RelocError::Btf)?;
    let local_m = local_t
        .members()
        .and_then(|m| m.get(local_acc.idx as usize))
        .ok_or(RelocError::Btf(crate::Error::NoSuchType {
            id: local_acc.type_id,
        }))?;
    let local_name = local_acc.name.unwrap_or_default();
    let mut incompatible = None;
    for (i, m) in members.enumerate() {
        let bit_offset = m.bit_offset();
        if spec.raw.len() >= MAX_ACCESS_LEN {
            return Err(RelocError::TooDeep);
        }
        spec.bit_offset = spec.bit_offset.wrapping_add(bit_offset);
        spec.raw.push(i as u32);
        let name = m.name_bytes().unwrap_or_default();
        if name.is_empty() {
            match match_member(local_btf, local_acc, targ_btf, m.ty(), spec)? {
                MemberMatch::Found(next) => return Ok(MemberMatch::Found(next)),
                MemberMatch::NotFound {
                    incompatible: Some(ty),
                } => incompatible = Some(ty),
                _ => {}
            }
        } else if name == local_name {
            if fields_are_compat(local_btf, local_m.ty(), targ_btf, m.ty())? {
                spec.acc.push(Accessor {
                    type_id: targ_id,
                    idx: i as u32,
                    name: Some(name),
                });
                return Ok(MemberMatch::Found(m.ty()));
            }
            return Ok(MemberMatch::NotFound {
                incompatible: Some(m.ty()),
            });
        }
        spec.bit_offset = spec.bit_offset.wrapping_sub(bit_offset);
        spec.raw.pop();
    }
    Ok(MemberMatch::NotFound { incompatible })
}

fn is_composite(k: Kind) -> bool {
    k == Kind::STRUCT || k == Kind::UNION
}

fn int_offset(t: &Type<'_>) -> u8 {
    match t.as_kind() {
        TypeKind::Int(i) => i.offset,
        _ => 0,
    }
}

/// Bound on the loops libbpf runs without one (arrays of arrays), so a
/// cyclic BTF cannot spin.
const MAX_CHAIN: usize = 64;

/// libbpf's `bpf_core_fields_are_compat`.
pub(crate) fn fields_are_compat(
    local_btf: &Btf<'_>,
    mut local_id: TypeId,
    targ_btf: &Btf<'_>,
    mut targ_id: TypeId,
) -> Result<bool, RelocError> {
    for _ in 0..MAX_CHAIN {
        let l = local_btf
            .skip_mods_and_typedefs(local_id)
            .map_err(RelocError::Btf)?;
        let t = targ_btf
            .skip_mods_and_typedefs(targ_id)
            .map_err(RelocError::Btf)?;
        if is_composite(l.kind()) && is_composite(t.kind()) {
            return Ok(true);
        }
        if !kinds_core_compat(l.kind(), t.kind()) {
            return Ok(false);
        }
        match (l.as_kind(), t.as_kind()) {
            (TypeKind::Ptr(_), _) | (TypeKind::Float(_), _) => return Ok(true),
            (TypeKind::Fwd(_) | TypeKind::Enum(_) | TypeKind::Enum64(_), _) => {
                let (ln, tn) = (
                    essential_name(l.name_bytes()),
                    essential_name(t.name_bytes()),
                );
                return Ok(ln.is_empty() || tn.is_empty() || ln == tn);
            }
            (TypeKind::Int(_), _) => return Ok(int_offset(&l) == 0 && int_offset(&t) == 0),
            (TypeKind::Array(la), TypeKind::Array(ta)) => {
                local_id = la.elem;
                targ_id = ta.elem;
            }
            _ => return Ok(false),
        }
    }
    Err(RelocError::TooDeep)
}

/// libbpf's `bpf_core_types_are_compat` (type-based relocations other
/// than TYPE_MATCHES).
pub(crate) fn types_are_compat(
    local_btf: &Btf<'_>,
    local_id: TypeId,
    targ_btf: &Btf<'_>,
    targ_id: TypeId,
) -> Result<bool, RelocError> {
    types_are_compat_at(local_btf, local_id, targ_btf, targ_id, 32)
}

fn types_are_compat_at(
    local_btf: &Btf<'_>,
    mut local_id: TypeId,
    targ_btf: &Btf<'_>,
    mut targ_id: TypeId,
    level: i32,
) -> Result<bool, RelocError> {
    let l = local_btf.type_by_id(local_id).map_err(RelocError::Btf)?;
    let t = targ_btf.type_by_id(targ_id).map_err(RelocError::Btf)?;
    if !kinds_core_compat(l.kind(), t.kind()) {
        return Ok(false);
    }
    for _ in 0..32 {
        let l = local_btf
            .skip_mods_and_typedefs(local_id)
            .map_err(RelocError::Btf)?;
        let t = targ_btf
            .skip_mods_and_typedefs(targ_id)
            .map_err(RelocError::Btf)?;
        if !kinds_core_compat(l.kind(), t.kind()) {
            return Ok(false);
        }
        match (l.as_kind(), t.as_kind()) {
            (
                TypeKind::Void
                | TypeKind::Struct(_)
                | TypeKind::Union(_)
                | TypeKind::Enum(_)
                | TypeKind::Fwd(_)
                | TypeKind::Enum64(_),
                _,
            ) => return Ok(true),
            (TypeKind::Int(_), _) => return Ok(int_offset(&l) == 0 && int_offset(&t) == 0),
            (TypeKind::Ptr(lp), TypeKind::Ptr(tp)) => {
                local_id = lp;
                targ_id = tp;
            }
            (TypeKind::Array(la), TypeKind::Array(ta)) => {
                local_id = la.elem;
                targ_id = ta.elem;
            }
            (TypeKind::FuncProto(lf), TypeKind::FuncProto(tf)) => {
                if l.vlen() != t.vlen() {
                    return Ok(false);
                }
                for (lp, tp) in lf.params().zip(tf.params()) {
                    if level <= 0 {
                        return Err(RelocError::TooDeep);
                    }
                    let lid = local_btf
                        .skip_mods_and_typedefs(lp.ty())
                        .map_err(RelocError::Btf)?
                        .id();
                    let tid = targ_btf
                        .skip_mods_and_typedefs(tp.ty())
                        .map_err(RelocError::Btf)?
                        .id();
                    if !types_are_compat_at(local_btf, lid, targ_btf, tid, level - 1)? {
                        return Ok(false);
                    }
                }
                local_id = local_btf
                    .skip_mods_and_typedefs(lf.return_type())
                    .map_err(RelocError::Btf)?
                    .id();
                targ_id = targ_btf
                    .skip_mods_and_typedefs(tf.return_type())
                    .map_err(RelocError::Btf)?
                    .id();
            }
            _ => return Ok(false),
        }
    }
    Err(RelocError::TooDeep)
}

/// libbpf's `bpf_core_names_match`: an anonymous target matches only an
/// anonymous local; otherwise essential names must be equal.
fn names_match(local: &[u8], targ: &[u8]) -> bool {
    if targ.is_empty() {
        return local.is_empty();
    }
    essential_eq(local, targ)
}

/// libbpf's `bpf_core_types_match` (TYPE_MATCHES).
pub(crate) fn types_match(
    local_btf: &Btf<'_>,
    local_id: TypeId,
    targ_btf: &Btf<'_>,
    targ_id: TypeId,
) -> Result<bool, RelocError> {
    types_match_at(local_btf, local_id, targ_btf, targ_id, false, 32)
}

fn types_match_at(
    local_btf: &Btf<'_>,
    mut local_id: TypeId,
    targ_btf: &Btf<'_>,
    mut targ_id: TypeId,
    mut behind_ptr: bool,
    level: i32,
) -> Result<bool, RelocError> {
    if level <= 0 {
        return Err(RelocError::TooDeep);
    }
    for _ in 0..32 {
        let l = local_btf
            .skip_mods_and_typedefs(local_id)
            .map_err(RelocError::Btf)?;
        let t = targ_btf
            .skip_mods_and_typedefs(targ_id)
            .map_err(RelocError::Btf)?;
        if !names_match(l.name_bytes(), t.name_bytes()) {
            return Ok(false);
        }
        let (lk, tk) = (l.kind(), t.kind());
        match l.as_kind() {
            TypeKind::Void => return Ok(lk == tk),
            TypeKind::Fwd(lf) => {
                let tf = t.kflag();
                return Ok(if behind_ptr && lk != tk {
                    (tk == Kind::STRUCT && !lf.is_union) || (tk == Kind::UNION && lf.is_union)
                } else {
                    lk == tk && lf.is_union == tf
                });
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) => {
                if !is_any_enum(tk) {
                    return Ok(false);
                }
                return Ok(enums_match(&l, &t));
            }
            TypeKind::Struct(_) | TypeKind::Union(_) => {
                if behind_ptr {
                    if lk == tk {
                        return Ok(true);
                    }
                    if tk != Kind::FWD {
                        return Ok(false);
                    }
                    return Ok((lk == Kind::UNION) == t.kflag());
                }
                if lk != tk {
                    return Ok(false);
                }
                return composites_match(local_btf, &l, targ_btf, &t, behind_ptr, level);
            }
            TypeKind::Int(li) => {
                let TypeKind::Int(ti) = t.as_kind() else {
                    return Ok(false);
                };
                return Ok(li.size == ti.size && li.is_signed() == ti.is_signed());
            }
            TypeKind::Ptr(lp) => {
                let TypeKind::Ptr(tp) = t.as_kind() else {
                    return Ok(false);
                };
                behind_ptr = true;
                local_id = lp;
                targ_id = tp;
            }
            TypeKind::Array(la) => {
                let TypeKind::Array(ta) = t.as_kind() else {
                    return Ok(false);
                };
                if la.nelems != ta.nelems {
                    return Ok(false);
                }
                local_id = la.elem;
                targ_id = ta.elem;
            }
            TypeKind::FuncProto(lf) => {
                let TypeKind::FuncProto(tf) = t.as_kind() else {
                    return Ok(false);
                };
                if l.vlen() != t.vlen() {
                    return Ok(false);
                }
                for (lp, tp) in lf.params().zip(tf.params()) {
                    if !types_match_at(
                        local_btf,
                        lp.ty(),
                        targ_btf,
                        tp.ty(),
                        behind_ptr,
                        level - 1,
                    )? {
                        return Ok(false);
                    }
                }
                local_id = lf.return_type();
                targ_id = tf.return_type();
            }
            _ => return Ok(false),
        }
    }
    Err(RelocError::TooDeep)
}

fn enum_names<'a>(t: &Type<'a>) -> impl Iterator<Item = &'a [u8]> + 'a {
    let t = *t;
    (0..t.vlen()).map_while(move |i| enumerator_name(&t, i))
}

/// libbpf's `bpf_core_enums_match`.
fn enums_match(l: &Type<'_>, t: &Type<'_>) -> bool {
    if l.size_or_type() != t.size_or_type() || l.vlen() > t.vlen() {
        return false;
    }
    enum_names(l).all(|ln| enum_names(t).any(|tn| names_match(ln, tn)))
}

/// libbpf's `bpf_core_composites_match`.
fn composites_match(
    local_btf: &Btf<'_>,
    l: &Type<'_>,
    targ_btf: &Btf<'_>,
    t: &Type<'_>,
    behind_ptr: bool,
    level: i32,
) -> Result<bool, RelocError> {
    let (Some(lms), Some(tms)) = (l.members(), t.members()) else {
        return Ok(false);
    };
    if l.vlen() > t.vlen() {
        return Ok(false);
    }
    for lm in lms {
        let ln = lm.name_bytes().unwrap_or_default();
        let mut matched = false;
        for tm in tms.clone() {
            if !names_match(ln, tm.name_bytes().unwrap_or_default()) {
                continue;
            }
            if types_match_at(local_btf, lm.ty(), targ_btf, tm.ty(), behind_ptr, level - 1)? {
                matched = true;
                break;
            }
        }
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}
