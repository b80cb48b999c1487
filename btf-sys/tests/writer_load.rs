//! The writer against the running kernel's verifier (`BPF_BTF_LOAD`): type
//! graphs that are valid must load, and deliberately invalid ones must be
//! refused. Invalid graphs are written with `encode_unchecked`; for each,
//! the test also notes whether `encode`'s own checks would have caught it
//! (rules on single records) or only the kernel does (graph rules: loops,
//! what a member or an array index may be). This is the seed of a
//! differential validator.
//!
//! Needs root (CAP_BPF / CAP_SYS_ADMIN). Without it the test records why
//! (listed at the end of `scripts/test`) and passes, unless `CI` is set.

#[path = "../../btf-core/tests/common/skip.rs"]
mod skip;

use btf_core::wire::{INT_BOOL, INT_CHAR, INT_SIGNED};
use btf_core::write::{
    Builder, Copier, EncodeOptions, EnumeratorDef, HeaderFormat, MemberDef, Name, ParamDef,
    RawRecord, SecinfoDef,
};
use btf_core::{Btf, Endian, Kind, Linkage, TypeId};
use btf_sys::{Linux, load_btf};

/// Root, or a recorded skip (a failure in CI).
fn have_root(_test: &str) -> bool {
    skip::have_root("BPF_BTF_LOAD")
}

