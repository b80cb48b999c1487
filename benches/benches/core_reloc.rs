//! CO-RE relocation as a loader does it: the test objects clang-19 builds
//! from `btf-core/tests/ext_progs` relocated against Debian's vmlinux
//! (the corpus), by btf-core and by libbpf 1.7.
//!
//! - `core_reloc_objects`: ours, parsing each object's bytes and
//!   relocating it against `Targets` built once over vmlinux parsed once
//!   (a loader holding the kernel's BTF), and relocating objects parsed
//!   beforehand; libbpf, `bpf_object__open_file` with `btf_custom_path` +
//!   `bpf_object__prepare` + close for each object (libbpf parses the
//!   target again for every object), `btf__parse` of the target once per
//!   object (what of libbpf's time is that parse), and open + close alone;
//!   and ours from nothing (parse the target, build its index on the
//!   first relocation, then as the first line). Lines of like cost run
//!   interleaved (ours warm; libbpf's and ours from nothing), so that the
//!   differences the README derives see the same load.
//! - `core_reloc_candidates`: the candidates of each relocation's root
//!   type, vmlinux alone against vmlinux and every corpus module
//!   (`ModuleSearch::Always`), with the essential-name indexes built
//!   beforehand (interleaved: the target is their ratio) and built by the
//!   first search.
//!
//! Before anything is timed, `core_objects::compare` checks that libbpf
//! and we patch every instruction of every object alike against this
//! target, and the module search is checked to find what vmlinux alone
//! finds, and more.

use std::ffi::CString;
use std::hint::black_box;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

use btf_benches::core_objects::{self, TempDir};
use btf_benches::data;
use btf_benches::ffi::{self, LibbpfBtf, LibbpfObject};
use btf_benches::ids;
use btf_core::ext::{BpfObject, CoreReloKind};
use btf_core::reloc::{ModuleSearch, Targets, relocate_object};
use btf_core::{Btf, Type};

use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};

fn group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_secs(1));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(3));
    g
}

/// Runs every line of `lines` in turn, `iters` rounds, and reports the
/// time spent in line `which` only; the order rotates every round (as in
/// `compare.rs`).
fn interleaved(b: &mut criterion::Bencher<'_>, lines: &[(&str, &dyn Fn())], which: usize) {
    b.iter_custom(|iters| btf_benches::interleaved_time(iters, lines, which))
}

fn cstring(p: &std::path::Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("a path without NUL")
}

/// The objects: core.o and kernel.o, and the kernel selftests'
/// `test_core_reloc_kernel.o` when their source is there.
fn objects(dir: &std::path::Path) -> Vec<(String, PathBuf)> {
    assert!(
        core_objects::have_clang(),
        "btf-benches: the core_reloc bench builds its objects with clang-19, which does not run here"
    );
    let mut objects = core_objects::build(dir);
    // The kernel's selftests, as the tests fetch them (target/kselftests,
    // or BTF_KSELFTESTS).
    let built = btf_benches::core_selftests::selftests_dir().and_then(|selftests| {
        core_objects::build_kselftest(&selftests, "test_core_reloc_kernel.c", dir)
            .map_err(|why| format!("{}: {why}", selftests.display()))
    });
    match built {
        Ok(path) => objects.push(("test_core_reloc_kernel".into(), path)),
        Err(why) => eprintln!("core_reloc: without test_core_reloc_kernel.c: {why}"),
    }
    objects
}

