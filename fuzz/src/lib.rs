//! What every fuzz target does with a blob `btf-core` accepted: walk it
//! through every public view and check the answers agree with each other.
//!
//! Errors are fine everywhere; a panic, an out-of-bounds read, a hang or an
//! allocation out of proportion to the input is a bug. The assertions are
//! invariants the crate documents:
//!
//! - iteration and `type_by_id` give the same records, ids in order;
//! - every element view of a record has `vlen` elements; `validate`
//!   succeeds exactly when every element's name and type can be read;
//! - a lookup by a type's own name finds a type of that name (and kind), at
//!   that id or a lower one, and the same one whether the lookup scans,
//!   binary-searches or uses the hash index;
//! - resolution ends with a value or an error; `skip_mods*` end on a type
//!   that is not a modifier;
//! - the whole-blob raw dump is the per-type dumps joined by `\n`, and the
//!   `Display` forms equal the byte forms made lossy;
//! - the C dump ends with output or an error (never a hang: its depth is
//!   bounded and its output streamed, here into a capped sink); when whole,
//!   it is the per-type C dumps on one dumper between bpftool's lines;
//! - `parse`, `parse_unindexed`, `parse_with_storage` and an index
//!   round trip (`into_index` / `with_index`) agree;
//! - re-encoding a parsed blob ([`Builder::from_btf`]) gives a blob that
//!   parses to the same dump, and whatever the writer's `check` accepts
//!   parses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use btf_core::dump::{self, CDumper, RawDump, RawType};
use btf_core::write::{Builder, Copier, EncodeOptions};
use btf_core::{Btf, Kind, TypeId, TypeKind};

/// Lookups that scan (a blob without a name index that is not sorted by
/// name, or any blob from `parse_unindexed`) cost O(n) each, so they are
/// checked on a bounded sample of names: the first [`SCAN_FIRST`] types and
/// about [`SCAN_STRIDED`] more spread over the rest. The hash index answers
/// every name. A walk then costs O(n): a whole vmlinux (126k types) runs
/// in about 4.5 CPU s under ASan, where the scans took minutes.
const SCAN_FIRST: usize = 256;
/// See [`SCAN_FIRST`].
const SCAN_STRIDED: usize = 16;

/// Walks `btf` (parsed by any constructor) and everything reachable from
/// it. `btf.bytes()` and `btf.base()` are reparsed in the other modes.
pub fn walk(btf: &Btf<'_>) {
    let count = btf.type_count();
    assert_eq!(btf.type_ids().len(), count as usize);
    let _ = format!("{btf:?} {:?}", btf.header());

    // Own types, by iteration and by id.
    let mut n = 0u32;
    let mut element_faults = 0u32;
    for (t, id) in btf.types().zip(btf.type_ids()) {
        n += 1;
        assert_eq!(t.id(), id);
        let again = btf.type_by_id(id).expect("an own id resolves");
        assert_eq!(again.record(), t.record(), "type_by_id({id}) differs");
        element_faults = element_faults.saturating_add(view(btf, &t));
    }
    assert_eq!(n, count, "iteration stopped early");
    match btf.validate() {
        Ok(()) => assert_eq!(element_faults, 0, "validated, yet an element fails"),
        Err(e) => {
            assert!(
                element_faults > 0,
                "validate failed ({e}), yet every element reads"
            );
            let _ = format!("{e} {e:?}");
        }
    }

    // Ids around the edges.
    let last = btf.last_id().get();
    assert!(btf.type_by_id(TypeId::new(last.wrapping_add(1))).is_err() || last == u32::MAX);
    match btf.base() {
        None => assert_eq!(btf.type_by_id(TypeId::VOID).unwrap().kind(), Kind::new(0)),
        Some(base) => {
            assert_eq!(btf.first_id().get(), base.last_id().get() + 1);
            // Base ids resolve through the split to the base's records.
            let first = btf.first_id().get();
            for raw in [0, 1, first / 2, first.saturating_sub(1)] {
                if raw >= first {
                    continue;
                }
                let id = TypeId::new(raw);
                match (btf.type_by_id(id), base.type_by_id(id)) {
                    (Ok(a), Ok(b)) => assert_eq!(a.record(), b.record()),
                    (Err(_), Err(_)) => {}
                    (a, b) => panic!("id {raw}: split {a:?}, base {b:?}"),
                }
            }
        }
    }

    resolve(btf);
    lookups(btf);
    dumps(btf);
    reparse(btf);
    rewrite(btf);
}

