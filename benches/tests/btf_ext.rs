//! btf-core's `.BTF.ext` reader against libbpf 1.7's (`btf_ext__new`, and
//! `bpf_object__prepare`'s CO-RE log), on the objects clang-19 builds from
//! `btf-core/tests/ext_progs/core.c` for both byte orders:
//!
//! - libbpf accepts each `.BTF.ext`, and what it holds after swapping into
//!   the host's order reads, record for record, as ours read in place;
//! - every truncation and many byte changes of each: whenever we accept,
//!   libbpf accepts (but for the one documented difference: a foreign-order
//!   record size above the known one); whenever libbpf's `btf_ext__new`
//!   accepts and we refuse, it is for a check libbpf makes later, when it
//!   uses the records (or the kernel makes), never a structural one;
//! - as root, libbpf relocates the object against its own BTF and logs each
//!   section's CO-RE relocation count and, per relocation, its kind, root
//!   type, access string and the instruction it patches: all as ours.

#[path = "../../btf-core/tests/common/skip.rs"]
mod skip;

use btf_benches::ffi::{LibbpfBtfExt, libbpf_prepare_log};
use btf_core::Btf;
use btf_core::elf::BtfSections;
use btf_core::ext::{BpfObject, BtfExt, ExtError, ExtRecord, Info};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../btf-core/tests/ext_progs");

fn require(ok: bool, what: &str) -> bool {
    if !ok {
        skip::skipped(&format!("needs {what}, which is not available here"));
    }
    ok
}

