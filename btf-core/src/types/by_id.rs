//! A blob's types as views: by id ([`Btf::type_by_id`], through the id
//! index or a walk, falling through to the bases for lower ids) and in id
//! order ([`Btf::types`]).

use super::Type;
use crate::btf::Btf;
use crate::error::{Error, Result};
use crate::id::TypeId;
use crate::record;

impl<'a> Btf<'a> {
    /// The type with `id`, from this blob or, for lower ids, its bases.
    /// Id 0 gives the `void` view.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchType`] when no blob in the chain holds `id`.
    // Always inlined: the own-id path is a few loads and compares, and
    // lookups by name call it in their innermost loop.
    #[inline(always)]
    pub fn type_by_id(&self, id: TypeId) -> Result<Type<'_>> {
        let raw = id.get();
        let first = self.first_id().get();
        if raw < first {
            return self.type_by_id_below(id);
        }
        let idx = raw.wrapping_sub(first);
        if idx >= self.type_count() {
            return Err(Error::NoSuchType { id });
        }
        let Some((offsets, types)) = self.indexed_records() else {
            return self
                .types()
                .nth(idx as usize)
                .ok_or(Error::NoSuchType { id });
        };
        // Records lie end to end: this one ends where the next begins (the
        // index was made by the walk that sized them).
        let start = offsets.get(idx as usize).map(|&o| o as usize);
        let end = offsets
            .get(idx as usize + 1)
            .map_or(types.len(), |&o| o as usize);
        start
            .and_then(|start| types.get(start..end))
            .filter(|rec| rec.len() >= record::COMMON)
            .map(|rec| Type::new(self, id, rec))
            .ok_or(Error::IndexMismatch)
    }

    /// [`type_by_id`](Self::type_by_id) of an id below this blob's own: the
    /// base's, or `void`. Kept out of line so that the own-id path stays
    /// small enough to inline.
    #[inline(never)]
    fn type_by_id_below(&self, id: TypeId) -> Result<Type<'_>> {
        match self.base() {
            Some(base) => base.type_by_id(id),
            None if id.get() == 0 => Ok(Type::void(self)),
            None => Err(Error::NoSuchType { id }),
        }
    }

    /// Iterates this blob's own types, in id order. Allocates nothing.
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// let btf = btf_core::Btf::parse(&blob)?;
    /// for ty in btf.types() {
    ///     println!("[{}] {} '{}'", ty.id(), ty.kind(), ty.name()?);
    /// }
    /// # Ok::<(), btf_core::Error>(())
    /// ```
    pub fn types(&self) -> Types<'_> {
        let (offsets, types) = self.indexed_records().unwrap_or((&[], self.type_section()));
        Types {
            btf: self,
            types,
            off: 0,
            next_id: self.first_id().get(),
            left: self.type_count(),
            offsets,
        }
    }
}

/// Iterator over a blob's own types, from [`Btf::types`].
#[derive(Clone)]
pub struct Types<'b> {
    btf: &'b Btf<'b>,
    /// The blob's type section.
    types: &'b [u8],
    off: usize,
    next_id: u32,
    left: u32,
    /// The id index's offsets still to visit (empty without an index):
    /// each record is then found without sizing the one before, so
    /// iterations do not wait on each other.
    offsets: &'b [u32],
}

impl<'b> Iterator for Types<'b> {
    type Item = Type<'b>;

    #[inline]
    fn next(&mut self) -> Option<Type<'b>> {
        if self.left == 0 {
            return None;
        }
        let id = TypeId::new(self.next_id);
        if let [start, rest @ ..] = self.offsets {
            // Records lie end to end: this one ends where the next begins.
            let end = rest.first().map_or(self.types.len(), |&o| o as usize);
            let rec = self
                .types
                .get(*start as usize..end)
                .filter(|r| r.len() >= record::COMMON);
            self.offsets = rest;
            if let Some(rec) = rec {
                self.next_id = self.next_id.wrapping_add(1);
                self.left -= 1;
                return Some(Type::new(self.btf, id, rec));
            }
            self.left = 0;
            return None;
        }
        match self.btf.record_at(self.off) {
            Some(rec) => {
                self.off = self.off.saturating_add(rec.len());
                self.next_id = self.next_id.wrapping_add(1);
                self.left -= 1;
                Some(Type::new(self.btf, id, rec))
            }
            None => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Types<'_> {}
impl core::iter::FusedIterator for Types<'_> {}
