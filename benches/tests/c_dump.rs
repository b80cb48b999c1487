//! btf-core's C dumper against libbpf's (`btf_dump__dump_type`, libbpf
//! 1.7 built by libbpf-sys), byte for byte: the running kernel's vmlinux,
//! the Debian corpus's vmlinux and every one of its modules, and a
//! synthetic blob of the corner cases (bitfields and padding, packed
//! structs, anonymous types inline, declarator syntax, name clashes, enum
//! sizes, loops broken by forward declarations, and a loop that cannot be).
//!
//! (`btf-sys/tests/cli_dump.rs` compares `btf dump --format c` with the
//! installed bpftool, whose older libbpf lacks the enum size attributes;
//! `btf-core/tests/dump_c.rs` covers what libbpf does not survive.)

#[path = "../../btf-core/tests/common/skip.rs"]
mod skip;

use btf_benches::ffi::LibbpfBtf;
use btf_core::dump::{self, CDumpError, CDumper};
use btf_core::write::{Builder, EncodeOptions, EnumeratorDef, MemberDef, ParamDef};
use btf_core::{Btf, TypeId, wire};
use std::path::Path;

/// bpftool's lines around the types, which libbpf does not print.
fn types_part(header: &[u8]) -> &[u8] {
    let start = b"apply_to = record)\n#endif\n\n";
    let end = b"#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop";
    let from = find(header, start).expect("prologue") + start.len();
    let to = find(header, end).expect("epilogue");
    &header[from..to]
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Panics with the first differing line of two dumps.
fn assert_same(ours: &[u8], theirs: &[u8], what: &str) {
    if ours == theirs {
        return;
    }
    let (a, b) = (
        String::from_utf8_lossy(ours),
        String::from_utf8_lossy(theirs),
    );
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            panic!(
                "{what}: line {} differs\n ours:   {x:?}\n libbpf: {y:?}",
                i + 1
            );
        }
    }
    panic!(
        "{what}: lengths differ ({} vs {} lines)",
        a.lines().count(),
        b.lines().count()
    );
}

/// The whole blob, as `write_c` (minus bpftool's lines) and as libbpf.
fn check_whole(bytes: &[u8], what: &str) {
    let btf = Btf::parse(bytes).expect("parse");
    let mut ours = Vec::new();
    dump::write_c(&btf, &mut ours).expect("our C dump");
    let lib = LibbpfBtf::new(bytes).expect("libbpf parses");
    let theirs = lib.c_dump(1..lib.type_cnt()).expect("libbpf's C dump");
    assert_same(types_part(&ours), &theirs, what);
}

#[test]
fn running_kernel_vmlinux() {
    let path = Path::new(btf_benches::data::VMLINUX);
    if !path.exists() {
        skip::skipped(&format!("needs {}", path.display()));
        return;
    }
    check_whole(&btf_benches::data::vmlinux(), "running vmlinux");
}

/// The Debian vmlinux whole, then each module's own ids on one dumper per
/// module (what it needs from the base comes along), as libbpf does on the
/// same split.
#[test]
fn debian_vmlinux_and_every_module() {
    let corpus = btf_benches::data::corpus();
    check_whole(&corpus.base, "Debian vmlinux");
    let base = Btf::parse(&corpus.base).expect("base");
    let lib_base = LibbpfBtf::new(&corpus.base).expect("libbpf base");
    for (name, bytes) in &corpus.modules {
        let btf = Btf::parse_split(bytes, &base).expect("module");
        let ids = btf.first_id().get()..=btf.last_id().get();
        let mut dumper = CDumper::new(&btf);
        let mut ours = Vec::new();
        for id in ids.clone() {
            dumper
                .dump_type(TypeId::new(id), &mut ours)
                .expect("our C dump");
        }
        let lib = LibbpfBtf::new_split(bytes, &lib_base).expect("libbpf module");
        let theirs = lib.c_dump(ids).expect("libbpf's C dump");
        assert_same(&ours, &theirs, name);
    }
    assert!(
        corpus.modules.len() > 1000,
        "{} modules",
        corpus.modules.len()
    );
}

