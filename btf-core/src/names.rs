//! Lookups by name across a split and its bases: a hash index when one was
//! built ([`Btf::index_names`], feature `alloc`), binary search when the blob
//! is sorted by name (detected, never assumed), a linear scan otherwise.

use crate::btf::Btf;
use crate::id::{Kind, TypeId};
use crate::types::Type;
use core::cmp::Ordering as CmpOrdering;
use core::sync::atomic::Ordering;

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

    fn find(&self, name: &[u8], kind: Option<Kind>) -> Option<Type<'_>> {
        if name.is_empty() {
            return None;
        }
        if let Some(found) = self.base().and_then(|b| b.find(name, kind)) {
            return Some(found);
        }
        self.find_own(name, kind)
    }

    fn find_own(&self, name: &[u8], kind: Option<Kind>) -> Option<Type<'_>> {
        let wanted = |t: &Type<'_>| kind.is_none_or(|k| t.kind() == k);
        #[cfg(feature = "alloc")]
        if let Some(index) = &self.names {
            return index.find(self, name, kind);
        }
        if self.is_indexed() && self.is_sorted_by_name() {
            return self.binary_search(name, wanted);
        }
        self.types().find(|t| t.name_bytes() == name && wanted(t))
    }

    /// Binary search over own ids sorted by name: the first id whose name is
    /// not below `name`, then forward over the equal names.
    fn binary_search(&self, name: &[u8], wanted: impl Fn(&Type<'_>) -> bool) -> Option<Type<'_>> {
        let first = self.first_id().get();
        let name_of = |i: u32| self.type_by_id(TypeId::new(first.wrapping_add(i))).ok();
        let (mut lo, mut hi) = (0u32, self.type_count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match name_of(mid).map(|t| t.name_bytes().cmp(name)) {
                Some(CmpOrdering::Less) => lo = mid + 1,
                _ => hi = mid,
            }
        }
        (lo..self.type_count())
            .map_while(|i| name_of(i).filter(|t| t.name_bytes() == name))
            .find(|t| wanted(t))
    }

    /// Whether this blob's own types are sorted by name (byte order,
    /// anonymous first), as kernels built from 2026 on produce them. Checked
    /// on first use and remembered.
    pub fn is_sorted_by_name(&self) -> bool {
        match self.sorted.load(Ordering::Relaxed) {
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
                self.sorted
                    .store(if sorted { SORTED } else { UNSORTED }, Ordering::Relaxed);
                sorted
            }
        }
    }

    /// Builds a hash index of this blob's own type names, making
    /// [`find_by_name`](Self::find_by_name) and
    /// [`find_by_name_kind`](Self::find_by_name_kind) O(1) for its types.
    /// Build the base's index before layering splits on it to make lookups
    /// through them O(1) as well.
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
        let index = NameIndex::build(self);
        self.names = Some(index);
    }

    /// Whether [`index_names`](Self::index_names) has run on this blob.
    pub fn has_name_index(&self) -> bool {
        #[cfg(feature = "alloc")]
        {
            self.names.is_some()
        }
        #[cfg(not(feature = "alloc"))]
        {
            false
        }
    }
}

/// A hash table of own type ids keyed by name.
#[cfg(feature = "alloc")]
#[derive(Clone)]
pub(crate) struct NameIndex {
    table: hashbrown::HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

#[cfg(feature = "alloc")]
impl NameIndex {
    fn build(btf: &Btf<'_>) -> NameIndex {
        use core::hash::BuildHasher;
        let hasher = hashbrown::DefaultHashBuilder::default();
        // Name offset 0 is the empty name in every blob: counting the
        // others sizes the table without reading any string.
        let named = btf.types().filter(|t| t.name_offset().get() != 0).count();
        let mut table = hashbrown::HashTable::with_capacity(named);
        let name_of = |id: u32| {
            btf.type_by_id(TypeId::new(id))
                .map(|t| t.name_bytes())
                .unwrap_or_default()
        };
        for t in btf.types() {
            if t.name_offset().get() == 0 {
                continue;
            }
            let name = t.name_bytes();
            if name.is_empty() {
                continue;
            }
            table.insert_unique(hasher.hash_one(name), t.id().get(), |&id| {
                hasher.hash_one(name_of(id))
            });
        }
        NameIndex { table, hasher }
    }

    fn find<'b>(&self, btf: &'b Btf<'b>, name: &[u8], kind: Option<Kind>) -> Option<Type<'b>> {
        use core::hash::BuildHasher;
        self.table
            .iter_hash(self.hasher.hash_one(name))
            .filter_map(|&id| btf.type_by_id(TypeId::new(id)).ok())
            .filter(|t| t.name_bytes() == name && kind.is_none_or(|k| t.kind() == k))
            .min_by_key(|t| t.id())
    }
}
