//! `btf_core::ext`: `.BTF.ext` records and BPF objects, on real objects
//! that clang-19 builds at test time from `tests/ext_progs/*.c` (both byte
//! orders) with every CO-RE builtin, and on hand-made and corrupted
//! `.BTF.ext` blobs. (`benches/tests/btf_ext.rs` compares with libbpf.)
#![cfg(feature = "elf")]

mod common;
mod dump_common;

use btf_core::elf::BtfSections;
use btf_core::ext::{
    AccessError, BpfObject, BtfExt, CoreRelo, CoreReloKind, ExtError, ExtRecord, ExtSection, Info,
    ObjectError, RecordAt, StrField,
};
use btf_core::{Btf, Endian, StrOffset, TypeId, TypeKind};
use dump_common::TempDir;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const CLANG: &str = "clang-19";
const PROGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ext_progs");

fn have_clang() -> bool {
    Command::new(CLANG)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds `tests/ext_progs/<name>.c` for `target` (bpf, bpfel, bpfeb)
/// into `dir`.
fn build(dir: &Path, name: &str, target: &str) -> PathBuf {
    let out = dir.join(format!("{name}-{target}.o"));
    let status = Command::new(CLANG)
        .args(["-g", "-O2", "-target", target, "-c"])
        .arg(Path::new(PROGS).join(format!("{name}.c")))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run clang-19");
    assert!(status.success(), "{CLANG} -target {target} {name}.c failed");
    out
}

/// The objects every test reads: core.c for bpfel and bpfeb, or `None`
/// (a recorded skip; a failure in CI) without clang-19.
fn objects(tag: &str) -> Option<(TempDir, Vec<(Endian, Vec<u8>)>)> {
    if !common::require(have_clang(), "clang-19 (Debian's clang-19)") {
        return None;
    }
    let tmp = TempDir::new(tag);
    let objs = [("bpfel", Endian::Little), ("bpfeb", Endian::Big)]
        .into_iter()
        .map(|(target, endian)| {
            let path = build(&tmp.0, "core", target);
            (endian, std::fs::read(path).unwrap())
        })
        .collect();
    Some((tmp, objs))
}

/// One line per record: what the object holds, independent of byte order.
fn describe(obj: &BpfObject<'_>) -> Vec<String> {
    let btf = obj.btf();
    let mut out = Vec::new();
    for site in obj.func_infos() {
        for (index, _, r) in site.iter() {
            let f = btf.type_by_id(r.type_id).unwrap();
            out.push(format!(
                "func {} #{index} {} {}",
                site.program().name().unwrap(),
                f.kind(),
                f.name().unwrap()
            ));
        }
    }
    for site in obj.line_infos() {
        for (index, _, r) in site.iter() {
            let file = btf.str_at(r.file_name_off).unwrap();
            let line = btf.str_at(r.line_off).unwrap();
            out.push(format!(
                "line {} #{index} {}:{}:{} {line}",
                site.program().name().unwrap(),
                Path::new(file).file_name().unwrap().to_str().unwrap(),
                r.line(),
                r.column()
            ));
        }
    }
    for site in obj.core_relos() {
        for (index, insn, r) in site.iter() {
            let t = btf.type_by_id(r.type_id).unwrap();
            let spec = r.access_spec(btf).unwrap();
            out.push(format!(
                "core {} #{index} code={:#04x} imm={} {} {} '{}' {spec}",
                site.program().name().unwrap(),
                insn.code,
                insn.imm,
                r.kind,
                t.kind(),
                t.name().unwrap()
            ));
        }
    }
    out
}

#[test]
fn real_objects_both_byte_orders() {
    let Some((_tmp, objs)) = objects("ext-real") else {
        return;
    };
    for (endian, file) in &objs {
        let obj = BpfObject::parse(file).unwrap_or_else(|e| panic!("{endian:?}: {e}"));
        assert_eq!(obj.endian(), *endian);
        assert_eq!(obj.btf().endian(), *endian);
        let ext = obj.ext().expect(".BTF.ext");
        assert_eq!(ext.endian(), *endian);
        assert_eq!(ext.header().hdr_len, 32);
        let names: Vec<_> = obj
            .programs()
            .map(|p| p.name().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                ".text",
                "kprobe/do_exit",
                "tracepoint/sched/sched_switch",
                "xdp"
            ]
        );
        let d = describe(&obj);
        let count = |prefix: &str| d.iter().filter(|l| l.starts_with(prefix)).count();
        assert_eq!((count("func "), count("core ")), (5, 19), "{endian:?}");
        assert!(count("line ") > 30, "{endian:?}");
        assert_eq!(ext.func_infos().record_count(), 5);
        assert_eq!(ext.core_relos().record_count(), 19);
        assert_eq!(
            (
                ext.func_infos().rec_size(),
                ext.line_infos().rec_size(),
                ext.core_relos().rec_size()
            ),
            (8, 16, 16)
        );
        // The same through BtfSections and BtfExt::parse, in place.
        let found = BtfSections::parse(file).unwrap();
        let btf = Btf::parse(found.btf()).unwrap();
        let again = BtfExt::parse(found.btf_ext().unwrap(), &btf).unwrap();
        assert_eq!(&again, ext);
        assert!(std::ptr::eq(again.data(), found.btf_ext().unwrap()));
        // Programs by name and index.
        for p in obj.programs() {
            assert_eq!(obj.program_by_name(p.name_bytes()), Some(p));
            assert_eq!(obj.program_by_index(p.index()), Some(p));
        }
        assert_eq!(obj.program_by_name(b"license"), None);
        assert_eq!(obj.program_by_name(b".BTF"), None);
    }
}

