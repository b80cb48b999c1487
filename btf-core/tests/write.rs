//! The writer: every kind built, encoded in both byte orders and both
//! header formats, and read back; string deduplication; split and append
//! builders; checks and raw mode; deep copies; and exact round trips of
//! real kernels (the running vmlinux, the Debian corpus and its modules).

mod common;

use btf_core::wire::{INT_BOOL, INT_CHAR, INT_SIGNED};
use btf_core::write::{
    Builder, Copier, EncodeOptions, EnumeratorDef, HeaderFormat, LEGACY_MAX_VLEN, MemberDef, Name,
    ParamDef, Place, Problem, RawRecord, SecinfoDef, WriteError,
};
use btf_core::{Btf, Endian, EnumValue, Kind, Linkage, StrOffset, TypeId, TypeKind};
use std::path::Path;
use std::time::Instant;

const ORDERS: [Endian; 2] = [Endian::Little, Endian::Big];

fn other(e: Endian) -> Endian {
    match e {
        Endian::Little => Endian::Big,
        Endian::Big => Endian::Little,
    }
}

/// One type of every kind, with a bitfield struct, a union, a variadic
/// prototype, signed and unsigned enums, attributes.
fn every_kind() -> (Builder<'static>, Vec<TypeId>) {
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED);
    let uint = b.add_int("unsigned int", 4, 0);
    let chr = b.add_int("char", 1, INT_CHAR);
    let boolean = b.add_int("_Bool", 1, INT_BOOL);
    let ptr = b.add_ptr(int);
    let arr = b.add_array(chr, uint, 16);
    let st = b.add_struct(
        "s",
        24,
        &[
            MemberDef::new("a", int, 0),
            MemberDef::bitfield("flag", uint, 32, 1),
            MemberDef::bitfield("mode", uint, 33, 3),
            MemberDef::new("name", arr, 64),
        ],
    );
    let un = b.add_union(
        "u",
        8,
        &[MemberDef::new("i", int, 0), MemberDef::new("p", ptr, 0)],
    );
    let en = b.add_enum(
        "e",
        4,
        true,
        &[EnumeratorDef::new("A", 0), EnumeratorDef::new("B", -1)],
    );
    let en64 = b.add_enum64(
        "e64",
        8,
        false,
        &[
            EnumeratorDef::unsigned("BIG", 1 << 40),
            EnumeratorDef::unsigned("MAX", u64::MAX),
        ],
    );
    let fwd = b.add_fwd_struct("later");
    let fwdu = b.add_fwd_union("later_u");
    let td = b.add_typedef("s_t", st);
    let vol = b.add_volatile(int);
    let cst = b.add_const(vol);
    let rst = b.add_restrict(ptr);
    let proto = b.add_func_proto(
        int,
        &[
            ParamDef::new("x", int),
            ParamDef::new("y", ptr),
            ParamDef::variadic(),
        ],
    );
    let func = b.add_func("f", proto, Linkage::GLOBAL);
    let var = b.add_var("v", int, Linkage::STATIC);
    let sec = b.add_datasec(
        ".data",
        4,
        &[SecinfoDef {
            ty: var,
            offset: 0,
            size: 4,
        }],
    );
    let flt = b.add_float("double", 8);
    let dtag = b.add_decl_tag("tag", st, 1);
    let dattr = b.add_decl_attr("packed", st, -1);
    let ttag = b.add_type_tag("user", int);
    let tattr = b.add_type_attr("address_space(1)", int);
    let ids = vec![
        int, uint, chr, boolean, ptr, arr, st, un, en, en64, fwd, fwdu, td, vol, cst, rst, proto,
        func, var, sec, flt, dtag, dattr, ttag, tattr,
    ];
    (b, ids)
}

