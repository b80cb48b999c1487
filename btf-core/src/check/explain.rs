//! Why a relocation is poisoned or fails on a kernel, in C terms: `struct
//! task_struct has no member `state``, `this kernel has no struct
//! bpf_iter_task`, `` `struct sk_buff.len` is `__u16` in this kernel,
//! incompatible with the program's `unsigned int` ``.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::btf::Btf;
use crate::diff::spell::spell;
use crate::ext::CoreRelo;
use crate::id::{Kind, TypeId};
use crate::reloc::{
    Ambiguity, Mismatch, RelocError, Resolution, Spec, Targets, essential_name, parse_spec,
    type_in_c,
};

/// Why `relo` is poisoned on this kernel (`res` is its resolution).
pub(super) fn poison(
    local: &Btf<'_>,
    targets: &Targets<'_>,
    relo: &CoreRelo,
    res: &Resolution,
) -> String {
    let spec = relo
        .access_spec(local)
        .ok()
        .and_then(|access| parse_spec(local, relo.type_id, relo.kind, &access).ok());
    if res.fail_memsz_adjust {
        let what = spec
            .as_ref()
            .map_or_else(|| type_in_c(local, relo.type_id), |s| path(s, usize::MAX));
        return format!(
            "`{what}` is {} bytes in this kernel and {} in the program: libbpf resizes a \
             load only for unsigned integers and pointers",
            res.new_size, res.orig_size
        );
    }
    let rejected: Vec<String> = res
        .tried
        .iter()
        .filter_map(|(cand, why)| {
            let btf = targets.btf_of(*cand)?;
            let why = why.as_ref()?;
            Some(mismatch(local, spec.as_ref(), btf, cand.id, why))
        })
        .collect();
    match rejected.len() {
        0 => missing(local, relo.type_id),
        1 => rejected.into_iter().next().unwrap_or_default(),
        n => {
            let mut out = format!("none of {n} candidates fits: ");
            out.push_str(&rejected.join("; "));
            out
        }
    }
}

/// Why `relo` fails outright on this kernel.
pub(super) fn failure(
    local: &Btf<'_>,
    targets: &Targets<'_>,
    relo: &CoreRelo,
    error: &RelocError,
) -> String {
    match *error {
        RelocError::Ambiguous { first, second, why } => {
            let spelled = |c: crate::reloc::Candidate| {
                let btf = targets.btf_of(c);
                let name = btf.map_or_else(|| format!("[{}]", c.id), |b| type_in_c(b, c.id));
                let place = targets.get(c.target).map_or("?", |t| t.name());
                format!("{name} [{}] in {place}", c.id)
            };
            let how = match why {
                Ambiguity::Offset { first, second } => format!(
                    "the field is at byte {} in one and {} in the other",
                    first / 8,
                    second / 8
                ),
                Ambiguity::Decision { first, second } => {
                    let show =
                        |v: Option<u64>| v.map_or_else(|| "missing".into(), |v| format!("{v}"));
                    format!("{} against {}", show(first), show(second))
                }
            };
            format!(
                "ambiguous: {} and {} both fit and disagree ({how}); libbpf refuses the object",
                spelled(first),
                spelled(second)
            )
        }
        RelocError::Patch(e) => format!(
            "the instruction cannot take this kernel's value: {e}; libbpf refuses the object"
        ),
        RelocError::Anonymous { .. } => format!(
            "{} is anonymous: libbpf searches no kernel type for it and refuses the object",
            type_in_c(local, relo.type_id)
        ),
        ref e => format!("{e}; libbpf refuses the object"),
    }
}

/// `this kernel has no struct task_struct` (the essential name of the
/// local root type).
fn missing(local: &Btf<'_>, id: TypeId) -> String {
    let Ok(t) = local.type_by_id(id) else {
        return format!("this kernel has no type for local type [{id}]");
    };
    let keyword = match t.kind() {
        Kind::STRUCT => "struct ",
        Kind::UNION => "union ",
        Kind::ENUM | Kind::ENUM64 => "enum ",
        Kind::TYPEDEF => "typedef ",
        Kind::FWD if t.kflag() => "union ",
        Kind::FWD => "struct ",
        _ => "type ",
    };
    let name = String::from_utf8_lossy(essential_name(t.name_bytes()));
    format!("this kernel has no {keyword}{name}")
}

