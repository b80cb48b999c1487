//! The parts of a parse worth keeping beside the blob's bytes: its id
//! offsets, the hash index of its names, and what it learns about itself on
//! first use. A view ([`Btf`](crate::Btf)) holds them itself, or borrows
//! them from the [`BtfIndex`](crate::BtfIndex) it is attached to, so that
//! every view of an owned blob shares what one of them found.
//!
//! This module holds the parts only; the blob (`btf`) builds a `BtfIndex`
//! ([`BtfIndex::build`], [`Btf::into_index`](crate::Btf::into_index)) and
//! attaches one ([`Btf::with_index`](crate::Btf::with_index)), and the
//! lookups by name (`names`) build and search the name index
//! ([`BtfIndex::index_names`]).

#[cfg(feature = "alloc")]
use alloc::boxed::Box;
#[cfg(feature = "alloc")]
use alloc::vec::Vec;
#[cfg(feature = "alloc")]
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

/// A part of a parse that a view holds itself or borrows from where it is
/// kept (a [`BtfIndex`](crate::BtfIndex)).
#[derive(Debug)]
pub(crate) enum Kept<'a, T> {
    Own(T),
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    Borrowed(&'a T),
}

impl<T> Kept<'_, T> {
    #[inline]
    pub(crate) fn get(&self) -> &T {
        match self {
            Kept::Own(value) => value,
            Kept::Borrowed(value) => value,
        }
    }
}

impl<T: Clone> Clone for Kept<'_, T> {
    fn clone(&self) -> Self {
        match self {
            Kept::Own(value) => Kept::Own(value.clone()),
            Kept::Borrowed(value) => Kept::Borrowed(value),
        }
    }
}

/// What a blob learns about itself on first use and remembers: whether
/// its names are sorted, its pointer size.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    /// 0 not yet known, 1 sorted by name, 2 not sorted.
    pub(crate) sorted: AtomicU8,
    /// 0 not yet known, else the pointer size in bytes.
    pub(crate) ptr_size: AtomicU8,
}

impl Clone for Cache {
    fn clone(&self) -> Self {
        Cache {
            sorted: AtomicU8::new(self.sorted.load(Ordering::Relaxed)),
            ptr_size: AtomicU8::new(self.ptr_size.load(Ordering::Relaxed)),
        }
    }
}

/// A hash table of own type ids keyed by name: one entry per distinct name
/// (its lowest id), and the other ids of repeated names, sorted, beside it.
/// Each name is hashed and compared once on insertion, however often it
/// repeats, so building is linear even when thousands of types share a
/// name. Built and searched by the lookups by name (`names`), which give
/// it the names of the ids it holds.
#[cfg(feature = "alloc")]
#[derive(Clone)]
pub(crate) struct NameIndex {
    table: hashbrown::HashTable<u32>,
    /// `(lowest id of the name, another id of the name)`, sorted.
    repeats: alloc::vec::Vec<(u32, u32)>,
    hasher: hashbrown::DefaultHashBuilder,
}

#[cfg(feature = "alloc")]
impl NameIndex {
    /// An empty index with room for `names` distinct names.
    pub(crate) fn with_capacity(names: usize) -> NameIndex {
        NameIndex {
            table: hashbrown::HashTable::with_capacity(names),
            repeats: alloc::vec::Vec::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
        }
    }

    /// Adds `id`, named `name`; ids come in increasing order. `name_of`
    /// gives the name of an id added before.
    // Always inlined into the building loop, which then keeps the table
    // in registers: index_names of vmlinux takes 1.4% more instructions
    // when it is a call.
    #[inline(always)]
    pub(crate) fn insert<'n>(&mut self, name: &[u8], id: u32, name_of: impl Fn(u32) -> &'n [u8]) {
        use core::hash::BuildHasher;
        use hashbrown::hash_table::Entry;
        let hasher = &self.hasher;
        let hash = hasher.hash_one(name);
        match self.table.entry(
            hash,
            |&known| name_of(known) == name,
            |&known| hasher.hash_one(name_of(known)),
        ) {
            // Ids come in increasing order: the entry keeps the lowest.
            Entry::Occupied(lowest) => self.repeats.push((*lowest.get(), id)),
            Entry::Vacant(slot) => {
                slot.insert(id);
            }
        }
    }

    /// Ends the insertions.
    pub(crate) fn finish(&mut self) {
        self.repeats.sort_unstable();
        self.repeats.shrink_to_fit();
    }

    /// The lowest id named `name`; `is_named` says whether an id has that
    /// name.
    #[inline]
    pub(crate) fn lowest(&self, name: &[u8], is_named: impl Fn(u32) -> bool) -> Option<u32> {
        use core::hash::BuildHasher;
        let hash = self.hasher.hash_one(name);
        self.table.find(hash, |&id| is_named(id)).copied()
    }

    /// The other ids of the name whose lowest id is `lowest`, in increasing
    /// order.
    pub(crate) fn repeats(&self, lowest: u32) -> impl Iterator<Item = u32> + '_ {
        let from = self.repeats.partition_point(|&(l, _)| l < lowest);
        self.repeats
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(move |&&(l, _)| l == lowest)
            .map(|&(_, id)| id)
    }
}