#[test]
fn every_kind_reads_back_in_both_orders_and_headers() {
    let (b, ids) = every_kind();
    for endian in ORDERS {
        for header in [HeaderFormat::Classic, HeaderFormat::Layout] {
            let opts = EncodeOptions::new(endian).with_header(header);
            let bytes = b.encode(&opts).expect("encode");
            let btf = Btf::parse(&bytes).expect("parse");
            assert_eq!(btf.endian(), endian);
            assert_eq!(
                btf.header().layout.is_some(),
                header == HeaderFormat::Layout
            );
            assert_eq!(btf.type_count() as usize, ids.len());
            let kinds: Vec<Kind> = btf.types().map(|t| t.kind()).collect();
            for k in 1..=19 {
                assert!(kinds.contains(&Kind::new(k)), "kind {k} missing");
            }
            check_every_kind(&btf, &ids);
            // Parse → copy → encode in the other order → parse → encode back.
            let again = Builder::from_btf(&btf).expect("from_btf");
            let swapped = again.encode(&opts_in(other(endian), header)).expect("swap");
            let btf2 = Btf::parse(&swapped).expect("parse swapped");
            let back = Builder::from_btf(&btf2).expect("from_btf 2");
            assert_eq!(back.encode(&opts).expect("encode back"), bytes);
        }
    }
}

fn opts_in(endian: Endian, header: HeaderFormat) -> EncodeOptions {
    EncodeOptions::new(endian).with_header(header)
}

fn check_every_kind(btf: &Btf<'_>, ids: &[TypeId]) {
    let ty = |i: usize| btf.type_by_id(ids[i]).expect("type");
    match ty(0).as_kind() {
        TypeKind::Int(i) => assert!(i.is_signed() && i.bits == 32 && i.size == 4),
        k => panic!("{k:?}"),
    }
    match ty(2).as_kind() {
        TypeKind::Int(i) => assert!(i.is_char() && !i.is_signed() && i.bits == 8),
        k => panic!("{k:?}"),
    }
    match ty(5).as_kind() {
        TypeKind::Array(a) => assert_eq!((a.elem, a.index, a.nelems), (ids[2], ids[1], 16)),
        k => panic!("{k:?}"),
    }
    match ty(6).as_kind() {
        TypeKind::Struct(s) => {
            assert!(s.has_bitfields());
            let m: Vec<_> = s
                .members()
                .map(|m| {
                    (
                        m.name().unwrap().to_string(),
                        m.bit_offset(),
                        m.bitfield_size(),
                    )
                })
                .collect();
            assert_eq!(
                m,
                [
                    ("a".into(), 0, 0),
                    ("flag".into(), 32, 1),
                    ("mode".into(), 33, 3),
                    ("name".into(), 64, 0)
                ]
            );
        }
        k => panic!("{k:?}"),
    }
    match ty(8).as_kind() {
        TypeKind::Enum(e) => {
            let v: Vec<_> = e.values().map(|v| v.value()).collect();
            assert_eq!(v, [EnumValue::Signed(0), EnumValue::Signed(-1)]);
        }
        k => panic!("{k:?}"),
    }
    match ty(9).as_kind() {
        TypeKind::Enum64(e) => {
            let v: Vec<_> = e.values().map(|v| v.value()).collect();
            assert_eq!(
                v,
                [EnumValue::Unsigned(1 << 40), EnumValue::Unsigned(u64::MAX)]
            );
        }
        k => panic!("{k:?}"),
    }
    match ty(11).as_kind() {
        TypeKind::Fwd(f) => assert!(f.is_union),
        k => panic!("{k:?}"),
    }
    match ty(16).as_kind() {
        TypeKind::FuncProto(p) => {
            assert!(p.is_variadic());
            assert_eq!(p.params().len(), 3);
        }
        k => panic!("{k:?}"),
    }
    match ty(17).as_kind() {
        TypeKind::Func(f) => assert_eq!((f.proto, f.linkage), (ids[16], Linkage::GLOBAL)),
        k => panic!("{k:?}"),
    }
    match ty(19).as_kind() {
        TypeKind::Datasec(d) => {
            let e = d.entries().next().unwrap();
            assert_eq!((e.ty(), e.offset(), e.size()), (ids[18], 0, 4));
        }
        k => panic!("{k:?}"),
    }
    match (ty(21).as_kind(), ty(22).as_kind()) {
        (TypeKind::DeclTag(t), TypeKind::DeclTag(a)) => {
            assert_eq!((t.component_idx, t.attr), (1, false));
            assert_eq!((a.component_idx, a.attr), (-1, true));
        }
        k => panic!("{k:?}"),
    }
    match (ty(23).as_kind(), ty(24).as_kind()) {
        (TypeKind::TypeTag(t), TypeKind::TypeTag(a)) => assert!(!t.attr && a.attr),
        k => panic!("{k:?}"),
    }
    assert_eq!(ty(24).name().unwrap(), "address_space(1)");
    assert_eq!(btf.size_of(ids[6]).unwrap(), 24);
    assert_eq!(btf.size_of(ids[12]).unwrap(), 24);
}

