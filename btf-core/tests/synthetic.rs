//! Hand-made blobs for the corners real data does not reach: every kind in
//! both byte orders and both header sizes, unknown kinds, split on split,
//! and malformed input.

mod common;

use btf_core::testing::RawBlob;
use btf_core::{
    Btf, BtfIndex, Endian, EnumValue, Error, Kind, Linkage, MAX_SPLIT_DEPTH, Section, StrOffset,
    TypeId, TypeKind,
};

const ORDERS: [Endian; 2] = [Endian::Little, Endian::Big];

/// One of every kind, ids 1..=19 in kind order.
fn all_kinds(endian: Endian, layout: bool) -> Vec<u8> {
    let mut b = RawBlob::new(endian);
    let s = |b: &mut RawBlob, x: &str| b.str(x);
    let int = s(&mut b, "int");
    let (st, a, bb) = (s(&mut b, "s"), s(&mut b, "a"), s(&mut b, "b"));
    let (un, x) = (s(&mut b, "u"), s(&mut b, "x"));
    let (en, ea, eb) = (s(&mut b, "e"), s(&mut b, "A"), s(&mut b, "B"));
    let fwd = s(&mut b, "f");
    let td = s(&mut b, "t");
    let func = s(&mut b, "fn");
    let var = s(&mut b, "v");
    let sec = s(&mut b, ".data");
    let flt = s(&mut b, "double");
    let tag = s(&mut b, "tag");
    let ttag = s(&mut b, "tt");
    let (e64, big) = (s(&mut b, "e64"), s(&mut b, "BIG"));
    b.ty(int, 1, false, 0, 4).word(0x0100_0020); // [1] int
    b.ty(0, 2, false, 0, 1); // [2] int *
    b.ty(0, 3, false, 0, 0).words(&[1, 1, 4]); // [3] int[4]
    b.ty(st, 4, true, 2, 8).words(&[a, 1, 3 << 24, bb, 1, 32]); // [4] struct s { int a:3; int b; }
    b.ty(un, 5, false, 1, 4).words(&[x, 1, 0]); // [5] union u { int x; }
    b.ty(en, 6, true, 2, 4).words(&[ea, u32::MAX, eb, 2]); // [6] enum e { A = -1, B = 2 }
    b.ty(fwd, 7, true, 0, 0); // [7] union f;
    b.ty(td, 8, false, 0, 4); // [8] typedef struct s t
    b.ty(0, 9, false, 0, 1); // [9] volatile int
    b.ty(0, 10, false, 0, 9); // [10] const volatile int
    b.ty(0, 11, false, 0, 2); // [11] int * restrict
    b.ty(func, 12, false, 1, 13); // [12] global fn
    b.ty(0, 13, false, 2, 1).words(&[a, 1, 0, 0]); // [13] int (int a, ...)
    b.ty(var, 14, false, 0, 1).word(1); // [14] global int v
    b.ty(sec, 15, false, 1, 8).words(&[14, 0, 4]); // [15] .data
    b.ty(flt, 16, false, 0, 8); // [16] double
    b.ty(tag, 17, false, 0, 4).word(1); // [17] tag on s.b
    b.ty(ttag, 18, true, 0, 1); // [18] attribute type tag on int
    b.ty(e64, 19, false, 1, 8).words(&[big, 0, 1]); // [19] enum e64 { BIG = 1 << 32 }
    if layout {
        b.layout(&RawBlob::known_layout());
    }
    b.build()
}

