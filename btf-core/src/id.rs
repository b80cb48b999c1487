//! Newtypes for the numbers BTF uses as references: type ids, string
//! offsets and kinds.
//!
//! What a kind's records hold ([`Kind::record_layout`], [`Kind::has_size`],
//! [`Kind::has_type`]) is the record decoder's knowledge, in `record`.

use core::fmt;

/// A BTF type id.
///
/// Id 0 is `void` and is never stored; the first record of a base blob is
/// id 1, and a split blob's first id continues its base's ids.
///
/// ```
/// use btf_core::TypeId;
/// let id = TypeId::new(42);
/// assert_eq!(id.get(), 42);
/// assert!(TypeId::VOID.is_void());
/// assert_eq!(id.to_string(), "42");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(u32);

impl TypeId {
    /// The `void` type, id 0.
    pub const VOID: TypeId = TypeId(0);

    /// Wraps a raw id.
    #[inline]
    pub const fn new(id: u32) -> TypeId {
        TypeId(id)
    }

    /// The raw id.
    #[inline]
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Whether this is `void` (id 0).
    #[inline]
    pub const fn is_void(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<TypeId> for u32 {
    fn from(id: TypeId) -> u32 {
        id.0
    }
}

/// An offset into a blob's string section, as stored in `name_off` fields.
///
/// For a split blob, offsets below the base's total string length resolve in
/// the base.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StrOffset(u32);

impl StrOffset {
    /// Offset 0, the empty string.
    pub const EMPTY: StrOffset = StrOffset(0);

    /// Wraps a raw offset.
    #[inline]
    pub const fn new(off: u32) -> StrOffset {
        StrOffset(off)
    }

    /// The raw offset.
    #[inline]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for StrOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The kind of a type record (bits 24..=30 of `info`).
///
/// A newtype rather than an enum, so that kinds this crate does not know
/// (above [`Kind::ENUM64`]) are still representable; see [`Kind::is_known`].
///
/// ```
/// use btf_core::Kind;
/// assert_eq!(Kind::STRUCT.to_string(), "STRUCT");
/// assert_eq!(Kind::new(42).to_string(), "UNKNOWN(42)");
/// assert!(!Kind::new(42).is_known());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Kind(u8);

impl Kind {
    /// Kind 0: `void` (id 0) only; never valid in a stored record.
    pub const VOID: Kind = Kind(0);
    /// An integer.
    pub const INT: Kind = Kind(1);
    /// A pointer.
    pub const PTR: Kind = Kind(2);
    /// An array.
    pub const ARRAY: Kind = Kind(3);
    /// A struct.
    pub const STRUCT: Kind = Kind(4);
    /// A union.
    pub const UNION: Kind = Kind(5);
    /// An enum of 32-bit values.
    pub const ENUM: Kind = Kind(6);
    /// A forward declaration of a struct or union.
    pub const FWD: Kind = Kind(7);
    /// A typedef.
    pub const TYPEDEF: Kind = Kind(8);
    /// The `volatile` modifier.
    pub const VOLATILE: Kind = Kind(9);
    /// The `const` modifier.
    pub const CONST: Kind = Kind(10);
    /// The `restrict` modifier.
    pub const RESTRICT: Kind = Kind(11);
    /// A function (points at its FUNC_PROTO).
    pub const FUNC: Kind = Kind(12);
    /// A function prototype.
    pub const FUNC_PROTO: Kind = Kind(13);
    /// A variable.
    pub const VAR: Kind = Kind(14);
    /// A data section of variables.
    pub const DATASEC: Kind = Kind(15);
    /// A floating-point number.
    pub const FLOAT: Kind = Kind(16);
    /// A declaration tag.
    pub const DECL_TAG: Kind = Kind(17);
    /// A type tag.
    pub const TYPE_TAG: Kind = Kind(18);
    /// An enum of 64-bit values.
    pub const ENUM64: Kind = Kind(19);

    /// The highest kind this crate decodes.
    pub const MAX_KNOWN: Kind = Kind::ENUM64;

    /// Wraps a raw kind number (only the low 7 bits are meaningful).
    #[inline]
    pub const fn new(kind: u8) -> Kind {
        Kind(kind)
    }

    /// The raw kind number.
    #[inline]
    pub const fn get(self) -> u8 {
        self.0
    }

    /// Whether this crate knows this kind's layout (1..=19).
    #[inline]
    pub const fn is_known(self) -> bool {
        self.0 >= 1 && self.0 <= Kind::MAX_KNOWN.0
    }

    /// The kind's name as the kernel and bpftool spell it (`"STRUCT"`;
    /// `"VOID"` for kind 0), or `None` for a kind above
    /// [`MAX_KNOWN`](Self::MAX_KNOWN).
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "VOID",
            1 => "INT",
            2 => "PTR",
            3 => "ARRAY",
            4 => "STRUCT",
            5 => "UNION",
            6 => "ENUM",
            7 => "FWD",
            8 => "TYPEDEF",
            9 => "VOLATILE",
            10 => "CONST",
            11 => "RESTRICT",
            12 => "FUNC",
            13 => "FUNC_PROTO",
            14 => "VAR",
            15 => "DATASEC",
            16 => "FLOAT",
            17 => "DECL_TAG",
            18 => "TYPE_TAG",
            19 => "ENUM64",
            _ => return None,
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "UNKNOWN({})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn kind_tables_agree() {
        for k in 1..=19u8 {
            let kind = Kind::new(k);
            assert!(kind.is_known());
            assert!(kind.name().is_some());
            assert!(kind.record_layout().is_some(), "{kind}");
            // A kind has a size, a type, or neither (ARRAY, FWD), never both.
            assert!(!(kind.has_size() && kind.has_type()), "{kind}");
        }
        assert!(!Kind::VOID.is_known());
        assert_eq!(Kind::new(20).record_layout(), None);
        assert_eq!(Kind::new(127).to_string(), "UNKNOWN(127)");
    }
}
