//! Lookups by name across a split and its bases: a hash index when one was
//! built ([`Btf::index_names`], feature `alloc`), binary search when the blob
//! is sorted by name (detected, never assumed), a linear scan otherwise.

use crate::btf::Btf;
use crate::endian::{Be, Endian, Le, Order};
use crate::id::{Kind, TypeId};
#[cfg(feature = "alloc")]
use crate::index::{BtfIndex, NameIndex};
use crate::record::{Head, Info};
use crate::types::Type;
use core::cmp::Ordering as CmpOrdering;
use core::sync::atomic::Ordering;

/// What `Btf::search_in` found.
enum Search {
    /// The own index of the type.
    Found(u32),
    Missing,
    /// The blob has no id index to search through.
    Unindexed,
}

const SORTED: u8 = 1;
const UNSORTED: u8 = 2;

impl<'a> Btf<'a> {
    /// The first type (lowest id, bases first) named `name`, of any kind.
    /// `"void"` finds id 0, as in libbpf.
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// let btf = btf_core::Btf::parse(&blob)?;
    /// let point = btf.find_by_name("point").expect("point");
    /// assert_eq!(point.kind(), btf_core::Kind::STRUCT);
    /// assert!(btf.find_by_name("no_such_type").is_none());
    /// # Ok::<(), btf_core::Error>(())
    /// ```
    pub fn find_by_name(&self, name: &str) -> Option<Type<'_>> {
        if name == "void" {
            return self.type_by_id(TypeId::VOID).ok();
        }
        self.find(name.as_bytes(), None)
    }

    /// The first type (lowest id, bases first) named `name` of `kind`.
    pub fn find_by_name_kind(&self, name: &str, kind: Kind) -> Option<Type<'_>> {
        self.find(name.as_bytes(), Some(kind))
    }

    /// As [`find_by_name_kind`](Self::find_by_name_kind), for a name given
    /// as bytes, and any kind when `kind` is `None`.
    pub fn find_by_name_bytes(&self, name: &[u8], kind: Option<Kind>) -> Option<Type<'_>> {
        self.find(name, kind)
    }

    /// The first of this blob's own types (for a split: not its base's)
    /// named `name`, of `kind` when given: how to ask what a module itself
    /// defines without searching vmlinux first.
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// let btf = btf_core::Btf::parse(&blob)?;
    /// let point = btf.find_own_by_name_bytes(b"point", Some(btf_core::Kind::STRUCT));
    /// assert_eq!(point.map(|t| t.id().get()), Some(2));
    /// # Ok::<(), btf_core::Error>(())
    /// ```
    pub fn find_own_by_name_bytes(&self, name: &[u8], kind: Option<Kind>) -> Option<Type<'_>> {
        if name.is_empty() || memchr::memchr(0, name).is_some() {
            return None;
        }
        self.find_own(name, kind)
    }

    fn find(&self, name: &[u8], kind: Option<Kind>) -> Option<Type<'_>> {
        // No type has an empty name or one with a NUL in it.
        if name.is_empty() || memchr::memchr(0, name).is_some() {
            return None;
        }
        if let Some(found) = self.base().and_then(|b| b.find(name, kind)) {
            return Some(found);
        }
        self.find_own(name, kind)
    }

    fn find_own(&self, name: &[u8], kind: Option<Kind>) -> Option<Type<'_>> {
        #[cfg(feature = "alloc")]
        if let Some(index) = self.name_index() {
            return find_indexed(index, self, name, kind);
        }
        let index = match self.endian() {
            Endian::Little => self.search_in::<Le>(name, kind),
            Endian::Big => self.search_in::<Be>(name, kind),
        };
        match index {
            Search::Found(i) => self
                .type_by_id(TypeId::new(self.first_id().get().wrapping_add(i)))
                .ok(),
            Search::Missing => None,
            // No id index: walk the records.
            Search::Unindexed => self.types().find(|t| {
                kind.is_none_or(|k| t.kind() == k)
                    && cmp_name(self.str_tail(t.name_offset().get()), name) == CmpOrdering::Equal
            }),
        }
    }

    /// The own index (0 for the first) of the first type named `name` of
    /// `kind`, read in place through the id index: binary search when the
    /// blob is sorted by name, else a scan that checks the kind before the
    /// name, as libbpf's does.
    fn search_in<O: Order>(&self, name: &[u8], kind: Option<Kind>) -> Search {
        let Some((offsets, types)) = self.indexed_records() else {
            return Search::Unindexed;
        };
        // The name offset and info word of record `i`.
        let head = |i: usize| {
            let off = *offsets.get(i)? as usize;
            let head = Head::read::<O>(types.get(off..)?)?;
            Some((head.name_off, head.info))
        };
        // A name in this blob's own strings without walking the bases.
        let (strings, str_start) = (self.strings(), self.str_start());
        let tail = |off: u32| match off.checked_sub(str_start) {
            Some(rel) => strings.get(rel as usize..).unwrap_or_default(),
            None => self.str_tail(off),
        };
        let is_kind = |info: Info| kind.is_none_or(|k| info.kind() == k);
        let order = |i: usize| match head(i) {
            Some((name_off, _)) => cmp_name(tail(name_off), name),
            None => CmpOrdering::Greater,
        };
        if self.is_sorted_by_name() {
            let (mut lo, mut hi) = (0usize, offsets.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if order(mid) == CmpOrdering::Less {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return (lo..offsets.len())
                .take_while(|&i| order(i) == CmpOrdering::Equal)
                .find(|&i| head(i).is_some_and(|(_, info)| is_kind(info)))
                .map_or(Search::Missing, |i| Search::Found(i as u32));
        }
        (0..offsets.len())
            .find(|&i| {
                head(i).is_some_and(|(name_off, info)| {
                    is_kind(info) && cmp_name(tail(name_off), name) == CmpOrdering::Equal
                })
            })
            .map_or(Search::Missing, |i| Search::Found(i as u32))
    }

    /// Whether this blob's own types are sorted by name (byte order,
    /// anonymous first), as kernels built from 2026 on produce them. Checked
    /// on first use and remembered.
    pub fn is_sorted_by_name(&self) -> bool {
        match self.cache().sorted.load(Ordering::Relaxed) {
            SORTED => true,
            UNSORTED => false,
            _ => {
                let mut prev: &[u8] = &[];
                let sorted = self.types().all(|t| {
                    let name = t.name_bytes();
                    let ok = prev <= name;
                    prev = name;
                    ok
                });
                self.cache()
                    .sorted
                    .store(if sorted { SORTED } else { UNSORTED }, Ordering::Relaxed);
                sorted
            }
        }
    }

    /// Builds a hash index of this blob's own type names, making
    /// [`find_by_name`](Self::find_by_name) and
    /// [`find_by_name_kind`](Self::find_by_name_kind) O(1) for its types
    /// when the blob also has an id index ([`parse`](Self::parse); on a blob
    /// from [`parse_unindexed`](Self::parse_unindexed) each hit still walks
    /// to its record). Build the base's index before layering splits on it
    /// to make lookups through them O(1) as well.
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// let mut btf = btf_core::Btf::parse(&blob)?;
    /// btf.index_names();
    /// assert!(btf.find_by_name_kind("point", btf_core::Kind::STRUCT).is_some());
    /// # Ok::<(), btf_core::Error>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn index_names(&mut self) {
        let index = build_name_index(self);
        self.set_name_index(index);
    }

    /// Whether [`index_names`](Self::index_names) has run on this blob.
    pub fn has_name_index(&self) -> bool {
        #[cfg(feature = "alloc")]
        {
            self.name_index().is_some()
        }
        #[cfg(not(feature = "alloc"))]
        {
            false
        }
    }
}

