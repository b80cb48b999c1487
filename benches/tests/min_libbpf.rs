//! The minimal BTF of `btf_core::min` as libbpf 1.7 uses it: each test
//! object (clang-19, `btf-core/tests/ext_progs/{kernel,core,module}.c`)
//! opened with `btf_custom_path` set to the minimal file and prepared
//! (`bpf_object__prepare`, CO-RE relocation included) must hold exactly
//! the instructions it holds when prepared against the full vmlinux file
//! — Debian's (the corpus) and the running kernel's — except that a
//! `TYPE_ID_TARGET` immediate holds the minimal BTF's id of the same type.
//!
//! libbpf's custom path takes one file, and never module BTF: the
//! standalone minimal BTF of vmlinux + a module is checked as the other
//! checks are, libbpf against our engine on the minimal file
//! (`core_objects::compare`), while `btf-core/tests/min.rs` checks our
//! engine on the minimal file against vmlinux + the module.
//! Needs root (prepare probes bpf(2)) and clang-19.

#[path = "../../btf-core/tests/common/skip.rs"]
mod skip;

use btf_benches::core_objects::{Kselftests, PROGS, TempDir, build, compare, have_clang};
use btf_benches::ffi::{Prepared, libbpf_prepare};
use btf_core::Btf;
use btf_core::ext::BpfObject;
use btf_core::min::{Minimized, Minimizer};
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

fn corpus() -> PathBuf {
    std::env::var_os("BTF_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/btf-corpus"))
}

/// core.o and kernel.o (`core_objects::build`) and min_modules.o.
fn objects(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = build(dir);
    let path = dir.join("min_modules.o");
    let status = Command::new("clang-19")
        .args(["-g", "-O2", "-target", "bpfel", "-c"])
        .arg(Path::new(PROGS).join("min_modules.c"))
        .arg("-o")
        .arg(&path)
        .status()
        .expect("clang-19 runs");
    assert!(status.success(), "clang-19 min_modules.c");
    out.push(("module".into(), path));
    out
}

/// libbpf's instructions against the full and the minimal file must be
/// the same but for type ids, which must name the same type.
fn same_instructions(label: &str, full: &Prepared, min: &Prepared, minimized: &Minimized) -> usize {
    assert_eq!(
        full.err, min.err,
        "{label}: prepare\n{}\n{}",
        full.log, min.log
    );
    let failed = |p: &Prepared| {
        p.log
            .lines()
            .find(|l| l.contains("failed to relocate"))
            .map(str::to_owned)
    };
    assert_eq!(failed(full), failed(min), "{label}");
    assert_eq!(full.programs.len(), min.programs.len(), "{label}");
    let mut ids = 0;
    for (a, b) in full.programs.iter().zip(&min.programs) {
        assert_eq!((&a.name, &a.section), (&b.name, &b.section), "{label}");
        assert_eq!(a.insns.len(), b.insns.len(), "{label}: {}", a.name);
        for (i, (x, y)) in a.insns.iter().zip(&b.insns).enumerate() {
            if x == y {
                continue;
            }
            // Only an immediate may differ: a type id of each file,
            // naming the same vmlinux type.
            let at = format!("{label}: {} insn {i}", a.name);
            assert_eq!(x[..4], y[..4], "{at}: {x:02x?} against {y:02x?}");
            let imm = |b: &[u8; 8]| u32::from_le_bytes(b[4..8].try_into().unwrap());
            let origin = minimized
                .origin(None, btf_core::TypeId::new(imm(y)))
                .unwrap_or_else(|| panic!("{at}: {} is no type of the minimal BTF", imm(y)));
            assert_eq!(
                (origin.target, origin.id.get()),
                (0, imm(x)),
                "{at}: type ids name different types"
            );
            ids += 1;
        }
    }
    ids
}

#[test]
fn libbpf_relocates_against_the_minimal_btf_as_against_the_full() {
    if !require(have_clang(), "clang-19")
        || !require(
            is_root(),
            "root (libbpf's bpf_object__prepare probes bpf(2))",
        )
    {
        return;
    }
    let tmp = TempDir::new("min-libbpf");
    let objs = objects(tmp.path());
    let files: Vec<Vec<u8>> = objs
        .iter()
        .map(|(_, p)| std::fs::read(p).unwrap())
        .collect();
    let parsed: Vec<BpfObject<'_>> = files.iter().map(|f| BpfObject::parse(f).unwrap()).collect();
    let mut targets = Vec::new();
    let debian = corpus().join("vmlinux.btf");
    if require(
        debian.is_file(),
        "Debian's vmlinux BTF (BTF_CORPUS or target/btf-corpus)",
    ) {
        targets.push(("debian", debian));
    }
    let running = PathBuf::from("/sys/kernel/btf/vmlinux");
    if require(running.is_file(), "/sys/kernel/btf/vmlinux") {
        targets.push(("running", running));
    }
    for (tname, tpath) in targets {
        let bytes = std::fs::read(&tpath).unwrap();
        let vmlinux = Btf::parse(&bytes).unwrap();
        let min = Minimizer::new(&vmlinux).run(&parsed).unwrap();
        let min_path = tmp.path().join(format!("{tname}.min.btf"));
        std::fs::write(&min_path, &min.btf).unwrap();
        for (name, path) in &objs {
            let label = format!("{name}.o against {tname}");
            let full = libbpf_prepare(path, &tpath).unwrap_or_else(|(e, l)| panic!("{e}\n{l}"));
            let small = libbpf_prepare(path, &min_path).unwrap_or_else(|(e, l)| panic!("{e}\n{l}"));
            let insns: usize = full.programs.iter().map(|p| p.insns.len()).sum();
            let ids = same_instructions(&label, &full, &small, &min);
            eprintln!(
                "{label}: {insns} instructions in {} programs, the same against {} bytes of minimal BTF ({ids} type ids mapped)",
                full.programs.len(),
                min.btf.len()
            );
            assert!(insns > 0, "{label}");
        }
    }
}

