//! Byte order of a blob, and the alignment-1 wire fields read through it.
//!
//! A BTF blob is written in its producer's byte order; the magic tells which.
//! Wire fields are byte arrays ([`U16`], [`U32`]) that carry no order of their
//! own: a read names the order, either as a runtime [`Endian`] value (the type
//! views use this, so one `Btf` type serves both orders) or as a zero-sized
//! [`Order`] type (the framing walk is monomorphised over it, so a native
//! blob pays nothing for big-endian support).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// The byte order of a BTF blob.
///
/// ```
/// use btf_core::Endian;
/// assert_eq!(Endian::Little.read_u32([1, 0, 0, 0]), 1);
/// assert_eq!(Endian::Big.read_u32([0, 0, 0, 1]), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Least significant byte first (x86, arm64, most BPF targets).
    Little,
    /// Most significant byte first (s390x, sparc64, `bpfeb`).
    Big,
}

impl Endian {
    /// The byte order of the machine this code runs on.
    pub const NATIVE: Endian = if cfg!(target_endian = "little") {
        Endian::Little
    } else {
        Endian::Big
    };

    /// Decodes a `u16` stored in this byte order.
    #[inline(always)]
    pub fn read_u16(self, bytes: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(bytes),
            Endian::Big => u16::from_be_bytes(bytes),
        }
    }

    /// Decodes a `u32` stored in this byte order.
    #[inline(always)]
    pub fn read_u32(self, bytes: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(bytes),
            Endian::Big => u32::from_be_bytes(bytes),
        }
    }

    /// Encodes a `u16` in this byte order.
    #[inline]
    pub fn write_u16(self, value: u16) -> [u8; 2] {
        match self {
            Endian::Little => value.to_le_bytes(),
            Endian::Big => value.to_be_bytes(),
        }
    }

    /// Encodes a `u32` in this byte order.
    #[inline]
    pub fn write_u32(self, value: u32) -> [u8; 4] {
        match self {
            Endian::Little => value.to_le_bytes(),
            Endian::Big => value.to_be_bytes(),
        }
    }
}

/// A byte order known at compile time, for hot loops.
///
/// Implemented by the zero-sized [`Le`] and [`Be`]; [`Endian`] picks one at
/// run time and the loop is compiled once for each.
pub(crate) trait Order: Copy {
    /// The same order as a run-time value.
    const ENDIAN: Endian;

    /// Decodes a `u32` in this order.
    fn u32(bytes: [u8; 4]) -> u32;
}

/// Little-endian, at compile time.
#[derive(Clone, Copy)]
pub(crate) struct Le;

/// Big-endian, at compile time.
#[derive(Clone, Copy)]
pub(crate) struct Be;

impl Order for Le {
    const ENDIAN: Endian = Endian::Little;

    #[inline(always)]
    fn u32(bytes: [u8; 4]) -> u32 {
        u32::from_le_bytes(bytes)
    }
}

impl Order for Be {
    const ENDIAN: Endian = Endian::Big;

    #[inline(always)]
    fn u32(bytes: [u8; 4]) -> u32 {
        u32::from_be_bytes(bytes)
    }
}

/// A 16-bit wire field in the blob's byte order (alignment 1).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(transparent)]
pub struct U16(pub [u8; 2]);

impl U16 {
    /// Decodes the field in `endian` order.
    #[inline(always)]
    pub fn get(self, endian: Endian) -> u16 {
        endian.read_u16(self.0)
    }

    /// Encodes `value` in `endian` order.
    #[inline]
    pub fn new(endian: Endian, value: u16) -> U16 {
        U16(endian.write_u16(value))
    }
}

/// A 32-bit wire field in the blob's byte order (alignment 1).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(transparent)]
pub struct U32(pub [u8; 4]);

impl U32 {
    /// Decodes the field in `endian` order.
    #[inline(always)]
    pub fn get(self, endian: Endian) -> u32 {
        endian.read_u32(self.0)
    }

    /// Decodes the field in the compile-time order `O`.
    #[inline(always)]
    pub(crate) fn get_in<O: Order>(self) -> u32 {
        O::u32(self.0)
    }

    /// Encodes `value` in `endian` order.
    #[inline]
    pub fn new(endian: Endian, value: u32) -> U32 {
        U32(endian.write_u32(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_orders_round_trip() {
        for e in [Endian::Little, Endian::Big] {
            assert_eq!(U32::new(e, 0xdead_beef).get(e), 0xdead_beef);
            assert_eq!(U16::new(e, 0xeb9f).get(e), 0xeb9f);
        }
        assert_eq!(U32::new(Endian::Big, 1).0, [0, 0, 0, 1]);
        assert_eq!(U32([1, 2, 3, 4]).get_in::<Le>(), 0x0403_0201);
        assert_eq!(U32([1, 2, 3, 4]).get_in::<Be>(), 0x0102_0304);
    }
}
