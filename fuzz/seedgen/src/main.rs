//! Writes the fuzz seed corpora (`fuzz/corpus/<target>/`) and the data files
//! the `elf` and `modules` targets embed (`fuzz/data/`), reproducibly.
//!
//! ```text
//! cd fuzz && cargo run --release -p btf-fuzz-seedgen [-- <debian corpus dir>]
//! cd fuzz && cargo run --release -p btf-fuzz-seedgen -- --elf-splits
//! ```
//!
//! `--elf-splits` writes only the `elf` seeds `split-<module>.ko` from the
//! committed `data/module-N.btf` (no Debian corpus needed): small ELF
//! objects whose `.BTF` is split on `data/base.btf` and which carry no
//! `.BTF.base`, as a module built against that base would.
//!
//! Input: the Debian corpus of `scripts/fetch-corpus.sh` (default
//! `../target/btf-corpus`): `vmlinux.btf`, `modules/*.btf`, `ko/*.ko`; and
//! `llc` when installed, for real BPF objects.
//!
//! - `data/base.btf`: a distilled vmlinux: every vmlinux type the chosen
//!   modules refer to, structs and unions kept with their name and size but
//!   no members (as the kernel's distilled `.BTF.base` does), references
//!   followed through pointers, typedefs, modifiers, arrays and prototypes.
//! - `data/module-N.btf`: real Debian modules, rebased onto that small base
//!   (every reference to vmlinux mapped to its distilled copy), so they
//!   parse as split BTF on it.
//! - seeds: those blobs, writer-made blobs of every kind in both byte orders
//!   and both header formats, small `.ko` files, `llc` BPF objects,
//!   synthetic ELF files, and fixed pseudo-random bytes for the targets that
//!   decode their input with `arbitrary`.

use btf_core::write::{Builder, Copier, EncodeOptions, HeaderFormat, MemberDef, RawRecord};
use btf_core::write::{EnumeratorDef, ParamDef, SecinfoDef};
use btf_core::{Btf, Endian, Kind, Linkage, TypeId, TypeKind, wire};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[path = "../../../btf-core/tests/elf_fixtures/mod.rs"]
mod elf_fixtures;
use elf_fixtures::{BPF_IR, Section, elf};

/// The Debian modules rebased onto the distilled base, in `data/` order.
/// The `modules` target embeds exactly this many.
const MODULES: [&str; 6] = [
    "3c589_cs",
    "loop",
    "nft_socket",
    "macvlan",
    "crc8",
    "nls_utf8",
];

/// Seeds must stay small: libFuzzer's default `-max_len` is derived from
/// them, and each is committed.
const MAX_SEED: usize = 60 * 1024;