#[test]
fn libbpf_relocates_against_a_module_min_as_our_engine() {
    if !require(have_clang(), "clang-19")
        || !require(
            is_root(),
            "root (libbpf's bpf_object__prepare probes bpf(2))",
        )
    {
        return;
    }
    let corpus = corpus();
    if !require(
        corpus.join("vmlinux.btf").is_file(),
        "Debian's corpus (BTF_CORPUS or target/btf-corpus)",
    ) {
        return;
    }
    let tmp = TempDir::new("min-libbpf-modules");
    let objs = objects(tmp.path());
    let files: Vec<Vec<u8>> = objs
        .iter()
        .map(|(_, p)| std::fs::read(p).unwrap())
        .collect();
    let parsed: Vec<BpfObject<'_>> = files.iter().map(|f| BpfObject::parse(f).unwrap()).collect();
    let vmlinux_bytes = std::fs::read(corpus.join("vmlinux.btf")).unwrap();
    let vmlinux = Btf::parse(&vmlinux_bytes).unwrap();
    for module in ["ext4", "xfs", "fuse", "nf_tables", "btrfs"] {
        let bytes = std::fs::read(corpus.join(format!("modules/{module}.btf"))).unwrap();
        let split = Btf::parse_split(&bytes, &vmlinux).unwrap();
        let min = Minimizer::new(&vmlinux)
            .with_module(module, &split)
            .run(&parsed)
            .unwrap();
        let min_path = tmp.path().join(format!("{module}.min.btf"));
        std::fs::write(&min_path, &min.btf).unwrap();
        let min_btf = Btf::parse(&min.btf).unwrap();
        for ((name, path), file) in objs.iter().zip(&files) {
            let label = format!("{name}.o against the {module} minimal BTF");
            let (compared, relos, _) = compare(&label, path, file, &min_path, &min_btf);
            eprintln!("{label}: {relos} relocations, {compared} instructions as libbpf");
        }
    }
}

/// As the first test, on eight of the kernel's BPF selftests with CO-RE
/// relocations (558 of them), from a kernel source tree named by
/// `BTF_KSELFTESTS` (see `tests/core_reloc.rs`): `BTF_KSELFTESTS=…
/// cargo test -p btf-benches --test min_libbpf -- --ignored` (as root).
#[test]
#[ignore = "needs a kernel source tree: BTF_KSELFTESTS=<linux>/tools/testing/selftests/bpf"]
fn libbpf_relocates_kernel_selftests_against_the_minimal_btf_as_against_the_full() {
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
    let tmp = TempDir::new("min-libbpf-kself");
    let ks = match Kselftests::new(&dir, tmp.path()) {
        Ok(ks) => ks,
        Err(why) => {
            require(false, &why);
            return;
        }
    };
    let objs: Vec<(String, PathBuf)> = [
        "bpf_iter_bpf_map",
        "bpf_iter_task_vmas",
        "bpf_iter_udp4",
        "bpf_iter_unix",
        "core_kern",
        "netif_receive_skb",
        "test_core_autosize",
        "test_core_reloc_kernel",
    ]
    .iter()
    .map(|p| {
        let out = tmp.path().join(format!("{p}.o"));
        assert!(
            ks.compile(&ks.progs().join(format!("{p}.c")), &out),
            "clang-19 {p}.c"
        );
        (p.to_string(), out)
    })
    .collect();
    let files: Vec<Vec<u8>> = objs
        .iter()
        .map(|(_, p)| std::fs::read(p).unwrap())
        .collect();
    let parsed: Vec<BpfObject<'_>> = files.iter().map(|f| BpfObject::parse(f).unwrap()).collect();
    let mut targets = vec![("running", PathBuf::from("/sys/kernel/btf/vmlinux"))];
    let debian = corpus().join("vmlinux.btf");
    if require(
        debian.is_file(),
        "Debian's vmlinux BTF (BTF_CORPUS or target/btf-corpus)",
    ) {
        targets.push(("debian", debian));
    }
    for (tname, tpath) in targets {
        let bytes = std::fs::read(&tpath).unwrap();
        let vmlinux = Btf::parse(&bytes).unwrap();
        let min = Minimizer::new(&vmlinux).run(&parsed).unwrap();
        let min_path = tmp.path().join(format!("{tname}.min.btf"));
        std::fs::write(&min_path, &min.btf).unwrap();
        let mut total = 0;
        for (name, path) in &objs {
            let label = format!("{name}.o against {tname}");
            let full = libbpf_prepare(path, &tpath).unwrap_or_else(|(e, l)| panic!("{e}\n{l}"));
            let small = libbpf_prepare(path, &min_path).unwrap_or_else(|(e, l)| panic!("{e}\n{l}"));
            let insns: usize = full.programs.iter().map(|p| p.insns.len()).sum();
            let ids = same_instructions(&label, &full, &small, &min);
            eprintln!("{label}: {insns} instructions the same ({ids} type ids mapped)");
            total += insns;
        }
        assert!(total > 1000, "{tname}: {total}");
    }
}
