//! Names as the kernel checks them (`__btf_name_valid`,
//! `btf_name_valid_section`): the kernel's character classes and the scans.
//!

//!
//! A blob's own string section is classified once ([`Stops`]), 16 bytes
//! at a time with arithmetic the compiler turns into vector compares; the
//! table ([`class`]) stays the definition, and a test checks the
//! arithmetic against it for every byte value and [`Stops::identifier`]
//! against the byte-by-byte [`identifier`] at every offset.

use alloc::vec::Vec;

/// A letter or '_' (may start an identifier).
pub(super) const FIRST: u8 = 1;
/// A letter, digit or '_' (may follow).
pub(super) const REST: u8 = 2;
/// '.'.
pub(super) const DOT: u8 = 4;
/// Printable.
pub(super) const PRINT: u8 = 8;

/// The kernel's character classes (`lib/ctype.c`, a Latin-1 table: the
/// letters 0xc0..=0xff but 0xd7 and 0xf7 count for `isalpha`, and
/// 0xa0..=0xff for `isprint`).
const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic() || (b >= 0xc0 && b != 0xd7 && b != 0xf7);
        let mut v = 0;
        if alpha || b == b'_' {
            v |= FIRST | REST;
        }
        if b.is_ascii_digit() {
            v |= REST;
        }
        if b == b'.' {
            v |= DOT;
        }
        if (b >= 0x20 && b < 0x7f) || b >= 0xa0 {
            v |= PRINT;
        }
        // `c` < 256 by the loop bound.
        #[allow(clippy::indexing_slicing)]
        {
            t[c] = v;
        }
        c += 1;
    }
    t
};

/// The classes of byte `c`.
#[inline(always)]
pub(super) fn class(c: u8) -> u8 {
    // A u8 indexes a 256-entry table.
    #[allow(clippy::indexing_slicing)]
    CLASSES[usize::from(c)]
}

/// `class(c) & (REST | DOT if dot) != 0`, without the table, so that 16
/// bytes are tested at once.
#[inline(always)]
fn follows(c: u8, dot: bool) -> bool {
    ((c | 0x20).wrapping_sub(b'a') < 26)
        | (c.wrapping_sub(b'0') < 10)
        | (c == b'_')
        | ((c == b'.') & dot)
        | ((c >= 0xc0) & ((c & 0xdf) != 0xd7))
}

/// A bit per byte of `sixteen`, set where it may not follow.
#[inline(always)]
fn stops16(sixteen: &[u8; 16], dot: bool) -> u16 {
    // 0 or 1 per byte (16 tests at once), then each eight gathered into
    // one byte by a multiplication: each bit of the product's top byte
    // has a single source, so nothing carries.
    const MAGIC: u64 = 0x0102_0408_1020_4080;
    let mut ones = [0u8; 16];
    for (one, &c) in ones.iter_mut().zip(sixteen) {
        *one = u8::from(!follows(c, dot));
    }
    let [
        a0,
        a1,
        a2,
        a3,
        a4,
        a5,
        a6,
        a7,
        b0,
        b1,
        b2,
        b3,
        b4,
        b5,
        b6,
        b7,
    ] = ones;
    let lo = u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]).wrapping_mul(MAGIC) >> 56;
    let hi = u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]).wrapping_mul(MAGIC) >> 56;
    (lo | (hi << 8)) as u16
}

/// Where identifiers stop in a string section: a bit per byte, set for
/// the bytes that may not follow the first character of an identifier
/// (the NUL among them). Built in one pass over the section; then whether
/// the string at an offset is an identifier takes a few word operations
/// and reads only its first byte and the byte where it stops.
pub(super) struct Stops<'a> {
    strings: &'a [u8],
    bits: Vec<u64>,
    dot: bool,
}

