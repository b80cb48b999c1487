//! `btf_core::dump` against the installed bpftool, byte for byte: the
//! running kernel, the Debian corpus (vmlinux, every module as a raw split
//! blob and as its `.ko` file), and synthetic blobs covering every kind and
//! flag combination in both byte orders.

mod common;
mod dump_common;

use btf_core::dump::{RawDump, RawType, write_raw_fmt};
use btf_core::testing::RawBlob;
use btf_core::{Btf, Endian, TypeId};
use dump_common::{TempDir, assert_same_dump, bpftool_raw, bpftool_raw_batch, ours};
use std::path::{Path, PathBuf};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Counts this thread's allocations, to show that dumping allocates nothing.
struct Counting;

thread_local! {
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn bpftool() -> bool {
    common::require(dump_common::have_bpftool(), "bpftool")
}

/// Checks both of our paths (bytes, and `fmt` text) against bpftool's bytes.
fn check(btf: &Btf<'_>, theirs: &[u8], what: &str) {
    let bytes = ours(btf);
    assert_same_dump(&bytes, theirs, what);
    let mut text = String::new();
    write_raw_fmt(btf, &mut text).expect("fmt dump");
    assert_eq!(
        text,
        String::from_utf8_lossy(theirs),
        "{what}: fmt dump differs"
    );
}

#[test]
fn running_kernel_vmlinux() {
    let bytes = std::fs::read(VMLINUX).ok();
    if !common::require(bytes.is_some(), VMLINUX) || !bpftool() {
        return;
    }
    let bytes = bytes.unwrap();
    let btf = Btf::parse(&bytes).expect("parse vmlinux");
    let theirs = bpftool_raw(Path::new(VMLINUX), None);
    check(&btf, &theirs, VMLINUX);
    // Display, one type at a time, agrees with the whole dump.
    let mut text = String::new();
    for t in btf.types() {
        use std::fmt::Write;
        writeln!(text, "{}", RawType(t)).unwrap();
    }
    assert_eq!(text.as_bytes(), &theirs[..]);
    assert_eq!(RawDump(&btf).to_string().as_bytes(), &theirs[..]);
}

#[test]
fn corpus_vmlinux() {
    let Some(dir) = common::corpus() else { return };
    if !bpftool() {
        return;
    }
    let path = dir.join("vmlinux.btf");
    let bytes = std::fs::read(&path).unwrap();
    let btf = Btf::parse(&bytes).unwrap();
    check(&btf, &bpftool_raw(&path, None), "corpus vmlinux.btf");
    // The same blob in the other byte order dumps the same.
    let swapped = common::swap_blob(&bytes);
    let btf = Btf::parse(&swapped).unwrap();
    assert_same_dump(
        &ours(&btf),
        &bpftool_raw(&path, None),
        "byte-swapped vmlinux",
    );
}

/// Every module of the corpus, split on vmlinux.btf: the raw `.btf` file
/// and the `.ko` file (through `btf_core::elf`) both dump exactly as
/// bpftool dumps the `.btf` file. bpftool runs in one batch per core.
#[test]
fn corpus_modules_raw_and_ko() {
    let Some(dir) = common::corpus() else { return };
    if !bpftool() {
        return;
    }
    let with_elf = common::require(
        cfg!(feature = "elf"),
        "the `elf` feature for the .ko half (cargo test --features elf)",
    );
    let base_path = dir.join("vmlinux.btf");
    let base_bytes = std::fs::read(&base_path).unwrap();
    let base = Btf::parse(&base_bytes).unwrap();
    let names = common::module_names(&dir);
    assert!(names.len() > 1000, "only {} modules", names.len());
    let scratch = TempDir::new("dump-modules");

    let results = dump_common::par_map(&names, |worker, chunk| {
        let files: Vec<PathBuf> = chunk
            .iter()
            .map(|n| dir.join("modules").join(format!("{n}.btf")))
            .collect();
        let theirs = bpftool_raw_batch(
            &files,
            Some(&base_path),
            &scratch.0.join(format!("batch-{worker}")),
        );
        let mut compared = Vec::new();
        for ((name, file), theirs) in chunk.iter().zip(&files).zip(&theirs) {
            let blob = std::fs::read(file).unwrap();
            let module = Btf::parse_split(&blob, &base).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_same_dump(&ours(&module), theirs, &format!("module {name}"));
            let mut n = 1;
            if with_elf {
                n += check_ko(&dir, name, &base, theirs);
            }
            compared.push(n);
        }
        compared
    });
    let blobs: usize = results.iter().sum();
    eprintln!(
        "{} modules: {blobs} dumps identical to bpftool's",
        names.len()
    );
}

#[cfg(feature = "elf")]
fn check_ko(dir: &Path, name: &str, base: &Btf<'_>, theirs: &[u8]) -> usize {
    let ko = std::fs::read(dir.join("ko").join(format!("{name}.ko"))).unwrap();
    let found = btf_core::elf::BtfSections::parse(&ko).unwrap_or_else(|e| panic!("{name}.ko: {e}"));
    let module = Btf::parse_split(found.btf(), base).unwrap_or_else(|e| panic!("{name}.ko: {e}"));
    assert_same_dump(&ours(&module), theirs, &format!("{name}.ko"));
    1
}

#[cfg(not(feature = "elf"))]
fn check_ko(_: &Path, _: &str, _: &Btf<'_>, _: &[u8]) -> usize {
    0
}

// ---------------------------------------------------------------- synthetic

/// Kind numbers, for readability.
mod k {
    pub(crate) const INT: u8 = 1;
    pub(crate) const PTR: u8 = 2;
    pub(crate) const ARRAY: u8 = 3;
    pub(crate) const STRUCT: u8 = 4;
    pub(crate) const UNION: u8 = 5;
    pub(crate) const ENUM: u8 = 6;
    pub(crate) const FWD: u8 = 7;
    pub(crate) const TYPEDEF: u8 = 8;
    pub(crate) const VOLATILE: u8 = 9;
    pub(crate) const CONST: u8 = 10;
    pub(crate) const RESTRICT: u8 = 11;
    pub(crate) const FUNC: u8 = 12;
    pub(crate) const FUNC_PROTO: u8 = 13;
    pub(crate) const VAR: u8 = 14;
    pub(crate) const DATASEC: u8 = 15;
    pub(crate) const FLOAT: u8 = 16;
    pub(crate) const DECL_TAG: u8 = 17;
    pub(crate) const TYPE_TAG: u8 = 18;
    pub(crate) const ENUM64: u8 = 19;
}

/// A placeholder name patched into bytes that are not UTF-8 after building.
const BAD_UTF8: &str = "bad_\u{7f}\u{7f}_name";

/// Replaces the placeholder's two DEL bytes with bytes that are not UTF-8.
fn patch_bad_utf8(blob: &mut [u8]) {
    let needle = BAD_UTF8.as_bytes();
    let at = blob
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("placeholder");
    blob[at + 4] = 0xff;
    blob[at + 5] = 0xc3;
}

/// A base blob with every kind, every flag, and every field spelling:
/// anonymous and named records, all INT encodings, bitfields under kflag,
/// signed and unsigned ENUM and ENUM64 extremes, FUNC and VAR linkages
/// including extern and out-of-range values, varargs, DATASEC entries, tag
/// attributes, odd names (empty at a non-zero offset, mid-string, not
/// UTF-8).
fn every_kind(endian: Endian) -> Vec<u8> {
    let mut b = RawBlob::new(endian);
    let int = b.str("int");
    let names: Vec<u32> = [
        "a",
        "b",
        "c",
        "point",
        "u",
        "e",
        "E1",
        "E2",
        "E3",
        "f",
        "fp",
        "v",
        ".data",
        "tag",
        "aligned(8)",
        "e64",
        "X",
        "Y",
        "Z",
        "float",
        "char",
        "_Bool",
        "weird",
    ]
    .iter()
    .map(|n| b.str(n))
    .collect();
    let bad = b.str(BAD_UTF8);
    let odd = b.str("quote'and\"tab\tx");
    let [
        a,
        bb,
        c,
        point,
        u,
        e,
        e1,
        e2,
        e3,
        f,
        fp,
        v,
        data,
        tag,
        attr,
        e64,
        x,
        y,
        z,
        float,
        chr,
        bool_,
        weird,
    ] = names[..]
    else {
        unreachable!()
    };
    // Offsets to the empty string at the end of "int", and mid-string.
    let empty_mid = int + 3;
    let mid = int + 1; // "nt"

    // [1] int, [2] char, [3] _Bool, [4] unsigned 8-bit at bit offset 3.
    b.ty(int, k::INT, false, 0, 4).word(0x0100_0020);
    b.ty(chr, k::INT, false, 0, 1).word(0x0200_0008);
    b.ty(bool_, k::INT, false, 0, 1).word(0x0400_0001);
    b.ty(0, k::INT, false, 0, 2).word(0x0003_000d);
    // [5] INT with encodings that are not one bit (bpftool: UNKN).
    b.ty(weird, k::INT, false, 0, 16).word(0x0300_0080);
    // [6] PTR anon, [7] PTR named, [8] const, [9] volatile, [10] restrict
    b.ty(0, k::PTR, false, 0, 1);
    b.ty(x, k::PTR, false, 0, 0);
    b.ty(0, k::CONST, false, 0, 1);
    b.ty(0, k::VOLATILE, false, 0, 8);
    b.ty(0, k::RESTRICT, false, 0, 6);
    // [11] array of 4 int, [12] array of 0
    b.ty(0, k::ARRAY, false, 0, 0).words(&[1, 1, 4]);
    b.ty(0, k::ARRAY, false, 0, 0).words(&[11, 4, 0]);
    // [13] struct point { int a; int b; } plain offsets
    b.ty(point, k::STRUCT, false, 2, 8)
        .words(&[a, 1, 0, bb, 1, 32]);
    // [14] anon struct with kflag bitfields, an anonymous member, a
    // zero-width bitfield size and a big bit offset
    b.ty(0, k::STRUCT, true, 4, 16).words(&[
        a,
        1,
        3 << 24,
        0,
        1,
        (5 << 24) | 3,
        c,
        13,
        64,
        bb,
        1,
        0x00ff_ffff,
    ]);
    // [15] union u { int a; struct point b; }, [16] anon union, no members
    b.ty(u, k::UNION, false, 2, 8).words(&[a, 1, 0, bb, 13, 0]);
    b.ty(0, k::UNION, true, 1, 4).words(&[0, 1, 7 << 24]);
    // [17] enum e unsigned, [18] anon enum signed, [19] empty enum
    b.ty(e, k::ENUM, false, 3, 4)
        .words(&[e1, 0, e2, 0x7fff_ffff, e3, 0xffff_ffff]);
    b.ty(0, k::ENUM, true, 3, 4)
        .words(&[e1, 0x8000_0000, e2, 0xffff_ffff, e3, 7]);
    b.ty(e, k::ENUM, false, 0, 1);
    // [20] fwd struct, [21] fwd union
    b.ty(x, k::FWD, false, 0, 0);
    b.ty(y, k::FWD, true, 0, 0);
    // [22] typedef, [23] anon typedef
    b.ty(z, k::TYPEDEF, false, 0, 13);
    b.ty(0, k::TYPEDEF, false, 0, 1);
    // [24] proto int(int a, int, ...), [25] proto void(void)
    b.ty(0, k::FUNC_PROTO, false, 3, 1)
        .words(&[a, 1, 0, 1, 0, 0]);
    b.ty(0, k::FUNC_PROTO, false, 0, 0);
    // [26..=29] FUNC static, global, extern, linkage 3
    b.ty(f, k::FUNC, false, 0, 24);
    b.ty(fp, k::FUNC, false, 1, 24);
    b.ty(x, k::FUNC, false, 2, 25);
    b.ty(y, k::FUNC, false, 3, 25);
    // [30..=33] VAR static, global, extern, linkage 7
    b.ty(v, k::VAR, false, 0, 1).word(0);
    b.ty(a, k::VAR, false, 0, 13).word(1);
    b.ty(bb, k::VAR, false, 0, 11).word(2);
    b.ty(c, k::VAR, false, 0, 1).word(7);
    // [34] datasec with entries on VARs, a FUNC and void; [35] empty
    b.ty(data, k::DATASEC, false, 4, 64)
        .words(&[30, 0, 4, 31, 8, 8, 26, 16, 0, 0, 40, 4]);
    b.ty(data, k::DATASEC, false, 0, 0);
    // [36] float
    b.ty(float, k::FLOAT, false, 0, 8);
    // [37..=40] DECL_TAG on the type, a member, a param; an attribute
    b.ty(tag, k::DECL_TAG, false, 0, 13).word(u32::MAX);
    b.ty(tag, k::DECL_TAG, false, 0, 13).word(1);
    b.ty(tag, k::DECL_TAG, false, 0, 26).word(0);
    b.ty(attr, k::DECL_TAG, true, 0, 31).word(u32::MAX);
    // [41] TYPE_TAG, [42] TYPE_TAG attribute, [43] ptr to it
    b.ty(tag, k::TYPE_TAG, false, 0, 1);
    b.ty(attr, k::TYPE_TAG, true, 0, 41);
    b.ty(0, k::PTR, false, 0, 42);
    // [44] enum64 unsigned extremes, [45] enum64 signed extremes, [46] anon
    b.ty(e64, k::ENUM64, false, 4, 8).words(&[
        e1,
        0,
        0,
        e2,
        u32::MAX,
        u32::MAX,
        e3,
        0,
        0x8000_0000,
        x,
        0xffff_fffe,
        0,
    ]);
    b.ty(0, k::ENUM64, true, 4, 8).words(&[
        e1,
        0,
        0x8000_0000,
        e2,
        u32::MAX,
        u32::MAX,
        e3,
        u32::MAX,
        0x7fff_ffff,
        x,
        5,
        0,
    ]);
    b.ty(0, k::ENUM64, false, 0, 4);
    // [47] names: empty at a non-zero offset, mid-string, odd characters,
    // not UTF-8 (patched below)
    b.ty(empty_mid, k::TYPEDEF, false, 0, 1);
    b.ty(mid, k::STRUCT, false, 2, 4)
        .words(&[empty_mid, 1, 0, mid, 1, 0]);
    b.ty(odd, k::TYPEDEF, false, 0, 1);
    b.ty(bad, k::STRUCT, false, 1, 4).words(&[bad, 1, 0]);
    b.ty(bad, k::ENUM, false, 1, 4).words(&[bad, 1]);
    let mut blob = b.build();
    patch_bad_utf8(&mut blob);
    blob
}

/// A split blob on [`every_kind`]: references to base types and base
/// strings, and its own kinds of every sort.
fn every_kind_split(endian: Endian, base: &Btf<'_>) -> Vec<u8> {
    let first = base.last_id().get() + 1;
    let mut b = RawBlob::split(endian, base.str_start() + base.strings().len() as u32);
    let m = b.str("module_thing");
    let n = b.str("n");
    let sec = b.str(".data..percpu");
    // A base name: "point" lives in the base's strings.
    let point = base
        .types()
        .find(|t| t.name() == Ok("point"))
        .unwrap()
        .name_offset()
        .get();
    b.ty(m, k::STRUCT, true, 2, 8)
        .words(&[n, 1, 2 << 24, point, 13, 32]); // [first]
    b.ty(point, k::TYPEDEF, false, 0, first); // [first+1]
    b.ty(n, k::VAR, false, 0, first).word(1); // [first+2]
    b.ty(0, k::PTR, false, 0, 47); // a base type with an empty name
    b.ty(sec, k::DATASEC, false, 3, 24)
        .words(&[first + 2, 0, 8, 30, 8, 4, 50, 12, 4]);
    b.ty(m, k::FUNC_PROTO, false, 2, 1)
        .words(&[n, first + 3, 0, 0]);
    b.ty(m, k::FUNC, false, 2, first + 5);
    b.ty(n, k::ENUM64, true, 1, 8).words(&[m, 1, 2]);
    b.ty(n, k::DECL_TAG, true, 0, first).word(1);
    b.build()
}

#[test]
fn synthetic_every_kind_both_orders_and_split() {
    if !bpftool() {
        return;
    }
    let tmp = TempDir::new("dump-synth");
    let mut compared = 0;
    for endian in [Endian::Little, Endian::Big] {
        let tag = format!("{endian:?}");
        let blob = every_kind(endian);
        let btf = Btf::parse(&blob).unwrap_or_else(|e| panic!("{tag}: {e}"));
        let path = tmp.write(&format!("base-{tag}.btf"), &blob);
        let theirs = bpftool_raw(&path, None);
        check(&btf, &theirs, &format!("every kind, {tag}"));
        assert!(
            theirs.windows(2).any(|w| w == [0xff, 0xc3]),
            "bpftool prints names as raw bytes"
        );
        compared += 1;

        let split = every_kind_split(endian, &btf);
        let module = Btf::parse_split(&split, &btf).unwrap_or_else(|e| panic!("{tag}: {e}"));
        let spath = tmp.write(&format!("split-{tag}.btf"), &split);
        check(
            &module,
            &bpftool_raw(&spath, Some(&path)),
            &format!("split, {tag}"),
        );
        compared += 1;
    }
    eprintln!("{compared} synthetic blobs identical to bpftool's dump");
}

/// Each record kind alone, with and without kflag and with names or
/// without, in a blob of its own: one bpftool batch for all.
#[test]
fn synthetic_single_records() {
    if !bpftool() {
        return;
    }
    let tmp = TempDir::new("dump-single");
    let mut blobs = Vec::new();
    for endian in [Endian::Little, Endian::Big] {
        for kind in 1..=19u8 {
            for kflag in [false, true] {
                for named in [false, true] {
                    for vlen in [0u32, 1, 3] {
                        blobs.push(single(endian, kind, kflag, named, vlen));
                    }
                }
            }
        }
    }
    let paths: Vec<PathBuf> = blobs
        .iter()
        .enumerate()
        .map(|(i, b)| tmp.write(&format!("s{i}.btf"), b))
        .collect();
    let theirs = bpftool_raw_batch(&paths, None, &tmp.0.join("batch"));
    for ((blob, theirs), path) in blobs.iter().zip(&theirs).zip(&paths) {
        let btf = Btf::parse(blob).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check(&btf, theirs, &path.display().to_string());
    }
    eprintln!("{} single-record blobs identical", blobs.len());
}

/// `int` as [1], then one record of `kind` as [2] whose references point
/// at [1].
fn single(endian: Endian, kind: u8, kflag: bool, named: bool, vlen: u32) -> Vec<u8> {
    let mut b = RawBlob::new(endian);
    let int = b.str("int");
    let name = if named { b.str("thing") } else { 0 };
    let el = b.str("el");
    b.ty(int, k::INT, false, 0, 4).word(0x0100_0020);
    let (vlen_field, size_or_type) = match kind {
        k::FUNC | k::FUNC_PROTO => (vlen, 1),
        k::STRUCT | k::UNION | k::ENUM | k::DATASEC | k::ENUM64 => (vlen, 4),
        k::INT | k::FLOAT => (0, 4),
        _ => (0, 1),
    };
    let elems = match kind {
        k::STRUCT | k::UNION | k::ENUM | k::FUNC_PROTO | k::DATASEC | k::ENUM64 => vlen,
        _ => 0,
    };
    let st = if kind == k::ARRAY || kind == k::FWD {
        0
    } else {
        size_or_type
    };
    b.ty(name, kind, kflag, vlen_field, st);
    match kind {
        k::INT => {
            b.word(0x0100_0020);
        }
        k::ARRAY => {
            b.words(&[1, 1, 7]);
        }
        k::VAR => {
            b.word(vlen);
        }
        k::DECL_TAG => {
            b.word(vlen.wrapping_sub(1));
        }
        _ => {}
    }
    for i in 0..elems {
        match kind {
            k::STRUCT | k::UNION => b.words(&[el, 1, (i << 24) | (i * 32)]),
            k::ENUM => b.words(&[el, i.wrapping_sub(1)]),
            k::FUNC_PROTO => b.words(&[if i == 1 { 0 } else { el }, 1]),
            k::DATASEC => b.words(&[1, i * 4, 4]),
            k::ENUM64 => b.words(&[el, i, u32::MAX - i]),
            _ => unreachable!(),
        };
    }
    b.build()
}

/// Kinds above ENUM64, sized by a layout section, print `[ID] UNKNOWN
/// 'NAME'` (bpftool's fallback line). bpftool v7.1 refuses such blobs, so
/// the rest of the dump is compared with bpftool's dump of the same blob
/// where each unknown record is replaced by a known kind of the same size
/// (and without the layout section, which libbpf 1.1 refuses in a blob of
/// the other byte order).
#[test]
fn synthetic_unknown_kinds() {
    if !bpftool() {
        return;
    }
    let tmp = TempDir::new("dump-unknown");
    for endian in [Endian::Little, Endian::Big] {
        let build = |unknown: bool| {
            let mut b = RawBlob::new(endian);
            let int = b.str("int");
            let mystery = b.str("mystery");
            if unknown {
                let mut layout = RawBlob::known_layout();
                layout.push((4, 0)); // kind 20: one word
                layout.push((0, 8)); // kind 21: 8-byte elements
                b.layout(&layout);
            }
            b.ty(int, k::INT, false, 0, 4).word(0x0100_0020);
            let (k20, k21) = if unknown {
                (20, 21)
            } else {
                (k::DECL_TAG, k::ENUM)
            };
            b.ty(mystery, k20, false, 0, 1).word(0);
            b.ty(0, k21, true, 2, 4).words(&[int, 1, mystery, 2]);
            b.ty(0, k::PTR, false, 0, 2);
            b.ty(mystery, k::DATASEC, false, 1, 4).words(&[3, 0, 4]);
            b.build()
        };
        let blob = build(true);
        let btf = Btf::parse(&blob).unwrap();
        let ours = String::from_utf8(ours(&btf)).unwrap();
        let stand_in = build(false);
        let path = tmp.write("stand-in.btf", &stand_in);
        let theirs = String::from_utf8(bpftool_raw(&path, None)).unwrap();
        let expect = theirs
            .replace(
                "[2] DECL_TAG 'mystery' type_id=1 component_idx=0",
                "[2] UNKNOWN 'mystery'",
            )
            .replace(
                "[3] ENUM '(anon)' encoding=SIGNED size=4 vlen=2\n\t'int' val=1\n\t'mystery' val=2",
                "[3] UNKNOWN '(anon)'",
            )
            .replace("(ENUM '(anon)')", "(UNKNOWN '(anon)')");
        assert_ne!(expect, theirs, "stand-in lines not found");
        assert_eq!(ours, expect, "{endian:?}");
        assert_eq!(
            RawType(btf.type_by_id(TypeId::new(3)).unwrap()).to_string(),
            "[3] UNKNOWN '(anon)'"
        );
    }
}

/// Names that are not UTF-8: exact bytes through `write_raw` and
/// `RawType::write_to`, U+FFFD through `fmt`.
#[test]
fn names_not_utf8() {
    let blob = every_kind(Endian::Little);
    let btf = Btf::parse(&blob).unwrap();
    let bad = btf
        .types()
        .find(|t| t.name_bytes().starts_with(b"bad_"))
        .unwrap();
    let mut bytes = Vec::new();
    RawType(bad)
        .write_to(&mut bytes)
        .unwrap_or_else(|e| match e {});
    assert!(bytes.windows(2).any(|w| w == [0xff, 0xc3]));
    let text = RawType(bad).to_string();
    assert_eq!(text, String::from_utf8_lossy(&bytes));
    assert!(text.contains("'bad_\u{fffd}\u{fffd}_name'"), "{text}");
}

/// A failing sink stops the dump with its error.
#[test]
fn sink_errors_propagate() {
    struct Full(usize);
    impl btf_core::dump::ByteSink for Full {
        type Error = &'static str;
        fn write_bytes(&mut self, b: &[u8]) -> Result<(), &'static str> {
            self.0 = self.0.checked_sub(b.len()).ok_or("full")?;
            Ok(())
        }
    }
    let blob = every_kind(Endian::Little);
    let btf = Btf::parse(&blob).unwrap();
    assert_eq!(btf_core::dump::write_raw(&btf, &mut Full(10)), Err("full"));
    let len = ours(&btf).len();
    assert_eq!(btf_core::dump::write_raw(&btf, &mut Full(len)), Ok(()));
}

