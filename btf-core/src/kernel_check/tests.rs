//! One hand-made blob per rule, with the verdict the kernel gives it.

use super::*;
use crate::testing::RawBlob;
use alloc::string::ToString;
use alloc::vec;

const INT: u8 = 1;
const PTR: u8 = 2;
const ARRAY: u8 = 3;
const STRUCT: u8 = 4;
const UNION: u8 = 5;
const ENUM: u8 = 6;
const FWD: u8 = 7;
const TYPEDEF: u8 = 8;
const VOLATILE: u8 = 9;
const CONST: u8 = 10;
const FUNC: u8 = 12;
const PROTO: u8 = 13;
const VAR: u8 = 14;
const DATASEC: u8 = 15;
const FLOAT: u8 = 16;
const DECL_TAG: u8 = 17;
const TYPE_TAG: u8 = 18;

fn p() -> KernelProfile {
    KernelProfile::new(6, 18).with_endian(Endian::Little)
}

/// A blob whose [1] is `int` (4 bytes, signed), then what `f` adds.
fn blob(f: impl FnOnce(&mut RawBlob)) -> Vec<u8> {
    let mut b = RawBlob::new(Endian::Little);
    let int = b.str("int");
    b.ty(int, INT, false, 0, 4).word(0x0100_0020);
    f(&mut b);
    b.build()
}

fn verdict(bytes: &[u8]) -> Option<(Rule, Errno, Option<u32>)> {
    check_bytes(bytes, None, &p())
        .err()
        .map(|r| (r.rule, r.errno, r.id))
}

fn rejects(bytes: &[u8], rule: Rule, errno: Errno, id: Option<u32>) {
    assert_eq!(verdict(bytes), Some((rule, errno, id)));
}

#[test]
fn valid_blobs_pass() {
    assert_eq!(verdict(&crate::testing::tiny_blob()), None);
    assert_eq!(verdict(&blob(|_| {})), None);
}

#[test]
fn header_rules() {
    let good = blob(|_| {});
    rejects(&good[..6], Rule::HdrLenNotFound, Errno::Inval, None);
    let mut b = good.clone();
    b[4] = 200;
    rejects(&b, Rule::HeaderNotFound, Errno::Inval, None);
    let mut b = good.clone();
    b[0] ^= 1;
    rejects(&b, Rule::BadMagic, Errno::Inval, None);
    let mut b = good.clone();
    b[2] = 2;
    rejects(&b, Rule::BadVersion, Errno::NotSupp, None);
    let mut b = good.clone();
    b[3] = 1;
    rejects(&b, Rule::BadFlags, Errno::NotSupp, None);
    // A 28-byte header: zero extra bytes pass, others are E2BIG.
    let mut long = good[..24].to_vec();
    long[4] = 28;
    long.extend_from_slice(&[0, 0, 0, 0]);
    long.extend_from_slice(&good[24..]);
    assert_eq!(verdict(&long), None);
    long[25] = 1;
    rejects(&long, Rule::HeaderNotZero, Errno::TooBig, None);
    let mut b = good.clone();
    b.push(0);
    rejects(&b, Rule::SectionGap, Errno::Inval, None);
    let mut b = good.clone();
    b[20] += 4; // str_len past the end
    rejects(&b, Rule::SectionTooLong, Errno::Inval, None);
    let mut b = good.clone();
    *b.last_mut().unwrap() = b'x';
    rejects(&b, Rule::BadStrings, Errno::Inval, None);
    let big = vec![0u8; limits::MAX_BLOB_SIZE + 1];
    rejects(&big, Rule::TooLarge, Errno::TooBig, None);
}

#[test]
fn int_rules() {
    let int = |size: u32, data: u32, kflag: bool, vlen: u32| {
        blob(|b| {
            b.ty(0, INT, kflag, vlen, size).word(data);
        })
    };
    rejects(
        &int(1, 9, false, 0),
        Rule::IntBitsOverSize,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &int(16, 129, false, 0),
        Rule::IntBitsOver128,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &int(4, 0x1000_0020, false, 0),
        Rule::IntData,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &int(4, 0x0300_0020, false, 0),
        Rule::IntEncoding,
        Errno::NotSupp,
        Some(2),
    );
    rejects(
        &int(4, 32, true, 0),
        Rule::KflagNotAllowed,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &int(4, 32, false, 1),
        Rule::VlenNotZero,
        Errno::Inval,
        Some(2),
    );
}