/// Kind names (as libbpf prints them) of each program section's CO-RE
/// relocations, sorted: what core.c asks for, whatever clang's order.
fn kinds_by_section(obj: &BpfObject<'_>) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for site in obj.core_relos() {
        let kinds = map
            .entry(site.program().name().unwrap().to_owned())
            .or_default();
        kinds.extend(site.block().records().map(|r| r.kind.to_string()));
        kinds.sort();
    }
    map
}

/// Follows an access string through the local BTF as far as clang's
/// local value needs: the member (or array element) it ends at, as (bit
/// offset from the root, bitfield size, member type).
fn walk_access(btf: &Btf<'_>, relo: &CoreRelo) -> (u64, u32, TypeId) {
    let spec = relo.access_spec(btf).unwrap();
    let mut ty = relo.type_id;
    let mut bit_off = 0u64;
    let mut bits = 0;
    let mut indices = spec.iter();
    let first = indices.next().unwrap();
    bit_off += u64::from(first) * u64::from(btf.size_of(ty).unwrap()) * 8;
    for i in indices {
        let t = btf.skip_mods_and_typedefs(ty).unwrap();
        match t.as_kind() {
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                let m = c.members().nth(i as usize).unwrap();
                bit_off += u64::from(m.bit_offset());
                bits = m.bitfield_size();
                ty = m.ty();
            }
            TypeKind::Array(a) => {
                ty = a.elem;
                bit_off += u64::from(i) * u64::from(btf.size_of(ty).unwrap()) * 8;
                bits = 0;
            }
            other => panic!("access {spec} steps into {other:?}"),
        }
    }
    (bit_off, bits, ty)
}

/// The value clang puts into the instruction for the local BTF, computed
/// here independently from the record and `.BTF` (libbpf's
/// `bpf_core_calc_field_relo` for the field kinds): checks that each record
/// lands on its instruction.
fn local_value(btf: &Btf<'_>, relo: &CoreRelo, endian: Endian) -> i64 {
    let size = |id| i64::from(btf.size_of(id).unwrap());
    match relo.kind {
        CoreReloKind::TypeIdLocal | CoreReloKind::TypeIdTarget => relo.type_id.get().into(),
        CoreReloKind::TypeExists
        | CoreReloKind::TypeMatches
        | CoreReloKind::FieldExists
        | CoreReloKind::EnumvalExists => 1,
        CoreReloKind::TypeSize => size(relo.type_id),
        CoreReloKind::EnumvalValue => {
            let t = btf.type_by_id(relo.type_id).unwrap();
            let TypeKind::Enum(e) = t.as_kind() else {
                panic!("{t:?}")
            };
            let first = relo.access_spec(btf).unwrap().first();
            e.values().nth(first as usize).unwrap().value().bits() as i64
        }
        CoreReloKind::FieldSigned => {
            let (_, _, ty) = walk_access(btf, relo);
            let t = btf.skip_mods_and_typedefs(ty).unwrap();
            let TypeKind::Int(i) = t.as_kind() else {
                panic!("{t:?}")
            };
            i.is_signed().into()
        }
        kind => {
            let (bit_off, bits, ty) = walk_access(btf, relo);
            let byte_sz = size(ty);
            // A bitfield is loaded by its type's size, aligned down.
            let byte_off = (bit_off as i64 / 8) / byte_sz * byte_sz;
            match kind {
                CoreReloKind::FieldByteOffset => byte_off,
                CoreReloKind::FieldByteSize => byte_sz,
                CoreReloKind::FieldRshiftU64 => {
                    64 - if bits == 0 { byte_sz * 8 } else { bits.into() }
                }
                CoreReloKind::FieldLshiftU64 => {
                    let bits = if bits == 0 { byte_sz * 8 } else { bits.into() };
                    let in_load = bit_off as i64 - byte_off * 8;
                    match endian {
                        Endian::Little => 64 - (in_load + bits),
                        Endian::Big => 64 - byte_sz * 8 + in_load,
                    }
                }
                other => panic!("no local value for {other}"),
            }
        }
    }
}

