//! The validating walk over a type section: sizes every record, records its
//! offset, and checks that it fits, that its kind can be sized, and that
//! every type id and name offset it holds is in range.
//!
//! The walk is compiled once per byte order (see [`Order`]). To stay close to
//! the cost of a bare offset walk, range checks are folded into two running
//! maxima; only if a maximum is out of range does a second, precise pass run
//! to find the first offending field and report it.

use crate::endian::{Be, Endian, Le, Order};
use crate::error::{Error, Result};
use crate::id::{Kind, TypeId};
use crate::wire::{
    BtfArray, BtfEnum, BtfEnum64, BtfKindLayout, BtfMember, BtfParam, BtfType, BtfVarSecinfo,
    INFO_KIND_MASK, INFO_KIND_SHIFT, INFO_VLEN_MASK,
};
use zerocopy::FromBytes;

/// Where the records' offsets go.
pub(crate) trait OffsetSink {
    /// Records the offset (within the type section) of the next record.
    fn push(&mut self, offset: u32);
}

/// Counts only.
pub(crate) struct NoSink;

impl OffsetSink for NoSink {
    #[inline(always)]
    fn push(&mut self, _: u32) {}
}

/// Fills caller storage; past its end, only counts.
pub(crate) struct SliceSink<'s> {
    pub(crate) slots: core::slice::IterMut<'s, u32>,
    pub(crate) overflow: bool,
}

impl OffsetSink for SliceSink<'_> {
    #[inline(always)]
    fn push(&mut self, offset: u32) {
        match self.slots.next() {
            Some(slot) => *slot = offset,
            None => self.overflow = true,
        }
    }
}

#[cfg(feature = "alloc")]
impl OffsetSink for alloc::vec::Vec<u32> {
    #[inline(always)]
    fn push(&mut self, offset: u32) {
        alloc::vec::Vec::push(self, offset);
    }
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

/// Size of a record of `kind` with `vlen`, or `None` when neither this crate
/// nor any of `layouts` knows the kind.
#[inline(always)]
pub(crate) fn record_size(kind: Kind, vlen: u32, layouts: &[&[BtfKindLayout]]) -> Option<u64> {
    let (info_sz, elem_sz) = match kind.record_layout() {
        Some(known) => known,
        None if kind == Kind::VOID => return None,
        None => {
            let entry = layouts
                .iter()
                .find_map(|l| l.get(usize::from(kind.get())))?;
            (entry.info_sz, entry.elem_sz)
        }
    };
    Some(12 + u64::from(info_sz) + u64::from(vlen) * u64::from(elem_sz))
}

/// Splits `info` into kind and vlen.
#[inline(always)]
pub(crate) fn decode_info(info: u32) -> (Kind, u32) {
    // The mask keeps the value below 128, so the cast cannot truncate.
    let kind = ((info >> INFO_KIND_SHIFT) & INFO_KIND_MASK) as u8;
    (Kind::new(kind), info & INFO_VLEN_MASK)
}

/// Walks the type section, pushing each record's offset into `sink`, and
/// returns the number of records.
pub(crate) fn walk(
    endian: Endian,
    input: &WalkInput<'_, '_>,
    sink: &mut impl OffsetSink,
) -> Result<u32> {
    let fast = match endian {
        Endian::Little => walk_in::<Le, false>(input, sink),
        Endian::Big => walk_in::<Be, false>(input, sink),
    }?;
    let last_id = u64::from(input.first_id) + u64::from(fast.count);
    if u64::from(fast.max_name) < input.str_end && u64::from(fast.max_ref) < last_id {
        return Ok(fast.count);
    }
    // Something is out of range: walk again, checking each field, to say
    // which and where.
    let precise = match endian {
        Endian::Little => walk_in::<Le, true>(input, &mut NoSink),
        Endian::Big => walk_in::<Be, true>(input, &mut NoSink),
    }?;
    // The precise walk checks exactly the conditions the maxima fold, so it
    // cannot succeed here; should it, the blob is accepted as it says.
    Ok(precise.count)
}

struct Folded {
    count: u32,
    max_name: u32,
    max_ref: u32,
}

/// Checks within one walk. With `PRECISE`, each field is checked as it is
/// read and the first bad one is reported; otherwise the maxima are folded.
struct Check<const PRECISE: bool> {
    max_name: u32,
    max_ref: u32,
    str_end: u64,
    last_id: u64,
    types_at: usize,
}

impl<const PRECISE: bool> Check<PRECISE> {
    #[inline(always)]
    fn name(&mut self, id: u32, field_at: usize, name_off: u32) -> Result<()> {
        if PRECISE {
            if u64::from(name_off) >= self.str_end {
                return Err(Error::NameOutOfRange {
                    id: TypeId::new(id),
                    offset: self.types_at.saturating_add(field_at),
                    name_off: crate::id::StrOffset::new(name_off),
                });
            }
        } else {
            self.max_name = self.max_name.max(name_off);
        }
        Ok(())
    }