#[cfg(feature = "alloc")]
impl BtfIndex {
    /// Builds and keeps the hash index of the blob's own names (see
    /// [`Btf::index_names`]), so that every view attached to this index
    /// finds its types by name in O(1). `data` and `base` are the blob and
    /// base this index was built for.
    ///
    /// # Errors
    ///
    /// As [`Btf::with_index`], when `data` or `base` are not the ones this
    /// index was built for.
    pub fn index_names(&mut self, data: &[u8], base: Option<&Btf<'_>>) -> crate::Result<()> {
        if !self.has_name_index() {
            let names = build_name_index(&Btf::with_index(data, base, self)?);
            self.set_names(names);
        }
        Ok(())
    }
}

/// Builds the hash index of `btf`'s own names.
#[cfg(feature = "alloc")]
fn build_name_index(btf: &Btf<'_>) -> NameIndex {
    // Name offset 0 is the empty name in every blob: counting the others
    // sizes the table without reading any string.
    let mut named = 0usize;
    for_each_name_off(btf, |_, off| named += usize::from(off != 0));
    let mut index = NameIndex::with_capacity(named);
    // The name offsets seen so far, by own index: the names of the table's
    // entries without a lookup by id (which would walk the records of an
    // unindexed blob).
    let mut offs = alloc::vec::Vec::new();
    let name_at = |off: u32| {
        let tail = btf.str_tail(off);
        tail.get(..memchr::memchr(0, tail).unwrap_or(tail.len()))
            .unwrap_or_default()
    };
    let first = btf.first_id().get();
    for_each_name_off(btf, |own, off| {
        offs.push(off);
        if off == 0 {
            return;
        }
        let name = name_at(off);
        if name.is_empty() {
            return;
        }
        let name_of = |known: u32| {
            let at = known.wrapping_sub(first) as usize;
            offs.get(at).map_or(&[][..], |&o| name_at(o))
        };
        index.insert(name, first.wrapping_add(own), name_of);
    });
    index.finish();
    index
}