fn main() {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "--elf-splits")
    {
        split_elf_seeds(&fuzz, &Out::new(&fuzz));
        return;
    }
    let corpus = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| fuzz.join("../target/btf-corpus"));
    let vm_bytes = std::fs::read(corpus.join("vmlinux.btf")).expect("vmlinux.btf of the corpus");
    let mut vm = Btf::parse(&vm_bytes).expect("vmlinux parses");
    vm.index_names();

    let module_bytes: Vec<Vec<u8>> = MODULES
        .iter()
        .map(|m| std::fs::read(corpus.join("modules").join(format!("{m}.btf"))).expect(m))
        .collect();
    let modules: Vec<Btf<'_>> = module_bytes
        .iter()
        .map(|b| Btf::parse_split(b, &vm).expect("module parses on vmlinux"))
        .collect();

    // The distilled base: every vmlinux id the modules refer to.
    let mut base_b = Builder::new();
    let mut memo = HashMap::new();
    for m in &modules {
        for t in m.types() {
            for id in refs(&t) {
                if id.get() < m.first_id().get() {
                    distill(&vm, &mut base_b, &mut memo, id);
                }
            }
        }
    }
    let base_bytes = encode(&base_b, &EncodeOptions::new(Endian::Little));
    let base = Btf::parse(&base_bytes).expect("distilled base parses");
    let data = fuzz.join("data");
    let out = Out::new(&fuzz);
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("base.btf"), &base_bytes).unwrap();

    let mut rebased = Vec::new();
    for (i, m) in modules.iter().enumerate() {
        let bytes = rebase(m, &base, &memo);
        Btf::parse_split(&bytes, &base).expect("rebased module parses on the base");
        std::fs::write(data.join(format!("module-{i}.btf")), &bytes).unwrap();
        rebased.push(bytes);
    }
    eprintln!(
        "data/: base {} types, {} bytes; modules {:?} bytes",
        base.type_count(),
        base_bytes.len(),
        rebased.iter().map(Vec::len).collect::<Vec<_>>()
    );

    // --- parse: self-contained blobs.
    let le = EncodeOptions::new(Endian::Little);
    let be = EncodeOptions::new(Endian::Big);
    let be_layout = be.with_header(HeaderFormat::Layout);
    let le_layout = le.with_header(HeaderFormat::Layout);
    out.seed(
        "parse",
        "tiny-le",
        &btf_core::testing::tiny_blob_in(Endian::Little),
    );
    out.seed(
        "parse",
        "tiny-be",
        &btf_core::testing::tiny_blob_in(Endian::Big),
    );
    out.seed("parse", "base-le", &base_bytes);
    out.seed("parse", "base-be-layout", &reencode(&base, &be_layout));
    out.seed("parse", "all-kinds-le-layout", &all_kinds(true, &le_layout));
    out.seed("parse", "all-kinds-be", &all_kinds(false, &be));
    for (i, m) in rebased.iter().enumerate().take(3) {
        // A module made self-contained: it and the base types it reaches.
        let split = Btf::parse_split(m, &base).unwrap();
        let mut b = Builder::new();
        let mut copier = Copier::new(&split);
        for id in split.type_ids() {
            copier.copy(&mut b, id).expect("copy");
        }
        let opts = if i % 2 == 0 { le } else { be };
        out.seed("parse", &format!("flat-{}", MODULES[i]), &encode(&b, &opts));
    }
    // A raw Debian module: split on the real vmlinux, so not a base.
    out.seed(
        "parse",
        "debian-crc16-split",
        &read_module(&corpus, "crc16"),
    );

    // --- parse_split: u16 LE base length, base, split.
    let pair = |base: &[u8], split: &[u8]| {
        let mut v = (base.len() as u16).to_le_bytes().to_vec();
        v.extend_from_slice(base);
        v.extend_from_slice(split);
        v
    };
    for (i, m) in rebased.iter().enumerate() {
        out.seed(
            "parse_split",
            &format!("base+{}", MODULES[i]),
            &pair(&base_bytes, m),
        );
    }
    {
        let base_be = reencode(&base, &be_layout);
        let base_be_btf = Btf::parse(&base_be).unwrap();
        let split = Btf::parse_split(&rebased[0], &base).unwrap();
        let b = Builder::from_btf(&split).unwrap();
        let split_be = encode(&b, &be);
        Btf::parse_split(&split_be, &base_be_btf).expect("big-endian split parses");
        out.seed(
            "parse_split",
            "base-be+module-be",
            &pair(&base_be, &split_be),
        );
        // A split of every kind on the tiny blob.
        let tiny = btf_core::testing::tiny_blob();
        let tiny_btf = Btf::parse(&tiny).unwrap();
        let mut sb = Builder::split(&tiny_btf);
        add_all_kinds(&mut sb, TypeId::new(1), false);
        out.seed(
            "parse_split",
            "tiny+all-kinds",
            &pair(&tiny, &encode(&sb, &le)),
        );
    }

    // --- elf: small .ko files, llc objects, synthetic files.
    let mut kos: Vec<(u64, PathBuf)> = std::fs::read_dir(corpus.join("ko"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| (e.metadata().map(|m| m.len()).unwrap_or(u64::MAX), e.path()))
                .collect()
        })
        .unwrap_or_default();
    kos.sort();
    for (_, path) in kos.iter().take(4) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        out.seed("elf", &name, &std::fs::read(path).unwrap());
    }
    for (arch, obj) in llc_objects() {
        out.seed("elf", &format!("llc-{arch}.o"), &obj);
    }
    out.seed(
        "elf",
        "synthetic-64le-module-with-base",
        &elf(
            true,
            false,
            62,
            &[
                Section::progbits(".text", b"\x90"),
                Section::progbits(".BTF", &rebased[0]),
                Section::progbits(".BTF.base", &base_bytes),
            ],
        ),
    );
    split_elf_seeds(&fuzz, &out);
    out.seed(
        "elf",
        "synthetic-32be-all-kinds",
        &elf(
            false,
            true,
            22,
            &[
                Section::progbits(".BTF", &all_kinds(false, &be)),
                Section::progbits(".BTF.ext", b"\xeb\x9f\x01\x00ext"),
            ],
        ),
    );
    out.seed(
        "elf",
        "synthetic-64be-layout",
        &elf(
            true,
            true,
            247,
            &[Section::progbits(".BTF", &all_kinds(true, &be_layout))],
        ),
    );

    // --- structured and modules decode their input with `arbitrary`:
    // fixed pseudo-random bytes of a few sizes start them off.
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    for target in ["structured", "modules"] {
        for (i, len) in [16usize, 64, 256, 512, 1024, 4096].into_iter().enumerate() {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng as u8
                })
                .collect();
            out.seed(target, &format!("random-{i}-{len}"), &bytes);
        }
    }
    eprintln!("wrote seeds under {}", fuzz.join("corpus").display());
}