/// The parts of one blob's parse that are worth keeping (on one base): its
/// id index (4 bytes per type), its name index once built
/// ([`index_names`](Self::index_names)), and what views have learnt on
/// first use (whether its names are sorted, its pointer size).
///
/// Built by a full parse; [`Btf::with_index`](crate::Btf::with_index)
/// attaches it to the same bytes again in O(1) without walking them, and
/// every view attached to it shares its parts, so nothing is detected or
/// built twice. Attaching it to other
/// bytes is caught when the length or layering differs; otherwise lookups
/// may give wrong answers or errors, but never read out of bounds or panic.
/// [`BtfBuf`](crate::BtfBuf) keeps one beside the bytes it owns.
///
/// ```
/// # let blob = btf_core::testing::tiny_blob();
/// use btf_core::{Btf, BtfIndex};
/// let mut index = BtfIndex::build(&blob, None)?;
/// index.index_names(&blob, None)?;
/// let btf = Btf::with_index(&blob, None, &index)?;
/// assert_eq!(btf.type_count(), index.type_count());
/// assert!(btf.has_name_index());
/// # Ok::<(), btf_core::Error>(())
/// ```
#[cfg(feature = "alloc")]
#[derive(Clone)]
pub struct BtfIndex {
    offsets: Vec<u32>,
    data_len: usize,
    first_id: u32,
    str_start: u32,
    cache: Cache,
    names: Option<Box<NameIndex>>,
}

#[cfg(feature = "alloc")]
impl fmt::Debug for BtfIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BtfIndex")
            .field("types", &self.offsets.len())
            .field("data_len", &self.data_len)
            .field("first_id", &self.first_id)
            .field("str_start", &self.str_start)
            .field("names", &self.names.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "alloc")]
/// Two indexes are equal when they index the same records the same way;
/// the name index and what views learnt follow from the records.
impl PartialEq for BtfIndex {
    fn eq(&self, other: &BtfIndex) -> bool {
        (&self.offsets, self.data_len, self.first_id, self.str_start)
            == (
                &other.offsets,
                other.data_len,
                other.first_id,
                other.str_start,
            )
    }
}

#[cfg(feature = "alloc")]
impl Eq for BtfIndex {}

#[cfg(feature = "alloc")]
impl BtfIndex {
    /// The number of types indexed.
    pub fn type_count(&self) -> u32 {
        // Built from a parse, whose count is a u32.
        self.offsets.len() as u32
    }

    /// Whether the name index is built.
    pub fn has_name_index(&self) -> bool {
        self.names.is_some()
    }

    pub(crate) fn matches(&self, data_len: usize, first_id: u32, str_start: u32) -> bool {
        (self.data_len, self.first_id, self.str_start) == (data_len, first_id, str_start)
    }

    pub(crate) fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    pub(crate) fn cache(&self) -> &Cache {
        &self.cache
    }

    // A view keeps an owned name index boxed and borrows this one's box
    // through the same type.
    #[allow(clippy::borrowed_box)]
    pub(crate) fn names(&self) -> Option<&Box<NameIndex>> {
        self.names.as_ref()
    }

    /// Keeps `names` as the name index.
    pub(crate) fn set_names(&mut self, names: NameIndex) {
        self.names = Some(Box::new(names));
    }

    pub(crate) fn from_parts(
        offsets: Vec<u32>,
        data_len: usize,
        first_id: u32,
        str_start: u32,
        cache: Cache,
        names: Option<Box<NameIndex>>,
    ) -> Self {
        BtfIndex {
            offsets,
            data_len,
            first_id,
            str_start,
            cache,
            names,
        }
    }
}
