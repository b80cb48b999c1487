//! The builder's string section: its own bytes, kept as given and appended
//! to, and a hash index for deduplication that also covers the base chain.

use crate::btf::Btf;
use crate::id::StrOffset;
use alloc::vec::Vec;
use core::hash::BuildHasher;
use hashbrown::{DefaultHashBuilder, HashTable};

/// One indexed string: where it starts (absolute offset) and its length.
#[derive(Clone, Copy, Debug)]
struct Entry {
    off: u32,
    len: u32,
}

/// A string section under construction.
#[derive(Clone, Debug)]
pub(crate) struct Strings {
    /// The own section's bytes.
    bytes: Vec<u8>,
    /// The absolute offset of `bytes[0]` (the base chain's string length).
    start: u32,
    /// Whole strings by content, first occurrence first; built on the first
    /// lookup, so builders that never add a string never pay for it.
    index: Option<HashTable<Entry>>,
    hasher: DefaultHashBuilder,
}

impl Strings {
    /// A section starting at `start` with `bytes` (kept as they are).
    pub(crate) fn new(start: u32, bytes: Vec<u8>) -> Strings {
        Strings {
            bytes,
            start,
            index: None,
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// The own section's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The absolute offset of the own section.
    pub(crate) fn start(&self) -> u32 {
        self.start
    }

    /// The string at absolute offset `off` (without its NUL), from the own
    /// section or the base chain.
    pub(crate) fn get<'s>(&'s self, base: Option<&'s Btf<'s>>, off: u32) -> Option<&'s [u8]> {
        bytes_at(base, &self.bytes, self.start, off)
    }

    /// Adds `s` (up to its first NUL) unless an equal string is already in
    /// the base chain or the own section, and returns its offset.
    pub(crate) fn add(&mut self, base: Option<&Btf<'_>>, s: &[u8]) -> StrOffset {
        let s = match memchr::memchr(0, s) {
            Some(nul) => s.get(..nul).unwrap_or_default(),
            None => s,
        };
        if s.is_empty() {
            return StrOffset::EMPTY;
        }
        let hash = self.hasher.hash_one(s);
        let index = match &mut self.index {
            Some(index) => index,
            None => self
                .index
                .insert(build_index(base, &self.bytes, self.start, &self.hasher)),
        };
        let (bytes, start, hasher) = (&self.bytes, self.start, &self.hasher);
        let found = index.find(hash, |e| {
            e.len as usize == s.len() && bytes_at(base, bytes, start, e.off) == Some(s)
        });
        if let Some(e) = found {
            return StrOffset::new(e.off);
        }
        // Offsets past u32 saturate; encoding reports the section as too
        // large long before that.
        let off = u32::try_from(self.bytes.len())
            .ok()
            .and_then(|n| self.start.checked_add(n))
            .unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(s);
        self.bytes.push(0);
        let entry = Entry {
            off,
            len: u32::try_from(s.len()).unwrap_or(u32::MAX),
        };
        let bytes = &self.bytes;
        index.insert_unique(hash, entry, |e| {
            hasher.hash_one(bytes_at(base, bytes, start, e.off).unwrap_or_default())
        });
        StrOffset::new(off)
    }
}

/// The string at absolute `off`: own bytes from `start`, the base below.
fn bytes_at<'s>(
    base: Option<&'s Btf<'s>>,
    own: &'s [u8],
    start: u32,
    off: u32,
) -> Option<&'s [u8]> {
    if off < start {
        return base.and_then(|b| b.str_bytes_at(StrOffset::new(off)).ok());
    }
    let tail = own
        .get((off - start) as usize..)
        .filter(|t| !t.is_empty())?;
    let end = memchr::memchr(0, tail).unwrap_or(tail.len());
    tail.get(..end)
}

/// Indexes every whole string of the base chain (lowest blob first) and of
/// the own section, keeping the first occurrence of each content, as
/// libbpf's `strset` does.
fn build_index(
    base: Option<&Btf<'_>>,
    own: &[u8],
    start: u32,
    hasher: &DefaultHashBuilder,
) -> HashTable<Entry> {
    // The chain from the lowest base up.
    let mut chain: Vec<&Btf<'_>> = Vec::new();
    let mut b = base;
    while let Some(btf) = b {
        chain.push(btf);
        b = btf.base();
    }
    let total = chain.iter().map(|b| b.strings().len()).sum::<usize>() + own.len();
    // A rough guess of one string per 16 bytes avoids most regrowth.
    let mut table = HashTable::with_capacity(total / 16);
    let sections = chain
        .iter()
        .rev()
        .map(|b| (b.strings(), b.str_start()))
        .chain(core::iter::once((own, start)));
    for (section, section_start) in sections {
        let mut rel = 0usize;
        while let Some(tail) = section.get(rel..).filter(|t| !t.is_empty()) {
            let len = memchr::memchr(0, tail).unwrap_or(tail.len());
            let s = tail.get(..len).unwrap_or_default();
            let off = u32::try_from(rel)
                .ok()
                .and_then(|r| section_start.checked_add(r));
            if let (false, Some(off)) = (s.is_empty(), off) {
                let hash = hasher.hash_one(s);
                let entry = table.entry(
                    hash,
                    |e: &Entry| {
                        e.len as usize == s.len() && bytes_at(base, own, start, e.off) == Some(s)
                    },
                    |e: &Entry| {
                        hasher.hash_one(bytes_at(base, own, start, e.off).unwrap_or_default())
                    },
                );
                if let hashbrown::hash_table::Entry::Vacant(slot) = entry {
                    slot.insert(Entry {
                        off,
                        len: u32::try_from(len).unwrap_or(u32::MAX),
                    });
                }
            }
            rel = rel.saturating_add(len).saturating_add(1);
        }
    }
    table
}
