//! `btf_core::reloc` on hand-made local and target BTF pairs: each
//! relocation kind, bitfields, arrays and flexible arrays, anonymous
//! members, flavours, ENUM64, missing fields (poison), ambiguity, the
//! candidate cache, module search, and instruction patching in both byte
//! orders. The expected values are libbpf's (worked out from
//! `relo_core.c`); `benches/tests/core_reloc.rs` checks real objects
//! against libbpf itself.

use btf_core::ext::{CoreRelo, CoreReloKind};
use btf_core::reloc::{
    Ambiguity, Mismatch, ModuleSearch, POISON_IMM, PatchError, Patched, RelocError, Resolution,
    Session, Targets, essential_name, patch_insn, relo_in_c,
};
use btf_core::write::{Builder, EncodeOptions, EnumeratorDef, MemberDef};
use btf_core::{Btf, Endian, StrOffset, TypeId, wire::INT_SIGNED};

fn encode(b: &Builder<'_>) -> Vec<u8> {
    b.encode(&EncodeOptions::default()).unwrap()
}

/// A relocation record: root `ty`, access string at `access`.
fn relo(ty: TypeId, access: StrOffset, kind: CoreReloKind) -> CoreRelo {
    CoreRelo {
        insn_off: 0,
        type_id: ty,
        access_str_off: access,
        kind,
    }
}

/// The local BTF of the field tests:
///
/// ```c
/// struct s___v2 {                 // [3], 32 bytes
///     int a;                      // 0:1
///     struct {                    // 0:2, anonymous, [4]
///         int b;                  // 0:2:0
///         int arr[4];             // 0:2:1, [5]
///     };
///     unsigned int x:3, y:5;      // 0:3, 0:4
///     signed char z:4;            // 0:5
/// };
/// ```
/// (member 0 is `long pad`.)
struct Local {
    bytes: Vec<u8>,
    root: TypeId,
    strs: std::collections::BTreeMap<&'static str, StrOffset>,
}

fn local() -> Local {
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED); // 1
    let uint = b.add_int("unsigned int", 4, 0); // 2
    let root = b.next_id(); // 3
    let anon = TypeId::new(root.get() + 1); // 4
    let arr = TypeId::new(root.get() + 2); // 5
    let long = TypeId::new(root.get() + 3); // 6
    let schar = TypeId::new(root.get() + 4); // 7
    b.add_struct(
        "s___v2",
        40,
        &[
            MemberDef::new("pad", long, 0),
            MemberDef::new("a", int, 64),
            MemberDef::new("", anon, 96),
            MemberDef::bitfield("x", uint, 256, 3),
            MemberDef::bitfield("y", uint, 259, 5),
            MemberDef::bitfield("z", schar, 264, 4),
        ],
    );
    b.add_struct(
        "",
        20,
        &[MemberDef::new("b", int, 0), MemberDef::new("arr", arr, 32)],
    );
    b.add_array(int, int, 4);
    b.add_int("long", 8, INT_SIGNED);
    b.add_int("signed char", 1, INT_SIGNED);
    let mut strs = std::collections::BTreeMap::new();
    for s in [
        "0", "0:1", "0:2:0", "0:2:1", "0:2:1:2", "0:3", "0:4", "0:5", "1:1", "0:2:1:4",
    ] {
        strs.insert(s, b.add_str(s));
    }
    Local {
        bytes: encode(&b),
        root,
        strs,
    }
}

/// The target: `s` with another layout.
///
/// ```c
/// struct s {                      // 48 bytes
///     long pad;                   // 0
///     union {                     // 8, anonymous
///         int arr[8];             // 8
///         long other;
///     };
///     int b;                      // 40
///     int a;                      // 44
///     unsigned char x:3;          // bit 384 (byte 48)
///     unsigned short y:5;         // bit 390 (crosses byte 48/49)
///     int z:4;                    // bit 395, signed
/// };
/// struct q { int a; };            // an unrelated type
/// ```
fn target() -> Vec<u8> {
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED); // 1
    let long = b.add_int("long", 8, INT_SIGNED); // 2
    let uchar = b.add_int("unsigned char", 1, 0); // 3
    let ushort = b.add_int("unsigned short", 2, 0); // 4
    let root = b.next_id(); // 5
    let anon = TypeId::new(root.get() + 1); // 6
    let arr = TypeId::new(root.get() + 2); // 7
    b.add_struct(
        "s",
        52,
        &[
            MemberDef::new("pad", long, 0),
            MemberDef::new("", anon, 64),
            MemberDef::new("b", int, 320),
            MemberDef::new("a", int, 352),
            MemberDef::bitfield("x", uchar, 384, 3),
            MemberDef::bitfield("y", ushort, 390, 5),
            MemberDef::bitfield("z", int, 395, 4),
        ],
    );
    b.add_union(
        "",
        32,
        &[
            MemberDef::new("arr", arr, 0),
            MemberDef::new("other", long, 0),
        ],
    );
    b.add_array(int, int, 8);
    b.add_struct("q", 4, &[MemberDef::new("a", int, 0)]);
    encode(&b)
}

