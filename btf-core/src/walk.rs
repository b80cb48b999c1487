//! The walks over a type section: framing and validation.
//!
//! [`frame`], run by every parse, sizes each record, records its offset, and
//! checks the record's framing: that it fits, that its kind can be sized,
//! and that its name offset and the type ids in its fixed part
//! (`size_or_type` for the kinds that refer, ARRAY's element and index
//! types) are in range. [`validate`], run by
//! [`Btf::validate`](crate::Btf::validate), checks in addition every name
//! offset and type id in the records' elements (members, parameters,
//! enumerators, DATASEC entries).
//!
//! The walks are compiled once per byte order (see [`Order`]). To stay close
//! to the cost of a bare offset walk, records of known kinds are sized and
//! their references found through tables packed at compile time from the
//! record decoder's shapes (`record`), which `tests/walk_decoder.rs` holds
//! the walk to, and range checks are folded into two running maxima; only if a maximum is out of range does a second, precise
//! pass run to find the first offending field and report it. The walk of
//! many sections at once, for [`Btf::parse_splits`](crate::Btf::parse_splits),
//! is built from the same record step ([`known_record`], [`fold_own`]) in
//! `btf/splits/lanes.rs`, and concluded by the same code ([`conclude`]).

use crate::endian::{Be, Endian, Le, Order};
use crate::error::{Error, Result};
use crate::id::{Kind, TypeId};
use crate::record::{self, COMMON, Head, Info, Records, Ref, Shape};
use crate::wire::BtfKindLayout;

/// Where the records' offsets go. `Default` lets a walk move the sink into
/// its loop, where its fields live in registers rather than behind a
/// reference that every store might alias.
pub(crate) trait OffsetSink: Default {
    /// Records the offset (within the type section) of record `index`
    /// (0 for the first); indexes come in order, one by one.
    fn put(&mut self, index: u32, offset: u32);
}

/// Counts only.
#[derive(Default)]
pub(crate) struct NoSink;

impl OffsetSink for NoSink {
    #[inline(always)]
    fn put(&mut self, _: u32, _: u32) {}
}

/// Fills a slice; past its end, notes the overflow and only counts.
///
/// The walk's own record counter is the index, so storing an offset costs
/// one bounds check and one store, and the loop keeps its state in
/// registers.
#[derive(Default)]
pub(crate) struct SliceSink<'s> {
    pub(crate) slots: &'s mut [u32],
    pub(crate) overflow: bool,
}

impl OffsetSink for SliceSink<'_> {
    #[inline(always)]
    fn put(&mut self, index: u32, offset: u32) {
        match self.slots.get_mut(index as usize) {
            Some(slot) => *slot = offset,
            None => self.overflow = true,
        }
    }
}

/// Appends to a vector reserved beforehand: memory is written once, as the
/// walk reaches it, and only past the reservation does a push reallocate.
#[cfg(feature = "alloc")]
#[derive(Default)]
pub(crate) struct VecSink {
    pub(crate) offsets: alloc::vec::Vec<u32>,
}

#[cfg(feature = "alloc")]
impl OffsetSink for VecSink {
    #[inline(always)]
    fn put(&mut self, _: u32, offset: u32) {
        self.push(offset);
    }
}

