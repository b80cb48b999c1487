//! `dump::write_c` and `CDumper` on inputs libbpf's dumper does not
//! survive (it recurses without a limit), on failing sinks, and on its
//! API's promises. Byte-for-byte agreement with libbpf on real kernels and
//! modules is `benches/tests/c_dump.rs`; with bpftool, btf-sys's
//! `tests/cli_dump.rs`.
#![cfg(feature = "alloc")]

mod common;

use btf_core::dump::{self, ByteSink, CDumpError, CDumper, MAX_C_DEPTH};
use btf_core::write::{Builder, EncodeOptions, MemberDef};
use btf_core::{Btf, TypeId, wire};

fn blob(build: impl FnOnce(&mut Builder<'_>)) -> Vec<u8> {
    let mut b = Builder::new();
    build(&mut b);
    b.encode_unchecked(&EncodeOptions::default())
        .expect("encode")
}

fn c_of(bytes: &[u8]) -> Result<String, CDumpError<core::convert::Infallible>> {
    let btf = Btf::parse(bytes).expect("parse");
    let mut out = Vec::new();
    dump::write_c(&btf, &mut out)?;
    Ok(String::from_utf8(out).expect("utf-8"))
}

/// A sink that takes `room` bytes, then fails.
struct Limited {
    taken: usize,
    room: usize,
    writes: usize,
}

impl ByteSink for Limited {
    type Error = &'static str;
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.writes += 1;
        if self.taken + bytes.len() > self.room {
            return Err("full");
        }
        self.taken += bytes.len();
        Ok(())
    }
}

#[test]
fn chains_within_the_limit_are_written() {
    // 200 typedefs, each of the previous one: valid C, deep ordering.
    let bytes = blob(|b| {
        let mut t = b.add_int("int", 4, wire::INT_SIGNED);
        for i in 0..200 {
            t = b.add_typedef(format!("t{i}").as_str(), t);
        }
    });
    let c = c_of(&bytes).expect("dump");
    assert!(c.contains("typedef int t0;\n\ntypedef t0 t1;\n"));
    assert!(c.contains("typedef t198 t199;\n"));
}