#[test]
fn every_kind_decodes_in_both_orders_and_header_sizes() {
    for endian in ORDERS {
        for layout in [false, true] {
            let blob = all_kinds(endian, layout);
            let btf = Btf::parse(&blob).unwrap();
            assert_eq!(btf.endian(), endian);
            assert_eq!(btf.header().hdr_len, if layout { 32 } else { 24 });
            assert_eq!(btf.type_count(), 19);
            for (i, t) in btf.types().enumerate() {
                assert_eq!(t.kind(), Kind::new(i as u8 + 1));
            }
            let ty = |id: u32| btf.type_by_id(TypeId::new(id)).unwrap();
            match ty(1).as_kind() {
                TypeKind::Int(i) => {
                    assert_eq!((i.size, i.bits, i.offset), (4, 32, 0));
                    assert!(i.is_signed() && !i.is_char() && !i.is_bool());
                }
                k => panic!("{k:?}"),
            }
            assert!(matches!(ty(2).as_kind(), TypeKind::Ptr(t) if t.get() == 1));
            match ty(3).as_kind() {
                TypeKind::Array(a) => {
                    assert_eq!((a.elem.get(), a.index.get(), a.nelems), (1, 1, 4))
                }
                k => panic!("{k:?}"),
            }
            let TypeKind::Struct(s) = ty(4).as_kind() else {
                panic!()
            };
            assert!(s.has_bitfields());
            let m: Vec<_> = s
                .members()
                .map(|m| {
                    (
                        m.name().unwrap(),
                        m.ty().get(),
                        m.bit_offset(),
                        m.bitfield_size(),
                    )
                })
                .collect();
            assert_eq!(m, [("a", 1, 0, 3), ("b", 1, 32, 0)]);
            assert_eq!(s.members().len(), 2);
            assert_eq!(s.members().raw().len(), 2);
            let TypeKind::Union(u) = ty(5).as_kind() else {
                panic!()
            };
            assert_eq!(u.members().next().unwrap().name().unwrap(), "x");
            let TypeKind::Enum(e) = ty(6).as_kind() else {
                panic!()
            };
            assert!(e.is_signed());
            let v: Vec<_> = e.values().map(|v| (v.name().unwrap(), v.value())).collect();
            assert_eq!(
                v,
                [("A", EnumValue::Signed(-1)), ("B", EnumValue::Signed(2))]
            );
            assert!(matches!(ty(7).as_kind(), TypeKind::Fwd(f) if f.is_union));
            assert!(matches!(ty(8).as_kind(), TypeKind::Typedef(t) if t.get() == 4));
            assert!(matches!(ty(9).as_kind(), TypeKind::Volatile(t) if t.get() == 1));
            assert!(matches!(ty(10).as_kind(), TypeKind::Const(t) if t.get() == 9));
            assert!(matches!(ty(11).as_kind(), TypeKind::Restrict(t) if t.get() == 2));
            match ty(12).as_kind() {
                TypeKind::Func(f) => {
                    assert_eq!((f.proto.get(), f.linkage), (13, Linkage::GLOBAL));
                    assert_eq!(f.linkage.to_string(), "global");
                }
                k => panic!("{k:?}"),
            }
            let TypeKind::FuncProto(p) = ty(13).as_kind() else {
                panic!()
            };
            assert_eq!(p.return_type().get(), 1);
            assert!(p.is_variadic());
            assert_eq!(p.params().next().unwrap().name().unwrap(), "a");
            match ty(14).as_kind() {
                TypeKind::Var(v) => assert_eq!((v.ty.get(), v.linkage), (1, Linkage::GLOBAL)),
                k => panic!("{k:?}"),
            }
            let TypeKind::Datasec(d) = ty(15).as_kind() else {
                panic!()
            };
            let e = d.entries().next().unwrap();
            assert_eq!(
                (e.ty().get(), e.offset(), e.size(), d.size()),
                (14, 0, 4, 8)
            );
            assert!(matches!(ty(16).as_kind(), TypeKind::Float(8)));
            match ty(17).as_kind() {
                TypeKind::DeclTag(t) => {
                    assert_eq!((t.ty.get(), t.component_idx, t.attr), (4, 1, false))
                }
                k => panic!("{k:?}"),
            }
            assert!(matches!(ty(18).as_kind(), TypeKind::TypeTag(t) if t.attr && t.ty.get() == 1));
            let TypeKind::Enum64(e) = ty(19).as_kind() else {
                panic!()
            };
            let v = e.values().next().unwrap();
            assert_eq!(
                (v.name().unwrap(), v.value()),
                ("BIG", EnumValue::Unsigned(1 << 32))
            );
            assert!(!e.is_signed());

            // Resolution.
            assert_eq!(btf.size_of(TypeId::new(3)).unwrap(), 16);
            assert_eq!(btf.size_of(TypeId::new(8)).unwrap(), 8);
            assert_eq!(btf.size_of(TypeId::new(10)).unwrap(), 4);
            assert_eq!(btf.size_of(TypeId::new(14)).unwrap(), 4);
            assert_eq!(btf.size_of(TypeId::new(2)).unwrap(), 8);
            assert_eq!(btf.align_of(TypeId::new(4)).unwrap(), 4);
            assert_eq!(
                btf.size_of(TypeId::new(7)),
                Err(Error::NoSize {
                    id: TypeId::new(7),
                    kind: Kind::FWD
                })
            );
            assert_eq!(
                btf.skip_mods_and_typedefs(TypeId::new(10))
                    .unwrap()
                    .id()
                    .get(),
                1
            );
            assert_eq!(
                btf.skip_mods_and_typedefs(TypeId::new(8))
                    .unwrap()
                    .id()
                    .get(),
                4
            );
            assert_eq!(btf.skip_mods(TypeId::new(8)).unwrap().id().get(), 8);
            // Lookups by name.
            assert_eq!(btf.find_by_name("t").unwrap().id().get(), 8);
            assert_eq!(
                btf.find_by_name_kind("v", Kind::VAR).unwrap().id().get(),
                14
            );
            assert!(btf.find_by_name_kind("v", Kind::FUNC).is_none());
            assert_eq!(btf.find_by_name("void").unwrap().id(), TypeId::VOID);
            common::exercise(&btf);
        }
    }
}

#[test]
fn the_other_byte_order_reads_the_same() {
    for layout in [false, true] {
        let le = all_kinds(Endian::Little, layout);
        let be = all_kinds(Endian::Big, layout);
        assert_eq!(common::swap_blob(&le), be);
        let (a, b) = (Btf::parse(&le).unwrap(), Btf::parse(&be).unwrap());
        for id in a.type_ids() {
            assert_eq!(common::describe(&a, id), common::describe(&b, id));
        }
    }
}

#[test]
fn unknown_kinds_are_sized_by_a_layout_section() {
    for endian in ORDERS {
        let mut b = RawBlob::new(endian);
        let n = b.str("novel");
        b.ty(n, 1, false, 0, 4).word(32); // [1] int-ish
        // [2] kind 25 with 8 bytes of info and 2 elements of 4 bytes.
        b.ty(n, 25, true, 2, 7).words(&[0xaaaa, 0xbbbb, 1, 2]);
        b.ty(0, 2, false, 0, 2); // [3] pointer to it: the walk stayed in step
        let mut layout = RawBlob::known_layout();
        layout.resize(26, (0, 0));
        layout[25] = (8, 4);
        b.layout(&layout);
        let blob = b.build();
        let btf = Btf::parse(&blob).unwrap();
        assert_eq!(btf.type_count(), 3);
        let t = btf.type_by_id(TypeId::new(2)).unwrap();
        assert_eq!(t.kind(), Kind::new(25));
        assert_eq!(t.kind().to_string(), "UNKNOWN(25)");
        let TypeKind::Unknown(u) = t.as_kind() else {
            panic!()
        };
        assert_eq!(u.info_data().len(), 8);
        assert_eq!(u.elem_data().len(), 8);
        assert_eq!(btf.type_by_id(TypeId::new(3)).unwrap().kind(), Kind::PTR);
        assert!(matches!(
            btf.size_of(TypeId::new(2)),
            Err(Error::NoSize { .. })
        ));

        // A split without a layout section of its own uses its base's.
        let mut s = RawBlob::split(endian, btf.strings().len() as u32);
        s.ty(0, 25, false, 1, 0).words(&[1, 2, 3]);
        s.ty(0, 2, false, 0, 4);
        let split = s.build();
        let m = Btf::parse_split(&split, &btf).unwrap();
        assert_eq!(m.type_count(), 2);
        assert_eq!(m.type_by_id(TypeId::new(5)).unwrap().kind(), Kind::PTR);

        // Without any layout section the same record is a clear error.
        let mut b = RawBlob::new(endian);
        b.ty(0, 1, false, 0, 4).word(32);
        b.ty(0, 25, false, 0, 0);
        let blob = b.build();
        assert_eq!(
            Btf::parse(&blob).unwrap_err(),
            Error::UnknownKind {
                id: TypeId::new(2),
                offset: 24 + 16,
                kind: Kind::new(25)
            }
        );
    }
}

#[test]
fn a_layout_that_contradicts_a_known_kind_is_refused() {
    let mut b = RawBlob::new(Endian::Little);
    b.ty(0, 1, false, 0, 4).word(32);
    let mut layout = RawBlob::known_layout();
    layout[4] = (0, 16); // STRUCT members are 12 bytes, not 16
    b.layout(&layout);
    let blob = b.build();
    assert_eq!(
        Btf::parse(&blob).unwrap_err(),
        Error::LayoutMismatch {
            kind: Kind::STRUCT,
            offset: 32 + 16 + 16
        }
    );
}