#[cfg(feature = "alloc")]
impl VecSink {
    /// Appends `offset`.
    #[inline(always)]
    pub(crate) fn push(&mut self, offset: u32) {
        if self.offsets.len() < self.offsets.capacity() {
            self.offsets.push(offset);
        } else {
            self.grow_and_put(offset);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow_and_put(&mut self, offset: u32) {
        self.offsets.push(offset);
    }
}

/// A reservation for the index of a type section of `type_len` bytes.
///
/// Records average 25 bytes in vmlinux BTF and more in modules: one slot
/// per 24 bytes of type section usually holds the whole index, within about
/// 5% of its size. Beyond that the vector grows.
#[cfg(feature = "alloc")]
pub(crate) fn likely_records(type_len: usize) -> usize {
    type_len / 24 + 16
}

/// What the walk needs to know about the blob and its bases.
#[derive(Clone, Copy)]
pub(crate) struct WalkInput<'a, 'l> {
    pub(crate) types: &'a [u8],
    /// Absolute offset of the type section in the blob, for errors.
    pub(crate) types_at: usize,
    /// First own id (1 for a base blob).
    pub(crate) first_id: u32,
    /// Total string length visible to this blob (base's plus own).
    pub(crate) str_end: u64,
    /// Layout sections to size unknown kinds with: own first, then bases'.
    pub(crate) layouts: &'l [&'a [BtfKindLayout]],
}

/// Walks the type section, checking each record's framing (not its
/// elements), pushing each record's offset into `sink`; returns the number
/// of records.
pub(crate) fn frame(
    endian: Endian,
    input: &WalkInput<'_, '_>,
    sink: &mut impl OffsetSink,
) -> Result<u32> {
    run::<false>(endian, input, sink)
}

/// Walks the type section checking each record's framing and every
/// element; returns the number of records.
pub(crate) fn validate(endian: Endian, input: &WalkInput<'_, '_>) -> Result<u32> {
    run::<true>(endian, input, &mut NoSink)
}

/// [`frame`] (`ELEMENTS` false) or [`validate`] (true).
#[inline(always)]
fn run<const ELEMENTS: bool>(
    endian: Endian,
    input: &WalkInput<'_, '_>,
    sink: &mut impl OffsetSink,
) -> Result<u32> {
    match endian {
        Endian::Little => fast_walk::<Le, ELEMENTS>(input, sink),
        Endian::Big => fast_walk::<Be, ELEMENTS>(input, sink),
    }
}

/// What a fast walk that stopped at `off` with `folded` says of its
/// section: the record count, or the first fault.
#[inline(always)]
pub(crate) fn conclude<O: Order, const ELEMENTS: bool>(
    input: &WalkInput<'_, '_>,
    folded: &Folded,
    off: usize,
) -> Result<u32> {
    if off < input.types.len() {
        return Err(structure_error::<O>(input, off, folded.count));
    }
    let last_id = u64::from(input.first_id) + u64::from(folded.count);
    if u64::from(folded.max_name) < input.str_end
        && u64::from(folded.max_ref) < last_id
        && last_id <= u64::from(u32::MAX)
    {
        return Ok(folded.count);
    }
    // Something is out of range: walk again, checking each field, to say
    // which and where. The precise walk checks exactly the conditions the
    // maxima fold, so it cannot succeed here; should it, the blob is
    // accepted as it says.
    walk_precise::<O, ELEMENTS>(input)
}

/// Where a kind's references lie after the 12-byte common part, packed in
/// one word for [`known_records`] with elements:
///
/// - bits 16–23: the stride of the units that hold references (the
///   elements, or ARRAY's info as one unit); 16 for kinds with none, which
///   is larger than any of their bodies;
/// - bits 25, 26, 27: a unit's first word is a name offset, its first word
///   is a type id, its second word is a type id.
type Units = u32;

/// The [`Units`] word of every 7-bit kind, from the record decoder's
/// [`Shape`]s (0 for the kinds this crate does not know, which
/// [`known_records`] never sees). A shape this packing cannot hold stops
/// the build.
#[allow(clippy::panic)] // evaluated at compile time
const UNITS: [Units; 128] = {
    let mut table = [0; 128];
    let mut k = 1;
    while k <= Kind::MAX_KNOWN.get() {
        let Some(shape) = Shape::of(Kind::new(k)) else {
            panic!("a known kind without a shape");
        };
        let units = if shape.info_types != 0 {
            // The info part as one unit (ARRAY's): type ids in its first
            // two words, and no elements after it.
            assert!(shape.elem_sz == 0 && shape.info_sz >= 8 && shape.info_types & !0b11 == 0);
            units(
                shape.info_sz,
                false,
                shape.info_types & 1 != 0,
                shape.info_types & 2 != 0,
            )
        } else if shape.elem_name.is_some() || shape.elem_type.is_some() {
            // The elements, right after the common part: a name in the
            // first word, a type id in the first or second.
            assert!(shape.info_sz == 0 && shape.elem_sz >= 8);
            assert!(matches!(shape.elem_name, None | Some(0)));
            assert!(matches!(shape.elem_type, None | Some(0) | Some(1)));
            units(
                shape.elem_sz,
                matches!(shape.elem_name, Some(0)),
                matches!(shape.elem_type, Some(0)),
                matches!(shape.elem_type, Some(1)),
            )
        } else {
            // No references in the tail (INT, VAR and DECL_TAG have 4
            // info bytes): a stride longer than any such tail.
            units(16, false, false, false)
        };
        #[allow(clippy::indexing_slicing)] // evaluated at compile time, k < 128
        {
            table[k as usize] = units;
        }
        k += 1;
    }
    table
};

/// Packs one [`Units`] word.
const fn units(stride: u8, a_name: bool, a_type: bool, b_type: bool) -> Units {
    (stride as u32) << 16 | (a_name as u32) << 25 | (a_type as u32) << 26 | (b_type as u32) << 27
}

/// The `u32` at `at` in `bytes`, or 0 past the end.
#[inline(always)]
pub(crate) fn word<O: Order>(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..).and_then(|b| b.first_chunk::<4>()) {
        Some(w) => O::u32(*w),
        None => 0,
    }
}

