//! What the `btf check` tests share (`btf-core/tests/check.rs`,
//! `btf-sys/tests/cli_check.rs`): real kernels' BTF and the clang-19 test
//! objects. Included by path, so it uses only `std` and the skip recorder
//! it is given.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The test programs' sources.
pub const PROGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../btf-core/tests/ext_progs");

/// The workspace's root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether `clang-19 --version` runs.
pub fn have_clang() -> bool {
    Command::new("clang-19")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds `ext_progs/<name>.c` for `target` (`bpfel`, `bpfeb`) into `dir`.
pub fn build(dir: &Path, name: &str, target: &str) -> PathBuf {
    let out = dir.join(format!("{name}-{target}.o"));
    let status = Command::new("clang-19")
        .args(["-g", "-O2", "-target", target, "-c", "-w"])
        .arg(Path::new(PROGS).join(format!("{name}.c")))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run clang-19");
    assert!(
        status.success(),
        "clang-19 -target {target} {name}.c failed"
    );
    out
}

/// The directory of the fetched Debian kernels (`scripts/fetch-kernels.sh`),
/// from `BTF_KERNELS` or `target/btf-kernels`; the script is run first
/// when it is not complete (unless `BTF_NO_FETCH` is set).
pub fn fetched_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BTF_KERNELS") {
        return PathBuf::from(dir);
    }
    let dir = root().join("target/btf-kernels");
    if !dir.join("COMPLETE").is_file() && std::env::var_os("BTF_NO_FETCH").is_none() {
        static FETCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _once = FETCH.lock();
        if !dir.join("COMPLETE").is_file() {
            eprintln!("fetching Debian kernels with scripts/fetch-kernels.sh ...");
            let status = Command::new(root().join("scripts/fetch-kernels.sh"))
                .arg(&dir)
                .status();
            if !status.as_ref().is_ok_and(|s| s.success()) {
                eprintln!("scripts/fetch-kernels.sh failed: {status:?}");
            }
        }
    }
    dir
}

/// Real kernels' BTF, each with a short name: Debian 12's 6.1 vmlinux from
/// the corpus, the fetched Debian 6.1 and 6.12 builds, the running kernel.
/// `missing` is told what could not be had (it records a skip, a failure
/// in CI) and the rest is returned.
pub fn kernels(corpus: &Path, missing: impl Fn(&str)) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let vmlinux = corpus.join("vmlinux.btf");
    if vmlinux.is_file() {
        out.push(("debian-6.1".to_owned(), vmlinux));
    } else {
        missing(&format!("the corpus's {}", vmlinux.display()));
    }
    let dir = fetched_dir();
    match std::fs::read_to_string(dir.join("COMPLETE")) {
        Ok(list) => {
            for pkg in list.lines().filter(|l| !l.is_empty()) {
                out.push((pkg.to_owned(), dir.join(format!("{pkg}.btf"))));
            }
        }
        Err(_) => missing(&format!(
            "Debian kernels in {} (scripts/fetch-kernels.sh)",
            dir.display()
        )),
    }
    let running = PathBuf::from("/sys/kernel/btf/vmlinux");
    if running.is_file() {
        out.push(("running".to_owned(), running));
    } else {
        missing("/sys/kernel/btf/vmlinux");
    }
    out
}

/// A directory removed, with what it holds, on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/btf-<tag>-<pid>`, empty.
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("btf-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