/// Every corner of the dumper in one blob.
fn corner_cases() -> Vec<u8> {
    let mut b = Builder::new();
    let int = b.add_int("int", 4, wire::INT_SIGNED);
    let uint = b.add_int("unsigned int", 4, 0);
    let long = b.add_int("long int", 8, wire::INT_SIGNED);
    let ch = b.add_int("char", 1, wire::INT_SIGNED);
    let short = b.add_int("short", 2, wire::INT_SIGNED);
    let poly = b.add_int("__Poly8_t", 1, 0);
    let dbl = b.add_float("double", 8);
    let cint = b.add_const(int);
    let vint = b.add_volatile(int);
    let pcint = b.add_ptr(cint);
    let cpcint = b.add_const(pcint);
    let rp = b.add_restrict(pcint);
    b.add_typedef("cpci_t", cpcint);
    b.add_typedef("rp_t", rp);
    b.add_typedef("poly_t", poly);
    b.add_typedef("dbl_t", dbl);
    // Bitfields, a hole the compiler would not leave, tail padding.
    b.add_struct(
        "bits",
        24,
        &[
            MemberDef::bitfield("a", uint, 0, 3),
            MemberDef::bitfield("b", uint, 3, 7),
            MemberDef::bitfield("c", uint, 20, 4),
            MemberDef::new("d", ch, 32),
            MemberDef::new("e", long, 64),
            MemberDef::bitfield("f", int, 128, 1),
        ],
    );
    // Packed: a long at byte 1.
    b.add_struct(
        "packed",
        9,
        &[MemberDef::new("c", ch, 0), MemberDef::new("l", long, 8)],
    );
    // Anonymous struct, union and enum inline; a named enum.
    let anon_s = b.add_struct(
        "",
        8,
        &[MemberDef::new("x", int, 0), MemberDef::new("y", short, 32)],
    );
    let anon_e = b.add_enum(
        "",
        4,
        false,
        &[EnumeratorDef::new("A", 0), EnumeratorDef::new("B", 7)],
    );
    let anon_u = b.add_union(
        "",
        8,
        &[MemberDef::new("s", anon_s, 0), MemberDef::new("l", long, 0)],
    );
    let color = b.add_enum(
        "color",
        4,
        true,
        &[
            EnumeratorDef::new("RED", -1),
            EnumeratorDef::new("GREEN", 2),
        ],
    );
    b.add_struct(
        "outer",
        24,
        &[
            MemberDef::new("u", anon_u, 0),
            MemberDef::new("e", anon_e, 64),
            MemberDef::new("c", color, 96),
            MemberDef::new("cv", vint, 128),
        ],
    );
    // A top-level anonymous enum of constants; enum sizes.
    b.add_enum("", 4, false, &[EnumeratorDef::new("CONST_ONE", 1)]);
    b.add_enum("small", 1, false, &[EnumeratorDef::new("S0", 0)]);
    b.add_enum("wide", 8, false, &[EnumeratorDef::new("W0", 0)]);
    b.add_enum64("e64_small", 8, false, &[EnumeratorDef::unsigned("X0", 5)]);
    b.add_enum64(
        "e64_big",
        8,
        true,
        &[
            EnumeratorDef::new("BIG", -(1 << 40)),
            EnumeratorDef::unsigned("U", 1 << 33),
        ],
    );
    // Name clashes: two structs `dup`, two typedefs `dup_t`, enumerator
    // names that clash with a typedef and with each other.
    let dup1 = b.add_struct("dup", 4, &[MemberDef::new("a", int, 0)]);
    let dup2 = b.add_struct("dup", 8, &[MemberDef::new("b", long, 0)]);
    b.add_typedef("dup_t", dup1);
    b.add_typedef("dup_t", dup2);
    b.add_enum("clash", 4, false, &[EnumeratorDef::new("dup_t", 3)]);
    b.add_enum("clash2", 4, false, &[EnumeratorDef::new("RED", 9)]);
    // Declarators: function pointers, arrays of them, multi-dimensional
    // arrays, pointers to arrays, varargs, (void).
    let void_proto = b.add_func_proto(TypeId::VOID, &[]);
    let void_arg = b.add_func_proto(int, &[ParamDef::new("", TypeId::VOID)]);
    let pch = b.add_ptr(ch);
    let vararg = b.add_func_proto(int, &[ParamDef::new("fmt", pch), ParamDef::variadic()]);
    let pvoid_proto = b.add_ptr(void_proto);
    let pvararg = b.add_ptr(vararg);
    let fp_arr = b.add_array(pvararg, int, 4);
    let arr3 = b.add_array(int, int, 3);
    let arr23 = b.add_array(arr3, int, 2);
    let parr = b.add_ptr(arr3);
    let returns_fp = b.add_func_proto(pvoid_proto, &[ParamDef::new("n", int)]);
    let preturns_fp = b.add_ptr(returns_fp);
    let pvoid_arg = b.add_ptr(void_arg);
    b.add_struct(
        "decls",
        8 * 4 + 24 + 8 + 8 + 8 + 8,
        &[
            MemberDef::new("handlers", fp_arr, 0),
            MemberDef::new("grid", arr23, 256),
            MemberDef::new("row", parr, 448),
            MemberDef::new("factory", preturns_fp, 512),
            MemberDef::new("cb", pvoid_arg, 576),
            MemberDef::new("cb2", pvoid_proto, 640),
        ],
    );
    b.add_typedef("handler_t", pvararg);
    // Loops through pointers: forward declarations; a typedef used through
    // a pointer before its struct is complete.
    let node_fwd_ptr_slot = b.add_struct("list_node", 16, &[]);
    let pnode = b.add_ptr(node_fwd_ptr_slot);
    let node_t = b.add_typedef("node_t", node_fwd_ptr_slot);
    let pnode_t = b.add_ptr(node_t);
    b.add_struct(
        "list_head",
        16,
        &[
            MemberDef::new("first", pnode, 0),
            MemberDef::new("last", pnode_t, 64),
        ],
    );
    // FWDs of both flavours, an empty struct, a typedef of a FWD.
    let fwd_s = b.add_fwd_struct("opaque");
    let fwd_u = b.add_fwd_union("opaque_u");
    let pf = b.add_ptr(fwd_s);
    let pu = b.add_ptr(fwd_u);
    b.add_typedef("opaque_t", fwd_s);
    b.add_struct(
        "holder",
        16,
        &[MemberDef::new("s", pf, 0), MemberDef::new("u", pu, 64)],
    );
    b.add_struct("empty", 0, &[]);
    // Compiler built-ins.
    let va = b.add_typedef("__builtin_va_list", pch);
    b.add_typedef("va_list", va);
    b.add_typedef("__gnuc_va_list", TypeId::VOID);
    // Type tags and attributes.
    let tagged = b.add_type_tag("user", int);
    let ptagged = b.add_ptr(tagged);
    let attr = b.add_type_attr("address_space(1)", int);
    let pattr = b.add_ptr(attr);
    b.add_struct(
        "tags",
        16,
        &[
            MemberDef::new("p", ptagged, 0),
            MemberDef::new("q", pattr, 64),
        ],
    );
    // A typedef of a prototype; an array of arrays of pointers.
    let proto = b.add_func_proto(int, &[ParamDef::new("x", int)]);
    b.add_typedef("fn_t", proto);
    let pint = b.add_ptr(int);
    let row_of_ptrs = b.add_array(pint, int, 3);
    let grid_of_ptrs = b.add_array(row_of_ptrs, int, 2);
    b.add_struct("ptr_grid", 48, &[MemberDef::new("g", grid_of_ptrs, 0)]);
    // Names of 300 bytes used twice: renamed types are cut at 255 bytes,
    // enumerators are not.
    let long_name = "n".repeat(300);
    b.add_struct(long_name.as_str(), 4, &[MemberDef::new("a", int, 0)]);
    b.add_struct(long_name.as_str(), 4, &[MemberDef::new("b", int, 0)]);
    b.add_enum(
        "long1",
        4,
        false,
        &[EnumeratorDef::new(long_name.as_str(), 1)],
    );
    b.add_enum(
        "long2",
        4,
        false,
        &[EnumeratorDef::new(long_name.as_str(), 2)],
    );
    // Forty structs nested in one another around a long, placed at byte 1
    // of another: packed, which only an alignment found 41 levels down
    // shows.
    let mut nested = b.add_struct("nest0", 8, &[MemberDef::new("l", long, 0)]);
    for k in 1..=40 {
        nested = b.add_struct(
            format!("nest{k}").as_str(),
            8,
            &[MemberDef::new("d", nested, 0)],
        );
    }
    b.add_struct(
        "deep_packed",
        9,
        &[MemberDef::new("c", ch, 0), MemberDef::new("d", nested, 8)],
    );
    // Functions, variables and sections write nothing themselves.
    let f = b.add_func("do_it", vararg, btf_core::Linkage::GLOBAL);
    let _ = f;
    let var = b.add_var("counter", int, btf_core::Linkage::GLOBAL);
    b.add_datasec(
        ".data",
        4,
        &[btf_core::write::SecinfoDef {
            ty: var,
            offset: 0,
            size: 4,
        }],
    );
    b.encode(&EncodeOptions::default()).expect("encode")
}

