//! `btf_core::ext`: `.BTF.ext` records and BPF objects, on real objects
//! that clang-19 builds at test time from `tests/ext_progs/*.c` (both byte
//! orders) with every CO-RE builtin, and on hand-made and corrupted
//! `.BTF.ext` blobs. (`benches/tests/btf_ext.rs` compares with libbpf.)
#![cfg(feature = "elf")]

mod common;
mod dump_common;
mod elf_fixtures;

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
/// Object files by byte order.
type Objects = Vec<(Endian, Vec<u8>)>;

fn objects(tag: &str) -> Option<(TempDir, Objects)> {
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
        type Dumped = (Vec<u8>, Vec<(usize, String)>);
        let mut sections: BTreeMap<String, Dumped> = BTreeMap::new();
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

// ------------------------------------------------------------ hand-made

/// The strings of the hand-made `.BTF`, and their offsets.
const STRS: &[u8] = b"\0int\0.text\0prog\0f.c\0line\x000:1\x000\x002\0";
const INT: u32 = 1;
const TEXT: u32 = 5;
const FILE: u32 = 16;
const LINE: u32 = 20;
const A01: u32 = 25;
const A0: u32 = 29;
const A2: u32 = 31;

/// A `.BTF` with one type, `[1] INT 'int'`, and [`STRS`].
fn tiny_btf() -> Vec<u8> {
    let mut b = Vec::new();
    for w in [0x0001_eb9f_u32, 24, 0, 16, 16, STRS.len() as u32] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    for w in [INT, 1 << 24, 4, 32] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.extend_from_slice(STRS);
    b
}

/// A subsection: record size, then blocks of (section name, records).
fn sub(rec_size: u32, blocks: &[(u32, &[&[u32]])]) -> Vec<u32> {
    let mut w = vec![rec_size];
    for (name, records) in blocks {
        w.extend([*name, records.len() as u32]);
        for r in *records {
            w.extend_from_slice(r);
        }
    }
    w
}

/// A little-endian `.BTF.ext`: header of `hdr_len` bytes, then the
/// subsections back to back (core_relo only when `hdr_len` >= 32).
fn ext_blob(hdr_len: u32, subs: [&[u32]; 3]) -> Vec<u8> {
    let lens: Vec<u32> = subs.iter().map(|s| 4 * s.len() as u32).collect();
    let mut fields = vec![hdr_len, 0, lens[0], lens[0], lens[1]];
    fields.extend([lens[0] + lens[1], lens[2]]);
    let mut b = vec![0x9f, 0xeb, 1, 0];
    for f in fields {
        b.extend_from_slice(&f.to_le_bytes());
    }
    b.resize(hdr_len as usize, 0);
    let n = if hdr_len >= 32 { 3 } else { 2 };
    for s in &subs[..n] {
        for w in *s {
            b.extend_from_slice(&w.to_le_bytes());
        }
    }
    b
}

fn good_subs() -> [Vec<u32>; 3] {
    [
        sub(8, &[(TEXT, &[&[0, INT], &[16, INT]])]),
        sub(16, &[(TEXT, &[&[0, FILE, LINE, 3 << 10 | 2]])]),
        sub(16, &[(TEXT, &[&[8, INT, A0, 9], &[16, INT, A01, 0]])]),
    ]
}

fn good_blob() -> Vec<u8> {
    let s = good_subs();
    ext_blob(32, [&s[0], &s[1], &s[2]])
}

#[test]
fn hand_made_blob_both_orders() {
    let btf_bytes = tiny_btf();
    let btf = Btf::parse(&btf_bytes).unwrap();
    let le = good_blob();
    let be = swap_ext(&le);
    for (endian, blob) in [(Endian::Little, &le), (Endian::Big, &be)] {
        let ext = BtfExt::parse(blob, &btf).unwrap_or_else(|e| panic!("{endian:?}: {e}"));
        assert_eq!(ext.endian(), endian);
        let funcs: Vec<_> = ext
            .func_infos()
            .blocks()
            .flat_map(|b| b.records())
            .collect();
        assert_eq!(funcs.len(), 2);
        assert_eq!(
            (funcs[1].insn_off, funcs[1].insn_index(), funcs[1].type_id),
            (16, 2, TypeId::new(INT))
        );
        let block = ext.line_infos().blocks().next().unwrap();
        assert_eq!(block.name(&btf), Ok(".text"));
        assert_eq!((block.index(), block.offset(), block.len()), (0, 64, 1));
        let line = block.get(0).unwrap();
        assert_eq!((line.line(), line.column()), (3, 2));
        assert_eq!(btf.str_at(line.file_name_off), Ok("f.c"));
        assert_eq!(block.get(1), None);
        let relos: Vec<CoreRelo> = ext
            .core_relos()
            .blocks()
            .flat_map(|b| b.records())
            .collect();
        assert_eq!(relos[0].kind, CoreReloKind::TypeSize);
        assert_eq!(relos[0].access_spec(&btf).unwrap().as_str(), "0");
        assert_eq!(
            relos[1]
                .access_spec(&btf)
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            [0, 1]
        );
        // Records come back to front too.
        let back: Vec<CoreRelo> = ext
            .core_relos()
            .blocks()
            .next()
            .unwrap()
            .records()
            .rev()
            .collect();
        assert_eq!(back, [relos[1], relos[0]]);
    }
    // A 24-byte header has no core_relo: whatever follows is not read.
    let s = good_subs();
    let short = ext_blob(24, [&s[0], &s[1], &s[2]]);
    let ext = BtfExt::parse(&short, &btf).unwrap();
    assert!(ext.header().core_relo.is_none() && ext.core_relos().is_empty());
    assert_eq!(ext.core_relos().blocks().count(), 0);
    // Empty subsections are allowed (but not all of the data).
    let some = ext_blob(32, [&[], &s[1], &[]]);
    let ext = BtfExt::parse(&some, &btf).unwrap();
    assert!(ext.func_infos().is_empty() && ext.core_relos().is_empty());
    assert_eq!(ext.line_infos().record_count(), 1);
}

/// Each error, on a blob that has exactly that fault, names where.
#[test]
fn hand_made_errors_say_where() {
    let btf_bytes = tiny_btf();
    let btf = Btf::parse(&btf_bytes).unwrap();
    let parse = |b: &[u8]| BtfExt::parse(b, &btf).map(|_| ());
    let good = good_blob();
    let s = good_subs();
    let at = |section, block, record, offset| RecordAt {
        section,
        block,
        record,
        offset,
    };
    // Offsets in `good`: header 32; func_info at 32 (size word, block at
    // 36, records at 44); line_info at 60 (block at 64, record at 72);
    // core_relo at 88 (block at 92, records at 100 and 116).
    let with = |i: usize, v: u32| {
        let mut b = good.clone();
        b[i..i + 4].copy_from_slice(&v.to_le_bytes());
        b
    };

    assert_eq!(
        parse(&good[..7]),
        Err(ExtError::HeaderTruncated { len: 7, needed: 8 })
    );
    assert_eq!(
        parse(&good[..31]),
        Err(ExtError::HeaderTruncated {
            len: 31,
            needed: 32
        })
    );
    assert_eq!(parse(&good[..32]), Err(ExtError::NoData { len: 32 }));
    let mut bad = good.clone();
    bad[0] = 0x9e;
    assert_eq!(
        parse(&bad),
        Err(ExtError::BadMagic {
            found: [0x9e, 0xeb]
        })
    );
    bad = good.clone();
    bad[2] = 2;
    assert_eq!(
        parse(&bad),
        Err(ExtError::UnsupportedVersion { version: 2 })
    );
    bad = good.clone();
    bad[3] = 1;
    assert_eq!(parse(&bad), Err(ExtError::UnsupportedFlags { flags: 1 }));
    assert_eq!(
        parse(&with(4, 16)),
        Err(ExtError::HeaderTooShort { hdr_len: 16 })
    );

    use ExtSection::{CoreRelo as C, FuncInfo as F, LineInfo as L};
    assert_eq!(
        parse(&with(8, 2)),
        Err(ExtError::SectionMisaligned { section: F, off: 2 })
    );
    assert_eq!(
        parse(&with(20, 1000)),
        Err(ExtError::SectionOutOfBounds {
            section: L,
            off: 28,
            len: 1000,
            data_len: good.len()
        })
    );
    assert_eq!(
        parse(&with(24, u32::MAX - 3)),
        Err(ExtError::SectionOutOfBounds {
            section: C,
            off: u32::MAX - 3,
            len: 44,
            data_len: good.len()
        })
    );
    assert_eq!(
        parse(&with(12, 2)),
        Err(ExtError::RecordSizeMissing {
            section: F,
            offset: 32
        })
    );
    assert_eq!(
        parse(&with(12, 4)),
        Err(ExtError::NoRecords {
            section: F,
            offset: 32
        })
    );
    assert_eq!(
        parse(&with(32, 4)),
        Err(ExtError::BadRecordSize {
            section: F,
            offset: 32,
            rec_size: 4
        })
    );
    assert_eq!(
        parse(&with(60, 12)),
        Err(ExtError::BadRecordSize {
            section: L,
            offset: 60,
            rec_size: 12
        })
    );
    assert_eq!(
        parse(&with(88, 18)),
        Err(ExtError::BadRecordSize {
            section: C,
            offset: 88,
            rec_size: 18
        })
    );
    // func_info's length cut into its block's records, then into its header.
    assert_eq!(
        parse(&with(12, 24)),
        Err(ExtError::BlockTruncated {
            section: F,
            block: 0,
            offset: 36,
            needed: 24,
            left: 20
        })
    );
    assert_eq!(
        parse(&with(12, 8)),
        Err(ExtError::BlockTruncated {
            section: F,
            block: 0,
            offset: 36,
            needed: 8,
            left: 4
        })
    );
    assert_eq!(
        parse(&with(40, u32::MAX)),
        Err(ExtError::BlockTruncated {
            section: F,
            block: 0,
            offset: 36,
            needed: 8 + 8 * u64::from(u32::MAX),
            left: 24
        })
    );
    assert_eq!(
        parse(&with(96, 0)),
        Err(ExtError::EmptyBlock {
            section: C,
            block: 0,
            offset: 92
        })
    );
    // A second block, cut short.
    let two = sub(8, &[(TEXT, &[&[0, INT]]), (TEXT, &[&[8, INT]])]);
    let b = ext_blob(32, [&two[..two.len() - 1], &s[1], &s[2]]);
    assert_eq!(
        parse(&b),
        Err(ExtError::BlockTruncated {
            section: F,
            block: 1,
            offset: 52,
            needed: 16,
            left: 12
        })
    );

    let name = |off| StrOffset::new(off);
    assert_eq!(
        parse(&with(64, 0)),
        Err(ExtError::BadSectionName {
            section: L,
            block: 0,
            offset: 64,
            name_off: name(0)
        })
    );
    assert_eq!(
        parse(&with(36, 999)),
        Err(ExtError::BadSectionName {
            section: F,
            block: 0,
            offset: 36,
            name_off: name(999)
        })
    );
    assert_eq!(
        parse(&with(76, 999)),
        Err(ExtError::StringOutOfRange {
            at: at(L, 0, 0, 72),
            field: StrField::FileName,
            str_off: name(999)
        })
    );
    assert_eq!(
        parse(&with(80, STRS.len() as u32)),
        Err(ExtError::StringOutOfRange {
            at: at(L, 0, 0, 72),
            field: StrField::Line,
            str_off: name(STRS.len() as u32)
        })
    );
    assert_eq!(
        parse(&with(124, 999)),
        Err(ExtError::StringOutOfRange {
            at: at(C, 0, 1, 116),
            field: StrField::AccessString,
            str_off: name(999)
        })
    );
    assert_eq!(
        parse(&with(56, 2)),
        Err(ExtError::DanglingType {
            at: at(F, 0, 1, 52),
            type_id: TypeId::new(2)
        })
    );
    assert_eq!(
        parse(&with(104, 7)),
        Err(ExtError::DanglingType {
            at: at(C, 0, 0, 100),
            type_id: TypeId::new(7)
        })
    );
    assert_eq!(
        parse(&with(52, 12)),
        Err(ExtError::InsnMisaligned {
            at: at(F, 0, 1, 52),
            insn_off: 12
        })
    );
    assert_eq!(
        parse(&with(72, 1)),
        Err(ExtError::InsnMisaligned {
            at: at(L, 0, 0, 72),
            insn_off: 1
        })
    );
    let err = parse(&with(116, 4)).unwrap_err();
    assert_eq!(
        err,
        ExtError::InsnMisaligned {
            at: at(C, 0, 1, 116),
            insn_off: 4
        }
    );
    assert_eq!(
        err.to_string(),
        ".BTF.ext core_relo block 0 record 1 (offset 116): insn_off 4 is not a multiple of 8"
    );
    // Access strings: syntax, and the kind's rule.
    let access = |off, kind| {
        parse(&{
            let mut b = with(124, off);
            b[128..132].copy_from_slice(&u32::to_le_bytes(kind));
            b
        })
    };
    let bad_access = |error| ExtError::BadAccessString {
        at: at(C, 0, 1, 116),
        str_off: name(A01),
        error,
    };
    assert_eq!(
        access(A01, 8),
        Err(bad_access(AccessError::TypeBasedNotZero))
    );
    assert_eq!(
        access(A01, 11),
        Err(bad_access(AccessError::EnumvalNotSingle { len: 2 }))
    );
    assert!(access(A2, 11).is_ok() && access(A0, 12).is_ok() && access(A01, 99).is_ok());
    let bad = ExtError::BadAccessString {
        at: at(C, 0, 1, 116),
        str_off: name(TEXT),
        error: AccessError::ExpectedDigit { pos: 0 },
    };
    assert_eq!(access(TEXT, 0), Err(bad));
    assert_eq!(
        bad.to_string(),
        ".BTF.ext core_relo block 0 record 1 (offset 116): access string at string offset 5: expected a decimal digit at byte 0 of the access string"
    );
    let bad = ExtError::StringOutOfRange {
        at: at(C, 0, 1, 116),
        field: StrField::AccessString,
        str_off: name(0),
    };
    assert_eq!(
        access(0, 0),
        Err(ExtError::BadAccessString {
            at: bad_at(bad),
            str_off: name(0),
            error: AccessError::Empty
        })
    );
}

fn bad_at(e: ExtError) -> RecordAt {
    match e {
        ExtError::StringOutOfRange { at, .. } => at,
        _ => unreachable!(),
    }
}

/// Records larger than the known ones (a newer producer) are read by
/// their known prefix, in both byte orders.
#[test]
fn larger_records_are_read_by_their_prefix() {
    let Some((_tmp, objs)) = objects("ext-wide") else {
        return;
    };
    for (endian, file) in &objs {
        let found = BtfSections::parse(file).unwrap();
        let btf = Btf::parse(found.btf()).unwrap();
        let ext = BtfExt::parse(found.btf_ext().unwrap(), &btf).unwrap();
        let wide = widen(&ext, 8);
        let wider = BtfExt::parse(&wide, &btf).unwrap_or_else(|e| panic!("{endian:?}: {e}"));
        assert_eq!(wider.func_infos().rec_size(), 16);
        assert_eq!(wider.core_relos().rec_size(), 24);
        assert_eq!(records(ext.func_infos()), records(wider.func_infos()));
        assert_eq!(records(ext.line_infos()), records(wider.line_infos()));
        assert_eq!(records(ext.core_relos()), records(wider.core_relos()));
    }
}

fn records<R: ExtRecord>(info: Info<'_, R>) -> Vec<(u32, StrOffset, Vec<R>)> {
    info.blocks()
        .map(|b| (b.index(), b.name_off(), b.records().collect()))
        .collect()
}

/// Re-encodes `ext` with `extra` zero bytes after each record (and the
/// record sizes raised to match), in its byte order.
fn widen(ext: &BtfExt<'_>, extra: usize) -> Vec<u8> {
    let e = ext.endian();
    let word = |v: u32| match e {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    };
    let data = ext.data();
    let h = ext.header();
    let mut subs: Vec<Vec<u8>> = Vec::new();
    let mut one = |rec_size: u32, blocks: Vec<(u32, usize, usize)>| {
        let mut out = Vec::new();
        if !blocks.is_empty() {
            out.extend(word(rec_size + extra as u32));
            for (name, count, at) in blocks {
                out.extend(word(name));
                out.extend(word(count as u32));
                for i in 0..count {
                    let r = at + 8 + i * rec_size as usize;
                    out.extend_from_slice(&data[r..r + rec_size as usize]);
                    out.extend(std::iter::repeat_n(0, extra));
                }
            }
        }
        subs.push(out);
    };
    fn blocks<R: ExtRecord>(i: Info<'_, R>) -> Vec<(u32, usize, usize)> {
        i.blocks()
            .map(|b| (b.name_off().get(), b.len(), b.offset()))
            .collect()
    }
    one(ext.func_infos().rec_size(), blocks(ext.func_infos()));
    one(ext.line_infos().rec_size(), blocks(ext.line_infos()));
    one(ext.core_relos().rec_size(), blocks(ext.core_relos()));
    let mut out = data[..4].to_vec();
    let (f, l, c) = (
        subs[0].len() as u32,
        subs[1].len() as u32,
        subs[2].len() as u32,
    );
    for v in [32, 0, f, f, l, f + l, c] {
        out.extend(word(v));
    }
    assert_eq!(h.hdr_len, 32);
    for s in subs {
        out.extend(s);
    }
    out
}

// ------------------------------------------------------------ corrupted

/// Walks everything a parse accepted: every block name, record and
/// access string must read, every record must land in its section.
fn walk_all(ext: &BtfExt<'_>, btf: &Btf<'_>) -> usize {
    let mut n = 0;
    fn each<R: ExtRecord>(info: Info<'_, R>, btf: &Btf<'_>, f: impl Fn(&R)) -> usize {
        let mut n = 0;
        for block in info.blocks() {
            assert!(!block.name_bytes(btf).unwrap().is_empty());
            assert!(block.len() >= 1);
            assert_eq!(block.records().len(), block.len());
            for r in block.records() {
                assert_eq!(r.insn_off() % 8, 0);
                f(&r);
                n += 1;
            }
            assert!(block.get(block.len()).is_none());
        }
        assert_eq!(info.record_count(), n);
        n
    }
    n += each(ext.func_infos(), btf, |_| {});
    n += each(ext.line_infos(), btf, |l| {
        btf.str_bytes_at(l.file_name_off).unwrap();
        btf.str_bytes_at(l.line_off).unwrap();
    });
    n += each(ext.core_relos(), btf, |r| {
        let spec = r.access_spec(btf).unwrap();
        assert_eq!(spec.iter().count(), spec.len());
    });
    n
}

/// Every truncation and many byte changes of real `.BTF.ext` sections
/// (both byte orders), and of the whole object files: an error or a
/// consistent parse, never a panic.
#[test]
fn corrupted_real_ext_never_panics() {
    let Some((_tmp, objs)) = objects("ext-corrupt") else {
        return;
    };
    let mut outcomes = BTreeMap::<&str, usize>::new();
    for (endian, file) in &objs {
        let found = BtfSections::parse(file).unwrap();
        let btf = Btf::parse(found.btf()).unwrap();
        let ext = found.btf_ext().unwrap();
        let total = walk_all(&BtfExt::parse(ext, &btf).unwrap(), &btf);
        assert!(total > 50, "{endian:?}");
        let mut try_one = |bytes: &[u8]| {
            let key = match BtfExt::parse(bytes, &btf) {
                Ok(parsed) => {
                    walk_all(&parsed, &btf);
                    "ok"
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    "err"
                }
            };
            *outcomes.entry(key).or_default() += 1;
        };
        for n in 0..ext.len() {
            try_one(&ext[..n]);
        }
        let mut bytes = ext.to_vec();
        for i in 0..bytes.len() {
            let was = bytes[i];
            for v in [was ^ 0xff, was ^ 0x01, was ^ 0x80, 0, was.wrapping_add(4)] {
                bytes[i] = v;
                try_one(&bytes);
            }
            bytes[i] = was;
        }
        // The whole object: BpfObject maps what BtfExt accepted.
        let try_obj = |bytes: &[u8]| {
            if let Ok(obj) = BpfObject::parse(bytes) {
                if let Some(ext) = obj.ext() {
                    walk_all(ext, obj.btf());
                }
                for kind in [0, 1, 2] {
                    let checked = match kind {
                        0 => obj
                            .func_infos()
                            .all(|s| s.iter().count() == s.block().len()),
                        1 => obj
                            .line_infos()
                            .all(|s| s.iter().count() == s.block().len()),
                        _ => obj
                            .core_relos()
                            .all(|s| s.iter().count() == s.block().len()),
                    };
                    assert!(checked, "a record of an accepted object has no instruction");
                }
                for p in obj.programs() {
                    assert_eq!(p.insns().iter().count(), p.insns().len());
                }
            }
        };
        for n in (0..file.len()).step_by(3) {
            try_obj(&file[..n]);
        }
        let mut bytes = file.to_vec();
        for i in 0..bytes.len() {
            let was = bytes[i];
            for v in [was ^ 0xff, was ^ 0x04] {
                bytes[i] = v;
                try_obj(&bytes);
            }
            bytes[i] = was;
        }
    }
    eprintln!("corrupted .BTF.ext: {outcomes:?}");
    assert!(outcomes["ok"] > 100 && outcomes["err"] > 1000);
}

/// The object-level mapping errors: a block naming a section that holds
/// no code, and a record past the end of its section.
#[test]
fn unmapped_records_are_refused() {
    let Some((_tmp, objs)) = objects("ext-unmapped") else {
        return;
    };
    for (endian, file) in &objs {
        let found = BtfSections::parse(file).unwrap();
        let btf = Btf::parse(found.btf()).unwrap();
        let ext_bytes = found.btf_ext().unwrap();
        let ext_at = ext_bytes.as_ptr() as usize - file.as_ptr() as usize;
        let ext = BtfExt::parse(ext_bytes, &btf).unwrap();
        let put = |file: &mut Vec<u8>, at: usize, v: u32| {
            let b = match endian {
                Endian::Little => v.to_le_bytes(),
                Endian::Big => v.to_be_bytes(),
            };
            file[ext_at + at..ext_at + at + 4].copy_from_slice(&b);
        };
        // The first core_relo block names "license" (a data section): the
        // string is in .BTF, as the DATASEC's name.
        let block = ext.core_relos().blocks().next().unwrap();
        let strings = btf.strings();
        let license = strings
            .windows(9)
            .position(|w| w == b"\0license\0")
            .unwrap() as u32
            + 1;
        let mut bad = file.clone();
        put(&mut bad, block.offset(), license);
        let err = BpfObject::parse(&bad).unwrap_err();
        let ObjectError::NoProgramSection {
            section,
            block: 0,
            offset,
            name,
        } = err
        else {
            panic!("{endian:?}: {err:?}")
        };
        assert_eq!(
            (section, offset, name.to_string()),
            (ExtSection::CoreRelo, block.offset(), "license".into())
        );
        assert!(
            err.to_string()
                .contains("names section license, which is not a program section"),
            "{err}"
        );

        // Its second record points past the end of its section.
        let program = obj_program(file, block.name(&btf).unwrap());
        let mut bad = file.clone();
        let past = program as u32 * 8;
        put(&mut bad, block.record_offset(1), past);
        let err = BpfObject::parse(&bad).unwrap_err();
        assert_eq!(
            err,
            ObjectError::InsnOutOfRange {
                at: RecordAt {
                    section: ExtSection::CoreRelo,
                    block: 0,
                    record: 1,
                    offset: block.record_offset(1)
                },
                name: match err {
                    ObjectError::InsnOutOfRange { name, .. } => name,
                    _ => unreachable!(),
                },
                insn_off: past,
                insn_count: program,
            },
            "{endian:?}"
        );
        assert!(
            err.to_string().contains("is past the end of section"),
            "{err}"
        );
    }
}

/// The instruction count of the program section `name`.
fn obj_program(file: &[u8], name: &str) -> usize {
    let obj = BpfObject::parse(file).unwrap();
    obj.program_by_name(name.as_bytes()).unwrap().insns().len()
}

/// The local BTF a `BpfObject` parses dumps as bpftool dumps the object
/// file (`bpftool btf dump file X.o`), in both byte orders.
#[test]
fn local_btf_matches_bpftool() {
    let Some((tmp, objs)) = objects("ext-bpftool") else {
        return;
    };
    if !common::require(dump_common::have_bpftool(), "bpftool") {
        return;
    }
    for (endian, file) in &objs {
        let path = tmp.write(&format!("bpftool-{endian:?}.o"), file);
        let obj = BpfObject::parse(file).unwrap();
        let theirs = dump_common::bpftool_raw(&path, None);
        assert!(String::from_utf8_lossy(&theirs).contains("STRUCT 'task___old'"));
        dump_common::assert_same_dump(
            &dump_common::ours(obj.btf()),
            &theirs,
            &format!("clang-19 {endian:?} object"),
        );
    }
}

/// Hand-made ELF files (no clang needed): programs without `.BTF.ext`,
/// both byte orders; a 32-bit file; a program section of 12 bytes; a
/// `.BTF.ext` whose block names no program section.
#[test]
fn hand_made_objects() {
    use elf_fixtures::{Section, elf};
    const EM_BPF: u16 = 247;
    fn exec<'a>(name: &'a str, data: &'a [u8]) -> Section<'a> {
        Section {
            name,
            sh_type: 1,
            flags: 2 | 4,
            data,
        }
    }
    let btf = tiny_btf();
    // mov64 r1 = 7 (regs byte: dst 1 in the low nibble, little-endian);
    // exit.
    let code_le = [0xb7, 0x01, 0, 0, 7, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
    let code_be = [0xb7, 0x10, 0, 0, 0, 0, 0, 7, 0x95, 0, 0, 0, 0, 0, 0, 0];
    for (big, code) in [(false, code_le), (true, code_be)] {
        let blob = if big {
            btf_core::testing::tiny_blob_in(Endian::Big)
        } else {
            btf.clone()
        };
        let file = elf(
            true,
            big,
            EM_BPF,
            &[exec(".text", &code), Section::progbits(".BTF", &blob)],
        );
        let obj = BpfObject::parse(&file).unwrap();
        assert!(obj.ext().is_none());
        assert_eq!(obj.core_relos().count() + obj.func_infos().count(), 0);
        let p = obj.program_by_name(b".text").unwrap();
        assert_eq!(p.insns().len(), 2);
        let insn = p.insns().get(0).unwrap();
        assert_eq!(
            (insn.code, insn.dst_reg, insn.src_reg, insn.imm),
            (0xb7, 1, 0, 7),
            "big={big}"
        );
        assert_eq!(p.insns().get(2), None);
    }
    let file = elf(false, false, EM_BPF, &[Section::progbits(".BTF", &btf)]);
    assert_eq!(BpfObject::parse(&file).unwrap_err(), ObjectError::NotElf64);
    let file = elf(
        true,
        false,
        EM_BPF,
        &[exec("xdp", &[0; 12]), Section::progbits(".BTF", &btf)],
    );
    let err = BpfObject::parse(&file).unwrap_err();
    assert!(
        matches!(
            err,
            ObjectError::ProgramSize {
                index: 1,
                size: 12,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "program section xdp (index 1) has 12 bytes, not a multiple of 8"
    );
    // .BTF.ext naming ".text", which the file does not have.
    let ext = good_blob();
    let file = elf(
        true,
        false,
        EM_BPF,
        &[
            exec("prog", &code_le),
            Section::progbits(".BTF", &btf),
            Section::progbits(".BTF.ext", &ext),
        ],
    );
    let err = BpfObject::parse(&file).unwrap_err();
    let ObjectError::NoProgramSection {
        section: ExtSection::FuncInfo,
        block: 0,
        offset: 36,
        name,
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(name.as_bytes(), b".text");
    // With .text, of 2 instructions: the func_info record at insn_off 16
    // is past its end.
    let file = elf(
        true,
        false,
        EM_BPF,
        &[
            exec(".text", &code_le),
            Section::progbits(".BTF", &btf),
            Section::progbits(".BTF.ext", &ext),
        ],
    );
    let err = BpfObject::parse(&file).unwrap_err();
    let at = RecordAt {
        section: ExtSection::FuncInfo,
        block: 0,
        record: 1,
        offset: 52,
    };
    assert!(
        matches!(err, ObjectError::InsnOutOfRange { at: a, insn_off: 16, insn_count: 2, .. } if a == at),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        ".BTF.ext func_info block 0 record 1 (offset 52): insn_off 16 (instruction 2) is past the end of section .text (2 instructions)"
    );
}
