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
//!
//! `kernel_selftests_core_reloc_table` does the same, and more, for the
//! kernel's own CO-RE selftests: every case of libbpf's table in
//! `prog_tests/core_reloc.c` (sources fetched from Debian's
//! `linux-source-6.12` on first use by `scripts/fetch-kselftests.sh`) is
//! loaded and run with our relocations and must give the table's output
//! or fail as the table says.

#[path = "../../btf-core/tests/common/skip.rs"]
mod skip;

use btf_benches::core_objects::{Kselftests, PROGS, TempDir, build, compare, have_clang};
use btf_benches::core_selftests::{self, Case, ObjectCache, Outcome, Setup};
use btf_core::Btf;
use btf_core::ext::BpfObject;
use btf_core::reloc::{Patched, Targets, relocate_object};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

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

/// The cases of libbpf's table (`test_cases[]` of the kernel's
/// `prog_tests/core_reloc.c`) that this test does not reproduce, and why.
/// The test fails when the table's set differs.
const NOT_REPRODUCED: &[(&str, &str)] = &[
    (
        "module_probed",
        "its types live in bpf_testmod.ko, the selftests' own module, which is not built for the \
         running kernel here (test_core_reloc_module.o is still compared with libbpf against \
         Debian's vmlinux and the running kernel's, where its relocations poison)",
    ),
    ("module_direct", "as module_probed"),
];

/// The kernel's own CO-RE selftests, as libbpf's `prog_tests/core_reloc.c`
/// runs them (`btf_benches::core_selftests`): the sources from Debian's
/// `linux-source-6.12` (`scripts/fetch-kselftests.sh`, cached in
/// `target/kselftests`; `BTF_KSELFTESTS` names another tree), compiled
/// with clang-19 once (cached by content), the table compiled out of
/// `core_reloc.c`. For every case of the table: our relocations equal
/// libbpf's, instruction for instruction, and the program with our
/// relocated instructions loads, runs on a `sys_enter` and writes the
/// table's `output`, or fails to load when the table says `fails`. Then
/// the table's btfgen variant (`test_core_reloc_btfgen`): the same against
/// the minimal target `bpftool gen min_core_btf` cuts for each case (but
/// the `run_btfgen_fails` ones). Then every program/target pair in
/// `progs/` the table does not name, and the programs for the running
/// kernel against Debian's vmlinux: compared with libbpf only.
#[test]
fn kernel_selftests_core_reloc_table() {
    if !require(have_clang(), "clang-19")
        || !require(
            is_root(),
            "root (libbpf's bpf_object__prepare probes bpf(2); the programs are loaded and run)",
        )
        || !require(
            Command::new("bpftool").arg("version").output().is_ok(),
            "bpftool (vmlinux.h, gen min_core_btf)",
        )
    {
        return;
    }
    let started = Instant::now();
    let selftests = match core_selftests::selftests_dir() {
        Ok(dir) => dir,
        Err(why) => {
            require(false, &format!("the kernel's BPF selftests: {why}"));
            return;
        }
    };
    let fetched = started.elapsed();
    let cache = core_selftests::cache_dir();
    let ks = Kselftests::new(&selftests, &cache).unwrap_or_else(|e| panic!("{e}"));
    let table = core_selftests::table(&ks, &cache).unwrap_or_else(|e| panic!("{e}"));
    let progs = ks.progs().to_path_buf();
    let mut sources: Vec<String> = std::fs::read_dir(&progs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.ends_with(".c")
                && (n.starts_with("test_core_reloc_") || n.starts_with("btf__core_reloc_"))
        })
        .collect();
    sources.sort();
    let cached = ObjectCache::new(&ks, &cache.join("objects")).unwrap_or_else(|e| panic!("{e}"));
    let (objects, compiled) = cached.build_all(&sources).unwrap_or_else(|e| panic!("{e}"));
    let built = started.elapsed();
    eprintln!(
        "{} objects: {compiled} compiled, {} from the cache ({:.1?} with the sources)",
        objects.len(),
        objects.len() - compiled,
        built
    );
    let object = |source: &str| {
        objects
            .get(source)
            .unwrap_or_else(|| panic!("the table names {source}, which progs/ does not have"))
            .clone()
    };
    let running = PathBuf::from("/sys/kernel/btf/vmlinux");
    let tmp = TempDir::new("core-kself");

    let mut wrong = Vec::new();
    let mut judge = |label: &str, case: &Case, expected: &[u8], outcome: &Outcome| {
        let verdict = match (case.fails, outcome) {
            (true, Outcome::RelocationFailed(why)) => {
                format!("fails as expected, at relocation: {why}")
            }
            (true, Outcome::Poisoned(why)) => format!("fails as expected, poisoned: {why}"),
            (_, Outcome::Rejected(why)) => {
                wrong.push(format!(
                    "{label}: the kernel refused it, not for CO-RE: {why}"
                ));
                "REJECTED".into()
            }
            (false, Outcome::Output(out)) if out == expected => {
                format!("wrote the expected {} bytes", out.len())
            }
            (false, Outcome::Output(out)) => {
                wrong.push(format!(
                    "{label}: wrote {}\n  expected {}",
                    hex(out),
                    hex(expected)
                ));
                "WRONG OUTPUT".into()
            }
            (true, Outcome::Output(_)) => {
                wrong.push(format!("{label}: loaded and ran; the table says it fails"));
                "LOADED".into()
            }
            (false, Outcome::RelocationFailed(why) | Outcome::Poisoned(why)) => {
                wrong.push(format!("{label}: failed: {why}"));
                "FAILED".into()
            }
        };
        eprintln!("{label}: {verdict}");
    };
    let mut skipped = Vec::new();
    let (mut reproduced, mut btfgen_runs) = (0, 0);
    let mut used = BTreeSet::new();
    for case in &table.cases {
        if case.needs_testmod {
            skipped.push(case.name.clone());
            continue;
        }
        assert!(!case.relaxed, "{}: relaxed_core_relocs is new", case.name);
        let obj = object(&case.object);
        let target = case.target.as_deref().map_or(running.clone(), object);
        used.insert((case.object.clone(), case.target.clone()));
        let expected = |target: &Path| match case.setup {
            Setup::None => case.output.clone(),
            _ => core_selftests::type_id_output(&table, case, &obj, target)
                .unwrap_or_else(|e| panic!("{}: setup: {e}", case.name)),
        };
        let label = format!(
            "{} ({} against {})",
            case.name,
            case.object,
            target.display()
        );
        let outcome = if case.name == "kernel" {
            run_on_main_thread(case, &obj, &target)
        } else {
            core_selftests::run_case(&label, case, &obj, &target, case.output.len()).outcome
        };
        judge(&label, case, &expected(&target), &outcome);
        reproduced += 1;

        // btfgen: the same against the minimal BTF bpftool cuts for it.
        if case.target.is_none() || case.btfgen_fails {
            continue;
        }
        let min = tmp
            .path()
            .join(format!("{}.btf", case.name.replace(':', "_")));
        let out = Command::new("bpftool")
            .args(["gen", "min_core_btf"])
            .arg(&target)
            .arg(&min)
            .arg(&obj)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: bpftool gen min_core_btf: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let label = format!("btfgen {}", case.name);
        let run = core_selftests::run_case(&label, case, &obj, &min, case.output.len());
        judge(&label, case, &expected(&min), &run.outcome);
        btfgen_runs += 1;
    }
    let ran = started.elapsed();

    // Every other pair in progs/: compared with libbpf only.
    let mut pairs = 0;
    for prog in sources.iter().filter(|n| n.starts_with("test_core_reloc_")) {
        let stem = prog
            .trim_start_matches("test_core_reloc_")
            .trim_end_matches(".c");
        let obj = object(prog);
        let file = std::fs::read(&obj).unwrap();
        if stem == "kernel" || stem == "module" {
            for (tname, tpath) in targets().into_iter().skip(1) {
                let tpath = tpath.unwrap();
                let bytes = std::fs::read(&tpath).unwrap();
                let tbtf = Btf::parse(&bytes).unwrap();
                let label = format!("{prog} against {tname}");
                let (compared, relos, patches) = compare(&label, &obj, &file, &tpath, &tbtf);
                eprintln!(
                    "{label}: {relos} relocations, {compared} instructions as libbpf: {patches:?}"
                );
                assert!(relos > 0, "{label}");
                pairs += 1;
            }
            continue;
        }
        let family = stem.trim_end_matches("_direct").trim_end_matches("_probed");
        for target in sources.iter().filter(|n| {
            let t = n.trim_end_matches(".c");
            t == format!("btf__core_reloc_{family}")
                || t.starts_with(&format!("btf__core_reloc_{family}___"))
                || t.starts_with(&format!("btf__core_reloc_{family}__err"))
        }) {
            if used.contains(&(prog.clone(), Some(target.clone()))) {
                continue;
            }
            let tpath = object(target);
            let tbytes = core_selftests::read_btf_bytes(&tpath);
            let tbtf = Btf::parse(&tbytes).unwrap();
            let label = format!("{prog} against {target} (not in the table)");
            let (compared, relos, _) = compare(&label, &obj, &file, &tpath, &tbtf);
            eprintln!("{label}: {relos} relocations, {compared} instructions as libbpf");
            pairs += 1;
        }
    }
    eprintln!(
        "{reproduced} table cases and {btfgen_runs} btfgen variants reproduced, {pairs} more \
         pairs compared; not reproduced: {skipped:?} (sources {fetched:.1?}, objects {:.1?}, \
         cases {:.1?}, the rest {:.1?})",
        built - fetched,
        ran - built,
        started.elapsed() - ran
    );
    assert!(
        wrong.is_empty(),
        "{} cases went wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let listed: Vec<&str> = NOT_REPRODUCED.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        skipped, listed,
        "the table's cases this test cannot run changed"
    );
    assert_eq!(reproduced + skipped.len(), table.cases.len());
    assert!(
        reproduced > 70 && btfgen_runs > 50,
        "{reproduced} cases, {btfgen_runs} btfgen"
    );
}

