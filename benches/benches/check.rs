//! `btf check`'s speed: one tracing tool's object (`tracer.c`, 60 CO-RE
//! relocations on task_struct, cred, nsproxy, mm_struct, css_set, cgroup,
//! file, dentry, inode, sock, sk_buff, net_device) against many kernels.
//!
//! - `check_kernels`: 100 uncompressed kernel BTFs in memory (Debian's
//!   6.1 from the corpus, the Debian 6.1 and 6.12 builds of
//!   `scripts/fetch-kernels.sh`, the running kernel; each a separate copy,
//!   round robin), one element per kernel: `Btf::parse` alone (the
//!   floor), `parse+check` (parse, then `Checker::check`: one pass keeps
//!   the types whose names the object asks for) on one thread and on two,
//!   and `parse+full_index+check` (the essential-name index of every type,
//!   as `Targets::new` builds it for a loader). Interleaved.
//! - `check_archive`: the same kernels, 20 of them, in one `.tar.xz`
//!   (single-threaded xz, as `tar -cJf` writes BTFHub's): the whole
//!   `btf check tracer.o ARCHIVE` process against `xz -dc ARCHIVE >
//!   /dev/null`, interleaved.
//!
//! Before timing, every kernel's check is compared with the full index's.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use btf_benches::core_objects::{PROGS, TempDir, have_clang};
use btf_benches::data;
use btf_core::Btf;
use btf_core::check::Checker;
use btf_core::ext::BpfObject;
use btf_core::reloc::Targets;
use criterion::{Criterion, SamplingMode, Throughput};

/// How many kernels `check_kernels` checks per iteration.
const KERNELS: usize = 100;

/// How many kernels the archive holds.
const IN_ARCHIVE: usize = 20;

/// Runs every line in turn, `iters` rounds, rotating the order, and
/// reports the time spent in line `which` only.
fn interleaved(b: &mut criterion::Bencher<'_>, lines: &[(&str, &dyn Fn())], which: usize) {
    b.iter_custom(|iters| btf_benches::interleaved_time(iters, lines, which))
}

/// The real kernels: (name, path).
fn kernel_files() -> Vec<(String, PathBuf)> {
    let mut out = vec![(
        "debian-6.1".to_owned(),
        data::corpus_dir().join("vmlinux.btf"),
    )];
    let fetched = std::env::var_os("BTF_KERNELS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/btf-kernels"),
        PathBuf::from,
    );
    let list = std::fs::read_to_string(fetched.join("COMPLETE")).unwrap_or_else(|e| {
        panic!(
            "btf-benches: {}: {e}\n  run scripts/fetch-kernels.sh (or set BTF_KERNELS)",
            fetched.join("COMPLETE").display()
        )
    });
    for pkg in list.lines().filter(|l| !l.is_empty()) {
        out.push((pkg.to_owned(), fetched.join(format!("{pkg}.btf"))));
    }
    out.push(("running".to_owned(), PathBuf::from(data::VMLINUX)));
    out
}

/// Builds `tracer.c` for the host's byte order.
fn tracer(dir: &Path) -> PathBuf {
    assert!(
        have_clang(),
        "btf-benches: the check bench builds tracer.c with clang-19, which does not run here"
    );
    let out = dir.join("tracer.o");
    let status = Command::new("clang-19")
        .args(["-g", "-O2", "-target", "bpf", "-c", "-w"])
        .arg(Path::new(PROGS).join("tracer.c"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("clang-19 runs");
    assert!(status.success(), "clang-19 tracer.c");
    out
}

/// Checks each of `kernels` (taken in turn by `threads` threads).
fn check_all(checker: &Checker<'_>, kernels: &[Vec<u8>], threads: usize) {
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(bytes) = kernels.get(next.fetch_add(1, Ordering::Relaxed)) {
            let btf = Btf::parse(bytes).expect("kernel parses");
            black_box(checker.check(&btf));
        }
    };
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
}

fn check_kernels(c: &mut Criterion, checker: &Checker<'_>, files: &[(String, PathBuf)]) {
    let real: Vec<Vec<u8>> = files
        .iter()
        .map(|(_, p)| data::read_or_die(p, "run scripts/fetch-kernels.sh and fetch-corpus.sh"))
        .collect();
    for bytes in &real {
        let btf = Btf::parse(bytes).expect("kernel parses");
        assert_eq!(
            checker.check(&btf),
            checker.check_targets(&Targets::new(&btf)),
            "the one-pass index gives what the full one gives"
        );
    }
    let kernels: Vec<Vec<u8>> = (0..KERNELS).map(|i| real[i % real.len()].clone()).collect();
    let bytes: usize = kernels.iter().map(Vec::len).sum();
    println!(
        "check_kernels: {KERNELS} kernels, {} MB, {} relocations, {} distinct kernels",
        bytes >> 20,
        checker.sites().len(),
        real.len()
    );
    let parse = || {
        for k in &kernels {
            black_box(Btf::parse(k).expect("kernel parses"));
        }
    };
    let one = || check_all(checker, &kernels, 1);
    let two = || check_all(checker, &kernels, 2);
    let full = || {
        for k in &kernels {
            let btf = Btf::parse(k).expect("kernel parses");
            black_box(checker.check_targets(&Targets::new(&btf)));
        }
    };
    let lines: [(&str, &dyn Fn()); 4] = [
        ("parse", &parse),
        ("parse+check", &one),
        ("parse+check/2_threads", &two),
        ("parse+full_index+check", &full),
    ];
    let mut g = c.benchmark_group("check_kernels");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(KERNELS as u64));
    for (i, (name, _)) in lines.iter().enumerate() {
        g.bench_function(*name, |b| interleaved(b, &lines, i));
    }
    g.finish();
}

