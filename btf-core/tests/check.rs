//! `btf_core::check` on real data: clang-19 objects (`tests/ext_progs`:
//! `core.c`, `kernel.c`, and `tracer.c`, a tracing tool's reads) against
//! real kernels (Debian 12's 6.1 from the corpus, Debian's 6.1 and 6.12
//! builds fetched by `scripts/fetch-kernels.sh`, the running kernel).
#![cfg(feature = "elf")]

mod check_common;
mod common;

use btf_core::Btf;
use btf_core::check::{Cell, Checker, KernelCheck, Matrix};
use btf_core::ext::BpfObject;
use btf_core::reloc::{Patched, Targets, relocate_object};
use std::collections::BTreeMap;

struct Setup {
    _tmp: check_common::TempDir,
    /// (name, byte order target, object bytes).
    objects: Vec<(String, Vec<u8>)>,
    /// (name, BTF bytes).
    kernels: Vec<(String, Vec<u8>)>,
}

fn setup(tag: &str) -> Option<Setup> {
    if !common::require(check_common::have_clang(), "clang-19 (Debian's clang-19)") {
        return None;
    }
    let corpus = common::corpus()?;
    let tmp = check_common::TempDir::new(tag);
    let mut objects = Vec::new();
    for name in ["core", "kernel", "tracer"] {
        for target in ["bpfel", "bpfeb"] {
            let path = check_common::build(tmp.path(), name, target);
            objects.push((format!("{name}-{target}"), std::fs::read(path).unwrap()));
        }
    }
    let kernels = check_common::kernels(&corpus, |what| {
        common::require(false, what);
    })
    .into_iter()
    .map(|(name, path)| {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        (name, bytes)
    })
    .collect();
    Some(Setup {
        _tmp: tmp,
        objects,
        kernels,
    })
}

/// The cells of `check` by (section, instruction).
fn by_site(checker: &Checker<'_>, check: &KernelCheck) -> BTreeMap<(String, usize), Cell> {
    checker
        .sites()
        .iter()
        .zip(&check.cells)
        .map(|(s, c)| ((s.section.clone(), s.insn), c.clone()))
        .collect()
}

/// Each cell says what `relocate_object` (libbpf's semantics, checked
/// against libbpf instruction by instruction elsewhere) does to that
/// instruction; the one-pass index gives what the full index gives.
#[test]
fn cells_agree_with_relocate_object() {
    let Some(s) = setup("check-agree") else {
        return;
    };
    assert!(s.kernels.len() >= 5, "{} kernels", s.kernels.len());
    let mut compared = 0;
    for (oname, obytes) in &s.objects {
        let obj = BpfObject::parse(obytes).unwrap();
        let checker = Checker::from_object(&obj);
        let sections: BTreeMap<usize, String> = obj
            .programs()
            .map(|p| (p.index(), p.name().unwrap().to_owned()))
            .collect();
        for (kname, kbytes) in &s.kernels {
            let kernel = Btf::parse(kbytes).unwrap();
            let check = checker.check(&kernel);
            let targets = Targets::new(&kernel);
            assert_eq!(
                checker.check_targets(&targets),
                check,
                "{oname} on {kname}: the one-pass index differs from the full one"
            );
            assert_eq!(check.cells.len(), checker.sites().len());
            let cells = by_site(&checker, &check);
            match relocate_object(&targets, &obj) {
                Ok(relocated) => {
                    assert_eq!(relocated.outcomes.len(), cells.len(), "{oname} on {kname}");
                    for o in &relocated.outcomes {
                        let key = (sections[&o.section].clone(), o.insn);
                        let cell = &cells[&key];
                        match o.patched {
                            Patched::Poisoned { .. } => assert!(
                                matches!(cell, Cell::Guarded { .. } | Cell::Unguarded { .. }),
                                "{oname} on {kname} {key:?}: poisoned, but {cell:?}"
                            ),
                            _ => assert!(
                                matches!(cell, Cell::Resolved { value, .. } if *value == o.resolution.new_val),
                                "{oname} on {kname} {key:?}: {} expected, {cell:?}",
                                o.resolution.new_val
                            ),
                        }
                        compared += 1;
                    }
                }
                Err(failure) => {
                    let key = (failure.section.clone(), failure.insn);
                    assert!(
                        matches!(cells[&key], Cell::Failed { .. }),
                        "{oname} on {kname}: relocate_object failed at {key:?} ({failure}), the check says {:?}",
                        cells[&key]
                    );
                }
            }
        }
    }
    assert!(compared > 1000, "{compared} cells compared");
}