/// Many names of every length, ASCII, multi-byte UTF-8 and not UTF-8, so
/// that names start and end at every position of the dump's internal
/// buffer: the byte path gives the exact names (checked against bpftool and
/// against lines built here), the `fmt` path their lossy form.
#[test]
fn names_across_buffer_boundaries() {
    let mut b = RawBlob::new(Endian::Little);
    let int = b.str("int");
    b.ty(int, k::INT, false, 0, 4).word(0x0100_0020);
    let pieces = ["a", "é", "日本", "\u{7f}\u{7f}", "_x9", "ß\u{7f}\u{7f}"];
    let mut names = Vec::new();
    for i in 0..4000usize {
        // Mostly short names, and a few longer than any buffer.
        let len = if i % 1000 == 999 {
            3000
        } else {
            1 + (i * 7) % 90
        };
        let mut name = String::new();
        let mut j = i;
        while name.len() < len {
            name.push_str(pieces[j % pieces.len()]);
            j = j / 2 + 1;
        }
        let off = b.str(&name);
        b.ty(off, k::TYPEDEF, false, 0, 1);
        names.push(name);
    }
    let mut blob = b.build();
    // Turn each DEL DEL in the strings into bytes that are not UTF-8.
    let hdr = btf_core::Header::parse(&blob).unwrap();
    let s0 = (hdr.hdr_len + hdr.str_off) as usize;
    del_pairs_to_bad_utf8(&mut blob[s0..s0 + hdr.str_len as usize]);
    let btf = Btf::parse(&blob).unwrap();
    let mut want = b"[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n".to_vec();
    for (i, name) in names.iter().enumerate() {
        let mut raw = name.as_bytes().to_vec();
        del_pairs_to_bad_utf8(&mut raw);
        want.extend_from_slice(format!("[{}] TYPEDEF '", i + 2).as_bytes());
        want.extend_from_slice(&raw);
        want.extend_from_slice(b"' type_id=1\n");
    }
    let bytes = ours(&btf);
    assert_same_dump(&bytes, &want, "names across buffer boundaries");
    let mut text = String::new();
    write_raw_fmt(&btf, &mut text).unwrap();
    assert_eq!(text, String::from_utf8_lossy(&bytes));
    // One type at a time (a smaller buffer) agrees too.
    let mut one_by_one = Vec::new();
    let mut one_text = String::new();
    for t in btf.types() {
        RawType(t)
            .write_to(&mut one_by_one)
            .unwrap_or_else(|e| match e {});
        one_by_one.push(b'\n');
        one_text.push_str(&RawType(t).to_string());
        one_text.push('\n');
    }
    assert_same_dump(&one_by_one, &bytes, "RawType::write_to");
    assert_eq!(one_text, text, "RawType Display");
    if bpftool() {
        let tmp = TempDir::new("dump-names");
        let path = tmp.write("names.btf", &blob);
        assert_same_dump(&bytes, &bpftool_raw(&path, None), "names, bpftool");
    }
}