#[test]
fn strings_are_deduplicated() {
    let mut b = Builder::new();
    let a = b.add_str("alpha");
    let bb = b.add_str("beta");
    assert_eq!(b.add_str("alpha"), a);
    assert_eq!(b.add_str_bytes(b"beta\0ignored"), bb);
    assert_eq!(b.add_str(""), StrOffset::EMPTY);
    assert_eq!(b.strings(), b"\0alpha\0beta\0");
    // Types naming the same string share it.
    let i1 = b.add_int("alpha", 4, 0);
    b.add_typedef("beta", i1);
    assert_eq!(b.strings(), b"\0alpha\0beta\0");
    assert_eq!(b.name(Name::Offset(a)), a);
}

#[test]
fn split_builder_continues_its_base_and_reuses_its_strings() {
    let blob = btf_core::testing::tiny_blob();
    let base = Btf::parse(&blob).unwrap();
    let mut b = Builder::split(&base);
    assert_eq!(b.first_id().get(), base.type_count() + 1);
    assert_eq!(b.str_start(), base.strings().len() as u32);
    let int = base.find_by_name("int").unwrap();
    // "int" is the base's: referred to there, not added.
    let id = b.add_ptr(int.id());
    let alias = b.add_typedef("int", int.id());
    let fresh = b.add_typedef("fresh_t", id);
    assert_eq!(b.record(alias).unwrap()[0], int.name_offset().get());
    assert_eq!(b.strings(), b"fresh_t\0");
    for endian in ORDERS {
        let bytes = b.encode(&EncodeOptions::new(endian)).unwrap();
        // The base is little-endian: a split must be in its base's order,
        // so the big-endian one is read on the base's big-endian copy.
        let same_blob = btf_core::testing::tiny_blob_in(endian);
        let same = Btf::parse(&same_blob).unwrap();
        if endian != base.endian() {
            assert_eq!(
                Btf::parse_split(&bytes, &base).unwrap_err(),
                btf_core::Error::SplitEndianMismatch {
                    split: endian,
                    base: base.endian()
                }
            );
        }
        let split = Btf::parse_split(&bytes, &same).unwrap();
        assert_eq!(split.first_id(), b.first_id());
        let t = split.type_by_id(fresh).unwrap();
        assert_eq!(t.name().unwrap(), "fresh_t");
        assert_eq!(split.skip_mods_and_typedefs(alias).unwrap().id(), int.id());
        // A split with nothing appended round trips exactly.
        let again = Builder::from_btf(&split).unwrap();
        assert_eq!(again.encode(&EncodeOptions::new(endian)).unwrap(), bytes);
    }
    // An empty split has an empty string section, which the reader accepts.
    let empty = Builder::split(&base)
        .encode(&EncodeOptions::default())
        .unwrap();
    let parsed = Btf::parse_split(&empty, &base).unwrap();
    assert_eq!((parsed.type_count(), parsed.strings().len()), (0, 0));
}

#[test]
fn from_btf_appends_after_the_original() {
    let blob = btf_core::testing::tiny_blob();
    let src = Btf::parse(&blob).unwrap();
    let mut b = Builder::from_btf(&src).unwrap();
    assert_eq!(b.encode(&EncodeOptions::like(&src)).unwrap(), blob);
    let point = src.find_by_name("point").unwrap().id();
    let c = b.add_const(point);
    let name = b.add_str("point"); // already there: reused
    assert_eq!(name, src.find_by_name("point").unwrap().name_offset());
    b.add_typedef("cpoint_t", c);
    let bytes = b.encode(&EncodeOptions::like(&src)).unwrap();
    let out = Btf::parse(&bytes).unwrap();
    assert_eq!(out.type_count(), src.type_count() + 2);
    // The original string section is a prefix of the new one, unchanged.
    assert!(out.strings().starts_with(src.strings()));
    assert_eq!(
        out.strings().len(),
        src.strings().len() + "cpoint_t\0".len()
    );
    for (a, b) in src.types().zip(out.types()) {
        assert_eq!(a.record(), b.record());
    }
}