fn resolve(local: &Btf<'_>, target: &Btf<'_>, r: &CoreRelo) -> Result<Resolution, RelocError> {
    let targets = Targets::new(target);
    let mut session = Session::new(&targets, local, Endian::Little);
    session.resolve(r)
}

fn vals(r: &Resolution) -> (u64, u64, bool) {
    (r.orig_val, r.new_val, r.poison)
}

#[test]
fn field_kinds_through_anonymous_members_and_arrays() {
    let l = local();
    let t = target();
    let (local, target) = (Btf::parse(&l.bytes).unwrap(), Btf::parse(&t).unwrap());
    let r = |s: &str, kind| resolve(&local, &target, &relo(l.root, l.strs[s], kind)).unwrap();
    use CoreReloKind::*;
    // a: 8 -> 44
    assert_eq!(vals(&r("0:1", FieldByteOffset)), (8, 44, false));
    assert_eq!(vals(&r("0:1", FieldByteSize)), (4, 4, false));
    assert_eq!(vals(&r("0:1", FieldSigned)), (1, 1, false));
    assert_eq!(vals(&r("0:1", FieldExists)), (1, 1, false));
    // b: in the local anonymous struct at 12, in the target at 40.
    assert_eq!(vals(&r("0:2:0", FieldByteOffset)), (12, 40, false));
    // arr: local 16, target 8 (inside an anonymous union); its size 16 -> 32.
    assert_eq!(vals(&r("0:2:1", FieldByteOffset)), (16, 8, false));
    assert_eq!(vals(&r("0:2:1", FieldByteSize)), (16, 32, false));
    // arr[2]: an array element; the load size is the element's.
    let e = r("0:2:1:2", FieldByteOffset);
    assert_eq!(vals(&e), (24, 16, false));
    assert_eq!((e.orig_size, e.new_size), (4, 4));
    assert_eq!(vals(&r("0:2:1:2", FieldByteSize)), (4, 4, false));
    // Only byte offset and size apply to an array element.
    assert_eq!(
        resolve(
            &local,
            &target,
            &relo(l.root, l.strs["0:2:1:2"], FieldSigned)
        )
        .unwrap_err(),
        RelocError::ArrayElementKind
    );
    // s[1].a: the first index steps over whole structs (40 local, 52 target).
    assert_eq!(vals(&r("1:1", FieldByteOffset)), (48, 96, false));
    // TYPE kinds on the root.
    assert_eq!(vals(&r("0", TypeSize)), (40, 52, false));
    assert_eq!(vals(&r("0", TypeExists)), (1, 1, false));
    assert_eq!(vals(&r("0", TypeIdLocal)), (3, 3, false));
    let id = r("0", TypeIdTarget);
    assert_eq!(vals(&id), (3, 5, false));
    assert!(!id.validate);
    // TYPE_MATCHES: the local pad/a/anon/x/y/z all have namesakes, but
    // `a` is a member of the anonymous struct only locally: no match.
    let m = r("0", TypeMatches);
    assert_eq!(vals(&m), (1, 0, false));
    assert_eq!(m.tried[0].1, Some(Mismatch::TypesDoNotMatch));
    // An index past the local array is an error, not a poison.
    assert!(matches!(
        resolve(
            &local,
            &target,
            &relo(l.root, l.strs["0:2:1:4"], FieldByteOffset)
        ),
        Err(RelocError::ArrayOutOfRange {
            pos: 3,
            idx: 4,
            nelems: 4,
            ..
        })
    ));
    assert_eq!(
        relo_in_c(&local, &relo(l.root, l.strs["0:2:1:2"], FieldByteOffset)),
        "struct s___v2.arr[2] (0:2:1:2)"
    );
    assert_eq!(
        relo_in_c(&local, &relo(l.root, l.strs["1:1"], FieldByteOffset)),
        "struct s___v2[1].a (1:1)"
    );
}