impl<'a> Stops<'a> {
    /// The stops of `strings` for identifiers that may hold '.' when
    /// `dot`.
    pub(super) fn new(strings: &'a [u8], dot: bool) -> Stops<'a> {
        let (blocks, tail) = strings.as_chunks::<64>();
        let mut bits = Vec::new();
        let _ = bits.try_reserve_exact(blocks.len() + 1);
        for block in blocks {
            let mut word = 0u64;
            let (sixteens, _) = block.as_chunks::<16>();
            for (k, sixteen) in sixteens.iter().enumerate() {
                word |= u64::from(stops16(sixteen, dot)) << (16 * k);
            }
            bits.push(word);
        }
        if !tail.is_empty() {
            // Past the end counts as a stop.
            let mut word = u64::MAX;
            for (i, &c) in tail.iter().enumerate() {
                if follows(c, dot) {
                    word &= !(1 << i);
                }
            }
            bits.push(word);
        }
        Stops { strings, bits, dot }
    }

    /// [`identifier`] of the string at `off` in the section, `dot` as
    /// given to [`Stops::new`].
    pub(super) fn identifier(&self, off: usize, limit: usize) -> bool {
        let Some(&first) = self.strings.get(off) else {
            return false;
        };
        if class(first) & FIRST == 0 && !(first == b'.' && self.dot) {
            return false;
        }
        // The first stop after the first byte must be the NUL, within
        // `limit` bytes.
        let from = off + 1;
        let mut word_at = from / 64;
        let mut word = self
            .bits
            .get(word_at)
            .map_or(0, |w| w >> (from % 64) << (from % 64));
        loop {
            if word != 0 {
                let stop = word_at * 64 + word.trailing_zeros() as usize;
                return stop - off <= limit && self.strings.get(stop) == Some(&0);
            }
            word_at += 1;
            if (word_at * 64).saturating_sub(off) > limit {
                return false;
            }
            match self.bits.get(word_at) {
                Some(&w) => word = w,
                None => return false,
            }
        }
    }
}

/// `__btf_name_valid` of the string starting `tail` (which runs to the end
/// of its string section): an identifier ('.' allowed when `dot`) whose NUL
/// comes within `limit` bytes after its first.
pub(super) fn identifier(tail: &[u8], dot: bool, limit: usize) -> bool {
    let first_ok = match tail.first() {
        Some(&c) => class(c) & FIRST != 0 || (c == b'.' && dot),
        None => false,
    };
    if !first_ok {
        return false;
    }
    // The kernel reads at most `limit` bytes, then wants the NUL: a byte
    // outside the class ends the name, valid only if it is the NUL.
    let window = tail
        .get(1..tail.len().min(limit.saturating_add(1)))
        .unwrap_or_default();
    let mask = if dot { REST | DOT } else { REST };
    for &c in window {
        if class(c) & mask == 0 {
            return c == 0;
        }
    }
    false
}

/// `btf_name_valid_section` since 6.5: non-empty printable text whose NUL
/// comes within `limit` bytes.
pub(super) fn printable(tail: &[u8], limit: usize) -> bool {
    let window = tail
        .get(..tail.len().min(limit.saturating_add(1)))
        .unwrap_or_default();
    if window.first().is_none_or(|&c| c == 0) {
        return false;
    }
    for &c in window {
        if class(c) & PRINT == 0 {
            return c == 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_matches_the_table() {
        for c in 0..=255u8 {
            for dot in [false, true] {
                let mask = if dot { REST | DOT } else { REST };
                assert_eq!(follows(c, dot), class(c) & mask != 0, "byte {c:#x}");
            }
        }
    }

    #[test]
    fn stops_match_the_byte_scan() {
        // Names of every length up to 200 around the 64-byte words, with
        // each class of byte at each position, in one section; then every
        // offset of it, against several limits.
        let mut section: Vec<u8> = alloc::vec![0];
        for len in 0..200usize {
            for (k, c) in [b'a', b'0', b'.', b'-', 0xc0, 0xd7, 0x80, b'_']
                .into_iter()
                .enumerate()
            {
                let pos = (len * 7 + k * 13) % len.max(1);
                section.extend((0..len).map(|i| if i == pos { c } else { b"aZ_9x"[i % 5] }));
                section.push(0);
            }
        }
        // A last string without its NUL, and odd bytes.
        section.extend_from_slice(b"tail");
        for dot in [false, true] {
            let stops = Stops::new(&section, dot);
            for limit in [0usize, 1, 15, 16, 63, 64, 65, 128, 512] {
                for off in 0..section.len() + 2 {
                    let tail = section.get(off..).unwrap_or_default();
                    assert_eq!(
                        stops.identifier(off, limit),
                        identifier(tail, dot, limit),
                        "offset {off} dot {dot} limit {limit}"
                    );
                }
            }
        }
    }
}
