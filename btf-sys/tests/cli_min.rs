//! `btf min` (the command-line tool): the file it writes is the
//! library's (`btf_core::min`), `btf reloc` against it gives the values it
//! gives against the full BTF, module BTF works in both forms, and its
//! failures are one line on stderr. Objects: `btf-core/tests/ext_progs`,
//! built here with clang-19; targets: Debian's vmlinux and modules (the
//! corpus) and the running kernel's vmlinux.

#[path = "../../btf-core/tests/common/mod.rs"]
mod common;
#[path = "../../btf-core/tests/dump_common/mod.rs"]
mod dump_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use btf_core::Btf;
use btf_core::ext::BpfObject;
use btf_core::min::{Form, Minimizer};
use dump_common::TempDir;

fn btf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_btf"))
}

/// `btf min OBJECTS... --btf TARGET -o OUT`.
fn min_of(objects: &[&Path], target: &Path, out: &Path) -> Output {
    btf()
        .arg("min")
        .args(objects)
        .arg("--btf")
        .arg(target)
        .arg("-o")
        .arg(out)
        .output()
        .expect("run btf min")
}

fn assert_fails(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("btf: ") && stderr.lines().count() == 1,
        "not one line: {stderr:?}"
    );
    assert!(stderr.contains(needle), "{stderr:?} lacks {needle:?}");
}

fn build(dir: &Path, name: &str) -> PathBuf {
    let progs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../btf-core/tests/ext_progs");
    let out = dir.join(format!("{name}.o"));
    let built = Command::new("clang-19")
        .args(["-g", "-O2", "-target", "bpf", "-c"])
        .arg(progs.join(format!("{name}.c")))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run clang-19");
    assert!(built.status.success(), "{built:?}");
    out
}

/// `btf reloc OBJ --btf TARGET [--module M] --format json`, as (kind,
/// old, new, poisoned) per relocation; a target type id's value as `-`
/// (the minimal BTF numbers types anew).
fn reloc_values(object: &Path, target: &Path, module: Option<&Path>) -> Vec<String> {
    let mut cmd = btf();
    cmd.arg("reloc").arg(object).arg("--btf").arg(target);
    if let Some(m) = module {
        cmd.arg("--module").arg(m);
    }
    let out = cmd
        .args(["--format", "json"])
        .output()
        .expect("run btf reloc");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |rec: &str, name: &str| -> String {
        let at = rec.find(&format!("\"{name}\":")).unwrap() + name.len() + 3;
        rec[at..]
            .split([',', '}'])
            .next()
            .unwrap()
            .trim_matches('"')
            .to_string()
    };
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split("},{")
        .map(|rec| {
            let kind = field(rec, "kind");
            let new = if kind == "target_type_id" {
                "-".to_string()
            } else {
                field(rec, "new")
            };
            format!(
                "{kind} {} {new} {}",
                field(rec, "old"),
                field(rec, "poisoned")
            )
        })
        .collect()
}