#[test]
fn name_rules() {
    // PTR with a name, TYPEDEF without one, an identifier with a space.
    rejects(
        &blob(|b| {
            let n = b.str("p");
            b.ty(n, PTR, false, 0, 1);
        }),
        Rule::InvalidName,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &blob(|b| {
            b.ty(0, TYPEDEF, false, 0, 1);
        }),
        Rule::InvalidName,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &blob(|b| {
            let n = b.str("a b");
            b.ty(n, TYPEDEF, false, 0, 1);
        }),
        Rule::InvalidName,
        Errno::Inval,
        Some(2),
    );
    // '.' is allowed in identifiers since 6.5; a DATASEC name is printable text.
    assert_eq!(
        verdict(&blob(|b| {
            let n = b.str("a.b");
            b.ty(n, TYPEDEF, false, 0, 1);
        })),
        None
    );
    let long = "a".repeat(512);
    assert_eq!(
        verdict(&blob(|b| {
            let n = b.str(&long);
            b.ty(n, TYPEDEF, false, 0, 1);
        })),
        None
    );
    let longer = "a".repeat(513);
    rejects(
        &blob(|b| {
            let n = b.str(&longer);
            b.ty(n, TYPEDEF, false, 0, 1);
        }),
        Rule::InvalidName,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &blob(|b| {
            b.ty(1000, TYPEDEF, false, 0, 1);
        }),
        Rule::NameOffset,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &blob(|b| {
            let n = b.str("x");
            b.ty(0, ARRAY, false, 0, 0).words(&[1, 1, 1]);
            let _ = n;
            b.ty(n, ARRAY, false, 0, 0).words(&[1, 1, 1]);
        }),
        Rule::InvalidName,
        Errno::Inval,
        Some(3),
    );
}

#[test]
fn composite_rules() {
    let s = |kind: u8, kflag: bool, size: u32, members: &[(u32, u32)]| {
        let members = members.to_vec();
        blob(move |b| {
            let x = b.str("x");
            b.ty(0, kind, kflag, members.len() as u32, size);
            for (ty, off) in members {
                b.words(&[x, ty, off]);
            }
        })
    };
    assert_eq!(verdict(&s(STRUCT, false, 8, &[(1, 0), (1, 32)])), None);
    rejects(
        &s(STRUCT, false, 8, &[(1, 32), (1, 0)]),
        Rule::MemberBitsOffset,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &s(UNION, false, 4, &[(1, 0), (1, 8)]),
        Rule::MemberBitsOffset,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &s(STRUCT, false, 4, &[(1, 40)]),
        Rule::MemberOffsetPastSize,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &s(STRUCT, false, 4, &[(0, 0)]),
        Rule::InvalidTypeId,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &s(STRUCT, false, 8, &[(1, 33)]),
        Rule::MemberExceeds,
        Errno::Inval,
        Some(2),
    );
    // A kflag bitfield wider than its int.
    rejects(
        &s(STRUCT, true, 8, &[(1, 33 << 24)]),
        Rule::MemberBitfieldSize,
        Errno::Inval,
        Some(2),
    );
    // A struct containing itself: a loop (EEXIST).
    rejects(
        &s(STRUCT, false, 8, &[(2, 0)]),
        Rule::LoopDetected,
        Errno::Exist,
        Some(2),
    );
    // A member that is a FWD.
    let fwd = blob(|b| {
        let (x, f) = (b.str("x"), b.str("f"));
        b.ty(f, FWD, false, 0, 0);
        b.ty(0, STRUCT, false, 1, 4).words(&[x, 2, 0]);
    });
    rejects(&fwd, Rule::InvalidMember, Errno::Inval, Some(3));
}