/// The `btf` binary beside this bench's target directory, built when
/// missing.
fn btf_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/check-… → target/<profile>/btf
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("a target directory");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "btf-sys",
            "--features",
            "cli",
            "--bin",
            "btf",
        ])
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build of the btf tool");
    dir.join("btf")
}

/// A `.tar.xz` of `IN_ARCHIVE` kernels, made once and kept beside the
/// fetched kernels.
fn archive(files: &[(String, PathBuf)], work: &Path) -> PathBuf {
    let cache = std::env::var_os("BTF_KERNELS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/btf-kernels"),
        PathBuf::from,
    );
    let out = cache.join(format!("bench-{IN_ARCHIVE}.tar.xz"));
    if out.is_file() {
        return out;
    }
    let dir = work.join("archive");
    std::fs::create_dir_all(&dir).expect("archive dir");
    let mut names = Vec::new();
    for i in 0..IN_ARCHIVE {
        let (name, path) = &files[i % files.len()];
        let member = format!("{i:02}-{name}.btf");
        std::fs::write(dir.join(&member), data::read_or_die(path, "")).expect("write member");
        names.push(member);
    }
    let tmp = cache.join(format!(".bench-{}.tar.xz", std::process::id()));
    let status = Command::new("tar")
        .env("XZ_OPT", "-6 -T1")
        .arg("-C")
        .arg(&dir)
        .arg("-cJf")
        .arg(&tmp)
        .args(&names)
        .status()
        .expect("run tar");
    assert!(status.success(), "tar -cJf");
    std::fs::rename(&tmp, &out).expect("rename the archive");
    out
}

fn check_archive(c: &mut Criterion, tracer: &Path, files: &[(String, PathBuf)], work: &Path) {
    let btf = btf_binary();
    let archive = archive(files, work);
    let run = |cmd: &mut Command| {
        let status = cmd.stdout(Stdio::null()).status().expect("run a command");
        assert!(status.success(), "{cmd:?}");
    };
    let xz = || run(Command::new("xz").arg("-dc").arg(&archive));
    let check = || run(Command::new(&btf).arg("check").arg(tracer).arg(&archive));
    check();
    println!(
        "check_archive: {} ({} MB), {IN_ARCHIVE} kernels",
        archive.display(),
        std::fs::metadata(&archive).map_or(0, |m| m.len() >> 20)
    );
    let lines: [(&str, &dyn Fn()); 2] = [("xz -dc", &xz), ("btf check", &check)];
    let mut g = c.benchmark_group("check_archive");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements(IN_ARCHIVE as u64));
    for (i, (name, _)) in lines.iter().enumerate() {
        g.bench_function(*name, |b| interleaved(b, &lines, i));
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let work = TempDir::new("check-bench");
    let tracer = tracer(work.path());
    let files = kernel_files();
    let object_bytes = std::fs::read(&tracer).expect("tracer.o");
    let object = BpfObject::parse(&object_bytes).expect("tracer.o parses");
    let checker = Checker::from_object(&object);
    check_kernels(&mut c, &checker, &files);
    check_archive(&mut c, &tracer, &files, work.path());
    c.final_summary();
}