/// The first type named `name` (of `kind`, when given) in `index`, the
/// hash index of `btf`'s own names.
#[cfg(feature = "alloc")]
fn find_indexed<'b>(
    index: &NameIndex,
    btf: &'b Btf<'b>,
    name: &[u8],
    kind: Option<Kind>,
) -> Option<Type<'b>> {
    let lowest = index.lowest(name, |id| {
        btf.type_by_id(TypeId::new(id))
            .is_ok_and(|t| t.name_bytes() == name)
    })?;
    let first = btf.type_by_id(TypeId::new(lowest)).ok()?;
    let Some(kind) = kind else {
        return Some(first);
    };
    if first.kind() == kind {
        return Some(first);
    }
    // The other ids of the name, in increasing order.
    index
        .repeats(lowest)
        .filter_map(|id| btf.type_by_id(TypeId::new(id)).ok())
        .find(|t| t.kind() == kind)
}

/// Calls `f` with the own index and name offset of every own type of
/// `btf`, in order: through the id index when there is one (no record is
/// sized), else by walking the records.
#[cfg(feature = "alloc")]
fn for_each_name_off(btf: &Btf<'_>, mut f: impl FnMut(u32, u32)) {
    fn indexed<O: Order>(offsets: &[u32], types: &[u8], f: &mut impl FnMut(u32, u32)) {
        for (index, &off) in (0u32..).zip(offsets) {
            let name_off = types
                .get(off as usize..)
                .and_then(Head::read::<O>)
                .map_or(0, |h| h.name_off);
            f(index, name_off);
        }
    }
    match (btf.indexed_records(), btf.endian()) {
        (Some((offsets, types)), Endian::Little) => indexed::<Le>(offsets, types, &mut f),
        (Some((offsets, types)), Endian::Big) => indexed::<Be>(offsets, types, &mut f),
        (None, _) => {
            for (index, t) in (0u32..).zip(btf.types()) {
                f(index, t.name_offset().get());
            }
        }
    }
}

/// How the NUL-terminated name at the start of `tail` (or all of `tail`
/// when it has no NUL) orders against `name`, which has no NUL, as
/// `strcmp` orders them: eight bytes at a time, then byte by byte (names
/// are short: a call to `memcmp` costs more than the loop).
#[inline]
fn cmp_name(tail: &[u8], name: &[u8]) -> CmpOrdering {
    // Eight bytes at a time while both have them, read big-endian so that
    // the first byte that differs decides, as it does byte by byte. `name`
    // has no NUL: where the stored name ends within the eight bytes, they
    // differ there or before.
    let mut at = 0;
    while let (Some(have), Some(want)) = (
        tail.get(at..).and_then(|t| t.first_chunk::<8>()),
        name.get(at..).and_then(|n| n.first_chunk::<8>()),
    ) {
        let (have, want) = (u64::from_be_bytes(*have), u64::from_be_bytes(*want));
        if have != want {
            return have.cmp(&want);
        }
        at += 8;
    }
    for (i, &want) in name.iter().enumerate().skip(at) {
        let have = tail.get(i).copied().unwrap_or(0);
        if have != want {
            // A NUL here (the name ended) is below every byte of `name`.
            return have.cmp(&want);
        }
    }
    match tail.get(name.len()) {
        None | Some(0) => CmpOrdering::Equal,
        Some(_) => CmpOrdering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::cmp_name;
    use std::vec::Vec;

    /// Stored names against queries, both drawn from a few bytes so that
    /// long common prefixes, NULs inside and after a name and bytes above
    /// 0x7f are frequent, at lengths around the eight-byte step: ordered
    /// as `strcmp` orders them.
    #[test]
    fn cmp_name_orders_as_strcmp() {
        let mut next = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let alphabet = [0u8, b'a', b'b', 0xff];
        let word = |next: &mut dyn FnMut() -> u64, len: usize, nul: bool| -> Vec<u8> {
            (0..len)
                .map(|_| alphabet[(next() % 4) as usize])
                .map(|b| if nul || b != 0 { b } else { b'a' })
                .collect()
        };
        for _ in 0..200_000 {
            let len = (next() % 20) as usize + 1;
            let name = word(&mut next, len, false);
            // Often a copy of the query with a change, so that long common
            // prefixes are frequent.
            let len = (next() % 20) as usize;
            let mut tail = match next() % 3 {
                0 => word(&mut next, len, true),
                _ => name.clone(),
            };
            if !tail.is_empty() && next().is_multiple_of(2) {
                let at = (next() as usize) % tail.len();
                tail[at] = alphabet[(next() % 4) as usize];
            }
            let len = (next() % 12) as usize;
            tail.extend(word(&mut next, len, true));
            let stored = tail.split(|&b| b == 0).next().unwrap_or_default();
            assert_eq!(
                cmp_name(&tail, &name),
                stored.cmp(&name[..]),
                "{tail:?} against {name:?}"
            );
        }
    }
}
