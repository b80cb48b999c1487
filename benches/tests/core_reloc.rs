//! btf-core's CO-RE relocation engine (`btf_core::reloc`) against libbpf
//! 1.7's: the objects clang-19 builds from `btf-core/tests/ext_progs/*.c`
//! are relocated by both against each target — the object's own BTF,
//! Debian's vmlinux (the corpus) and the running kernel's — and every
//! instruction of every program libbpf prepared (`bpf_object__prepare`,
//! then `bpf_program__insns`, subprograms appended) must equal ours.
//!
//! Instructions libbpf changes for other reasons than CO-RE (helper and
//! subprogram call immediates, map `ld_imm64`s) are compared without those
//! fields; every CO-RE-relocated instruction is compared whole, and must
//! be reached. Needs root (prepare probes bpf(2)) and clang-19.

#[path = "../../btf-core/tests/common/skip.rs"]
mod skip;

use btf_benches::ffi::{Prepared, libbpf_prepare};
use btf_core::Btf;
use btf_core::ext::BpfObject;
use btf_core::reloc::{Patched, Targets, relocate_object};
use std::collections::{BTreeMap, BTreeSet};
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

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    })
}

/// The test programs, built for the host's byte order (libbpf refuses to
/// patch a foreign object's instructions).
fn build(tmp: &Path) -> Vec<(String, PathBuf)> {
    let target = if cfg!(target_endian = "little") {
        "bpfel"
    } else {
        "bpfeb"
    };
    ["core", "kernel"]
        .iter()
        .map(|name| {
            let out = tmp.join(format!("{name}.o"));
            let status = Command::new("clang-19")
                .args(["-g", "-O2", "-target", target, "-c"])
                .arg(Path::new(PROGS).join(format!("{name}.c")))
                .arg("-o")
                .arg(&out)
                .status()
                .unwrap();
            assert!(status.success(), "clang-19 {name}.c");
            (name.to_string(), out)
        })
        .collect()
}

/// The targets: `None` for the object's own BTF.
fn targets() -> Vec<(&'static str, Option<PathBuf>)> {
    let mut out = vec![("own", None)];
    let corpus = std::env::var_os("BTF_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/btf-corpus"));
    let debian = corpus.join("vmlinux.btf");
    if require(
        debian.is_file(),
        "Debian's vmlinux BTF (BTF_CORPUS or target/btf-corpus)",
    ) {
        out.push(("debian", Some(debian)));
    }
    let running = PathBuf::from("/sys/kernel/btf/vmlinux");
    if require(running.is_file(), "/sys/kernel/btf/vmlinux") {
        out.push(("running", Some(running)));
    }
    out
}

/// A function of the object: its section, first instruction and length.
#[derive(Clone, Debug)]
struct Func {
    name: String,
    section: usize,
    start: usize,
    len: usize,
}

fn functions(obj: &BpfObject<'_>) -> Vec<Func> {
    let btf = obj.btf();
    let mut out = Vec::new();
    for site in obj.func_infos() {
        let program = site.program();
        let starts: Vec<(usize, String)> = site
            .iter()
            .map(|(i, _, f)| {
                let name = btf.type_by_id(f.type_id).unwrap().name().unwrap();
                (i, name.to_owned())
            })
            .collect();
        for (k, (start, name)) in starts.iter().enumerate() {
            let end = starts
                .get(k + 1)
                .map_or(program.insns().len(), |(next, _)| *next);
            out.push(Func {
                name: name.clone(),
                section: program.index(),
                start: *start,
                len: end - start,
            });
        }
    }
    out
}

const CALL: u8 = 0x85;
const LD_IMM64: u8 = 0x18;

