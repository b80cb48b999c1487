//! `btf_core::min` on real data: the objects clang-19 builds from
//! `tests/ext_progs/{kernel,core,module}.c`, minimised against the running
//! kernel's vmlinux, Debian's (the corpus) and Debian's module BTF split
//! on it, in both output forms. Each object is relocated against the full
//! BTF and against the minimal one: every resolution and every patched
//! instruction must be identical (a `TYPE_ID_TARGET` value compared
//! through the type's origin, since ids are renumbered). The output is
//! compared with `bpftool gen min_core_btf` (Debian's bpftool) on the same
//! inputs: never larger, and every type bpftool keeps that it does not is
//! explained. (`benches/tests/min_libbpf.rs` checks the files with
//! libbpf's own relocation.)
#![cfg(feature = "elf")]

mod common;
mod dump_common;

use btf_core::ext::{BpfObject, CoreReloKind};
use btf_core::min::{Form, Minimized, Minimizer, Origin};
use btf_core::reloc::{Candidate, Patched, Relocated, Targets, relocate_object};
use btf_core::{Btf, Kind, TypeId, TypeKind};
use dump_common::TempDir;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const PROGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ext_progs");

/// The modules `min_modules.c` relocates against (each defines the types of
/// one of its programs).
const MODULES: [&str; 5] = ["ext4", "xfs", "fuse", "nf_tables", "btrfs"];

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The test objects for the host's byte order, with their paths, or
/// `None` after a recorded skip.
fn objects(tmp: &TempDir) -> Option<Vec<(String, PathBuf, Vec<u8>)>> {
    if !common::require(have("clang-19", "--version"), "clang-19") {
        return None;
    }
    let target = if cfg!(target_endian = "little") {
        "bpfel"
    } else {
        "bpfeb"
    };
    let mut out = Vec::new();
    for name in ["kernel", "core", "min_modules"] {
        let path = tmp.0.join(format!("{name}.o"));
        let status = Command::new("clang-19")
            .args(["-g", "-O2", "-target", target, "-c"])
            .arg(Path::new(PROGS).join(format!("{name}.c")))
            .arg("-o")
            .arg(&path)
            .status()
            .expect("run clang-19");
        assert!(status.success(), "clang-19 {name}.c");
        let bytes = std::fs::read(&path).unwrap();
        out.push((name.to_string(), path, bytes));
    }
    Some(out)
}

/// A candidate of the full targets as (target, id), with vmlinux's ids
/// always target 0.
fn full_key(vmlinux_last: u32, c: Candidate) -> (u32, TypeId) {
    if c.id.get() <= vmlinux_last {
        (0, c.id)
    } else {
        (c.target, c.id)
    }
}

/// A candidate of the minimal targets as the full one it came from.
fn min_key(min: &Minimized, c: Candidate) -> Option<(u32, TypeId)> {
    let split = c.target.checked_sub(1).map(|s| s as usize);
    min.origin(split, c.id)
        .map(|Origin { target, id }| (target, id))
}

