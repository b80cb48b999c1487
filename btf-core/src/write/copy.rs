//! Copying records from parsed blobs into a builder: one record as it is
//! ([`Builder::copy_type`]), or a type with everything it reaches, given new
//! ids ([`Copier`]).

use super::builder::Builder;
use super::error::WriteError;
use super::record::{Field, for_each_field};
use crate::btf::Btf;
use crate::id::{StrOffset, TypeId};
use crate::types::Type;
use alloc::vec::Vec;

/// Whether `a` and `b` are the same blob parsed on the same layering.
fn same_blob(a: &Btf<'_>, b: &Btf<'_>) -> bool {
    core::ptr::eq(a.bytes(), b.bytes()) && a.first_id() == b.first_id()
}

/// The record of `ty` as native words, or `None` when its length is not a
/// whole number of words.
fn record_words<'r>(ty: &Type<'r>) -> Option<impl Iterator<Item = u32> + 'r> {
    let rec = ty.record();
    if !rec.len().is_multiple_of(4) {
        return None;
    }
    let e = ty.btf().endian();
    Some(
        rec.chunks_exact(4)
            .map(move |w| e.read_u32(<[u8; 4]>::try_from(w).unwrap_or_default())),
    )
}

impl<'a> Builder<'a> {
    /// Appends `ty`'s record with names and ids exactly as stored, for a
    /// builder holding `ty`'s own string section.
    pub(crate) fn copy_verbatim(&mut self, ty: &Type<'_>) -> Result<TypeId, WriteError> {
        let words = record_words(ty).ok_or(WriteError::CannotCopy {
            id: ty.id(),
            kind: ty.kind(),
        })?;
        let id = self.next_id();
        self.starts.push(self.words.len());
        self.words.extend(words);
        if !ty.kind().is_known() {
            self.copy_layout_entry(ty);
        }
        Ok(id)
    }

    fn copy_layout_entry(&mut self, ty: &Type<'_>) {
        let kind = ty.kind();
        if let Some(l) = ty.btf().kind_layout(kind) {
            let entry = (l.info_sz, l.elem_sz, l.flags.get(ty.btf().endian()));
            if self.layout_entry(kind) != Some(entry) {
                self.set_layout_entry(kind, entry);
            }
        }
    }

    /// Copies one record from a parsed blob, with its type ids unchanged
    /// (copying `void` adds nothing and gives [`TypeId::VOID`]):
    /// right when the builder's ids mirror the source's (a builder from
    /// [`with_strings_of`](Self::with_strings_of) filled in order), or when
    /// the record refers only to a base both share. Use [`Copier`] to give
    /// a type and its dependencies new ids instead.
    ///
    /// Names are looked up in the source and added to the builder, except
    /// that a name the builder already holds at the same offset (in its own
    /// strings or its base) keeps that offset: this is what makes a copy
    /// into [`with_strings_of`](Self::with_strings_of) exact even where the
    /// source's strings hold duplicates or names point into the middle of
    /// a string. Records of kinds above [`Kind::MAX_KNOWN`](crate::Kind::MAX_KNOWN) are copied as
    /// words, with the source's layout entry for their kind.
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// use btf_core::{Btf, write::{Builder, EncodeOptions}};
    /// let src = Btf::parse(&blob)?;
    /// let mut b = Builder::with_strings_of(&src);
    /// for ty in src.types() {
    ///     b.copy_type(&ty)?;
    /// }
    /// assert_eq!(b.encode(&EncodeOptions::like(&src))?, blob);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WriteError::Source`] when a name cannot be read from the source;
    /// [`WriteError::CannotCopy`] for an unknown kind whose record is not
    /// whole words.
    pub fn copy_type(&mut self, ty: &Type<'_>) -> Result<TypeId, WriteError> {
        self.copy_record(ty, None::<fn(TypeId) -> TypeId>)
    }

    /// As [`copy_type`](Self::copy_type), with every type id in the record
    /// (except void) passed through `map`.
    ///
    /// # Errors
    ///
    /// As [`copy_type`](Self::copy_type), and [`WriteError::CannotCopy`]
    /// for any record of an unknown kind (which words are ids is unknown).
    pub fn copy_type_with(
        &mut self,
        ty: &Type<'_>,
        map: impl FnMut(TypeId) -> TypeId,
    ) -> Result<TypeId, WriteError> {
        self.copy_record(ty, Some(map))
    }

