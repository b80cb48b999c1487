//! The one decoder of a type record's layout.
//!
//! Every record is the 12-byte common part ([`BtfType`]: name offset,
//! `info`, `size_or_type`) followed by a tail: an info part of fixed size,
//! then `vlen` elements of fixed size. This module alone knows
//!
//! - the fields of the `info` word ([`Info`]: kind, `vlen`, kind flag);
//! - each kind's shape ([`Shape`]): the sizes of its info part and of its
//!   elements, what its `size_or_type` holds, and which words of its tail
//!   are name offsets or type ids ([`refs`]);
//! - the size of a whole record ([`size`]), for a kind this crate does not
//!   know from the layout sections a blob carries;
//! - the words packed inside a tail: an INT's encoding word ([`IntWord`]),
//!   a member's offset under the kind flag ([`MemberOffset`]);
//! - which wire struct each part of a tail is (asserted below against the
//!   shapes).
//!
//! Every other module reads records through it: the walk over the type
//! section (which packs these tables into its own fast form, checked
//! against this module by a test on the running kernel, the corpus and
//! hand-made corners), the views, the lookups, the raw dumper, the
//! writer and the kernel-exact check (its record and resolve passes).
//! [`Kind::record_layout`], [`Kind::has_size`] and [`Kind::has_type`] are
//! this module's answers, made public.

use crate::endian::{Endian, Order};
use crate::id::Kind;
use crate::wire::{
    BtfArray, BtfDeclTag, BtfEnum, BtfEnum64, BtfKindLayout, BtfMember, BtfParam, BtfType, BtfVar,
    BtfVarSecinfo, INFO_KFLAG, INFO_KIND_MASK, INFO_KIND_SHIFT, INFO_VLEN_MASK,
};
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// The bytes of the common part every record starts with.
pub(crate) const COMMON: usize = size_of::<BtfType>();

/// A record's `info` word: `vlen` in bits 0..=23, the kind in 24..=30, the
/// kind flag in bit 31 (the 2026 encoding; older blobs decode the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Info(u32);

impl Info {
    /// The largest `vlen` the word holds.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // the writer's
    pub(crate) const MAX_VLEN: u32 = INFO_VLEN_MASK;

    /// The word as stored (decoded from the blob's byte order).
    #[inline(always)]
    pub(crate) const fn new(raw: u32) -> Info {
        Info(raw)
    }

    /// The word for `kind`, `kflag` and `vlen`; a `vlen` above
    /// [`MAX_VLEN`](Self::MAX_VLEN) is cut to its low bits, and only the
    /// kind's low 7 bits are kept.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // the writer's
    #[inline]
    pub(crate) const fn encode(kind: Kind, kflag: bool, vlen: u32) -> Info {
        let kflag = if kflag { INFO_KFLAG } else { 0 };
        let kind = (kind.get() as u32 & INFO_KIND_MASK) << INFO_KIND_SHIFT;
        Info(kflag | kind | (vlen & INFO_VLEN_MASK))
    }

    /// The raw word.
    #[inline(always)]
    pub(crate) const fn raw(self) -> u32 {
        self.0
    }

    /// The kind's number (below 128), for tables indexed by kind.
    #[inline(always)]
    pub(crate) const fn kind_number(self) -> u32 {
        (self.0 >> INFO_KIND_SHIFT) & INFO_KIND_MASK
    }

    /// The kind.
    #[inline(always)]
    pub(crate) const fn kind(self) -> Kind {
        // The mask keeps the number below 128: the cast cannot truncate.
        Kind::new(self.kind_number() as u8)
    }

    /// `vlen`: the number of elements, or FUNC's linkage.
    #[inline(always)]
    pub(crate) const fn vlen(self) -> u32 {
        self.0 & INFO_VLEN_MASK
    }

    /// The kind flag.
    #[inline(always)]
    pub(crate) const fn kflag(self) -> bool {
        self.0 & INFO_KFLAG != 0
    }
}

