//! CO-RE access strings: `"0:1:2"`, the path from a relocation's root type
//! to the field, array element or enumerator it concerns.

use super::records::CoreReloKind;
use crate::id::StrOffset;
use core::fmt;

/// The most indices an access string may hold: libbpf's
/// `BPF_CORE_SPEC_MAX_LEN` (64), past which `bpf_core_parse_spec` fails
/// with `-E2BIG`.
pub const MAX_ACCESS_LEN: usize = 64;

/// Why an access string was refused. Positions are byte offsets into the
/// string.
///
/// ```
/// use btf_core::ext::{AccessError, AccessSpec};
/// assert_eq!(AccessSpec::parse(b"0:1:"), Err(AccessError::ExpectedDigit { pos: 4 }));
/// assert_eq!(AccessSpec::parse(b"0::1").unwrap_err().to_string(),
///            "expected a decimal digit at byte 2 of the access string");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessError {
    /// The string is empty (libbpf: `str_is_empty`).
    Empty,
    /// The string starts with `:` (libbpf refuses this before parsing).
    LeadingColon,
    /// A decimal digit was expected: after a `:`, at the end, or instead of
    /// another character. libbpf reads each index with `sscanf("%d")`,
    /// which would also skip white space and take a sign; no compiler
    /// emits either and a negative index has no meaning, so this reader
    /// refuses both.
    ExpectedDigit {
        /// Where.
        pos: usize,
    },
    /// An index does not fit in libbpf's `int` (above `i32::MAX`).
    Overflow {
        /// Where the index starts.
        pos: usize,
    },
    /// More than [`MAX_ACCESS_LEN`] indices (libbpf: `-E2BIG`).
    TooLong {
        /// Where the index that does not fit starts.
        pos: usize,
    },
    /// A type-based relocation (`TYPE_ID_LOCAL`, `TYPE_ID_TARGET`,
    /// `TYPE_EXISTS`, `TYPE_SIZE`, `TYPE_MATCHES`) whose access string is
    /// not exactly `"0"`, as libbpf requires.
    TypeBasedNotZero,
    /// An enumerator-based relocation (`ENUMVAL_EXISTS`, `ENUMVAL_VALUE`)
    /// with more than one index, which libbpf refuses.
    EnumvalNotSingle {
        /// How many indices there are.
        len: usize,
    },
    /// The access string's offset is not in the `.BTF` strings.
    OutOfRange {
        /// The offset.
        str_off: StrOffset,
    },
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AccessError::Empty => f.write_str("the access string is empty"),
            AccessError::LeadingColon => f.write_str("the access string starts with ':'"),
            AccessError::ExpectedDigit { pos } => write!(
                f,
                "expected a decimal digit at byte {pos} of the access string"
            ),
            AccessError::Overflow { pos } => write!(
                f,
                "the index at byte {pos} of the access string is above {}",
                i32::MAX
            ),
            AccessError::TooLong { pos } => write!(
                f,
                "the access string has more than {MAX_ACCESS_LEN} indices (the one at byte {pos} is too many)"
            ),
            AccessError::TypeBasedNotZero => {
                f.write_str("a type-based relocation's access string must be \"0\"")
            }
            AccessError::EnumvalNotSingle { len } => write!(
                f,
                "an enumerator relocation's access string must hold one index, not {len}"
            ),
            AccessError::OutOfRange { str_off } => write!(
                f,
                "the access string's offset {str_off} is out of range in the .BTF strings"
            ),
        }
    }
}

impl core::error::Error for AccessError {}

/// A checked access string: one to [`MAX_ACCESS_LEN`] decimal indices,
/// each at most `i32::MAX`, separated by single colons.
///
/// The first index steps over the root pointer (`&p[0]`); each later one
/// picks a member (by its position in the struct or union) or an array
/// element. For enumerator relocations the one index is the enumerator's
/// position. Checked once by [`parse`](Self::parse); iterating cannot fail
/// and allocates nothing.
///
/// ```
/// use btf_core::ext::AccessSpec;
/// let spec = AccessSpec::parse(b"0:1:12")?;
/// assert_eq!(spec.iter().collect::<Vec<u32>>(), [0, 1, 12]);
/// assert_eq!((spec.len(), spec.first(), spec.as_str()), (3, 0, "0:1:12"));
/// # Ok::<(), btf_core::ext::AccessError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AccessSpec<'a> {
    text: &'a str,
    len: u8,
    first: u32,
}

