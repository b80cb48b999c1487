//! [`Btf`]: one parsed blob, in place, optionally layered on a base: its
//! header and sections, the layering of ids and strings on the base, the
//! framing walk that parses it, its id offsets and strings. Views of its
//! records ([`Btf::type_by_id`], [`Btf::types`]) are built on this in
//! `types`, lookups by name in `names`; `splits` parses many splits on
//! one base at once.

use crate::endian::Endian;
use crate::error::{Error, Result};
use crate::header::{Header, Sections};
use crate::id::{Kind, StrOffset, TypeId};
#[cfg(feature = "alloc")]
use crate::index::{BtfIndex, NameIndex};
use crate::index::{Cache, Kept};
use crate::record::{self, Info};
use crate::walk::{self, NoSink, OffsetSink, SliceSink, WalkInput};
use crate::wire::{BtfKindLayout, BtfType};
use zerocopy::FromBytes;

#[cfg(feature = "alloc")]
mod splits;

/// How many levels deep a split chain may go: a base is at depth 0, a
/// split on it (vmlinux ← module) at depth 1, a split on that split at
/// depth 2, and so on up to this limit. Kernel BTF needs 1; libbpf
/// allows split on split.
///
/// A split whose base is already at this depth is refused with
/// [`Error::SplitTooDeep`] by every constructor that takes a base
/// ([`Btf::parse_split`], [`Btf::parse_unindexed`],
/// [`Btf::parse_with_storage`], and with `alloc` `Btf::parse_splits`,
/// `Btf::with_index` and `BtfIndex::build`): the bound keeps the
/// lookups that fall through to the bases, and their stack of layout
/// sections, bounded.
pub const MAX_SPLIT_DEPTH: usize = 32;

/// Where record offsets come from.
#[derive(Clone, Debug)]
pub(crate) enum Offsets<'a> {
    /// None kept: a lookup by id walks the section.
    Walk,
    /// Caller storage, or an owned [`BtfIndex`](crate::BtfIndex) borrowed.
    Borrowed(&'a [u32]),
    /// Owned, one `u32` per type.
    #[cfg(feature = "alloc")]
    Owned(alloc::vec::Vec<u32>),
}

impl Offsets<'_> {
    /// An index the walk filled: a tail of more than an eighth of spare
    /// capacity is given back; a smaller one is cheaper to keep than to
    /// move.
    #[cfg(feature = "alloc")]
    fn owned(mut offsets: alloc::vec::Vec<u32>) -> Self {
        if offsets.capacity() - offsets.len() > offsets.len() / 8 {
            offsets.shrink_to_fit();
        }
        Offsets::Owned(offsets)
    }

    #[inline]
    fn as_slice(&self) -> Option<&[u32]> {
        match self {
            Offsets::Walk => None,
            Offsets::Borrowed(s) => Some(s),
            #[cfg(feature = "alloc")]
            Offsets::Owned(v) => Some(v),
        }
    }
}