    #[inline(always)]
    fn ty(&mut self, id: u32, field_at: usize, target: u32) -> Result<()> {
        if PRECISE {
            if u64::from(target) >= self.last_id {
                return Err(Error::DanglingType {
                    id: TypeId::new(id),
                    offset: self.types_at.saturating_add(field_at),
                    target: TypeId::new(target),
                });
            }
        } else {
            self.max_ref = self.max_ref.max(target);
        }
        Ok(())
    }
}

/// Returns the trailing data of a record as a slice of `T`.
#[inline(always)]
fn elems<T: FromBytes + zerocopy::KnownLayout + zerocopy::Immutable>(bytes: &[u8]) -> &[T] {
    <[T]>::ref_from_bytes(bytes).unwrap_or_default()
}

#[inline(always)]
fn walk_in<O: Order, const PRECISE: bool>(
    input: &WalkInput<'_, '_>,
    sink: &mut impl OffsetSink,
) -> Result<Folded> {
    let types = input.types;
    let mut check = Check::<PRECISE> {
        max_name: 0,
        max_ref: 0,
        str_end: input.str_end,
        last_id: 0,
        types_at: input.types_at,
    };
    if PRECISE {
        // The precise pass needs the total first: count with a fast pass of
        // sizes only (the caller only gets here on the error path).
        let count = count_records::<O>(input)?;
        check.last_id = u64::from(input.first_id) + u64::from(count);
    }
    let mut off = 0usize;
    let mut id = input.first_id;
    let mut count = 0u32;
    while let Some(rest) = types.get(off..).filter(|r| !r.is_empty()) {
        let Ok((rec, _)) = BtfType::ref_from_prefix(rest) else {
            return Err(truncated(input, id, off, 12, rest.len()));
        };
        let (kind, vlen) = decode_info(rec.info.get_in::<O>());
        let Some(size) = record_size(kind, vlen, input.layouts) else {
            let offset = input.types_at.saturating_add(off);
            let id = TypeId::new(id);
            return Err(if kind == Kind::VOID {
                Error::InvalidKind { id, offset }
            } else {
                Error::UnknownKind { id, offset, kind }
            });
        };
        let Some(body) = usize::try_from(size).ok().and_then(|n| rest.get(12..n)) else {
            return Err(truncated(input, id, off, size, rest.len()));
        };
        // `off` is below `types.len()`, which came from a u32 field.
        sink.push(off as u32);
        check.name(id, off, rec.name_off.get_in::<O>())?;
        let st = rec.size_or_type.get_in::<O>();
        let at = off.saturating_add(12);
        match kind.get() {
            // PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FUNC_PROTO's
            // return type, VAR, DECL_TAG, TYPE_TAG
            2 | 8..=12 | 14 | 17 | 18 => check.ty(id, off.saturating_add(8), st)?,
            3 => {
                if let Ok((arr, _)) = BtfArray::ref_from_prefix(body) {
                    check.ty(id, at, arr.type_.get_in::<O>())?;
                    check.ty(id, at.saturating_add(4), arr.index_type.get_in::<O>())?;
                }
            }
            4 | 5 => {
                for (i, m) in elems::<BtfMember>(body).iter().enumerate() {
                    let m_at = at.saturating_add(i.saturating_mul(12));
                    check.name(id, m_at, m.name_off.get_in::<O>())?;
                    check.ty(id, m_at.saturating_add(4), m.type_.get_in::<O>())?;
                }
            }
            6 => {
                for (i, e) in elems::<BtfEnum>(body).iter().enumerate() {
                    check.name(
                        id,
                        at.saturating_add(i.saturating_mul(8)),
                        e.name_off.get_in::<O>(),
                    )?;
                }
            }
            13 => {
                check.ty(id, off.saturating_add(8), st)?;
                for (i, p) in elems::<BtfParam>(body).iter().enumerate() {
                    let p_at = at.saturating_add(i.saturating_mul(8));
                    check.name(id, p_at, p.name_off.get_in::<O>())?;
                    check.ty(id, p_at.saturating_add(4), p.type_.get_in::<O>())?;
                }
            }
            15 => {
                for (i, v) in elems::<BtfVarSecinfo>(body).iter().enumerate() {
                    check.ty(
                        id,
                        at.saturating_add(i.saturating_mul(12)),
                        v.type_.get_in::<O>(),
                    )?;
                }
            }
            19 => {
                for (i, e) in elems::<BtfEnum64>(body).iter().enumerate() {
                    check.name(
                        id,
                        at.saturating_add(i.saturating_mul(12)),
                        e.name_off.get_in::<O>(),
                    )?;
                }
            }
            // INT, FWD, FLOAT: no references; unknown kinds: none we can see.
            _ => {}
        }
        count = count.checked_add(1).ok_or(Error::TooManyTypes {
            offset: input.types_at.saturating_add(off),
        })?;
        id = id.checked_add(1).ok_or(Error::TooManyTypes {
            offset: input.types_at.saturating_add(off),
        })?;
        off = off.saturating_add(12).saturating_add(body.len());
    }
    Ok(Folded {
        count,
        max_name: check.max_name,
        max_ref: check.max_ref,
    })
}

/// Counts records, checking only that each can be sized and fits.
fn count_records<O: Order>(input: &WalkInput<'_, '_>) -> Result<u32> {
    let sizes = RecordIter::<O>::new(input.types, input.layouts);
    let mut count = 0u32;
    for r in sizes {
        r.map_err(|_| Error::TooManyTypes {
            offset: input.types_at,
        })?;
        count = count.saturating_add(1);
    }
    Ok(count)
}

/// Iterates the (offset, length) of each record of an already-checked type
/// section.
pub(crate) struct RecordIter<'a, 'l, O> {
    types: &'a [u8],
    layouts: &'l [&'a [BtfKindLayout]],
    off: usize,
    _order: core::marker::PhantomData<O>,
}

impl<'a, 'l, O: Order> RecordIter<'a, 'l, O> {
    pub(crate) fn new(types: &'a [u8], layouts: &'l [&'a [BtfKindLayout]]) -> Self {
        RecordIter {
            types,
            layouts,
            off: 0,
            _order: core::marker::PhantomData,
        }
    }
}

impl<O: Order> Iterator for RecordIter<'_, '_, O> {
    type Item = core::result::Result<(usize, usize), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.types.get(self.off..).filter(|r| !r.is_empty())?;
        let Ok((rec, _)) = BtfType::ref_from_prefix(rest) else {
            self.off = self.types.len();
            return Some(Err(()));
        };
        let (kind, vlen) = decode_info(rec.info.get_in::<O>());
        let len = record_size(kind, vlen, self.layouts)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= rest.len());
        match len {
            Some(len) => {
                let at = self.off;
                self.off = self.off.saturating_add(len);
                Some(Ok((at, len)))
            }
            None => {
                self.off = self.types.len();
                Some(Err(()))
            }
        }
    }
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
