//! `btf dump` (the command-line tool) against bpftool, byte for byte, and
//! its failures: one line on stderr and a non-zero exit.
//!
//! Sources: the running kernel's `/sys/kernel/btf/vmlinux`, the same object
//! by id (root), and the Debian corpus (`scripts/fetch-corpus.sh`): its
//! vmlinux, a spread of its modules as raw split BTF and as `.ko` files, and
//! some of those `.ko` files compressed with gzip, zstd and xz.

#[path = "../../btf-core/tests/common/mod.rs"]
mod common;
#[path = "../../btf-core/tests/dump_common/mod.rs"]
mod dump_common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use dump_common::{TempDir, assert_same_dump, bpftool_raw, bpftool_raw_batch};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Every this-many-th module of the corpus is dumped through the tool (the
/// library's dump is compared with bpftool on all of them in btf-core).
const MODULE_STRIDE: usize = 16;

fn btf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_btf"))
}

fn dump(source: &Path, base: Option<&Path>) -> Output {
    let mut cmd = btf();
    cmd.arg("dump").arg(source);
    if let Some(base) = base {
        cmd.arg("--base").arg(base);
    }
    cmd.output().expect("run btf")
}

/// The dump's stdout, after checking it succeeded quietly.
fn dumped(source: &Path, base: Option<&Path>) -> Vec<u8> {
    let out = dump(source, base);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "btf dump {}: {:?}: {}",
        source.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Checks a failure: non-zero exit, one line on stderr that starts with
/// `btf: ` and holds `needle`.
fn assert_fails(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded; stderr {stderr:?}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("btf: ") && stderr.ends_with('\n') && stderr.lines().count() == 1,
        "not one line: {stderr:?}"
    );
    assert!(stderr.contains(needle), "{stderr:?} lacks {needle:?}");
}

fn bpftool() -> bool {
    common::require(dump_common::have_bpftool(), "bpftool")
}

fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    common::require(ok, tool)
}

#[test]
fn running_kernel_vmlinux() {
    if !common::require(Path::new(VMLINUX).is_file(), VMLINUX) || !bpftool() {
        return;
    }
    let ours = dumped(Path::new(VMLINUX), None);
    assert_same_dump(&ours, &bpftool_raw(Path::new(VMLINUX), None), VMLINUX);
    assert!(ours.len() > 1 << 20, "a kernel's dump is megabytes");
}

#[test]
fn running_kernel_by_id() {
    let root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if !common::require(root, "root (BPF_BTF_GET_FD_BY_ID)") || !bpftool() {
        return;
    }
    let linux = btf_sys::Linux;
    let vmlinux = btf_sys::open_btfs(&linux)
        .filter_map(Result::ok)
        .find_map(|(id, fd)| {
            let info = btf_sys::btf_info(&linux, &fd).ok()?;
            (info.kernel_btf && info.name == "vmlinux").then_some(id)
        })
        .expect("the kernel lists its vmlinux btf");
    let source = format!("id:{vmlinux}");
    let ours = btf().args(["dump", &source]).output().expect("run btf");
    assert!(ours.status.success(), "{ours:?}");
    let theirs = Command::new("bpftool")
        .args(["btf", "dump", "id", &vmlinux.to_string(), "format", "raw"])
        .output()
        .expect("run bpftool");
    assert!(theirs.status.success(), "{theirs:?}");
    assert_same_dump(&ours.stdout, &theirs.stdout, &source);

    let none = btf().args(["dump", "id:4294967295"]).output().expect("run");
    assert_fails(
        &none,
        "id:4294967295: no BTF object with id 4294967295 (see `btf list`",
    );
}

/// The tool run as `nobody`: no capabilities, as a newcomer's shell is.
fn unprivileged() -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_btf"));
    cmd
}

/// Without privileges, `id:N` says what it needs and what works instead,
/// and the summary says where the BTF came from.
#[test]
fn unprivileged_user_is_told_what_works() {
    let root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let setpriv = Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !common::require(root, "root (to drop to an unprivileged user)")
        || !common::require(setpriv, "setpriv (util-linux)")
        || !common::require(Path::new(VMLINUX).is_file(), VMLINUX)
    {
        return;
    }
    let out = unprivileged().args(["dump", "id:1"]).output().expect("run");
    assert_fails(&out, "id:1: opening a BTF object by id needs CAP_SYS_ADMIN");
    assert_fails(&out, "/sys/kernel/btf/<name>");

    let out = unprivileged().output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text.contains("read from /sys/kernel/btf (bpf(2) by id needs CAP_SYS_ADMIN)"),
        "{text}"
    );
}