/// What a kind's `size_or_type` word holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SizeOrType {
    /// A size in bytes (INT, STRUCT, UNION, ENUM, DATASEC, FLOAT, ENUM64).
    Size,
    /// A type id (PTR, TYPEDEF, the modifiers, FUNC, FUNC_PROTO's return
    /// type, VAR, DECL_TAG, TYPE_TAG).
    Type,
    /// Nothing (ARRAY, FWD: 0).
    Unused,
}

/// The layout of a known kind's records after the common part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Bytes of the info part, after the common part.
    pub(crate) info_sz: u8,
    /// Bytes of each of the `vlen` elements after the info part (0 when
    /// `vlen` counts none: FUNC's is its linkage).
    pub(crate) elem_sz: u8,
    /// What `size_or_type` holds.
    pub(crate) size_or_type: SizeOrType,
    /// The words of the info part that are type ids, one bit per word
    /// (ARRAY's element and index types).
    pub(crate) info_types: u8,
    /// The word of each element that is a name offset.
    pub(crate) elem_name: Option<u8>,
    /// The word of each element that is a type id.
    pub(crate) elem_type: Option<u8>,
}

impl Shape {
    /// A shape with no references in its tail.
    const fn plain(info_sz: u8, size_or_type: SizeOrType) -> Shape {
        Shape {
            info_sz,
            elem_sz: 0,
            size_or_type,
            info_types: 0,
            elem_name: None,
            elem_type: None,
        }
    }

    /// A shape with no info part and elements of `elem_sz` bytes.
    const fn elements(
        elem_sz: u8,
        size_or_type: SizeOrType,
        elem_name: Option<u8>,
        elem_type: Option<u8>,
    ) -> Shape {
        Shape {
            info_sz: 0,
            elem_sz,
            size_or_type,
            info_types: 0,
            elem_name,
            elem_type,
        }
    }

    /// The shape of `kind`, or `None` for a kind this crate does not know.
    pub(crate) const fn of(kind: Kind) -> Option<Shape> {
        if !kind.is_known() {
            return None;
        }
        // In bounds: known kinds are below 128.
        #[allow(clippy::indexing_slicing)]
        SHAPES[kind.get() as usize]
    }

    /// How many elements a tail of `tail_len` bytes holds after the info
    /// part (0 for a kind without elements).
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // the writer's
    #[inline]
    pub(crate) const fn elements_in(self, tail_len: usize) -> usize {
        if self.elem_sz == 0 {
            return 0;
        }
        tail_len.saturating_sub(self.info_sz as usize) / self.elem_sz as usize
    }
}

/// The shape of every kind this crate knows, by number.
#[allow(clippy::panic)] // evaluated at compile time: a panic stops the build
const SHAPES: [Option<Shape>; 128] = {
    use SizeOrType::{Size, Type, Unused};
    let mut table = [None; 128];
    let mut k = 1;
    while k <= Kind::MAX_KNOWN.get() {
        let shape = match Kind::new(k) {
            // The encoding word.
            Kind::INT => Shape::plain(4, Size),
            Kind::PTR
            | Kind::TYPEDEF
            | Kind::VOLATILE
            | Kind::CONST
            | Kind::RESTRICT
            | Kind::FUNC
            | Kind::TYPE_TAG => Shape::plain(0, Type),
            // `struct btf_array`: element type, index type, count.
            Kind::ARRAY => Shape {
                info_types: 0b11,
                ..Shape::plain(12, Unused)
            },
            // `struct btf_member`: name, type, offset.
            Kind::STRUCT | Kind::UNION => Shape::elements(12, Size, Some(0), Some(1)),
            // `struct btf_enum`: name, value.
            Kind::ENUM => Shape::elements(8, Size, Some(0), None),
            Kind::FWD => Shape::plain(0, Unused),
            // `struct btf_param`: name, type.
            Kind::FUNC_PROTO => Shape::elements(8, Type, Some(0), Some(1)),
            // The linkage word.
            Kind::VAR => Shape::plain(4, Type),
            // `struct btf_var_secinfo`: type, offset, size.
            Kind::DATASEC => Shape::elements(12, Size, None, Some(0)),
            Kind::FLOAT => Shape::plain(0, Size),
            // The component index word.
            Kind::DECL_TAG => Shape::plain(4, Type),
            // `struct btf_enum64`: name, low and high 32 bits.
            Kind::ENUM64 => Shape::elements(12, Size, Some(0), None),
            _ => panic!("a known kind without a shape"),
        };
        #[allow(clippy::indexing_slicing)] // evaluated at compile time, k < 128
        {
            table[k as usize] = Some(shape);
        }
        k += 1;
    }
    table
};

