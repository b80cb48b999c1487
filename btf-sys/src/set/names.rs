//! One hash index of every type name in a [`KernelBtf`](super::KernelBtf):
//! vmlinux's types and each module's own, so that a lookup across the set
//! is one probe, not a scan of every blob.

use btf_core::{Btf, Kind, TypeId};
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use std::hash::BuildHasher;

use super::ModuleBtf;

/// The end of a chain of hits.
const END: u32 = u32::MAX;

/// A named type of the set.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hit {
    /// 0 for vmlinux, `i + 1` for module `i`.
    pub(super) owner: u32,
    /// Its id.
    pub(super) id: TypeId,
    /// Its kind.
    pub(super) kind: Kind,
}

/// Every named type of a set, by name. Hits of one name are chained in
/// set order (vmlinux, then the modules in order; ids ascending within
/// each), which is the order lookups answer in.
#[derive(Debug, Default)]
pub(super) struct SetNames {
    /// Index into `names` of each distinct name.
    table: HashTable<u32>,
    /// Each distinct name: where its text lies, and its first hit.
    names: Vec<Name>,
    hits: Vec<Hit>,
    /// The next hit of the same name, or [`END`].
    next: Vec<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

/// A distinct name: its text (a type of the set whose name it is) and its
/// chain of hits.
#[derive(Clone, Copy, Debug)]
struct Name {
    first: u32,
    last: u32,
}

impl SetNames {
    /// Indexes vmlinux's types and each module's own types.
    pub(super) fn build(vmlinux: &Btf<'_>, modules: &[ModuleBtf]) -> SetNames {
        let mut set = SetNames::default();
        let views: Vec<Btf<'_>> = modules.iter().map(ModuleBtf::btf).collect();
        let owner_view = |owner: u32| -> &Btf<'_> {
            match owner.checked_sub(1) {
                None => vmlinux,
                Some(i) => views.get(i as usize).unwrap_or(vmlinux),
            }
        };
        for (owner, btf) in (0u32..).zip(std::iter::once(vmlinux).chain(views.iter())) {
            for ty in btf.types() {
                let name = ty.name_bytes();
                if name.is_empty() {
                    continue;
                }
                let Ok(at) = u32::try_from(set.hits.len()) else {
                    // More than 4 billion named types: the rest go unindexed.
                    return set;
                };
                set.hits.push(Hit {
                    owner,
                    id: ty.id(),
                    kind: ty.kind(),
                });
                set.next.push(END);
                let hash = set.hasher.hash_one(name);
                let SetNames {
                    table,
                    names,
                    hits,
                    next,
                    hasher,
                } = &mut set;
                let text = |entry: u32| -> &[u8] {
                    names
                        .get(entry as usize)
                        .and_then(|n| hits.get(n.first as usize))
                        .and_then(|hit| owner_view(hit.owner).type_by_id(hit.id).ok())
                        .map_or(&[][..], |t| t.name_bytes())
                };
                match table.entry(
                    hash,
                    |&entry| text(entry) == name,
                    |&entry| hasher.hash_one(text(entry)),
                ) {
                    Entry::Occupied(entry) => {
                        if let Some(known) = names.get_mut(*entry.get() as usize) {
                            if let Some(link) = next.get_mut(known.last as usize) {
                                *link = at;
                            }
                            known.last = at;
                        }
                    }
                    Entry::Vacant(slot) => {
                        if let Ok(entry) = u32::try_from(names.len()) {
                            names.push(Name {
                                first: at,
                                last: at,
                            });
                            slot.insert(entry);
                        }
                    }
                }
            }
        }
        set
    }

    /// The hits named `name` (of `kind`, when given; of `only` owner, when
    /// given), in set order, at most one per owner: each owner's lowest id.
    pub(super) fn hits<'s>(
        &'s self,
        vmlinux: &Btf<'_>,
        modules: &[ModuleBtf],
        name: &str,
        kind: Option<Kind>,
        only: Option<u32>,
    ) -> impl Iterator<Item = Hit> + use<'s> {
        let name = name.as_bytes();
        let text_of = |hit: &Hit| -> bool {
            let view;
            let btf = match hit.owner.checked_sub(1) {
                None => vmlinux,
                Some(i) => match modules.get(i as usize) {
                    Some(module) => {
                        view = module.btf();
                        &view
                    }
                    None => return false,
                },
            };
            btf.type_by_id(hit.id).is_ok_and(|t| t.name_bytes() == name)
        };
        let first = self
            .table
            .find(self.hasher.hash_one(name), |&entry| {
                self.names
                    .get(entry as usize)
                    .and_then(|n| self.hits.get(n.first as usize))
                    .is_some_and(text_of)
            })
            .and_then(|&entry| self.names.get(entry as usize))
            .map_or(END, |n| n.first);
        let mut at = first;
        let mut last_owner = None;
        std::iter::from_fn(move || {
            while let Some(&hit) = self.hits.get(at as usize) {
                at = self.next.get(at as usize).copied().unwrap_or(END);
                if kind.is_some_and(|k| k != hit.kind)
                    || only.is_some_and(|o| o != hit.owner)
                    || last_owner == Some(hit.owner)
                {
                    continue;
                }
                last_owner = Some(hit.owner);
                return Some(hit);
            }
            None
        })
    }
}