/// Every kind-specific view of one type, formatted.
/// Reads every view of `t`; returns how many of its elements' names and
/// types could not be read (elements are checked where used).
fn view(btf: &Btf<'_>, t: &btf_core::Type<'_>) -> u32 {
    let name_fault = |r: btf_core::Result<&[u8]>| u32::from(r.is_err());
    let type_fault = |id: TypeId| u32::from(btf.type_by_id(id).is_err());
    let mut faults = 0u32;
    let name = t.name_bytes();
    match t.name() {
        Ok(s) => assert_eq!(s.as_bytes(), name),
        Err(_) => assert!(std::str::from_utf8(name).is_err()),
    }
    let _ = (
        t.kind(),
        t.vlen(),
        t.kflag(),
        t.info_word(),
        t.size(),
        t.referenced_type(),
    );
    assert!(t.record().len() >= 12);
    assert_eq!(t.tail().len() + 12, t.record().len());
    let vlen = t.vlen() as usize;
    let kind = t.as_kind();
    let _ = format!("{t:?} {kind:?} {}", t.kind());
    match kind {
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            let _ = (c.size(), c.has_bitfields());
            let mut k = 0;
            for m in c.members() {
                k += 1;
                assert!(
                    m.name_bytes().is_ok() || m.name().is_err(),
                    "name() hides a bad offset"
                );
                faults += name_fault(m.name_bytes()) + type_fault(m.ty());
                let _ = m.raw_offset();
                let _ = (m.bit_offset(), m.bitfield_size(), format!("{m:?}"));
            }
            assert_eq!(k, vlen, "members");
            assert_eq!(t.members().map(|m| m.len()), Some(vlen));
            assert_eq!(c.members().rev().count(), vlen);
            if vlen > 0 {
                assert!(c.members().get(vlen - 1).is_some());
            }
            assert!(c.members().get(vlen).is_none());
        }
        TypeKind::Enum(e) => {
            let _ = (e.size(), e.is_signed());
            let mut k = 0;
            for v in e.values() {
                k += 1;
                let _ = (v.name(), v.raw_value(), format!("{} {v:?}", v.value()));
                faults += name_fault(v.name_bytes());
                assert_eq!(v.value().bits() as u32, v.raw_value());
            }
            assert_eq!(k, vlen, "enumerators");
        }
        TypeKind::Enum64(e) => {
            let _ = (e.size(), e.is_signed());
            let mut k = 0;
            for v in e.values() {
                k += 1;
                let _ = (v.name(), format!("{} {v:?}", v.value()));
                faults += name_fault(v.name_bytes());
                assert_eq!(v.value().bits(), v.raw_value());
            }
            assert_eq!(k, vlen, "enumerators");
        }
        TypeKind::FuncProto(p) => {
            let _ = (p.return_type(), p.is_variadic());
            let mut k = 0;
            for a in p.params() {
                k += 1;
                let _ = (a.name(), a.is_variadic(), format!("{a:?}"));
                faults += name_fault(a.name_bytes()) + type_fault(a.ty());
            }
            assert_eq!(k, vlen, "params");
        }
        TypeKind::Datasec(d) => {
            let _ = d.size();
            let mut k = 0;
            for v in d.entries() {
                k += 1;
                let _ = (v.offset(), v.size(), format!("{v:?}"));
                faults += type_fault(v.ty());
            }
            assert_eq!(k, vlen, "datasec entries");
        }
        TypeKind::Func(f) => {
            let _ = format!("{}", f.linkage);
        }
        TypeKind::Var(v) => {
            let _ = format!("{}", v.linkage);
        }
        TypeKind::Unknown(u) => {
            let _ = (u.kind(), u.info_data(), u.elem_data());
        }
        _ => {}
    }
    faults
}