#[test]
fn copying_keeps_odd_string_sections_exact() {
    // A string section with a duplicate, an unused string, and a name that
    // points into the middle of another.
    let mut raw = btf_core::testing::RawBlob::new(Endian::Little);
    let int = raw.str("int");
    let _unused = raw.str("unused");
    let dup = raw.str("int");
    let long = raw.str("unsigned int");
    raw.ty(int, 1, false, 0, 4).word(0x0100_0020);
    raw.ty(dup, 1, false, 0, 4).word(0x0000_0020);
    raw.ty(long + 9, 8, false, 0, 1); // typedef named "int", mid-string
    let blob = raw.build();
    let src = Btf::parse(&blob).unwrap();
    let mut b = Builder::with_strings_of(&src);
    for t in src.types() {
        b.copy_type(&t).unwrap();
    }
    assert_eq!(b.encode(&EncodeOptions::like(&src)).unwrap(), blob);

    // Into a fresh builder, the same names collapse to one string.
    let mut fresh = Builder::new();
    for t in src.types() {
        fresh.copy_type(&t).unwrap();
    }
    assert_eq!(fresh.strings(), b"\0int\0");
    let out = fresh.encode(&EncodeOptions::default()).unwrap();
    let parsed = Btf::parse(&out).unwrap();
    for (a, b) in src.types().zip(parsed.types()) {
        assert_eq!(
            common::describe(&src, a.id()),
            common::describe(&parsed, b.id())
        );
    }
}

#[test]
fn copier_takes_dependencies_once_and_remaps_them() {
    let blob = btf_core::testing::tiny_blob();
    let src = Btf::parse(&blob).unwrap();
    let ptr = src.types().find(|t| t.kind() == Kind::PTR).unwrap().id();
    let mut b = Builder::new();
    let pad = b.add_float("float", 4); // shift every id by one
    let mut copier = Copier::new(&src);
    let new_ptr = copier.copy(&mut b, ptr).unwrap();
    // ptr → typedef → struct → int: four types, in source order.
    assert_eq!(b.type_count(), 5);
    assert_eq!(copier.copy(&mut b, ptr).unwrap(), new_ptr);
    let int = src.find_by_name("int").unwrap().id();
    assert_eq!(copier.get(int), Some(TypeId::new(2)));
    assert_eq!(b.type_count(), 5);
    let bytes = b.encode(&EncodeOptions::default()).unwrap();
    let out = Btf::parse(&bytes).unwrap();
    assert_eq!(out.type_by_id(pad).unwrap().name().unwrap(), "float");
    let point = out
        .skip_mods_and_typedefs(out.type_by_id(new_ptr).unwrap().referenced_type().unwrap())
        .unwrap();
    assert_eq!(point.name().unwrap(), "point");
    assert_eq!(out.size_of(point.id()).unwrap(), 8);
    // An id the source lacks is an error, and nothing is added.
    let err = copier.copy(&mut b, TypeId::new(99)).unwrap_err();
    assert!(matches!(err, WriteError::Source { .. }), "{err}");
    assert_eq!(b.type_count(), 5);
}

#[test]
fn copier_refers_to_a_shared_base() {
    let blob = btf_core::testing::tiny_blob();
    let base = Btf::parse(&blob).unwrap();
    let point = base.find_by_name("point").unwrap().id();
    // A module-like split on the base: a pointer to the base's struct.
    let mut m = Builder::split(&base);
    let p = m.add_ptr(point);
    let module_bytes = m.encode(&EncodeOptions::default()).unwrap();
    let module = Btf::parse_split(&module_bytes, &base).unwrap();

    let mut b = Builder::split(&base);
    let mut copier = Copier::new(&module);
    let copied = copier.copy(&mut b, p).unwrap();
    assert_eq!(
        b.type_count(),
        1,
        "the base's struct is referred to, not copied"
    );
    assert_eq!(b.record(copied).unwrap()[2], point.get());

    // Into a base builder, the same copy takes the struct and int along.
    let mut flat = Builder::new();
    Copier::new(&module).copy(&mut flat, p).unwrap();
    assert_eq!(flat.type_count(), 3);
}

