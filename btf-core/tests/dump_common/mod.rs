//! Helpers shared by the dump and ELF tests: running bpftool (one file, or
//! many in one batch process), comparing dumps byte for byte, temp files.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the installed `bpftool` runs.
pub fn have_bpftool() -> bool {
    Command::new("bpftool")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// bpftool's raw dump of `file` (split on `base` when given), as bytes.
pub fn bpftool_raw(file: &Path, base: Option<&Path>) -> Vec<u8> {
    let mut cmd = Command::new("bpftool");
    if let Some(base) = base {
        cmd.arg("-B").arg(base);
    }
    cmd.args(["btf", "dump", "file"])
        .arg(file)
        .args(["format", "raw"]);
    let out = cmd.output().expect("run bpftool");
    assert!(
        out.status.success(),
        "bpftool on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// bpftool's raw dumps of many files in one `bpftool batch` process (a
/// process per file costs ~10 ms; a batch shares the base's parse). The
/// dumps are told apart by a `version` command between them, whose output
/// cannot look like a dump line.
pub fn bpftool_raw_batch(files: &[PathBuf], base: Option<&Path>, scratch: &Path) -> Vec<Vec<u8>> {
    if files.is_empty() {
        return Vec::new();
    }
    let marker = Command::new("bpftool")
        .arg("version")
        .output()
        .expect("bpftool version")
        .stdout;
    assert!(!marker.is_empty() && marker[0] != b'[' && marker[0] != b'\t');
    let mut script = String::new();
    for f in files {
        let path = f.to_str().expect("utf-8 path");
        assert!(
            !path.contains(char::is_whitespace),
            "batch paths cannot hold spaces: {path}"
        );
        script.push_str("version\nbtf dump file ");
        script.push_str(path);
        script.push_str(" format raw\n");
    }
    script.push_str("version\n");
    std::fs::write(scratch, script).expect("write batch file");
    let mut cmd = Command::new("bpftool");
    if let Some(base) = base {
        cmd.arg("-B").arg(base);
    }
    cmd.arg("batch").arg("file").arg(scratch);
    let out = cmd.output().expect("run bpftool batch");
    let _ = std::fs::remove_file(scratch);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // bpftool v7.1 ends every batch that ran `btf dump` with this spurious
    // error (a stale errno from closing fd -1) and exit status 255, after
    // running every command; the trailing marker proves the last one ran.
    let spurious = "Error: reading batch file failed: Bad file descriptor";
    assert!(
        out.status.success() || stderr.trim() == spurious,
        "bpftool batch failed: {stderr}"
    );
    let parts = split_on(&out.stdout, &marker);
    assert_eq!(
        parts.len(),
        files.len() + 2,
        "bpftool batch output has the wrong number of markers: {stderr}"
    );
    assert!(parts[0].is_empty() && parts[files.len() + 1].is_empty());
    parts[1..=files.len()].iter().map(|p| p.to_vec()).collect()
}

/// Splits `hay` on every occurrence of `needle`.
fn split_on<'a>(hay: &'a [u8], needle: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if &hay[i..i + needle.len()] == needle {
            parts.push(&hay[start..i]);
            i += needle.len();
            start = i;
        } else {
            // Markers start lines: skip to the next line.
            match hay[i..].iter().position(|&b| b == b'\n') {
                Some(nl) => i += nl + 1,
                None => break,
            }
        }
    }
    parts.push(&hay[start..]);
    parts
}

/// Our byte-exact raw dump.
pub fn ours(btf: &btf_core::Btf<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    btf_core::dump::write_raw(btf, &mut out).unwrap_or_else(|e| match e {});
    out
}

/// Panics with the first differing line when the dumps differ.
pub fn assert_same_dump(ours: &[u8], theirs: &[u8], what: &str) {
    if ours == theirs {
        return;
    }
    let a: Vec<&[u8]> = ours.split(|&b| b == b'\n').collect();
    let b: Vec<&[u8]> = theirs.split(|&b| b == b'\n').collect();
    let n = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    panic!(
        "{what}: dump differs from bpftool's at line {} (ours {} lines, bpftool {})\n ours: {:?}\n them: {:?}",
        n + 1,
        a.len(),
        b.len(),
        a.get(n).map(|l| String::from_utf8_lossy(l)),
        b.get(n).map(|l| String::from_utf8_lossy(l)),
    );
}

/// A scratch directory for this test process, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("btf-core-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Writes `bytes` to `name` inside, returning the path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `f` on `items` split over the machine's cores; results keep order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &[T]) -> Vec<R> + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = items.len().div_ceil(cores).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(i, c)| {
                let f = &f;
                s.spawn(move || f(i, c))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker panicked"))
            .collect()
    })
}