#[test]
fn enum_float_func_var_rules() {
    rejects(
        &blob(|b| {
            let e = b.str("E");
            b.ty(0, ENUM, false, 1, 3).words(&[e, 0]);
        }),
        Rule::EnumSize,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &blob(|b| {
            b.ty(0, ENUM, false, 1, 4).words(&[0, 0]);
        }),
        Rule::InvalidName,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &blob(|b| {
            let n = b.str("double");
            b.ty(n, FLOAT, false, 0, 6);
        }),
        Rule::FloatSize,
        Errno::Inval,
        Some(2),
    );
    rejects(
        &blob(|b| {
            let n = b.str("double");
            b.ty(n, FLOAT, true, 0, 8);
        }),
        Rule::KflagNotAllowed,
        Errno::Inval,
        Some(2),
    );
    let func = |linkage: u32, param_name: bool| {
        blob(move |b| {
            let (f, x) = (b.str("fn"), b.str("x"));
            b.ty(0, PROTO, false, 1, 1)
                .words(&[if param_name { x } else { 0 }, 1]);
            b.ty(f, FUNC, false, linkage, 2);
        })
    };
    assert_eq!(verdict(&func(1, true)), None);
    rejects(&func(2, true), Rule::FuncLinkage, Errno::Inval, Some(3));
    rejects(&func(0, false), Rule::InvalidArg, Errno::Inval, Some(3));
    let var = |vlen: u32, linkage: u32| {
        blob(move |b| {
            let v = b.str("v");
            b.ty(v, VAR, false, vlen, 1).word(linkage);
        })
    };
    assert_eq!(verdict(&var(0, 1)), None);
    rejects(&var(1, 0), Rule::VlenNotZero, Errno::Inval, Some(2));
    let one = check_bytes(&var(1, 0), None, &p()).unwrap_err();
    assert_eq!(
        one.to_string(),
        "type [2] VAR 'v' at byte 40: a VAR's vlen must be 0 (kernel: \"vlen != 0\"; EINVAL)"
    );
    rejects(&var(0, 2), Rule::VarLinkage, Errno::Inval, Some(2));
    // `...` only last.
    let va = blob(|b| {
        let x = b.str("x");
        b.ty(0, PROTO, false, 2, 1).words(&[0, 0, x, 1]);
    });
    rejects(&va, Rule::InvalidArg, Errno::Inval, Some(2));
}

#[test]
fn datasec_and_tag_rules() {
    let sec = |name: &'static str, entries: &'static [(u32, u32, u32)], size: u32| {
        blob(move |b| {
            let (v, s) = (b.str("v"), b.str(name));
            b.ty(v, VAR, false, 0, 1).word(1);
            b.ty(s, DATASEC, false, entries.len() as u32, size);
            for &(ty, off, sz) in entries {
                b.words(&[ty, off, sz]);
            }
        })
    };
    assert_eq!(verdict(&sec(".data", &[(2, 0, 4)], 4)), None);
    assert_eq!(verdict(&sec("my data!", &[(2, 0, 4)], 4)), None);
    rejects(
        &sec(".data", &[(2, 4, 4)], 4),
        Rule::VsiOffset,
        Errno::Inval,
        Some(3),
    );
    rejects(
        &sec(".data", &[(2, 0, 2)], 4),
        Rule::VsiSize,
        Errno::Inval,
        Some(3),
    );
    rejects(
        &sec(".data", &[(1, 0, 4)], 4),
        Rule::NotVar,
        Errno::Inval,
        Some(3),
    );
    rejects(
        &sec(".data", &[(2, 0, 4)], 0),
        Rule::DatasecSizeZero,
        Errno::Inval,
        Some(3),
    );
    let tag = |idx: i32, kflag: bool| {
        blob(move |b| {
            let (t, s, x) = (b.str("tag"), b.str("s"), b.str("x"));
            b.ty(s, STRUCT, false, 1, 4).words(&[x, 1, 0]);
            b.ty(t, DECL_TAG, kflag, 0, 2).word(idx as u32);
        })
    };
    assert_eq!(verdict(&tag(-1, false)), None);
    assert_eq!(verdict(&tag(0, true)), None); // kflag allowed since 6.14
    rejects(&tag(1, false), Rule::ComponentIdx, Errno::Inval, Some(3));
    rejects(&tag(-2, false), Rule::ComponentIdx, Errno::Inval, Some(3));
    let old = KernelProfile::new(6, 1).with_endian(Endian::Little);
    assert_eq!(
        check_bytes(&tag(0, true), None, &old).map_err(|r| r.rule),
        Err(Rule::KflagNotAllowed)
    );
    // A TYPE_TAG after a CONST.
    let order = blob(|b| {
        let u = b.str("user");
        b.ty(0, CONST, false, 0, 3);
        b.ty(u, TYPE_TAG, false, 0, 1);
    });
    rejects(&order, Rule::TypeTagOrder, Errno::Inval, Some(2));
}