fn invalid(b: &Builder<'_>) -> (TypeId, Problem) {
    match b.encode(&EncodeOptions::default()) {
        Err(WriteError::InvalidType { id, problem }) => (id, problem),
        other => panic!("expected an invalid type, got {other:?}"),
    }
}

#[test]
fn bad_use_is_an_error_from_encode_and_raw_mode_allows_it() {
    // A member referring to a type that does not exist.
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED);
    let s = b.add_struct("s", 4, &[MemberDef::new("x", TypeId::new(9), 0)]);
    assert_eq!(
        invalid(&b),
        (
            s,
            Problem::DanglingType {
                place: Place::Member(0),
                target: TypeId::new(9)
            }
        )
    );
    let raw = b.encode_unchecked(&EncodeOptions::default()).unwrap();
    let parsed = Btf::parse(&raw).expect("members are checked where used");
    let member = parsed
        .type_by_id(s)
        .unwrap()
        .members()
        .unwrap()
        .next()
        .unwrap();
    assert_eq!(
        parsed.type_by_id(member.ty()).err(),
        Some(btf_core::Error::NoSuchType { id: TypeId::new(9) }),
        "following the dangling member fails"
    );
    assert!(
        matches!(
            parsed.validate(),
            Err(btf_core::Error::DanglingType { id, target, .. }) if id == s && target == TypeId::new(9)
        ),
        "the reader's validate refuses dangling ids too"
    );

    // A name that must be an identifier.
    let mut b = Builder::new();
    let int2 = b.add_int("int", 4, INT_SIGNED);
    let td = b.add_typedef("my type", int2);
    assert!(
        matches!(invalid(&b), (id, Problem::NotIdentifier { place: Place::Type, .. }) if id == td)
    );
    let err = b.encode(&EncodeOptions::default()).unwrap_err();
    assert!(
        err.to_string().starts_with("type [2]: the type has name"),
        "{err}"
    );
    assert!(b.encode_unchecked(&EncodeOptions::default()).is_ok());

    // An enumerator without a name; an enum of 3 bytes.
    let mut b = Builder::new();
    let e = b.add_enum("e", 4, false, &[EnumeratorDef::new("", 1)]);
    assert_eq!(
        invalid(&b),
        (
            e,
            Problem::NameRequired {
                place: Place::Enumerator(0)
            }
        )
    );
    let mut b = Builder::new();
    let e3 = b.add_enum("e", 3, false, &[EnumeratorDef::new("A", 1)]);
    assert_eq!(invalid(&b), (e3, Problem::EnumSize { size: 3 }));

    // FUNC with extern linkage; VAR with extern linkage.
    let mut b = Builder::new();
    let proto = b.add_func_proto(TypeId::VOID, &[]);
    let f = b.add_func("f", proto, Linkage::EXTERN);
    assert_eq!(invalid(&b), (f, Problem::Linkage { linkage: 2 }));

    // Anonymous kinds with a name, named kinds without one.
    let mut b = Builder::new();
    let int3 = b.add_int("int", 4, 0);
    let ptr = b.add_raw(&RawRecord {
        name: Name::from("p"),
        kind: Kind::PTR,
        kflag: false,
        vlen: 0,
        size_or_type: int3.get(),
        tail: &[],
    });
    assert_eq!(invalid(&b), (ptr, Problem::NameNotAllowed));

    // Union members off 0, struct members out of order or past the size.
    let mut b = Builder::new();
    let i = b.add_int("int", 4, 0);
    let u = b.add_union("u", 4, &[MemberDef::new("a", i, 8)]);
    assert_eq!(
        invalid(&b),
        (
            u,
            Problem::MemberOffset {
                index: 0,
                bit_offset: 8
            }
        )
    );
    let mut b = Builder::new();
    let i = b.add_int("int", 4, 0);
    let s = b.add_struct(
        "s",
        4,
        &[MemberDef::new("a", i, 0), MemberDef::new("b", i, 40)],
    );
    assert_eq!(
        invalid(&b),
        (
            s,
            Problem::MemberOffset {
                index: 1,
                bit_offset: 40
            }
        )
    );

    // Datasec entries that overlap.
    let mut b = Builder::new();
    let i = b.add_int("int", 4, 0);
    let v1 = b.add_var("a", i, Linkage::GLOBAL);
    let v2 = b.add_var("b", i, Linkage::GLOBAL);
    let d = b.add_datasec(
        ".bss",
        8,
        &[
            SecinfoDef {
                ty: v1,
                offset: 0,
                size: 4,
            },
            SecinfoDef {
                ty: v2,
                offset: 2,
                size: 4,
            },
        ],
    );
    assert_eq!(invalid(&b), (d, Problem::SecinfoBounds { index: 1 }));

    // Kind 0, an unknown kind without a layout, a raw record whose vlen
    // and length disagree.
    let mut b = Builder::new();
    let k0 = b.add_raw(&RawRecord {
        name: Name::ANON,
        kind: Kind::new(0),
        kflag: false,
        vlen: 0,
        size_or_type: 0,
        tail: &[],
    });
    assert_eq!(
        invalid(&b),
        (k0, Problem::UnknownKind { kind: Kind::new(0) })
    );
    let mut b = Builder::new();
    let short = b.add_raw(&RawRecord {
        name: Name::ANON,
        kind: Kind::FUNC_PROTO,
        kflag: false,
        vlen: 2,
        size_or_type: 0,
        tail: &[0, 0],
    });
    assert_eq!(
        invalid(&b),
        (
            short,
            Problem::RecordLength {
                expected: 7,
                found: 5
            }
        )
    );

    // Too many elements for the kernels before 2026.
    let names: Vec<String> = (0..=LEGACY_MAX_VLEN).map(|i| format!("m{i}")).collect();
    let mut b = Builder::new();
    let c = b.add_int("char", 1, 0);
    let members: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, n)| MemberDef::new(n.as_str(), c, i as u32 * 8))
        .collect();
    let big = b.add_struct("big", members.len() as u32, &members);
    assert!(b.encode(&EncodeOptions::default()).is_ok());
    let legacy = EncodeOptions::default().with_max_vlen(LEGACY_MAX_VLEN);
    assert_eq!(
        b.encode(&legacy).unwrap_err(),
        WriteError::InvalidType {
            id: big,
            problem: Problem::VlenTooLarge { count: 0x10000 }
        }
    );
    let _ = int;
}