/// A parsed BTF blob, read in place.
///
/// `Btf` borrows the blob's bytes (a file buffer, an mmap of
/// `/sys/kernel/btf/vmlinux`, a section of a firmware image) and never copies
/// them. A split blob (a kernel module's BTF) borrows its base too: many
/// modules can share one base by reference. Both byte orders are read in
/// place through this one type.
///
/// Parsing checks the header, the sections, and every record: that it fits,
/// that its kind is known or sized by a layout section, and that the name
/// offset and type ids of its fixed part exist (`size_or_type` for the kinds
/// that refer to a type, ARRAY's element and index types). That is O(number
/// of records), and after it the type views cannot read out of bounds.
///
/// The elements of a record (members, parameters, enumerators, DATASEC
/// entries) are checked where they are used, as `object` and `gimli` read
/// their formats: an element's name comes back as a `Result`, and its type
/// id fails in [`type_by_id`](Self::type_by_id) if it does not exist.
/// [`validate`](Self::validate) checks every element up front, as libbpf's
/// `btf__new` does, and names the first bad field by byte offset and type id.
/// Kernel BTF has been checked by the kernel already.
///
/// ```no_run
/// use btf_core::{Btf, Kind};
/// let bytes = std::fs::read("/sys/kernel/btf/vmlinux")?;
/// let vmlinux = Btf::parse(&bytes)?;
/// let task = vmlinux.find_by_name_kind("task_struct", Kind::STRUCT).expect("task_struct");
/// println!("task_struct is {} bytes", vmlinux.size_of(task.id())?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Btf<'a> {
    data: &'a [u8],
    header: Header,
    endian: Endian,
    sections: Sections<'a>,
    base: Option<BaseRef<'a>>,
    depth: usize,
    first_id: u32,
    count: u32,
    str_start: u32,
    offsets: Offsets<'a>,
    cache: Kept<'a, Cache>,
    /// Boxed when owned: a view stays small to move (a batch of parses is
    /// a vector of them).
    #[cfg(feature = "alloc")]
    names: Option<Kept<'a, alloc::boxed::Box<NameIndex>>>,
}

/// The base a split is layered on: borrowed from the caller, or (for an
/// owned blob, [`BtfBuf`](crate::BtfBuf)) a view of the base made for this
/// view and held by it.
#[derive(Clone)]
enum BaseRef<'a> {
    Borrowed(&'a Btf<'a>),
    #[cfg(feature = "alloc")]
    Held(alloc::boxed::Box<Btf<'a>>),
}

impl<'a> BaseRef<'a> {
    #[inline]
    fn get(&self) -> &Btf<'a> {
        match self {
            BaseRef::Borrowed(base) => base,
            #[cfg(feature = "alloc")]
            BaseRef::Held(base) => base,
        }
    }
}

impl Clone for Btf<'_> {
    fn clone(&self) -> Self {
        Btf {
            data: self.data,
            header: self.header,
            endian: self.endian,
            sections: self.sections,
            base: self.base.clone(),
            depth: self.depth,
            first_id: self.first_id,
            count: self.count,
            str_start: self.str_start,
            offsets: self.offsets.clone(),
            cache: self.cache.clone(),
            #[cfg(feature = "alloc")]
            names: self.names.clone(),
        }
    }
}

impl core::fmt::Debug for Btf<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Btf")
            .field("endian", &self.endian)
            .field("len", &self.data.len())
            .field("first_id", &self.first_id)
            .field("type_count", &self.count)
            .field("split", &self.base.is_some())
            .finish_non_exhaustive()
    }
}

/// What a walk of the type section of `sections` needs.
fn walk_input<'a, 'l>(
    sections: &Sections<'a>,
    first_id: u32,
    str_start: u32,
    layouts: &'l [&'a [BtfKindLayout]],
) -> WalkInput<'a, 'l> {
    WalkInput {
        types: sections.types,
        types_at: sections.types_at,
        first_id,
        str_end: u64::from(str_start) + sections.strings.len() as u64,
        layouts,
    }
}

/// Collects the layout sections visible to a blob: its own, then its bases'.
fn layouts<'a>(own: &'a [BtfKindLayout], base: Option<&Btf<'a>>) -> LayoutList<'a> {
    let mut list = LayoutList {
        items: [&[]; MAX_SPLIT_DEPTH + 1],
        len: 0,
    };
    list.push(own);
    let mut b = base;
    while let Some(btf) = b {
        list.push(btf.sections.layout);
        b = btf.base();
    }
    list
}

struct LayoutList<'a> {
    items: [&'a [BtfKindLayout]; MAX_SPLIT_DEPTH + 1],
    len: usize,
}

