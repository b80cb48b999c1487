//! Where the name offsets and type ids are in a record of a known kind, by
//! 32-bit word position. Shared by copying (to remap them) and checking.

use super::error::Place;
use crate::id::Kind;
use crate::wire::{INFO_KFLAG, INFO_KIND_MASK, INFO_KIND_SHIFT, INFO_VLEN_MASK};

/// What a word of a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    /// A name offset.
    Name(Place),
    /// A type id.
    Type(Place),
}

/// Kind, kind flag and vlen of an `info` word.
#[inline]
pub(crate) fn decode_info(info: u32) -> (Kind, bool, u32) {
    let kind = ((info >> INFO_KIND_SHIFT) & INFO_KIND_MASK) as u8;
    (
        Kind::new(kind),
        info & INFO_KFLAG != 0,
        info & INFO_VLEN_MASK,
    )
}

/// Encodes an `info` word; `vlen` above 24 bits is cut to them.
#[inline]
pub(crate) fn encode_info(kind: Kind, kflag: bool, vlen: u32) -> u32 {
    let kflag = if kflag { INFO_KFLAG } else { 0 };
    kflag | (u32::from(kind.get()) & INFO_KIND_MASK) << INFO_KIND_SHIFT | (vlen & INFO_VLEN_MASK)
}

/// Calls `f` with the word position and meaning of every name and type id
/// of a record of `kind` that is `len` words long, in record order. Unknown
/// kinds report only their name.
///
/// Element positions follow the record's length, not its `vlen`, so a raw
/// record whose two disagree is walked as far as it goes.
pub(crate) fn for_each_field(kind: Kind, len: usize, mut f: impl FnMut(usize, Field)) {
    f(0, Field::Name(Place::Type));
    if kind.has_type() {
        f(2, Field::Type(Place::Type));
    }
    // (first element word, words per element, name word, type word)
    let (first, step, name, ty): (usize, usize, Option<usize>, Option<usize>) = match kind {
        Kind::ARRAY => {
            f(3, Field::Type(Place::ArrayElem));
            f(4, Field::Type(Place::ArrayIndex));
            return;
        }
        Kind::STRUCT | Kind::UNION => (3, 3, Some(0), Some(1)),
        Kind::ENUM => (3, 2, Some(0), None),
        Kind::ENUM64 => (3, 3, Some(0), None),
        Kind::FUNC_PROTO => (3, 2, Some(0), Some(1)),
        Kind::DATASEC => (3, 3, None, Some(0)),
        _ => return,
    };
    let count = len.saturating_sub(first) / step;
    for i in 0..count {
        let at = first + i * step;
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let place = match kind {
            Kind::STRUCT | Kind::UNION => Place::Member(index),
            Kind::FUNC_PROTO => Place::Param(index),
            Kind::DATASEC => Place::Secinfo(index),
            _ => Place::Enumerator(index),
        };
        if let Some(n) = name {
            f(at + n, Field::Name(place));
        }
        if let Some(t) = ty {
            f(at + t, Field::Type(place));
        }
    }
}
