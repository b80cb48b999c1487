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
use btf_core::ext::{BpfObject, CoreReloKind};
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
/// The `needs_testmod` ones run in a VM instead
/// (`kernel_selftests_core_reloc_module_cases`).
const NOT_REPRODUCED: &[(&str, &str)] = &[
    (
        "module_probed",
        "needs bpf_testmod: its types live in bpf_testmod.ko, the selftests' own module, which \
         is not built for the running kernel here; btf-sys/tests/vm/testmod.sh builds it for \
         Debian's 6.12 and runs the case in a VM (kernel_selftests_core_reloc_module_cases)",
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
            run_on_main_thread(case, &obj, Some(&target))
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

/// The table's `needs_testmod` cases (`module_probed`, `module_direct`),
/// whose types live in the selftests' own module, `bpf_testmod.ko`:
/// `btf-sys/tests/vm/testmod.sh` builds the module for Debian's 6.12
/// kernel and runs this test twice.
///
/// 1. On the host, with `BTF_TESTMOD_STAGE=DIR`: reads the table and
///    builds `test_core_reloc_module.o` as `kernel_selftests_core_reloc_table`
///    does, and writes the object and the cases to DIR (`cases.tsv`: name,
///    program, raw tracepoint, input and expected output in hex). With
///    `BTF_TESTMOD_KO` and `BTF_TESTMOD_VMLINUX` (the module and the
///    kernel's vmlinux it was built against) it also compares our
///    relocations against vmlinux + the module's split BTF with libbpf's
///    against the two flattened into one file, instruction for instruction.
/// 2. In a VM running that kernel with the module inserted, with
///    `BTF_TESTMOD_CASES=DIR`: for each case, libbpf as a loader uses it
///    (no `btf_custom_path`: vmlinux's BTF, then the modules' by id) and
///    ours (`/sys/kernel/btf/vmlinux` with `/sys/kernel/btf/bpf_testmod`
///    split on it) must relocate the same, instruction for instruction;
///    the program, with our instructions, loads, attaches, is fired by a
///    read of `/sys/kernel/bpf_testmod` as the selftest's trigger does, and
///    must write the table's output.
#[test]
#[ignore = "needs bpf_testmod.ko: btf-sys/tests/vm/testmod.sh runs it, on the host and in a VM"]
fn kernel_selftests_core_reloc_module_cases() {
    if let Some(dir) = std::env::var_os("BTF_TESTMOD_CASES") {
        run_module_cases(Path::new(&dir));
    } else if let Some(dir) = std::env::var_os("BTF_TESTMOD_STAGE") {
        stage_module_cases(Path::new(&dir));
    } else {
        require(
            false,
            "BTF_TESTMOD_STAGE or BTF_TESTMOD_CASES (btf-sys/tests/vm/testmod.sh sets them)",
        );
    }
}

/// Step 1 of `kernel_selftests_core_reloc_module_cases`.
fn stage_module_cases(dir: &Path) {
    assert!(have_clang() && is_root(), "needs clang-19 and root");
    let selftests = core_selftests::selftests_dir().unwrap_or_else(|e| panic!("{e}"));
    let cache = core_selftests::cache_dir();
    let ks = Kselftests::new(&selftests, &cache).unwrap_or_else(|e| panic!("{e}"));
    let table = core_selftests::table(&ks, &cache).unwrap_or_else(|e| panic!("{e}"));
    let cached = ObjectCache::new(&ks, &cache.join("objects")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(dir).unwrap();
    let mut lines = String::new();
    let mut objects = BTreeSet::new();
    for case in table.cases.iter().filter(|c| c.needs_testmod) {
        // What the VM run relies on: the running kernel as the target, a
        // read as the trigger, and the expected output in the table.
        assert!(
            case.target.is_none() && case.setup == Setup::None && !case.fails,
            "{}: a new kind of needs_testmod case",
            case.name
        );
        assert!(
            core_selftests::testmod_read_len(case).is_some_and(|n| n > 0),
            "{}",
            case.name
        );
        let (obj, _) = cached.build(&case.object).unwrap_or_else(|e| panic!("{e}"));
        std::fs::copy(&obj, dir.join(&case.object)).unwrap();
        objects.insert((case.object.clone(), obj));
        let hex_or_dash = |b: &[u8]| if b.is_empty() { "-".into() } else { hex(b) };
        lines += &format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            case.name,
            case.object,
            case.prog,
            case.raw_tp.as_deref().unwrap_or("-"),
            hex_or_dash(&case.input),
            hex(&case.output)
        );
    }
    let names: Vec<&str> = NOT_REPRODUCED.iter().map(|(n, _)| *n).collect();
    let staged: Vec<&str> = lines.lines().filter_map(|l| l.split('\t').next()).collect();
    assert_eq!(staged, names, "the table's needs_testmod cases changed");
    std::fs::write(dir.join("cases.tsv"), &lines).unwrap();
    eprintln!(
        "staged {} cases in {}:\n{lines}",
        staged.len(),
        dir.display()
    );

    // On the host: vmlinux + the module's split BTF, ours against
    // libbpf's on the two flattened.
    let (Some(ko), Some(vmlinux)) = (
        std::env::var_os("BTF_TESTMOD_KO"),
        std::env::var_os("BTF_TESTMOD_VMLINUX"),
    ) else {
        return;
    };
    let base_bytes = core_selftests::read_btf_bytes(Path::new(&vmlinux));
    let module_bytes = core_selftests::read_btf_bytes(Path::new(&ko));
    let base = Btf::parse(&base_bytes).unwrap();
    let module = Btf::parse_split(&module_bytes, &base).unwrap();
    let flat_path = dir.join("vmlinux+bpf_testmod.btf");
    std::fs::write(&flat_path, flatten(&base_bytes, &module_bytes)).unwrap();
    let targets = Targets::named("vmlinux", &base).with_module("bpf_testmod", &module);
    for (source, obj) in &objects {
        let file = std::fs::read(obj).unwrap();
        let label = format!("{source} against vmlinux + bpf_testmod.ko (host)");
        let c = btf_benches::core_objects::compare_targets(
            &label,
            obj,
            &file,
            Some(&flat_path),
            &targets,
        );
        eprintln!(
            "{label}: {} relocations, {} instructions as libbpf's: {:?}; ours matched in {:?}",
            c.relos, c.compared, c.patches, c.matched_in
        );
        assert!(c.failed.is_none() && c.relos > 0, "{label}");
        assert!(c.matched_in.contains_key("bpf_testmod"), "{label}");
        assert!(
            !c.patches.keys().any(|k| k.contains("poisoned")),
            "{label}: poisoned relocations: {:?}",
            c.patches
        );
    }
}

/// Step 2 of `kernel_selftests_core_reloc_module_cases`, in the VM.
fn run_module_cases(dir: &Path) {
    assert!(is_root(), "needs root");
    assert!(
        Path::new("/sys/kernel/btf/bpf_testmod").is_file(),
        "bpf_testmod is not loaded"
    );
    let text = std::fs::read_to_string(dir.join("cases.tsv")).unwrap();
    let unhex = |s: &str| -> Vec<u8> {
        if s == "-" {
            return Vec::new();
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let mut ran = Vec::new();
    let mut wrong = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [name, object, prog, raw_tp, input, output] = f.as_slice() else {
            panic!("cases.tsv: {line:?}");
        };
        let case = Case {
            name: (*name).to_owned(),
            object: (*object).to_owned(),
            target: None,
            prog: (*prog).to_owned(),
            raw_tp: (*raw_tp != "-").then(|| (*raw_tp).to_owned()),
            fails: false,
            btfgen_fails: false,
            needs_testmod: true,
            relaxed: false,
            setup: Setup::None,
            input: unhex(input),
            output: unhex(output),
        };
        let label = format!("{name} ({object} against the running kernel + bpf_testmod)");
        let outcome = run_on_main_thread(&case, &dir.join(object), None);
        match &outcome {
            Outcome::Output(out) if *out == case.output => {
                eprintln!("{label}: wrote the expected {} bytes", out.len());
            }
            Outcome::Output(out) => wrong.push(format!(
                "{label}: wrote {}\n  expected {}",
                hex(out),
                hex(&case.output)
            )),
            other => wrong.push(format!("{label}: {other:?}")),
        }
        ran.push(case.name);
    }
    let names: Vec<&str> = NOT_REPRODUCED.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        ran, names,
        "cases.tsv does not hold the needs_testmod cases"
    );
    assert!(
        wrong.is_empty(),
        "{} cases went wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    eprintln!("{} needs_testmod cases reproduced: {ran:?}", ran.len());
}

/// `core_selftests::run_case` in a process of its own, on its main
/// thread (the `core_selftest_case` binary), named `test_progs`: the
/// kernel case's program checks that its task's pid is its tgid and
/// reads the process's name, and the test harness runs tests on threads.
///
/// With `target` `None`: the running kernel with its modules, the program
/// fired by a read of `/sys/kernel/bpf_testmod` (the `needs_testmod`
/// cases, `core_selftests::CaseTarget::RunningKernel`).
fn run_on_main_thread(case: &Case, obj: &Path, target: Option<&Path>) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_core_selftest_case"));
    cmd.arg(obj)
        .arg(target.unwrap_or(Path::new("-")))
        .arg(&case.prog)
        .arg(case.raw_tp.as_deref().unwrap_or("-"))
        .arg(if case.input.is_empty() {
            "-".into()
        } else {
            hex(&case.input)
        })
        .arg(case.output.len().to_string())
        .arg("test_progs");
    if target.is_none() {
        let len = core_selftests::testmod_read_len(case)
            .unwrap_or_else(|| panic!("{}: no read length in the output", case.name));
        cmd.arg(len.to_string());
    }
    let out = cmd.output().unwrap();
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

fn corpus_dir() -> PathBuf {
    std::env::var_os("BTF_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/btf-corpus"))
}

/// A little-endian blob's type and string sections.
fn btf_sections(b: &[u8]) -> (&[u8], &[u8]) {
    let word = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(&b[..2], &[0x9f, 0xeb], "a little-endian BTF");
    let hdr = word(4);
    let (types, strings) = (hdr + word(8), hdr + word(16));
    (&b[types..types + word(12)], &b[strings..strings + word(20)])
}

/// One BTF of a split module flattened onto its base: the base's types
/// then the module's, the base's strings then the module's. A split
/// blob's ids and string offsets continue its base's, so the result is a
/// single valid BTF in which every type keeps its id. (libbpf takes one
/// target file and searches no module then: this is how it gets to see a
/// module's types.)
fn flatten(base: &[u8], split: &[u8]) -> Vec<u8> {
    let sections = btf_sections;
    let ((bt, bs), (st, ss)) = (sections(base), sections(split));
    let mut out = Vec::new();
    for word in [
        0x0001_eb9f,
        24,
        0,
        bt.len() + st.len(),
        bt.len() + st.len(),
        bs.len() + ss.len(),
    ] {
        out.extend_from_slice(&(word as u32).to_le_bytes());
    }
    for part in [bt, st, bs, ss] {
        out.extend_from_slice(part);
    }
    out
}

/// A type of bpftool's raw dump: kind, name, size, members (name, type
/// id, bit offset, bitfield size) or enumerators (name, value).
#[derive(Debug, Default)]
struct Dumped {
    kind: String,
    name: String,
    size: u64,
    members: Vec<(String, u32, u64, Option<u32>)>,
    values: Vec<(String, i64)>,
}

/// `bpftool -B BASE btf dump file SPLIT format raw`, parsed: the split's
/// own types by id.
fn bpftool_dump(base: &Path, split: &Path) -> BTreeMap<u32, Dumped> {
    let out = Command::new("bpftool")
        .arg("-B")
        .arg(base)
        .args(["btf", "dump", "file"])
        .arg(split)
        .args(["format", "raw"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bpftool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |line: &str, key: &str| -> Option<String> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key).map(str::to_owned))
    };
    let quoted = |line: &str| line.split('\'').nth(1).unwrap_or_default().to_owned();
    let mut types = BTreeMap::new();
    let mut last = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(rest) = line.strip_prefix('[') {
            let (id, rest) = rest.split_once("] ").unwrap();
            last = id.parse().unwrap();
            types.insert(
                last,
                Dumped {
                    kind: rest.split_whitespace().next().unwrap().to_owned(),
                    name: quoted(rest),
                    size: field(rest, "size=").map_or(0, |v| v.parse().unwrap()),
                    ..Dumped::default()
                },
            );
        } else if let Some(t) = types.get_mut(&last) {
            let name = quoted(line);
            if let Some(v) = field(line, "val=") {
                t.values.push((name, v.parse().unwrap()));
            } else if let (Some(ty), Some(off)) =
                (field(line, "type_id="), field(line, "bits_offset="))
            {
                t.members.push((
                    name,
                    ty.parse().unwrap(),
                    off.parse().unwrap(),
                    field(line, "bitfield_size=").map(|v| v.parse().unwrap()),
                ));
            }
        }
    }
    types
}