/// `btf` alone: a summary with sizes for a person, why modules are what
/// they are, and the commands to try next.
#[test]
fn summary_reads_at_a_glance() {
    if !common::require(Path::new(VMLINUX).is_file(), VMLINUX) {
        return;
    }
    let out = btf().output().expect("run btf");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let vmlinux = text
        .lines()
        .find(|line| line.trim_start().starts_with("vmlinux "))
        .unwrap_or_else(|| panic!("no vmlinux line: {text}"));
    assert!(
        vmlinux.contains(" MiB ") && vmlinux.contains(" types "),
        "{vmlinux}"
    );
    let modules = text
        .lines()
        .find(|line| line.trim_start().starts_with("modules "))
        .unwrap_or_else(|| panic!("no modules line: {text}"));
    // Either a count of modules or the reason there are none.
    assert!(
        modules.contains("none: ") || modules.contains(" loaded modules"),
        "{modules}"
    );
    let module_dirs = std::fs::read_dir("/sys/kernel/btf")
        .map(|dir| dir.count().saturating_sub(1))
        .unwrap_or(0);
    if module_dirs == 0 {
        assert!(modules.contains("none: "), "{modules}");
    }
    for next in [
        "btf find ",
        "btf dump /sys/kernel/btf/vmlinux",
        "--format c",
        "btf list",
        "btf reloc ",
        "btf diff ",
        "btf validate ",
    ] {
        assert!(text.contains(next), "no {next:?} in {text}");
    }
}

#[test]
fn corpus_vmlinux() {
    let Some(dir) = common::corpus() else { return };
    if !bpftool() {
        return;
    }
    let path = dir.join("vmlinux.btf");
    assert_same_dump(
        &dumped(&path, None),
        &bpftool_raw(&path, None),
        "corpus vmlinux",
    );
}

/// A spread of modules, raw and as `.ko`, against bpftool's dump of the raw
/// blob on the same base.
#[test]
fn corpus_modules_raw_and_ko() {
    let Some(dir) = common::corpus() else { return };
    if !bpftool() {
        return;
    }
    let base = dir.join("vmlinux.btf");
    let names = common::module_names(&dir);
    let picked: Vec<&String> = names.iter().step_by(MODULE_STRIDE).collect();
    assert!(picked.len() > 100, "only {} modules", picked.len());
    let blobs: Vec<PathBuf> = picked
        .iter()
        .map(|n| dir.join("modules").join(format!("{n}.btf")))
        .collect();
    let tmp = TempDir::new("cli-modules");
    let theirs = bpftool_raw_batch(&blobs, Some(&base), &tmp.0.join("batch"));
    for ((name, blob), theirs) in picked.iter().zip(&blobs).zip(&theirs) {
        assert!(!theirs.is_empty(), "{name}: bpftool printed nothing");
        assert_same_dump(&dumped(blob, Some(&base)), theirs, name);
        let ko = dir.join("ko").join(format!("{name}.ko"));
        assert_same_dump(&dumped(&ko, Some(&base)), theirs, &format!("{name}.ko"));
    }
    eprintln!("{} modules dumped identically, raw and .ko", picked.len());
}