    fn copy_record(
        &mut self,
        ty: &Type<'_>,
        mut map: Option<impl FnMut(TypeId) -> TypeId>,
    ) -> Result<TypeId, WriteError> {
        let kind = ty.kind();
        if kind == crate::Kind::VOID && ty.id().is_void() {
            // `void` is id 0 in every blob; there is no record to copy.
            return Ok(TypeId::VOID);
        }
        let cannot = WriteError::CannotCopy { id: ty.id(), kind };
        if !kind.is_known() && map.is_some() {
            return Err(cannot);
        }
        let words = record_words(ty).ok_or(cannot)?;
        let count = self.type_count();
        let start = self.words.len();
        let id = self.next_id();
        self.starts.push(start);
        self.words.extend(words);
        let len = self.words.len().saturating_sub(start);
        let src = ty.btf();
        let mut result = Ok(());
        for_each_field(kind, len, |at, field| {
            if result.is_err() {
                return;
            }
            let Some(&word) = self.words.get(start.saturating_add(at)) else {
                return;
            };
            let new = match field {
                Field::Name(_) => match self.map_name(src, word) {
                    Ok(off) => off,
                    Err(error) => {
                        result = Err(WriteError::Source { id: ty.id(), error });
                        return;
                    }
                },
                Field::Type(_) => match &mut map {
                    Some(map) if word != 0 => map(TypeId::new(word)).get(),
                    _ => word,
                },
            };
            if let Some(slot) = self.words.get_mut(start.saturating_add(at)) {
                *slot = new;
            }
        });
        if let Err(e) = result {
            self.truncate_types(count);
            return Err(e);
        }
        if !kind.is_known() {
            self.copy_layout_entry(ty);
        }
        Ok(id)
    }

    /// The builder's offset for the source's name at `off`.
    fn map_name(&mut self, src: &Btf<'_>, off: u32) -> Result<u32, crate::Error> {
        if off == 0 {
            return Ok(0);
        }
        let name = src.str_bytes_at(StrOffset::new(off))?;
        if self.strings.get(self.base, off) == Some(name) {
            return Ok(off);
        }
        Ok(self.strings.add(self.base, name).get())
    }
}

/// Marks a source id found but not yet given a new id.
const PENDING: u32 = u32::MAX;

/// Copies types from one parsed blob into a builder together with every
/// type they refer to, giving them new ids, and remembers what it copied so
/// that shared dependencies are copied once.
///
/// Types in a base the builder shares with the source (the same bytes
/// parsed as the same layer, e.g. both split on one vmlinux) keep their
/// ids and are not copied. Dependencies are appended in source id order.
/// Use one `Copier` per source and builder pair.
///
/// ```no_run
/// use btf_core::{Btf, Kind, write::{Builder, Copier, EncodeOptions}};
/// let bytes = std::fs::read("/sys/kernel/btf/vmlinux")?;
/// let vmlinux = Btf::parse(&bytes)?;
/// let task = vmlinux.find_by_name_kind("task_struct", Kind::STRUCT).expect("task_struct");
///
/// let mut b = Builder::new();
/// let mut copier = Copier::new(&vmlinux);
/// let id = copier.copy(&mut b, task.id())?;
/// println!("task_struct is [{id}] of {} types", b.type_count());
/// let small = b.encode(&EncodeOptions::default())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Copier<'s> {
    src: &'s Btf<'s>,
    /// New id by source id; 0 when not copied.
    map: Vec<u32>,
}