#[test]
fn vlen_uses_24_bits() {
    let mut b = RawBlob::new(Endian::Little);
    let int = b.str("int");
    let big = b.str("big");
    b.ty(int, 1, false, 0, 4).word(32);
    let n = 0x1_0001u32;
    b.ty(big, 4, false, n, 4 * n);
    for i in 0..n {
        b.words(&[0, 1, i * 32]);
    }
    b.ty(0, 2, false, 0, 2);
    let blob = b.build();
    let btf = Btf::parse(&blob).unwrap();
    assert_eq!(btf.type_count(), 3);
    let s = btf.type_by_id(TypeId::new(2)).unwrap();
    assert_eq!(s.vlen(), n);
    assert_eq!(s.members().unwrap().len(), n as usize);
    assert_eq!(
        s.members().unwrap().last().unwrap().bit_offset(),
        (n - 1) * 32
    );
}

/// vmlinux-like base, a module on it, and a module on the module.
fn split_chain(endian: Endian) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let base = btf_core::testing::tiny_blob_in(endian);
    let base_strs = Btf::parse(&base).unwrap().strings().len() as u32;
    let mut m = RawBlob::split(endian, base_strs);
    let (mod_s, field) = (m.str("mod_state"), m.str("pt"));
    // [6] struct mod_state { point_t pt; } using base ids and a base string
    m.ty(mod_s, 4, false, 1, 8).words(&[field, 3, 0]);
    m.ty(0, 2, false, 0, 6); // [7] struct mod_state *
    let module = m.build();
    let mod_strs = base_strs
        + Btf::parse_split(&module, &Btf::parse(&base).unwrap())
            .unwrap()
            .strings()
            .len() as u32;
    let mut mm = RawBlob::split(endian, mod_strs);
    let n = mm.str("mod2");
    mm.ty(n, 8, false, 0, 7); // [8] typedef struct mod_state *mod2
    mm.ty(field, 8, false, 0, 1); // [9] typedef int pt (a string of the middle blob)
    (base, module, mm.build())
}

#[test]
fn split_on_split_continues_ids_and_strings() {
    for endian in ORDERS {
        let (base, module, module2) = split_chain(endian);
        let base = Btf::parse(&base).unwrap();
        let m = Btf::parse_split(&module, &base).unwrap();
        let m2 = Btf::parse_split(&module2, &m).unwrap();
        assert_eq!((m.first_id().get(), m.last_id().get()), (6, 7));
        assert_eq!((m2.first_id().get(), m2.last_id().get()), (8, 9));
        assert_eq!(m2.split_depth(), 2);
        assert_eq!(m2.type_ids().map(TypeId::get).collect::<Vec<_>>(), [8, 9]);
        // Ids fall through to the right level.
        assert_eq!(
            m2.type_by_id(TypeId::new(1)).unwrap().name().unwrap(),
            "int"
        );
        assert_eq!(
            m2.type_by_id(TypeId::new(6)).unwrap().name().unwrap(),
            "mod_state"
        );
        assert_eq!(m2.type_by_id(TypeId::new(9)).unwrap().name().unwrap(), "pt");
        assert_eq!(
            m2.type_by_id(TypeId::new(10)).unwrap_err(),
            Error::NoSuchType {
                id: TypeId::new(10)
            }
        );
        assert_eq!(
            base.type_by_id(TypeId::new(6)).unwrap_err(),
            Error::NoSuchType { id: TypeId::new(6) }
        );
        // Names across the chain, lowest id first.
        assert_eq!(m2.find_by_name("point").unwrap().id().get(), 2);
        assert_eq!(m2.find_by_name("mod2").unwrap().id().get(), 8);
        assert_eq!(m2.find_by_name("pt").unwrap().id().get(), 9);
        assert!(base.find_by_name("mod_state").is_none());
        // Resolution across levels.
        assert_eq!(m2.size_of(TypeId::new(6)).unwrap(), 8);
        assert_eq!(
            m2.skip_mods_and_typedefs(TypeId::new(8)).unwrap().kind(),
            Kind::PTR
        );
        let members: Vec<_> = m2
            .type_by_id(TypeId::new(6))
            .unwrap()
            .members()
            .unwrap()
            .map(|x| x.name().unwrap())
            .collect();
        assert_eq!(members, ["pt"]);
        common::exercise(&m2);
        // Many modules share one base by reference.
        let again = Btf::parse_split(&module, &base).unwrap();
        assert!(std::ptr::eq(again.base().unwrap(), m.base().unwrap()));
    }
}

/// A split with no strings of its own: one pointer to type 1, which any
/// level of a chain on `tiny_blob_in(endian)` can hold.
fn pointer_split(endian: Endian) -> Vec<u8> {
    let mut m = RawBlob::split(endian, 0);
    m.ty(0, 2, false, 0, 1);
    m.build()
}

/// Parses `blob` as a split on `base`, then on that split, `levels` times,
/// and hands the last level to `check`.
fn layered(base: &Btf<'_>, blob: &[u8], levels: usize, check: &mut dyn FnMut(&Btf<'_>)) {
    if levels == 0 {
        return check(base);
    }
    let split = Btf::parse_split(blob, base)
        .unwrap_or_else(|e| panic!("level {}: {e}", base.split_depth() + 1));
    layered(&split, blob, levels - 1, check);
}

#[test]
fn splits_nest_up_to_max_split_depth_and_no_further() {
    assert_eq!(MAX_SPLIT_DEPTH, 32);
    let base_blob = btf_core::testing::tiny_blob();
    let base = Btf::parse(&base_blob).unwrap();
    let blob = pointer_split(Endian::Little);
    let mut checked = false;
    layered(&base, &blob, MAX_SPLIT_DEPTH, &mut |deepest| {
        assert_eq!(deepest.split_depth(), MAX_SPLIT_DEPTH);
        let too_deep = Error::SplitTooDeep {
            depth: MAX_SPLIT_DEPTH + 1,
            limit: MAX_SPLIT_DEPTH,
        };
        // Every constructor that takes a base refuses level 33 alike.
        assert_eq!(Btf::parse_split(&blob, deepest).unwrap_err(), too_deep);
        assert_eq!(
            Btf::parse_unindexed(&blob, Some(deepest)).unwrap_err(),
            too_deep
        );
        let mut storage = [0u32; 4];
        assert_eq!(
            Btf::parse_with_storage(&blob, Some(deepest), &mut storage).unwrap_err(),
            too_deep
        );
        let index = BtfIndex::build(&blob, Some(&base)).unwrap();
        assert_eq!(
            Btf::with_index(&blob, Some(deepest), &index).unwrap_err(),
            too_deep
        );
        let batch = Btf::parse_splits([&blob[..], &blob[..]], deepest);
        assert_eq!(batch.len(), 2);
        for result in &batch {
            assert_eq!(result.as_ref().unwrap_err(), &too_deep);
        }
        // A blob that fails on its own header still says so first.
        assert_eq!(
            Btf::parse_split(&blob[..2], deepest).unwrap_err(),
            Error::HeaderTruncated { len: 2 }
        );
        assert_eq!(
            too_deep.to_string(),
            "split btf would be 33 levels deep, past the limit of 32 splits on splits"
        );
        checked = true;
    });
    assert!(checked);
}