#[test]
fn loops_are_errors() {
    // An anonymous struct holding a pointer to itself cannot be written
    // (it would be defined inline inside itself): a cycle, as for libbpf.
    let anon = blob(|b| {
        let int = b.add_int("int", 4, wire::INT_SIGNED);
        // [2] struct { struct <2> *self; int x; }, [3] its pointer.
        b.add_struct(
            "",
            16,
            &[
                MemberDef::new("self", TypeId::new(3), 0),
                MemberDef::new("x", int, 64),
            ],
        );
        b.add_ptr(TypeId::new(2));
        b.add_typedef("anon_t", TypeId::new(2));
    });
    match c_of(&anon) {
        Err(CDumpError::Cycle { id }) => assert_eq!(id, TypeId::new(2)),
        other => panic!("expected Cycle, got {other:?}"),
    }
    // A typedef of a pointer to itself, and a const of itself: libbpf
    // recurses on these until its stack runs out.
    let typedef_loop = blob(|b| {
        b.add_typedef("t", TypeId::new(2));
        b.add_ptr(TypeId::new(1));
    });
    assert!(matches!(
        c_of(&typedef_loop),
        Err(CDumpError::TooDeep { .. })
    ));
    let const_loop = blob(|b| {
        b.add_const(TypeId::new(1));
    });
    assert!(matches!(c_of(&const_loop), Err(CDumpError::TooDeep { .. })));
    // A chain longer than the limit.
    let long = blob(|b| {
        let mut t = b.add_int("int", 4, wire::INT_SIGNED);
        for _ in 0..MAX_C_DEPTH + 10 {
            t = b.add_const(t);
        }
        b.add_typedef("deep", t);
    });
    let err = c_of(&long).expect_err("too deep");
    assert!(err.to_string().contains("more than 512 levels"), "{err}");
    // The first chain too long is the const at id 513 (consts 2..=513 and
    // the int below them): the error names it, where the chain starts,
    // not the int (type 1) where the walk down it stopped.
    match err {
        CDumpError::TooDeep { id, at } => {
            assert_eq!((id, at), (TypeId::new(513), TypeId::new(1)));
        }
        other => panic!("expected TooDeep, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "declarations of type 513 nest more than 512 levels deep (the limit was reached at type 1)"
    );
    // Asked for the typedef at the top, the dumper names the typedef.
    let btf = Btf::parse(&long).expect("parse");
    let top = btf.last_id();
    let mut dumper = CDumper::new(&btf);
    let mut sink = Vec::new();
    match dumper.dump_type(top, &mut sink) {
        Err(CDumpError::TooDeep { id, .. }) => assert_eq!(id, top),
        other => panic!("expected TooDeep, got {other:?}"),
    }
    // A loop names the type asked for, too.
    let const_loop = blob(|b| {
        b.add_int("int", 4, wire::INT_SIGNED);
        b.add_const(TypeId::new(3));
        b.add_const(TypeId::new(2));
        b.add_typedef("looped", TypeId::new(2));
    });
    let btf = Btf::parse(&const_loop).expect("parse");
    let mut dumper = CDumper::new(&btf);
    match dumper.dump_type(TypeId::new(4), &mut Vec::new()) {
        Err(CDumpError::TooDeep { id, .. }) => assert_eq!(id, TypeId::new(4)),
        other => panic!("expected TooDeep, got {other:?}"),
    }
}

/// Prototypes whose two parameters point to the same next prototype, forty
/// deep: ordering is linear, but writing the typedef out visits 2^40
/// declarations (libbpf spends hours on it). The visit limit stops it.
#[test]
fn exponential_declarations_are_too_complex() {
    use btf_core::dump::MAX_C_VISITS;
    use btf_core::write::ParamDef;
    // A typedef of a pointer to a prototype of two pointers to the next
    // prototype, `levels` deep.
    let chain = |levels: usize| {
        blob(|b| {
            let int = b.add_int("int", 4, wire::INT_SIGNED);
            let mut proto = b.add_func_proto(int, &[]);
            let mut ptr = b.add_ptr(proto);
            for _ in 0..levels {
                let params = [ParamDef::new("a", ptr), ParamDef::new("b", ptr)];
                proto = b.add_func_proto(int, &params);
                ptr = b.add_ptr(proto);
            }
            b.add_typedef("cb_t", ptr);
        })
    };
    let bytes = chain(40);
    let btf = Btf::parse(&bytes).expect("parse");
    let mut sink = Limited {
        taken: 0,
        room: usize::MAX,
        writes: 0,
    };
    match dump::write_c(&btf, &mut sink) {
        Err(CDumpError::TooComplex { id }) => assert_eq!(id, btf.last_id()),
        other => panic!("expected TooComplex, got {other:?}"),
    }
    let err = CDumpError::<&str>::TooComplex { id: btf.last_id() };
    assert!(err.to_string().contains(&MAX_C_VISITS.to_string()), "{err}");
    // Ten levels are fine: 2^10 declarations of the innermost one.
    let c = c_of(&chain(10)).expect("dump");
    assert_eq!(c.matches("(void)").count(), 1 << 10);
}

/// A struct of 2000 members, each a union embedding unions three times
/// over, 31 deep: `align_of` would give up on each (its visit budget);
/// the dumper finds each alignment once and writes the struct.
#[test]
fn alignments_are_found_once_per_type() {
    let bytes = blob(|b| {
        let t = common::unions_three_times_over(b);
        let names: Vec<String> = (0..2000).map(|i| format!("m{i}")).collect();
        let members: Vec<MemberDef<'_>> = names
            .iter()
            .enumerate()
            .map(|(i, n)| MemberDef::new(n.as_str(), t, 32 * i as u32))
            .collect();
        b.add_struct("wide", 4 * 2000, &members);
    });
    let c = c_of(&bytes).expect("dump");
    assert!(c.contains("struct wide {\n\tunion u30 m0;\n"));
    assert!(c.contains("\tunion u30 m1999;\n};\n"));
}

#[test]
fn embedding_loop_names_the_type() {
    let bytes = blob(|b| {
        b.add_struct("a", 4, &[MemberDef::new("b", TypeId::new(2), 0)]);
        b.add_struct("b", 4, &[MemberDef::new("a", TypeId::new(1), 0)]);
    });
    let err = c_of(&bytes).expect_err("cycle");
    assert!(
        matches!(err, CDumpError::Cycle { id } if id == TypeId::new(1)),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "type 1 must be defined before itself: unsatisfiable type cycle"
    );
}

#[test]
fn unknown_kinds_are_refused_with_their_id() {
    // Kind 20, sized by a layout section.
    let mut b = Builder::new();
    b.add_int("int", 4, wire::INT_SIGNED);
    b.set_kind_layout(btf_core::Kind::new(20), 4, 0);
    b.add_raw(&btf_core::write::RawRecord {
        name: btf_core::write::Name::ANON,
        kind: btf_core::Kind::new(20),
        kflag: false,
        vlen: 0,
        size_or_type: 0,
        tail: &[0],
    });
    let opts = EncodeOptions::default().with_header(btf_core::write::HeaderFormat::Layout);
    let bytes = b.encode_unchecked(&opts).expect("encode");
    match c_of(&bytes) {
        Err(CDumpError::UnsupportedKind { id, kind }) => {
            assert_eq!((id.get(), kind.get()), (2, 20));
        }
        other => panic!("expected UnsupportedKind, got {other:?}"),
    }
}

/// A struct of 1 GiB with no members is 134 million padding lines; the
/// dump streams them, so a sink that stops taking bytes stops it early,
/// with little memory held.
#[test]
fn huge_padding_streams_and_stops_at_the_sink() {
    let bytes = blob(|b| {
        b.add_struct("huge", 1 << 30, &[]);
    });
    let btf = Btf::parse(&bytes).expect("parse");
    let mut sink = Limited {
        taken: 0,
        room: 1 << 20,
        writes: 0,
    };
    match dump::write_c(&btf, &mut sink) {
        Err(CDumpError::Write("full")) => {}
        other => panic!("expected the sink's error, got {other:?}"),
    }
    assert!(
        sink.taken <= 1 << 20 && sink.taken > 1 << 19,
        "{}",
        sink.taken
    );
    assert!(sink.writes > 10, "written in pieces: {}", sink.writes);
}

#[test]
fn what_came_before_an_error_is_written() {
    let bytes = blob(|b| {
        b.add_int("int", 4, wire::INT_SIGNED);
        b.add_typedef("ok_t", TypeId::new(1));
        b.add_struct("a", 4, &[MemberDef::new("b", TypeId::new(4), 0)]);
        b.add_struct("b", 4, &[MemberDef::new("a", TypeId::new(3), 0)]);
    });
    let btf = Btf::parse(&bytes).expect("parse");
    let mut out = Vec::new();
    let err = dump::write_c(&btf, &mut out).expect_err("cycle");
    assert!(matches!(err, CDumpError::Cycle { .. }));
    let out = String::from_utf8(out).expect("utf-8");
    assert!(out.starts_with("#ifndef __VMLINUX_H__\n"));
    assert!(out.ends_with("typedef int ok_t;\n\n"), "{out}");
}

#[test]
fn dumper_emits_each_type_once_and_checks_ids() {
    let bytes = btf_core::testing::tiny_blob();
    let btf = Btf::parse(&bytes).expect("parse");
    let mut dumper = CDumper::new(&btf);
    let mut out = Vec::new();
    for id in 1..=btf.last_id().get() {
        dumper.dump_type(TypeId::new(id), &mut out).expect("dump");
    }
    let once = out.clone();
    for id in 1..=btf.last_id().get() {
        dumper.dump_type(TypeId::new(id), &mut out).expect("dump");
    }
    assert_eq!(out, once, "nothing is emitted twice");
    let beyond = btf.last_id().get() + 1;
    match dumper.dump_type(TypeId::new(beyond), &mut out) {
        Err(CDumpError::Lookup { id, .. }) => assert_eq!(id.get(), beyond),
        other => panic!("expected Lookup, got {other:?}"),
    }
}

/// A split's dump includes what it needs of its base, once.
#[test]
fn split_pulls_base_types_in() {
    let base_bytes = blob(|b| {
        let int = b.add_int("int", 4, wire::INT_SIGNED);
        b.add_struct("base_s", 4, &[MemberDef::new("x", int, 0)]);
    });
    let base = Btf::parse(&base_bytes).expect("base");
    let mut m = Builder::split(&base);
    m.add_struct(
        "mod_s",
        8,
        &[
            MemberDef::new("a", TypeId::new(2), 0),
            MemberDef::new("b", TypeId::new(2), 32),
        ],
    );
    let split_bytes = m.encode(&EncodeOptions::default()).expect("split");
    let split = Btf::parse_split(&split_bytes, &base).expect("split");
    let mut out = Vec::new();
    CDumper::new(&split)
        .dump_type(split.last_id(), &mut out)
        .expect("dump");
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "struct base_s {\n\tint x;\n};\n\nstruct mod_s {\n\tstruct base_s a;\n\tstruct base_s b;\n};\n\n"
    );
}