/// Relocates `obj` against both and asserts that they agree everywhere;
/// returns (relocations, not poisoned).
fn assert_same(
    label: &str,
    obj: &BpfObject<'_>,
    full: &Targets<'_>,
    min_targets: &Targets<'_>,
    min: &Minimized,
) -> (usize, usize) {
    let vmlinux_last = full.vmlinux().btf().last_id().get();
    let a: Relocated<'_> = relocate_object(full, obj).unwrap_or_else(|e| panic!("{label}: {e}"));
    let b = relocate_object(min_targets, obj)
        .unwrap_or_else(|e| panic!("{label}: against the minimal BTF: {e}"));
    assert_eq!(a.outcomes.len(), b.outcomes.len(), "{label}");
    // Instructions holding a type id of the target: (section, insn).
    let mut id_insns = BTreeSet::new();
    let mut resolved = 0;
    for (x, y) in a.outcomes.iter().zip(&b.outcomes) {
        let at = format!(
            "{label}: section {} insn {} ({})",
            x.section, x.insn, x.relo.kind
        );
        assert_eq!(
            (x.section, x.insn, x.relo),
            (y.section, y.insn, y.relo),
            "{at}"
        );
        let (r, s) = (&x.resolution, &y.resolution);
        let ft = r.target.map(|c| full_key(vmlinux_last, c));
        let mt = s.target.map(|c| min_key(min, c).expect("origin"));
        assert_eq!(ft, mt, "{at}: candidate");
        assert_eq!(
            (
                r.kind,
                r.orig_val,
                r.poison,
                r.validate,
                r.fail_memsz_adjust
            ),
            (
                s.kind,
                s.orig_val,
                s.poison,
                s.validate,
                s.fail_memsz_adjust
            ),
            "{at}"
        );
        assert_eq!(
            (r.orig_size, r.new_size, r.orig_type_id),
            (s.orig_size, s.new_size, s.orig_type_id),
            "{at}"
        );
        let in_target = |res: &btf_core::reloc::Resolution, id: TypeId, full: bool| {
            let c = Candidate {
                target: res.target?.target,
                id,
            };
            (!id.is_void()).then(|| {
                if full {
                    Some(full_key(vmlinux_last, c))
                } else {
                    min_key(min, c)
                }
            })?
        };
        assert_eq!(
            in_target(r, r.new_type_id, true),
            in_target(s, s.new_type_id, false),
            "{at}: field type"
        );
        if r.kind == CoreReloKind::TypeIdTarget && !r.poison && r.target.is_some() {
            let id = |v: u64| TypeId::new(u32::try_from(v).unwrap());
            assert_eq!(
                in_target(r, id(r.new_val), true),
                in_target(s, id(s.new_val), false),
                "{at}: target id"
            );
            id_insns.insert((x.section, x.insn));
            let to = |p: &Patched| match *p {
                Patched::Imm { to, .. } => u64::from(to as u32),
                Patched::Imm64 { to, .. } => to,
                ref other => panic!("{at}: {other:?}"),
            };
            assert_eq!(to(&x.patched), r.new_val, "{at}");
            assert_eq!(to(&y.patched), s.new_val, "{at}");
        } else {
            assert_eq!(r.new_val, s.new_val, "{at}");
            assert_eq!(x.patched, y.patched, "{at}");
        }
        resolved += usize::from(!r.poison);
    }
    // Every patched byte, but for the type ids.
    assert_eq!(a.sections.len(), b.sections.len(), "{label}");
    for (x, y) in a.sections.iter().zip(&b.sections) {
        assert_eq!(x.program.index(), y.program.index(), "{label}");
        assert_eq!(x.code.len(), y.code.len(), "{label}");
        for (i, (p, q)) in x.code.chunks(8).zip(y.code.chunks(8)).enumerate() {
            let id_slot = id_insns.contains(&(x.program.index(), i))
                || (i > 0 && id_insns.contains(&(x.program.index(), i - 1)));
            if !id_slot {
                assert_eq!(p, q, "{label}: section {} insn {i}", x.program.index());
            }
        }
    }
    (a.outcomes.len(), resolved)
}

/// The minimal targets of `min`, parsed.
struct Parsed {
    base: Vec<u8>,
    splits: Vec<Vec<u8>>,
}

fn relocate_all(
    label: &str,
    objs: &[(String, PathBuf, Vec<u8>)],
    full: &Targets<'_>,
    min: &Minimized,
) -> BTreeMap<String, (usize, usize)> {
    let parsed = Parsed {
        base: min.btf.clone(),
        splits: min.splits.clone(),
    };
    let base = Btf::parse(&parsed.base).unwrap();
    base.validate().unwrap();
    let splits: Vec<Btf<'_>> = parsed
        .splits
        .iter()
        .map(|s| Btf::parse_split(s, &base).unwrap())
        .collect();
    let mut min_targets = Targets::named("minimal", &base);
    for s in &splits {
        s.validate().unwrap();
        min_targets = min_targets.with_module("minimal split", s);
    }
    let mut out = BTreeMap::new();
    for (name, _, bytes) in objs {
        let obj = BpfObject::parse(bytes).unwrap();
        let counts = assert_same(&format!("{label} {name}.o"), &obj, full, &min_targets, min);
        out.insert(name.clone(), counts);
    }
    out
}

