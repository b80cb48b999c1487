//! `btf validate`: exit 0 when the kernel would load the blob, 1 with the
//! reason (every reason with `--all`) when it would not.

#[path = "../../btf-core/tests/dump_common/mod.rs"]
mod dump_common;

use btf_core::Endian;
use btf_core::testing::RawBlob;
use dump_common::TempDir;
use std::process::{Command, Output};

fn validate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btf"))
        .arg("validate")
        .args(args)
        .output()
        .expect("run btf")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `int`, then a VAR with vlen 1 and a kflag on a PTR.
fn bad_blob() -> Vec<u8> {
    let mut b = RawBlob::new(Endian::NATIVE);
    let (int, v) = (b.str("int"), b.str("v"));
    b.ty(int, 1, false, 0, 4).word(0x0100_0020);
    b.ty(v, 14, false, 1, 1).word(0);
    b.ty(0, 2, true, 0, 1);
    b.build()
}

#[test]
fn accepts_and_refuses_with_the_reason() {
    let dir = TempDir::new("cli-validate");
    let good = dir.write("good.btf", &btf_core::testing::tiny_blob_in(Endian::NATIVE));
    let bad = dir.write("bad.btf", &bad_blob());

    let out = validate(&[good.to_str().unwrap(), "--kernel", "6.18"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Linux 6.18 would accept it"));

    let out = validate(&[bad.to_str().unwrap(), "--kernel", "6.18"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("type [2] VAR 'v'") && err.contains("(kernel: \"vlen != 0\"; EINVAL)"),
        "{err}"
    );

    let out = validate(&[bad.to_str().unwrap(), "--kernel", "6.18", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    let listed = text(&out.stdout);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains("Invalid btf_info kind_flag"), "{listed}");

    let out = validate(&[bad.to_str().unwrap(), "--kernel", "not-a-kernel"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a kernel release"));
}

#[test]
fn the_running_kernels_vmlinux_passes() {
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        return;
    }
    let out = validate(&["/sys/kernel/btf/vmlinux"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