/// How many instructions differ between libbpf's `theirs` (from
/// position `at`) and our `ours` (`func`'s), masking what libbpf changes
/// besides CO-RE: call immediates and map `ld_imm64`s, unless CO-RE
/// relocated (`relocated`, instruction indices in the section).
fn diffs(
    theirs: &[[u8; 8]],
    at: usize,
    ours: &[u8],
    func: &Func,
    relocated: &BTreeSet<(usize, usize)>,
) -> Vec<usize> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for k in 0..func.len {
        let index = func.start + k;
        let Some(t) = theirs.get(at + k) else {
            out.push(index);
            continue;
        };
        let o: [u8; 8] = ours[index * 8..index * 8 + 8].try_into().unwrap();
        let core = relocated.contains(&(func.section, index))
            || (index > 0
                && relocated.contains(&(func.section, index - 1))
                && ours[(index - 1) * 8] == LD_IMM64);
        // A map `ld_imm64` gets its source register and both immediates
        // from libbpf (the object has an ELF relocation there instead).
        let same = if core {
            t == &o
        } else if skip_next {
            t[0] == o[0] && t[1] == o[1] && t[2..4] == o[2..4]
        } else if o[0] == CALL {
            t[..4] == o[..4]
        } else if o[0] == LD_IMM64 {
            t[0] == o[0] && t[1] & 0xf == o[1] & 0xf && t[2..4] == o[2..4]
        } else {
            t == &o
        };
        skip_next = !core && o[0] == LD_IMM64;
        if !same {
            out.push(index);
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compares one object against one target; returns how many relocated
/// instructions were compared and the relocation count.
fn compare(
    label: &str,
    obj_path: &Path,
    file: &[u8],
    target_path: &Path,
    target: &Btf<'_>,
) -> (usize, usize, BTreeMap<String, usize>) {
    let prepared: Prepared = libbpf_prepare(obj_path, target_path)
        .unwrap_or_else(|(e, log)| panic!("{label}: open: errno {e}\n{log}"));
    let obj = BpfObject::parse(file).unwrap();
    let tname = target_path.display().to_string();
    let targets = Targets::named(&tname, target);
    let ours = relocate_object(&targets, &obj);
    let libbpf_failed = prepared
        .log
        .lines()
        .find(|l| l.contains("failed to relocate"))
        .map(str::to_owned);
    let ours = match (ours, libbpf_failed) {
        (Ok(r), None) => r,
        (Err(e), Some(line)) => {
            // Both fail: at the same relocation.
            let want = format!("relo #{}: failed to relocate", e.record);
            assert!(
                line.contains(&want),
                "{label}: we fail with\n{e}\nlibbpf: {line}"
            );
            eprintln!("{label}: both fail:\n{e}\nlibbpf: {line}");
            return (0, 0, BTreeMap::new());
        }
        (Ok(_), Some(line)) => panic!("{label}: libbpf fails, we do not: {line}\n{}", prepared.log),
        (Err(e), None) => panic!("{label}: we fail, libbpf does not:\n{e}\n{}", prepared.log),
    };
    assert_eq!(prepared.err, 0, "{label}: prepare failed\n{}", prepared.log);
    let funcs = functions(&obj);
    let relocated: BTreeSet<(usize, usize)> =
        ours.outcomes.iter().map(|o| (o.section, o.insn)).collect();
    let code_of = |section: usize| -> Vec<u8> {
        match ours.section(section) {
            Some(s) => s.code.clone(),
            None => {
                let p = obj.program_by_index(section).unwrap();
                let at = p.file_offset() as usize;
                file[at..at + p.insns().len() * 8].to_vec()
            }
        }
    };
    let mut covered: BTreeSet<(usize, usize)> = BTreeSet::new();
    for prog in &prepared.programs {
        let main = funcs
            .iter()
            .find(|f| f.name == prog.name)
            .unwrap_or_else(|| panic!("{label}: no function {}", prog.name));
        let code = code_of(main.section);
        let d = diffs(&prog.insns, 0, &code, main, &relocated);
        assert!(
            d.is_empty(),
            "{label}: program {} differs at section insns {d:?}\nlibbpf: {}\nours:   {}",
            prog.name,
            d.first()
                .map_or(String::new(), |&i| hex(&prog.insns[i - main.start])),
            d.first()
                .map_or(String::new(), |&i| hex(&code[i * 8..i * 8 + 8])),
        );
        covered.extend((main.start..main.start + main.len).map(|i| (main.section, i)));
        // Subprograms appended by libbpf: found through pseudo-calls.
        let mut starts = BTreeSet::new();
        for (i, insn) in prog.insns.iter().enumerate() {
            if insn[0] == CALL && insn[1] >> 4 == 1 {
                let imm = i32::from_le_bytes(insn[4..8].try_into().unwrap());
                let to = (i as i64 + 1 + i64::from(imm)) as usize;
                if to >= main.len {
                    starts.insert(to);
                }
            }
        }
        for at in starts {
            let best = funcs
                .iter()
                .map(|f| {
                    (
                        diffs(&prog.insns, at, &code_of(f.section), f, &relocated),
                        f,
                    )
                })
                .min_by_key(|(d, _)| d.len())
                .unwrap();
            assert!(
                best.0.is_empty(),
                "{label}: program {}: the subprogram at {at} (closest: {}) differs at {:?}",
                prog.name,
                best.1.name,
                best.0
            );
            let f = best.1;
            covered.extend((f.start..f.start + f.len).map(|i| (f.section, i)));
        }
    }
    let mut patches = BTreeMap::new();
    for o in &ours.outcomes {
        assert!(
            covered.contains(&(o.section, o.insn)),
            "{label}: relocated insn {} of section {} is in no program libbpf prepared",
            o.insn,
            o.section
        );
        let key = match o.patched {
            Patched::Imm { .. } => "imm",
            Patched::Offset { size: None, .. } => "offset",
            Patched::Offset { size: Some(_), .. } => "offset+size",
            Patched::Imm64 { .. } => "imm64",
            Patched::Poisoned { mem_size: true, .. } => "poisoned (mem size)",
            Patched::Poisoned { .. } => "poisoned",
        };
        *patches.entry(format!("{} {key}", o.relo.kind)).or_default() += 1;
    }
    (relocated.len(), ours.outcomes.len(), patches)
}

#[test]
fn relocations_patch_as_libbpf_patches() {
    if !require(
        Command::new("clang-19")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "clang-19",
    ) || !require(
        is_root(),
        "root (libbpf's bpf_object__prepare probes bpf(2))",
    ) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("btf-core-reloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tmp = Tmp(dir);
    let objects = build(&tmp.0);
    let mut total = BTreeMap::<String, usize>::new();
    for (name, path) in &objects {
        let file = std::fs::read(path).unwrap();
        for (tname, tpath) in targets() {
            let label = format!("{name}.o against {tname}");
            let (compared, relos, patches) = match &tpath {
                None => {
                    let obj = BpfObject::parse(&file).unwrap();
                    compare(&label, path, &file, path, obj.btf())
                }
                Some(p) => {
                    let bytes = std::fs::read(p).unwrap();
                    let btf = Btf::parse(&bytes).unwrap();
                    compare(&label, path, &file, p, &btf)
                }
            };
            eprintln!(
                "{label}: {relos} relocations, {compared} instructions, all as libbpf: {patches:?}"
            );
            for (k, v) in patches {
                *total.entry(k).or_default() += v;
            }
        }
    }
    eprintln!("{total:#?}");
}

/// The kernel's own CO-RE selftests (`tools/testing/selftests/bpf` of a
/// kernel source tree, e.g. Debian's `linux-source-6.12`, named by
/// `BTF_KSELFTESTS`): each `progs/test_core_reloc_X.c` relocated against
/// every `progs/btf__core_reloc_X*.c` target (the BTF of its object), by
/// both engines, compared as above; `test_core_reloc_kernel.c` and
/// `test_core_reloc_module.c` (built with a `vmlinux.h` bpftool writes
/// from the running kernel; its module's types are in no target here, so
/// its relocations poison) against Debian's vmlinux and the running
/// kernel's. Run with
/// `BTF_KSELFTESTS=…/tools/testing/selftests/bpf cargo test -p btf-benches
/// --test core_reloc -- --ignored` (as root).
#[test]
#[ignore = "needs a kernel source tree: BTF_KSELFTESTS=<linux>/tools/testing/selftests/bpf"]
fn kernel_selftests_relocate_as_libbpf() {
    let Some(dir) = std::env::var_os("BTF_KSELFTESTS").map(PathBuf::from) else {
        skip::skipped("BTF_KSELFTESTS is not set");
        return;
    };
    if !require(
        is_root(),
        "root (libbpf's bpf_object__prepare probes bpf(2))",
    ) {
        return;
    }
    let progs = dir.join("progs");
    let tmp = Tmp(std::env::temp_dir().join(format!("btf-core-kself-{}", std::process::id())));
    let inc = tmp.0.join("include");
    std::fs::create_dir_all(inc.join("gnu")).unwrap();
    // glibc's headers pick stubs-32.h for a target that is not x86_64.
    std::fs::write(inc.join("gnu/stubs-32.h"), "").unwrap();
    // <bpf/bpf_helpers.h> and friends: libbpf-sys's vendored libbpf.
    let headers = std::env::var_os("BTF_LIBBPF_HEADERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("CARGO_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
            std::fs::read_dir(home.join("registry/src"))
                .unwrap()
                .flatten()
                .map(|d| d.path().join("libbpf-sys-1.7.0+v1.7.0/libbpf/src"))
                .find(|p| p.join("bpf_helpers.h").is_file())
                .expect("libbpf-sys 1.7.0's sources in the cargo registry")
        });
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
        .output();
    if !require(
        vmlinux_h.as_ref().is_ok_and(|o| o.status.success()),
        "bpftool and /sys/kernel/btf/vmlinux (for vmlinux.h)",
    ) {
        return;
    }
    std::fs::write(inc.join("vmlinux.h"), vmlinux_h.unwrap().stdout).unwrap();
    let compile = |src: &Path, out: &Path| -> bool {
        Command::new("clang-19")
            .args(["-g", "-O2", "-target", "bpfel", "-D__TARGET_ARCH_x86", "-c"])
            .arg("-I")
            .arg(&inc)
            .arg("-idirafter")
            .arg("/usr/include/x86_64-linux-gnu")
            .arg("-I")
            .arg(&progs)
            .arg("-I")
            .arg(&dir)
            .arg(src)
            .arg("-o")
            .arg(out)
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut names: Vec<String> = std::fs::read_dir(&progs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".c") && n.contains("core_reloc"))
        .collect();
    names.sort();
    let mut pairs = 0;
    let mut both_fail = 0;
    let mut total = BTreeMap::<String, usize>::new();
    for prog in names.iter().filter(|n| n.starts_with("test_core_reloc_")) {
        let stem = prog
            .trim_start_matches("test_core_reloc_")
            .trim_end_matches(".c");
        if stem == "kernel" || stem == "module" {
            let obj_path = tmp.0.join(format!("{stem}.o"));
            assert!(compile(&progs.join(prog), &obj_path), "clang-19 {prog}");
            let file = std::fs::read(&obj_path).unwrap();
            for (tname, tpath) in targets().into_iter().skip(1) {
                let tpath = tpath.unwrap();
                let bytes = std::fs::read(&tpath).unwrap();
                let tbtf = Btf::parse(&bytes).unwrap();
                let label = format!("{prog} against {tname}");
                let (compared, relos, patches) = compare(&label, &obj_path, &file, &tpath, &tbtf);
                eprintln!(
                    "{label}: {relos} relocations, {compared} instructions as libbpf: {patches:?}"
                );
                assert!(relos > 0, "{label}");
                pairs += 1;
            }
            continue;
        }
        let family = stem.trim_end_matches("_direct").trim_end_matches("_probed");
        let obj_path = tmp.0.join(format!("{stem}.o"));
        assert!(compile(&progs.join(prog), &obj_path), "clang-19 {prog}");
        let file = std::fs::read(&obj_path).unwrap();
        for target in names.iter().filter(|n| {
            let t = n.trim_end_matches(".c");
            t == format!("btf__core_reloc_{family}")
                || t.starts_with(&format!("btf__core_reloc_{family}___"))
                || t.starts_with(&format!("btf__core_reloc_{family}__err"))
        }) {
            let tpath = tmp.0.join(target.replace(".c", ".o"));
            assert!(compile(&progs.join(target), &tpath), "clang-19 {target}");
            let tfile = std::fs::read(&tpath).unwrap();
            let found = btf_core::elf::BtfSections::parse(&tfile).unwrap();
            let tbtf = Btf::parse(found.btf()).unwrap();
            let label = format!("{prog} against {target}");
            let (compared, relos, patches) = compare(&label, &obj_path, &file, &tpath, &tbtf);
            if relos == 0 {
                both_fail += 1;
            }
            eprintln!("{label}: {relos} relocations, {compared} instructions as libbpf");
            for (k, v) in patches {
                *total.entry(k).or_default() += v;
            }
            pairs += 1;
        }
    }
    eprintln!("{pairs} pairs ({both_fail} where both fail at the same relocation): {total:#?}");
    assert!(pairs > 60, "{pairs}");
}

/// Our engine alone (no libbpf, no root): a big-endian object relocates
/// to the same values as its little-endian twin (libbpf cannot check
/// this: it refuses to patch a foreign-order object), but for the
/// bitfield left shifts, which depend on the byte order; and a poisoned
/// relocation explains itself.
#[test]
fn big_endian_twins_and_explanations() {
    if !require(
        Command::new("clang-19")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "clang-19",
    ) {
        return;
    }
    let running = std::fs::read("/sys/kernel/btf/vmlinux");
    if !require(running.is_ok(), "/sys/kernel/btf/vmlinux") {
        return;
    }
    let running = running.unwrap();
    let vmlinux = Btf::parse(&running).unwrap();
    let targets = Targets::new(&vmlinux);
    let tmp = Tmp(std::env::temp_dir().join(format!("btf-core-reloc-be-{}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).unwrap();
    let build = |target: &str| {
        let out = tmp.0.join(format!("kernel-{target}.o"));
        let ok = Command::new("clang-19")
            .args(["-g", "-O2", "-target", target, "-c"])
            .arg(Path::new(PROGS).join("kernel.c"))
            .arg("-o")
            .arg(&out)
            .status()
            .unwrap()
            .success();
        assert!(ok, "clang-19 -target {target}");
        std::fs::read(out).unwrap()
    };
    let (el, eb) = (build("bpfel"), build("bpfeb"));
    let (oel, oeb) = (
        BpfObject::parse(&el).unwrap(),
        BpfObject::parse(&eb).unwrap(),
    );
    let (rel, reb) = (
        relocate_object(&targets, &oel).unwrap(),
        relocate_object(&targets, &oeb).unwrap(),
    );
    assert_eq!(rel.outcomes.len(), reb.outcomes.len());
    let mut lshifts = 0;
    for (l, b) in rel.outcomes.iter().zip(&reb.outcomes) {
        assert_eq!((l.insn, l.relo.kind), (b.insn, b.relo.kind));
        if l.relo.kind == btf_core::ext::CoreReloKind::FieldLshiftU64 {
            lshifts += 1;
            continue;
        }
        assert_eq!(l.patched, b.patched, "insn {}", l.insn);
        let (sl, sb) = (
            rel.section(l.section).unwrap(),
            reb.section(b.section).unwrap(),
        );
        // (code, dst, src, off, imm), each byte order's way.
        let decode = |code: &[u8], e: btf_core::Endian, i: usize| {
            let b = &code[i * 8..i * 8 + 8];
            let (dst, src) = match e {
                btf_core::Endian::Little => (b[1] & 0xf, b[1] >> 4),
                btf_core::Endian::Big => (b[1] >> 4, b[1] & 0xf),
            };
            (
                b[0],
                dst,
                src,
                e.read_u16([b[2], b[3]]),
                e.read_u32([b[4], b[5], b[6], b[7]]),
            )
        };
        assert_eq!(
            decode(&sl.code, btf_core::Endian::Little, l.insn),
            decode(&sb.code, btf_core::Endian::Big, b.insn)
        );
    }
    assert_eq!(lshifts, 2);
    // task_struct___old.state is gone from today's kernels: poisoned, and
    // the explanation says why.
    let poisoned = rel
        .outcomes
        .iter()
        .find(|o| {
            matches!(o.patched, Patched::Poisoned { .. })
                && btf_core::reloc::relo_in_c(oel.btf(), &o.relo).contains("___old.state")
        })
        .expect("a poisoned task_struct___old.state");
    let text = poisoned.explain(oel.btf(), &targets);
    assert!(
        text.contains("struct task_struct___old.state (0:0)")
            && text.contains("struct task_struct in vmlinux: rejected: step 1:")
            && text.contains("has no member of that name"),
        "{text}"
    );
    eprintln!("{text}");
}