fn minimise_vmlinux(label: &str, path: &Path, objs: &[(String, PathBuf, Vec<u8>)]) -> Minimized {
    let bytes = std::fs::read(path).unwrap();
    let vmlinux = Btf::parse(&bytes).unwrap();
    let parsed: Vec<BpfObject<'_>> = objs
        .iter()
        .map(|(_, _, b)| BpfObject::parse(b).unwrap())
        .collect();
    let min = Minimizer::new(&vmlinux).run(&parsed).unwrap();
    let full = Targets::new(&vmlinux);
    let counts = relocate_all(label, objs, &full, &min);
    eprintln!(
        "{label}: {} types, {} bytes (of {}), per object (relocations, resolved): {counts:?}",
        min.type_count(),
        min.btf.len(),
        bytes.len()
    );
    // The kernel object's relocations mostly resolve: the test means
    // something.
    let (relos, resolved) = counts["kernel"];
    assert!(relos >= 40 && resolved >= 30, "{label}: {counts:?}");
    assert_eq!(
        min.relocations(),
        counts.values().map(|c| c.0).sum::<usize>()
    );
    min
}

#[test]
fn debian_vmlinux_min_relocates_as_the_full_btf() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let tmp = TempDir::new("min-debian");
    let Some(objs) = objects(&tmp) else { return };
    let min = minimise_vmlinux("debian", &corpus.join("vmlinux.btf"), &objs);
    assert!(min.type_count() < 40, "{}", min.type_count());
}

#[test]
fn running_kernel_min_relocates_as_the_full_btf() {
    let path = Path::new("/sys/kernel/btf/vmlinux");
    if !common::require(path.is_file(), "/sys/kernel/btf/vmlinux") {
        return;
    }
    let tmp = TempDir::new("min-running");
    let Some(objs) = objects(&tmp) else { return };
    minimise_vmlinux("running", path, &objs);
}

/// The section of `min_modules.c` that relocates against `module`'s types.
fn section_of(module: &str) -> &'static str {
    match module {
        "ext4" => "kprobe/ext4",
        "xfs" => "kprobe/xfs",
        "fuse" => "kprobe/fuse",
        "nf_tables" => "kprobe/nft",
        _ => "kprobe/btrfs",
    }
}

#[test]
fn module_min_relocates_as_vmlinux_then_the_module() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let tmp = TempDir::new("min-modules");
    let Some(objs) = objects(&tmp) else { return };
    let vmlinux_bytes = std::fs::read(corpus.join("vmlinux.btf")).unwrap();
    let vmlinux = Btf::parse(&vmlinux_bytes).unwrap();
    let parsed: Vec<BpfObject<'_>> = objs
        .iter()
        .map(|(_, _, b)| BpfObject::parse(b).unwrap())
        .collect();
    let module_obj = &parsed[2];
    for module in MODULES {
        let bytes = std::fs::read(corpus.join(format!("modules/{module}.btf"))).unwrap();
        let split = Btf::parse_split(&bytes, &vmlinux).unwrap();
        let full = Targets::new(&vmlinux).with_module(module, &split);
        // The module's own program resolves against the module's types:
        // the check below compares real resolutions.
        let reference = relocate_object(&full, module_obj).unwrap();
        let section = module_obj
            .program_by_name(section_of(module).as_bytes())
            .unwrap()
            .index();
        let from_module = reference
            .outcomes
            .iter()
            .filter(|o| o.section == section && o.resolution.target.is_some_and(|c| c.target == 1))
            .count();
        assert!(
            from_module >= 2,
            "{module}: {from_module} relocations resolve in the module"
        );
        for form in [Form::Standalone, Form::Split] {
            let label = format!("{module} {form:?}");
            let min = Minimizer::new(&vmlinux)
                .with_module(module, &split)
                .form(form)
                .run(&parsed)
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            let counts = relocate_all(&label, &objs, &full, &min);
            let from = |t: u32| {
                (0..min.type_count() as u32)
                    .filter_map(|i| {
                        let id = TypeId::new(i + 1);
                        min.origin(None, id).or_else(|| min.origin(Some(0), id))
                    })
                    .filter(|o| o.target == t)
                    .count()
            };
            eprintln!(
                "{label}: {} types ({} from the module), {} + {:?} bytes: {counts:?}",
                min.type_count(),
                from(1),
                min.btf.len(),
                min.splits.iter().map(Vec::len).collect::<Vec<_>>()
            );
            assert!(from(1) >= 1, "{label}: no module type kept");
            match form {
                Form::Split => assert_eq!(min.splits.len(), 1),
                _ => assert!(min.splits.is_empty()),
            }
        }
    }
}