/// The last non-empty line of a verifier log: the reason.
fn reason(log: &str) -> &str {
    log.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

type Graph = fn(&mut Builder<'_>);

fn int(b: &mut Builder<'_>) -> TypeId {
    b.add_int("int", 4, INT_SIGNED)
}

const VALID: &[(&str, Graph)] = &[
    ("int, char, bool, u128 and pointers", |b| {
        let i = int(b);
        b.add_int("char", 1, INT_CHAR);
        b.add_int("_Bool", 1, INT_BOOL);
        b.add_int("unsigned __int128", 16, 0);
        b.add_ptr(i);
        b.add_ptr(TypeId::VOID);
    }),
    ("array", |b| {
        let i = int(b);
        let a = b.add_array(i, i, 4);
        b.add_array(a, i, 2);
    }),
    ("struct with bitfields", |b| {
        let u = b.add_int("unsigned int", 4, 0);
        let c = b.add_int("char", 1, INT_CHAR);
        b.add_struct(
            "flags",
            8,
            &[
                MemberDef::bitfield("a", u, 0, 1),
                MemberDef::bitfield("b", u, 1, 7),
                MemberDef::new("c", c, 8),
                MemberDef::bitfield("d", u, 32, 20),
            ],
        );
    }),
    ("union and anonymous members", |b| {
        let i = int(b);
        let p = b.add_ptr(i);
        let inner = b.add_struct(Name::ANON, 8, &[MemberDef::new("x", i, 0)]);
        b.add_union(
            "u",
            8,
            &[
                MemberDef::new("i", i, 0),
                MemberDef::new("p", p, 0),
                MemberDef::new(Name::ANON, inner, 0),
            ],
        );
    }),
    ("enums of sizes 1, 2, 4, 8, signed and not", |b| {
        for (size, signed) in [(1, false), (2, true), (4, true), (8, false)] {
            b.add_enum(
                Name::ANON,
                size,
                signed,
                &[
                    EnumeratorDef::new("A", 0),
                    EnumeratorDef::new("B", if signed { -1 } else { 1 }),
                ],
            );
        }
        b.add_enum("empty", 4, false, &[]);
    }),
    ("enum64", |b| {
        b.add_enum64(
            "big",
            8,
            false,
            &[
                EnumeratorDef::unsigned("HUGE", 1 << 40),
                EnumeratorDef::unsigned("ALL", u64::MAX),
            ],
        );
        b.add_enum64("neg", 8, true, &[EnumeratorDef::new("MIN", i64::MIN)]);
    }),
    ("fwd struct and union behind pointers", |b| {
        let s = b.add_fwd_struct("later");
        let u = b.add_fwd_union("later_u");
        b.add_ptr(s);
        b.add_ptr(u);
    }),
    ("typedef and modifiers", |b| {
        let i = int(b);
        let t = b.add_typedef("int_t", i);
        let v = b.add_volatile(t);
        let c = b.add_const(v);
        let p = b.add_ptr(c);
        let r = b.add_restrict(p);
        b.add_typedef("cvp_t", r);
    }),
    ("func and func_proto, static, global, variadic", |b| {
        let i = int(b);
        let p = b.add_ptr(i);
        let proto = b.add_func_proto(i, &[ParamDef::new("x", i), ParamDef::new("y", p)]);
        b.add_func("f", proto, Linkage::GLOBAL);
        b.add_func("g", proto, Linkage::STATIC);
        let v = b.add_func_proto(
            TypeId::VOID,
            &[ParamDef::new("fmt", p), ParamDef::variadic()],
        );
        b.add_func("printf_like", v, Linkage::GLOBAL);
        b.add_func_proto(TypeId::VOID, &[]);
    }),
    ("var and datasec", |b| {
        let i = int(b);
        let a = b.add_var("a", i, Linkage::GLOBAL);
        let s = b.add_var("s", i, Linkage::STATIC);
        b.add_datasec(
            ".data",
            12,
            &[
                SecinfoDef {
                    ty: a,
                    offset: 0,
                    size: 4,
                },
                SecinfoDef {
                    ty: s,
                    offset: 8,
                    size: 4,
                },
            ],
        );
        b.add_datasec(".data..percpu", 4, &[]);
    }),
    ("floats", |b| {
        for (name, size) in [
            ("_Float16", 2),
            ("float", 4),
            ("double", 8),
            ("long double", 16),
        ] {
            b.add_float(name, size);
        }
    }),
    ("decl tags on a struct, a member, a func and a param", |b| {
        let i = int(b);
        let s = b.add_struct("s", 4, &[MemberDef::new("x", i, 0)]);
        b.add_decl_tag("on_struct", s, -1);
        b.add_decl_tag("on_member", s, 0);
        let proto = b.add_func_proto(i, &[ParamDef::new("x", i)]);
        let f = b.add_func("f", proto, Linkage::GLOBAL);
        b.add_decl_tag("on_func", f, -1);
        b.add_decl_tag("on_param", f, 0);
        let v = b.add_var("v", i, Linkage::GLOBAL);
        b.add_decl_tag("on_var", v, -1);
    }),
    ("type tags behind a pointer", |b| {
        let i = int(b);
        let t = b.add_type_tag("user", i);
        let t2 = b.add_type_tag("percpu", t);
        b.add_ptr(t2);
    }),
    ("every kind in one blob", |b| {
        let i = int(b);
        let u = b.add_int("unsigned int", 4, 0);
        let p = b.add_ptr(i);
        let a = b.add_array(i, u, 2);
        let s = b.add_struct(
            "s",
            16,
            &[
                MemberDef::new("a", a, 0),
                MemberDef::bitfield("f", u, 64, 3),
                MemberDef::new("p", p, 64),
            ],
        );
        b.add_union(
            "un",
            8,
            &[MemberDef::new("i", i, 0), MemberDef::new("p", p, 0)],
        );
        b.add_enum("e", 4, false, &[EnumeratorDef::new("E0", 0)]);
        b.add_enum64("e64", 8, true, &[EnumeratorDef::new("E1", -5)]);
        let fwd = b.add_fwd_struct("opaque");
        b.add_ptr(fwd);
        let td = b.add_typedef("s_t", s);
        let c = b.add_const(td);
        let v = b.add_volatile(c);
        b.add_restrict(p);
        let proto = b.add_func_proto(i, &[ParamDef::new("arg", v)]);
        let f = b.add_func("func", proto, Linkage::GLOBAL);
        let var = b.add_var("var", i, Linkage::GLOBAL);
        b.add_datasec(
            ".bss",
            4,
            &[SecinfoDef {
                ty: var,
                offset: 0,
                size: 4,
            }],
        );
        b.add_float("double", 8);
        b.add_decl_tag("tag", f, 0);
        let tt = b.add_type_tag("user", i);
        b.add_ptr(tt);
    }),
];

/// Graphs with the attribute kind flag on tags: a 2025 addition, so a
/// kernel may refuse them without being wrong. Reported, not asserted.
const KERNEL_DEPENDENT: &[(&str, Graph)] = &[
    ("decl attr and type attr (kind flag)", |b| {
        let i = int(b);
        let s = b.add_struct("s", 4, &[MemberDef::new("x", i, 0)]);
        b.add_decl_attr("packed", s, -1);
        let t = b.add_type_attr("address_space(1)", i);
        b.add_ptr(t);
    }),
    ("struct with 65536 members (vlen above 16 bits)", |b| {
        let c = b.add_int("char", 1, INT_CHAR);
        let names: Vec<String> = (0..65536).map(|i| format!("m{i}")).collect();
        let members: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, n)| MemberDef::new(n.as_str(), c, i as u32 * 8))
            .collect();
        b.add_struct("big", 65536, &members);
    }),
];

