//! Candidates for the few names an object set needs, found in one scan of
//! each target instead of an index of every name.
//!
//! [`Targets::candidates`](crate::reloc::Targets::candidates) builds an
//! essential-name index of the whole target on first use: right for a
//! loader relocating many objects against one kernel, but for one run
//! over a handful of names one pass that looks at each type's name once
//! costs a fraction of it. The result is the same list: the target's own
//! types whose essential name is the local type's and whose kind is
//! compatible, vmlinux's in id order, then (when vmlinux has none) each
//! module's in order — libbpf's rule.

use crate::btf::Btf;
use crate::id::{Kind, TypeId};
use crate::reloc::{Candidate, essential_name};
use alloc::vec::Vec;
use hashbrown::HashMap;

/// libbpf's `btf_kind_core_compat`: the same kind, or both enums.
pub(crate) fn kinds_compat(a: Kind, b: Kind) -> bool {
    let any_enum = |k: Kind| k == Kind::ENUM || k == Kind::ENUM64;
    a == b || (any_enum(a) && any_enum(b))
}

/// Every own type of each target whose essential name is one of the
/// names asked for, by name.
pub(crate) struct Found<'n> {
    /// Name → index into `ids`.
    names: HashMap<&'n [u8], usize>,
    /// Per name, per target (0 = vmlinux), the ids in order.
    ids: Vec<Vec<Vec<TypeId>>>,
}

impl<'n> Found<'n> {
    /// Scans `targets` (vmlinux first, then modules) for `names`
    /// (essential names).
    pub(crate) fn scan(targets: &[&Btf<'_>], names: impl IntoIterator<Item = &'n [u8]>) -> Self {
        let mut map: HashMap<&'n [u8], usize> = HashMap::new();
        for n in names {
            let next = map.len();
            map.entry(n).or_insert(next);
        }
        let mut ids = alloc::vec![alloc::vec![Vec::new(); targets.len()]; map.len()];
        // A name whose first byte starts no wanted name cannot match:
        // most types are rejected on that byte, before any hashing.
        let mut first = [false; 256];
        let mut shortest = usize::MAX;
        for n in map.keys() {
            if let Some(&b) = n.first() {
                first[usize::from(b)] = true;
            }
            shortest = shortest.min(n.len());
        }
        for (t, btf) in targets.iter().enumerate() {
            for ty in btf.types() {
                let name = ty.name_bytes();
                match name.first() {
                    Some(&b) if first[usize::from(b)] && name.len() >= shortest => {}
                    _ => continue,
                }
                if let Some(&i) = map.get(essential_name(name))
                    && let Some(slot) = ids.get_mut(i).and_then(|per| per.get_mut(t))
                {
                    slot.push(ty.id());
                }
            }
        }
        Found { names: map, ids }
    }

    /// The candidates for a local type named `name` (not yet stripped)
    /// of kind `kind`, as libbpf lists them: vmlinux's, else every
    /// module's in order. Empty for a name not scanned for.
    pub(crate) fn candidates(
        &self,
        targets: &[&Btf<'_>],
        name: &[u8],
        kind: Kind,
    ) -> Vec<Candidate> {
        let mut out = Vec::new();
        let Some(per) = self
            .names
            .get(essential_name(name))
            .and_then(|&i| self.ids.get(i))
        else {
            return out;
        };
        for (t, ids) in per.iter().enumerate() {
            // Modules only when vmlinux has none.
            if t == 1 && !out.is_empty() {
                break;
            }
            let Some(btf) = targets.get(t) else { break };
            for &id in ids {
                if btf
                    .type_by_id(id)
                    .is_ok_and(|ty| kinds_compat(ty.kind(), kind))
                {
                    out.push(Candidate {
                        target: t as u32,
                        id,
                    });
                }
            }
        }
        out
    }
}