/// Named types of a blob by (kind, name), with member or enumerator names.
fn named_types(btf: &Btf<'_>) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for t in btf.types() {
        let name = t.name().unwrap().to_string();
        if name.is_empty() {
            continue;
        }
        let elems: BTreeSet<String> = match t.as_kind() {
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                c.members().map(|m| m.name().unwrap().to_string()).collect()
            }
            TypeKind::Enum(e) => e.values().map(|v| v.name().unwrap().to_string()).collect(),
            TypeKind::Enum64(e) => e.values().map(|v| v.name().unwrap().to_string()).collect(),
            _ => BTreeSet::new(),
        };
        out.insert((t.kind().to_string(), name), elems);
    }
    out
}

fn is_link(kind: &str) -> bool {
    [
        Kind::TYPEDEF,
        Kind::CONST,
        Kind::VOLATILE,
        Kind::RESTRICT,
        Kind::TYPE_TAG,
    ]
    .iter()
    .any(|k| k.to_string() == kind)
}

/// Ours against `bpftool gen min_core_btf` on `vmlinux` with the same
/// objects: at most as large; every named type bpftool keeps is ours too
/// unless it is a typedef or modifier (ours refers past them: every CO-RE
/// check skips them); we keep no named type bpftool does not; each kept
/// struct's members and each enum's enumerators are a subset of
/// bpftool's (we drop enumerators no relocation matched).
fn against_bpftool(
    label: &str,
    vmlinux_path: &Path,
    tmp: &TempDir,
    objs: &[(String, PathBuf, Vec<u8>)],
) {
    let out = tmp.0.join(format!("{label}.bpftool.btf"));
    let status = Command::new("bpftool")
        .args(["gen", "min_core_btf"])
        .arg(vmlinux_path)
        .arg(&out)
        .args(objs.iter().map(|(_, p, _)| p))
        .status()
        .expect("run bpftool");
    assert!(status.success(), "{label}: bpftool gen min_core_btf");
    let theirs_bytes = std::fs::read(&out).unwrap();
    let theirs = Btf::parse(&theirs_bytes).unwrap();
    let vmlinux_bytes = std::fs::read(vmlinux_path).unwrap();
    let vmlinux = Btf::parse(&vmlinux_bytes).unwrap();
    let parsed: Vec<BpfObject<'_>> = objs
        .iter()
        .map(|(_, _, b)| BpfObject::parse(b).unwrap())
        .collect();
    let min = Minimizer::new(&vmlinux).run(&parsed).unwrap();
    let ours = Btf::parse(&min.btf).unwrap();
    eprintln!(
        "{label}: ours {} types, {} bytes; bpftool {} types, {} bytes",
        ours.type_count(),
        min.btf.len(),
        theirs.type_count(),
        theirs_bytes.len()
    );
    assert!(
        min.btf.len() <= theirs_bytes.len(),
        "{label}: larger than bpftool's"
    );
    let (a, b) = (named_types(&ours), named_types(&theirs));
    let behind_dropped = behind_dropped_members(&theirs, &a);
    let mut skipped_links = Vec::new();
    let mut trimmed = Vec::new();
    for (key, elems) in &b {
        match a.get(key) {
            Some(mine) => assert!(
                mine.is_subset(elems),
                "{label}: {key:?} keeps {:?} beyond bpftool's",
                mine.difference(elems).collect::<Vec<_>>()
            ),
            None if is_link(&key.0) => skipped_links.push(key.1.clone()),
            None => {
                assert!(
                    behind_dropped.contains(key),
                    "{label}: bpftool keeps {key:?}, we do not (and not only behind members we drop)"
                );
                trimmed.push(key.1.clone());
            }
        }
    }
    let extra: Vec<_> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    assert!(
        extra.is_empty(),
        "{label}: we keep {extra:?}, bpftool does not"
    );
    eprintln!("{label}: typedefs and modifiers referred past: {skipped_links:?}");
    eprintln!("{label}: kept by bpftool only behind members we drop: {trimmed:?}");
}