const INVALID: &[(&str, Graph)] = &[
    ("func with extern linkage", |b| {
        let proto = b.add_func_proto(TypeId::VOID, &[]);
        b.add_func("f", proto, Linkage::EXTERN);
    }),
    ("typedef name that is not an identifier", |b| {
        let i = int(b);
        b.add_typedef("bad name", i);
    }),
    ("struct member of a func type", |b| {
        let proto = b.add_func_proto(TypeId::VOID, &[]);
        let f = b.add_func("f", proto, Linkage::GLOBAL);
        b.add_struct("s", 8, &[MemberDef::new("m", f, 0)]);
    }),
    ("enum of size 3", |b| {
        b.add_enum("e", 3, false, &[EnumeratorDef::new("A", 1)]);
    }),
    ("loop of typedefs", |b| {
        let first = b.next_id();
        b.add_typedef("a", TypeId::new(first.get() + 1));
        b.add_typedef("b", first);
    }),
    ("array index type is a struct", |b| {
        let i = int(b);
        let s = b.add_struct("s", 4, &[MemberDef::new("x", i, 0)]);
        b.add_array(i, s, 4);
    }),
    ("array element type is void", |b| {
        let i = int(b);
        b.add_array(TypeId::VOID, i, 4);
    }),
    ("func pointing at an int, not a proto", |b| {
        let i = int(b);
        b.add_func("f", i, Linkage::GLOBAL);
    }),
    ("datasec entry that is not a var", |b| {
        let i = int(b);
        b.add_datasec(
            ".data",
            4,
            &[SecinfoDef {
                ty: i,
                offset: 0,
                size: 4,
            }],
        );
    }),
    ("variadic marker not in last place", |b| {
        let i = int(b);
        let proto = b.add_func_proto(i, &[ParamDef::variadic(), ParamDef::new("x", i)]);
        b.add_func("f", proto, Linkage::GLOBAL);
    }),
    ("func parameter without a name", |b| {
        let i = int(b);
        let proto = b.add_func_proto(i, &[ParamDef::new(Name::ANON, i)]);
        b.add_func("f", proto, Linkage::GLOBAL);
    }),
    ("pointer member not byte aligned", |b| {
        let i = int(b);
        let p = b.add_ptr(i);
        b.add_raw(&RawRecord {
            name: Name::from("s"),
            kind: Kind::STRUCT,
            kflag: false,
            vlen: 1,
            size_or_type: 16,
            tail: &[0, p.get(), 3],
        });
    }),
    ("member past the struct's size", |b| {
        let i = int(b);
        b.add_struct("s", 4, &[MemberDef::new("x", i, 16)]);
    }),
    ("union member at a non-zero offset", |b| {
        let i = int(b);
        b.add_union("u", 8, &[MemberDef::new("x", i, 32)]);
    }),
    ("int of 33 bits in 4 bytes", |b| {
        b.add_raw(&RawRecord {
            name: Name::from("int"),
            kind: Kind::INT,
            kflag: false,
            vlen: 0,
            size_or_type: 4,
            tail: &[33],
        });
    }),
    ("int with two encodings", |b| {
        b.add_int("schar", 1, INT_CHAR | INT_SIGNED);
    }),
    ("var of type void", |b| {
        b.add_var("v", TypeId::VOID, Linkage::GLOBAL);
    }),
    ("var with extern linkage", |b| {
        let i = int(b);
        b.add_var("v", i, Linkage::EXTERN);
    }),
    ("overlapping datasec entries", |b| {
        let i = int(b);
        let a = b.add_var("a", i, Linkage::GLOBAL);
        let c = b.add_var("c", i, Linkage::GLOBAL);
        b.add_datasec(
            ".data",
            8,
            &[
                SecinfoDef {
                    ty: a,
                    offset: 0,
                    size: 4,
                },
                SecinfoDef {
                    ty: c,
                    offset: 2,
                    size: 4,
                },
            ],
        );
    }),
    ("decl tag on a member that does not exist", |b| {
        let i = int(b);
        let s = b.add_struct("s", 4, &[MemberDef::new("x", i, 0)]);
        b.add_decl_tag("tag", s, 5);
    }),
    ("named pointer", |b| {
        let i = int(b);
        b.add_raw(&RawRecord {
            name: Name::from("p"),
            kind: Kind::PTR,
            kflag: false,
            vlen: 0,
            size_or_type: i.get(),
            tail: &[],
        });
    }),
    ("float of 3 bytes", |b| {
        b.add_float("f24", 3);
    }),
    ("kind 0", |b| {
        int(b);
        b.add_raw(&RawRecord {
            name: Name::ANON,
            kind: Kind::new(0),
            kflag: false,
            vlen: 0,
            size_or_type: 0,
            tail: &[],
        });
    }),
];

