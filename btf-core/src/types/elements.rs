//! Views of a record's elements, in place: members, parameters,
//! enumerators and DATASEC entries, and the iterator over them.

use crate::btf::Btf;
use crate::error::Result;
use crate::id::{StrOffset, TypeId};
use crate::record::MemberOffset;
use crate::wire::{BtfEnum, BtfEnum64, BtfMember, BtfParam, BtfVarSecinfo};
use core::fmt;
use core::marker::PhantomData;
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// What an element view needs from its type: the blob and the kind flag.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    pub(super) btf: &'a Btf<'a>,
    pub(super) kflag: bool,
}

/// A view of one trailing element (member, parameter, enumerator, datasec
/// entry). Implemented by this crate's element views only.
pub trait Element<'a>: Sized + private::Sealed {
    /// The wire struct.
    type Wire: FromBytes + KnownLayout + Immutable + 'a;

    /// Wraps one wire element.
    fn new(ctx: Ctx<'a>, raw: &'a Self::Wire) -> Self;
}

mod private {
    // Deliberately unnameable: it seals a public trait.
    #[allow(unnameable_types)]
    pub trait Sealed {}
}

/// An iterator over a record's trailing elements, in place. Also gives the
/// raw wire slice.
pub struct Elements<'a, E: Element<'a>> {
    ctx: Ctx<'a>,
    iter: core::slice::Iter<'a, E::Wire>,
    _e: PhantomData<E>,
}

impl<'a, E: Element<'a>> Clone for Elements<'a, E> {
    fn clone(&self) -> Self {
        Elements {
            ctx: self.ctx,
            iter: self.iter.clone(),
            _e: PhantomData,
        }
    }
}

impl<'a, E: Element<'a>> fmt::Debug for Elements<'a, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Elements")
            .field("len", &self.iter.len())
            .finish()
    }
}

impl<'a, E: Element<'a>> Elements<'a, E> {
    /// The elements `wire`, of a type whose context is `ctx`.
    pub(super) fn new(ctx: Ctx<'a>, wire: &'a [E::Wire]) -> Self {
        Elements {
            ctx,
            iter: wire.iter(),
            _e: PhantomData,
        }
    }

    /// The remaining elements as wire structs.
    pub fn raw(&self) -> &'a [E::Wire] {
        self.iter.as_slice()
    }

    /// The `i`-th remaining element.
    pub fn get(&self, i: usize) -> Option<E> {
        self.iter.as_slice().get(i).map(|raw| E::new(self.ctx, raw))
    }
}

impl<'a, E: Element<'a>> Iterator for Elements<'a, E> {
    type Item = E;

    #[inline]
    fn next(&mut self) -> Option<E> {
        self.iter.next().map(|raw| E::new(self.ctx, raw))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }

    fn nth(&mut self, n: usize) -> Option<E> {
        self.iter.nth(n).map(|raw| E::new(self.ctx, raw))
    }
}

impl<'a, E: Element<'a>> DoubleEndedIterator for Elements<'a, E> {
    fn next_back(&mut self) -> Option<E> {
        self.iter.next_back().map(|raw| E::new(self.ctx, raw))
    }
}

impl<'a, E: Element<'a>> ExactSizeIterator for Elements<'a, E> {}
impl<'a, E: Element<'a>> core::iter::FusedIterator for Elements<'a, E> {}

/// The members of a STRUCT or UNION.
pub type Members<'a> = Elements<'a, Member<'a>>;
/// The enumerators of an ENUM.
pub type Enumerators<'a> = Elements<'a, Enumerator<'a>>;
/// The enumerators of an ENUM64.
pub type Enumerators64<'a> = Elements<'a, Enumerator64<'a>>;
/// The parameters of a FUNC_PROTO.
pub type Params<'a> = Elements<'a, Param<'a>>;
/// The entries of a DATASEC.
pub type VarSecinfos<'a> = Elements<'a, VarSecinfo<'a>>;

macro_rules! element {
    ($(#[$doc:meta])* $name:ident, $wire:ty) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name<'a> {
            ctx: Ctx<'a>,
            raw: &'a $wire,
        }

        impl private::Sealed for $name<'_> {}

        impl<'a> Element<'a> for $name<'a> {
            type Wire = $wire;
            #[inline]
            fn new(ctx: Ctx<'a>, raw: &'a $wire) -> Self {
                $name { ctx, raw }
            }
        }

        impl<'a> $name<'a> {
            /// The wire struct, in place.
            pub fn raw(&self) -> &'a $wire {
                self.raw
            }
        }
    };
}

macro_rules! named_element {
    ($name:ident) => {
        impl<'a> $name<'a> {
            /// The name's offset in the strings.
            #[inline]
            pub fn name_offset(&self) -> StrOffset {
                StrOffset::new(self.raw.name_off.get(self.ctx.btf.endian()))
            }

            /// The name (`""` when anonymous).
            ///
            /// # Errors
            ///
            /// [`Error::StringOutOfRange`](crate::Error::StringOutOfRange)
            /// when the offset is past the strings (parsing does not check
            /// elements; [`Btf::validate`] does), and
            /// [`Error::InvalidUtf8`](crate::Error::InvalidUtf8) when the
            /// name is not UTF-8.
            #[inline]
            pub fn name(&self) -> Result<&'a str> {
                self.ctx.btf.str_at(self.name_offset())
            }

            /// The name's bytes (empty when anonymous).
            ///
            /// # Errors
            ///
            /// [`Error::StringOutOfRange`](crate::Error::StringOutOfRange)
            /// when the offset is past the strings (parsing does not check
            /// elements; [`Btf::validate`] does).
            #[inline]
            pub fn name_bytes(&self) -> Result<&'a [u8]> {
                self.ctx.btf.str_bytes_at(self.name_offset())
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut d = f.debug_struct(stringify!($name));
                match self.name_bytes() {
                    Ok(name) => d.field("name", &crate::fmt::Bytes(name)),
                    Err(e) => d.field("name", &e),
                };
                d.field("raw", self.raw).finish()
            }
        }
    };
}

