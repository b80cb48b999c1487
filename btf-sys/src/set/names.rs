//! One hash index of every type name in a [`KernelBtf`](super::KernelBtf):
//! vmlinux's types and each module's own, so that a lookup across the set
//! is one probe, not a scan of every blob.

use btf_core::{Btf, Kind, TypeId};
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use std::hash::BuildHasher;

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
    /// Each distinct name: where its text lies, and its chain of hits.
    names: Vec<Name>,
    hits: Vec<Hit>,
    /// The next hit of the same name, or [`END`].
    next: Vec<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

/// A distinct name: its text, as a range of one blob's bytes (0 for
/// vmlinux, `i + 1` for module `i`), and its chain of hits.
#[derive(Clone, Copy, Debug)]
struct Name {
    blob: u32,
    start: u32,
    len: u32,
    first: u32,
    last: u32,
}

impl Name {
    fn text<'b>(&self, bytes_of: &(impl Fn(u32) -> &'b [u8] + ?Sized)) -> &'b [u8] {
        let start = self.start as usize;
        bytes_of(self.blob)
            .get(start..start.saturating_add(self.len as usize))
            .unwrap_or_default()
    }
}

/// Where a blob's own string section starts in its bytes.
fn strings_at(btf: &Btf<'_>) -> u64 {
    u64::from(btf.header().hdr_len) + u64::from(btf.header().str_off)
}

impl SetNames {
    /// Indexes vmlinux's types and each module's own types; `blobs` are
    /// vmlinux's view, then each module's.
    pub(super) fn build(blobs: &[Btf<'_>]) -> SetNames {
        // Sized once: named types, counted by their name offsets (no
        // string is read), and at most as many distinct names.
        let named: usize = blobs
            .iter()
            .map(|btf| btf.types().filter(|t| t.name_offset().get() != 0).count())
            .sum();
        let mut set = SetNames {
            table: HashTable::with_capacity(named),
            names: Vec::with_capacity(named / 2),
            hits: Vec::with_capacity(named),
            next: Vec::with_capacity(named),
            hasher: hashbrown::DefaultHashBuilder::default(),
        };
        let bytes_of = |blob: u32| blobs.get(blob as usize).map_or(&[][..], Btf::bytes);
        let vmlinux_strings = blobs.first().map_or(0, strings_at);
        for (owner, btf) in (0u32..).zip(blobs) {
            let own_strings = strings_at(btf);
            let str_start = btf.str_start();
            for ty in btf.types() {
                let text = ty.name_bytes();
                if text.is_empty() {
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
                let hash = set.hasher.hash_one(text);
                let SetNames {
                    table,
                    names,
                    next,
                    hasher,
                    ..
                } = &mut set;
                match table.entry(
                    hash,
                    |&entry| {
                        names
                            .get(entry as usize)
                            .is_some_and(|n| n.text(&bytes_of) == text)
                    },
                    |&entry| {
                        hasher.hash_one(
                            names
                                .get(entry as usize)
                                .map_or(&[][..], |n| n.text(&bytes_of)),
                        )
                    },
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
                        // Where the text lies: in this blob's strings, or
                        // (a split's name offset below its own strings) in
                        // vmlinux's.
                        let off = ty.name_offset().get();
                        let (blob, start) = match off.checked_sub(str_start) {
                            Some(rel) => (owner, own_strings + u64::from(rel)),
                            None => (0, vmlinux_strings + u64::from(off)),
                        };
                        let (Ok(start), Ok(len), Ok(entry)) = (
                            u32::try_from(start),
                            u32::try_from(text.len()),
                            u32::try_from(names.len()),
                        ) else {
                            continue;
                        };
                        names.push(Name {
                            blob,
                            start,
                            len,
                            first: at,
                            last: at,
                        });
                        slot.insert(entry);
                    }
                }
            }
        }
        set
    }

    /// The hits named `name` (of `kind`, when given; of `only` owner, when
    /// given), in set order, at most one per owner: each owner's lowest id.
    /// `bytes_of` gives each blob's bytes (0 for vmlinux, `i + 1` for
    /// module `i`), as at build time.
    pub(super) fn hits<'s, 'b>(
        &'s self,
        bytes_of: &dyn Fn(u32) -> &'b [u8],
        name: &str,
        kind: Option<Kind>,
        only: Option<u32>,
    ) -> impl Iterator<Item = Hit> + use<'s> {
        let name = name.as_bytes();
        let first = self
            .table
            .find(self.hasher.hash_one(name), |&entry| {
                self.names
                    .get(entry as usize)
                    .is_some_and(|n| n.text(bytes_of) == name)
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