/// The walk: sizes each record and folds the name offsets and type ids it
/// checks (each record's own; with `ELEMENTS`, every element's too) into
/// two maxima. Faults of structure (a record that does not fit, a kind that
/// cannot be sized) are reported where the walk stops; faults of range are
/// left to the precise walk, which the maxima trigger.
#[inline(always)]
fn fast_walk<O: Order, const ELEMENTS: bool>(
    input: &WalkInput<'_, '_>,
    sink: &mut impl OffsetSink,
) -> Result<u32> {
    let mut local = core::mem::take(sink);
    let (folded, off) = record_loop::<O, ELEMENTS>(input.types, input.layouts, &mut local);
    *sink = local;
    conclude::<O, ELEMENTS>(input, &folded, off)
}

/// For the kinds this crate knows (1 to [`Kind::MAX_KNOWN`]), two bits
/// per kind `k` at bit `2k`: the info bytes after the common part, in words
/// (0, 1 or 3).
const INFO_WORDS: u64 = packed_words(false);
/// As [`INFO_WORDS`], for the size of each `vlen` element (0, 2 or 3).
const ELEM_WORDS: u64 = packed_words(true);
/// Bit `k` set when kind `k`'s `size_or_type` is a type id.
const SIZE_OR_TYPE_IS_ID: u32 = {
    let mut bits = 0u32;
    let mut k = 1;
    while k <= Kind::MAX_KNOWN.get() {
        if Kind::new(k).has_type() {
            bits |= 1 << k;
        }
        k += 1;
    }
    bits
};

/// Packs [`Kind::record_layout`] two bits per kind, in 4-byte words.
const fn packed_words(elements: bool) -> u64 {
    let mut packed = 0u64;
    let mut k = 1;
    while k <= Kind::MAX_KNOWN.get() {
        if let Some((info_sz, elem_sz)) = Kind::new(k).record_layout() {
            let bytes = if elements { elem_sz } else { info_sz };
            // Evaluated at compile time: a layout that does not fit two
            // bits of words stops the build.
            assert!(bytes % 4 == 0 && bytes / 4 <= 3);
            packed |= ((bytes / 4) as u64) << (2 * k);
        }
        k += 1;
    }
    packed
}