#[test]
fn unknown_kinds_need_a_layout_section() {
    let mut b = Builder::new();
    b.add_int("int", 4, 0);
    let odd = b.add_raw(&RawRecord {
        name: Name::from("future"),
        kind: Kind::new(20),
        kflag: false,
        vlen: 2,
        size_or_type: 1,
        tail: &[7, 1, 2],
    });
    b.set_kind_layout(Kind::new(20), 4, 4);
    assert_eq!(
        invalid(&b),
        (
            odd,
            Problem::UnknownKind {
                kind: Kind::new(20)
            }
        )
    );
    let opts = EncodeOptions::default().with_header(HeaderFormat::Layout);
    let bytes = b.encode(&opts).unwrap();
    let btf = Btf::parse(&bytes).unwrap();
    assert_eq!(btf.layout().len(), 21);
    let t = btf.type_by_id(odd).unwrap();
    assert_eq!(t.kind(), Kind::new(20));
    assert_eq!(t.tail().len(), 12);
    // Copied as is, with the layout entry, and exact.
    let again = Builder::from_btf(&btf).unwrap();
    assert_eq!(again.encode(&EncodeOptions::like(&btf)).unwrap(), bytes);
    let mut fresh = Builder::new();
    for ty in btf.types() {
        fresh.copy_type(&ty).unwrap();
    }
    assert_eq!(fresh.encode(&opts).unwrap(), bytes);
    // A remapping copy cannot know which words are ids.
    let err = Copier::new(&btf)
        .copy(&mut Builder::new(), odd)
        .unwrap_err();
    assert_eq!(
        err,
        WriteError::CannotCopy {
            id: odd,
            kind: Kind::new(20)
        }
    );
}