#[test]
fn bitfields() {
    let l = local();
    let t = target();
    let (local, target) = (Btf::parse(&l.bytes).unwrap(), Btf::parse(&t).unwrap());
    let r = |s: &str, kind| resolve(&local, &target, &relo(l.root, l.strs[s], kind)).unwrap();
    use CoreReloKind::*;
    // x: local bits 256..259 of an unsigned int; target bits 384..387 of
    // an unsigned char.
    assert_eq!(vals(&r("0:3", FieldByteOffset)), (32, 48, false));
    assert_eq!(vals(&r("0:3", FieldByteSize)), (4, 1, false));
    // lshift (little endian) = 64 - (bit_off + bits - byte_off * 8).
    assert_eq!(vals(&r("0:3", FieldLshiftU64)), (61, 61, false));
    assert_eq!(vals(&r("0:3", FieldRshiftU64)), (61, 61, false));
    assert_eq!(vals(&r("0:3", FieldSigned)), (0, 0, false));
    // y: target bits 390..395 in an unsigned short (2 bytes at 48).
    assert_eq!(vals(&r("0:4", FieldByteOffset)), (32, 48, false));
    assert_eq!(vals(&r("0:4", FieldByteSize)), (4, 2, false));
    assert_eq!(vals(&r("0:4", FieldLshiftU64)), (56, 53, false));
    assert_eq!(vals(&r("0:4", FieldRshiftU64)), (59, 59, false));
    // z: local bits 264..268 of a signed char (byte 33); target bits
    // 395..399 of an int (4 bytes at 48).
    assert_eq!(vals(&r("0:5", FieldByteOffset)), (33, 48, false));
    assert_eq!(vals(&r("0:5", FieldByteSize)), (1, 4, false));
    assert_eq!(vals(&r("0:5", FieldSigned)), (1, 1, false));
    assert_eq!(vals(&r("0:5", FieldLshiftU64)), (60, 49, false));
    // Bitfield values are not validated against the instruction, but
    // signedness and the right shift are.
    assert!(!r("0:5", FieldByteOffset).validate);
    assert!(r("0:5", FieldSigned).validate);
    assert!(r("0:5", FieldRshiftU64).validate);
    // Big-endian programs: lshift = (8 - byte_sz) * 8 + (bit_off - byte_off * 8).
    let targets = Targets::new(&target);
    let mut big = Session::new(&targets, &local, Endian::Big);
    let z = big
        .resolve(&relo(l.root, l.strs["0:5"], FieldLshiftU64))
        .unwrap();
    assert_eq!(vals(&z), (56, 43, false));
}

#[test]
fn missing_fields_poison_and_existence_is_zero() {
    // The target's `s` has no `a` and an `arr` of another kind.
    let l = local();
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED);
    let long = b.add_int("long", 8, INT_SIGNED);
    b.add_struct(
        "s___old",
        16,
        &[
            MemberDef::new("pad", long, 0),
            MemberDef::new("arr", int, 64),
        ],
    );
    let t = encode(&b);
    let (local, target) = (Btf::parse(&l.bytes).unwrap(), Btf::parse(&t).unwrap());
    let r = |s: &str, kind| resolve(&local, &target, &relo(l.root, l.strs[s], kind)).unwrap();
    use CoreReloKind::*;
    let a = r("0:1", FieldByteOffset);
    assert_eq!(vals(&a), (8, 0, true));
    assert_eq!(
        a.tried,
        vec![(
            btf_core::reloc::Candidate {
                target: 0,
                id: TypeId::new(3)
            },
            Some(Mismatch::NoMember {
                pos: 1,
                type_id: TypeId::new(3)
            })
        )]
    );
    assert_eq!(vals(&r("0:1", FieldExists)), (1, 0, false));
    // arr is there, but not an anonymous struct's: b is missing.
    assert_eq!(vals(&r("0:2:0", FieldByteOffset)), (12, 0, true));
    // arr[2]: the target's arr is an int, not an array.
    let e = r("0:2:1:2", FieldByteOffset);
    assert!(e.poison);
    assert!(matches!(
        e.tried[0].1,
        Some(Mismatch::MemberIncompatible { .. })
    ));
    // No candidate at all: type kinds give 0, not poison.
    let empty = encode(&Builder::new());
    let none = Btf::parse(&empty).unwrap();
    let r0 = |kind| resolve(&local, &none, &relo(l.root, l.strs["0"], kind)).unwrap();
    assert_eq!(vals(&r0(TypeExists)), (1, 0, false));
    assert_eq!(vals(&r0(TypeSize)), (40, 0, false));
    assert_eq!(vals(&r0(TypeIdTarget)), (3, 0, false));
    assert_eq!(vals(&r0(TypeMatches)), (1, 0, false));
}