/// `elf` seeds `split-<module>.ko`: a minimal x86-64 relocatable object
/// (`.text`, `.modinfo`, `.BTF`) whose `.BTF` is `data/module-N.btf`, split
/// on `data/base.btf`, with no `.BTF.base`: the `elf` target parses it on
/// the base it embeds, as the kernel parses a module on vmlinux.
fn split_elf_seeds(fuzz: &Path, out: &Out) {
    let base_bytes = std::fs::read(fuzz.join("data/base.btf")).expect("data/base.btf");
    let base = Btf::parse(&base_bytes).expect("data/base.btf parses");
    for (i, name) in MODULES.iter().enumerate() {
        let btf = std::fs::read(fuzz.join(format!("data/module-{i}.btf"))).expect("module");
        Btf::parse_split(&btf, &base).expect("data/module-N.btf parses on data/base.btf");
        let modinfo = format!("license=GPL\0name={name}\0");
        let obj = elf(
            true,
            false,
            62,
            &[
                Section::progbits(".text", b"\xc3"),
                Section::progbits(".modinfo", modinfo.as_bytes()),
                Section::progbits(".BTF", &btf),
            ],
        );
        out.seed("elf", &format!("split-{name}.ko"), &obj);
    }
}

struct Out(PathBuf);

impl Out {
    fn new(fuzz: &Path) -> Out {
        Out(fuzz.join("corpus"))
    }