impl<'a> LayoutList<'a> {
    fn push(&mut self, l: &'a [BtfKindLayout]) {
        if l.is_empty() {
            return;
        }
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = l;
            self.len = self.len.saturating_add(1);
        }
    }

    fn as_slice(&self) -> &[&'a [BtfKindLayout]] {
        self.items.get(..self.len).unwrap_or_default()
    }
}

impl<'a> Btf<'a> {
    /// Parses a base (non-split) blob.
    ///
    /// With the `alloc` feature this builds an owned index of 4 bytes per
    /// type, so [`type_by_id`](Self::type_by_id) is O(1). Without it, no
    /// index is kept and lookups by id walk the section; see
    /// [`parse_with_storage`](Self::parse_with_storage) for O(1) lookups
    /// with storage you provide.
    ///
    /// # Errors
    ///
    /// Any of the header, section and record errors of [`Error`], naming the
    /// byte offset and type id concerned.
    pub fn parse(data: &'a [u8]) -> Result<Btf<'a>> {
        #[cfg(feature = "alloc")]
        {
            Self::parse_owned(data, None)
        }
        #[cfg(not(feature = "alloc"))]
        {
            Self::parse_unindexed(data, None)
        }
    }

    /// Parses a split blob on top of `base`: its ids continue from the
    /// base's last id, its string offsets from the end of the base's strings,
    /// and lookups of lower ids and offsets fall through to the base.
    ///
    /// Indexing is as for [`parse`](Self::parse).
    ///
    /// The split must be in its base's byte order (libbpf refuses mixed
    /// orders too), and `base` may itself be a split, up to
    /// [`MAX_SPLIT_DEPTH`] levels: a base at that depth takes no further
    /// split.
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse); references are checked against the base
    /// as well. [`Error::SplitEndianMismatch`] when `data`'s byte order is
    /// not `base`'s; [`Error::SplitTooDeep`] when `base` is already
    /// [`MAX_SPLIT_DEPTH`] levels deep; [`Error::TooManyTypes`] and
    /// [`Error::StringsOverflow`] when the bases leave no 32-bit id or
    /// string offset for the split's own.
    pub fn parse_split(data: &'a [u8], base: &'a Btf<'a>) -> Result<Btf<'a>> {
        #[cfg(feature = "alloc")]
        {
            Self::parse_owned(data, Some(base))
        }
        #[cfg(not(feature = "alloc"))]
        {
            Self::parse_unindexed(data, Some(base))
        }
    }

    /// Parses a blob, on `base` if given, keeping no index: nothing is
    /// allocated, and [`type_by_id`](Self::type_by_id) walks the section
    /// (O(n)). Iteration is unaffected.
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse), and with a base as
    /// [`parse_split`](Self::parse_split) (byte order, and the
    /// [`MAX_SPLIT_DEPTH`] limit).
    pub fn parse_unindexed(data: &'a [u8], base: Option<&'a Btf<'a>>) -> Result<Btf<'a>> {
        Self::parse_inner(data, base, &mut NoSink)
    }

    /// Parses a blob, on `base` if given, writing the id index into
    /// `storage`, one `u32` per own type: O(1) lookups with no allocation.
    ///
    /// Size the storage with [`type_count`](Self::type_count) of an
    /// unindexed parse.
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// use btf_core::Btf;
    /// let count = Btf::parse_unindexed(&blob, None)?.type_count();
    /// let mut storage = [0u32; 16];
    /// let btf = Btf::parse_with_storage(&blob, None, &mut storage[..count as usize])?;
    /// assert_eq!(btf.type_count(), count);
    /// # Ok::<(), btf_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse), and with a base as
    /// [`parse_split`](Self::parse_split) (byte order, and the
    /// [`MAX_SPLIT_DEPTH`] limit); [`Error::IndexTooSmall`] when `storage`
    /// has fewer entries than the blob has types.
    pub fn parse_with_storage(
        data: &'a [u8],
        base: Option<&'a Btf<'a>>,
        storage: &'a mut [u32],
    ) -> Result<Btf<'a>> {
        let provided = storage.len();
        let (mut btf, overflow) = {
            let mut sink = SliceSink {
                slots: &mut *storage,
                overflow: false,
            };
            (Self::parse_inner(data, base, &mut sink)?, sink.overflow)
        };
        if overflow {
            return Err(Error::IndexTooSmall {
                needed: btf.count,
                provided,
            });
        }
        let filled = storage.get(..btf.count as usize).unwrap_or_default();
        btf.offsets = Offsets::Borrowed(filled);
        Ok(btf)
    }