/// Replaces each `7f 7f` with `ff c3`, which is not UTF-8.
fn del_pairs_to_bad_utf8(bytes: &mut [u8]) {
    for i in 0..bytes.len().saturating_sub(1) {
        if bytes[i] == 0x7f && bytes[i + 1] == 0x7f {
            bytes[i] = 0xff;
            bytes[i + 1] = 0xc3;
        }
    }
}

/// Dumping allocates nothing: a whole blob into a sink that only counts,
/// and every type through `Display` into a `fmt::Write` that only counts.
#[test]
fn dumping_allocates_nothing() {
    struct Count(usize);
    impl btf_core::dump::ByteSink for Count {
        type Error = std::convert::Infallible;
        fn write_bytes(&mut self, b: &[u8]) -> Result<(), Self::Error> {
            self.0 += b.len();
            Ok(())
        }
    }
    impl std::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let bytes = std::fs::read(VMLINUX).unwrap_or_else(|_| every_kind(Endian::Big));
    let btf = Btf::parse(&bytes).unwrap();
    let before = ALLOCATIONS.with(std::cell::Cell::get);
    let mut raw = Count(0);
    btf_core::dump::write_raw(&btf, &mut raw).unwrap_or_else(|e| match e {});
    let mut text = Count(0);
    write_raw_fmt(&btf, &mut text).unwrap();
    let mut each = Count(0);
    for t in btf.types() {
        use std::fmt::Write;
        write!(each, "{}", RawType(t)).unwrap();
        each.0 += 1;
    }
    let after = ALLOCATIONS.with(std::cell::Cell::get);
    assert_eq!(after - before, 0, "dumping allocated");
    assert!(raw.0 > 0);
    assert_eq!(text.0, each.0);
}
