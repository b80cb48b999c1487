//! `structured`: the input is an `arbitrary` description of a type graph.
//!
//! Ints, pointers, arrays, structs and unions with members and bitfields,
//! enums and enum64s, typedefs, const/volatile/restrict, prototypes with
//! parameters and `...`, funcs with a linkage, vars, datasecs, decl and type
//! tags (and attributes), floats, forward declarations, raw records of any
//! kind and kind layout entries. Type ids are taken modulo the number of
//! types, so references mostly exist. The graph is built with
//! `btf_core::write::Builder` (optionally a split graph on top of it) and
//! encoded in the byte order and header format the input picks; then a
//! list of byte-level mutations (flip a bit, set a byte or a word,
//! truncate, append) is applied, and the result gets the walk of the
//! `parse` target.
//!
//! Invariants checked on top of the walk, when no mutation was applied:
//! whatever `Builder::check` accepts encodes, parses with `Btf::parse`
//! (`parse_split` for the split) with as many types as the builder holds,
//! and `Builder::from_btf` of the parse encodes back to the same bytes.
#![no_main]

use arbitrary::Arbitrary;
use btf_core::write::{
    Builder, EncodeOptions, EnumeratorDef, HeaderFormat, LEGACY_MAX_VLEN, MemberDef, Name,
    ParamDef, RawRecord, SecinfoDef,
};
use btf_core::{Btf, Endian, Kind, Linkage, TypeId};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    big_endian: bool,
    layout_header: bool,
    legacy_vlen: bool,
    types: Vec<Ty>,
    mutations: Vec<Mutation>,
    split: Option<Split>,
}

#[derive(Arbitrary, Debug)]
struct Split {
    types: Vec<Ty>,
    mutations: Vec<Mutation>,
}

/// A name: one of a few fixed ones (valid identifiers, duplicates across
/// types, odd ones), or any bytes.
#[derive(Arbitrary, Debug)]
enum NameIn {
    Anon,
    Fixed(u8),
    Bytes(Vec<u8>),
}

const NAMES: [&str; 16] = [
    "int",
    "long",
    "void",
    "task_struct",
    "a",
    "b",
    "x",
    "point",
    "_",
    ".data",
    "a.b",
    "not an identifier",
    "9lives",
    "\u{e9}t\u{e9}",
    "list_head",
    "unsigned int",
];

/// A reference: usually an id modulo the type count (void included);
/// `Raw` keeps the number as is, to dangle.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Ref {
    Id(u16),
    Raw(u32),
}

#[derive(Arbitrary, Debug)]
struct MemberIn {
    name: NameIn,
    ty: Ref,
    bit_offset: u16,
    bitfield_size: u8,
}

#[derive(Arbitrary, Debug)]
enum Ty {
    Int {
        name: NameIn,
        size: u8,
        encoding: u8,
        offset: u8,
        bits: u8,
    },
    Ptr(Ref),
    Const(Ref),
    Volatile(Ref),
    Restrict(Ref),
    Typedef(NameIn, Ref),
    TypeTag {
        name: NameIn,
        ty: Ref,
        attr: bool,
    },
    Array {
        elem: Ref,
        index: Ref,
        nelems: u32,
    },
    Struct {
        union: bool,
        name: NameIn,
        size: u16,
        members: Vec<MemberIn>,
    },
    Enum {
        name: NameIn,
        size: u8,
        signed: bool,
        values: Vec<(NameIn, i64)>,
    },
    Enum64 {
        name: NameIn,
        size: u8,
        signed: bool,
        values: Vec<(NameIn, u64)>,
    },
    Fwd {
        name: NameIn,
        union: bool,
    },
    FuncProto {
        ret: Ref,
        params: Vec<(NameIn, Ref)>,
        variadic: bool,
    },
    Func {
        name: NameIn,
        proto: Ref,
        linkage: u8,
    },
    Var {
        name: NameIn,
        ty: Ref,
        linkage: u8,
    },
    Datasec {
        name: NameIn,
        size: u32,
        entries: Vec<(Ref, u16, u16)>,
    },
    DeclTag {
        name: NameIn,
        ty: Ref,
        component_idx: i8,
        attr: bool,
    },
    Float {
        name: NameIn,
        size: u8,
    },
    Raw {
        name: NameIn,
        kind: u8,
        kflag: bool,
        vlen: u8,
        size_or_type: u32,
        data: Vec<u32>,
    },
    Layout {
        kind: u8,
        info_sz: u8,
        elem_sz: u8,
    },
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    Flip { at: u32, bit: u8 },
    SetByte { at: u32, value: u8 },
    SetWord { at: u32, value: u32 },
    Truncate(u32),
    Append(Vec<u8>),
}