    #[cfg(feature = "alloc")]
    fn parse_owned(data: &'a [u8], base: Option<&'a Btf<'a>>) -> Result<Btf<'a>> {
        let header = Header::parse(data)?;
        let type_len = header.sections(data, base.is_some())?.types.len();
        let mut sink = walk::VecSink {
            offsets: alloc::vec::Vec::new(),
        };
        // A failed reservation is not fatal: pushing may still succeed.
        let _ = sink
            .offsets
            .try_reserve_exact(walk::likely_records(type_len));
        let mut btf = Self::parse_inner(data, base, &mut sink)?;
        btf.offsets = Offsets::owned(sink.offsets);
        Ok(btf)
    }

    /// Attaches a prebuilt [`BtfIndex`](crate::BtfIndex) to its blob in O(1),
    /// without walking the records again. This lets a value own both the
    /// bytes and the index and hand out `Btf` views on demand.
    ///
    /// # Errors
    ///
    /// Header errors as for [`parse`](Self::parse); with a base, the
    /// layering errors of [`parse_split`](Self::parse_split) (byte order,
    /// and the [`MAX_SPLIT_DEPTH`] limit); and [`Error::IndexMismatch`]
    /// when the index was built for a blob of another length or on another
    /// base.
    #[cfg(feature = "alloc")]
    pub fn with_index(
        data: &'a [u8],
        base: Option<&'a Btf<'a>>,
        index: &'a BtfIndex,
    ) -> Result<Btf<'a>> {
        Self::attach(data, base.map(BaseRef::Borrowed), index)
    }