/// The walk of [`fast_walk`]: stops at the end of `types` or at the first
/// record it cannot size or that does not fit, and returns what it folded
/// and where it stopped. For a parse, only each record's fixed part is
/// read: its name, `size_or_type` when that is a type id, and ARRAY's
/// element and index types; with `ELEMENTS`, every element's name and type
/// id too.
///
/// Records of known kinds go through [`known_records`]; this loop takes
/// over only for a record `known_records` cannot size (a kind sized by a
/// layout section, or an error), so the hot loop makes no call.
#[inline(always)]
fn record_loop<O: Order, const ELEMENTS: bool>(
    types: &[u8],
    layouts: &[&[BtfKindLayout]],
    sink: &mut impl OffsetSink,
) -> (Folded, usize) {
    let mut folded = Folded {
        count: 0,
        max_name: 0,
        max_ref: 0,
    };
    let mut off = 0usize;
    loop {
        (folded, off) = known_records::<O, ELEMENTS>(types, off, folded, sink);
        let Some(common) = types.get(off..).and_then(|r| r.first_chunk::<COMMON>()) else {
            break;
        };
        let info = Info::new(word::<O>(common, 4));
        if info.kind().is_known() {
            // It did not fit.
            break;
        }
        // Kind 0, or one sized by a layout section (no references this
        // crate can see).
        match sized_by_layout(info.kind(), info.vlen(), layouts) {
            Some(size) if size <= types.len() - off => {
                // The offset is below `types.len()`, which came from a u32.
                sink.put(folded.count, off as u32);
                folded.max_name = folded.max_name.max(word::<O>(common, 0));
                folded.count += 1;
                off += size;
            }
            _ => break,
        }
    }
    (folded, off)
}

/// The record at `off` when its kind is one this crate knows and it fits:
/// its common part, kind and size.
///
/// The offset of the next record depends on this one's size, so the chain
/// from loading `info` to the next offset bounds every walk: sizes come
/// from shifts of two constants (no table load), and the bounds check
/// compares against what is left, off the chain, so that the caller's
/// advance is a plain add.
#[inline(always)]
pub(crate) fn known_record<O: Order>(
    types: &[u8],
    off: usize,
) -> Option<(&[u8; COMMON], u32, usize)> {
    let common = types.get(off..).and_then(|r| r.first_chunk::<COMMON>())?;
    let info = Info::new(word::<O>(common, 4));
    let kind = info.kind_number();
    let vlen = info.vlen();
    if kind.wrapping_sub(1) >= u32::from(Kind::MAX_KNOWN.get()) {
        return None;
    }
    let at = 2 * kind;
    let info_words = ((INFO_WORDS >> at) & 3) as usize;
    let elem_words = ((ELEM_WORDS >> at) & 3) as usize;
    // vlen < 2^24 and elements are at most 3 words: no overflow, even in
    // 32 bits.
    let size = COMMON + 4 * (info_words + vlen as usize * elem_words);
    // `off` never passes `types.len()`.
    (size <= types.len() - off).then_some((common, kind, size))
}

/// Folds a known record's name and, when `size_or_type` is a type id, that.
#[inline(always)]
pub(crate) fn fold_own<O: Order>(
    common: &[u8; COMMON],
    kind: u32,
    max_name: &mut u32,
    max_ref: &mut u32,
) {
    *max_name = (*max_name).max(word::<O>(common, 0));
    let refers = 0u32.wrapping_sub((SIZE_OR_TYPE_IS_ID >> kind) & 1);
    *max_ref = (*max_ref).max(word::<O>(common, 8) & refers);
}