#[test]
fn min_of_core_programs() {
    let clang = Command::new("clang-19")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !common::require(clang, "clang-19 (Debian's clang-19)") {
        return;
    }
    let Some(dir) = common::corpus() else { return };
    let tmp = TempDir::new("cli-min");
    let kernel = build(&tmp.0, "kernel");
    let module = build(&tmp.0, "min_modules");
    let vmlinux = dir.join("vmlinux.btf");
    let out = tmp.0.join("min.btf");

    let run = min_of(&[&kernel, &module], &vmlinux, &out);
    assert!(run.status.success(), "{run:?}");
    let said = String::from_utf8(run.stdout).unwrap();
    assert!(
        said.starts_with(&format!("wrote {}: ", out.display())),
        "{said}"
    );
    assert!(
        said.contains(" relocations of 2 objects resolve against it as against "),
        "{said}"
    );
    // The library's bytes.
    let written = std::fs::read(&out).unwrap();
    let vmlinux_bytes = std::fs::read(&vmlinux).unwrap();
    let full = Btf::parse(&vmlinux_bytes).unwrap();
    let files = [
        std::fs::read(&kernel).unwrap(),
        std::fs::read(&module).unwrap(),
    ];
    let objects: Vec<BpfObject<'_>> = files.iter().map(|f| BpfObject::parse(f).unwrap()).collect();
    assert_eq!(written, Minimizer::new(&full).run(&objects).unwrap().btf);
    // Written over its own target: the inputs' leases end before the
    // output is opened (a lease still held would end the process with
    // SIGKILL).
    let copy = tmp.0.join("vmlinux-copy.btf");
    std::fs::copy(&vmlinux, &copy).unwrap();
    let run = min_of(&[&kernel, &module], &copy, &copy);
    assert!(run.status.success(), "{run:?}");
    assert_eq!(std::fs::read(&copy).unwrap(), written);
    // `btf reloc` against it: the full BTF's values.
    for object in [&kernel, &module] {
        assert_eq!(
            reloc_values(object, &out, None),
            reloc_values(object, &vmlinux, None),
            "{}",
            object.display()
        );
    }

    // A module: standalone, and a minimal base with a minimal split.
    let ext4 = dir.join("modules/ext4.btf");
    let standalone = tmp.0.join("ext4.min.btf");
    let run = btf()
        .arg("min")
        .arg(&module)
        .arg("--btf")
        .arg(&ext4)
        .arg("--base")
        .arg(&vmlinux)
        .arg("-o")
        .arg(&standalone)
        .output()
        .expect("run btf min");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(
        reloc_values(&module, &standalone, None),
        reloc_values(&module, &vmlinux, Some(&ext4))
    );
    let (split, base) = (tmp.0.join("ext4.split.btf"), tmp.0.join("ext4.base.btf"));
    let run = btf()
        .arg("min")
        .arg(&module)
        .arg("--btf")
        .arg(&ext4)
        .arg("--base")
        .arg(&vmlinux)
        .arg("-o")
        .arg(&split)
        .arg("--split")
        .arg(&base)
        .output()
        .expect("run btf min");
    assert!(run.status.success(), "{run:?}");
    let ext4_bytes = std::fs::read(&ext4).unwrap();
    let ext4_btf = Btf::parse_split(&ext4_bytes, &full).unwrap();
    let lib = Minimizer::new(&full)
        .with_module("ext4", &ext4_btf)
        .form(Form::Split)
        .run(&objects[1..])
        .unwrap();
    assert_eq!(std::fs::read(&base).unwrap(), lib.btf);
    assert_eq!(std::fs::read(&split).unwrap(), lib.splits[0]);
    assert_eq!(
        reloc_values(&module, &base, Some(&split)),
        reloc_values(&module, &vmlinux, Some(&ext4))
    );
    // `btf dump` reads the pair (and validates it).
    let dumped = btf()
        .arg("dump")
        .arg(&split)
        .arg("--base")
        .arg(&base)
        .output()
        .unwrap();
    assert!(dumped.status.success(), "{dumped:?}");
    assert!(String::from_utf8_lossy(&dumped.stdout).contains("STRUCT 'ext4_inode_info'"));

    // The running kernel by default.
    if Path::new("/sys/kernel/btf/vmlinux").is_file() {
        let run = btf()
            .arg("min")
            .arg(&kernel)
            .arg("-o")
            .arg(tmp.0.join("running.btf"))
            .output()
            .unwrap();
        assert!(run.status.success(), "{run:?}");
        assert!(String::from_utf8_lossy(&run.stdout).contains("/sys/kernel/btf/vmlinux"));
    }

    // Failures: one line each.
    let fail = |args: &[&std::ffi::OsStr]| btf().arg("min").args(args).output().unwrap();
    let o = |p: &Path| p.as_os_str().to_owned();
    assert_fails(
        &fail(&[
            &o(&kernel),
            "--split".as_ref(),
            "x".as_ref(),
            "-o".as_ref(),
            "y".as_ref(),
        ]),
        "--split",
    );
    assert_fails(
        &fail(&[
            &o(&kernel),
            "--btf".as_ref(),
            &o(&ext4),
            "-o".as_ref(),
            &o(&out),
        ]),
        "--base",
    );
    assert_fails(
        &fail(&[
            "/etc/passwd".as_ref(),
            "--btf".as_ref(),
            &o(&vmlinux),
            "-o".as_ref(),
            &o(&out),
        ]),
        "/etc/passwd",
    );
    assert_fails(
        &fail(&[
            &o(&kernel),
            "--btf".as_ref(),
            "/etc/passwd".as_ref(),
            "-o".as_ref(),
            &o(&out),
        ]),
        "not a BTF blob",
    );
    let no_dir = tmp.0.join("no/such/dir/min.btf");
    assert_fails(
        &fail(&[
            &o(&kernel),
            "--btf".as_ref(),
            &o(&vmlinux),
            "-o".as_ref(),
            &o(&no_dir),
        ]),
        "no/such/dir",
    );
}
