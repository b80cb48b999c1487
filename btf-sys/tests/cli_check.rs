//! `btf check`: one matrix whatever the kernels come as (files, a
//! directory, a BTFHub-shaped tree of `*.btf.tar.xz`, one tar of many,
//! plain or compressed with gzip, zstd or xz), read as streams; exit 0, 1
//! or 2. On real kernels (Debian's 6.1 and 6.12 builds, the running
//! kernel) and clang-19 objects.

#[path = "../../btf-core/tests/check_common/mod.rs"]
mod check_common;
#[path = "../../btf-core/tests/common/mod.rs"]
mod common;

use check_common::TempDir;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn btf_check(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btf"))
        .arg("check")
        .args(args)
        .output()
        .expect("run btf")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

struct Fixture {
    tmp: TempDir,
    tracer: PathBuf,
    kernel_obj: PathBuf,
    /// (file stem, copy of the kernel's BTF in `tmp/kernels`).
    kernels: Vec<(String, PathBuf)>,
}

fn fixture(tag: &str) -> Option<Fixture> {
    if !common::require(check_common::have_clang(), "clang-19 (Debian's clang-19)") {
        return None;
    }
    let corpus = common::corpus()?;
    let tmp = TempDir::new(tag);
    let tracer = check_common::build(tmp.path(), "tracer", "bpfel");
    let kernel_obj = check_common::build(tmp.path(), "kernel", "bpfel");
    let dir = tmp.path().join("kernels");
    std::fs::create_dir_all(&dir).unwrap();
    let kernels = check_common::kernels(&corpus, |what| {
        common::require(false, what);
    })
    .into_iter()
    .map(|(name, path)| {
        // Copied: sysfs files do not tar (their size reads as 4096).
        let copy = dir.join(format!("{name}.btf"));
        std::fs::write(&copy, std::fs::read(&path).unwrap()).unwrap();
        (name, copy)
    })
    .collect();
    Some(Fixture {
        tmp,
        tracer,
        kernel_obj,
        kernels,
    })
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a tool");
    assert!(out.status.success(), "{cmd:?}: {}", text(&out.stderr));
}

/// `btf check --format json`'s kernels: the name's last component (a
/// member's, or a file's) without `.btf…`, to its cells.
fn matrix(obj: &Path, kernels: &[&Path]) -> (i32, BTreeMap<String, Value>) {
    let mut args = vec![obj];
    args.extend(kernels);
    let json = Path::new("--format=json");
    args.push(json);
    let out = btf_check(&args);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    let cells = v["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let name = k["name"].as_str().unwrap();
            let last = name.rsplit(['/', ':']).next().unwrap();
            let stem = last.split(".btf").next().unwrap().to_owned();
            (stem, k["cells"].clone())
        })
        .collect();
    (out.status.code().unwrap_or(-1), cells)
}