fn build(graph: Graph) -> Builder<'static> {
    let mut b = Builder::new();
    graph(&mut b);
    b
}

#[test]
fn kernel_accepts_valid_builder_output() {
    if !have_root("kernel_accepts_valid_builder_output") {
        return;
    }
    let mut failures = Vec::new();
    for &(name, graph) in VALID {
        let b = build(graph);
        let bytes = match b.encode(&EncodeOptions::new(Endian::NATIVE)) {
            Ok(bytes) => bytes,
            Err(e) => {
                failures.push(format!("{name}: encode refused it: {e}"));
                continue;
            }
        };
        Btf::parse(&bytes).unwrap_or_else(|e| panic!("{name}: reader refused it: {e}"));
        match load_btf(&Linux, &bytes) {
            Ok(_fd) => eprintln!("accepted: {name}"),
            Err(e) => failures.push(format!(
                "{name}: kernel refused it: {e}: {}",
                reason(e.verifier_log().unwrap_or(""))
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Whether `e` is the verifier refusing the BTF: a log that says why, with
/// the errno the verifier picks (`EINVAL`, `EEXIST` for a loop,
/// `ENOTSUPP`, `E2BIG`, …). A failure of privilege or resources (`EPERM`,
/// `EACCES`, `ENOMEM`, `ENOSPC`) says nothing about the BTF, and fails the
/// test that meets it.
fn verifier_refused(e: &btf_sys::Error) -> bool {
    let log = e.verifier_log().unwrap_or("");
    let errno = e.raw_os_error();
    let unrelated = matches!(
        errno,
        Some(libc::EPERM | libc::EACCES | libc::ENOMEM | libc::ENOSPC) | None
    );
    assert!(
        !unrelated && !log.trim().is_empty(),
        "the load failed for another reason than the BTF: {e}"
    );
    true
}

#[test]
fn kernel_rejects_invalid_graphs() {
    if !have_root("kernel_rejects_invalid_graphs") {
        return;
    }
    let mut failures = Vec::new();
    for &(name, graph) in INVALID {
        let b = build(graph);
        let opts = EncodeOptions::new(Endian::NATIVE);
        let caught = match b.encode(&opts) {
            Ok(_) => "only the kernel catches it".to_string(),
            Err(e) => format!("encode catches it: {e}"),
        };
        let bytes = b.encode_unchecked(&opts).expect("raw encoding");
        match load_btf(&Linux, &bytes) {
            Ok(_fd) => failures.push(format!("{name}: kernel accepted it ({caught})")),
            Err(e) if verifier_refused(&e) => eprintln!(
                "rejected: {name}: {} [{caught}]",
                reason(e.verifier_log().unwrap_or(""))
            ),
            Err(_) => unreachable!("verifier_refused panics otherwise"),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What `encode` refuses, the kernel refuses too: no valid graph above is
/// refused by `encode` (checked in the first test), and every graph
/// `encode` refuses here is refused by the kernel.
#[test]
fn encode_never_refuses_what_the_kernel_accepts() {
    if !have_root("encode_never_refuses_what_the_kernel_accepts") {
        return;
    }
    for &(name, graph) in INVALID.iter().chain(KERNEL_DEPENDENT) {
        let b = build(graph);
        let opts = EncodeOptions::new(Endian::NATIVE);
        if let Err(e) = b.encode(&opts) {
            let bytes = b.encode_unchecked(&opts).expect("raw encoding");
            match load_btf(&Linux, &bytes) {
                Ok(_) => panic!("{name}: encode refused it ({e}) but the kernel accepts it"),
                Err(refusal) => assert!(verifier_refused(&refusal)),
            }
        }
    }
}

#[test]
fn kernel_dependent_features_are_reported() {
    if !have_root("kernel_dependent_features_are_reported") {
        return;
    }
    for &(name, graph) in KERNEL_DEPENDENT {
        let bytes = build(graph)
            .encode(&EncodeOptions::new(Endian::NATIVE))
            .expect("valid under the 2026 rules");
        match load_btf(&Linux, &bytes) {
            Ok(_) => eprintln!("this kernel accepts: {name}"),
            // Either answer is fine; a failure for another reason is not.
            Err(e) if verifier_refused(&e) => eprintln!(
                "this kernel refuses: {name}: {}",
                reason(e.verifier_log().unwrap_or(""))
            ),
            Err(_) => unreachable!("verifier_refused panics otherwise"),
        }
    }
    // The 32-byte header with a layout section (2026).
    let mut b = Builder::new();
    int(&mut b);
    let opts = EncodeOptions::new(Endian::NATIVE).with_header(HeaderFormat::Layout);
    match load_btf(&Linux, &b.encode(&opts).expect("encode")) {
        Ok(_) => eprintln!("this kernel accepts: the layout header"),
        Err(e) => eprintln!(
            "this kernel refuses: the layout header: {e}: {}",
            reason(e.verifier_log().unwrap_or(""))
        ),
    }
}

/// A piece of the running kernel: `task_struct` and every type it reaches,
/// copied out of vmlinux with new ids, loads as user BTF (which, unlike
/// vmlinux itself, goes through the kernel's resolve pass).
#[test]
fn task_struct_copied_from_vmlinux_loads() {
    if !have_root("task_struct_copied_from_vmlinux_loads") {
        return;
    }
    let bytes = std::fs::read("/sys/kernel/btf/vmlinux").expect("read vmlinux BTF");
    let mut vmlinux = Btf::parse(&bytes).expect("parse vmlinux");
    vmlinux.index_names();
    let task = vmlinux
        .find_by_name_kind("task_struct", Kind::STRUCT)
        .expect("task_struct");
    let mut b = Builder::new();
    let id = Copier::new(&vmlinux)
        .copy(&mut b, task.id())
        .expect("copy task_struct");
    let out = b.encode(&EncodeOptions::default()).expect("encode");
    eprintln!(
        "task_struct is [{id}] of {} types, {} bytes",
        b.type_count(),
        out.len()
    );
    if let Err(e) = load_btf(&Linux, &out) {
        panic!(
            "kernel refused it: {e}: {}",
            reason(e.verifier_log().unwrap_or(""))
        );
    }
}