/// Sizes, alignments and modifier skipping on every id, and a few others.
fn resolve(btf: &Btf<'_>) {
    let last = btf.last_id().get();
    let extra = [0, 1, last, last.wrapping_add(1), u32::MAX];
    let ptr_size = btf.pointer_size();
    for id in btf.type_ids().chain(extra.into_iter().map(TypeId::new)) {
        if let Ok(size) = btf.size_of(id)
            && let Ok(t) = btf.type_by_id(id)
            && t.kind() == Kind::PTR
        {
            assert_eq!(size, ptr_size);
        }
        let _ = btf.align_of(id);
        if let Ok(t) = btf.skip_mods(id) {
            let k = t.kind();
            assert!(
                ![Kind::CONST, Kind::VOLATILE, Kind::RESTRICT, Kind::TYPE_TAG].contains(&k),
                "skip_mods({id}) stopped on {k}"
            );
        }
        if let Ok(t) = btf.skip_mods_and_typedefs(id) {
            let k = t.kind();
            assert!(
                ![
                    Kind::CONST,
                    Kind::VOLATILE,
                    Kind::RESTRICT,
                    Kind::TYPE_TAG,
                    Kind::TYPEDEF
                ]
                .contains(&k),
                "skip_mods_and_typedefs({id}) stopped on {k}"
            );
        }
    }
}

/// Lookups by every own type's name through a hash index (built once, on
/// the blob and each of its bases): a type of that name (and kind) is found
/// at or below its id. The same answers from `btf` as given and from a scan
/// (`parse_unindexed`): for every name when `btf` answers without scanning
/// (a name index, or binary search on a sorted blob, down its base chain),
/// else for a sample of names (see [`SCAN_FIRST`]).
fn lookups(btf: &Btf<'_>) {
    with_name_index(btf, &mut |hashed| check_lookups(btf, hashed));
}

/// Calls `f` with `btf` reparsed (ids indexed) on bases that are reparsed
/// the same way, each with a name index: every lookup through it is O(1).
fn with_name_index(btf: &Btf<'_>, f: &mut dyn FnMut(&Btf<'_>)) {
    match btf.base() {
        None => {
            let mut own = Btf::parse(btf.bytes()).expect("parse agrees");
            own.index_names();
            f(&own);
        }
        Some(base) => with_name_index(base, &mut |indexed_base| {
            let mut own = Btf::parse_split(btf.bytes(), indexed_base).expect("parse_split agrees");
            own.index_names();
            f(&own);
        }),
    }
}

/// Whether a lookup by name in `btf` needs no linear scan: every blob of
/// its chain has a name index, or an id index and names in sorted order.
fn finds_without_scan(btf: &Btf<'_>) -> bool {
    let own = btf.has_name_index() || (btf.is_indexed() && btf.is_sorted_by_name());
    own && btf.base().is_none_or(finds_without_scan)
}