/// `core_selftests::run_case` in a process of its own, on its main
/// thread (the `core_selftest_case` binary), named `test_progs`: the
/// kernel case's program checks that its task's pid is its tgid and
/// reads the process's name, and the test harness runs tests on threads.
fn run_on_main_thread(case: &Case, obj: &Path, target: &Path) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_core_selftest_case"))
        .arg(obj)
        .arg(target)
        .arg(&case.prog)
        .arg(case.raw_tp.as_deref().unwrap_or("-"))
        .arg(if case.input.is_empty() {
            "-".into()
        } else {
            hex(&case.input)
        })
        .arg(case.output.len().to_string())
        .arg("test_progs")
        .output()
        .unwrap();
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: core_selftest_case: {}\n{stdout}",
        case.name,
        out.status
    );
    let line = stdout.trim_end();
    if let Some(h) = line.strip_prefix("output ") {
        Outcome::Output(
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect(),
        )
    } else if let Some(why) = line.strip_prefix("relocation ") {
        Outcome::RelocationFailed(why.to_owned())
    } else if let Some(why) = line.strip_prefix("poisoned ") {
        Outcome::Poisoned(why.to_owned())
    } else if let Some(why) = line.strip_prefix("rejected ") {
        Outcome::Rejected(why.to_owned())
    } else {
        panic!("{}: core_selftest_case printed {line:?}", case.name)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
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