// Each part of a tail is the wire struct the shapes say, checked at compile
// time.
#[allow(clippy::panic)]
const _: () = {
    const fn sizes(kind: Kind) -> (usize, usize) {
        match Shape::of(kind) {
            Some(s) => (s.info_sz as usize, s.elem_sz as usize),
            None => panic!("an unknown kind"),
        }
    }
    assert!(sizes(Kind::INT).0 == size_of::<u32>());
    assert!(sizes(Kind::ARRAY).0 == size_of::<BtfArray>());
    assert!(sizes(Kind::STRUCT).1 == size_of::<BtfMember>());
    assert!(sizes(Kind::UNION).1 == size_of::<BtfMember>());
    assert!(sizes(Kind::ENUM).1 == size_of::<BtfEnum>());
    assert!(sizes(Kind::FUNC_PROTO).1 == size_of::<BtfParam>());
    assert!(sizes(Kind::VAR).0 == size_of::<BtfVar>());
    assert!(sizes(Kind::DATASEC).1 == size_of::<BtfVarSecinfo>());
    assert!(sizes(Kind::DECL_TAG).0 == size_of::<BtfDeclTag>());
    assert!(sizes(Kind::ENUM64).1 == size_of::<BtfEnum64>());
};

/// Bit `k` set when kind `k`'s `size_or_type` is a size.
const SIZE_KINDS: u128 = size_or_type_kinds(SizeOrType::Size);
/// Bit `k` set when kind `k`'s `size_or_type` is a type id.
const TYPE_KINDS: u128 = size_or_type_kinds(SizeOrType::Type);

const fn size_or_type_kinds(what: SizeOrType) -> u128 {
    let mut bits = 0u128;
    let mut k = 1;
    while k <= Kind::MAX_KNOWN.get() {
        if let Some(shape) = Shape::of(Kind::new(k)) {
            // `SizeOrType` has no `const` equality: compare discriminants.
            if shape.size_or_type as u8 == what as u8 {
                bits |= 1 << k;
            }
        }
        k += 1;
    }
    bits
}

impl Kind {
    /// Fixed bytes after the 12-byte common record, and bytes per `vlen`
    /// element, for a known kind; `None` for an unknown one.
    ///
    /// FUNC's `vlen` holds its linkage, not a count, so its element size is 0.
    ///
    /// ```
    /// use btf_core::Kind;
    /// assert_eq!(Kind::STRUCT.record_layout(), Some((0, 12)));
    /// assert_eq!(Kind::new(20).record_layout(), None);
    /// ```
    #[inline(always)]
    pub const fn record_layout(self) -> Option<(u8, u8)> {
        match Shape::of(self) {
            Some(s) => Some((s.info_sz, s.elem_sz)),
            None => None,
        }
    }

    /// Whether `size_or_type` holds a size for this kind.
    #[inline]
    pub const fn has_size(self) -> bool {
        self.get() < 128 && (SIZE_KINDS >> self.get()) & 1 != 0
    }

    /// Whether `size_or_type` holds a type id for this kind.
    #[inline]
    pub const fn has_type(self) -> bool {
        self.get() < 128 && (TYPE_KINDS >> self.get()) & 1 != 0
    }
}