/// `btf dump --format c` (a vmlinux.h) against `bpftool … format c`.
///
/// Debian's bpftool 7.1 carries libbpf 1.1, whose dumper did not yet mark
/// enums of 1 or 8 bytes with `__attribute__((mode(byte)))` or
/// `__attribute__((mode(word)))`; libbpf does since 1.2, and so do we (the
/// exact comparison with libbpf 1.7 is `benches/tests/c_dump.rs`). Those
/// attributes are the only difference allowed, and some must occur.
#[test]
fn c_format_against_bpftool() {
    if !common::require(Path::new(VMLINUX).is_file(), VMLINUX) || !bpftool() {
        return;
    }
    let c_dump = |source: &Path, base: Option<&Path>| {
        let mut cmd = btf();
        cmd.arg("dump").arg(source).args(["--format", "c"]);
        if let Some(base) = base {
            cmd.arg("--base").arg(base);
        }
        let out = cmd.output().expect("run btf");
        assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
        out.stdout
    };
    let bpftool_c = |source: &Path, base: Option<&Path>| {
        let mut cmd = Command::new("bpftool");
        if let Some(base) = base {
            cmd.arg("-B").arg(base);
        }
        let out = cmd
            .args(["btf", "dump", "file"])
            .arg(source)
            .args(["format", "c"])
            .output()
            .expect("run bpftool");
        assert!(out.status.success(), "{out:?}");
        out.stdout
    };
    let mut attributes = 0;
    let mut compare = |ours: Vec<u8>, theirs: Vec<u8>, what: &str| {
        let ours = String::from_utf8(ours).expect("utf-8");
        let mut plain = String::with_capacity(ours.len());
        for line in ours.split_inclusive('\n') {
            let stripped = line
                .replace(" __attribute__((mode(byte)))", "")
                .replace(" __attribute__((mode(word)))", "");
            attributes += usize::from(stripped.len() != line.len());
            plain.push_str(&stripped);
        }
        assert_same_dump(plain.as_bytes(), &theirs, what);
    };
    let vmlinux = Path::new(VMLINUX);
    compare(
        c_dump(vmlinux, None),
        bpftool_c(vmlinux, None),
        "vmlinux as C",
    );
    if let Some(dir) = common::corpus() {
        let base = dir.join("vmlinux.btf");
        for name in common::module_names(&dir).iter().step_by(400) {
            let blob = dir.join("modules").join(format!("{name}.btf"));
            compare(
                c_dump(&blob, Some(&base)),
                bpftool_c(&blob, Some(&base)),
                &format!("{name} as C"),
            );
        }
    }
    assert!(attributes > 0, "no enum size attribute was written");
}

/// `.ko.gz`, `.ko.zst` and `.ko.xz` dump as the `.ko` does.
#[test]
fn compressed_modules() {
    let Some(dir) = common::corpus() else { return };
    if !bpftool() || !have("gzip") || !have("zstd") || !have("xz") {
        return;
    }
    let base = dir.join("vmlinux.btf");
    let tmp = TempDir::new("cli-compressed");
    for name in ["nf_tables", "ext4", "3c574_cs"] {
        let ko = dir.join("ko").join(format!("{name}.ko"));
        let theirs = bpftool_raw(
            &dir.join("modules").join(format!("{name}.btf")),
            Some(&base),
        );
        for (tool, suffix) in [("gzip", "gz"), ("zstd", "zst"), ("xz", "xz")] {
            let packed = tmp.0.join(format!("{name}.ko.{suffix}"));
            let out = Command::new(tool)
                .arg("-c")
                .arg(&ko)
                .output()
                .expect("run compressor");
            assert!(out.status.success(), "{tool}: {out:?}");
            std::fs::write(&packed, &out.stdout).expect("write compressed module");
            assert_same_dump(
                &dumped(&packed, Some(&base)),
                &theirs,
                &format!("{name}.ko.{suffix}"),
            );

            // A truncated stream is a clear error, not a short dump.
            let cut = tmp.write(
                &format!("cut-{name}.ko.{suffix}"),
                &out.stdout[..out.stdout.len() / 2],
            );
            assert_fails(&dump(&cut, Some(&base)), "decompression failed");
        }
    }
}

#[test]
fn split_without_base_says_so() {
    let Some(dir) = common::corpus() else { return };
    let ko = dir.join("ko/nf_tables.ko");
    assert_fails(&dump(&ko, None), "give its base with --base");
    let raw = dir.join("modules/nf_tables.btf");
    assert_fails(&dump(&raw, None), "give its base with --base");
}

