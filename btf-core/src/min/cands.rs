//! Candidates for the few names an object set needs, found in one scan of
//! each target instead of an index of every name.
//!
//! [`Targets::candidates`](crate::reloc::Targets::candidates) builds an
//! essential-name index of the whole target on first use: right for a
//! loader relocating many objects against one kernel, but for one run
//! over a handful of names one pass that looks at each type's name once
//! costs a fraction of it. The result is the same list: the target's own
//! types whose essential name is the local type's and whose kind is
//! compatible, vmlinux's in id order, then (when vmlinux has none) each
//! module's in order — libbpf's rule.

use crate::btf::Btf;
use crate::endian::{Be, Endian, Le, Order};
use crate::id::{Kind, TypeId};
use crate::reloc::{Candidate, essential_name};
use crate::wire::{INFO_KIND_MASK, INFO_KIND_SHIFT};
use alloc::vec::Vec;
use hashbrown::HashMap;

/// libbpf's `btf_kind_core_compat`: the same kind, or both enums.
pub(crate) fn kinds_compat(a: Kind, b: Kind) -> bool {
    let any_enum = |k: Kind| k == Kind::ENUM || k == Kind::ENUM64;
    a == b || (any_enum(a) && any_enum(b))
}

/// The starts of the names wanted: for names of four bytes or more, their
/// first four bytes, hashed into a set of 65536 bits; for shorter ones,
/// their first two bytes as a set of 65536 bits (a one-byte name counts
/// its NUL as the second byte). A type whose name can be one of them (or
/// a flavour of one, `name___suffix`) starts with the same bytes.
struct Prefixes {
    /// Hashed first four bytes of the names of four bytes or more.
    long: Vec<u64>,
    /// First two bytes of the shorter names.
    short: Vec<u64>,
    any_short: bool,
}

impl Default for Prefixes {
    fn default() -> Self {
        Prefixes {
            long: alloc::vec![0; 1024],
            short: alloc::vec![0; 1024],
            any_short: false,
        }
    }
}

/// Sets bit `k` of a 65536-bit set.
fn set_bit(bits: &mut [u64], k: usize) {
    if let Some(w) = bits.get_mut(k / 64) {
        *w |= 1 << (k % 64);
    }
}

/// Whether bit `k` of a 65536-bit set is set.
fn has_bit(bits: &[u64], k: usize) -> bool {
    bits.get(k / 64).is_some_and(|w| w & (1 << (k % 64)) != 0)
}

impl Prefixes {
    fn key2(s: &[u8]) -> usize {
        let a = s.first().copied().unwrap_or(0);
        let b = s.get(1).copied().unwrap_or(0);
        usize::from(a) << 8 | usize::from(b)
    }

    /// The first four bytes (zeros past the end), hashed to 16 bits.
    fn key4(s: &[u8]) -> usize {
        let b = match s.first_chunk::<4>() {
            Some(b) => *b,
            None => {
                let mut b = [0u8; 4];
                for (d, s) in b.iter_mut().zip(s) {
                    *d = *s;
                }
                b
            }
        };
        (u32::from_le_bytes(b).wrapping_mul(0x9e37_79b1) >> 16) as usize
    }

    fn insert(&mut self, name: &[u8]) {
        if name.len() >= 4 {
            set_bit(&mut self.long, Self::key4(name));
            return;
        }
        self.any_short = true;
        set_bit(&mut self.short, Self::key2(name));
        // A flavour of a one-byte name (`a___v2`) has `_` second.
        if let [a] = name {
            set_bit(&mut self.short, Self::key2(&[*a, b'_']));
        }
    }

    /// Whether a name whose string section tail is `tail` may be one of
    /// the names wanted (or a flavour of one).
    fn may_start(&self, tail: &[u8]) -> bool {
        has_bit(&self.long, Self::key4(tail))
            || (self.any_short && has_bit(&self.short, Self::key2(tail)))
    }
}

/// The cheap tests a target's type must pass before its name is looked
/// up: a name, a kind that can be a candidate, and a name whose first two
/// bytes start a wanted name.
struct Filter<'f, 'b> {
    btf: &'f Btf<'b>,
    /// Whether kind `k` (the info word's 7 kind bits) is wanted.
    kinds: [bool; 128],
    starts: &'f Prefixes,
}

impl Filter<'_, '_> {
    /// Calls `keep` with the id of every own type that passes, in id
    /// order. With an id index, reads only each record's name offset and
    /// info word, in place (the records' sizes are in the index); without
    /// one, walks the records.
    ///
    /// The kinds of consecutive records follow no pattern a branch
    /// predictor learns, and about a quarter of vmlinux's pass the kind
    /// test: tested with a branch, a mispredicted jump on most records
    /// costs more than the rest of the scan. So each block of records is
    /// first compacted, without a branch, into the indexes of those with a
    /// name and a wanted kind; only those names are then read, and that
    /// test almost always fails, which the predictor learns.
    fn each<O: Order>(&self, keep: &mut impl FnMut(TypeId)) {
        let btf = self.btf;
        let first = btf.first_id().get();
        let Some((offsets, types)) = btf.indexed_records() else {
            for ty in btf.types() {
                let (off, kind) = (ty.name_offset().get(), ty.kind().get());
                if off != 0 && self.kind_wanted(kind.into()) && self.name_may_match(off) {
                    keep(ty.id());
                }
            }
            return;
        };
        let word = |at: usize| {
            let mut b = [0u8; 4];
            if let Some(src) = types.get(at..at.wrapping_add(4)) {
                b.copy_from_slice(src);
            }
            O::u32(b)
        };
        let mut picked = [0u32; BLOCK];
        for (block, chunk) in offsets.chunks(BLOCK).enumerate() {
            let base = block * BLOCK;
            let mut n = 0usize;
            for (i, &at) in chunk.iter().enumerate() {
                let at = at as usize;
                let kind = (word(at.wrapping_add(4)) >> INFO_KIND_SHIFT) & INFO_KIND_MASK;
                let pass = (word(at) != 0) & self.kind_wanted(kind);
                // Always written, kept only when it passes: no branch on
                // the kind. `n <= i < BLOCK`, so the slot exists.
                if let Some(slot) = picked.get_mut(n) {
                    *slot = i as u32;
                }
                n += usize::from(pass);
            }
            for &i in picked.get(..n).unwrap_or_default() {
                let Some(&at) = chunk.get(i as usize) else {
                    continue;
                };
                if self.name_may_match(word(at as usize)) {
                    let index = base + i as usize;
                    keep(TypeId::new(first.wrapping_add(index as u32)));
                }
            }
        }
    }