/// The loop over records of known kinds, from `off` to the end of `types`
/// or the first record of another kind or that does not fit; returns the
/// updated fold and where it stopped. Nothing in it calls or builds an
/// error, so its state stays in registers. With `ELEMENTS`, every
/// element's references are folded too (and ARRAY's, as one unit of the
/// same loop).
#[inline(always)]
pub(crate) fn known_records<O: Order, const ELEMENTS: bool>(
    types: &[u8],
    mut off: usize,
    folded: Folded,
    sink: &mut impl OffsetSink,
) -> (Folded, usize) {
    let Folded {
        mut count,
        mut max_name,
        mut max_ref,
    } = folded;
    while let Some((common, kind, size)) = known_record::<O>(types, off) {
        // The offset is below `types.len()`, which came from a u32 field.
        sink.put(count, off as u32);
        fold_own::<O>(common, kind, &mut max_name, &mut max_ref);
        if ELEMENTS {
            // Every unit (element, or ARRAY's info) in one loop, its words
            // masked by kind: no dispatch per record.
            let fk = UNITS.get(kind as usize).copied().unwrap_or(0);
            let stride = ((fk >> 16) & 0xff) as usize;
            let a_name = 0u32.wrapping_sub((fk >> 25) & 1);
            let a_type = 0u32.wrapping_sub((fk >> 26) & 1);
            let b_type = 0u32.wrapping_sub((fk >> 27) & 1);
            let mut units = types.get(off + COMMON..off + size).unwrap_or_default();
            while let Some((unit, _)) = units.split_first_chunk::<8>() {
                let a = word::<O>(unit, 0);
                let b = word::<O>(unit, 4);
                max_name = max_name.max(a & a_name);
                max_ref = max_ref.max(a & a_type).max(b & b_type);
                units = units.get(stride..).unwrap_or_default();
            }
        } else if kind == u32::from(Kind::ARRAY.get()) {
            // The record fits, and ARRAY's is 24 bytes: no overflow.
            let at = off + COMMON;
            max_ref = max_ref
                .max(word::<O>(types, at))
                .max(word::<O>(types, at + 4));
        }
        off += size;
        // At most `types.len() / 12` records, and that is below 2^32 / 12.
        count += 1;
    }
    let folded = Folded {
        count,
        max_name,
        max_ref,
    };
    (folded, off)
}

/// The size of a record of a kind this crate does not know, from a layout
/// section (`usize::MAX` when too big for memory); `None` when nothing can
/// size it.
#[cold]
#[inline(never)]
fn sized_by_layout(kind: Kind, vlen: u32, layouts: &[&[BtfKindLayout]]) -> Option<usize> {
    let size = record::size(kind, vlen, layouts)?;
    Some(usize::try_from(size).unwrap_or(usize::MAX))
}

/// Why the fast loop stopped at `off`, before the end of the section: the
/// record there (number `count`) is cut short or cannot be sized.
#[cold]
#[inline(never)]
fn structure_error<O: Order>(input: &WalkInput<'_, '_>, off: usize, count: u32) -> Error {
    let id = fold_id(input, count);
    let rest = input.types.get(off..).unwrap_or_default();
    let Some(common) = rest.first_chunk::<COMMON>() else {
        return truncated(input, id, off, COMMON as u64, rest.len());
    };
    let info = Info::new(word::<O>(common, 4));
    let kind = info.kind();
    match record::size(kind, info.vlen(), input.layouts) {
        Some(needed) => truncated(input, id, off, needed, rest.len()),
        None => {
            let offset = input.types_at.saturating_add(off);
            let id = TypeId::new(id);
            if kind == Kind::VOID {
                Error::InvalidKind { id, offset }
            } else {
                Error::UnknownKind { id, offset, kind }
            }
        }
    }
}

/// The id of the record after `count` records, for an error (saturating).
#[cold]
fn fold_id(input: &WalkInput<'_, '_>, count: u32) -> u32 {
    input.first_id.saturating_add(count)
}

/// What a walk folded so far: the records walked, and the maxima of the
/// name offsets and type ids it read.
#[derive(Default)]
pub(crate) struct Folded {
    pub(crate) count: u32,
    pub(crate) max_name: u32,
    pub(crate) max_ref: u32,
}