#[test]
fn a_split_in_the_other_byte_order_than_its_base_is_refused() {
    for (split_order, base_order) in [(Endian::Little, Endian::Big), (Endian::Big, Endian::Little)]
    {
        let base_blob = btf_core::testing::tiny_blob_in(base_order);
        let base = Btf::parse(&base_blob).unwrap();
        let same = pointer_split(base_order);
        let other = pointer_split(split_order);
        let want = Error::SplitEndianMismatch {
            split: split_order,
            base: base_order,
        };
        assert!(Btf::parse_split(&same, &base).is_ok());
        assert_eq!(Btf::parse_split(&other, &base).unwrap_err(), want);
        assert_eq!(Btf::parse_unindexed(&other, Some(&base)).unwrap_err(), want);
        let mut storage = [0u32; 4];
        assert_eq!(
            Btf::parse_with_storage(&other, Some(&base), &mut storage).unwrap_err(),
            want
        );
        let index = BtfIndex::build(&same, Some(&base)).unwrap();
        assert_eq!(
            Btf::with_index(&other, Some(&base), &index).unwrap_err(),
            want
        );
        assert_eq!(BtfIndex::build(&other, Some(&base)).unwrap_err(), want);
        // In a batch, the blob in the other order fails alone, as
        // parse_split fails it, whichever lane it would have walked in.
        let blobs = [&same[..], &other[..], &same[..], &other[..]];
        let batch = Btf::parse_splits(blobs, &base);
        assert_eq!(batch.len(), blobs.len());
        for (i, (blob, result)) in blobs.iter().zip(&batch).enumerate() {
            common::same_as_parse_split(result, blob, &base, &format!("blob {i}"));
            assert_eq!(result.is_ok(), i % 2 == 0, "blob {i}");
        }
        // A split on a split: the order is checked at every level.
        let middle = Btf::parse_split(&same, &base).unwrap();
        assert_eq!(Btf::parse_split(&other, &middle).unwrap_err(), want);
        let text = want.to_string();
        let (s, b) = match split_order {
            Endian::Little => ("little-endian", "big-endian"),
            Endian::Big => ("big-endian", "little-endian"),
        };
        assert_eq!(
            text,
            format!("split btf is {s} (magic at offset 0) but its base is {b}")
        );
    }
}

#[test]
fn a_split_may_have_no_strings_of_its_own() {
    let base_blob = btf_core::testing::tiny_blob();
    let base = Btf::parse(&base_blob).unwrap();
    let mut m = RawBlob::split(Endian::Little, base.strings().len() as u32);
    m.ty(0, 2, false, 0, 2);
    let blob = m.build();
    let btf = Btf::parse_split(&blob, &base).unwrap();
    assert_eq!(btf.strings().len(), 0);
    assert_eq!(btf.type_count(), 1);
}

#[test]
fn indexes_agree_and_no_alloc_paths_work() {
    let (base_blob, module_blob, _) = split_chain(Endian::Big);
    let base = Btf::parse(&base_blob).unwrap();
    let unindexed = Btf::parse_unindexed(&module_blob, Some(&base)).unwrap();
    assert!(!unindexed.is_indexed());
    let mut storage = vec![0u32; unindexed.type_count() as usize];
    let stored = Btf::parse_with_storage(&module_blob, Some(&base), &mut storage).unwrap();
    assert!(stored.is_indexed());
    let owned = Btf::parse_split(&module_blob, &base).unwrap();
    let index = BtfIndex::build(&module_blob, Some(&base)).unwrap();
    let attached = Btf::with_index(&module_blob, Some(&base), &index).unwrap();
    for id in owned.type_ids() {
        let want = common::describe(&owned, id);
        assert_eq!(common::describe(&unindexed, id), want);
        assert_eq!(common::describe(&stored, id), want);
        assert_eq!(common::describe(&attached, id), want);
    }
    let mut small = [0u32; 1];
    assert_eq!(
        Btf::parse_with_storage(&module_blob, Some(&base), &mut small).unwrap_err(),
        Error::IndexTooSmall {
            needed: 2,
            provided: 1
        }
    );
    // An index is refused for a blob it was not built for.
    assert_eq!(
        Btf::with_index(&base_blob, None, &index).unwrap_err(),
        Error::IndexMismatch
    );
    assert_eq!(unindexed.into_index(), index);
}

#[test]
fn sorted_blobs_are_detected_and_binary_searched() {
    let mut b = RawBlob::new(Endian::Little);
    b.ty(0, 2, false, 0, 0); // anonymous first
    let names = ["alpha", "beta", "beta", "delta", "gamma"];
    let offs: Vec<u32> = names.iter().map(|n| b.str(n)).collect();
    b.ty(offs[0], 1, false, 0, 4).word(32);
    b.ty(offs[1], 8, false, 0, 2); // typedef beta
    b.ty(offs[2], 4, false, 0, 0); // struct beta
    b.ty(offs[3], 16, false, 0, 8);
    b.ty(offs[4], 7, false, 0, 0);
    let blob = b.build();
    let btf = Btf::parse(&blob).unwrap();
    assert!(btf.is_sorted_by_name());
    assert_eq!(btf.find_by_name("beta").unwrap().id().get(), 3);
    assert_eq!(
        btf.find_by_name_kind("beta", Kind::STRUCT)
            .unwrap()
            .id()
            .get(),
        4
    );
    assert_eq!(btf.find_by_name("gamma").unwrap().id().get(), 6);
    assert!(btf.find_by_name("epsilon").is_none());
    assert!(btf.find_by_name("zeta").is_none());
    let tiny = btf_core::testing::tiny_blob();
    assert!(!Btf::parse(&tiny).unwrap().is_sorted_by_name());
    // The hash index gives the same answers.
    let mut indexed = Btf::parse(&blob).unwrap();
    indexed.index_names();
    assert!(indexed.has_name_index());
    assert_eq!(indexed.find_by_name("beta").unwrap().id().get(), 3);
    assert_eq!(
        indexed
            .find_by_name_kind("beta", Kind::STRUCT)
            .unwrap()
            .id()
            .get(),
        4
    );
    assert!(indexed.find_by_name("epsilon").is_none());
}