/// What bpftool's dumps say a relocation described as `what` (our
/// `relo_in_c`: `struct veth_rq.stats.vs.rx_drops (0:1:0:0)`, `enum
/// nft_verdicts::NFT_GOTO (1)`, `struct veth_priv`) of kind `kind` gives:
/// `Some(None)` for a target that is not there (poisoned or 0), `None`
/// for what this check leaves to the comparison with libbpf (bitfields,
/// sizes of members, shifts, signedness, type matches).
fn expected_from_dump(
    dumps: &[BTreeMap<u32, Dumped>],
    what: &str,
    kind: CoreReloKind,
) -> Option<Option<u64>> {
    use CoreReloKind as K;
    let what = what.split(" (").next().unwrap();
    // The module whose dump has the root type (each numbers its types
    // from vmlinux's count up).
    let root_name = what
        .trim_start_matches("enum ")
        .trim_start_matches("struct ")
        .split(['.', ':'])
        .next()
        .unwrap();
    let dump = dumps
        .iter()
        .find(|d| d.values().any(|t| t.name == root_name))
        .unwrap_or(&dumps[0]);
    let by_name = |kind: &str, name: &str| {
        dump.iter()
            .find(|(_, t)| t.kind == kind && t.name == name)
            .map(|(id, t)| (*id, t))
    };
    if let Some(e) = what.strip_prefix("enum ") {
        let (name, value) = e.split_once("::").unwrap();
        let v = by_name("ENUM", name).and_then(|(_, t)| t.values.iter().find(|(n, _)| n == value));
        return match kind {
            K::EnumvalExists => Some(Some(u64::from(v.is_some()))),
            K::EnumvalValue => Some(v.map(|(_, v)| *v as u64)),
            _ => None,
        };
    }
    let path = what.strip_prefix("struct ").unwrap();
    let mut steps = path.split('.');
    let root = by_name("STRUCT", steps.next().unwrap());
    let steps: Vec<&str> = steps.collect();
    if steps.is_empty() {
        return match kind {
            K::TypeExists => Some(Some(u64::from(root.is_some()))),
            K::TypeSize => Some(root.map(|(_, t)| t.size)),
            K::TypeIdTarget => Some(Some(root.map_or(0, |(id, _)| u64::from(id)))),
            _ => None,
        };
    }
    // The member path: bit offsets added up, through the module's structs.
    let mut at = root.map(|(_, t)| t);
    let (mut bits, mut bitfield) = (0, None);
    for (i, step) in steps.iter().enumerate() {
        let member = at.and_then(|t| t.members.iter().find(|m| m.0 == *step));
        let Some((_, ty, off, bf)) = member else {
            at = None;
            break;
        };
        bits += off;
        bitfield = *bf;
        if i + 1 < steps.len() {
            at = dump.get(ty);
        }
    }
    let found = at.is_some();
    match kind {
        K::FieldExists => Some(Some(u64::from(found))),
        K::FieldByteOffset if !found => Some(None),
        K::FieldByteOffset if bitfield.is_none() => Some(Some(bits / 8)),
        _ => None,
    }
}