/// The size of a record of `kind` with `vlen`, or `None` when neither this
/// crate nor any of `layouts` (layout sections, own first, then the
/// bases') knows the kind. Kind 0 is never a record.
#[inline(always)]
pub(crate) fn size(kind: Kind, vlen: u32, layouts: &[&[BtfKindLayout]]) -> Option<u64> {
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
    Some(COMMON as u64 + u64::from(info_sz) + u64::from(vlen) * u64::from(elem_sz))
}

/// The common part at the start of `rec`, with its fields decoded in the
/// compile-time order `O`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head {
    /// The name offset.
    pub(crate) name_off: u32,
    /// The `info` word.
    pub(crate) info: Info,
    /// The `size_or_type` word.
    pub(crate) size_or_type: u32,
}

impl Head {
    /// The common part of `rec` in the compile-time order `O`; `None` when
    /// `rec` is shorter than it.
    #[inline(always)]
    pub(crate) fn read<O: Order>(rec: &[u8]) -> Option<Head> {
        let (head, _) = BtfType::ref_from_prefix(rec).ok()?;
        Some(Head {
            name_off: head.name_off.get_in::<O>(),
            info: Info::new(head.info.get_in::<O>()),
            size_or_type: head.size_or_type.get_in::<O>(),
        })
    }
}

impl Head {
    /// The common part at the start of `rec` in the run-time order
    /// `endian`, bytes past the end of `rec` read as zeros (a record cut
    /// short by the end of its section still shows its name and `info`
    /// when they are there).
    #[cfg(feature = "alloc")] // kernel_check's
    #[inline(always)]
    pub(crate) fn read_padded(rec: &[u8], endian: Endian) -> Head {
        match BtfType::ref_from_prefix(rec) {
            Ok((head, _)) => Head::decode(head, endian),
            Err(_) => Head::read_short(rec, endian),
        }
    }

    /// [`Head::read_padded`] of a record shorter than the common part.
    #[cfg(feature = "alloc")]
    #[cold]
    #[inline(never)]
    fn read_short(rec: &[u8], endian: Endian) -> Head {
        let mut padded = [0u8; COMMON];
        padded.iter_mut().zip(rec).for_each(|(d, s)| *d = *s);
        match BtfType::ref_from_bytes(&padded) {
            Ok(head) => Head::decode(head, endian),
            // `padded` is exactly one common part.
            Err(_) => Head::ZERO,
        }
    }

    #[cfg(feature = "alloc")]
    #[inline(always)]
    fn decode(head: &BtfType, endian: Endian) -> Head {
        Head {
            name_off: head.name_off.get(endian),
            info: Info::new(head.info.get(endian)),
            size_or_type: head.size_or_type.get(endian),
        }
    }

    /// The common part of `void`: all zeros.
    #[cfg(feature = "alloc")]
    pub(crate) const ZERO: Head = Head {
        name_off: 0,
        info: Info::new(0),
        size_or_type: 0,
    };
}

/// The tail of a record: what follows the common part.
#[inline(always)]
pub(crate) fn tail(rec: &[u8]) -> &[u8] {
    rec.get(COMMON..).unwrap_or_default()
}

/// The info part at the start of a tail, as its wire struct; `None` when
/// the tail is too short.
#[inline(always)]
pub(crate) fn info_part<T: FromBytes + KnownLayout + Immutable>(tail: &[u8]) -> Option<&T> {
    T::ref_from_prefix(tail).ok().map(|(t, _)| t)
}

/// The first `count` elements of a tail with no info part (every kind
/// with elements has none), as wire structs; empty when the tail is too
/// short for them.
#[inline(always)]
pub(crate) fn elements<E: FromBytes + KnownLayout + Immutable>(tail: &[u8], count: usize) -> &[E] {
    <[E]>::ref_from_prefix_with_elems(tail, count)
        .map(|(elems, _)| elems)
        .unwrap_or_default()
}

