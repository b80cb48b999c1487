//! Names as the kernel checks them (`__btf_name_valid`,
//! `btf_name_valid_section`): the kernel's character classes and the scans.
//!

//!
//! A blob's own string section is classified once ([`Identifiers`]), 16
//! bytes at a time with arithmetic the compiler turns into vector
//! compares; the table ([`class`]) stays the definition, and a test checks
//! the arithmetic against it for every byte value and
//! [`Identifiers::identifier`] against the byte-by-byte [`identifier`] at
//! every offset.

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

/// `class(c) & (FIRST | DOT if dot) != 0`: may start an identifier;
/// without the table, so that 16 bytes are tested at once.
#[inline(always)]
fn starts_name(c: u8, dot: bool) -> bool {
    ((c | 0x20).wrapping_sub(b'a') < 26)
        | (c == b'_')
        | ((c == b'.') & dot)
        | ((c >= 0xc0) & ((c & 0xdf) != 0xd7))
}

/// `class(c) & (REST | DOT if dot) != 0`: may follow the first byte of an
/// identifier.
#[inline(always)]
fn follows(c: u8, dot: bool) -> bool {
    starts_name(c, dot) | (c.wrapping_sub(b'0') < 10)
}

/// Two bits per byte of `block`, as masks (the bytes that may start an
/// identifier, the NULs), and whether one of the bytes is neither a NUL
/// nor may follow.
#[inline(always)]
fn classify64(block: &[u8; 64], dot: bool) -> (u64, u64, bool) {
    // One byte of flags per byte (16 tests at once), then each flag of
    // eight bytes gathered into one byte by a multiplication: each bit of
    // the product's top byte has a single source, so nothing carries.
    const MAGIC: u64 = 0x0102_0408_1020_4080;
    const LOW: u64 = 0x0101_0101_0101_0101;
    let mut flags = [0u8; 64];
    let mut bad = false;
    for (flag, &c) in flags.iter_mut().zip(block) {
        let nul = c == 0;
        *flag = u8::from(starts_name(c, dot)) | (u8::from(nul) << 1);
        bad |= !nul & !follows(c, dot);
    }
    let (eights, _) = flags.as_chunks::<8>();
    let (mut first, mut nul) = (0u64, 0u64);
    for (k, eight) in eights.iter().enumerate() {
        let x = u64::from_le_bytes(*eight);
        first |= ((x & LOW).wrapping_mul(MAGIC) >> 56) << (8 * k);
        nul |= (((x >> 1) & LOW).wrapping_mul(MAGIC) >> 56) << (8 * k);
    }
    (first, nul, bad)
}

/// The bytes of `sixteen` that are neither a NUL nor may follow.
fn bad16(sixteen: &[u8; 16], dot: bool) -> u16 {
    let mut mask = 0;
    for (i, &c) in sixteen.iter().enumerate() {
        if c != 0 && !follows(c, dot) {
            mask |= 1 << i;
        }
    }
    mask
}

/// The identifiers of a string section: a bit per byte, set where a
/// string starts that is an identifier. Built in one pass over the
/// section, 64 bytes at a time; a name is then one bit, and only a name
/// that starts inside a string (or is not an identifier) is scanned.
pub(super) struct Identifiers<'a> {
    strings: &'a [u8],
    valid: Vec<u64>,
    dot: bool,
    limit: usize,
}

