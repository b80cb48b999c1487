//! Names as the kernel checks them (`__btf_name_valid`,
//! `btf_name_valid_section`): the kernel's character classes and the scans.
//!
//! A blob's own string section is judged once ([`Identifiers`]), 64 bytes
//! at a time with arithmetic the compiler turns into vector compares, so
//! that most names cost a few loads; the table ([`class`]) stays the
//! definition, and tests check the arithmetic against it for every byte
//! value and [`Identifiers::identifier`] against the byte-by-byte
//! [`identifier`] at every offset.

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

/// Whether `c` may follow in an identifier or ends it (a NUL), when it
/// is ASCII: letters, digits, '_', '.' when `DOT`, NUL. Bytes from 0x80
/// (which the kernel's Latin-1 table partly allows) say `false`, so that
/// a block holding one is scanned byte by byte. Signed compares, so that
/// 16 bytes are tested with a handful of vector instructions.
#[inline(always)]
fn plain<const DOT: bool>(c: u8) -> bool {
    let letter = ((c | 0x20).wrapping_add(0x80 - b'a') as i8) < (0x80u8 + 26) as i8;
    let digit = (c.wrapping_add(0x80 - b'0') as i8) < (0x80u8 + 10) as i8;
    letter | digit | (c == b'_') | (c == 0) | ((c == b'.') & DOT)
}

/// Whether every byte of `block` is [`plain`] and one of them is a NUL.
#[inline(always)]
fn plain_block<const DOT: bool>(block: &[u8; BLOCK]) -> bool {
    let mut all = true;
    let mut nul = false;
    for &c in block {
        all &= plain::<DOT>(c);
        nul |= c == 0;
    }
    all & nul
}

/// Sets `plain`'s entry for each block that is [`plain_block`] and followed
/// by one that is (compiled per `DOT`, so that the block test is inlined
/// with its constants loaded once).
fn judge_pairs<const DOT: bool>(plain: &mut [u8], blocks: &[[u8; BLOCK]]) {
    let mut next = false;
    // Backwards, so that each block's entry includes the next's; the last
    // full block has no next (the tail is not judged).
    for (dst, block) in plain.iter_mut().zip(blocks).rev() {
        let here = plain_block::<DOT>(block);
        *dst = u8::from(here & next);
        next = here;
    }
}

/// The bytes of the string section judged at once.
const BLOCK: usize = 64;

/// The identifiers of a string section, found cheaply: the section is cut
/// into 64-byte blocks, and a block is *plain* when each of its bytes is
/// a NUL or an ASCII byte that may follow in an identifier, and one of
/// them is a NUL. A name that starts in a plain block followed by a
/// plain block (at a string's start or inside one) ends within them,
/// under 128 bytes, with no byte that may not follow: it is an identifier
/// exactly when its first byte may start one. That is one byte of state
/// per block, built in one pass with vector compares (about 1.5
/// instructions per byte). The strings that start anywhere else (a block
/// with a NUL-less run, a byte from 0x80, a space; the last block) are
/// judged once each by the byte-by-byte [`identifier`] into a bit mask
/// per such block, so that a string start costs at most a binary search
/// however often it is named; only a name that starts inside a string
/// there is scanned at each lookup.
pub(super) struct Identifiers<'a> {
    strings: &'a [u8],
    /// Per block: 1 when it and the next block are plain.
    plain: Vec<u8>,
    /// For each block outside plain pairs (in order): its index and a bit
    /// per byte, set where a string starts that is an identifier.
    exact: Vec<(usize, u64)>,
    /// Whether `exact` holds every such block (it could be allocated).
    exact_complete: bool,
    dot: bool,
    limit: usize,
}