impl<'s> Copier<'s> {
    /// A copier from `src` (and its bases).
    pub fn new(src: &'s Btf<'s>) -> Copier<'s> {
        Copier {
            src,
            map: Vec::new(),
        }
    }

    /// The builder id that source type `id` was copied to, if it was.
    pub fn get(&self, id: TypeId) -> Option<TypeId> {
        self.map
            .get(id.get() as usize)
            .filter(|&&n| n != 0 && n != PENDING)
            .map(|&n| TypeId::new(n))
    }

    /// The highest source id that lies in a base shared with `b`, or 0.
    fn shared_last(&self, b: &Builder<'_>) -> u32 {
        let mut builder_chain = b.base();
        while let Some(bb) = builder_chain {
            let mut src_chain = Some(self.src);
            while let Some(sb) = src_chain {
                if same_blob(sb, bb) {
                    return sb.last_id().get();
                }
                src_chain = sb.base();
            }
            builder_chain = bb.base();
        }
        0
    }

    /// Copies source type `id` and every type it reaches into `b`, unless
    /// already copied, and returns its id in `b`. Void stays void.
    ///
    /// # Errors
    ///
    /// [`WriteError::Source`] when a type cannot be read from the source
    /// (an id it does not hold); [`WriteError::CannotCopy`] when a type of
    /// an unknown kind is reached. Nothing is added to `b` then.
    pub fn copy(&mut self, b: &mut Builder<'_>, id: TypeId) -> Result<TypeId, WriteError> {
        if id.is_void() {
            return Ok(TypeId::VOID);
        }
        let shared = self.shared_last(b);
        if id.get() <= shared {
            return Ok(id);
        }
        if let Some(done) = self.get(id) {
            return Ok(done);
        }
        let want = (self.src.last_id().get() as usize).saturating_add(1);
        if self.map.len() < want {
            self.map.resize(want, 0);
        }
        let mut order = Vec::new();
        let found = self.collect(id, shared, &mut order);
        if let Err(e) = found {
            for &x in &order {
                self.set(x, 0);
            }
            return Err(e);
        }
        order.sort_unstable();
        let first_new = b.next_id().get();
        for (i, &x) in order.iter().enumerate() {
            let new = u32::try_from(i)
                .ok()
                .and_then(|i| first_new.checked_add(i))
                .unwrap_or(u32::MAX);
            self.set(x, new);
        }
        let count = b.type_count();
        for &x in &order {
            let emitted = self
                .src
                .type_by_id(TypeId::new(x))
                .map_err(|error| WriteError::Source {
                    id: TypeId::new(x),
                    error,
                })
                .and_then(|ty| {
                    let map = &self.map;
                    b.copy_type_with(&ty, |r| {
                        if r.get() <= shared {
                            return r;
                        }
                        map.get(r.get() as usize).map_or(r, |&n| TypeId::new(n))
                    })
                });
            if let Err(e) = emitted {
                b.truncate_types(count);
                for &x in &order {
                    self.set(x, 0);
                }
                return Err(e);
            }
        }
        Ok(self.get(id).unwrap_or(TypeId::VOID))
    }

    fn set(&mut self, id: u32, value: u32) {
        if let Some(slot) = self.map.get_mut(id as usize) {
            *slot = value;
        }
    }

    /// Finds the not yet copied types reachable from `root`, marking them
    /// pending and listing them in `order`.
    fn collect(
        &mut self,
        root: TypeId,
        shared: u32,
        order: &mut Vec<u32>,
    ) -> Result<(), WriteError> {
        let mut stack = alloc::vec![root.get()];
        self.set(root.get(), PENDING);
        order.push(root.get());
        while let Some(x) = stack.pop() {
            let id = TypeId::new(x);
            let ty = self
                .src
                .type_by_id(id)
                .map_err(|error| WriteError::Source { id, error })?;
            let kind = ty.kind();
            if !kind.is_known() || !ty.record().len().is_multiple_of(4) {
                return Err(WriteError::CannotCopy { id, kind });
            }
            let rec = ty.record();
            let e = ty.btf().endian();
            let mut bad = None;
            for_each_field(kind, rec.len() / 4, |at, field| {
                let Field::Type(_) = field else { return };
                let word = at
                    .checked_mul(4)
                    .and_then(|o| rec.get(o..o.checked_add(4)?))
                    .and_then(|w| <[u8; 4]>::try_from(w).ok())
                    .map(|w| e.read_u32(w));
                let Some(r) = word.filter(|&r| r != 0 && r > shared) else {
                    return;
                };
                match self.map.get(r as usize) {
                    Some(0) => {
                        self.set(r, PENDING);
                        order.push(r);
                        stack.push(r);
                    }
                    Some(_) => {}
                    None => bad = Some(r),
                }
            });
            if let Some(r) = bad {
                return Err(WriteError::Source {
                    id,
                    error: crate::Error::NoSuchType { id: TypeId::new(r) },
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_blob_compares_bytes_and_layering() {
        let blob = crate::testing::tiny_blob();
        let a = Btf::parse(&blob).unwrap();
        let b = Btf::parse(&blob).unwrap();
        assert!(same_blob(&a, &b));
        let other = blob.clone();
        let c = Btf::parse(&other).unwrap();
        assert!(!same_blob(&a, &c));
    }
}