    fn seed(&self, target: &str, name: &str, bytes: &[u8]) {
        if bytes.len() > MAX_SEED {
            eprintln!("skipping {target}/{name}: {} bytes", bytes.len());
            return;
        }
        let dir = self.0.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn read_module(corpus: &Path, name: &str) -> Vec<u8> {
    std::fs::read(corpus.join("modules").join(format!("{name}.btf"))).expect(name)
}

fn encode(b: &Builder<'_>, opts: &EncodeOptions) -> Vec<u8> {
    b.encode(opts).unwrap_or_else(|e| panic!("encode: {e}"))
}

fn reencode(btf: &Btf<'_>, opts: &EncodeOptions) -> Vec<u8> {
    encode(&Builder::from_btf(btf).unwrap(), opts)
}

/// The ids a record refers to.
fn refs(t: &btf_core::Type<'_>) -> Vec<TypeId> {
    let mut out: Vec<TypeId> = t.referenced_type().into_iter().collect();
    match t.as_kind() {
        TypeKind::Array(a) => out.extend([a.elem, a.index]),
        TypeKind::Struct(c) | TypeKind::Union(c) => out.extend(c.members().map(|m| m.ty())),
        TypeKind::FuncProto(p) => out.extend(p.params().map(|p| p.ty())),
        TypeKind::Datasec(d) => out.extend(d.entries().map(|e| e.ty())),
        _ => {}
    }
    out.retain(|id| !id.is_void());
    out
}

/// Copies vmlinux type `id` into `b`, structs and unions without members.
fn distill(
    vm: &Btf<'_>,
    b: &mut Builder<'_>,
    memo: &mut HashMap<u32, TypeId>,
    id: TypeId,
) -> TypeId {
    if id.is_void() {
        return id;
    }
    if let Some(&n) = memo.get(&id.get()) {
        return n;
    }
    let t = vm.type_by_id(id).unwrap();
    let name = t.name_bytes();
    let mut sub = |x: TypeId, b: &mut Builder<'_>| distill(vm, b, memo, x);
    let new = match t.as_kind() {
        TypeKind::Struct(c) => b.add_struct(name, c.size(), &[]),
        TypeKind::Union(c) => b.add_union(name, c.size(), &[]),
        TypeKind::Int(_)
        | TypeKind::Float(_)
        | TypeKind::Enum(_)
        | TypeKind::Enum64(_)
        | TypeKind::Fwd(_) => b.copy_type(&t).unwrap(),
        TypeKind::Ptr(x) => {
            let x = sub(x, b);
            b.add_ptr(x)
        }
        TypeKind::Const(x) => {
            let x = sub(x, b);
            b.add_const(x)
        }
        TypeKind::Volatile(x) => {
            let x = sub(x, b);
            b.add_volatile(x)
        }
        TypeKind::Restrict(x) => {
            let x = sub(x, b);
            b.add_restrict(x)
        }
        TypeKind::Typedef(x) => {
            let x = sub(x, b);
            b.add_typedef(name, x)
        }
        TypeKind::TypeTag(tt) => {
            let x = sub(tt.ty, b);
            b.add_type_tag(name, x)
        }
        TypeKind::Array(a) => {
            let (e, i) = (sub(a.elem, b), sub(a.index, b));
            b.add_array(e, i, a.nelems)
        }
        TypeKind::FuncProto(p) => {
            let ret = sub(p.return_type(), b);
            let params: Vec<(Vec<u8>, TypeId)> = p
                .params()
                .map(|a| (a.name_bytes().expect("parameter name").to_vec(), a.ty()))
                .collect::<Vec<_>>()
                .into_iter()
                .map(|(n, ty)| (n, sub(ty, b)))
                .collect();
            let defs: Vec<ParamDef<'_>> = params
                .iter()
                .map(|(n, ty)| ParamDef::new(&n[..], *ty))
                .collect();
            b.add_func_proto(ret, &defs)
        }
        TypeKind::Func(f) => {
            let p = sub(f.proto, b);
            b.add_func(name, p, f.linkage)
        }
        TypeKind::Var(v) => {
            let x = sub(v.ty, b);
            b.add_var(name, x, v.linkage)
        }
        other => panic!("cannot distill {other:?}"),
    };
    memo.insert(id.get(), new);
    new
}

/// Re-adds a module's own types on `base`, vmlinux references mapped
/// through `memo`, own references shifted to the new first id.
fn rebase(m: &Btf<'_>, base: &Btf<'_>, memo: &HashMap<u32, TypeId>) -> Vec<u8> {
    let mut b = Builder::split(base);
    let old_first = m.first_id().get();
    let new_first = b.first_id().get();
    let map = |x: u32| -> u32 {
        if x == 0 {
            0
        } else if x < old_first {
            memo[&x].get()
        } else {
            x - old_first + new_first
        }
    };
    for t in m.types() {
        let name_of = |bytes: &[u8], b: &mut Builder<'_>| {
            if bytes.is_empty() {
                0
            } else {
                b.add_str_bytes(bytes).get()
            }
        };
        let mut words = Vec::new();
        match t.as_kind() {
            TypeKind::Int(i) => words
                .push(u32::from(i.encoding) << 24 | u32::from(i.offset) << 16 | u32::from(i.bits)),
            TypeKind::Array(a) => words.extend([map(a.elem.get()), map(a.index.get()), a.nelems]),
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                for mb in c.members() {
                    let n = name_of(mb.name_bytes().expect("element name"), &mut b);
                    words.extend([n, map(mb.ty().get()), mb.raw_offset()]);
                }
            }
            TypeKind::Enum(e) => {
                for v in e.values() {
                    let n = name_of(v.name_bytes().expect("element name"), &mut b);
                    words.extend([n, v.raw_value()]);
                }
            }
            TypeKind::Enum64(e) => {
                for v in e.values() {
                    let n = name_of(v.name_bytes().expect("element name"), &mut b);
                    let x = v.raw_value();
                    words.extend([n, x as u32, (x >> 32) as u32]);
                }
            }
            TypeKind::FuncProto(p) => {
                for a in p.params() {
                    let n = name_of(a.name_bytes().expect("element name"), &mut b);
                    words.extend([n, map(a.ty().get())]);
                }
            }
            TypeKind::Var(v) => words.push(v.linkage.0),
            TypeKind::DeclTag(d) => words.push(d.component_idx as u32),
            TypeKind::Datasec(d) => {
                for e in d.entries() {
                    words.extend([map(e.ty().get()), e.offset(), e.size()]);
                }
            }
            _ => {}
        }
        let st = if t.kind().has_type() {
            map(t.size_or_type())
        } else {
            t.size_or_type()
        };
        let name = t.name_bytes();
        b.add_raw(&RawRecord {
            name: name.into(),
            kind: t.kind(),
            kflag: t.kflag(),
            vlen: t.vlen(),
            size_or_type: st,
            tail: &words,
        });
    }
    encode(&b, &EncodeOptions::new(Endian::Little))
}