/// What a word of a record refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ref {
    /// A name offset.
    Name,
    /// A type id.
    Type,
}

/// Which part of a record a reference is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// The common part: the record's name, or its `size_or_type`.
    Common,
    /// The info part; ARRAY's element type is 0, its index type 1.
    Info(u8),
    /// Element number `i`.
    Element(u32),
}

/// Every word of a record of `kind` with `count` elements that is a name
/// offset or a type id, in record order: `(word, what, where)`, `word`
/// counting 4-byte words from the start of the record. A kind this crate
/// does not know has only its name.
pub(crate) fn refs(kind: Kind, count: usize) -> Refs {
    let shape = Shape::of(kind);
    Refs {
        shape,
        count: if shape.is_some_and(|s| s.elem_sz != 0) {
            count
        } else {
            0
        },
        step: 0,
        element: 0,
    }
}

/// The iterator of [`refs`].
#[derive(Clone, Debug)]
pub(crate) struct Refs {
    shape: Option<Shape>,
    count: usize,
    /// 0: the name; 1: `size_or_type`; 2 and 3: the info part's words 0
    /// and 1; 4: an element's name; 5: its type.
    step: u8,
    element: usize,
}

impl Iterator for Refs {
    type Item = (usize, Ref, Part);

    fn next(&mut self) -> Option<(usize, Ref, Part)> {
        const FIRST: usize = COMMON / 4;
        loop {
            let step = self.step;
            if step < 4 {
                self.step += 1;
            }
            match step {
                0 => return Some((0, Ref::Name, Part::Common)),
                1 => {
                    if self.shape?.size_or_type == SizeOrType::Type {
                        return Some((2, Ref::Type, Part::Common));
                    }
                }
                2 | 3 => {
                    let word = step - 2;
                    if self.shape?.info_types >> word & 1 != 0 {
                        return Some((FIRST + usize::from(word), Ref::Type, Part::Info(word)));
                    }
                }
                _ => {
                    let shape = self.shape?;
                    if self.element >= self.count {
                        return None;
                    }
                    let index = u32::try_from(self.element).unwrap_or(u32::MAX);
                    let start = FIRST
                        + usize::from(shape.info_sz / 4)
                        + self.element * usize::from(shape.elem_sz / 4);
                    let (what, word) = if step == 4 {
                        self.step = 5;
                        (Ref::Name, shape.elem_name)
                    } else {
                        self.step = 4;
                        self.element += 1;
                        (Ref::Type, shape.elem_type)
                    };
                    if let Some(word) = word {
                        return Some((start + usize::from(word), what, Part::Element(index)));
                    }
                }
            }
        }
    }
}

/// An INT's encoding word: encoding bits 24..=27, bit offset 16..=23,
/// number of bits 0..=7; bits 28..=31 are reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IntWord {
    /// [`INT_SIGNED`](crate::wire::INT_SIGNED),
    /// [`INT_CHAR`](crate::wire::INT_CHAR),
    /// [`INT_BOOL`](crate::wire::INT_BOOL).
    pub(crate) encoding: u8,
    /// The value's bit offset in its storage.
    pub(crate) offset: u8,
    /// The number of value bits.
    pub(crate) bits: u8,
}

impl IntWord {
    /// The reserved bits.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // the writer's
    pub(crate) const RESERVED: u32 = 0xf000_0000;

    /// Decodes `word` (ignoring the reserved bits).
    #[inline]
    pub(crate) const fn decode(word: u32) -> IntWord {
        IntWord {
            encoding: ((word >> 24) & 0x0f) as u8,
            offset: ((word >> 16) & 0xff) as u8,
            bits: (word & 0xff) as u8,
        }
    }

    /// Encodes the word (the encoding's low 4 bits).
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // the writer's
    #[inline]
    pub(crate) const fn encode(self) -> u32 {
        (self.encoding as u32 & 0x0f) << 24 | (self.offset as u32) << 16 | self.bits as u32
    }
}