fn core_reloc(c: &mut Criterion) {
    let corpus = data::corpus();
    let tmp = TempDir::new("core-reloc-bench");
    let target_path = tmp.path().join("vmlinux.btf");
    std::fs::write(&target_path, &corpus.base).expect("write the target's BTF to a temp file");
    let objects = objects(tmp.path());
    let files: Vec<Vec<u8>> = objects
        .iter()
        .map(|(_, p)| data::read_or_die(p, "built just now"))
        .collect();
    let vmlinux = Btf::parse(&corpus.base).expect("Debian's vmlinux parses");

    // Same patches as libbpf, every instruction of every program.
    let mut relos = 0;
    for ((name, path), file) in objects.iter().zip(&files) {
        let (compared, n, _) = core_objects::compare(
            &format!("{name}.o against Debian's vmlinux"),
            path,
            file,
            &target_path,
            &vmlinux,
        );
        assert!(n > 0 && compared > 0, "{name}.o: nothing relocated");
        eprintln!(
            "core_reloc: {name}.o: {n} relocations, {} bytes, patched as libbpf patches",
            file.len()
        );
        relos += n;
    }
    ffi::libbpf_quiet();

    let targets = Targets::new(&vmlinux);
    targets.vmlinux().prepare();
    let parsed: Vec<BpfObject<'_>> = files
        .iter()
        .map(|f| BpfObject::parse(f).expect("the object parses"))
        .collect();
    let relocate_all = |targets: &Targets<'_>, objs: &[BpfObject<'_>]| -> usize {
        objs.iter()
            .map(|o| {
                relocate_object(targets, black_box(o))
                    .expect("relocates")
                    .outcomes
                    .len()
            })
            .sum()
    };
    assert_eq!(relocate_all(&targets, &parsed), relos);
    let c_target = cstring(&target_path);
    let c_objects: Vec<CString> = objects.iter().map(|(_, p)| cstring(p)).collect();
    for o in &c_objects {
        let mut obj = LibbpfObject::open(o, &c_target).expect("libbpf opens the object");
        assert_eq!(obj.prepare(), 0, "libbpf prepares {o:?}");
    }

    let ours_whole = || {
        let n: usize = files
            .iter()
            .map(|f| {
                let obj = BpfObject::parse(black_box(f)).expect("parses");
                relocate_object(&targets, &obj)
                    .expect("relocates")
                    .outcomes
                    .len()
            })
            .sum();
        black_box(n);
    };
    let ours_only = || {
        black_box(relocate_all(&targets, &parsed));
    };
    // A loader that holds nothing yet: parses the target and builds its
    // index (on the first relocation), then as `ours_whole`.
    let ours_cold = || {
        let vmlinux = Btf::parse(black_box(&corpus.base)).expect("parses");
        let targets = Targets::new(&vmlinux);
        let n: usize = files
            .iter()
            .map(|f| {
                let obj = BpfObject::parse(black_box(f)).expect("parses");
                relocate_object(&targets, &obj)
                    .expect("relocates")
                    .outcomes
                    .len()
            })
            .sum();
        black_box(n);
    };
    let whole = || {
        for o in &c_objects {
            let mut obj = LibbpfObject::open(black_box(o), &c_target).expect("open");
            assert_eq!(obj.prepare(), 0);
        }
    };
    let parse = || {
        for _ in &c_objects {
            black_box(LibbpfBtf::parse_file(black_box(&c_target)).expect("btf__parse"));
        }
    };
    let open = || {
        for o in &c_objects {
            black_box(LibbpfObject::open(black_box(o), &c_target).expect("open"));
        }
    };
    // Two interleaved sets of lines of like cost (an interleaved line
    // takes the time of its whole set per iteration).
    let ours_lines: [(&str, &dyn Fn()); 2] = [
        (ids::OURS_RELOC_WHOLE, &ours_whole),
        (ids::OURS_RELOC_ONLY, &ours_only),
    ];
    let libbpf_lines: [(&str, &dyn Fn()); 4] = [
        (ids::LIBBPF_RELOC_WHOLE, &whole),
        (ids::LIBBPF_RELOC_PARSE, &parse),
        (ids::LIBBPF_RELOC_OPEN, &open),
        (ids::OURS_RELOC_COLD, &ours_cold),
    ];
    let mut g = c.benchmark_group(ids::RELOC_OBJECTS);
    g.throughput(Throughput::Elements(relos as u64));
    g.warm_up_time(Duration::from_millis(500));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(2));
    for lines in [&ours_lines[..], &libbpf_lines[..]] {
        for (i, (name, _)) in lines.iter().enumerate() {
            g.bench_function(*name, |b| interleaved(b, lines, i));
        }
    }
    g.finish();

    candidates(c, &corpus, &vmlinux, &parsed);
}