#[test]
fn ambiguity_is_an_error_and_agreement_is_not() {
    let l = local();
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED);
    b.add_struct("s", 8, &[MemberDef::new("a", int, 0)]);
    b.add_struct("s___2", 8, &[MemberDef::new("a", int, 32)]);
    b.add_struct("s___3", 8, &[MemberDef::new("a", int, 0)]);
    let t = encode(&b);
    let (local, target) = (Btf::parse(&l.bytes).unwrap(), Btf::parse(&t).unwrap());
    let err = resolve(
        &local,
        &target,
        &relo(l.root, l.strs["0:1"], CoreReloKind::FieldByteOffset),
    )
    .unwrap_err();
    assert_eq!(
        err,
        RelocError::Ambiguous {
            first: btf_core::reloc::Candidate {
                target: 0,
                id: TypeId::new(2)
            },
            second: btf_core::reloc::Candidate {
                target: 0,
                id: TypeId::new(3)
            },
            why: Ambiguity::Offset {
                first: 0,
                second: 32
            },
        }
    );
    assert!(err.to_string().contains("bit offset 0 != 32"), "{err}");
    // Without s___2, s and s___3 agree.
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED);
    b.add_struct("s", 8, &[MemberDef::new("a", int, 0)]);
    b.add_struct("s___3", 8, &[MemberDef::new("a", int, 0)]);
    let t = encode(&b);
    let target = Btf::parse(&t).unwrap();
    let ok = resolve(
        &local,
        &target,
        &relo(l.root, l.strs["0:1"], CoreReloKind::FieldByteOffset),
    )
    .unwrap();
    assert_eq!((ok.new_val, ok.tried.len()), (0, 2));
}

#[test]
fn candidates_are_pruned_per_root_type() {
    // Two candidates: s has a, s___2 has only pad. After a relocation of
    // `a` matched s alone, libbpf keeps only s for the root type: a later
    // relocation of `pad` does not see s___2 (which would also match).
    let l = local();
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED);
    let long = b.add_int("long", 8, INT_SIGNED);
    b.add_struct(
        "s",
        16,
        &[MemberDef::new("pad", long, 0), MemberDef::new("a", int, 64)],
    );
    b.add_struct("s___2", 8, &[MemberDef::new("pad", long, 0)]);
    let t = encode(&b);
    let (local, target) = (Btf::parse(&l.bytes).unwrap(), Btf::parse(&t).unwrap());
    let targets = Targets::new(&target);
    let mut s = Session::new(&targets, &local, Endian::Little);
    let a = s
        .resolve(&relo(l.root, l.strs["0:1"], CoreReloKind::FieldByteOffset))
        .unwrap();
    assert_eq!((a.new_val, a.tried.len()), (8, 2));
    let size = s
        .resolve(&relo(l.root, l.strs["0"], CoreReloKind::TypeSize))
        .unwrap();
    assert_eq!((size.new_val, size.tried.len()), (16, 1));
    // A fresh session tries both again.
    let mut fresh = Session::new(&targets, &local, Endian::Little);
    let r = fresh
        .resolve(&relo(l.root, l.strs["0"], CoreReloKind::TypeSize))
        .unwrap_err();
    assert!(matches!(
        r,
        RelocError::Ambiguous {
            why: Ambiguity::Decision {
                first: Some(16),
                second: Some(8)
            },
            ..
        }
    ));
}