#[test]
fn records_land_on_their_instructions() {
    let Some((_tmp, objs)) = objects("ext-values") else {
        return;
    };
    let source = std::fs::read_to_string(Path::new(PROGS).join("core.c")).unwrap();
    let source: Vec<&str> = source.lines().collect();
    for (endian, file) in &objs {
        let obj = BpfObject::parse(file).unwrap();
        let btf = obj.btf();
        let want: BTreeMap<String, Vec<String>> = [
            (
                ".text",
                &[
                    "byte_off",
                    "byte_off",
                    "field_exists",
                    "lshift_u64",
                    "rshift_u64",
                    "signed",
                ][..],
            ),
            (
                "kprobe/do_exit",
                &["byte_off", "byte_off", "byte_sz", "field_exists"],
            ),
            (
                "tracepoint/sched/sched_switch",
                &[
                    "enumval_exists",
                    "enumval_value",
                    "local_type_id",
                    "target_type_id",
                    "type_exists",
                    "type_matches",
                    "type_size",
                ],
            ),
            ("xdp", &["byte_off", "byte_off"]),
        ]
        .into_iter()
        .map(|(s, k)| (s.to_owned(), k.iter().map(|k| k.to_string()).collect()))
        .collect();
        assert_eq!(kinds_by_section(&obj), want, "{endian:?}");

        let mut checked = 0;
        for site in obj.core_relos() {
            for (index, insn, relo) in site.iter() {
                let what = format!(
                    "{endian:?} {} #{index} {}",
                    site.program().name().unwrap(),
                    relo.kind
                );
                // ALU64 mov (0xb7) or ld_imm64 (0x18) of the local value.
                assert!(
                    matches!(insn.code, 0xb7 | 0x18),
                    "{what}: code {:#x}",
                    insn.code
                );
                assert_eq!(
                    i64::from(insn.imm),
                    local_value(btf, &relo, *endian),
                    "{what}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 19);

        // Every line record points at the source line it names.
        for site in obj.line_infos() {
            for (index, _, line) in site.iter() {
                let file = btf.str_at(line.file_name_off).unwrap();
                assert!(file.ends_with("core.c"), "{file}");
                let text = btf.str_at(line.line_off).unwrap();
                assert_eq!(
                    source[line.line() as usize - 1],
                    text,
                    "{endian:?} #{index}"
                );
                assert!(line.column() as usize <= text.len() + 1);
            }
        }
        // func_info: each FUNC's first instruction.
        let funcs: Vec<_> = obj
            .func_infos()
            .flat_map(|s| {
                let name = s.program().name().unwrap().to_owned();
                s.iter()
                    .map(move |(i, _, f)| {
                        (
                            name.clone(),
                            i,
                            btf.type_by_id(f.type_id)
                                .unwrap()
                                .name()
                                .unwrap()
                                .to_owned(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let text_second = funcs.iter().find(|f| f.2 == "bits").unwrap().1;
        assert_eq!(
            funcs,
            [
                ("kprobe/do_exit".into(), 0, "exit_probe".into()),
                (".text".into(), 0, "old_pid".into()),
                (".text".into(), text_second, "bits".into()),
                ("tracepoint/sched/sched_switch".into(), 0, "types".into()),
                ("xdp".into(), 0, "parent_pid".into()),
            ]
        );
    }
}

#[test]
fn bpfel_and_bpfeb_agree() {
    let Some((_tmp, objs)) = objects("ext-orders") else {
        return;
    };
    let [(_, le), (_, be)] = &objs[..] else {
        unreachable!()
    };
    let (le, be) = (BpfObject::parse(le).unwrap(), BpfObject::parse(be).unwrap());
    // The same records (the bitfield's left shift alone depends on the
    // byte order: 61 little, 32 big).
    let norm = |obj: &BpfObject<'_>| -> Vec<String> {
        describe(obj)
            .into_iter()
            .map(|l| {
                l.replace("imm=61 lshift_u64", "imm=? lshift_u64")
                    .replace("imm=32 lshift_u64", "imm=? lshift_u64")
            })
            .collect()
    };
    assert_eq!(norm(&le), norm(&be));
    assert!(
        describe(&le)
            .iter()
            .any(|l| l.contains("imm=61 lshift_u64"))
    );
    assert!(
        describe(&be)
            .iter()
            .any(|l| l.contains("imm=32 lshift_u64"))
    );
    // The same instructions, decoded (but the left shift); the register
    // nibbles swap places.
    let lshift: Vec<(String, usize)> = le
        .core_relos()
        .flat_map(|s| {
            let name = s.program().name().unwrap().to_owned();
            s.iter()
                .filter(|(_, _, r)| r.kind == CoreReloKind::FieldLshiftU64)
                .map(move |(i, _, _)| (name.clone(), i))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(lshift.len(), 1);
    let mut regs = 0;
    for (a, b) in le.programs().zip(be.programs()) {
        assert_eq!(a.name(), b.name());
        assert_eq!(a.insns().len(), b.insns().len());
        for (i, (x, mut y)) in a.insns().iter().zip(b.insns().iter()).enumerate() {
            if lshift.contains(&(a.name().unwrap().to_owned(), i)) {
                assert_eq!((x.imm, y.imm), (61, 32));
                y.imm = x.imm;
            }
            assert_eq!(x, y, "{:?} #{i}", a.name());
            let (rx, ry) = (a.insns().as_slice()[i].regs, b.insns().as_slice()[i].regs);
            assert_eq!(rx, ry.rotate_left(4));
            regs += usize::from(x.dst_reg != x.src_reg);
        }
    }
    assert!(regs > 10);
    // bpfeb's .BTF.ext is bpfel's with every field swapped.
    let (le_ext, be_ext) = (le.ext().unwrap().data(), be.ext().unwrap().data());
    assert_eq!(swap_ext(le_ext), be_ext);
}

/// Swaps a `.BTF.ext` into the other byte order: the magic, then every
/// field is a 32-bit word (the header's version and flags are bytes, and
/// sit in the magic's word).
fn swap_ext(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    out.swap(0, 1);
    for w in out[4..].chunks_exact_mut(4) {
        w.reverse();
    }
    out
}

/// The instructions and function symbols as llvm-objdump prints them.
#[test]
fn program_sections_match_llvm_objdump() {
    let Some((tmp, objs)) = objects("ext-objdump") else {
        return;
    };
    let have = Command::new("llvm-objdump").arg("--version").output();
    if !common::require(
        have.is_ok_and(|o| o.status.success()),
        "llvm-objdump (Debian's llvm)",
    ) {
        return;
    }
    for (endian, file) in &objs {
        let path = tmp.write(&format!("dump-{endian:?}.o"), file);
        let out = Command::new("llvm-objdump")
            .arg("-d")
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        // section name -> (raw bytes, [(insn index, symbol)])
        let mut sections: BTreeMap<String, (Vec<u8>, Vec<(usize, String)>)> = BTreeMap::new();
        let mut current = None;
        for line in text.lines() {
            if let Some(name) = line
                .strip_prefix("Disassembly of section ")
                .and_then(|l| l.strip_suffix(':'))
            {
                current = Some(name.to_owned());
                sections.entry(name.to_owned()).or_default();
            } else if let Some(sym) = line.strip_suffix(">:") {
                let (addr, name) = sym.split_once(" <").unwrap();
                let addr = usize::from_str_radix(addr, 16).unwrap();
                let s = sections.get_mut(current.as_ref().unwrap()).unwrap();
                s.1.push((addr / 8, name.to_owned()));
            } else if let (Some(current), Some((_, rest))) = (&current, line.split_once(":\t")) {
                let hex = rest.split('\t').next().unwrap();
                let s = sections.get_mut(current).unwrap();
                s.0.extend(hex.split(' ').map(|b| u8::from_str_radix(b, 16).unwrap()));
            }
        }
        let obj = BpfObject::parse(file).unwrap();
        let ours: BTreeMap<String, Vec<u8>> = obj
            .programs()
            .map(|p| {
                let bytes = p.insns().as_slice().iter().flat_map(|i| {
                    let mut b = vec![i.code, i.regs];
                    b.extend_from_slice(&i.off.0);
                    b.extend_from_slice(&i.imm.0);
                    b
                });
                (p.name().unwrap().to_owned(), bytes.collect())
            })
            .collect();
        let theirs: BTreeMap<String, Vec<u8>> = sections
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        assert_eq!(ours, theirs, "{endian:?}");
        // Every function llvm-objdump names has its func_info record there.
        let mut funcs: Vec<(String, usize, String)> = Vec::new();
        for site in obj.func_infos() {
            for (i, _, f) in site.iter() {
                let name = obj
                    .btf()
                    .type_by_id(f.type_id)
                    .unwrap()
                    .name()
                    .unwrap()
                    .to_owned();
                funcs.push((site.program().name().unwrap().to_owned(), i, name));
            }
        }
        let mut syms: Vec<_> = sections
            .iter()
            .flat_map(|(s, v)| v.1.iter().map(move |(i, n)| (s.clone(), *i, n.clone())))
            .collect();
        funcs.sort();
        syms.sort();
        assert_eq!(funcs, syms, "{endian:?}");
    }
}