#[test]
fn resolve_depth_and_modifiers() {
    // 33 VOLATILEs in a row, each pointing to the next: deeper than 32.
    let deep = blob(|b| {
        for i in 0..33u32 {
            b.ty(0, VOLATILE, false, 0, if i == 32 { 1 } else { i + 3 });
        }
    });
    rejects(&deep, Rule::ResolveDepth, Errno::TooBig, Some(2));
    // A modifier of a VAR.
    let bad = blob(|b| {
        let v = b.str("v");
        b.ty(v, VAR, false, 0, 1).word(0);
        b.ty(0, CONST, false, 0, 2);
    });
    rejects(&bad, Rule::InvalidTypeId, Errno::Inval, Some(3));
    // An array indexed by a struct.
    let arr = blob(|b| {
        b.ty(0, STRUCT, false, 0, 4);
        b.ty(0, ARRAY, false, 0, 0).words(&[1, 2, 4]);
    });
    rejects(&arr, Rule::InvalidIndex, Errno::Inval, Some(3));
}

#[test]
fn all_lists_every_record_fault() {
    let b = blob(|b| {
        b.ty(0, INT, true, 0, 4).word(32);
        let v = b.str("v");
        b.ty(v, VAR, false, 1, 1).word(0);
    });
    let all = check_bytes_all(&b, None, &p(), 10);
    let rules: Vec<_> = all.iter().map(|r| (r.rule, r.id)).collect();
    assert_eq!(
        rules,
        [
            (Rule::KflagNotAllowed, Some(2)),
            (Rule::VlenNotZero, Some(3))
        ]
    );
    assert_eq!(
        all[1].to_string(),
        "type [3] VAR 'v' at byte 56: a VAR's vlen must be 0 (kernel: \"vlen != 0\"; EINVAL)"
    );
}

#[test]
fn split_on_a_base() {
    let base_bytes = crate::testing::tiny_blob();
    let base = Btf::parse(&base_bytes).unwrap();
    let str_base = base.strings().len() as u32;
    let mut m = RawBlob::split(Endian::Little, str_base);
    let n = m.str("q");
    m.ty(0, PTR, false, 0, 1);
    m.ty(n, TYPEDEF, false, 0, base.last_id().get() + 1);
    let bytes = m.build();
    assert_eq!(check_bytes(&bytes, Some(&base), &p()), Ok(()));
    let mut m = RawBlob::split(Endian::Little, str_base);
    m.ty(1, PTR, false, 0, 1); // a name (the base's "int") on a PTR
    let err = check_bytes(&m.build(), Some(&base), &p()).unwrap_err();
    assert_eq!(
        (err.rule, err.id),
        (Rule::InvalidName, Some(base.last_id().get() + 1))
    );
}

#[test]
fn types_past_the_id_limit_are_dropped() {
    // [1] PTR to [0xfffff], then 0xffffe PTRs to void: the last one is
    // checked but never registered, so [1] refers to nothing.
    let mut b = RawBlob::new(Endian::Little);
    b.ty(0, PTR, false, 0, limits::MAX_TYPE_ID);
    for _ in 1..limits::MAX_TYPE_ID {
        b.ty(0, PTR, false, 0, 0);
    }
    let bytes = b.build();
    for profile in [p(), KernelProfile::new(6, 1).with_endian(Endian::Little)] {
        let err = check_bytes(&bytes, None, &profile).unwrap_err();
        assert_eq!(
            (err.rule, err.errno, err.id),
            (Rule::InvalidTypeId, Errno::Inval, Some(1))
        );
    }
    // Without the reference, every record passes.
    let mut b = RawBlob::new(Endian::Little);
    for _ in 0..=limits::MAX_TYPE_ID {
        b.ty(0, PTR, false, 0, 0);
    }
    assert_eq!(verdict(&b.build()), None);
}