/// Files, a directory, BTFHub's one-kernel `.btf.tar.xz` files in a tree,
/// and one tar of every kernel (plain, gzip, zstd, xz): the same cells for
/// each kernel.
#[test]
fn every_form_of_input_gives_the_same_matrix() {
    let Some(f) = fixture("cli-check-forms") else {
        return;
    };
    assert!(f.kernels.len() >= 5, "{} kernels", f.kernels.len());
    let files: Vec<&Path> = f.kernels.iter().map(|(_, p)| p.as_path()).collect();
    let (code, expected) = matrix(&f.tracer, &files);
    assert_eq!(code, 0);
    assert_eq!(expected.len(), f.kernels.len());
    for cells in expected.values() {
        assert_eq!(cells.as_array().unwrap().len(), 60);
    }

    // The directory of files.
    let (code, got) = matrix(&f.tracer, &[&f.tmp.path().join("kernels")]);
    assert_eq!((code, &got), (0, &expected));

    // BTFHub's layout: distro/release/arch/<kernel>.btf.tar.xz, each
    // holding <kernel>.btf; one compressed single file beside them.
    let hub = f.tmp.path().join("hub");
    for (i, (name, path)) in f.kernels.iter().enumerate() {
        let dir = hub.join(format!("debian/{}/x86_64", 11 + i % 2));
        std::fs::create_dir_all(&dir).unwrap();
        if i == 0 {
            run(Command::new("zstd")
                .arg("-q")
                .arg(path)
                .arg("-o")
                .arg(dir.join(format!("{name}.btf.zst"))));
            continue;
        }
        // Fast settings: what is tested is reading, not compressing.
        run(Command::new("tar")
            .env("XZ_OPT", "-0")
            .arg("-C")
            .arg(path.parent().unwrap())
            .arg("-cJf")
            .arg(dir.join(format!("{name}.btf.tar.xz")))
            .arg(format!("{name}.btf")));
    }
    std::fs::write(hub.join("README.md"), "BTFHub-shaped\n").unwrap();
    let out = btf_check(&[&f.tracer, &hub]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    // A one-kernel archive is named by itself.
    assert!(
        shown.contains("running.btf.tar.xz: ok\n") && !shown.contains(".btf.tar.xz:running"),
        "{shown}"
    );
    assert!(text(&out.stderr).contains("skipped 1 files"));
    let (code, got) = matrix(&f.tracer, &[&hub]);
    assert_eq!((code, &got), (0, &expected));

    // One archive of every kernel, in each compression.
    let plain = f.tmp.path().join("all.tar");
    let mut tar = Command::new("tar");
    tar.arg("-C")
        .arg(f.tmp.path().join("kernels"))
        .arg("-cf")
        .arg(&plain);
    for (name, _) in &f.kernels {
        tar.arg(format!("{name}.btf"));
    }
    run(&mut tar);
    let bytes = std::fs::read(&plain).unwrap();
    for (suffix, tool) in [
        ("", None),
        (".gz", Some("gzip")),
        (".zst", Some("zstd")),
        (".xz", Some("xz")),
    ] {
        let path = f.tmp.path().join(format!("all.tar{suffix}"));
        if let Some(tool) = tool {
            run(Command::new(tool)
                .args(["-k", "-q", "-f", "-1"])
                .arg(&plain));
        }
        assert!(path.is_file(), "{}", path.display());
        let (code, got) = matrix(&f.tracer, &[&path]);
        assert_eq!((code, &got), (0, &expected), "all.tar{suffix}");
    }
    // Members are named archive:member.
    let out = btf_check(&[&f.tracer, &f.tmp.path().join("all.tar.xz")]);
    assert!(text(&out.stdout).contains("all.tar.xz:debian-6.1.btf: ok"));
    assert!(bytes.len() > 10 << 20);
}

/// Archives are read as streams: many kernels in one compressed tar never
/// sit in memory together.
#[test]
fn archives_stream() {
    let Some(f) = fixture("cli-check-stream") else {
        return;
    };
    if !common::require(
        Path::new("/usr/bin/time").is_file(),
        "GNU time (/usr/bin/time)",
    ) {
        return;
    }
    // 24 kernels: each real one several times under another name.
    let dir = f.tmp.path().join("many");
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = Vec::new();
    for i in 0..24 {
        let (_, path) = &f.kernels[i % f.kernels.len()];
        let name = format!("k{i:02}.btf");
        std::fs::copy(path, dir.join(&name)).unwrap();
        names.push(name);
    }
    let archive = f.tmp.path().join("many.tar.zst");
    let mut tar = Command::new("tar");
    tar.arg("-C")
        .arg(&dir)
        .arg("--zstd")
        .arg("-cf")
        .arg(&archive)
        .args(&names);
    run(&mut tar);
    let total: u64 = names
        .iter()
        .map(|n| std::fs::metadata(dir.join(n)).unwrap().len())
        .sum();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_btf"))
        .arg("check")
        .arg(&f.tracer)
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("summary: 24 kernels: 24 ok"));
    let max_rss_kib: u64 = text(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap();
    // The kernels take `total` bytes; a run holds a few at a time.
    assert!(
        max_rss_kib * 1024 < total / 3,
        "peak {max_rss_kib} KiB for {total} bytes of kernels"
    );
}

/// Exit 1 when a relocation fails (the reasons in C), 2 when a kernel or
/// the object cannot be read or no kernel is found.
#[test]
fn exit_status_and_reasons() {
    let Some(f) = fixture("cli-check-exit") else {
        return;
    };
    let (_, running) = f.kernels.last().unwrap();
    let out = btf_check(&[&f.kernel_obj, running]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains(
            "kprobe/loads insn #1 byte_off struct task_struct___wide.prio (0:1): poisoned and \
             reachable: the verifier rejects the program\n    on [1]: `struct \
             task_struct___wide.prio` is 4 bytes in this kernel and 8 in the program"
        ),
        "{shown}"
    );
    assert!(shown.contains("  [1] "), "{shown}");

    // A truncated kernel: its column is unreadable, exit 2.
    let bytes = std::fs::read(running).unwrap();
    let cut = f.tmp.path().join("cut.btf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = btf_check(&[&f.tracer, running, &cut]);
    assert_eq!(out.status.code(), Some(2));
    let shown = text(&out.stdout);
    assert!(shown.contains("cut.btf: unreadable: "), "{shown}");
    assert!(shown.contains("1 ok, 0 failing, 1 unreadable"), "{shown}");

    // A file named on the command line that is no kernel.
    let readme = f.tmp.path().join("README");
    std::fs::write(&readme, "not a kernel").unwrap();
    let out = btf_check(&[&f.tracer, &readme]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("not BTF, an ELF file or a tar archive"));

    // Nothing to check, or no object.
    let empty = f.tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = btf_check(&[&f.tracer, &empty]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no kernel BTF found in"));
    let out = btf_check(&[&readme, running]);
    assert_eq!(out.status.code(), Some(2));
    let out = btf_check(&[&f.tracer, &f.tmp.path().join("missing.btf")]);
    assert_eq!(out.status.code(), Some(2));
}

/// The running kernel's verifier agrees: `bpftool prog loadall` loads
/// `tracer.o` (one poisoned instruction, guarded) and refuses it built
/// without its guard, at the poisoned instruction, where `btf check`
/// says 0 and 1.
#[test]
fn the_running_kernels_verifier_agrees() {
    let Some(f) = fixture("cli-check-verifier") else {
        return;
    };
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    });
    let bpftool = Command::new("bpftool")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !common::require(root, "root (bpftool loads programs)")
        || !common::require(bpftool, "bpftool")
        || !common::require(Path::new("/sys/fs/bpf").is_dir(), "bpffs at /sys/fs/bpf")
    {
        return;
    }
    let unguarded = f.tmp.path().join("tracer-unguarded.o");
    run(Command::new("clang-19")
        .args(["-g", "-O2", "-target", "bpfel", "-c", "-w", "-DUNGUARDED"])
        .arg(Path::new(check_common::PROGS).join("tracer.c"))
        .arg("-o")
        .arg(&unguarded));
    let running = Path::new("/sys/kernel/btf/vmlinux");
    for (obj, ours, loads) in [(&f.tracer, 0, true), (&unguarded, 1, false)] {
        let out = btf_check(&[obj, running]);
        assert_eq!(out.status.code(), Some(ours), "{}", text(&out.stdout));
        let pin = PathBuf::from(format!("/sys/fs/bpf/btf-check-{}", std::process::id()));
        let load = Command::new("bpftool")
            .args(["prog", "loadall"])
            .arg(obj)
            .arg(&pin)
            .output()
            .expect("run bpftool");
        let _ = std::fs::remove_dir_all(&pin);
        let log = text(&load.stderr);
        assert_eq!(load.status.success(), loads, "{}: {log}", obj.display());
        if !loads {
            assert!(log.contains("<invalid CO-RE relocation>"), "{log}");
            assert!(
                text(&out.stdout).contains(
                    ".text insn #3 byte_off struct task_struct___pre514.state (0:0): poisoned \
                     and reachable"
                ),
                "{}",
                text(&out.stdout)
            );
        } else {
            assert!(text(&out.stdout).contains("guarded"));
        }
    }
}

/// `--base`: each KERNEL is a module's BTF split on it, searched after
/// vmlinux as libbpf searches modules. `module.c`'s veth relocations
/// resolve on veth.ko's BTF and its nf_tables ones on nf_tables.ko's.
#[test]
fn modules_on_a_base() {
    let Some(f) = fixture("cli-check-base") else {
        return;
    };
    let corpus = common::corpus_dir();
    let module = check_common::build(f.tmp.path(), "module", "bpfel");
    let vmlinux = corpus.join("vmlinux.btf");
    let (veth, nft) = (
        corpus.join("modules/veth.btf"),
        corpus.join("modules/nf_tables.btf"),
    );
    let out = btf_check(&[
        &module,
        Path::new("--base"),
        &vmlinux,
        &veth,
        &nft,
        Path::new("--format=json"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let relocations = v["relocations"].as_array().unwrap();
    let kernels = v["kernels"].as_array().unwrap();
    assert_eq!(kernels.len(), 2);
    let mut seen = 0;
    for (i, r) in relocations.iter().enumerate() {
        let section = r["section"].as_str().unwrap();
        let kind = r["kind"].as_str().unwrap();
        let cell = |k: usize| &kernels[k]["cells"][i];
        let resolved = |k: usize| cell(k).get("value").is_some();
        // Offsets of members that exist resolve in their own module and
        // are poisoned in the other.
        if kind == "byte_off" && section == "kprobe/veth" {
            assert!(resolved(0) && cell(1).get("unguarded").is_some(), "{r}");
            seen += 1;
        }
        if kind == "byte_off" && section == "kprobe/nft" {
            assert!(resolved(1) && cell(0).get("unguarded").is_some(), "{r}");
            assert_eq!(
                cell(0)["unguarded"].as_str(),
                Some("this kernel has no struct nft_table"),
                "{r}"
            );
            seen += 1;
        }
    }
    assert!(seen >= 8, "{seen} relocations compared");
    // Without its base a module's BTF cannot be read.
    let out = btf_check(&[&module, &veth]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("0 ok, 0 failing, 1 unreadable; 30 relocations: 0 resolve"),
        "{}",
        text(&out.stdout)
    );
}