#[test]
fn loops_in_the_graph_are_errors_not_hangs() {
    let mut b = RawBlob::new(Endian::Little);
    let (a, s, m) = (b.str("a"), b.str("s"), b.str("m"));
    b.ty(a, 8, false, 0, 2); // [1] typedef a -> [2]
    b.ty(0, 10, false, 0, 1); // [2] const -> [1]
    b.ty(s, 4, false, 1, 4).words(&[m, 3, 0]); // [3] struct s { struct s m; }
    b.ty(0, 3, false, 0, 0).words(&[4, 4, 2]); // [4] array of itself
    let blob = b.build();
    let btf = Btf::parse(&blob).unwrap();
    let one = TypeId::new(1);
    assert_eq!(btf.size_of(one), Err(Error::ResolveDepth { id: one }));
    assert_eq!(
        btf.skip_mods_and_typedefs(one).unwrap_err(),
        Error::ResolveDepth { id: one }
    );
    assert_eq!(
        btf.align_of(TypeId::new(3)),
        Err(Error::ResolveDepth { id: TypeId::new(3) })
    );
    assert!(btf.size_of(TypeId::new(4)).is_err());
}

#[test]
fn packed_structs_align_to_one() {
    let mut b = RawBlob::new(Endian::Little);
    let (int, s, x, y) = (b.str("int"), b.str("p"), b.str("x"), b.str("y"));
    b.ty(int, 1, false, 0, 4).word(32);
    b.ty(s, 4, false, 2, 5).words(&[x, 1, 0, y, 1, 8]); // y at byte 1
    let blob = b.build();
    let btf = Btf::parse(&blob).unwrap();
    assert_eq!(btf.align_of(TypeId::new(2)).unwrap(), 1);
    assert_eq!(btf.align_of(TypeId::new(1)).unwrap(), 4);
}

/// Unions of three copies of the previous union, 32 deep: valid BTF (the
/// kernel accepts it) on which a plain recursive walk takes 3^32 steps.
/// `align_of` stops at its visit limit; the C dump, which asks for
/// alignments all the time, still ends.
#[test]
fn aggregates_embedded_many_times_over_hit_the_visit_limit() {
    use btf_core::write::{Builder, EncodeOptions};
    let mut b = Builder::new();
    common::unions_three_times_over(&mut b);
    let blob = b.encode(&EncodeOptions::default()).unwrap();
    let btf = Btf::parse(&blob).unwrap();
    // Ten levels: 3^10 visits, within the limit.
    assert_eq!(btf.align_of(TypeId::new(11)), Ok(4));
    let top = btf.last_id();
    assert_eq!(
        btf.align_of(top),
        Err(Error::ResolveLimit {
            id: top,
            visits: btf_core::MAX_ALIGN_VISITS
        })
    );
    assert!(
        btf.align_of(top)
            .unwrap_err()
            .to_string()
            .contains("visited more than 262144")
    );
    let mut c = Vec::new();
    btf_core::dump::write_c(&btf, &mut c).unwrap();
    assert!(
        String::from_utf8(c)
            .unwrap()
            .contains("union u30 {\n\tunion u29 a;")
    );
}

/// Many types of one name: the name index holds the name once, finds the
/// lowest id, and the lowest of each kind among the repeats.
#[test]
fn thousands_of_types_sharing_a_name_index_linearly() {
    use btf_core::write::{Builder, EncodeOptions};
    let mut b = Builder::new();
    let int = b.add_int("int", 4, btf_core::wire::INT_SIGNED);
    let mut fwds = Vec::new();
    for _ in 0..60_000 {
        fwds.push(b.add_fwd_struct("x"));
    }
    let typedef = b.add_typedef("x", int);
    let union_fwd = b.add_fwd_union("x");
    let other = b.add_typedef("y", int);
    let blob = b.encode(&EncodeOptions::default()).unwrap();
    let mut btf = Btf::parse(&blob).unwrap();
    btf.index_names();
    assert!(btf.has_name_index());
    let id = |t: Option<btf_core::Type<'_>>| t.map(|t| t.id());
    assert_eq!(id(btf.find_by_name("x")), Some(fwds[0]));
    assert_eq!(id(btf.find_by_name_kind("x", Kind::FWD)), Some(fwds[0]));
    assert_eq!(id(btf.find_by_name_kind("x", Kind::TYPEDEF)), Some(typedef));
    assert_eq!(id(btf.find_by_name_kind("x", Kind::STRUCT)), None);
    assert_eq!(id(btf.find_by_name_kind("y", Kind::TYPEDEF)), Some(other));
    assert_eq!(id(btf.find_by_name("int")), Some(int));
    assert!(btf.find_by_name("z").is_none());
    let _ = union_fwd;
}