#[test]
fn bad_sources_fail_with_one_line() {
    let tmp = TempDir::new("cli-bad");
    assert_fails(
        &dump(Path::new("/nonexistent/btf"), None),
        "/nonexistent/btf: No such file",
    );
    let text = tmp.write("text", b"not btf at all, just some words\n");
    assert_fails(
        &dump(&text, None),
        "not a BTF blob or ELF file (starts with 6e 6f 74 20 62 74 66 20)",
    );
    assert_fails(&dump(&text, None), "compressed with gzip, zstd or xz");
    let empty = tmp.write("empty", b"");
    assert_fails(
        &dump(&empty, None),
        "empty file, not a BTF blob or ELF file",
    );
    // A base that cannot be read is named as the base.
    assert_fails(
        &dump(&text, Some(Path::new("/nonexistent/base"))),
        "base /nonexistent/base: No such file",
    );
    // An ELF file without BTF: this test binary is built without it.
    let exe = std::env::current_exe().expect("test binary path");
    assert_fails(&dump(&exe, None), "no .BTF section");
    if Path::new(VMLINUX).is_file() {
        let cut = std::fs::read(VMLINUX).expect("read vmlinux");
        let whole = cut.len();
        let kept = whole / 3;
        let cut = tmp.write("cut", &cut[..kept]);
        assert_fails(
            &dump(&cut, None),
            &format!(
                "truncated: the header describes {whole} bytes but there are {kept} ({} missing)",
                whole - kept
            ),
        );
        let out = btf()
            .args(["dump", VMLINUX, "--base"])
            .arg(&text)
            .output()
            .expect("run");
        assert_fails(
            &out,
            &format!("base {}: not a BTF blob or ELF file", text.display()),
        );
    }
    for bad in ["id:0", "id:x"] {
        let out = btf().args(["dump", bad]).output().expect("run");
        assert_fails(&out, "btf object id is a number");
    }
    // Structs that embed each other have no C form: what came before the
    // loop is printed, then one line names the type.
    use btf_core::write::{Builder, EncodeOptions, MemberDef};
    let mut b = Builder::new();
    let (a, b_id) = (btf_core::TypeId::new(1), btf_core::TypeId::new(2));
    b.add_struct("a", 4, &[MemberDef::new("b", b_id, 0)]);
    b.add_struct("b", 4, &[MemberDef::new("a", a, 0)]);
    let looped = b
        .encode_unchecked(&EncodeOptions::default())
        .expect("encode");
    let looped = tmp.write("loop", &looped);
    let c = btf()
        .arg("dump")
        .arg(&looped)
        .args(["--format", "c"])
        .output()
        .expect("run");
    assert_fails(&c, "type 1 must be defined before itself");
    assert!(c.stdout.starts_with(b"#ifndef __VMLINUX_H__\n"));
    // A member naming a type that does not exist: the library parses it
    // (elements are checked where used) but the tool validates first and
    // names the type and the byte offset, in both formats, printing nothing.
    let mut b = Builder::new();
    b.add_int("int", 4, 0);
    b.add_struct("s", 4, &[MemberDef::new("x", btf_core::TypeId::new(9), 0)]);
    let dangling = b
        .encode_unchecked(&EncodeOptions::default())
        .expect("encode");
    let dangling = tmp.write("dangling", &dangling);
    for format in ["raw", "c"] {
        let out = btf()
            .arg("dump")
            .arg(&dangling)
            .args(["--format", format])
            .output()
            .expect("run");
        assert_fails(
            &out,
            "type [2] refers at offset 56 to type [9], which does not exist",
        );
        assert!(out.stdout.is_empty(), "{format}: printed before the check");
    }
}