/// The cell of the `kind` relocation of `what` (its C spelling's start).
fn cell<'c>(checker: &Checker<'_>, check: &'c KernelCheck, kind: &str, what: &str) -> &'c Cell {
    let i = checker
        .sites()
        .iter()
        .position(|s| s.relo.kind.to_string() == kind && s.what.starts_with(what))
        .unwrap_or_else(|| panic!("no {kind} relocation of {what}"));
    &check.cells[i]
}

fn guarded(why: &str) -> Cell {
    Cell::Guarded { why: why.into() }
}

fn unguarded(why: &str) -> Cell {
    Cell::Unguarded { why: why.into() }
}

/// What each poisoned relocation of the test objects is on every real
/// kernel: guarded where `bpf_core_field_exists` branches around it,
/// reachable where nothing does, with the reason in C.
#[test]
fn guards_and_reasons_on_real_kernels() {
    let Some(s) = setup("check-guards") else {
        return;
    };
    for (oname, obytes) in &s.objects {
        let obj = BpfObject::parse(obytes).unwrap();
        let checker = Checker::from_object(&obj);
        for (kname, kbytes) in &s.kernels {
            let kernel = Btf::parse(kbytes).unwrap();
            let check = checker.check(&kernel);
            let at = |kind: &str, what: &str| cell(&checker, &check, kind, what).clone();
            if oname.starts_with("tracer") {
                // The pre-5.14 fallback is poisoned and guarded; all else
                // resolves: the tool loads on every one of these kernels.
                assert_eq!(
                    at("byte_off", "struct task_struct___pre514.state"),
                    guarded("struct task_struct has no member `state`"),
                    "{oname} on {kname}"
                );
                assert!(check.is_ok(), "{oname} on {kname}: {check:?}");
                let poisoned = check
                    .cells
                    .iter()
                    .filter(|c| !matches!(c, Cell::Resolved { .. }))
                    .count();
                assert_eq!(poisoned, 1, "{oname} on {kname}");
                assert_eq!(checker.sites().len(), 60);
            } else if oname.starts_with("kernel") {
                assert_eq!(
                    at("byte_off", "struct task_struct___old.state"),
                    guarded("struct task_struct has no member `state`"),
                    "{oname} on {kname}"
                );
                assert_eq!(
                    at("byte_off", "struct mm_struct___future.no_such_member"),
                    guarded("struct mm_struct has no member `no_such_member`"),
                    "{oname} on {kname}"
                );
                assert_eq!(
                    at("byte_off", "struct task_struct___wide.prio"),
                    unguarded(
                        "`struct task_struct___wide.prio` is 4 bytes in this kernel and 8 in \
                         the program: libbpf resizes a load only for unsigned integers and \
                         pointers"
                    ),
                    "{oname} on {kname}"
                );
                assert_eq!(
                    at(
                        "enumval_value",
                        "enum bpf_func_id___mine::BPF_FUNC_no_such_helper"
                    ),
                    unguarded(
                        "enum bpf_func_id has no value `BPF_FUNC_no_such_helper` in this kernel"
                    ),
                    "{oname} on {kname}"
                );
                assert!(!check.is_ok());
            }
        }
    }
}

