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
//! be reached (the comparison is `btf_benches::core_objects::compare`,
//! which the `core_reloc` bench runs too). Needs root (prepare probes
//! bpf(2)) and clang-19.

#[path = "../../btf-core/tests/common/skip.rs"]
mod skip;

use btf_benches::core_objects::{Kselftests, PROGS, TempDir, build, compare, have_clang};
use btf_core::Btf;
use btf_core::ext::BpfObject;
use btf_core::reloc::{Patched, Targets, relocate_object};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn require(ok: bool, what: &str) -> bool {
    if !ok {
        skip::skipped(&format!("needs {what}, which is not available here"));
    }
    ok
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    })
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

#[test]
fn relocations_patch_as_libbpf_patches() {
    if !require(have_clang(), "clang-19")
        || !require(
            is_root(),
            "root (libbpf's bpf_object__prepare probes bpf(2))",
        )
    {
        return;
    }
    let tmp = TempDir::new("core-reloc");
    let objects = build(tmp.path());
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
    let tmp = TempDir::new("core-kself");
    let ks = match Kselftests::new(&dir, tmp.path()) {
        Ok(ks) => ks,
        Err(why) => {
            require(false, &why);
            return;
        }
    };
    let progs = ks.progs().to_path_buf();
    let compile = |src: &Path, out: &Path| ks.compile(src, out);
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
            let obj_path = tmp.path().join(format!("{stem}.o"));
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
        let obj_path = tmp.path().join(format!("{stem}.o"));
        assert!(compile(&progs.join(prog), &obj_path), "clang-19 {prog}");
        let file = std::fs::read(&obj_path).unwrap();
        for target in names.iter().filter(|n| {
            let t = n.trim_end_matches(".c");
            t == format!("btf__core_reloc_{family}")
                || t.starts_with(&format!("btf__core_reloc_{family}___"))
                || t.starts_with(&format!("btf__core_reloc_{family}__err"))
        }) {
            let tpath = tmp.path().join(target.replace(".c", ".o"));
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
    if !require(have_clang(), "clang-19") {
        return;
    }
    let running = std::fs::read("/sys/kernel/btf/vmlinux");
    if !require(running.is_ok(), "/sys/kernel/btf/vmlinux") {
        return;
    }
    let running = running.unwrap();
    let vmlinux = Btf::parse(&running).unwrap();
    let targets = Targets::new(&vmlinux);
    let tmp = TempDir::new("core-reloc-be");
    let build = |target: &str| {
        let out = tmp.path().join(format!("kernel-{target}.o"));
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