    /// [`with_index`](Self::with_index) on a base this view will hold: a
    /// view of an owned base, made for it.
    #[cfg(feature = "alloc")]
    pub(crate) fn with_index_on_view(
        data: &'a [u8],
        base: Option<Btf<'a>>,
        index: &'a BtfIndex,
    ) -> Result<Btf<'a>> {
        Self::attach(
            data,
            base.map(|base| BaseRef::Held(alloc::boxed::Box::new(base))),
            index,
        )
    }

    /// The view of `data` on `base` with the parts `index` keeps: its id
    /// offsets, its name index when built, and what views have learnt.
    #[cfg(feature = "alloc")]
    fn attach(data: &'a [u8], base: Option<BaseRef<'a>>, index: &'a BtfIndex) -> Result<Btf<'a>> {
        let header = Header::parse(data)?;
        let sections = header.sections(data, base.is_some())?;
        let (first_id, str_start, depth) =
            layering(base.as_ref().map(BaseRef::get), &header, &sections)?;
        if !index.matches(data.len(), first_id, str_start) {
            return Err(Error::IndexMismatch);
        }
        let offsets = index.offsets();
        let count = u32::try_from(offsets.len()).map_err(|_| Error::IndexMismatch)?;
        Ok(Btf {
            data,
            endian: header.endian,
            header,
            sections,
            base,
            depth,
            first_id,
            count,
            str_start,
            offsets: Offsets::Borrowed(offsets),
            cache: Kept::Borrowed(index.cache()),
            names: index.names().map(Kept::Borrowed),
        })
    }

    /// Turns this parse into an owned [`BtfIndex`](crate::BtfIndex) that
    /// [`with_index`](Self::with_index) can attach to the same bytes later.
    /// The index keeps what this view has: its id offsets, its name index
    /// ([`index_names`](Self::index_names)) and what it has learnt (whether
    /// its names are sorted, its pointer size).
    #[cfg(feature = "alloc")]
    pub fn into_index(mut self) -> BtfIndex {
        let offsets = match core::mem::replace(&mut self.offsets, Offsets::Walk) {
            Offsets::Owned(v) => v,
            Offsets::Borrowed(s) => s.to_vec(),
            Offsets::Walk => {
                // Sized again by the record decoder, as the walk that
                // parsed the blob sized them.
                let layouts = layouts(self.sections.layout, self.base());
                record::Records::new(self.sections.types, self.endian, layouts.as_slice())
                    .map_while(core::result::Result::ok)
                    .take(self.count as usize)
                    // Records lie in the type section, whose length is a u32.
                    .map(|(at, _)| at as u32)
                    .collect()
            }
        };
        let names = self.names.take().map(|names| match names {
            Kept::Own(index) => index,
            Kept::Borrowed(index) => index.clone(),
        });
        BtfIndex::from_parts(
            offsets,
            self.data.len(),
            self.first_id,
            self.str_start,
            self.cache().clone(),
            names,
        )
    }

    fn parse_inner<S: OffsetSink>(
        data: &'a [u8],
        base: Option<&'a Btf<'a>>,
        sink: &mut S,
    ) -> Result<Btf<'a>> {
        let header = Header::parse(data)?;
        let sections = header.sections(data, base.is_some())?;
        let (first_id, str_start, depth) = layering(base, &header, &sections)?;
        let layouts = layouts(sections.layout, base);
        let input = walk_input(&sections, first_id, str_start, layouts.as_slice());
        let count = walk::frame(header.endian, &input, sink)?;
        Ok(Btf::assemble(
            data,
            header,
            sections,
            base,
            depth,
            first_id,
            count,
            str_start,
            Offsets::Walk,
        ))
    }

    /// Checks every element of this blob's own records: the name offset
    /// and type id of each member and parameter, the name of each
    /// enumerator, the type of each DATASEC entry (and again each record's
    /// own fields). With it, a blob is held to what libbpf's `btf__new`
    /// checks; without it, the same faults surface where the element is
    /// used (see [`Btf`]).
    ///
    /// Bases are not checked again: validate each blob of a chain once,
    /// the base before the splits put on it. An element of an unvalidated
    /// base whose type id is past the base's last id shows no fault when
    /// looked up through a split that holds that id: it resolves to the
    /// split's type. Only the base's own `validate` (or a lookup through
    /// the base itself) refuses it.
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// let btf = btf_core::Btf::parse(&blob)?;
    /// btf.validate()?;
    /// # Ok::<(), btf_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NameOutOfRange`] or [`Error::DanglingType`] for the first
    /// bad field, with its byte offset in the blob and the id of the type
    /// that holds it; [`Error::IndexMismatch`] when an index attached with
    /// [`with_index`](Self::with_index) does not describe these records.
    pub fn validate(&self) -> Result<()> {
        let layouts = layouts(self.sections.layout, self.base());
        let input = walk_input(
            &self.sections,
            self.first_id,
            self.str_start,
            layouts.as_slice(),
        );
        let count = walk::validate(self.endian, &input)?;
        // An index attached with `with_index` to other bytes of the same
        // length would make lookups disagree with this walk.
        if count != self.count {
            return Err(Error::IndexMismatch);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        data: &'a [u8],
        header: Header,
        sections: Sections<'a>,
        base: Option<&'a Btf<'a>>,
        depth: usize,
        first_id: u32,
        count: u32,
        str_start: u32,
        offsets: Offsets<'a>,
    ) -> Btf<'a> {
        Btf {
            data,
            endian: header.endian,
            header,
            sections,
            base: base.map(BaseRef::Borrowed),
            depth,
            first_id,
            count,
            str_start,
            offsets,
            cache: Kept::Own(Cache::default()),
            #[cfg(feature = "alloc")]
            names: None,
        }
    }

    /// A view of no bytes and no types: what an owned blob lends when its
    /// storage no longer gives the bytes it was parsed from.
    #[cfg(feature = "alloc")]
    pub(crate) fn detached() -> Btf<'a> {
        let header = Header {
            endian: Endian::Little,
            hdr_len: 24,
            type_off: 0,
            type_len: 0,
            str_off: 0,
            str_len: 0,
            layout: None,
        };
        let sections = Sections {
            types: &[],
            types_at: 0,
            strings: &[],
            strings_at: 0,
            layout: &[],
        };
        Btf::assemble(&[], header, sections, None, 0, 1, 0, 0, Offsets::Walk)
    }

    /// The whole blob's bytes, as given (header and every section; see
    /// [`type_section`](Self::type_section), [`strings`](Self::strings)
    /// and [`layout`](Self::layout) for the sections).
    #[inline]
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// The decoded header.
    #[inline]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The blob's byte order.
    #[inline]
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// The base this blob is split on, if any.
    #[inline]
    pub fn base(&self) -> Option<&Btf<'a>> {
        self.base.as_ref().map(BaseRef::get)
    }

    /// What this blob has learnt about itself (kept with its index when it
    /// has one).
    #[inline]
    pub(crate) fn cache(&self) -> &Cache {
        self.cache.get()
    }

    /// The hash index of own names, when built.
    #[cfg(feature = "alloc")]
    #[inline]
    pub(crate) fn name_index(&self) -> Option<&NameIndex> {
        self.names.as_ref().map(|names| &**names.get())
    }

    /// Keeps `index` as this blob's own hash index of names.
    #[cfg(feature = "alloc")]
    pub(crate) fn set_name_index(&mut self, index: NameIndex) {
        self.names = Some(Kept::Own(alloc::boxed::Box::new(index)));
    }

    /// Whether this is a split blob.
    #[inline]
    pub fn is_split(&self) -> bool {
        self.base.is_some()
    }

    /// The number of types this blob itself holds (not counting `void` or
    /// the base's types).
    #[inline]
    pub fn type_count(&self) -> u32 {
        self.count
    }

    /// The first id this blob holds: 1 for a base, the base's last id + 1
    /// for a split.
    #[inline]
    pub fn first_id(&self) -> TypeId {
        TypeId::new(self.first_id)
    }

    /// The last id this blob or its bases hold (0 when there are none).
    #[inline]
    pub fn last_id(&self) -> TypeId {
        // The walk checked that ids fit in 32 bits.
        TypeId::new(self.first_id.saturating_add(self.count).saturating_sub(1))
    }

    /// The string offset this blob's own strings start at (the base's total
    /// string length; 0 for a base).
    #[inline]
    pub fn str_start(&self) -> u32 {
        self.str_start
    }

    /// This blob's own string section.
    #[inline]
    pub fn strings(&self) -> &'a [u8] {
        self.sections.strings
    }

    /// This blob's own type section.
    #[inline]
    pub fn type_section(&self) -> &'a [u8] {
        self.sections.types
    }

    /// This blob's own kind layout section (empty when it has none).
    #[inline]
    pub fn layout(&self) -> &'a [BtfKindLayout] {
        self.sections.layout
    }

    /// Whether lookups by id are O(1) for this blob's own types.
    #[inline]
    pub fn is_indexed(&self) -> bool {
        self.offsets.as_slice().is_some()
    }

    /// The string at `offset`, resolving through the base for lower offsets.
    ///
    /// # Errors
    ///
    /// [`Error::StringOutOfRange`], [`Error::InvalidUtf8`].
    pub fn str_at(&self, offset: StrOffset) -> Result<&'a str> {
        let bytes = self.str_bytes_at(offset)?;
        core::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8 { offset })
    }

    /// The bytes of the string at `offset` (without its NUL), resolving
    /// through the base for lower offsets.
    ///
    /// # Errors
    ///
    /// [`Error::StringOutOfRange`].
    pub fn str_bytes_at(&self, offset: StrOffset) -> Result<&'a [u8]> {
        let mut btf = self;
        while offset.get() < btf.str_start {
            match btf.base() {
                Some(base) => btf = base,
                None => break,
            }
        }
        let rel = offset.get().wrapping_sub(btf.str_start) as usize;
        let tail = btf
            .sections
            .strings
            .get(rel..)
            .filter(|t| !t.is_empty())
            .ok_or(Error::StringOutOfRange { offset })?;
        let end = memchr::memchr(0, tail).unwrap_or(tail.len());
        Ok(tail.get(..end).unwrap_or_default())
    }

    /// The string section from `offset` to its end (resolving through the
    /// base for lower offsets), without looking for the NUL; empty when out
    /// of range.
    #[inline]
    pub(crate) fn str_tail(&self, offset: u32) -> &'a [u8] {
        let mut btf = self;
        while offset < btf.str_start {
            match btf.base() {
                Some(base) => btf = base,
                None => break,
            }
        }
        let rel = offset.wrapping_sub(btf.str_start) as usize;
        btf.sections.strings.get(rel..).unwrap_or_default()
    }

    /// The id index and the type section, for lookups that read records
    /// in place; `None` without an index.
    #[inline]
    pub(crate) fn indexed_records(&self) -> Option<(&[u32], &'a [u8])> {
        Some((self.offsets.as_slice()?, self.sections.types))
    }

    /// The record at `off` in the type section, sized from its own
    /// common part; `None` past the end or for a record that does not fit.
    #[inline]
    pub(crate) fn record_at(&self, off: usize) -> Option<&'a [u8]> {
        let rest = self.sections.types.get(off..)?;
        let (rec, _) = BtfType::ref_from_prefix(rest).ok()?;
        let info = Info::new(rec.info.get(self.endian));
        let len = self.record_len(info.kind(), info.vlen())?;
        rest.get(..len)
    }

    /// Size of a record of `kind` with `vlen` in this blob.
    #[inline]
    pub(crate) fn record_len(&self, kind: Kind, vlen: u32) -> Option<usize> {
        let size = if kind.is_known() {
            record::size(kind, vlen, &[])
        } else {
            record::size(
                kind,
                vlen,
                layouts(self.sections.layout, self.base()).as_slice(),
            )
        };
        size.and_then(|n| usize::try_from(n).ok())
    }

    /// The range of this blob's own ids.
    pub fn type_ids(&self) -> impl DoubleEndedIterator<Item = TypeId> + ExactSizeIterator {
        (self.first_id..self.first_id.saturating_add(self.count)).map(TypeId::new)
    }

    /// How deep the split chain under this blob is (0 for a base).
    #[inline]
    pub fn split_depth(&self) -> usize {
        self.depth
    }

    /// The kind layouts visible to this blob, own first.
    pub(crate) fn kind_layout(&self, kind: Kind) -> Option<&'a BtfKindLayout> {
        let mut b = Some(self);
        while let Some(btf) = b {
            if let Some(l) = btf.sections.layout.get(usize::from(kind.get())) {
                return Some(l);
            }
            b = btf.base();
        }
        None
    }
}