/// A write error half-way (a full disk) ends the dump with one line and a
/// non-zero exit; a reader that leaves early (`| head`) is not an error.
#[test]
fn output_failures() {
    if !common::require(Path::new(VMLINUX).is_file(), VMLINUX) {
        return;
    }
    if common::require(Path::new("/dev/full").exists(), "/dev/full") {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        let out = btf()
            .args(["dump", VMLINUX])
            .stdout(full)
            .output()
            .expect("run");
        assert_fails(&out, "No space left on device");
    }

    let mut child = btf()
        .args(["dump", VMLINUX])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 64];
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_exact(&mut first)
        .expect("read the start of the dump");
    assert!(first.starts_with(b"[1] "));
    // The pipe's read end is closed now.
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compressed files of zeros (decompression bombs, as gzip, zstd and xz)
/// are refused after their first bytes, in less than 16 MiB of memory: the
/// tool runs with its data segment limited to that (`prlimit --data`,
/// which bounds the heap and anonymous mappings), so inflating the stream
/// first would fail with "out of memory" instead.
#[test]
fn decompression_bombs_are_refused_in_little_memory() {
    let prlimit = Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !common::require(prlimit, "prlimit (util-linux)") {
        return;
    }
    let tmp = TempDir::new("cli-bombs");
    let zeros = vec![0u8; 64 << 20];
    let mut zstd = zstd::stream::write::Encoder::new(Vec::new(), 3).expect("zstd");
    std::io::Write::write_all(&mut zstd, &zeros).expect("zstd");
    let zstd = zstd.finish().expect("zstd");
    // xz's default preset: an 8 MiB dictionary, as `xz` writes by default.
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
    std::io::Write::write_all(&mut xz, &zeros).expect("xz");
    let xz = xz.finish().expect("xz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, &zeros).expect("gzip");
    let gz = gz.finish().expect("gzip");
    for (name, bytes) in [("zeros.zst", zstd), ("zeros.xz", xz), ("zeros.gz", gz)] {
        assert!(bytes.len() < zeros.len() / 200, "{name} does not compress");
        let path = tmp.write(name, &bytes);
        let out = Command::new("prlimit")
            .arg(format!("--data={}", 16 << 20))
            .arg(env!("CARGO_BIN_EXE_btf"))
            .arg("dump")
            .arg(&path)
            .output()
            .expect("run btf under prlimit");
        assert_fails(
            &out,
            "decompression failed: the decompressed bytes are not BTF or ELF (they start with 00 00",
        );
    }
}

/// A blob of a few hundred bytes whose C dump is gigabytes (empty structs
/// of 4 GiB: padding) stops at the default bound with one line that says
/// how to lift it; `--max-output` sets the bound exactly, and `unlimited`
/// removes it. Every real kernel and module dumps whole under the default
/// (the corpus tests above compare them with bpftool).
#[test]
fn output_is_bounded() {
    use btf_core::write::{Builder, EncodeOptions};
    let tmp = TempDir::new("cli-max-output");
    let mut b = Builder::new();
    for i in 0..16 {
        b.add_struct(format!("huge{i}").as_str(), u32::MAX, &[]);
    }
    let blob = b.encode(&EncodeOptions::default()).expect("encode");
    assert!(blob.len() < 400, "{} bytes", blob.len());
    let path = tmp.write("huge.btf", &blob);
    let run = |args: &[&str]| {
        btf()
            .arg("dump")
            .arg(&path)
            .args(["--format", "c"])
            .args(args)
            .output()
            .expect("run")
    };

    let out = run(&[]);
    let default = 64 * 1024 * 1024 + 16 * blob.len();
    assert_fails(
        &out,
        &format!("the dump would be larger than {default} bytes, the default limit"),
    );
    assert_fails(&out, "--max-output unlimited");
    assert_eq!(out.stdout.len(), default);

    let out = run(&["--max-output", "1M"]);
    assert_fails(&out, "larger than 1048576 bytes, the --max-output limit");
    assert_eq!(out.stdout.len(), 1 << 20);
    assert!(out.stdout.starts_with(b"#ifndef __VMLINUX_H__\n"));

    // The bound is on output, not input: a small bound cuts a real dump
    // at exactly that many bytes, and a bound at its size lets it through.
    if Path::new(VMLINUX).is_file() {
        let whole = btf().args(["dump", VMLINUX]).output().expect("run");
        assert!(whole.status.success());
        let exact = whole.stdout.len().to_string();
        let out = btf()
            .args(["dump", VMLINUX, "--max-output", &exact])
            .output()
            .expect("run");
        assert!(out.status.success(), "{out:?}");
        assert_eq!(out.stdout, whole.stdout);
        let out = btf()
            .args(["dump", VMLINUX, "--max-output", "4096"])
            .output()
            .expect("run");
        assert_fails(&out, "larger than 4096 bytes");
        assert_eq!(out.stdout, whole.stdout[..4096]);
        let out = btf()
            .args(["dump", VMLINUX, "--max-output", "unlimited"])
            .output()
            .expect("run");
        assert_eq!(out.stdout, whole.stdout);
    }

    let out = btf()
        .args(["dump", "/dev/null", "--max-output", "lots"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a byte count"),
        "{out:?}"
    );
}

/// `btf diff`: Debian's 6.1 vmlinux against the running kernel's, as text
/// and as JSON, whole and for one type; a bad source is one line.
#[test]
fn diff_of_two_kernels() {
    let Some(dir) = common::corpus() else { return };
    if !common::require(Path::new(VMLINUX).is_file(), VMLINUX) {
        return;
    }
    let old = dir.join("vmlinux.btf");
    let run = |args: &[&str]| {
        btf()
            .arg("diff")
            .arg(&old)
            .arg(VMLINUX)
            .args(args)
            .output()
            .expect("run btf diff")
    };
    let text = run(&[]);
    assert!(text.status.success(), "{text:?}");
    let text = String::from_utf8(text.stdout).expect("utf-8");
    let last = text.lines().last().expect("a summary");
    assert!(
        last.starts_with("summary: ") && last.contains(" changed (of "),
        "{last}"
    );
    assert!(
        text.contains("\nstruct task_struct: "),
        "task_struct changed"
    );

    let json = run(&["--format", "json"]);
    assert!(json.status.success());
    let json = String::from_utf8(json.stdout).expect("utf-8");
    assert!(
        json.starts_with("{\"added\":[") && json.ends_with("}}\n"),
        "{}",
        &json[..200]
    );

    let one = run(&["--type", "struct sk_buff", "--layout-only"]);
    assert!(one.status.success());
    let one = String::from_utf8(one.stdout).expect("utf-8");
    assert!(one.contains("struct sk_buff: size "), "{one}");
    assert!(one.lines().count() < text.lines().count() / 10);
    assert!(!one.contains("func "), "layout only: {one}");

    let bad = btf()
        .args(["diff", "/etc/passwd", VMLINUX])
        .output()
        .expect("run");
    assert_fails(&bad, "/etc/passwd: not a BTF blob or ELF file");
}

/// `btf reloc`: a CO-RE program (btf-core/tests/ext_progs/kernel.c, built
/// here with clang-19) against Debian's vmlinux and the running kernel's,
/// one line per relocation, poisoned ones explained; `--strict`, JSON.
#[test]
fn reloc_of_a_core_program() {
    let clang = Command::new("clang-19")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !common::require(clang, "clang-19 (Debian's clang-19)") {
        return;
    }
    let Some(dir) = common::corpus() else { return };
    let tmp = TempDir::new("cli-reloc");
    let progs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../btf-core/tests/ext_progs");
    let object = tmp.0.join("kernel.bpf.o");
    let built = Command::new("clang-19")
        .args(["-g", "-O2", "-target", "bpf", "-c"])
        .arg(progs.join("kernel.c"))
        .arg("-I")
        .arg(&progs)
        .arg("-o")
        .arg(&object)
        .output()
        .expect("run clang-19");
    assert!(built.status.success(), "{built:?}");
    let vmlinux = dir.join("vmlinux.btf");
    let run = |extra: &[&str]| {
        btf()
            .arg("reloc")
            .arg(&object)
            .arg("--btf")
            .arg(&vmlinux)
            .args(extra)
            .output()
            .expect("run btf reloc")
    };
    let out = run(&[]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let summary = text.lines().last().expect("a summary");
    let (count, rest) = summary.split_once(" relocations, ").expect(summary);
    let count: usize = count.parse().expect("a count");
    assert_eq!(text.lines().count(), count + 1, "{text}");
    assert!(
        text.contains("byte_off: struct task_struct.pid (0:5) → struct task_struct in vmlinux: "),
        "{text}"
    );
    let poisoned: usize = rest.split(' ').next().unwrap().parse().unwrap();
    assert!(poisoned > 0, "the ___old flavour is poisoned: {text}");
    assert!(text.contains("poisoned (candidate ["), "{text}");
    // --strict refuses poisoned instructions.
    let strict = run(&["--strict"]);
    assert_fails(&strict, "poisoned instructions (--strict)");
    // JSON: the same relocations in the same order, valid JSON, a reason
    // exactly for the poisoned ones.
    let json = run(&["--format", "json"]);
    assert!(json.status.success());
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    let relocs = json.as_array().expect("an array");
    assert_eq!(relocs.len(), count);
    for (r, line) in relocs.iter().zip(text.lines()) {
        let field = |k: &str| r.get(k).unwrap_or_else(|| panic!("{k} in {r}"));
        let head = format!(
            "{} insn #{} {}: {} → ",
            field("section").as_str().expect("section"),
            field("insn").as_u64().expect("insn"),
            field("kind").as_str().expect("kind"),
            field("local").as_str().expect("local"),
        );
        assert!(line.starts_with(&head), "{line} vs {r}");
        let poisoned = field("poisoned").as_bool().expect("poisoned");
        assert_eq!(poisoned, line.contains(": poisoned ("), "{line} vs {r}");
        match field("reason").as_str() {
            Some(why) => assert!(poisoned && line.ends_with(&format!("poisoned ({why})"))),
            None => assert!(!poisoned && field("reason").is_null(), "{r}"),
        }
        assert!(field("target").is_string() || field("target").is_null());
        assert!(field("old").is_u64() && field("new").is_u64() && field("relo").is_u64());
    }
    // The running kernel, given as a file, relocates too.
    if Path::new(VMLINUX).is_file() {
        let out = btf()
            .arg("reloc")
            .arg(&object)
            .args(["--btf", VMLINUX])
            .output()
            .expect("run");
        assert!(out.status.success(), "{out:?}");
    }
    // Not a BPF object: one line.
    let bad = btf()
        .args(["reloc", "/etc/passwd", "--btf"])
        .arg(&vmlinux)
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("btf: /etc/passwd: "));
}