impl<'a> Identifiers<'a> {
    /// The identifiers of `strings` ('.' allowed when `dot`, NUL within
    /// `limit` bytes after the first).
    pub(super) fn new(strings: &'a [u8], dot: bool, limit: usize) -> Identifiers<'a> {
        let mut valid = Vec::new();
        // The one check per 64 bytes for long strings needs every string
        // that fits in a word to be short enough; else all is scanned.
        if limit < 64 || valid.try_reserve_exact(strings.len() / 64 + 1).is_err() {
            return Identifiers {
                strings,
                valid: Vec::new(),
                dot,
                limit,
            };
        }
        let (blocks, tail) = strings.as_chunks::<64>();
        // Past the end: bytes that may not follow.
        let mut last = [0xff; 64];
        if let Some(dst) = last.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
        }
        let last = (!tail.is_empty()).then_some(&last);
        // The position 0 starts a string; `prev_nul` is the last NUL seen
        // (-1 before the first).
        let mut carry = 1u64;
        let mut prev_nul: isize = -1;
        for (w, block) in blocks.iter().chain(last).enumerate() {
            let (first, nul, any_bad) = classify64(block, dot);
            let mut bad = 0u64;
            if any_bad {
                let (sixteens, _) = block.as_chunks::<16>();
                for (k, sixteen) in sixteens.iter().enumerate() {
                    bad |= u64::from(bad16(sixteen, dot)) << (16 * k);
                }
            }
            let starts = (nul << 1) | carry;
            carry = nul >> 63;
            // A string start whose first byte may start an identifier.
            let mut word = starts & first;
            let base = w * 64;
            // The string holding a byte that may not follow is none
            // (rare): its start is after the NUL before the byte.
            while bad != 0 {
                let at = bad.trailing_zeros();
                bad &= bad - 1;
                let below = nul & ((1u64 << at) - 1);
                let start = if below != 0 {
                    base + 64 - below.leading_zeros() as usize
                } else {
                    (prev_nul + 1) as usize
                };
                clear(&mut valid, &mut word, base, start);
            }
            if nul != 0 {
                // Only the first NUL of a word can end a string longer
                // than 64 bytes.
                let end = base + nul.trailing_zeros() as usize;
                let start = (prev_nul + 1) as usize;
                if end - start > limit {
                    clear(&mut valid, &mut word, base, start);
                }
                prev_nul = (base + 63 - nul.leading_zeros() as usize) as isize;
            }
            valid.push(word);
        }
        // A last string without its NUL is no identifier.
        if strings.last().is_some_and(|&c| c != 0) {
            unset(&mut valid, (prev_nul + 1) as usize);
        }
        Identifiers {
            strings,
            valid,
            dot,
            limit,
        }
    }

    /// Whether the string at `off` is known to be an identifier (under
    /// the rules given to [`Identifiers::new`]; then also with '.'
    /// allowed).
    #[inline(always)]
    pub(super) fn known(&self, off: usize) -> bool {
        self.valid
            .get(off / 64)
            .is_some_and(|w| w >> (off % 64) & 1 != 0)
    }

    /// [`identifier`] of the string at `off` in the section, under the
    /// rules given to [`Identifiers::new`].
    pub(super) fn identifier(&self, off: usize) -> bool {
        if self.known(off) {
            return true;
        }
        // Exact where a string starts; a name inside a string is scanned.
        let start = off == 0 || self.strings.get(off - 1) == Some(&0);
        if start && !self.valid.is_empty() && off < self.strings.len() {
            return false;
        }
        identifier(
            self.strings.get(off..).unwrap_or_default(),
            self.dot,
            self.limit,
        )
    }
}

/// Clears the bit of `start` in `valid` or, when it is in the word being
/// built (at `base`), in `word`.
fn clear(valid: &mut [u64], word: &mut u64, base: usize, start: usize) {
    match start.checked_sub(base) {
        Some(bit) => *word &= !(1u64.checked_shl(bit as u32).unwrap_or(0)),
        None => unset(valid, start),
    }
}

/// Clears the bit of `at` in `valid`.
fn unset(valid: &mut [u64], at: usize) {
    if let Some(w) = valid.get_mut(at / 64) {
        *w &= !(1 << (at % 64));
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
                let (first, rest) = if dot {
                    (FIRST | DOT, REST | DOT)
                } else {
                    (FIRST, REST)
                };
                assert_eq!(starts_name(c, dot), class(c) & first != 0, "byte {c:#x}");
                assert_eq!(follows(c, dot), class(c) & rest != 0, "byte {c:#x}");
            }
        }
    }

    #[test]
    fn identifiers_match_the_byte_scan() {
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
        // And the same without the first NUL, as a split blob's may be.
        let split = section.get(1..).unwrap_or_default().to_vec();
        for (section, dot) in [(&section, false), (&section, true), (&split, true)] {
            for limit in [0usize, 1, 15, 16, 63, 64, 65, 100, 128, 512] {
                let ids = Identifiers::new(section, dot, limit);
                for off in 0..section.len() + 2 {
                    let tail = section.get(off..).unwrap_or_default();
                    assert_eq!(
                        ids.identifier(off),
                        identifier(tail, dot, limit),
                        "offset {off} dot {dot} limit {limit} {:?}",
                        section.get(off.saturating_sub(3)..(off + 80).min(section.len()))
                    );
                }
            }
        }
    }
}