/// A blob with a type of every kind (and, with `unknown`, a record of kind
/// 20 sized by the layout section).
fn all_kinds(unknown: bool, opts: &EncodeOptions) -> Vec<u8> {
    let mut b = Builder::new();
    let int = b.add_int("int", 4, wire::INT_SIGNED);
    add_all_kinds(&mut b, int, unknown);
    encode(&b, opts)
}

fn add_all_kinds(b: &mut Builder<'_>, int: TypeId, unknown: bool) {
    let uint = b.add_int("unsigned int", 4, 0);
    let ch = b.add_int("char", 1, wire::INT_CHAR);
    let bool_ = b.add_int("_Bool", 1, wire::INT_BOOL);
    let long = b.add_int("long", 8, wire::INT_SIGNED);
    let fwd = b.add_fwd_struct("opaque");
    b.add_fwd_union("opaque_u");
    let ptr = b.add_ptr(fwd);
    let arr = b.add_array(ch, int, 16);
    let s = b.add_struct(
        "point",
        24,
        &[
            MemberDef::new("x", int, 0),
            MemberDef::bitfield("flag", uint, 32, 1),
            MemberDef::bitfield("mode", uint, 33, 7),
            MemberDef::new("next", ptr, 64),
            MemberDef::new("", bool_, 128),
        ],
    );
    b.add_union(
        "either",
        16,
        &[MemberDef::new("p", s, 0), MemberDef::new("name", arr, 0)],
    );
    b.add_enum(
        "color",
        4,
        true,
        &[EnumeratorDef::new("RED", 0), EnumeratorDef::new("NONE", -1)],
    );
    b.add_enum64("big", 8, false, &[EnumeratorDef::unsigned("HUGE", 1 << 40)]);
    let td = b.add_typedef("point_t", s);
    let c = b.add_const(td);
    let v = b.add_volatile(c);
    let r = b.add_restrict(v);
    let tt = b.add_type_tag("user", r);
    b.add_type_attr("noderef", tt);
    let proto = b.add_func_proto(int, &[ParamDef::new("fd", int), ParamDef::variadic()]);
    let f = b.add_func("my_ioctl", proto, Linkage::GLOBAL);
    b.add_decl_tag("tagged", f, -1);
    b.add_decl_attr("nonnull", f, 0);
    let var = b.add_var("counter", long, Linkage::GLOBAL);
    b.add_datasec(
        ".data",
        8,
        &[SecinfoDef {
            ty: var,
            offset: 0,
            size: 8,
        }],
    );
    b.add_float("double", 8);
    if unknown {
        b.set_kind_layout(Kind::new(20), 4, 8);
        b.add_raw(&RawRecord {
            name: "future".into(),
            kind: Kind::new(20),
            kflag: false,
            vlen: 2,
            size_or_type: 0,
            tail: &[7, 1, 2, 3, 4],
        });
    }
}

/// BPF objects built by `llc` from LLVM IR (as btf-core/tests/elf.rs does),
/// or none when llc is missing.
fn llc_objects() -> Vec<(&'static str, Vec<u8>)> {
    let tmp = std::env::temp_dir().join(format!("btf-fuzz-seedgen-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let ir = tmp.join("prog.ll");
    std::fs::write(&ir, BPF_IR).unwrap();
    let mut out = Vec::new();
    for arch in ["bpfel", "bpfeb"] {
        let obj = tmp.join(format!("{arch}.o"));
        if elf_fixtures::llc(&ir, arch, &obj) {
            out.push((arch, std::fs::read(&obj).unwrap()));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    if out.is_empty() {
        eprintln!("llc not found or failed: no BPF object seeds");
    }
    out
}