/// Ids, string start and depth for a blob with `header` and `sections` on
/// `base`.
///
/// # Errors
///
/// [`Error::SplitEndianMismatch`] when the blob's byte order is not the
/// base's, [`Error::SplitTooDeep`] when the base is already
/// [`MAX_SPLIT_DEPTH`] deep, [`Error::TooManyTypes`] (at the blob's type
/// section) when the base's ids end at `u32::MAX`, and
/// [`Error::StringsOverflow`] (at the blob's string section) when the
/// bases' strings leave no 32-bit offset for the blob's own.
fn layering(
    base: Option<&Btf<'_>>,
    header: &Header,
    sections: &Sections<'_>,
) -> Result<(u32, u32, usize)> {
    let Some(b) = base else {
        return Ok((1, 0, 0));
    };
    if header.endian != b.endian {
        return Err(Error::SplitEndianMismatch {
            split: header.endian,
            base: b.endian,
        });
    }
    let depth = b.depth.saturating_add(1);
    if depth > MAX_SPLIT_DEPTH {
        return Err(Error::SplitTooDeep {
            depth,
            limit: MAX_SPLIT_DEPTH,
        });
    }
    // The blob's first record would take the id past 32 bits.
    let first = b.first_id.checked_add(b.count).ok_or(Error::TooManyTypes {
        offset: sections.types_at,
    })?;
    let strs = u32::try_from(b.sections.strings.len())
        .ok()
        .and_then(|n| b.str_start.checked_add(n))
        .ok_or(Error::StringsOverflow {
            offset: sections.strings_at,
        })?;
    Ok((first, strs, depth))
}