impl<'a> Identifiers<'a> {
    /// The identifiers of `strings` ('.' allowed when `dot`, NUL within
    /// `limit` bytes after the first).
    pub(super) fn new(strings: &'a [u8], dot: bool, limit: usize) -> Identifiers<'a> {
        let (blocks, _) = strings.as_chunks::<BLOCK>();
        let mut plain = Vec::new();
        // Two plain blocks bound a string to 127 bytes: the limit must
        // allow that, else every string is judged by the scan.
        if limit >= 2 * BLOCK - 1 && plain.try_reserve_exact(blocks.len()).is_ok() {
            plain.resize(blocks.len(), 0);
            if dot {
                judge_pairs::<true>(&mut plain, blocks);
            } else {
                judge_pairs::<false>(&mut plain, blocks);
            }
        }
        // Each string starting in a block the pass above left unjudged,
        // scanned once: a string is read up to its first byte that may not
        // follow (or `limit` bytes), and strings do not overlap, so this
        // is O(section) in all.
        let mut exact = Vec::new();
        let mut exact_complete = true;
        let blocks = strings.len().div_ceil(BLOCK);
        let mut b = 0;
        while b < blocks {
            // The next block outside plain pairs (a 0 in `plain`, found
            // with memchr; past `plain`'s end, every block).
            if let Some(rest) = plain.get(b..).filter(|r| !r.is_empty()) {
                b = memchr::memchr(0, rest).map_or(plain.len(), |i| b + i);
                if b >= blocks {
                    break;
                }
            }
            let mut bits = 0u64;
            let end = strings.len().min((b + 1) * BLOCK);
            for at in b * BLOCK..end {
                let starts = at == 0 || strings.get(at - 1) == Some(&0);
                let tail = strings.get(at..).unwrap_or_default();
                if starts && identifier(tail, dot, limit) {
                    bits |= 1 << (at % BLOCK);
                }
            }
            if exact.try_reserve(1).is_err() {
                exact_complete = false;
                break;
            }
            exact.push((b, bits));
            b += 1;
        }
        Identifiers {
            strings,
            plain,
            exact,
            exact_complete,
            dot,
            limit,
        }
    }

    /// Whether the string at `off` is known to be an identifier (under
    /// the rules given to [`Identifiers::new`]; then also with '.'
    /// allowed) from its block's entry and its first byte: the two loads
    /// every name of real BTF costs. `false` says nothing;
    /// [`Identifiers::identifier`] is exact.
    #[inline(always)]
    pub(super) fn known(&self, off: usize) -> bool {
        // A block in `plain` is a full one, so the first byte is there
        // when its entry is.
        let Some(&pair) = self.plain.get(off / BLOCK) else {
            return false;
        };
        // In a plain pair every byte is a NUL or may follow in an
        // identifier ('.' only when allowed), and the second block holds
        // a NUL: from any offset in the first block, the bytes up to the
        // next NUL (under 128) may follow. So the name there, whether a
        // string starts there or not, is an identifier when its first
        // byte may start one.
        // Both read, no branch between: whether a name is known follows
        // no pattern a branch could learn.
        let first = self.strings.get(off).copied().unwrap_or(0);
        (pair != 0) & (class(first) & (FIRST | DOT) != 0)
    }

    /// Whether the string at `off`, outside plain pairs of blocks, was
    /// judged an identifier.
    fn judged(&self, off: usize) -> bool {
        let block = off / BLOCK;
        self.exact
            .binary_search_by_key(&block, |&(b, _)| b)
            .ok()
            .and_then(|i| self.exact.get(i))
            .is_some_and(|&(_, bits)| bits >> (off % BLOCK) & 1 != 0)
    }

    /// [`identifier`] of the string at `off` in the section, under the
    /// rules given to [`Identifiers::new`].
    pub(super) fn identifier(&self, off: usize) -> bool {
        if self.known(off) || self.judged(off) {
            return true;
        }
        // Where a string starts, `known` and `judged` are exact (unless
        // the blocks' bits could not be had); a name inside a string
        // outside plain pairs is scanned.
        let starts = off == 0 || self.strings.get(off - 1) == Some(&0);
        if starts && self.exact_complete && off < self.strings.len() {
            return false;
        }
        identifier(
            self.strings.get(off..).unwrap_or_default(),
            self.dot,
            self.limit,
        )
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
    fn plain_bytes_match_the_table() {
        // Plain: exactly the ASCII bytes that may follow (or end) a name;
        // no byte from 0x80.
        for c in 0..=255u8 {
            let rest = |dot: bool| {
                c == 0 || (c < 0x80 && class(c) & if dot { REST | DOT } else { REST } != 0)
            };
            assert_eq!(plain::<false>(c), rest(false), "byte {c:#x}");
            assert_eq!(plain::<true>(c), rest(true), "byte {c:#x} with dots");
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
        // And the same without the first NUL, as a split blob's may be;
        // and a split blob's section of plain names, the first at offset 0.
        let split = section.get(1..).unwrap_or_default().to_vec();
        let names_first: Vec<u8> = (0..40)
            .flat_map(|i| b"kmalloc_cache"[i % 5..].iter().copied().chain([0]))
            .collect();
        let sections = [
            (&section, false),
            (&section, true),
            (&split, true),
            (&names_first, false),
            (&names_first, true),
        ];
        for (section, dot) in sections {
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

    #[test]
    fn plain_sections_are_known() {
        // Identifiers of 1 to 40 bytes, then some with a '.', then names
        // of 120 to 140 bytes (some leave a block without a NUL), and a
        // name starting with a digit: every offset against the byte scan
        // under each limit around the two-block bound; and with the
        // kernel's limits, most short names told by `known` alone.
        let mut section: Vec<u8> = alloc::vec![0];
        let mut starts = Vec::new();
        for len in 1..=40usize {
            for k in 0..2 {
                starts.push(section.len());
                section.extend((0..len).map(|i| match (i + k) % 7 {
                    5 if i > 0 => b'7',
                    _ => b"kmalloc_"[i % 8],
                }));
                section.push(0);
            }
        }
        let short = section.len();
        let mut long = Vec::new();
        for len in 2..=40usize {
            section.extend((0..len).map(|i| if i % 5 == 1 { b'.' } else { b'x' }));
            section.push(0);
        }
        for len in 120..=140usize {
            long.push(section.len());
            section.extend((0..len).map(|i| b"abcdefghij"[i % 10]));
            section.push(0);
        }
        section.extend_from_slice(b"9lives\0x\0");
        for dot in [false, true] {
            for limit in [126usize, 127, 128, 129, 512] {
                let ids = Identifiers::new(&section, dot, limit);
                for off in 0..section.len() + 2 {
                    let tail = section.get(off..).unwrap_or_default();
                    assert_eq!(
                        ids.identifier(off),
                        identifier(tail, dot, limit),
                        "offset {off} dot {dot} limit {limit}"
                    );
                }
                if limit >= 128 {
                    let known = starts.iter().filter(|&&at| ids.known(at)).count();
                    let names = starts
                        .iter()
                        .filter(|&&at| at + 2 * BLOCK < short)
                        .filter(|&&at| {
                            identifier(section.get(at..).unwrap_or_default(), dot, limit)
                        })
                        .count();
                    assert!(known >= names, "{known} of {names} names known, dot {dot}");
                }
                // The long names (some across a block without a NUL) were
                // all judged when the section was, not at each lookup.
                if limit >= 140 {
                    assert!(long.iter().all(|&at| ids.known(at) || ids.judged(at)));
                    assert!(long.iter().any(|&at| !ids.known(at)));
                }
            }
        }
    }
}