/// A program whose types live only in kernel modules
/// (`btf-core/tests/ext_progs/module.c`: veth's private structs, nf_tables'
/// `struct nft_table` and `enum nft_verdicts`), relocated against Debian's
/// vmlinux with the corpus's split module blobs, through `Targets` with
/// modules and the default `ModuleSearch` (modules because vmlinux has
/// no candidate):
/// 1. with veth and nf_tables, and with every module of the corpus
///    (18 other nft modules carry identical copies of nf_tables' types):
///    the same values;
/// 2. the same as libbpf 1.7, instruction for instruction: libbpf gets
///    each module flattened onto vmlinux as its one target file
///    (`flatten`), and our relocations against the split pair must equal
///    both engines' against the flattened file, for the programs whose
///    types that module holds;
/// 3. the offsets, struct sizes, type ids, enum values and absences equal
///    what bpftool's dump of the module BTF says.
///
/// `btf-sys/tests/vm/run.sh` relocates the same program inside a VM
/// running that kernel, against its module BTF read by id.
#[test]
fn module_types_relocate_against_split_module_btf() {
    let corpus = corpus_dir();
    if !require(have_clang(), "clang-19")
        || !require(
            is_root(),
            "root (libbpf's bpf_object__prepare probes bpf(2))",
        )
        || !require(
            corpus.join("modules/veth.btf").is_file(),
            "the Debian corpus with its modules (BTF_CORPUS or target/btf-corpus)",
        )
        || !require(
            Command::new("bpftool").arg("version").output().is_ok(),
            "bpftool",
        )
    {
        return;
    }
    let tmp = TempDir::new("core-module");
    let obj_path = btf_benches::core_objects::build_program(tmp.path(), "module");
    let file = std::fs::read(&obj_path).unwrap();
    let obj = BpfObject::parse(&file).unwrap();
    let base_path = corpus.join("vmlinux.btf");
    let base_bytes = std::fs::read(&base_path).unwrap();
    let vmlinux = Btf::parse(&base_bytes).unwrap();
    let modules = ["veth", "nf_tables"];
    let module_bytes: Vec<Vec<u8>> = modules
        .iter()
        .map(|m| std::fs::read(corpus.join(format!("modules/{m}.btf"))).unwrap())
        .collect();
    let views: Vec<Btf<'_>> = module_bytes
        .iter()
        .map(|b| Btf::parse_split(b, &vmlinux).unwrap())
        .collect();
    let mut targets = Targets::named("vmlinux", &vmlinux);
    for (name, view) in modules.iter().zip(&views) {
        targets = targets.with_module(name, view);
    }
    let ours = relocate_object(&targets, &obj).unwrap();
    let key = |o: &btf_core::reloc::Outcome| {
        (
            o.section,
            o.insn,
            o.resolution.new_val,
            o.resolution.poison,
            o.patched,
        )
    };
    let section = |o: &btf_core::reloc::Outcome| {
        obj.program_by_index(o.section)
            .and_then(|p| p.name())
            .unwrap_or("?")
            .to_owned()
    };

    // 1. Every module of the corpus: the same.
    let mut names: Vec<PathBuf> = std::fs::read_dir(corpus.join("modules"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "btf"))
        .collect();
    names.sort();
    let all_bytes: Vec<Vec<u8>> = names.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let all_views: Vec<Btf<'_>> = all_bytes
        .iter()
        .map(|b| Btf::parse_split(b, &vmlinux).unwrap())
        .collect();
    let all_names: Vec<String> = names.iter().map(|p| p.display().to_string()).collect();
    let mut all = Targets::named("vmlinux", &vmlinux);
    for (name, view) in all_names.iter().zip(&all_views) {
        all = all.with_module(name, view);
    }
    let with_all = relocate_object(&all, &obj).unwrap();
    assert_eq!(
        ours.outcomes.iter().map(key).collect::<Vec<_>>(),
        with_all.outcomes.iter().map(key).collect::<Vec<_>>(),
        "with all {} modules",
        names.len()
    );
    let nft_copies = with_all
        .outcomes
        .iter()
        .find(|o| section(o) == "kprobe/nft")
        .map(|o| o.resolution.tried.iter().filter(|c| c.1.is_none()).count());
    eprintln!(
        "module.o: {} relocations against vmlinux + veth + nf_tables, the same against \
         vmlinux + all {} modules (struct nft_table: {nft_copies:?} matching candidates)",
        ours.outcomes.len(),
        names.len()
    );

    // 2. libbpf, on each module flattened onto vmlinux.
    let mut compared_libbpf = 0;
    for (module, bytes) in modules.iter().zip(&module_bytes) {
        let flat_path = tmp.path().join(format!("vmlinux+{module}.btf"));
        std::fs::write(&flat_path, flatten(&base_bytes, bytes)).unwrap();
        let flat_bytes = std::fs::read(&flat_path).unwrap();
        let flat = Btf::parse(&flat_bytes).unwrap();
        let label = format!("module.o against vmlinux + {module} flattened");
        let (compared, relos, _) = compare(&label, &obj_path, &file, &flat_path, &flat);
        assert!(relos > 0 && compared > 0, "{label}");
        let against_flat = relocate_object(&Targets::named("flat", &flat), &obj).unwrap();
        let prefix = if *module == "veth" {
            "kprobe/veth"
        } else {
            "kprobe/nft"
        };
        for (split, flat) in ours.outcomes.iter().zip(&against_flat.outcomes) {
            if section(split).starts_with(prefix) {
                assert_eq!(key(split), key(flat), "{label}: {}", section(split));
                compared_libbpf += 1;
            }
        }
    }
    assert_eq!(compared_libbpf, ours.outcomes.len());

    // 3. bpftool's dumps of the module BTFs.
    let dumps: Vec<_> = modules
        .iter()
        .map(|m| bpftool_dump(&base_path, &corpus.join(format!("modules/{m}.btf"))))
        .collect();
    let (mut checked, mut left) = (0, 0);
    for o in &ours.outcomes {
        let what = btf_core::reloc::relo_in_c(obj.btf(), &o.relo);
        match expected_from_dump(&dumps, &what, o.relo.kind) {
            Some(Some(v)) => {
                assert!(!o.resolution.poison, "{what}: poisoned, bpftool says {v}");
                assert_eq!(o.resolution.new_val, v, "{} {what}", o.relo.kind);
                checked += 1;
            }
            Some(None) => {
                assert!(
                    o.resolution.poison || o.resolution.new_val == 0,
                    "{what}: bpftool has no such target, we give {}",
                    o.resolution.new_val
                );
                checked += 1;
            }
            None => left += 1,
        }
    }
    eprintln!(
        "module.o: all {} relocations as libbpf's on the flattened modules; {checked} also \
         as bpftool's dumps say ({left} left to libbpf: bitfields, sizes, shifts, matches)",
        ours.outcomes.len()
    );
    assert!(checked >= 18, "{checked}");
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