// ---------------------------------------------------------------------------
// Real kernels.

/// Parse → copy every type (into a builder with the source's strings) →
/// encode must give the input back, in the input's order; and the opposite
/// order must round-trip to the same bytes.
fn assert_round_trip(bytes: &[u8], base: Option<&Btf<'_>>, what: &str) -> Vec<u8> {
    let src = match base {
        Some(base) => Btf::parse_split(bytes, base),
        None => Btf::parse(bytes),
    }
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    let opts = EncodeOptions::like(&src);
    let mut b = Builder::with_strings_of(&src);
    for t in src.types() {
        b.copy_type(&t).unwrap_or_else(|e| panic!("{what}: {e}"));
    }
    let out = b.encode(&opts).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out == bytes, "{what}: copy differs from the input");
    b.encode(&EncodeOptions::new(other(src.endian())))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn assert_swapped_round_trip(swapped: &[u8], original: &[u8], base: Option<&Btf<'_>>, what: &str) {
    let src = match base {
        Some(base) => Btf::parse_split(swapped, base),
        None => Btf::parse(swapped),
    }
    .unwrap_or_else(|e| panic!("{what} swapped: {e}"));
    let b = Builder::from_btf(&src).unwrap_or_else(|e| panic!("{what}: {e}"));
    let back = b
        .encode(&EncodeOptions::new(other(src.endian())))
        .unwrap_or_else(|e| panic!("{what} swapped: {e}"));
    assert!(
        back == original,
        "{what}: other order does not come back identical"
    );
}

fn vmlinux_round_trip(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let t0 = Instant::now();
    let swapped = assert_round_trip(&bytes, None, &path.display().to_string());
    let t1 = t0.elapsed();
    // The encoder's other order is what a byte swap of the input gives.
    assert!(
        swapped == common::swap_blob(&bytes),
        "big-endian encoding differs from a swap"
    );
    assert_swapped_round_trip(&swapped, &bytes, None, &path.display().to_string());
    eprintln!(
        "{}: copy + check + encode {t1:?}, total {:?}",
        path.display(),
        t0.elapsed()
    );
}

#[test]
fn running_vmlinux_round_trips_exactly() {
    let path = Path::new("/sys/kernel/btf/vmlinux");
    if !common::require(path.exists(), "/sys/kernel/btf/vmlinux") {
        return;
    }
    vmlinux_round_trip(path);
}

#[test]
fn corpus_vmlinux_round_trips_exactly() {
    let Some(dir) = common::corpus() else { return };
    vmlinux_round_trip(&dir.join("vmlinux.btf"));
}