/// Corrupts a copy of `blob` with `f` and returns the parse error.
fn broken(blob: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Error {
    let mut b = blob.to_vec();
    f(&mut b);
    Btf::parse(&b).expect_err("corrupt blob parsed")
}

/// Corrupts an element of a copy of `blob` with `f`: parsing, which does
/// not check elements, must succeed; returns the error of `validate`.
fn invalid(blob: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Error {
    let mut b = blob.to_vec();
    f(&mut b);
    let btf = Btf::parse(&b).expect("a bad element is left to validate");
    common::exercise(&btf);
    btf.validate().expect_err("corrupt element validated")
}

fn put(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn malformed_inputs_name_what_and_where() {
    let good = btf_core::testing::tiny_blob();
    // Layout of tiny_blob: header 24, types at 24, strings after.
    let btf = Btf::parse(&good).unwrap();
    let type_len = btf.header().type_len;
    let str_len = btf.header().str_len;
    let table: Vec<(&str, Error)> = vec![
        ("truncated header", broken(&good, |b| b.truncate(20))),
        ("bad magic", broken(&good, |b| b[0] = 0x12)),
        ("version", broken(&good, |b| b[2] = 2)),
        ("flags", broken(&good, |b| b[3] = 1)),
        ("hdr_len below 24", broken(&good, |b| put(b, 4, 16))),
        (
            "hdr_len past the end",
            broken(&good, |b| put(b, 4, 1 << 20)),
        ),
        (
            "unknown header bytes",
            broken(&good, |b| {
                put(b, 4, 28);
                b.splice(24..24, [0, 0, 7, 0]);
            }),
        ),
        (
            "types out of bounds",
            broken(&good, |b| put(b, 12, type_len + 1000)),
        ),
        (
            "strings out of bounds",
            broken(&good, |b| put(b, 20, str_len + 1)),
        ),
        ("misaligned types", broken(&good, |b| put(b, 8, 2))),
        ("overlap", broken(&good, |b| put(b, 16, type_len - 4))),
        (
            "strings without NUL",
            broken(&good, |b| *b.last_mut().unwrap() = b'x'),
        ),
        (
            "strings not starting with NUL",
            broken(&good, |b| {
                let at = 24 + type_len as usize;
                b[at] = b'x';
            }),
        ),
        (
            "record past its section",
            broken(&good, |b| put(b, 12, type_len - 4)),
        ),
        (
            "dangling member type id",
            invalid(&good, |b| put(b, 24 + 16 + 12 + 16, 99)),
        ),
        (
            "name offset out of range",
            broken(&good, |b| put(b, 24, str_len + 5)),
        ),
        (
            "member name offset out of range",
            invalid(&good, |b| put(b, 24 + 16 + 12 + 12, str_len)),
        ),
        (
            "enumerator name offset out of range",
            invalid(&good, |b| put(b, 24 + 16 + 36 + 12 + 12 + 12, str_len + 1)),
        ),
        (
            "dangling pointee",
            broken(&good, |b| put(b, 24 + 16 + 36 + 12 + 8, 6)),
        ),
        (
            "absurd vlen",
            broken(&good, |b| put(b, 24 + 16 + 4, 0x04ff_ffff)),
        ),
        ("kind 0", broken(&good, |b| put(b, 24 + 4, 0))),
    ];
    let t2 = 24 + 16; // byte offset of type [2]
    let expected = [
        Error::HeaderTruncated { len: 20 },
        Error::BadMagic {
            found: [0x12, 0xeb],
        },
        Error::UnsupportedVersion { version: 2 },
        Error::UnsupportedFlags { flags: 1 },
        Error::HeaderLength {
            hdr_len: 16,
            len: good.len(),
        },
        Error::HeaderLength {
            hdr_len: 1 << 20,
            len: good.len(),
        },
        Error::HeaderNotZero { offset: 26 },
        Error::SectionOutOfBounds {
            section: Section::Types,
            offset: 0,
            len: type_len + 1000,
            available: good.len() - 24,
        },
        Error::SectionOutOfBounds {
            section: Section::Strings,
            offset: type_len,
            len: str_len + 1,
            available: good.len() - 24,
        },
        Error::SectionMisaligned {
            section: Section::Types,
            offset: 2,
        },
        Error::SectionsOverlap {
            first: Section::Types,
            second: Section::Strings,
            offset: type_len - 4,
        },
        Error::StringsNotTerminated {
            offset: good.len() - 1,
        },
        Error::StringsStart {
            offset: 24 + type_len as usize,
        },
        Error::RecordTruncated {
            id: TypeId::new(5),
            offset: 24 + type_len as usize - 28,
            needed: 28,
            available: 24,
        },
        Error::DanglingType {
            id: TypeId::new(2),
            offset: t2 + 12 + 16,
            target: TypeId::new(99),
        },
        Error::NameOutOfRange {
            id: TypeId::new(1),
            offset: 24,
            name_off: StrOffset::new(str_len + 5),
        },
        Error::NameOutOfRange {
            id: TypeId::new(2),
            offset: t2 + 12 + 12,
            name_off: StrOffset::new(str_len),
        },
        Error::NameOutOfRange {
            id: TypeId::new(5),
            offset: t2 + 36 + 12 + 12 + 12,
            name_off: StrOffset::new(str_len + 1),
        },
        Error::DanglingType {
            id: TypeId::new(4),
            offset: t2 + 36 + 12 + 8,
            target: TypeId::new(6),
        },
        Error::RecordTruncated {
            id: TypeId::new(2),
            offset: t2,
            needed: 12 + 12 * 0xff_ffff,
            available: type_len as usize - 16,
        },
        Error::InvalidKind {
            id: TypeId::new(1),
            offset: 24,
        },
    ];
    assert_eq!(table.len(), expected.len());
    for ((what, got), want) in table.iter().zip(expected) {
        assert_eq!(*got, want, "{what}: got {got}");
        // Every message names a place.
        let msg = got.to_string();
        assert!(msg.chars().any(|c| c.is_ascii_digit()), "{what}: {msg}");
    }
}

#[test]
fn every_truncation_and_every_byte_flip_is_handled() {
    // No prefix of a valid blob, and no single corrupted byte, may panic;
    // whatever parses must be fully walkable.
    for layout in [false, true] {
        let good = all_kinds(Endian::Big, layout);
        for n in 0..good.len() {
            if let Ok(btf) = Btf::parse(&good[..n]) {
                common::exercise(&btf);
            }
        }
        for i in 0..good.len() {
            for v in [0x00, 0xff, 0x7f, 0x80, 0x13] {
                let mut b = good.clone();
                b[i] = v;
                if let Ok(btf) = Btf::parse(&b) {
                    common::exercise(&btf);
                    for id in btf.type_ids() {
                        let _ = common::describe(&btf, id);
                    }
                }
            }
        }
    }
}

#[test]
fn elements_are_checked_where_used() {
    // tiny_blob: [2] struct point { int x; int y; } at byte 40; its second
    // member's name offset is at byte 64, its type at 68.
    let good = btf_core::testing::tiny_blob();
    let str_len = Btf::parse(&good).unwrap().header().str_len;
    let mut bad = good.clone();
    put(&mut bad, 64, str_len + 3);
    put(&mut bad, 68, 77);
    let btf = Btf::parse(&bad).expect("elements are not checked by parse");
    let point = btf.type_by_id(TypeId::new(2)).unwrap();
    let y = point.members().unwrap().get(1).unwrap();
    let off = StrOffset::new(str_len + 3);
    assert_eq!(y.name_bytes(), Err(Error::StringOutOfRange { offset: off }));
    assert_eq!(y.name(), Err(Error::StringOutOfRange { offset: off }));
    assert_eq!(
        btf.type_by_id(y.ty()).err(),
        Some(Error::NoSuchType {
            id: TypeId::new(77)
        })
    );
    assert!(format!("{y:?}").contains("StringOutOfRange"), "{y:?}");
    // Resolution that follows the member fails with the missing id.
    assert!(btf.align_of(TypeId::new(2)).is_err());
    // validate names the first bad field: the name, before the type.
    assert_eq!(
        btf.validate(),
        Err(Error::NameOutOfRange {
            id: TypeId::new(2),
            offset: 64,
            name_off: off,
        })
    );
    // The raw dump prints what is there, as bpftool would.
    let mut raw = Vec::new();
    btf_core::dump::write_raw(&btf, &mut raw).unwrap_or_else(|e| match e {});
    let raw = String::from_utf8(raw).unwrap();
    assert!(
        raw.contains("\t'(invalid)' type_id=77 bits_offset=32\n"),
        "{raw}"
    );
    // The C dump stops at the member's type, which does not exist.
    let c_error = |btf: &Btf<'_>| match btf_core::dump::write_c(btf, &mut Vec::new()) {
        Err(btf_core::dump::CDumpError::Lookup { id, source }) => (id, source),
        other => panic!("C dump of a bad member: {other:?}"),
    };
    assert_eq!(
        c_error(&btf),
        (
            TypeId::new(77),
            Error::NoSuchType {
                id: TypeId::new(77)
            }
        )
    );
    // With only the name bad, it stops at the type holding the member.
    let mut bad_name = good.clone();
    put(&mut bad_name, 64, str_len + 3);
    let btf = Btf::parse(&bad_name).unwrap();
    assert_eq!(
        c_error(&btf),
        (TypeId::new(2), Error::StringOutOfRange { offset: off })
    );
    common::exercise(&btf);
    // With only the type bad, the name reads and validate names the type.
    let mut bad = good.clone();
    put(&mut bad, 68, 77);
    let btf = Btf::parse(&bad).unwrap();
    assert_eq!(
        btf.validate(),
        Err(Error::DanglingType {
            id: TypeId::new(2),
            offset: 68,
            target: TypeId::new(77),
        })
    );
    common::exercise(&btf);
}

/// Every field that holds a type id or a name offset, in `all_kinds`:
/// (type id, byte offset in the record, is a name, checked by parse).
/// Record fields are checked by `parse`; element fields by `validate`.
const FIELDS: &[(u32, usize, bool, bool)] = &[
    (1, 0, true, true),     // INT name
    (2, 8, false, true),    // PTR target
    (3, 12, false, true),   // ARRAY element type
    (3, 16, false, true),   // ARRAY index type
    (4, 0, true, true),     // STRUCT name
    (4, 12, true, false),   // member a: name
    (4, 16, false, false),  // member a: type
    (4, 28, false, false),  // member b: type
    (5, 16, false, false),  // UNION member type
    (6, 12, true, false),   // ENUM enumerator name
    (6, 20, true, false),   // second enumerator name
    (8, 8, false, true),    // TYPEDEF target
    (9, 8, false, true),    // VOLATILE
    (10, 8, false, true),   // CONST
    (11, 8, false, true),   // RESTRICT
    (12, 8, false, true),   // FUNC prototype
    (13, 8, false, true),   // FUNC_PROTO return type
    (13, 12, true, false),  // parameter name
    (13, 16, false, false), // parameter type
    (14, 8, false, true),   // VAR type
    (15, 12, false, false), // DATASEC entry type
    (17, 8, false, true),   // DECL_TAG target
    (18, 8, false, true),   // TYPE_TAG target
    (19, 12, true, false),  // ENUM64 enumerator name
];

#[test]
fn each_reference_is_checked_by_parse_or_by_validate() {
    for endian in ORDERS {
        for layout in [false, true] {
            let good = all_kinds(endian, layout);
            let btf = Btf::parse(&good).unwrap();
            btf.validate().expect("all_kinds validates");
            let str_len = btf.header().str_len;
            let at_of = |id: u32| {
                let rec = btf.type_by_id(TypeId::new(id)).unwrap().record();
                rec.as_ptr() as usize - good.as_ptr() as usize
            };
            for &(id, field, is_name, by_parse) in FIELDS {
                let offset = at_of(id) + field;
                let bad_value = if is_name { str_len + 7 } else { 20 };
                let mut bad = good.clone();
                let bytes = match endian {
                    Endian::Little => bad_value.to_le_bytes(),
                    Endian::Big => bad_value.to_be_bytes(),
                };
                bad[offset..offset + 4].copy_from_slice(&bytes);
                let want = if is_name {
                    Error::NameOutOfRange {
                        id: TypeId::new(id),
                        offset,
                        name_off: StrOffset::new(bad_value),
                    }
                } else {
                    Error::DanglingType {
                        id: TypeId::new(id),
                        offset,
                        target: TypeId::new(bad_value),
                    }
                };
                let what = format!("{endian:?} layout={layout} [{id}]+{field}");
                match Btf::parse(&bad) {
                    Err(e) => {
                        assert!(by_parse, "{what}: parse refused an element: {e}");
                        assert_eq!(e, want, "{what}");
                        assert_eq!(Btf::parse_unindexed(&bad, None).err(), Some(want));
                    }
                    Ok(parsed) => {
                        assert!(!by_parse, "{what}: parse accepted a bad record field");
                        assert_eq!(parsed.validate(), Err(want), "{what}");
                        common::exercise(&parsed);
                    }
                }
            }
        }
    }
}

#[test]
fn validate_refuses_an_index_of_other_bytes() {
    // Same length, same layering: the index attaches, but it was built
    // for other records. Here [3] ARRAY (24 bytes) becomes two 12-byte
    // PTRs: one record more, so validate's own walk disagrees.
    let blob = all_kinds(Endian::Little, false);
    let index = BtfIndex::build(&blob, None).unwrap();
    let at = {
        let btf = Btf::parse(&blob).unwrap();
        btf.type_by_id(TypeId::new(3)).unwrap().record().as_ptr() as usize - blob.as_ptr() as usize
    };
    let mut other = blob.clone();
    for (i, word) in [0u32, 2 << 24, 1, 0, 2 << 24, 1].iter().enumerate() {
        other[at + 4 * i..at + 4 * i + 4].copy_from_slice(&word.to_le_bytes());
    }
    assert_eq!(Btf::parse(&other).unwrap().type_count(), 20);
    let viewed = Btf::with_index(&other, None, &index).expect("same length and layering");
    assert_eq!(viewed.type_count(), 19);
    assert_eq!(viewed.validate(), Err(Error::IndexMismatch));
}

#[test]
fn a_base_is_validated_on_its_own() {
    // A base member naming id 20, past the base's 19 types: the base
    // parses, and only its own validate says so; through a split that
    // holds id 20, the member resolves there.
    let mut base = all_kinds(Endian::Little, false);
    let at = {
        let btf = Btf::parse(&base).unwrap();
        btf.type_by_id(TypeId::new(5)).unwrap().record().as_ptr() as usize - base.as_ptr() as usize
    };
    base[at + 16..at + 20].copy_from_slice(&20u32.to_le_bytes());
    let base_btf = Btf::parse(&base).expect("elements are left to validate");
    assert_eq!(
        base_btf.validate(),
        Err(Error::DanglingType {
            id: TypeId::new(5),
            offset: at + 16,
            target: TypeId::new(20),
        })
    );
    let mut split = RawBlob::split(Endian::Little, base_btf.header().str_len);
    split.ty(0, 2, false, 0, 1); // [20] int *
    let split = split.build();
    let split_btf = Btf::parse_split(&split, &base_btf).unwrap();
    split_btf
        .validate()
        .expect("the split's own records are fine");
    let member = base_btf
        .type_by_id(TypeId::new(5))
        .unwrap()
        .members()
        .unwrap()
        .next()
        .unwrap();
    assert!(base_btf.type_by_id(member.ty()).is_err());
    assert_eq!(split_btf.type_by_id(member.ty()).unwrap().kind(), Kind::PTR);
}

#[test]
fn parse_splits_returns_what_parse_split_returns_for_each_blob() {
    let (base_le, module_le, _) = split_chain(Endian::Little);
    let (base_be, module_be, _) = split_chain(Endian::Big);
    // On a base of each order, so that both orders' lanes walk good blobs;
    // the module in the other order, and its variants, fail as parse_split
    // fails them.
    for (base_blob, same, other) in [
        (&base_le, &module_le, &module_be),
        (&base_be, &module_be, &module_le),
    ] {
        let base = Btf::parse(base_blob).unwrap();
        assert_eq!(
            Btf::parse_split(other, &base).unwrap_err(),
            Error::SplitEndianMismatch {
                split: other_order(base.endian()),
                base: base.endian(),
            }
        );
        parse_splits_agrees_on(&base, same, other);
    }
}

fn other_order(endian: Endian) -> Endian {
    match endian {
        Endian::Little => Endian::Big,
        Endian::Big => Endian::Little,
    }
}

/// `parse_splits` against `parse_split` on `base`, for `same` (a module in
/// the base's order), `other` (that module in the other order) and faulty
/// variants of both.
fn parse_splits_agrees_on(base: &Btf<'_>, same: &[u8], other: &[u8]) {
    let endian = base.endian();
    // A module of every kind that refers, each to the base's last id.
    let mut refs = RawBlob::split(endian, base.strings().len() as u32);
    let name = refs.str("r");
    let last = base.last_id().get();
    for kind in [2, 8, 9, 10, 11, 12, 14, 17, 18] {
        refs.ty(name, kind, false, 0, last);
        if kind == 14 || kind == 17 {
            refs.word(0);
        }
    }
    refs.ty(name, 3, false, 0, 0).words(&[last, last, 4]);
    refs.ty(name, 13, false, 0, last);
    let refs = refs.build();
    let mut blobs: Vec<Vec<u8>> = vec![same.to_vec(), other.to_vec(), refs.clone()];
    // Every prefix, and every byte of both orders set to a few values:
    // faults of every kind, in lanes beside good blobs.
    blobs.extend((0..same.len()).map(|n| same[..n].to_vec()));
    for module in [same, other, &refs[..]] {
        for i in 0..module.len() {
            for v in [0x00, 0xff, 0x7f, 0x80, 0x13, 0x03] {
                let mut b = module.to_vec();
                b[i] = v;
                blobs.push(b);
            }
        }
    }
    // One with a layout section of its own, parsed outside the lanes.
    let mut with_layout = RawBlob::split(endian, base.strings().len() as u32);
    with_layout.layout(&RawBlob::known_layout());
    with_layout.ty(0, 2, false, 0, 2);
    blobs.insert(5, with_layout.build());
    let parsed = Btf::parse_splits(blobs.iter().map(Vec::as_slice), base);
    assert_eq!(parsed.len(), blobs.len());
    let mut good = 0;
    for (i, (blob, result)) in blobs.iter().zip(&parsed).enumerate() {
        common::same_as_parse_split(result, blob, base, &format!("{endian:?} base: blob {i}"));
        good += usize::from(result.is_ok());
    }
    // Both good and bad blobs were there to compare.
    assert!(
        good > 10 && good < blobs.len() / 2,
        "{endian:?} base: {good} of {}",
        blobs.len()
    );
}

#[test]
fn parse_splits_fills_and_drains_its_lanes_at_any_count() {
    let (base_blob, module, _) = split_chain(Endian::Little);
    let base = Btf::parse(&base_blob).unwrap();
    // Around the lanes' count (8) and the read-ahead window's (32).
    for n in [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65, 100] {
        // Good blobs and, every third, one that is cut short; every fifth
        // is empty.
        let blobs: Vec<&[u8]> = (0..n)
            .map(|i| match (i % 3, i % 5) {
                (_, 4) => &[][..],
                (2, _) => &module[..module.len() - 9],
                _ => &module[..],
            })
            .collect();
        let parsed = Btf::parse_splits(blobs.iter().copied(), &base);
        assert_eq!(parsed.len(), n);
        for (i, (blob, result)) in blobs.iter().zip(&parsed).enumerate() {
            common::same_as_parse_split(result, blob, &base, &format!("{n} blobs: blob {i}"));
        }
    }
}

#[test]
fn parse_splits_on_a_base_with_a_layout_section() {
    // Every blob then walks alone, sizing unknown kinds by the base's
    // layout.
    let base_blob = all_kinds(Endian::Little, true);
    let base = Btf::parse(&base_blob).unwrap();
    let mut m = RawBlob::split(Endian::Little, base.strings().len() as u32);
    let name = m.str("p");
    m.ty(name, 2, false, 0, 1);
    let module = m.build();
    let blobs = [&module[..], &module[..module.len() - 1], &module[..]];
    let parsed = Btf::parse_splits(blobs, &base);
    assert!(parsed[0].is_ok());
    for (blob, result) in blobs.iter().zip(&parsed) {
        common::same_as_parse_split(result, blob, &base, "on a base with layouts");
    }
}