fn check_lookups(btf: &Btf<'_>, hashed: &Btf<'_>) {
    assert!(hashed.has_name_index());
    assert_eq!(hashed.first_id(), btf.first_id());
    let unindexed = Btf::parse_unindexed(btf.bytes(), btf.base()).expect("parse_unindexed");
    let every = finds_without_scan(btf);
    let step = (btf.type_count() as usize / SCAN_STRIDED).max(1);
    let mut scanned = 0usize;
    for (i, t) in btf.types().enumerate() {
        let name = t.name_bytes();
        if name.is_empty() {
            continue;
        }
        let id = t.id();
        let kind = t.kind();
        let by_kind = hashed
            .find_by_name_bytes(name, Some(kind))
            .expect("own name and kind found");
        assert_eq!(by_kind.name_bytes(), name);
        assert_eq!(by_kind.kind(), kind);
        assert!(by_kind.id() <= id, "found {} after {id}", by_kind.id());
        let any = hashed
            .find_by_name_bytes(name, None)
            .expect("own name found");
        assert_eq!(any.name_bytes(), name);
        assert!(any.id() <= by_kind.id());
        let (by_kind, any) = (by_kind.id(), any.id());
        if let Ok(s) = std::str::from_utf8(name) {
            let k = hashed.find_by_name_kind(s, kind).map(|t| t.id());
            assert_eq!(k, Some(by_kind), "find_by_name_kind");
            let a = hashed.find_by_name(s).map(|t| t.id());
            if s == "void" {
                assert_eq!(a, Some(TypeId::VOID));
            } else {
                assert_eq!(a, Some(any), "find_by_name");
            }
        }
        let sampled = i < SCAN_FIRST || i % step == 0;
        if every || sampled {
            // `btf` as given: hash index, binary search or scan.
            let g_kind = btf.find_by_name_bytes(name, Some(kind)).map(|t| t.id());
            let g_any = btf.find_by_name_bytes(name, None).map(|t| t.id());
            assert_eq!(g_kind, Some(by_kind), "as given vs hash index, by kind");
            assert_eq!(g_any, Some(any), "as given vs hash index, any kind");
        }
        if sampled {
            scanned += 1;
            let u_kind = unindexed
                .find_by_name_bytes(name, Some(kind))
                .map(|t| t.id());
            let u_any = unindexed.find_by_name_bytes(name, None).map(|t| t.id());
            assert_eq!(u_kind, Some(by_kind), "scan vs hash index, by kind");
            assert_eq!(u_any, Some(any), "scan vs hash index, any kind");
        }
    }
    assert!(scanned <= SCAN_FIRST + 2 * SCAN_STRIDED + 1, "sample bound");
    assert!(btf.find_by_name_bytes(b"", None).is_none());
    assert!(hashed.find_by_name_bytes(b"", None).is_none());
    let _ = btf.find_by_name("no such name \u{1}");
    let _ = hashed.find_by_name("no such name \u{1}");
}

/// The raw dump, whole and per type, bytes and text.
fn dumps(btf: &Btf<'_>) {
    let mut whole = Vec::new();
    dump::write_raw(btf, &mut whole).unwrap_or_else(|e| match e {});
    let text = RawDump(btf).to_string();
    assert_eq!(
        String::from_utf8_lossy(&whole),
        text,
        "Display is the lossy dump"
    );
    let mut joined = Vec::new();
    for t in btf.types() {
        let mut one = Vec::new();
        RawType(t).write_to(&mut one).unwrap_or_else(|e| match e {});
        assert_eq!(String::from_utf8_lossy(&one), RawType(t).to_string());
        joined.extend_from_slice(&one);
        joined.push(b'\n');
    }
    assert!(joined == whole, "per-type dumps differ from the whole dump");
    c_dumps(btf);
}

/// At most this many bytes of C per input: padding alone can make
/// gigabytes of it, which the dumper streams; the sink cuts it short.
const C_LIMIT: usize = 1 << 20;

const C_PROLOGUE: &[u8] = b"#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n";
const C_EPILOGUE: &[u8] = b"#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n";

/// A sink that takes [`C_LIMIT`] bytes, then fails.
struct Capped(Vec<u8>);