#[test]
fn every_corpus_module_round_trips_exactly_on_vmlinux() {
    let Some(dir) = common::corpus() else { return };
    let t0 = Instant::now();
    let base_bytes = std::fs::read(dir.join("vmlinux.btf")).unwrap();
    let base = Btf::parse(&base_bytes).unwrap();
    let base_swapped_bytes = common::swap_blob(&base_bytes);
    let base_swapped = Btf::parse(&base_swapped_bytes).unwrap();
    let mut paths: Vec<_> = std::fs::read_dir(dir.join("modules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "btf"))
        .collect();
    paths.sort();
    let mut types = 0u64;
    for path in &paths {
        let what = path.file_stem().unwrap().to_string_lossy();
        let bytes = std::fs::read(path).unwrap();
        let swapped = assert_round_trip(&bytes, Some(&base), &what);
        assert!(
            swapped == common::swap_blob(&bytes),
            "{what}: other order differs from a swap"
        );
        assert_swapped_round_trip(&swapped, &bytes, Some(&base_swapped), &what);
        types += u64::from(Btf::parse_split(&bytes, &base).unwrap().type_count());
    }
    assert!(paths.len() > 1000, "only {} modules", paths.len());
    eprintln!(
        "{} modules, {types} types, both orders, in {:?}",
        paths.len(),
        t0.elapsed()
    );
}

#[test]
fn task_struct_and_everything_it_reaches_make_a_valid_blob() {
    let path = Path::new("/sys/kernel/btf/vmlinux");
    let dir = common::corpus_dir().join("vmlinux.btf");
    let path = if path.exists() { path } else { dir.as_path() };
    if !common::require(path.exists(), "a vmlinux BTF") {
        return;
    }
    let bytes = std::fs::read(path).unwrap();
    let mut vmlinux = Btf::parse(&bytes).unwrap();
    vmlinux.index_names();
    let task = vmlinux
        .find_by_name_kind("task_struct", Kind::STRUCT)
        .unwrap();
    let t0 = Instant::now();
    let mut b = Builder::new();
    let mut copier = Copier::new(&vmlinux);
    let id = copier.copy(&mut b, task.id()).unwrap();
    let out = b.encode(&EncodeOptions::default()).unwrap();
    eprintln!(
        "task_struct: {} types, {} bytes, in {:?}",
        b.type_count(),
        out.len(),
        t0.elapsed()
    );
    let small = Btf::parse(&out).unwrap();
    assert!(small.type_count() < vmlinux.type_count());
    assert_eq!(
        small.size_of(id).unwrap(),
        vmlinux.size_of(task.id()).unwrap()
    );
    assert_eq!(
        small.align_of(id).unwrap(),
        vmlinux.align_of(task.id()).unwrap()
    );
    let names = |btf: &Btf<'_>, id| -> Vec<String> {
        btf.type_by_id(id)
            .unwrap()
            .members()
            .unwrap()
            .map(|m| format!("{}@{}", m.name().unwrap(), m.bit_offset()))
            .collect()
    };
    assert_eq!(names(&small, id), names(&vmlinux, task.id()));
    // Every copied type describes the same as its source, up to ids.
    let mut seen = 0;
    for src_id in vmlinux.type_ids() {
        if let Some(new) = copier.get(src_id) {
            let a = vmlinux.type_by_id(src_id).unwrap();
            let c = small.type_by_id(new).unwrap();
            assert_eq!(
                (a.kind(), a.name_bytes(), a.vlen()),
                (c.kind(), c.name_bytes(), c.vlen())
            );
            assert_eq!(vmlinux.size_of(src_id).ok(), small.size_of(new).ok());
            seen += 1;
        }
    }
    assert_eq!(seen, small.type_count());
}

#[test]
fn copy_check_and_encode_all_of_vmlinux_with_timings() {
    let path = Path::new("/sys/kernel/btf/vmlinux");
    if !common::require(path.exists(), "/sys/kernel/btf/vmlinux") {
        return;
    }
    let bytes = std::fs::read(path).unwrap();
    let src = Btf::parse(&bytes).unwrap();
    let mut best = [std::time::Duration::MAX; 4];
    for _ in 0..3 {
        let t = Instant::now();
        let b = Builder::from_btf(&src).unwrap();
        let t_from = t.elapsed();
        let t = Instant::now();
        let mut c = Builder::with_strings_of(&src);
        for ty in src.types() {
            c.copy_type(&ty).unwrap();
        }
        let t_copy = t.elapsed();
        let t = Instant::now();
        b.check(&EncodeOptions::default()).unwrap();
        let t_check = t.elapsed();
        let t = Instant::now();
        let out = c.encode_unchecked(&EncodeOptions::like(&src)).unwrap();
        let t_encode = t.elapsed();
        assert_eq!(out.len(), bytes.len());
        for (slot, t) in best.iter_mut().zip([t_from, t_copy, t_check, t_encode]) {
            *slot = (*slot).min(t);
        }
        // A deep copy of everything, with new ids.
        let t = Instant::now();
        let mut d = Builder::new();
        let mut copier = Copier::new(&src);
        for id in src.type_ids() {
            copier.copy(&mut d, id).unwrap();
        }
        eprintln!("deep copy of every type: {:?}", t.elapsed());
        assert_eq!(d.type_count(), src.type_count() as usize);
    }
    eprintln!(
        "{} types: from_btf {:?}, copy_type each {:?}, checks {:?}, encode {:?}",
        src.type_count(),
        best[0],
        best[1],
        best[2],
        best[3]
    );
}