#[test]
fn enums_and_enum64() {
    let mut b = Builder::new();
    let e = b.add_enum64(
        "e___mine",
        8,
        false,
        &[
            EnumeratorDef::unsigned("BIG", 1 << 40),
            EnumeratorDef::unsigned("HIGH", 0x8000_0000),
            EnumeratorDef::unsigned("GONE___x", 7),
        ],
    );
    let s: Vec<StrOffset> = ["0", "1", "2"].iter().map(|s| b.add_str(s)).collect();
    let l = encode(&b);
    // The target: a 32-bit enum (HIGH is 0x80000000, read by libbpf as a
    // negative __s32) and an ENUM64 of the same name.
    let mut b = Builder::new();
    b.add_enum(
        "e",
        4,
        false,
        &[
            EnumeratorDef::unsigned("HIGH", 0x8000_0000),
            EnumeratorDef::unsigned("BIG", 5),
        ],
    );
    let t32 = encode(&b);
    let mut b = Builder::new();
    b.add_enum64(
        "e",
        8,
        true,
        &[
            EnumeratorDef::new("BIG", -(1 << 41)),
            EnumeratorDef::unsigned("HIGH", 0x8000_0000),
        ],
    );
    let t64 = encode(&b);
    let local = Btf::parse(&l).unwrap();
    use CoreReloKind::*;
    for (t, big, high) in [
        (&t32, 5u64, 0xffff_ffff_8000_0000u64),
        (&t64, (-(1i64 << 41)) as u64, 0x8000_0000),
    ] {
        let target = Btf::parse(t).unwrap();
        let r = |i: usize, kind| resolve(&local, &target, &relo(e, s[i], kind)).unwrap();
        assert_eq!(vals(&r(0, EnumvalValue)), (1 << 40, big, false));
        assert_eq!(vals(&r(1, EnumvalValue)), (0x8000_0000, high, false));
        assert_eq!(vals(&r(0, EnumvalExists)), (1, 1, false));
        // GONE is in neither: exists is 0, the value poisons.
        assert_eq!(vals(&r(2, EnumvalExists)), (1, 0, false));
        assert_eq!(vals(&r(2, EnumvalValue)), (7, 0, true));
        assert!(matches!(
            r(2, EnumvalValue).tried[0].1,
            Some(Mismatch::NoEnumerator { .. })
        ));
        // ENUM and ENUM64 are compatible types; matching needs equal
        // sizes and every local enumerator in the target (GONE is not).
        assert_eq!(r(0, TypeExists).new_val, 1);
        assert_eq!(r(0, TypeMatches).new_val, 0);
    }
    let r = relo(e, s[1], EnumvalValue);
    assert_eq!(relo_in_c(&local, &r), "enum e___mine::HIGH (1)");
    // TYPE_MATCHES of enums: same size, every local name in the target
    // (order and values do not matter).
    let mut b = Builder::new();
    let m = b.add_enum64(
        "m",
        8,
        false,
        &[EnumeratorDef::new("A", 1), EnumeratorDef::new("B", 2)],
    );
    let z = b.add_str("0");
    let lm = encode(&b);
    let local = Btf::parse(&lm).unwrap();
    for (size, kind64, want) in [(8, true, 1), (8, false, 1), (4, false, 0)] {
        let mut b = Builder::new();
        let values = [
            EnumeratorDef::new("B", 9),
            EnumeratorDef::new("C", 3),
            EnumeratorDef::new("A___x", 4),
        ];
        if kind64 {
            b.add_enum64("m___y", size, false, &values);
        } else {
            b.add_enum("m", size, false, &values);
        }
        let t = encode(&b);
        let target = Btf::parse(&t).unwrap();
        let r = resolve(&local, &target, &relo(m, z, TypeMatches)).unwrap();
        assert_eq!(r.new_val, want, "size {size} enum64 {kind64}");
    }
}

#[test]
fn flexible_arrays() {
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED);
    let flex = TypeId::new(3);
    let f = b.add_struct(
        "f",
        4,
        &[
            MemberDef::new("n", int, 0),
            MemberDef::new("data", flex, 32),
        ],
    );
    b.add_array(int, int, 0);
    let a = b.add_str("0:1:5");
    let l = encode(&b);
    let mut b = Builder::new();
    let long = b.add_int("long", 8, INT_SIGNED);
    let int = b.add_int("int", 4, INT_SIGNED);
    b.add_struct(
        "f",
        8,
        &[
            MemberDef::new("n", long, 0),
            MemberDef::new("data", TypeId::new(4), 64),
        ],
    );
    b.add_array(int, int, 0);
    let t = encode(&b);
    let (local, target) = (Btf::parse(&l).unwrap(), Btf::parse(&t).unwrap());
    let r = resolve(&local, &target, &relo(f, a, CoreReloKind::FieldByteOffset)).unwrap();
    assert_eq!(vals(&r), (24, 28, false));
}

