//! Helpers shared by the dump and ELF tests: running bpftool (one file, or
//! many in one batch process), comparing dumps byte for byte, temp files,
//! and a minimal ELF writer.
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

/// One section of a test ELF file.
pub struct Section<'a> {
    pub name: &'a str,
    /// `SHT_PROGBITS` (1), `SHT_NOBITS` (8), ...
    pub sh_type: u32,
    pub flags: u64,
    pub data: &'a [u8],
}

impl<'a> Section<'a> {
    pub fn progbits(name: &'a str, data: &'a [u8]) -> Section<'a> {
        Section {
            name,
            sh_type: 1,
            flags: 0,
            data,
        }
    }
}

/// Writes a minimal relocatable ELF file: header, the sections' data, a
/// `.shstrtab`, and the section header table (null section first).
pub fn elf(is_64: bool, big_endian: bool, machine: u16, sections: &[Section<'_>]) -> Vec<u8> {
    let put16 = |v: &mut Vec<u8>, x: u16| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let put32 = |v: &mut Vec<u8>, x: u32| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let put64 = |v: &mut Vec<u8>, x: u64| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let putw = |v: &mut Vec<u8>, x: u64| {
        if is_64 {
            put64(v, x)
        } else {
            put32(v, x as u32)
        }
    };
    let ehsize: u16 = if is_64 { 64 } else { 52 };
    let shentsize: u16 = if is_64 { 64 } else { 40 };

    // .shstrtab contents and name offsets.
    let mut shstrtab = vec![0u8];
    let mut names = Vec::new();
    for s in sections.iter().map(|s| s.name).chain([".shstrtab"]) {
        names.push(shstrtab.len() as u32);
        shstrtab.extend_from_slice(s.as_bytes());
        shstrtab.push(0);
    }

    // Lay out data after the header, 8-aligned.
    let mut body = Vec::new();
    let mut offsets = Vec::new();
    let base = u64::from(ehsize);
    for data in sections.iter().map(|s| s.data).chain([&shstrtab[..]]) {
        while !(base as usize + body.len()).is_multiple_of(8) {
            body.push(0);
        }
        offsets.push(base + body.len() as u64);
        body.extend_from_slice(data);
    }
    while !(base as usize + body.len()).is_multiple_of(8) {
        body.push(0);
    }
    let shoff = base + body.len() as u64;
    let shnum = sections.len() as u16 + 2;

    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF");
    out.push(if is_64 { 2 } else { 1 });
    out.push(if big_endian { 2 } else { 1 });
    out.push(1); // EV_CURRENT
    out.extend_from_slice(&[0; 9]);
    put16(&mut out, 1); // ET_REL
    put16(&mut out, machine);
    put32(&mut out, 1);
    putw(&mut out, 0); // entry
    putw(&mut out, 0); // phoff
    putw(&mut out, shoff);
    put32(&mut out, 0); // flags
    put16(&mut out, ehsize);
    put16(&mut out, 0); // phentsize
    put16(&mut out, 0); // phnum
    put16(&mut out, shentsize);
    put16(&mut out, shnum);
    put16(&mut out, shnum - 1); // shstrndx
    assert_eq!(out.len(), ehsize as usize);
    out.extend_from_slice(&body);

    let shdr = |out: &mut Vec<u8>, name: u32, ty: u32, flags: u64, off: u64, size: u64| {
        put32(out, name);
        put32(out, ty);
        putw(out, flags);
        putw(out, 0); // addr
        putw(out, off);
        putw(out, size);
        put32(out, 0); // link
        put32(out, 0); // info
        putw(out, 1); // addralign
        putw(out, 0); // entsize
    };
    shdr(&mut out, 0, 0, 0, 0, 0);
    for (i, s) in sections.iter().enumerate() {
        shdr(
            &mut out,
            names[i],
            s.sh_type,
            s.flags,
            offsets[i],
            s.data.len() as u64,
        );
    }
    shdr(
        &mut out,
        names[sections.len()],
        3, // SHT_STRTAB
        0,
        offsets[sections.len()],
        shstrtab.len() as u64,
    );
    out
}