/// A member's `offset` word: the bit offset, and with the aggregate's kind
/// flag, `bitfield_size << 24 | bit_offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemberOffset {
    /// The offset in bits from the start of the aggregate.
    pub(crate) bit_offset: u32,
    /// The bitfield's width in bits, 0 when not a bitfield (always without
    /// the kind flag).
    pub(crate) bitfield_size: u32,
}

impl MemberOffset {
    /// The bits of the offset under the kind flag.
    const OFFSET_BITS: u32 = 0x00ff_ffff;

    /// Decodes `word` as the aggregate's kind flag says.
    #[inline(always)]
    pub(crate) const fn decode(word: u32, kflag: bool) -> MemberOffset {
        if kflag {
            MemberOffset {
                bit_offset: word & Self::OFFSET_BITS,
                bitfield_size: word >> 24,
            }
        } else {
            MemberOffset {
                bit_offset: word,
                bitfield_size: 0,
            }
        }
    }

    /// Encodes the word for an aggregate with the kind flag (`kflag`) or
    /// without; with it, an offset above 24 bits is cut to them and the
    /// size to 8 bits.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))] // the writer's
    #[inline]
    pub(crate) const fn encode(self, kflag: bool) -> u32 {
        if kflag {
            (self.bitfield_size & 0xff) << 24 | (self.bit_offset & Self::OFFSET_BITS)
        } else {
            self.bit_offset
        }
    }
}

/// The (offset, length) of each record of a type section, sized by this
/// module: the decoder's own walk, which the fast walk is checked against.
/// Yields `Err(offset)` for a record that cannot be sized or does not fit,
/// and then ends.
pub(crate) struct Records<'a, 'l> {
    types: &'a [u8],
    layouts: &'l [&'a [BtfKindLayout]],
    endian: Endian,
    off: usize,
}