impl<'a> AccessSpec<'a> {
    /// Checks `text` with libbpf's `bpf_core_parse_spec` rules for the
    /// string's syntax: not empty, not starting with `:`, indices separated
    /// by one `:`, none missing, at most [`MAX_ACCESS_LEN`] of them, each
    /// fitting an `int`.
    ///
    /// # Errors
    ///
    /// The first [`AccessError`] met, with its position.
    pub fn parse(text: &'a [u8]) -> Result<AccessSpec<'a>, AccessError> {
        match text.first() {
            None => return Err(AccessError::Empty),
            Some(b':') => return Err(AccessError::LeadingColon),
            Some(_) => {}
        }
        let mut pos = 0;
        let mut len = 0usize;
        let mut first = 0;
        while pos < text.len() {
            if len > 0 {
                // libbpf skips one ':' (if any) before each index but the
                // first; anything else is refused by sscanf below.
                if text.get(pos) == Some(&b':') {
                    pos += 1;
                }
            }
            let start = pos;
            let mut value: u32 = 0;
            while let Some(&b) = text.get(pos).filter(|b| b.is_ascii_digit()) {
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u32::from(b - b'0')))
                    .filter(|&v| v <= i32::MAX as u32)
                    .ok_or(AccessError::Overflow { pos: start })?;
                pos += 1;
            }
            if pos == start {
                return Err(AccessError::ExpectedDigit { pos });
            }
            if len == MAX_ACCESS_LEN {
                return Err(AccessError::TooLong { pos: start });
            }
            if len == 0 {
                first = value;
            }
            len += 1;
        }
        // Only ASCII digits and colons were accepted.
        let text = core::str::from_utf8(text).map_err(|_| AccessError::ExpectedDigit { pos: 0 })?;
        Ok(AccessSpec {
            text,
            len: len as u8,
            first,
        })
    }

    /// Checks the rule libbpf's `bpf_core_parse_spec` has for `kind`:
    /// exactly `"0"` for a type-based kind, one index for an enumerator
    /// kind; any string for the others (field kinds, unknown kinds).
    ///
    /// ```
    /// use btf_core::ext::{AccessError, AccessSpec, CoreReloKind};
    /// let spec = AccessSpec::parse(b"0:1")?;
    /// assert!(spec.check_kind(CoreReloKind::FieldByteOffset).is_ok());
    /// assert_eq!(spec.check_kind(CoreReloKind::TypeSize), Err(AccessError::TypeBasedNotZero));
    /// # Ok::<(), AccessError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`AccessError::TypeBasedNotZero`], [`AccessError::EnumvalNotSingle`].
    pub fn check_kind(&self, kind: CoreReloKind) -> Result<(), AccessError> {
        if kind.is_type_based() && self.text != "0" {
            return Err(AccessError::TypeBasedNotZero);
        }
        if kind.is_enumval_based() && self.len != 1 {
            return Err(AccessError::EnumvalNotSingle { len: self.len() });
        }
        Ok(())
    }

    /// The string itself.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// How many indices there are (1 to [`MAX_ACCESS_LEN`]).
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// The first index (for field relocations, the index into the root
    /// pointer, almost always 0; for enumerator relocations, the
    /// enumerator's position).
    pub fn first(&self) -> u32 {
        self.first
    }

    /// The indices, in order.
    pub fn iter(&self) -> AccessIndices<'a> {
        AccessIndices {
            rest: self.text.as_bytes(),
            left: self.len,
        }
    }
}

impl<'a> IntoIterator for AccessSpec<'a> {
    type Item = u32;
    type IntoIter = AccessIndices<'a>;
    fn into_iter(self) -> AccessIndices<'a> {
        self.iter()
    }
}

impl fmt::Display for AccessSpec<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

/// The indices of an [`AccessSpec`], from [`AccessSpec::iter`].
#[derive(Clone, Debug)]
pub struct AccessIndices<'a> {
    rest: &'a [u8],
    left: u8,
}

impl Iterator for AccessIndices<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        self.left = self.left.checked_sub(1)?;
        if let [b':', tail @ ..] = self.rest {
            self.rest = tail;
        }
        let mut value: u32 = 0;
        while let [b @ b'0'..=b'9', tail @ ..] = self.rest {
            // Checked by `parse`: at most i32::MAX.
            value = value.wrapping_mul(10).wrapping_add(u32::from(b - b'0'));
            self.rest = tail;
        }
        Some(value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.left);
        (n, Some(n))
    }
}

impl ExactSizeIterator for AccessIndices<'_> {}
impl core::iter::FusedIterator for AccessIndices<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    fn libbpf_syntax() {
        let ok = |s: &str| {
            AccessSpec::parse(s.as_bytes())
                .map(|a| a.iter().collect::<Vec<_>>())
                .map_err(|e| e.to_string())
        };
        assert_eq!(ok("0"), Ok([0].to_vec()));
        assert_eq!(ok("0:1:2:3"), Ok([0, 1, 2, 3].to_vec()));
        assert_eq!(ok("007:2147483647"), Ok([7, i32::MAX as u32].to_vec()));
        let err = |s: &str| AccessSpec::parse(s.as_bytes()).unwrap_err();
        assert_eq!(err(""), AccessError::Empty);
        assert_eq!(err(":0"), AccessError::LeadingColon);
        assert_eq!(err("0:"), AccessError::ExpectedDigit { pos: 2 });
        assert_eq!(err("0::1"), AccessError::ExpectedDigit { pos: 2 });
        assert_eq!(err("0a"), AccessError::ExpectedDigit { pos: 1 });
        assert_eq!(err("0: 1"), AccessError::ExpectedDigit { pos: 2 });
        assert_eq!(err("0:-1"), AccessError::ExpectedDigit { pos: 2 });
        assert_eq!(err("1:2147483648"), AccessError::Overflow { pos: 2 });
        assert_eq!(
            err("99999999999999999999"),
            AccessError::Overflow { pos: 0 }
        );
        assert_eq!(err("0:\u{e9}"), AccessError::ExpectedDigit { pos: 2 });
        let max = ["1"; MAX_ACCESS_LEN].join(":");
        assert_eq!(AccessSpec::parse(max.as_bytes()).unwrap().len(), 64);
        let over = std::format!("{max}:1");
        assert_eq!(err(&over), AccessError::TooLong { pos: 128 });
    }
}