/// Builds `types` into `b`; references are ids modulo `b`'s last id after
/// all of them are added (so forward references exist too).
fn build(b: &mut Builder<'_>, types: &[Ty]) {
    let adding = types
        .iter()
        .filter(|t| !matches!(t, Ty::Layout { .. }))
        .count();
    let last = b.next_id().get().saturating_sub(1) + adding as u32;
    let id = |r: Ref| match r {
        Ref::Id(n) => TypeId::new(u32::from(n) % (last + 1)),
        Ref::Raw(n) => TypeId::new(n),
    };
    let name = |n: &NameIn| -> Vec<u8> {
        match n {
            NameIn::Anon => Vec::new(),
            NameIn::Fixed(i) => NAMES[usize::from(*i) % NAMES.len()].as_bytes().to_vec(),
            NameIn::Bytes(b) => b.clone(),
        }
    };
    for t in types {
        match t {
            Ty::Int {
                name: n,
                size,
                encoding,
                offset,
                bits,
            } => {
                let n = name(n);
                b.add_int_with(
                    nm(&n),
                    btf_core::Int {
                        size: u32::from(*size),
                        encoding: *encoding,
                        offset: *offset,
                        bits: *bits,
                    },
                );
            }
            Ty::Ptr(r) => {
                b.add_ptr(id(*r));
            }
            Ty::Const(r) => {
                b.add_const(id(*r));
            }
            Ty::Volatile(r) => {
                b.add_volatile(id(*r));
            }
            Ty::Restrict(r) => {
                b.add_restrict(id(*r));
            }
            Ty::Typedef(n, r) => {
                let n = name(n);
                b.add_typedef(nm(&n), id(*r));
            }
            Ty::TypeTag { name: n, ty, attr } => {
                let n = name(n);
                if *attr {
                    b.add_type_attr(nm(&n), id(*ty));
                } else {
                    b.add_type_tag(nm(&n), id(*ty));
                }
            }
            Ty::Array {
                elem,
                index,
                nelems,
            } => {
                b.add_array(id(*elem), id(*index), *nelems);
            }
            Ty::Struct {
                union,
                name: n,
                size,
                members,
            } => {
                let n = name(n);
                let names: Vec<Vec<u8>> = members.iter().map(|m| name(&m.name)).collect();
                let defs: Vec<MemberDef<'_>> = members
                    .iter()
                    .zip(&names)
                    .map(|(m, mn)| {
                        MemberDef::bitfield(
                            nm(mn),
                            id(m.ty),
                            u32::from(m.bit_offset),
                            m.bitfield_size,
                        )
                    })
                    .collect();
                if *union {
                    b.add_union(nm(&n), u32::from(*size), &defs);
                } else {
                    b.add_struct(nm(&n), u32::from(*size), &defs);
                }
            }
            Ty::Enum {
                name: n,
                size,
                signed,
                values,
            } => {
                let n = name(n);
                let names: Vec<Vec<u8>> = values.iter().map(|v| name(&v.0)).collect();
                let defs: Vec<EnumeratorDef<'_>> = values
                    .iter()
                    .zip(&names)
                    .map(|(v, vn)| EnumeratorDef::new(nm(vn), v.1))
                    .collect();
                b.add_enum(nm(&n), u32::from(*size), *signed, &defs);
            }
            Ty::Enum64 {
                name: n,
                size,
                signed,
                values,
            } => {
                let n = name(n);
                let names: Vec<Vec<u8>> = values.iter().map(|v| name(&v.0)).collect();
                let defs: Vec<EnumeratorDef<'_>> = values
                    .iter()
                    .zip(&names)
                    .map(|(v, vn)| EnumeratorDef::unsigned(nm(vn), v.1))
                    .collect();
                b.add_enum64(nm(&n), u32::from(*size), *signed, &defs);
            }
            Ty::Fwd { name: n, union } => {
                let n = name(n);
                if *union {
                    b.add_fwd_union(nm(&n));
                } else {
                    b.add_fwd_struct(nm(&n));
                }
            }
            Ty::FuncProto {
                ret,
                params,
                variadic,
            } => {
                let names: Vec<Vec<u8>> = params.iter().map(|p| name(&p.0)).collect();
                let mut defs: Vec<ParamDef<'_>> = params
                    .iter()
                    .zip(&names)
                    .map(|(p, pn)| ParamDef::new(nm(pn), id(p.1)))
                    .collect();
                if *variadic {
                    defs.push(ParamDef::variadic());
                }
                b.add_func_proto(id(*ret), &defs);
            }
            Ty::Func {
                name: n,
                proto,
                linkage,
            } => {
                let n = name(n);
                b.add_func(nm(&n), id(*proto), Linkage(u32::from(*linkage % 4)));
            }
            Ty::Var {
                name: n,
                ty,
                linkage,
            } => {
                let n = name(n);
                b.add_var(nm(&n), id(*ty), Linkage(u32::from(*linkage % 4)));
            }
            Ty::Datasec {
                name: n,
                size,
                entries,
            } => {
                let n = name(n);
                let defs: Vec<SecinfoDef> = entries
                    .iter()
                    .map(|e| SecinfoDef {
                        ty: id(e.0),
                        offset: u32::from(e.1),
                        size: u32::from(e.2),
                    })
                    .collect();
                b.add_datasec(nm(&n), *size, &defs);
            }
            Ty::DeclTag {
                name: n,
                ty,
                component_idx,
                attr,
            } => {
                let n = name(n);
                let idx = i32::from(*component_idx);
                if *attr {
                    b.add_decl_attr(nm(&n), id(*ty), idx);
                } else {
                    b.add_decl_tag(nm(&n), id(*ty), idx);
                }
            }
            Ty::Float { name: n, size } => {
                let n = name(n);
                b.add_float(nm(&n), u32::from(*size));
            }
            Ty::Raw {
                name: n,
                kind,
                kflag,
                vlen,
                size_or_type,
                data,
            } => {
                let n = name(n);
                b.add_raw(&RawRecord {
                    name: nm(&n),
                    kind: Kind::new(*kind),
                    kflag: *kflag,
                    vlen: u32::from(*vlen),
                    size_or_type: *size_or_type,
                    tail: data,
                });
            }
            Ty::Layout {
                kind,
                info_sz,
                elem_sz,
            } => {
                b.set_kind_layout(Kind::new(*kind), *info_sz, *elem_sz);
            }
        }
    }
}