/// The root type of every relocation that searches candidates (all but
/// the local type id's), in `.BTF.ext` order, with its object's BTF.
fn roots<'a>(objs: &'a [BpfObject<'a>]) -> Vec<Type<'a>> {
    let mut out = Vec::new();
    for obj in objs {
        for site in obj.core_relos() {
            for (_, _, relo) in site.iter() {
                if relo.kind != CoreReloKind::TypeIdLocal {
                    out.push(obj.btf().type_by_id(relo.type_id).expect("root type"));
                }
            }
        }
    }
    out
}

fn candidates(
    c: &mut Criterion,
    corpus: &data::Corpus,
    vmlinux: &Btf<'_>,
    parsed: &[BpfObject<'_>],
) {
    let modules: Vec<Btf<'_>> =
        Btf::parse_splits(corpus.modules.iter().map(|(_, m)| m.as_slice()), vmlinux)
            .into_iter()
            .map(|m| m.expect("every corpus module parses"))
            .collect();
    let all_modules = |vmlinux| {
        corpus
            .modules
            .iter()
            .zip(&modules)
            .fold(Targets::new(vmlinux), |t, ((name, _), m)| {
                t.with_module(name, m)
            })
            .module_search(ModuleSearch::Always)
    };
    let alone = Targets::new(vmlinux);
    let all = all_modules(vmlinux);
    alone.vmlinux().prepare();
    all.vmlinux().prepare();
    for m in all.modules() {
        m.prepare();
    }
    let roots = roots(parsed);
    let search = |targets: &Targets<'_>| -> usize {
        roots
            .iter()
            .map(|t| targets.candidates(black_box(t)).len())
            .sum()
    };
    let (n_alone, n_all) = (search(&alone), search(&all));
    for t in &roots {
        let a = alone.candidates(t);
        let b = all.candidates(t);
        assert_eq!(
            b.get(..a.len()),
            Some(&a[..]),
            "vmlinux's candidates come first"
        );
    }
    eprintln!(
        "core_reloc: {} relocations search candidates; {n_alone} candidates in vmlinux, {n_all} with {} modules",
        roots.len(),
        modules.len()
    );
    // Relocating with every module searched is no line here: Debian's
    // cxgb4 carries three copies of `struct task_struct` that deduplication
    // left in it, so kernel.o's TYPE_ID_TARGET of task_struct becomes
    // ambiguous (libbpf would fail the same way; it searches modules only
    // when vmlinux has no candidate).
    let relocates =
        |targets: &Targets<'_>| parsed.iter().all(|o| relocate_object(targets, o).is_ok());
    assert!(relocates(&alone));
    eprintln!(
        "core_reloc: relocating every object with ModuleSearch::Always: {}",
        if relocates(&all) {
            "ok"
        } else {
            "fails (ambiguous candidates)"
        }
    );

    let mut g = group(c, ids::RELOC_CANDIDATES);
    g.throughput(Throughput::Elements(roots.len() as u64));
    // The target is the ratio of these two: interleaved.
    let warm: [(&str, &dyn Fn()); 2] = [
        (ids::OURS_CANDS_VMLINUX, &|| {
            black_box(search(&alone));
        }),
        (ids::OURS_CANDS_MODULES, &|| {
            black_box(search(&all));
        }),
    ];
    for (i, (name, _)) in warm.iter().enumerate() {
        g.bench_function(*name, |b| interleaved(b, &warm, i));
    }
    g.bench_function(ids::OURS_CANDS_VMLINUX_FIRST, |b| {
        b.iter_with_large_drop(|| {
            let fresh = Targets::new(vmlinux);
            black_box(search(&fresh));
            fresh
        })
    });
    g.bench_function(ids::OURS_CANDS_MODULES_FIRST, |b| {
        b.iter_with_large_drop(|| {
            let fresh = all_modules(vmlinux);
            black_box(search(&fresh));
            fresh
        })
    });
    g.finish();
}

criterion::criterion_group!(benches, core_reloc);
criterion::criterion_main!(benches);