#[cfg(feature = "alloc")]
impl BtfIndex {
    /// Parses `data` (on `base`, if given) and keeps its index.
    ///
    /// # Errors
    ///
    /// As [`Btf::parse`], and with a base as [`Btf::parse_split`] (the
    /// split in its base's byte order, at most
    /// [`MAX_SPLIT_DEPTH`](crate::MAX_SPLIT_DEPTH) levels deep).
    pub fn build(data: &[u8], base: Option<&Btf<'_>>) -> Result<BtfIndex> {
        let btf = match base {
            Some(base) => Btf::parse_split(data, base)?,
            None => Btf::parse(data)?,
        };
        Ok(btf.into_index())
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::testing::{RawBlob, tiny_blob};

    /// A split of one pointer and one string, its sections' byte offsets.
    fn split() -> (alloc::vec::Vec<u8>, usize, usize) {
        let mut m = RawBlob::split(Endian::Little, 0);
        let name = m.str("p");
        m.ty(name, 2, false, 0, 1);
        let blob = m.build();
        let header = Header::parse(&blob).unwrap();
        let types_at = (header.hdr_len + header.type_off) as usize;
        let strings_at = (header.hdr_len + header.str_off) as usize;
        assert_ne!(types_at, 0);
        (blob, types_at, strings_at)
    }

    #[test]
    fn a_base_whose_ids_end_at_u32_max_names_the_splits_type_section() {
        let base_blob = tiny_blob();
        let mut base = Btf::parse(&base_blob).unwrap();
        // As if the chain under the split held ids up to u32::MAX.
        base.count = u32::MAX;
        let (blob, types_at, _) = split();
        let want = Error::TooManyTypes { offset: types_at };
        assert_eq!(Btf::parse_split(&blob, &base).unwrap_err(), want);
        assert_eq!(Btf::parse_unindexed(&blob, Some(&base)).unwrap_err(), want);
        let batch = Btf::parse_splits([&blob[..]], &base);
        assert_eq!(batch.first().map(|r| r.as_ref().err()), Some(Some(&want)));
    }

    #[test]
    fn bases_whose_strings_pass_4_gib_name_the_splits_string_section() {
        let base_blob = tiny_blob();
        let mut base = Btf::parse(&base_blob).unwrap();
        // As if the bases under it held nearly 4 GiB of strings.
        base.str_start = u32::MAX - 1;
        let (blob, _, strings_at) = split();
        let want = Error::StringsOverflow { offset: strings_at };
        assert_eq!(Btf::parse_split(&blob, &base).unwrap_err(), want);
        assert_eq!(Btf::parse_unindexed(&blob, Some(&base)).unwrap_err(), want);
        let batch = Btf::parse_splits([&blob[..]], &base);
        assert_eq!(batch.first().map(|r| r.as_ref().err()), Some(Some(&want)));
    }
}