fn nm(v: &[u8]) -> Name<'_> {
    if v.is_empty() {
        Name::ANON
    } else {
        Name::from(v)
    }
}

fn mutate(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
    for m in mutations {
        let len = bytes.len();
        let at = |a: u32| {
            if len == 0 {
                None
            } else {
                Some(a as usize % len)
            }
        };
        match m {
            Mutation::Flip { at: a, bit } => {
                if let Some(i) = at(*a) {
                    bytes[i] ^= 1 << (bit % 8);
                }
            }
            Mutation::SetByte { at: a, value } => {
                if let Some(i) = at(*a) {
                    bytes[i] = *value;
                }
            }
            Mutation::SetWord { at: a, value } => {
                if let Some(i) = at(*a) {
                    let i = i & !3;
                    for (k, v) in value.to_ne_bytes().into_iter().enumerate() {
                        if let Some(slot) = bytes.get_mut(i + k) {
                            *slot = v;
                        }
                    }
                }
            }
            Mutation::Truncate(n) => bytes.truncate(*n as usize % (len + 1)),
            Mutation::Append(extra) => bytes.extend_from_slice(extra),
        }
    }
}

/// Unmutated output that the writer's check accepted must parse, and `from_btf`
/// must give the same bytes back.
fn check_unmutated(b: &Builder<'_>, opts: &EncodeOptions, bytes: &[u8], btf: &Btf<'_>) {
    assert_eq!(btf.type_count() as usize, b.type_count());
    let again = Builder::from_btf(btf).expect("from_btf of a parsed blob");
    let out = again.encode_unchecked(opts).expect("re-encode");
    assert!(out == bytes, "from_btf does not give the input back");
}

fuzz_target!(|input: Input| {
    let endian = if input.big_endian {
        Endian::Big
    } else {
        Endian::Little
    };
    let header = if input.layout_header {
        HeaderFormat::Layout
    } else {
        HeaderFormat::Classic
    };
    let mut opts = EncodeOptions::new(endian).with_header(header);
    if input.legacy_vlen {
        opts = opts.with_max_vlen(LEGACY_MAX_VLEN);
    }

    let mut b = Builder::new();
    build(&mut b, &input.types);
    let valid = b.check(&opts).is_ok();
    let Ok(mut bytes) = b.encode_unchecked(&opts) else {
        return;
    };
    if valid {
        assert!(
            b.encode(&opts).is_ok_and(|e| e == bytes),
            "encode differs from encode_unchecked"
        );
    }
    let pristine = input.mutations.is_empty();
    mutate(&mut bytes, &input.mutations);
    let base = Btf::parse(&bytes);
    if pristine && valid {
        let btf = base
            .as_ref()
            .unwrap_or_else(|e| panic!("writer accepted, reader rejects: {e}"));
        check_unmutated(&b, &opts, &bytes, btf);
    }
    let Ok(base) = base else {
        btf_fuzz::parse_and_walk(&bytes, None);
        return;
    };
    btf_fuzz::walk(&base);

    let Some(split) = &input.split else {
        return;
    };
    let mut sb = Builder::split(&base);
    build(&mut sb, &split.types);
    let valid = sb.check(&opts).is_ok();
    let Ok(mut split_bytes) = sb.encode_unchecked(&opts) else {
        return;
    };
    let pristine = split.mutations.is_empty();
    mutate(&mut split_bytes, &split.mutations);
    let parsed = Btf::parse_split(&split_bytes, &base);
    if pristine && valid {
        let btf = parsed
            .as_ref()
            .unwrap_or_else(|e| panic!("writer accepted a split, reader rejects: {e}"));
        check_unmutated(&sb, &opts, &split_bytes, btf);
    }
    btf_fuzz::parse_and_walk(&split_bytes, Some(&base));
});