#[test]
fn module_search() {
    let l = local();
    let local = Btf::parse(&l.bytes).unwrap();
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED);
    b.add_struct("q", 4, &[MemberDef::new("a", int, 0)]);
    let vm = encode(&b);
    let vmlinux = Btf::parse(&vm).unwrap();
    let mut b = Builder::split(&vmlinux);
    b.add_struct("s", 12, &[MemberDef::new("a", int, 64)]);
    let m = encode(&b);
    let module = Btf::parse_split(&m, &vmlinux).unwrap();
    let r = relo(l.root, l.strs["0:1"], CoreReloKind::FieldByteOffset);
    for (search, found) in [
        (ModuleSearch::WhenVmlinuxHasNone, true),
        (ModuleSearch::Always, true),
        (ModuleSearch::Never, false),
    ] {
        let targets = Targets::new(&vmlinux)
            .with_module("m", &module)
            .module_search(search);
        let mut s = Session::new(&targets, &local, Endian::Little);
        let res = s.resolve(&r).unwrap();
        assert_eq!(!res.poison, found, "{search:?}");
        if found {
            let c = res.target.unwrap();
            assert_eq!((c.target, c.id.get()), (1, 3));
            assert_eq!(targets.get(c.target).unwrap().name(), "m");
        }
    }
    // vmlinux has a candidate: modules are not looked at (libbpf), unless
    // asked for.
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED);
    b.add_struct("s", 4, &[MemberDef::new("a", int, 0)]);
    let vm2 = encode(&b);
    let vmlinux2 = Btf::parse(&vm2).unwrap();
    let mut b = Builder::split(&vmlinux2);
    b.add_struct("s", 12, &[MemberDef::new("a", int, 64)]);
    let m2 = encode(&b);
    let module2 = Btf::parse_split(&m2, &vmlinux2).unwrap();
    let targets = Targets::new(&vmlinux2).with_module("m", &module2);
    let res = Session::new(&targets, &local, Endian::Little)
        .resolve(&r)
        .unwrap();
    assert_eq!((res.new_val, res.tried.len()), (0, 1));
    let all = Targets::new(&vmlinux2)
        .with_module("m", &module2)
        .module_search(ModuleSearch::Always);
    let err = Session::new(&all, &local, Endian::Little)
        .resolve(&r)
        .unwrap_err();
    assert!(matches!(err, RelocError::Ambiguous { .. }), "{err}");
    assert_eq!(essential_name(b"s___v2"), b"s");
}

fn insn(code: u8, regs: u8, off: i16, imm: i32, endian: Endian) -> [u8; 8] {
    let o = endian.write_u16(off as u16);
    let i = endian.write_u32(imm as u32);
    [code, regs, o[0], o[1], i[0], i[1], i[2], i[3]]
}

fn res(orig: u64, new: u64) -> Resolution {
    // A resolution as Session gives it, built through a real one.
    let l = local();
    let t = target();
    let (local, target) = (Btf::parse(&l.bytes).unwrap(), Btf::parse(&t).unwrap());
    let mut r = resolve(
        &local,
        &target,
        &relo(l.root, l.strs["0:1"], CoreReloKind::FieldByteOffset),
    )
    .unwrap();
    r.orig_val = orig;
    r.new_val = new;
    r
}

#[test]
fn patching_both_byte_orders() {
    for endian in [Endian::Little, Endian::Big] {
        // ALU64 mov r1, 8 -> 44.
        let mut code = insn(0xb7, 0x01, 0, 8, endian).to_vec();
        let p = patch_insn(&mut code, endian, 0, &res(8, 44)).unwrap();
        assert_eq!(p, Patched::Imm { from: 8, to: 44 });
        assert_eq!(code, insn(0xb7, 0x01, 0, 44, endian));
        // Not the local value: refused, bytes unchanged.
        let mut code = insn(0xb7, 0x01, 0, 9, endian).to_vec();
        assert_eq!(
            patch_insn(&mut code, endian, 0, &res(8, 44)),
            Err(PatchError::Unexpected {
                found: 9,
                expected: 8
            })
        );
        assert_eq!(code, insn(0xb7, 0x01, 0, 9, endian));
        // LDX W r0 = *(u32 *)(r1 + 8) -> +44.
        let mut code = insn(0x61, 0x10, 8, 0, endian).to_vec();
        let p = patch_insn(&mut code, endian, 0, &res(8, 44)).unwrap();
        assert_eq!(
            p,
            Patched::Offset {
                from: 8,
                to: 44,
                size: None
            }
        );
        assert_eq!(code, insn(0x61, 0x10, 44, 0, endian));
        // Offsets above i16::MAX are refused.
        let mut code = insn(0x61, 0x10, 8, 0, endian).to_vec();
        assert_eq!(
            patch_insn(&mut code, endian, 0, &res(8, 40000)),
            Err(PatchError::OffsetTooBig { value: 40000 })
        );
        // A size change: DW load of an 8-byte unsigned field now 4 bytes.
        let mut r = res(0, 16);
        (r.orig_size, r.new_size) = (8, 4);
        let mut code = insn(0x79, 0x10, 0, 0, endian).to_vec();
        let p = patch_insn(&mut code, endian, 0, &r).unwrap();
        assert_eq!(
            p,
            Patched::Offset {
                from: 0,
                to: 16,
                size: Some((8, 4))
            }
        );
        assert_eq!(code, insn(0x61, 0x10, 16, 0, endian));
        // ... and unsafely (signed): poisoned.
        r.fail_memsz_adjust = true;
        let mut code = insn(0x79, 0x10, 0, 0, endian).to_vec();
        let p = patch_insn(&mut code, endian, 0, &r).unwrap();
        assert_eq!(
            p,
            Patched::Poisoned {
                ld_imm64: false,
                mem_size: true
            }
        );
        assert_eq!(code, insn(0x85, 0, 0, POISON_IMM as i32, endian));
        // ld_imm64 r1: both halves (dst in the low nibble on little
        // endian, the high one on big endian).
        let r1 = if endian == Endian::Little { 0x01 } else { 0x10 };
        let mut code = [insn(0x18, r1, 0, 0, endian), insn(0, 0, 0, 1, endian)].concat();
        let p = patch_insn(&mut code, endian, 0, &res(1 << 32, 0x1_2345_6789)).unwrap();
        assert_eq!(
            p,
            Patched::Imm64 {
                from: 1 << 32,
                to: 0x1_2345_6789
            }
        );
        assert_eq!(
            code,
            [
                insn(0x18, r1, 0, 0x2345_6789, endian),
                insn(0, 0, 0, 1, endian)
            ]
            .concat()
        );
        let mut r = res(1 << 32, 0);
        r.poison = true;
        let p = patch_insn(&mut code, endian, 0, &r).unwrap();
        assert_eq!(
            p,
            Patched::Poisoned {
                ld_imm64: true,
                mem_size: false
            }
        );
        let poison = insn(0x85, 0, 0, POISON_IMM as i32, endian);
        assert_eq!(code, [poison, poison].concat());
        // Past the end, and a class nothing patches.
        assert_eq!(
            patch_insn(&mut code, endian, 2, &res(0, 0)),
            Err(PatchError::NoInsn { index: 2 })
        );
        let mut jmp = insn(0x05, 0, 1, 0, endian).to_vec();
        assert_eq!(
            patch_insn(&mut jmp, endian, 0, &res(0, 0)),
            Err(PatchError::Class { code: 0x05 })
        );
        // ALU with a register source.
        let mut x = insn(0xbf, 0x21, 0, 0, endian).to_vec();
        assert_eq!(
            patch_insn(&mut x, endian, 0, &res(0, 0)),
            Err(PatchError::NotImmediate { code: 0xbf })
        );
    }
}