/// The field checks of the precise walk: each field is checked as it is
/// read, and the first bad one is reported.
struct Check {
    str_end: u64,
    last_id: u64,
    types_at: usize,
}

impl Check {
    #[inline(always)]
    fn name(&self, id: u32, field_at: usize, name_off: u32) -> Result<()> {
        if u64::from(name_off) >= self.str_end {
            return Err(Error::NameOutOfRange {
                id: TypeId::new(id),
                offset: self.types_at.saturating_add(field_at),
                name_off: crate::id::StrOffset::new(name_off),
            });
        }
        Ok(())
    }

    #[inline(always)]
    fn ty(&self, id: u32, field_at: usize, target: u32) -> Result<()> {
        if u64::from(target) >= self.last_id {
            return Err(Error::DanglingType {
                id: TypeId::new(id),
                offset: self.types_at.saturating_add(field_at),
                target: TypeId::new(target),
            });
        }
        Ok(())
    }
}

/// The field-by-field walk of the record checks and, with `ELEMENTS`, the
/// element checks, run after the fast loop's maxima found a fault: reports
/// the first bad field; returns the record count should there be none.
fn walk_precise<O: Order, const ELEMENTS: bool>(input: &WalkInput<'_, '_>) -> Result<u32> {
    let types = input.types;
    // The total first: count with a fast pass of sizes only (this is the
    // error path).
    let total = count_records::<O>(input)?;
    let check = Check {
        str_end: input.str_end,
        last_id: u64::from(input.first_id) + u64::from(total),
        types_at: input.types_at,
    };
    let mut off = 0usize;
    let mut id = input.first_id;
    let mut count = 0u32;
    while let Some(rest) = types.get(off..).filter(|r| !r.is_empty()) {
        let Some(head) = Head::read::<O>(rest) else {
            return Err(truncated(input, id, off, COMMON as u64, rest.len()));
        };
        let (kind, vlen) = (head.info.kind(), head.info.vlen());
        let Some(size) = record::size(kind, vlen, input.layouts) else {
            let offset = input.types_at.saturating_add(off);
            let id = TypeId::new(id);
            return Err(if kind == Kind::VOID {
                Error::InvalidKind { id, offset }
            } else {
                Error::UnknownKind { id, offset, kind }
            });
        };
        let Some(rec) = usize::try_from(size).ok().and_then(|n| rest.get(..n)) else {
            return Err(truncated(input, id, off, size, rest.len()));
        };
        // The record's own references; with `ELEMENTS`, its elements' too.
        let elements = if ELEMENTS { vlen as usize } else { 0 };
        for (at, what, _) in record::refs(kind, elements) {
            let field_at = off.saturating_add(at.saturating_mul(4));
            let value = word::<O>(rec, at.saturating_mul(4));
            match what {
                Ref::Name => check.name(id, field_at, value)?,
                Ref::Type => check.ty(id, field_at, value)?,
            }
        }
        count = count.checked_add(1).ok_or(Error::TooManyTypes {
            offset: input.types_at.saturating_add(off),
        })?;
        id = id.checked_add(1).ok_or(Error::TooManyTypes {
            offset: input.types_at.saturating_add(off),
        })?;
        off = off.saturating_add(rec.len());
    }
    Ok(count)
}

/// Counts records, checking only that each can be sized and fits.
fn count_records<O: Order>(input: &WalkInput<'_, '_>) -> Result<u32> {
    let sizes = Records::new(input.types, O::ENDIAN, input.layouts);
    let mut count = 0u32;
    for r in sizes {
        r.map_err(|_| Error::TooManyTypes {
            offset: input.types_at,
        })?;
        count = count.saturating_add(1);
    }
    Ok(count)
}

fn truncated(
    input: &WalkInput<'_, '_>,
    id: u32,
    off: usize,
    needed: u64,
    available: usize,
) -> Error {
    Error::RecordTruncated {
        id: TypeId::new(id),
        offset: input.types_at.saturating_add(off),
        needed,
        available,
    }
}