struct Tmp(PathBuf);

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An object file: (clang target, path, bytes).
type Object = (&'static str, PathBuf, Vec<u8>);

/// core.c built for bpfel and bpfeb.
fn objects(tag: &str) -> Option<(Tmp, Vec<Object>)> {
    let have = Command::new("clang-19").arg("--version").output();
    if !require(
        have.is_ok_and(|o| o.status.success()),
        "clang-19 (Debian's clang-19)",
    ) {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("btf-benches-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tmp = Tmp(dir);
    let objs = ["bpfel", "bpfeb"]
        .into_iter()
        .map(|target| {
            let out = tmp.0.join(format!("core-{target}.o"));
            let status = Command::new("clang-19")
                .args(["-g", "-O2", "-target", target, "-c"])
                .arg(Path::new(PROGS).join("core.c"))
                .arg("-o")
                .arg(&out)
                .status()
                .unwrap();
            assert!(status.success(), "clang-19 -target {target}");
            let bytes = std::fs::read(&out).unwrap();
            (target, out, bytes)
        })
        .collect();
    Some((tmp, objs))
}

/// Every block and record, order-independent of the byte order.
fn records(ext: &BtfExt<'_>) -> Vec<String> {
    fn one<R: ExtRecord>(info: Info<'_, R>, out: &mut Vec<String>) {
        out.push(format!("rec_size {}", info.rec_size()));
        for b in info.blocks() {
            out.push(format!(
                "block {} name {} len {}",
                b.index(),
                b.name_off(),
                b.len()
            ));
            out.extend(b.records().map(|r| format!("{r:?}")));
        }
    }
    let mut out = Vec::new();
    one(ext.func_infos(), &mut out);
    one(ext.line_infos(), &mut out);
    one(ext.core_relos(), &mut out);
    out
}

#[test]
fn libbpf_reads_the_same_records() {
    let Some((_tmp, objs)) = objects("ext-same") else {
        return;
    };
    for (target, _, file) in &objs {
        let found = BtfSections::parse(file).unwrap();
        let btf = Btf::parse(found.btf()).unwrap();
        let ext_bytes = found.btf_ext().unwrap();
        let ours = BtfExt::parse(ext_bytes, &btf).unwrap();
        let mut theirs =
            LibbpfBtfExt::new(ext_bytes).unwrap_or_else(|e| panic!("{target}: errno {e}"));
        let native = theirs.native_bytes();
        if ours.endian() == btf_core::Endian::NATIVE {
            assert_eq!(native, ext_bytes, "{target}");
        } else {
            assert_ne!(native, ext_bytes, "{target}");
        }
        let swapped = BtfExt::parse(&native, &btf).unwrap();
        assert_eq!(swapped.endian(), btf_core::Endian::NATIVE);
        let (a, b) = (records(&ours), records(&swapped));
        assert_eq!(a, b, "{target}: libbpf's native copy reads otherwise");
        assert!(a.len() > 60, "{target}");
    }
}

/// Whether `e` is a check libbpf's `btf_ext__new` does not make (libbpf
/// makes it later, when it uses the records, or leaves it to the kernel).
fn beyond_btf_ext_new(e: &ExtError) -> bool {
    matches!(
        e,
        ExtError::BadSectionName { .. }
            | ExtError::StringOutOfRange { .. }
            | ExtError::DanglingType { .. }
            | ExtError::InsnMisaligned { .. }
            | ExtError::BadAccessString { .. }
    )
}

/// Whether some subsection's record size is not the known one, in a
/// foreign-order blob: libbpf refuses those, we read their prefix.
fn foreign_wide(ext: &BtfExt<'_>) -> bool {
    ext.endian() != btf_core::Endian::NATIVE
        && [
            (ext.func_infos().rec_size(), 8),
            (ext.line_infos().rec_size(), 16),
            (ext.core_relos().rec_size(), 16),
        ]
        .iter()
        .any(|&(size, known)| size != 0 && size != known)
}

#[test]
fn corrupted_ext_accepted_as_libbpf_accepts() {
    let Some((_tmp, objs)) = objects("ext-diff") else {
        return;
    };
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for (target, _, file) in &objs {
        let found = BtfSections::parse(file).unwrap();
        let btf = Btf::parse(found.btf()).unwrap();
        let ext = found.btf_ext().unwrap();
        let mut compare = |bytes: &[u8], what: &str| {
            let ours = BtfExt::parse(bytes, &btf);
            let theirs = LibbpfBtfExt::new(bytes);
            let key = match (&ours, &theirs) {
                (Ok(_), Ok(_)) => "both accept",
                (Err(_), Err(_)) => "both refuse",
                (Ok(o), Err(e)) => {
                    assert!(
                        foreign_wide(o),
                        "{target} {what}: we accept, libbpf says errno {e}"
                    );
                    "we accept a foreign-order wide record"
                }
                (Err(e), Ok(_)) => {
                    assert!(
                        beyond_btf_ext_new(e),
                        "{target} {what}: libbpf accepts, we say {e}"
                    );
                    "we refuse beyond btf_ext__new"
                }
            };
            *tally.entry(key).or_default() += 1;
        };
        for n in 0..ext.len() {
            compare(&ext[..n], &format!("cut at {n}"));
        }
        let mut bytes = ext.to_vec();
        for i in 0..bytes.len() {
            let was = bytes[i];
            for v in [was ^ 0xff, was ^ 0x01, was ^ 0x04, 0] {
                bytes[i] = v;
                compare(&bytes, &format!("byte {i} = {v:#x}"));
            }
            bytes[i] = was;
        }
    }
    eprintln!("{tally:#?}");
    assert!(tally["both accept"] > 100 && tally["both refuse"] > 1000);
    assert!(tally["we refuse beyond btf_ext__new"] > 10);
}

/// One CO-RE relocation as libbpf's log tells it.
#[derive(Debug, Default, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Logged {
    section: String,
    prog: String,
    relo: u32,
    kind: String,
    type_id: u32,
    access: String,
    insn: Option<u32>,
}

/// Parses libbpf's DEBUG lines `sec '…': found N CO-RE relocations`,
/// `prog '…': relo #I: <kind> [id] … (access @ offset …)` and
/// `prog '…': relo #I: patched insn #N …`.
fn parse_log(log: &str) -> (BTreeMap<String, u32>, Vec<Logged>) {
    let mut counts = BTreeMap::new();
    let mut relos: BTreeMap<(String, u32), Logged> = BTreeMap::new();
    let mut section = String::new();
    for line in log.lines() {
        if let Some(rest) = line
            .strip_prefix("libbpf: sec '")
            .or(line.strip_prefix("sec '"))
        {
            if let Some((name, tail)) = rest.split_once("': found ")
                && let Some(n) = tail.strip_suffix(" CO-RE relocations")
            {
                section = name.to_owned();
                counts.insert(name.to_owned(), n.parse().unwrap());
            }
            continue;
        }
        let Some(rest) = line
            .strip_prefix("libbpf: prog '")
            .or(line.strip_prefix("prog '"))
        else {
            continue;
        };
        let Some((prog, rest)) = rest.split_once("': relo #") else {
            continue;
        };
        let Some((idx, rest)) = rest.split_once(": ") else {
            continue;
        };
        let relo: u32 = idx.parse().unwrap();
        let key = (prog.to_owned(), relo);
        if let Some(spec) = rest.strip_prefix('<') {
            let (kind, spec) = spec.split_once("> [").unwrap();
            let (id, spec) = spec.split_once(']').unwrap();
            // Field kinds show the access string; enumerator kinds the
            // enumerator's name; type kinds nothing (their string is "0").
            let access = if let Some((_, e)) = spec.split_once("::") {
                format!("enumerator {}", e.split_once(" = ").unwrap().0)
            } else {
                spec.rsplit_once(" (")
                    .and_then(|(_, a)| a.split_once(" @"))
                    .map_or("0".to_owned(), |(a, _)| a.to_owned())
            };
            let e = relos.entry(key).or_default();
            e.section = section.clone();
            e.prog = prog.to_owned();
            e.relo = relo;
            e.kind = kind.to_owned();
            e.type_id = id.parse().unwrap();
            e.access = access;
        } else if let Some(insn) = rest.strip_prefix("patched insn #") {
            let n = insn.split_once(' ').unwrap().0.parse().unwrap();
            relos.entry(key).or_default().insn = Some(n);
        }
    }
    (counts, relos.into_values().collect())
}

#[test]
fn libbpf_relocates_what_we_read() {
    let Some((_tmp, objs)) = objects("ext-log") else {
        return;
    };
    // The effective uid, from /proc (no unsafe here).
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    });
    if !require(root, "root (libbpf's bpf_object__prepare probes bpf(2))") {
        return;
    }
    // The host's byte order only: libbpf relocates a foreign object but
    // refuses to patch its instructions.
    let (target, path, file) = objs
        .iter()
        .find(|(t, ..)| {
            *t == if cfg!(target_endian = "little") {
                "bpfel"
            } else {
                "bpfeb"
            }
        })
        .unwrap();
    let (err, log) =
        libbpf_prepare_log(path, path).unwrap_or_else(|(e, log)| panic!("open: errno {e}\n{log}"));
    let (counts, logged) = parse_log(&log);

    let obj = BpfObject::parse(file).unwrap();
    let btf = obj.btf();
    // Each function's first instruction, per section: libbpf counts a
    // relocation's instruction from its (sub)program's start.
    let mut starts: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for site in obj.func_infos() {
        for (i, _, f) in site.iter() {
            let name = btf
                .type_by_id(f.type_id)
                .unwrap()
                .name()
                .unwrap()
                .to_owned();
            starts
                .entry(site.program().name().unwrap().to_owned())
                .or_default()
                .push((i, name));
        }
    }
    let mut ours_counts = BTreeMap::new();
    let mut ours = Vec::new();
    for site in obj.core_relos() {
        let section = site.program().name().unwrap().to_owned();
        *ours_counts.entry(section.clone()).or_insert(0) += site.block().len() as u32;
        for (i, (index, _, r)) in site.iter().enumerate() {
            let (start, prog) = starts[&section]
                .iter()
                .rev()
                .find(|(s, _)| *s <= index)
                .unwrap()
                .clone();
            ours.push(Logged {
                section: section.clone(),
                prog,
                relo: i as u32,
                kind: r.kind.libbpf_name().to_owned(),
                type_id: r.type_id.get(),
                access: if r.kind.is_enumval_based() {
                    let t = btf.type_by_id(r.type_id).unwrap();
                    let first = r.access_spec(btf).unwrap().first() as usize;
                    let e = t.as_kind();
                    let btf_core::TypeKind::Enum(e) = e else {
                        panic!("{e:?}")
                    };
                    format!(
                        "enumerator {}",
                        e.values().nth(first).unwrap().name().unwrap()
                    )
                } else {
                    r.access_spec(btf).unwrap().as_str().to_owned()
                },
                insn: Some((index - start) as u32),
            });
        }
    }
    ours.sort();
    assert_eq!(
        counts, ours_counts,
        "{target}: CO-RE relocations per section\n{log}"
    );
    let mut theirs = logged;
    theirs.sort();
    assert_eq!(theirs.len(), ours.len(), "{target}\n{log}");
    for (t, o) in theirs.iter().zip(&ours) {
        assert_eq!(t, o, "{target}\n{log}");
    }
    eprintln!(
        "libbpf (prepare: errno {err}) patched {} instructions for {} relocations, as we read them",
        theirs.iter().filter(|t| t.insn.is_some()).count(),
        theirs.len()
    );
}