impl<'a, 'l> Records<'a, 'l> {
    /// The records of `types` in `endian` order, unknown kinds sized
    /// through `layouts`.
    pub(crate) fn new(types: &'a [u8], endian: Endian, layouts: &'l [&'a [BtfKindLayout]]) -> Self {
        Records {
            types,
            layouts,
            endian,
            off: 0,
        }
    }
}

impl Iterator for Records<'_, '_> {
    type Item = Result<(usize, usize), usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.types.get(self.off..).filter(|r| !r.is_empty())?;
        let at = self.off;
        let len = BtfType::ref_from_prefix(rest)
            .ok()
            .and_then(|(rec, _)| {
                let info = Info::new(rec.info.get(self.endian));
                size(info.kind(), info.vlen(), self.layouts)
            })
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= rest.len());
        match len {
            Some(len) => {
                self.off = at.saturating_add(len);
                Some(Ok((at, len)))
            }
            None => {
                self.off = self.types.len();
                Some(Err(at))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn info_round_trips() {
        for kind in (0..128).map(Kind::new) {
            for kflag in [false, true] {
                for vlen in [0, 1, 0xffff, Info::MAX_VLEN] {
                    let info = Info::encode(kind, kflag, vlen);
                    assert_eq!(
                        (info.kind(), info.kflag(), info.vlen()),
                        (kind, kflag, vlen)
                    );
                }
            }
        }
        assert_eq!(Info::new(0x8400_0002).kind(), Kind::STRUCT);
        assert!(Info::new(0x8400_0002).kflag());
        // Bits above 24 of vlen and above 7 of the kind are cut.
        assert_eq!(
            Info::encode(Kind::new(0xff), false, u32::MAX).raw(),
            0x7fff_ffff
        );
    }

    #[test]
    fn shapes_are_the_kernels() {
        // (kind, info_sz, elem_sz, size, type) from include/uapi/linux/btf.h.
        let kernel = [
            (Kind::INT, 4, 0, true, false),
            (Kind::PTR, 0, 0, false, true),
            (Kind::ARRAY, 12, 0, false, false),
            (Kind::STRUCT, 0, 12, true, false),
            (Kind::UNION, 0, 12, true, false),
            (Kind::ENUM, 0, 8, true, false),
            (Kind::FWD, 0, 0, false, false),
            (Kind::TYPEDEF, 0, 0, false, true),
            (Kind::VOLATILE, 0, 0, false, true),
            (Kind::CONST, 0, 0, false, true),
            (Kind::RESTRICT, 0, 0, false, true),
            (Kind::FUNC, 0, 0, false, true),
            (Kind::FUNC_PROTO, 0, 8, false, true),
            (Kind::VAR, 4, 0, false, true),
            (Kind::DATASEC, 0, 12, true, false),
            (Kind::FLOAT, 0, 0, true, false),
            (Kind::DECL_TAG, 4, 0, false, true),
            (Kind::TYPE_TAG, 0, 0, false, true),
            (Kind::ENUM64, 0, 12, true, false),
        ];
        for (kind, info_sz, elem_sz, has_size, has_type) in kernel {
            assert_eq!(kind.record_layout(), Some((info_sz, elem_sz)), "{kind}");
            assert_eq!(kind.has_size(), has_size, "{kind}");
            assert_eq!(kind.has_type(), has_type, "{kind}");
        }
        for k in [0u8, 20, 127, 128, 255] {
            let kind = Kind::new(k);
            assert_eq!(kind.record_layout(), None);
            assert!(!kind.has_size() && !kind.has_type());
        }
    }

    #[test]
    fn refs_in_record_order() {
        let all = |kind, count| refs(kind, count).collect::<Vec<_>>();
        use Part::{Common, Element, Info};
        use Ref::{Name, Type};
        assert_eq!(all(Kind::INT, 0), [(0, Name, Common)]);
        assert_eq!(all(Kind::PTR, 0), [(0, Name, Common), (2, Type, Common)]);
        assert_eq!(
            all(Kind::ARRAY, 0),
            [(0, Name, Common), (3, Type, Info(0)), (4, Type, Info(1))]
        );
        assert_eq!(
            all(Kind::STRUCT, 2),
            [
                (0, Name, Common),
                (3, Name, Element(0)),
                (4, Type, Element(0)),
                (6, Name, Element(1)),
                (7, Type, Element(1)),
            ]
        );
        assert_eq!(
            all(Kind::FUNC_PROTO, 1),
            [
                (0, Name, Common),
                (2, Type, Common),
                (3, Name, Element(0)),
                (4, Type, Element(0)),
            ]
        );
        assert_eq!(
            all(Kind::ENUM, 2),
            [
                (0, Name, Common),
                (3, Name, Element(0)),
                (5, Name, Element(1))
            ]
        );
        assert_eq!(
            all(Kind::ENUM64, 2),
            [
                (0, Name, Common),
                (3, Name, Element(0)),
                (6, Name, Element(1))
            ]
        );
        assert_eq!(
            all(Kind::DATASEC, 2),
            [
                (0, Name, Common),
                (3, Type, Element(0)),
                (6, Type, Element(1))
            ]
        );
        // FUNC's vlen is its linkage: no elements, whatever the count.
        assert_eq!(all(Kind::FUNC, 1), [(0, Name, Common), (2, Type, Common)]);
        assert_eq!(all(Kind::new(20), 3), [(0, Name, Common)]);
    }

    #[test]
    fn packed_words() {
        let w = IntWord::decode(0xf123_4520);
        assert_eq!((w.encoding, w.offset, w.bits), (1, 0x23, 0x20));
        // Bits 8..=15 are not part of any field.
        assert_eq!(w.encode(), 0x0123_0020);
        let m = MemberOffset::decode(0x0300_0020, true);
        assert_eq!((m.bit_offset, m.bitfield_size), (32, 3));
        assert_eq!(m.encode(true), 0x0300_0020);
        let m = MemberOffset::decode(0x0300_0020, false);
        assert_eq!((m.bit_offset, m.bitfield_size), (0x0300_0020, 0));
    }
}
