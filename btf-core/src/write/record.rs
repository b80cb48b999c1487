//! Where the name offsets and type ids are in a record of a known kind, by
//! 32-bit word position, in the writer's terms ([`Place`]): the record
//! decoder's [`refs`](crate::record::refs), shared by copying (to remap
//! them) and checking.

use super::error::Place;
use crate::id::Kind;
use crate::record::{self, Part, Ref, Shape};

/// What a word of a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    /// A name offset.
    Name(Place),
    /// A type id.
    Type(Place),
}

/// Calls `f` with the word position and meaning of every name and type id
/// of a record of `kind` that is `len` words long, in record order. Unknown
/// kinds report only their name.
///
/// Element positions follow the record's length, not its `vlen`, so a raw
/// record whose two disagree is walked as far as it goes.
pub(crate) fn for_each_field(kind: Kind, len: usize, mut f: impl FnMut(usize, Field)) {
    let tail_len = len.saturating_mul(4).saturating_sub(record::COMMON);
    let count = Shape::of(kind).map_or(0, |s| s.elements_in(tail_len));
    for (at, what, part) in record::refs(kind, count) {
        let place = match part {
            Part::Common => Place::Type,
            Part::Info(0) => Place::ArrayElem,
            Part::Info(_) => Place::ArrayIndex,
            Part::Element(i) => match kind {
                Kind::STRUCT | Kind::UNION => Place::Member(i),
                Kind::FUNC_PROTO => Place::Param(i),
                Kind::DATASEC => Place::Secinfo(i),
                _ => Place::Enumerator(i),
            },
        };
        f(
            at,
            match what {
                Ref::Name => Field::Name(place),
                Ref::Type => Field::Type(place),
            },
        );
    }
}