    #[inline(always)]
    fn kind_wanted(&self, kind: u32) -> bool {
        // In bounds: the table has 128 entries.
        self.kinds
            .get((kind & 127) as usize)
            .copied()
            .unwrap_or(false)
    }

    #[inline(always)]
    fn name_may_match(&self, name_off: u32) -> bool {
        self.starts.may_start(self.btf.str_tail(name_off))
    }
}

/// Records per block of [`Filter::each`]'s compaction.
const BLOCK: usize = 512;

/// Every own type of each target whose essential name is one of the
/// names asked for, by name.
pub(crate) struct Found<'n> {
    /// Name → index into `ids`.
    names: HashMap<&'n [u8], usize>,
    /// Per name, per target (0 = vmlinux), the ids in order.
    ids: Vec<Vec<Vec<TypeId>>>,
}

impl<'n> Found<'n> {
    /// Scans `targets` (vmlinux first, then modules) for types of the
    /// essential names and kinds in `wanted` (a kind stands for the kinds
    /// compatible with it).
    pub(crate) fn scan(
        targets: &[&Btf<'_>],
        wanted: impl IntoIterator<Item = (&'n [u8], Kind)>,
    ) -> Self {
        let mut map: HashMap<&'n [u8], usize> = HashMap::new();
        // Kinds that can be candidates: types of other kinds (FUNCs, most
        // of vmlinux's named types) are passed over on their record alone.
        let mut kinds = 0u128;
        for (n, kind) in wanted {
            let next = map.len();
            map.entry(n).or_insert(next);
            kinds |= 1 << (kind.get() & 127);
            if kind == Kind::ENUM || kind == Kind::ENUM64 {
                kinds |= 1 << Kind::ENUM.get() | 1 << Kind::ENUM64.get();
            }
        }
        let mut ids = alloc::vec![alloc::vec![Vec::new(); targets.len()]; map.len()];
        // A name whose first two bytes start no wanted name cannot
        // match: nearly every type is turned away on those two bytes,
        // read in place, before its name is measured or hashed.
        let mut starts = Prefixes::default();
        for n in map.keys() {
            starts.insert(n);
        }
        for (t, btf) in targets.iter().enumerate() {
            let filter = Filter {
                btf,
                kinds: core::array::from_fn(|k| kinds & 1 << k != 0),
                starts: &starts,
            };
            let mut keep = |id: TypeId| {
                let Ok(ty) = btf.type_by_id(id) else { return };
                if let Some(&i) = map.get(essential_name(ty.name_bytes()))
                    && let Some(slot) = ids.get_mut(i).and_then(|per| per.get_mut(t))
                {
                    slot.push(id);
                }
            };
            match btf.endian() {
                Endian::Little => filter.each::<Le>(&mut keep),
                Endian::Big => filter.each::<Be>(&mut keep),
            }
        }
        Found { names: map, ids }
    }

    /// The candidates for a local type named `name` (not yet stripped)
    /// of kind `kind`, as libbpf lists them: vmlinux's, else every
    /// module's in order. Empty for a name not scanned for.
    pub(crate) fn candidates(
        &self,
        targets: &[&Btf<'_>],
        name: &[u8],
        kind: Kind,
    ) -> Vec<Candidate> {
        let mut out = Vec::new();
        let Some(per) = self
            .names
            .get(essential_name(name))
            .and_then(|&i| self.ids.get(i))
        else {
            return out;
        };
        for (t, ids) in per.iter().enumerate() {
            // Modules only when vmlinux has none.
            if t == 1 && !out.is_empty() {
                break;
            }
            let Some(btf) = targets.get(t) else { break };
            for &id in ids {
                if btf
                    .type_by_id(id)
                    .is_ok_and(|ty| kinds_compat(ty.kind(), kind))
                {
                    out.push(Candidate {
                        target: t as u32,
                        id,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Prefixes;
    use alloc::string::String;

    #[test]
    fn prefixes_pass_every_wanted_name_and_its_flavours() {
        let mut p = Prefixes::default();
        for name in [&b"a"[..], b"xyz", b"task_struct", b"pid_t"] {
            p.insert(name);
        }
        // Tails as in a string section: the name, its NUL, what follows.
        for tail in [
            &b"a\0next"[..],
            b"a___v2\0",
            b"xyz\0",
            b"xyz___old\0",
            b"task_struct\0",
            b"task_struct___v2\0",
            b"pid_t\0",
            b"pid_t___x",
        ] {
            assert!(p.may_start(tail), "{}", String::from_utf8_lossy(tail));
        }
        for tail in [&b"b\0"[..], b"yz\0", b"sk_buff\0", b""] {
            assert!(!p.may_start(tail), "{}", String::from_utf8_lossy(tail));
        }
    }
}