/// The named types of bpftool's output reached (through any reference,
/// every member included) from members of its named structs and unions
/// that ours lacks: what bpftool keeps for `TYPE_MATCHES` (every member
/// of a matched struct, and what they reach) where we keep only the
/// members the comparison read.
fn behind_dropped_members(
    theirs: &Btf<'_>,
    ours: &BTreeMap<(String, String), BTreeSet<String>>,
) -> BTreeSet<(String, String)> {
    let mut work = Vec::new();
    for t in theirs.types() {
        let key = (t.kind().to_string(), t.name().unwrap().to_string());
        let (Some(mine), Some(members)) = (ours.get(&key), t.members()) else {
            continue;
        };
        for m in members {
            if !mine.contains(m.name().unwrap()) {
                work.push(m.ty());
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut out = BTreeSet::new();
    while let Some(id) = work.pop() {
        if id.is_void() || !seen.insert(id) {
            continue;
        }
        let t = theirs.type_by_id(id).unwrap();
        let name = t.name().unwrap();
        if !name.is_empty() {
            out.insert((t.kind().to_string(), name.to_string()));
        }
        match t.as_kind() {
            TypeKind::Struct(c) | TypeKind::Union(c) => work.extend(c.members().map(|m| m.ty())),
            TypeKind::FuncProto(p) => {
                work.push(p.return_type());
                work.extend(p.params().map(|p| p.ty()));
            }
            TypeKind::Array(a) => work.extend([a.elem, a.index]),
            _ => work.extend(t.referenced_type()),
        }
    }
    out
}

#[test]
fn compared_with_bpftool() {
    if !common::require(have("bpftool", "version"), "bpftool") {
        return;
    }
    let tmp = TempDir::new("min-bpftool");
    let Some(objs) = objects(&tmp) else { return };
    // All three objects (core.o's types are in no kernel: neither tool
    // keeps anything for it; min_modules.o's are in the running kernel, built
    // in, and not in Debian's vmlinux).
    if let Some(corpus) = common::corpus() {
        against_bpftool("debian", &corpus.join("vmlinux.btf"), &tmp, &objs);
    }
    let running = Path::new("/sys/kernel/btf/vmlinux");
    if common::require(running.is_file(), "/sys/kernel/btf/vmlinux") {
        against_bpftool("running", running, &tmp, &objs);
    }
}

/// Builds C source `src` (written to `name.c`) with clang-19 into an
/// object for the host's byte order.
fn build_source(tmp: &TempDir, name: &str, src: &str) -> Vec<u8> {
    let c = tmp.write(&format!("{name}.c"), src.as_bytes());
    let out = tmp.0.join(format!("{name}.o"));
    let target = if cfg!(target_endian = "little") {
        "bpfel"
    } else {
        "bpfeb"
    };
    let status = Command::new("clang-19")
        .args(["-g", "-O2", "-target", target, "-c", "-I", PROGS])
        .arg(&c)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run clang-19");
    assert!(status.success(), "clang-19 {name}.c");
    std::fs::read(out).unwrap()
}

/// The corner cases the real kernels do not reach, on a small target
/// (a C file's BTF as "vmlinux", and a module split on it written with
/// `btf_core::write`):
///
/// - a `TYPE_MATCHES` candidate that does not match (`void *p` against
///   `struct foo *p`) but is kept by a field relocation, with `p`'s
///   pointee dropped (void): it would match; the check finds it and the
///   output is written again with `struct foo` kept;
/// - a module `struct module` that a field path keeps, named like
///   vmlinux's `struct module`, which relocations resolve against: in
///   the standalone form it would become a candidate (and match
///   `other`, which vmlinux's lacks), so it is written anonymous; in the
///   split form vmlinux's `struct module` is kept (empty), so the search
///   still stops at vmlinux.
#[test]
fn corner_cases_on_a_small_target() {
    use btf_core::write::{Builder, EncodeOptions, MemberDef};
    let tmp = TempDir::new("min-corners");
    if !common::require(have("clang-19", "--version"), "clang-19") {
        return;
    }
    let target_obj = build_source(
        &tmp,
        "target",
        "struct foo { int a; };\n\
         struct holder { int x; struct foo *p; };\n\
         struct module { int refcnt; };\n\
         int use(struct holder *h, struct module *m) { return h->x + m->refcnt; }\n",
    );
    let prog = build_source(
        &tmp,
        "prog",
        "#include \"core.h\"\n\
         struct foo;\n\
         struct holder { struct foo *p; } __core;\n\
         struct holder___v { void *p; } __core;\n\
         struct module { long other; } __core;\n\
         struct ext { struct module m; } __core;\n\
         SEC(\"kprobe/a\") int a(struct holder *h)\n\
         { return field_byte_offset(h->p) + type_matches(struct holder___v); }\n\
         SEC(\"kprobe/b\") int b(struct ext *e)\n\
         { return field_byte_offset(e->m.other) + field_exists(((struct module *)e)->other); }\n\
         char _license[] SEC(\"license\") = \"GPL\";\n",
    );
    let sections = btf_core::elf::BtfSections::parse(&target_obj).unwrap();
    let vmlinux = Btf::parse(sections.btf()).unwrap();
    // The module: its own `struct module { long other; }`, held by value
    // in `struct ext`.
    let mut b = Builder::split(&vmlinux);
    let long = b.add_int("long", 8, btf_core::wire::INT_SIGNED);
    let module_struct = b.add_struct("module", 8, &[MemberDef::new("other", long, 0)]);
    b.add_struct("ext", 8, &[MemberDef::new("m", module_struct, 0)]);
    let module_bytes = b.encode(&EncodeOptions::default()).unwrap();
    let module = Btf::parse_split(&module_bytes, &vmlinux).unwrap();
    let objects = [BpfObject::parse(&prog).unwrap()];
    let full = Targets::new(&vmlinux).with_module("mod", &module);
    // What the full BTF says: no match for holder___v, `other` poisoned
    // (vmlinux has struct module, so the module is not searched).
    let reference = relocate_object(&full, &objects[0]).unwrap();
    let kinds: Vec<(CoreReloKind, bool, u64)> = reference
        .outcomes
        .iter()
        .map(|o| (o.relo.kind, o.resolution.poison, o.resolution.new_val))
        .collect();
    assert!(
        kinds.contains(&(CoreReloKind::TypeMatches, false, 0)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(CoreReloKind::FieldExists, false, 0)),
        "{kinds:?}"
    );
    let named = |min: &Minimized, btf: &Btf<'_>, name: &str| {
        btf.types()
            .filter(|t| t.name().is_ok_and(|n| n == name))
            .map(|t| min.origin(Some(0), t.id()).unwrap())
            .collect::<Vec<_>>()
    };
    for form in [Form::Standalone, Form::Split] {
        let label = format!("{form:?}");
        let min = Minimizer::new(&vmlinux)
            .with_module("mod", &module)
            .form(form)
            .run(&objects)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let base = Btf::parse(&min.btf).unwrap();
        let splits: Vec<Btf<'_>> = min
            .splits
            .iter()
            .map(|s| Btf::parse_split(s, &base).unwrap())
            .collect();
        let mut min_targets = Targets::named("minimal", &base);
        for s in &splits {
            min_targets = min_targets.with_module("minimal split", s);
        }
        assert_same(&label, &objects[0], &full, &min_targets, &min);
        // struct foo kept after the check found holder___v matching.
        assert_eq!(named(&min, &base, "foo").len(), 1, "{label}");
        let all: Vec<Origin> = match splits.first() {
            Some(s) => named(&min, &base, "module")
                .into_iter()
                .chain(named(&min, s, "module"))
                .collect(),
            None => named(&min, &base, "module"),
        };
        match form {
            // Only vmlinux's name is left; the module's struct is there,
            // anonymous.
            Form::Standalone => {
                assert!(all.iter().all(|o| o.target == 0), "{label}: {all:?}");
                assert!(
                    base.types().any(|t| t.name_bytes().is_empty()
                        && min
                            .origin(None, t.id())
                            .is_some_and(|o| o.id == module_struct)),
                    "{label}"
                );
            }
            // Both: vmlinux's (empty) stops the search at vmlinux.
            _ => assert_eq!(
                all.iter().map(|o| o.target).collect::<Vec<_>>(),
                [0, 1],
                "{label}: {all:?}"
            ),
        }
    }
}

/// The kernel's own BPF selftests with CO-RE relocations (558 of them,
/// `core_kern.c` alone 369), built with clang-19 against a `vmlinux.h`
/// bpftool writes from the running kernel, from a kernel source tree
/// named by `BTF_KSELFTESTS` (`…/tools/testing/selftests/bpf`, e.g.
/// Debian's `linux-source-6.12`; `<bpf/…>` headers from
/// `BTF_LIBBPF_HEADERS`, a libbpf `src` directory): minimised against the
/// running kernel and Debian's vmlinux, relocated against both the full
/// and the minimal BTF, and compared with bpftool. Run with
/// `BTF_KSELFTESTS=… BTF_LIBBPF_HEADERS=… cargo test -p btf-core
/// --features elf --test min -- --ignored`.
#[test]
#[ignore = "needs a kernel source tree: BTF_KSELFTESTS=<linux>/tools/testing/selftests/bpf"]
fn kernel_selftests_min_relocates_as_the_full_btf() {
    const PROGS: [&str; 8] = [
        "bpf_iter_bpf_map",
        "bpf_iter_task_vmas",
        "bpf_iter_udp4",
        "bpf_iter_unix",
        "core_kern",
        "netif_receive_skb",
        "test_core_autosize",
        "test_core_reloc_kernel",
    ];
    let (Some(selftests), Some(headers)) = (
        std::env::var_os("BTF_KSELFTESTS").map(PathBuf::from),
        std::env::var_os("BTF_LIBBPF_HEADERS").map(PathBuf::from),
    ) else {
        common::skipped("BTF_KSELFTESTS or BTF_LIBBPF_HEADERS is not set");
        return;
    };
    let tmp = TempDir::new("min-kself");
    let inc = tmp.0.join("include");
    std::fs::create_dir_all(inc.join("gnu")).unwrap();
    std::fs::write(inc.join("gnu/stubs-32.h"), "").unwrap();
    std::os::unix::fs::symlink(&headers, inc.join("bpf")).unwrap();
    let vmlinux_h = Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "c",
        ])
        .output()
        .expect("bpftool");
    assert!(vmlinux_h.status.success());
    std::fs::write(inc.join("vmlinux.h"), vmlinux_h.stdout).unwrap();
    let progs = selftests.join("progs");
    let objs: Vec<(String, PathBuf, Vec<u8>)> = PROGS
        .iter()
        .map(|p| {
            let out = tmp.0.join(format!("{p}.o"));
            let ok = Command::new("clang-19")
                .args([
                    "-g",
                    "-O2",
                    "-target",
                    "bpfel",
                    "-D__TARGET_ARCH_x86",
                    "-c",
                    "-I",
                ])
                .arg(&inc)
                .arg("-idirafter")
                .arg("/usr/include/x86_64-linux-gnu")
                .arg("-I")
                .arg(&progs)
                .arg("-I")
                .arg(&selftests)
                .arg(progs.join(format!("{p}.c")))
                .arg("-o")
                .arg(&out)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "clang-19 {p}.c");
            let bytes = std::fs::read(&out).unwrap();
            (p.to_string(), out, bytes)
        })
        .collect();
    let mut targets = vec![("running", PathBuf::from("/sys/kernel/btf/vmlinux"))];
    if let Some(corpus) = common::corpus() {
        targets.push(("debian", corpus.join("vmlinux.btf")));
    }
    for (label, path) in targets {
        let bytes = std::fs::read(&path).unwrap();
        let vmlinux = Btf::parse(&bytes).unwrap();
        let parsed: Vec<BpfObject<'_>> = objs
            .iter()
            .map(|(_, _, b)| BpfObject::parse(b).unwrap())
            .collect();
        let min = Minimizer::new(&vmlinux).run(&parsed).unwrap();
        let counts = relocate_all(label, &objs, &Targets::new(&vmlinux), &min);
        let (relos, resolved): (usize, usize) = counts
            .values()
            .fold((0, 0), |(a, b), &(x, y)| (a + x, b + y));
        eprintln!(
            "{label}: {relos} relocations ({resolved} not poisoned), {} types, {} bytes: {counts:?}",
            min.type_count(),
            min.btf.len()
        );
        assert!(relos > 500 && resolved > 300, "{label}");
        against_bpftool(label, &path, &tmp, &objs);
    }
}