#[test]
fn anonymous_root_and_bad_access() {
    let mut b = Builder::new();
    let int = b.add_int("int", 4, INT_SIGNED);
    let anon = b.add_struct("", 4, &[MemberDef::new("a", int, 0)]);
    let z = b.add_str("0");
    let l = encode(&b);
    let local = Btf::parse(&l).unwrap();
    let t = target();
    let target = Btf::parse(&t).unwrap();
    assert_eq!(
        resolve(&local, &target, &relo(anon, z, CoreReloKind::TypeSize)).unwrap_err(),
        RelocError::Anonymous { type_id: anon }
    );
    // TYPE_ID_LOCAL needs no candidates.
    let r = resolve(&local, &target, &relo(anon, z, CoreReloKind::TypeIdLocal)).unwrap();
    assert_eq!(vals(&r), (2, 2, false));
    // Member 1 of a one-member struct: an error in the local BTF.
    let named = {
        let mut b = Builder::new();
        let int = b.add_int("int", 4, INT_SIGNED);
        let s = b.add_struct("s", 4, &[MemberDef::new("a", int, 0)]);
        let a = b.add_str("0:1");
        (encode(&b), s, a)
    };
    let local2 = Btf::parse(&named.0).unwrap();
    let e = resolve(
        &local2,
        &target,
        &relo(named.1, named.2, CoreReloKind::FieldByteOffset),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            RelocError::MemberOutOfRange {
                pos: 1,
                idx: 1,
                vlen: 1,
                ..
            }
        ),
        "{e}"
    );
}