/// The local path up to and including accessor `upto`:
/// `struct task_struct.se.vruntime`, `struct foo[1].arr[2]`.
fn path(spec: &Spec<'_>, upto: usize) -> String {
    let mut out = type_in_c(spec.btf, spec.root);
    for (i, acc) in spec.acc.iter().enumerate().take(upto.saturating_add(1)) {
        match acc.name {
            Some(name) if i > 0 || !spec.kind.is_enumval_based() => {
                let _ = write!(out, ".{}", String::from_utf8_lossy(name));
            }
            Some(_) => {}
            None if i > 0 || acc.idx > 0 => {
                let _ = write!(out, "[{}]", acc.idx);
            }
            None => {}
        }
    }
    out
}

/// The name of accessor `pos`, if it is a named member or enumerator.
fn name_at(spec: Option<&Spec<'_>>, pos: u8) -> String {
    spec.and_then(|s| s.acc.get(usize::from(pos)))
        .and_then(|a| a.name)
        .map_or_else(|| "?".into(), |n| String::from_utf8_lossy(n).into_owned())
}

/// Why candidate `cand` of `targ` does not fit, in C terms.
fn mismatch(
    local: &Btf<'_>,
    spec: Option<&Spec<'_>>,
    targ: &Btf<'_>,
    cand: TypeId,
    why: &Mismatch,
) -> String {
    let before = |pos: u8| {
        spec.map_or_else(
            || type_in_c(targ, cand),
            |s| path(s, usize::from(pos).saturating_sub(1)),
        )
    };
    match *why {
        Mismatch::NoMember { pos, type_id } => {
            let holder = type_in_c(targ, type_id);
            let holder = if holder.ends_with("(anon)") {
                format!("`{}`", before(pos))
            } else {
                holder
            };
            format!("{holder} has no member `{}`", name_at(spec, pos))
        }
        Mismatch::MemberIncompatible {
            pos, member_type, ..
        } => {
            let theirs = spell(targ, member_type);
            let ours = spec
                .and_then(|s| s.acc.get(usize::from(pos)))
                .and_then(|a| {
                    let t = local.type_by_id(a.type_id).ok()?;
                    let m = t.members()?.get(a.idx as usize)?;
                    Some(spell(local, m.ty()))
                })
                .unwrap_or_else(|| "?".into());
            let at = spec.map_or_else(|| type_in_c(targ, cand), |s| path(s, usize::from(pos)));
            format!("`{at}` is `{theirs}` in this kernel, incompatible with the program's `{ours}`")
        }
        Mismatch::NotComposite { pos, type_id, .. } => format!(
            "`{}` is `{}` in this kernel, not a struct or union",
            before(pos),
            spell(targ, type_id)
        ),
        Mismatch::NotArray { pos, type_id, .. } => format!(
            "`{}` is `{}` in this kernel, not an array",
            before(pos),
            spell(targ, type_id)
        ),
        Mismatch::ArrayOutOfRange {
            pos, idx, nelems, ..
        } => format!(
            "`{}` has {nelems} elements in this kernel; the program uses element {idx}",
            before(pos)
        ),
        Mismatch::TypesIncompatible => format!(
            "{} in this kernel is not compatible with the program's {}",
            type_in_c(targ, cand),
            type_in_c(local, spec.map_or(cand, |s| s.root))
        ),
        Mismatch::TypesDoNotMatch => format!(
            "{} in this kernel does not match the program's definition (members, sizes or \
             values differ)",
            type_in_c(targ, cand)
        ),
        Mismatch::NotEnum { type_id, .. } => {
            format!("`{}` in this kernel is not an enum", spell(targ, type_id))
        }
        Mismatch::NoEnumerator { type_id } => format!(
            "{} has no value `{}` in this kernel",
            type_in_c(targ, type_id),
            name_at(spec, 0)
        ),
    }
}