#[test]
fn corner_cases_match_libbpf() {
    let bytes = corner_cases();
    check_whole(&bytes, "corner cases");
    // And type by type on fresh dumpers, which order differently.
    let btf = Btf::parse(&bytes).expect("parse");
    let lib = LibbpfBtf::new(&bytes).expect("libbpf");
    for id in 1..lib.type_cnt() {
        let mut ours = Vec::new();
        CDumper::new(&btf)
            .dump_type(TypeId::new(id), &mut ours)
            .expect("our dump");
        let theirs = lib.c_dump([id]).expect("libbpf's dump");
        assert_same(&ours, &theirs, &format!("type {id} alone"));
    }
}

/// Two structs embedding each other: libbpf says ELOOP, we say which type.
#[test]
fn embedding_loop_is_an_error() {
    let mut b = Builder::new();
    let int = b.add_int("int", 4, wire::INT_SIGNED);
    // [2] a { b x; } and [3] b { a y; }: ids are known in advance.
    b.add_struct("a", 4, &[MemberDef::new("x", TypeId::new(3), 0)]);
    b.add_struct("b", 4, &[MemberDef::new("y", TypeId::new(2), 0)]);
    b.add_struct("c", 4, &[MemberDef::new("z", int, 0)]);
    let bytes = b
        .encode_unchecked(&EncodeOptions::default())
        .expect("encode");
    let btf = Btf::parse(&bytes).expect("parse");
    let mut ours = Vec::new();
    match dump::write_c(&btf, &mut ours) {
        Err(CDumpError::Cycle { id }) => assert_eq!(id, TypeId::new(2)),
        other => panic!("expected a cycle error, got {other:?}"),
    }
    let lib = LibbpfBtf::new(&bytes).expect("libbpf");
    let (errno, theirs) = lib.c_dump(1..lib.type_cnt()).expect_err("libbpf fails");
    assert_eq!(errno, libc::ELOOP);
    // What came before the error is the same (here: nothing past int).
    assert_same(types_part_or_all(&ours), &theirs, "before the loop");
}

/// The output of a failed `write_c` has the prologue but no epilogue.
fn types_part_or_all(header: &[u8]) -> &[u8] {
    let start = b"apply_to = record)\n#endif\n\n";
    match find(header, start) {
        Some(i) => &header[i + start.len()..],
        None => header,
    }
}