element!(
    /// A STRUCT or UNION member.
    Member, BtfMember
);
named_element!(Member);

impl Member<'_> {
    /// The member's type (not checked by parsing: [`Btf::type_by_id`]
    /// fails for an id that does not exist).
    #[inline]
    pub fn ty(&self) -> TypeId {
        TypeId::new(self.raw.type_.get(self.ctx.btf.endian()))
    }

    /// The raw `offset` word.
    #[inline]
    pub fn raw_offset(&self) -> u32 {
        self.raw.offset.get(self.ctx.btf.endian())
    }

    /// The member's offset in bits from the start of the aggregate,
    /// honouring the kind flag.
    #[inline]
    pub fn bit_offset(&self) -> u32 {
        MemberOffset::decode(self.raw_offset(), self.ctx.kflag).bit_offset
    }

    /// The bitfield width in bits, or 0 when the member is not a bitfield
    /// (always 0 without the kind flag; legacy bitfields are described by
    /// the member's INT type instead).
    #[inline]
    pub fn bitfield_size(&self) -> u32 {
        MemberOffset::decode(self.raw_offset(), self.ctx.kflag).bitfield_size
    }
}

/// An enumerator's value, signed or not as its enum says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnumValue {
    /// From an enum with the kind flag set.
    Signed(i64),
    /// From an enum without it.
    Unsigned(u64),
}

impl EnumValue {
    /// The value's bits as a `u64` (sign-extended when signed).
    pub fn bits(self) -> u64 {
        match self {
            EnumValue::Signed(v) => v as u64,
            EnumValue::Unsigned(v) => v,
        }
    }
}

impl fmt::Display for EnumValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnumValue::Signed(v) => fmt::Display::fmt(v, f),
            EnumValue::Unsigned(v) => fmt::Display::fmt(v, f),
        }
    }
}

element!(
    /// An ENUM enumerator.
    Enumerator, BtfEnum
);
named_element!(Enumerator);

impl Enumerator<'_> {
    /// The raw 32 bits.
    pub fn raw_value(&self) -> u32 {
        self.raw.val.get(self.ctx.btf.endian())
    }

    /// The value, signed when the enum's kind flag is set.
    pub fn value(&self) -> EnumValue {
        let v = self.raw_value();
        if self.ctx.kflag {
            EnumValue::Signed(i64::from(v as i32))
        } else {
            EnumValue::Unsigned(u64::from(v))
        }
    }
}

element!(
    /// An ENUM64 enumerator.
    Enumerator64, BtfEnum64
);
named_element!(Enumerator64);

impl Enumerator64<'_> {
    /// The raw 64 bits.
    pub fn raw_value(&self) -> u64 {
        let e = self.ctx.btf.endian();
        u64::from(self.raw.val_hi32.get(e)) << 32 | u64::from(self.raw.val_lo32.get(e))
    }

    /// The value, signed when the enum's kind flag is set.
    pub fn value(&self) -> EnumValue {
        let v = self.raw_value();
        if self.ctx.kflag {
            EnumValue::Signed(v as i64)
        } else {
            EnumValue::Unsigned(v)
        }
    }
}

element!(
    /// A FUNC_PROTO parameter.
    Param, BtfParam
);
named_element!(Param);

impl Param<'_> {
    /// The parameter's type (not checked by parsing: [`Btf::type_by_id`]
    /// fails for an id that does not exist).
    pub fn ty(&self) -> TypeId {
        TypeId::new(self.raw.type_.get(self.ctx.btf.endian()))
    }

    /// Whether this is the `...` of a variadic function (type 0, no name).
    pub fn is_variadic(&self) -> bool {
        self.ty().is_void() && self.name_offset() == StrOffset::EMPTY
    }
}

element!(
    /// A DATASEC entry.
    VarSecinfo, BtfVarSecinfo
);

impl VarSecinfo<'_> {
    /// The VAR (or FUNC) placed (not checked by parsing:
    /// [`Btf::type_by_id`] fails for an id that does not exist).
    pub fn ty(&self) -> TypeId {
        TypeId::new(self.raw.type_.get(self.ctx.btf.endian()))
    }

    /// Byte offset in the section.
    pub fn offset(&self) -> u32 {
        self.raw.offset.get(self.ctx.btf.endian())
    }

    /// Byte size.
    pub fn size(&self) -> u32 {
        self.raw.size.get(self.ctx.btf.endian())
    }
}

impl fmt::Debug for VarSecinfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VarSecinfo")
            .field("ty", &self.ty())
            .field("offset", &self.offset())
            .field("size", &self.size())
            .finish()
    }
}