impl dump::ByteSink for Capped {
    type Error = &'static str;
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        if self.0.len() + bytes.len() > C_LIMIT {
            return Err("capped");
        }
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// The C dump whole, and type by type on one dumper (what `write_c` does,
/// so the bytes between its first and last lines are the same), and type
/// by type in reverse on another: each ends with output or an error.
fn c_dumps(btf: &Btf<'_>) {
    let mut whole = Capped(Vec::new());
    let result = dump::write_c(btf, &mut whole);
    assert!(whole.0.starts_with(C_PROLOGUE) || whole.0.is_empty());
    let _ = result.as_ref().map_err(ToString::to_string);
    let mut dumper = CDumper::new(btf);
    let mut parts = Capped(Vec::new());
    let mut stopped = false;
    for id in 1..=btf.last_id().get() {
        if dumper.dump_type(TypeId::new(id), &mut parts).is_err() {
            stopped = true;
            break;
        }
    }
    if result.is_ok() {
        assert!(!stopped, "write_c succeeded, dump_type by type failed");
        let types = whole
            .0
            .strip_prefix(C_PROLOGUE)
            .and_then(|t| t.strip_suffix(C_EPILOGUE))
            .expect("bpftool's lines around the types");
        assert!(
            types == &parts.0[..],
            "the types of write_c differ from dump_type's"
        );
    }
    let mut reverse = CDumper::new(btf);
    let mut sink = Capped(Vec::new());
    for id in (1..=btf.last_id().get()).rev().take(64) {
        if reverse.dump_type(TypeId::new(id), &mut sink).is_err() {
            break;
        }
    }
}

/// The other parse modes and the index round trip agree with `btf`.
fn reparse(btf: &Btf<'_>) {
    let data = btf.bytes();
    let base = btf.base();
    let count = btf.type_count();
    let unindexed = Btf::parse_unindexed(data, base).expect("parse_unindexed");
    assert!(!unindexed.is_indexed());
    assert_eq!(unindexed.type_count(), count);
    assert_eq!(unindexed.first_id(), btf.first_id());
    assert_eq!(unindexed.last_id(), btf.last_id());
    let mut storage = vec![0u32; count as usize];
    let stored = Btf::parse_with_storage(data, base, &mut storage).expect("parse_with_storage");
    assert!(stored.is_indexed());
    assert_eq!(stored.type_count(), count);
    if count > 0 {
        let mut short = vec![0u32; count as usize - 1];
        assert!(Btf::parse_with_storage(data, base, &mut short).is_err());
    }
    let index = btf.clone().into_index();
    assert_eq!(index.type_count(), count);
    let attached = Btf::with_index(data, base, &index).expect("with_index");
    let walk_index = unindexed.clone().into_index();
    assert_eq!(walk_index.type_count(), count);
    // Every record through the id indexes, and by iteration of the
    // unindexed parse; its `type_by_id` walks the records, O(n) each, so it
    // is checked on the sample of ids `check_lookups` scans with.
    let step = (count as usize / SCAN_STRIDED).max(1);
    let mut walked = unindexed.types();
    for (i, id) in btf.type_ids().enumerate() {
        let a = btf.type_by_id(id).unwrap().record();
        assert_eq!(walked.next().map(|t| t.record()), Some(a));
        assert_eq!(stored.type_by_id(id).unwrap().record(), a);
        assert_eq!(attached.type_by_id(id).unwrap().record(), a);
        if i < SCAN_FIRST || i % step == 0 {
            assert_eq!(unindexed.type_by_id(id).unwrap().record(), a);
        }
    }
    assert!(walked.next().is_none());
}

/// Re-encoding: `from_btf` keeps the records and strings, so the result
/// parses to the same dump; copying every type with a [`Copier`] gives a
/// builder whose accepted output parses.
fn rewrite(btf: &Btf<'_>) {
    let opts = EncodeOptions::like(btf);
    if let Ok(b) = Builder::from_btf(btf) {
        assert_eq!(b.type_count(), btf.type_count() as usize);
        if let Ok(bytes) = b.encode_unchecked(&opts) {
            let again = match btf.base() {
                Some(base) => Btf::parse_split(&bytes, base),
                None => Btf::parse(&bytes),
            };
            let again = again.unwrap_or_else(|e| panic!("from_btf output does not parse: {e}"));
            assert_eq!(again.type_count(), btf.type_count());
            let mut x = Vec::new();
            let mut y = Vec::new();
            dump::write_raw(btf, &mut x).unwrap_or_else(|e| match e {});
            dump::write_raw(&again, &mut y).unwrap_or_else(|e| match e {});
            assert!(x == y, "from_btf output dumps differently");
        }
        let _ = b.check(&opts);
    }

    // Copy every own type: errors are fine, but what passes the builder's
    // check must parse.
    let mut b = match btf.base() {
        Some(base) => Builder::split(base),
        None => Builder::new(),
    };
    let mut copier = Copier::new(btf);
    let mut failures = 0u32;
    for id in btf.type_ids() {
        if copier.copy(&mut b, id).is_err() {
            failures += 1;
            if failures == COPY_FAILURES {
                break;
            }
        }
    }
    check_encoded(&b, &opts, btf.base());
}

/// Failed copies after which [`rewrite`] stops copying. A failed copy
/// keeps nothing (as documented), so the next copy of a type that reaches
/// the same bad type walks everything it reaches again: in a vmlinux, one
/// bad type reachable from most others made copying every id quadratic
/// (minutes for a mutated 5 MB blob). At most this many failures keep it
/// O(n).
const COPY_FAILURES: u32 = 32;

/// If [`Builder::check`] accepts `b` with `opts`, `encode` succeeds and the blob
/// parses (on `base`) with as many types as the builder holds.
pub fn check_encoded(b: &Builder<'_>, opts: &EncodeOptions, base: Option<&Btf<'_>>) {
    if b.check(opts).is_err() {
        let _ = b.encode_unchecked(opts);
        return;
    }
    let bytes = b.encode(opts).expect("check accepted, encode failed");
    let parsed = match base {
        Some(base) => Btf::parse_split(&bytes, base),
        None => Btf::parse(&bytes),
    };
    let parsed = parsed.unwrap_or_else(|e| panic!("writer accepted types the reader rejects: {e}"));
    assert_eq!(parsed.type_count() as usize, b.type_count());
    if let Err(e) = parsed.validate() {
        panic!("writer accepted elements the reader's validate rejects: {e}");
    }
}

/// Parses `data` as a base blob and walks it; with `base`, as a split on it.
pub fn parse_and_walk(data: &[u8], base: Option<&Btf<'_>>) {
    let parsed = match base {
        Some(base) => Btf::parse_split(data, base),
        None => Btf::parse(data),
    };
    match parsed {
        Ok(btf) => walk(&btf),
        Err(e) => {
            let _ = format!("{e} {e:?}");
            // The unindexed parse runs the same checks.
            assert!(Btf::parse_unindexed(data, base).is_err());
        }
    }
}

/// How many blobs [`splits_agree`] hands to `Btf::parse_splits`: past two
/// of its read-ahead windows (32 blobs each), so that full windows and the
/// refills after them are reached, and its eight lanes refill many times.
const SPLITS_BATCH: usize = 70;

/// `Btf::parse_splits` of `split` among copies of itself, cut at a few
/// places (so that lanes hold good and bad blobs at once), gives each what
/// `Btf::parse_split` gives it.
pub fn splits_agree(split: &[u8], base: &Btf<'_>) {
    let n = split.len();
    let cuts = [
        n,
        n / 2,
        n,
        n.saturating_sub(1),
        n,
        n * 3 / 4,
        n,
        n,
        n / 3,
        n,
    ];
    let blobs: Vec<&[u8]> = cuts
        .iter()
        .cycle()
        .take(SPLITS_BATCH)
        .filter_map(|&c| split.get(..c))
        .collect();
    // The blobs repeat with the cuts: parse each cut once.
    let wants: Vec<_> = blobs
        .iter()
        .take(cuts.len())
        .map(|blob| Btf::parse_split(blob, base))
        .collect();
    let batch = Btf::parse_splits(blobs.iter().copied(), base);
    assert_eq!(batch.len(), blobs.len());
    for ((got, want), i) in batch.into_iter().zip(wants.iter().cycle()).zip(0..) {
        match (got, want) {
            (Ok(got), Ok(want)) => {
                assert_eq!(got.type_count(), want.type_count(), "blob {i}");
                assert_eq!(got.first_id(), want.first_id(), "blob {i}");
                assert_eq!(got.into_index(), want.clone().into_index(), "blob {i}");
            }
            (Err(got), Err(want)) => assert_eq!(&got, want, "blob {i}"),
            (got, want) => panic!(
                "blob {i}: parse_splits gave {:?}, parse_split {:?}",
                got.map(|b| b.type_count()),
                want.as_ref().map(|b| b.type_count())
            ),
        }
    }
}