/// The matrix: a column per kernel for a few, value counts for many,
/// failures grouped by reason, the exit status a CI job wants.
#[test]
fn matrix_text_json_and_exit_status() {
    let Some(s) = setup("check-matrix") else {
        return;
    };
    let parsed: Vec<(String, Btf<'_>)> = s
        .kernels
        .iter()
        .map(|(n, b)| (n.clone(), Btf::parse(b).unwrap()))
        .collect();
    let object = |name: &str| {
        &s.objects
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name}"))
            .1
    };
    let tracer_bytes = object("tracer-bpfel");
    let tracer = BpfObject::parse(tracer_bytes).unwrap();
    let checker = Checker::from_object(&tracer);
    let mut matrix = Matrix::new(&checker);
    for (name, btf) in &parsed {
        matrix.push(name.clone(), Ok(checker.check(btf)));
    }
    assert_eq!(matrix.exit_code(), 0);
    let text = matrix.to_string();
    let n = parsed.len();
    assert!(
        text.contains(&format!(
            "summary: {n} kernels: {n} ok, 0 failing, 0 unreadable; 60 relocations: 59 resolve \
             everywhere, 1 guarded where missing, 0 fail somewhere"
        )),
        "{text}"
    );
    assert!(text.contains("  [1] debian-6.1: ok\n"), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with(".text insn #14 byte_off struct task_struct___pre514.state"))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(row.matches("guarded").count(), n, "{row}");
    assert!(!text.contains("failures:"), "{text}");

    // An unreadable kernel: exit 2, its column `-`.
    matrix.push("broken.btf", Err("truncated".into()));
    assert_eq!(matrix.exit_code(), 2);
    assert!(
        matrix
            .to_string()
            .contains("broken.btf: unreadable: truncated")
    );

    // Many kernels: each relocation's values with their counts.
    let mut many = Matrix::new(&checker);
    for round in 0..3 {
        for (name, btf) in &parsed {
            many.push(format!("{name}#{round}"), Ok(checker.check(btf)));
        }
    }
    let text = many.to_string();
    let row = text
        .lines()
        .find(|l| l.starts_with(".text insn #14 byte_off struct task_struct___pre514.state"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.ends_with(&format!("guarded ×{}", 3 * n)), "{row}");
    let json = {
        let mut j = String::new();
        many.write_json(&mut j).unwrap();
        j
    };
    assert_eq!(json.matches("{\"guarded\":").count(), 3 * n);
    assert_eq!(json.matches("{\"value\":").count(), 59 * 3 * n);
    assert!(json.ends_with(&format!(
        "\"summary\":{{\"kernels\":{},\"ok\":{},\"failing\":0,\"unreadable\":0,\"relocations\":60,\
         \"resolved\":59,\"guarded\":1,\"failing_relocations\":0}}}}",
        3 * n,
        3 * n
    )));

    // A failing object: exit 1, the failures grouped by reason.
    let kernel_obj = BpfObject::parse(object("kernel-bpfel")).unwrap();
    let checker = Checker::from_object(&kernel_obj);
    let mut matrix = Matrix::new(&checker);
    for (name, btf) in &parsed {
        matrix.push(name.clone(), Ok(checker.check(btf)));
    }
    assert_eq!(matrix.exit_code(), 1);
    let text = matrix.to_string();
    assert!(
        text.contains(
            "  kprobe/enums insn #17 enumval_value enum bpf_func_id___mine::BPF_FUNC_no_such_helper (1): \
             poisoned and reachable: the verifier rejects the program\n    on every kernel: enum \
             bpf_func_id has no value `BPF_FUNC_no_such_helper` in this kernel\n"
        ),
        "{text}"
    );
}

/// One checker serves threads checking kernels at once, with the answers
/// of one thread.
#[test]
fn a_checker_is_shared_between_threads() {
    fn sync<T: Sync>(_: &T) {}
    let Some(s) = setup("check-threads") else {
        return;
    };
    let obj = BpfObject::parse(&s.objects[4].1).unwrap();
    let checker = Checker::from_object(&obj);
    sync(&checker);
    let alone: Vec<KernelCheck> = s
        .kernels
        .iter()
        .map(|(_, b)| checker.check(&Btf::parse(b).unwrap()))
        .collect();
    let together: Vec<KernelCheck> = std::thread::scope(|scope| {
        let handles: Vec<_> = s
            .kernels
            .iter()
            .map(|(_, b)| scope.spawn(|| checker.check(&Btf::parse(b).unwrap())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(alone, together);
}