/// Corrupted local and target BTF never make the engine panic: every
/// byte of each blob changed a few ways, every access string of the test
/// with every kind resolved and patched.
#[test]
fn corrupted_btf_never_panics() {
    let l = local();
    let t = target();
    let kinds: Vec<CoreReloKind> = CoreReloKind::ALL
        .iter()
        .copied()
        .chain([CoreReloKind::Unknown(13)])
        .collect();
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    let mut run = |local_bytes: &[u8], target_bytes: &[u8]| {
        let (Ok(local), Ok(target)) = (Btf::parse(local_bytes), Btf::parse(target_bytes)) else {
            *outcomes.entry("unparsable").or_default() += 1;
            return;
        };
        let targets = Targets::new(&target).module_search(ModuleSearch::Always);
        let mut session = Session::new(&targets, &local, Endian::Little);
        for &access in l.strs.values() {
            for &kind in &kinds {
                for ty in [l.root, TypeId::new(4), TypeId::new(5), TypeId::new(99)] {
                    let key = match session.resolve(&relo(ty, access, kind)) {
                        Ok(r) => {
                            let mut code = [0xb7u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
                            let _ = patch_insn(&mut code, Endian::Little, 0, &r);
                            let _ = relo_in_c(&local, &relo(ty, access, kind));
                            "resolved"
                        }
                        Err(e) => {
                            let _ = e.to_string();
                            "refused"
                        }
                    };
                    *outcomes.entry(key).or_default() += 1;
                }
            }
        }
    };
    for (which, blob) in [(0, &l.bytes), (1, &t)] {
        let mut bytes = blob.clone();
        for i in 24..bytes.len() {
            let was = bytes[i];
            for v in [was ^ 0x01, was ^ 0x80, 0, 0xff] {
                bytes[i] = v;
                if which == 0 {
                    run(&bytes, &t);
                } else {
                    run(&l.bytes, &bytes);
                }
            }
            bytes[i] = was;
        }
    }
    assert!(
        outcomes["resolved"] > 10_000 && outcomes["refused"] > 1_000,
        "{outcomes:?}"
    );
}

/// With `std`, one `Targets` serves threads relocating objects at once.
#[test]
fn targets_are_shared_between_threads() {
    fn sync<T: Sync>(_: &T) {}
    let t = target();
    let target = Btf::parse(&t).unwrap();
    let targets = Targets::named("target.btf", &target);
    sync(&targets);
    let l = local();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let local = Btf::parse(&l.bytes).unwrap();
                let mut session = Session::new(&targets, &local, Endian::Little);
                let r = session
                    .resolve(&relo(l.root, l.strs["0:1"], CoreReloKind::FieldByteOffset))
                    .unwrap();
                assert_eq!(r.new_val, 44);
            });
        }
    });
    assert_eq!(targets.vmlinux().name(), "target.btf");
}

#[path = "common/mod.rs"]
mod common;

/// Candidates across Debian's vmlinux and all its modules (one index of
/// every module) against a brute-force search of each blob in turn, for a
/// spread of local types taken from the set itself.
#[test]
fn candidates_across_every_corpus_module() {
    use btf_core::Kind;
    use btf_core::reloc::{Candidate, ModuleSearch, Targets, essential_name};
    let Some(dir) = common::corpus() else { return };
    let vmlinux_bytes = std::fs::read(dir.join("vmlinux.btf")).unwrap();
    let vmlinux = Btf::parse(&vmlinux_bytes).unwrap();
    let names = common::module_names(&dir);
    let blobs: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(dir.join("modules").join(format!("{n}.btf"))).unwrap())
        .collect();
    let modules: Vec<Btf<'_>> = Btf::parse_splits(blobs.iter().map(Vec::as_slice), &vmlinux)
        .into_iter()
        .map(|m| m.unwrap())
        .collect();
    let mut targets = Targets::new(&vmlinux).module_search(ModuleSearch::Always);
    for (name, m) in names.iter().zip(&modules) {
        targets = targets.with_module(name, m);
    }
    let compat = |a: Kind, b: Kind| {
        a == b || (matches!(a, Kind::ENUM | Kind::ENUM64) && matches!(b, Kind::ENUM | Kind::ENUM64))
    };
    let brute = |local: &btf_core::Type<'_>| -> Vec<Candidate> {
        let essential = essential_name(local.name_bytes());
        let mut out = Vec::new();
        let blobs = std::iter::once(&vmlinux).chain(modules.iter());
        for (target, btf) in (0u32..).zip(blobs) {
            for t in btf.types() {
                if !t.name_bytes().is_empty()
                    && essential_name(t.name_bytes()) == essential
                    && compat(t.kind(), local.kind())
                {
                    out.push(Candidate { target, id: t.id() });
                }
            }
        }
        out
    };
    let mut locals: Vec<btf_core::Type<'_>> = vmlinux
        .types()
        .filter(|t| !t.name_bytes().is_empty())
        .step_by(4001)
        .collect();
    for m in modules.iter().step_by(97) {
        locals.extend(m.types().filter(|t| !t.name_bytes().is_empty()).take(2));
    }
    assert!(locals.len() > 60);
    let mut with_modules = 0;
    for local in &locals {
        let got = targets.candidates(local);
        assert_eq!(got, brute(local), "{}", local.name().unwrap());
        with_modules += usize::from(got.iter().any(|c| c.target > 0));
    }
    assert!(
        with_modules > 20,
        "{with_modules} locals with module candidates"
    );
}
