//! The inputs: the running kernel's BTF, the Debian corpus, the queries for
//! lookups by name, and derived blobs (a name-sorted copy, a big-endian
//! copy). A missing input stops the bench with a message saying what is
//! missing and how to get it; nothing is skipped silently.

use btf_core::write::{Builder, EncodeOptions};
use btf_core::{Btf, Endian, Kind, TypeId};
use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::path::{Path, PathBuf};

/// The running kernel's BTF.
pub const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Reads `path`, or panics naming it and saying how to provide it.
pub fn read_or_die(path: &Path, how: &str) -> Vec<u8> {
    match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => panic!("btf-benches: cannot read {}: {e}\n  {how}", path.display()),
    }
}

/// The bytes of [`VMLINUX`].
pub fn vmlinux() -> Vec<u8> {
    read_or_die(
        Path::new(VMLINUX),
        "the benches need a kernel with CONFIG_DEBUG_INFO_BTF=y and /sys/kernel/btf readable",
    )
}

/// Where the Debian corpus is: `$BTF_CORPUS`, else `target/btf-corpus` in
/// the workspace (not under `$CARGO_TARGET_DIR`).
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("BTF_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/btf-corpus"),
    }
}

const FETCH: &str = "run scripts/fetch-corpus.sh (or set BTF_CORPUS to a directory it made)";

/// The Debian corpus in memory: the base and every module, by file name.
pub struct Corpus {
    /// `vmlinux.btf`, the base.
    pub base: Vec<u8>,
    /// `modules/*.btf`, sorted by name.
    pub modules: Vec<(String, Vec<u8>)>,
}

impl Corpus {
    /// Total bytes of the modules.
    pub fn module_bytes(&self) -> usize {
        self.modules.iter().map(|(_, b)| b.len()).sum()
    }
}

/// Loads the corpus, checking that it is complete: `COMPLETE` exists and
/// the number of module blobs is the `modules_with_btf` it records.
pub fn corpus() -> Corpus {
    let dir = corpus_dir();
    let complete = read_or_die(&dir.join("COMPLETE"), FETCH);
    let expected = String::from_utf8_lossy(&complete)
        .lines()
        .find_map(|l| {
            l.strip_prefix("modules_with_btf=")?
                .trim()
                .parse::<usize>()
                .ok()
        })
        .unwrap_or_else(|| {
            panic!(
                "btf-benches: {}/COMPLETE has no modules_with_btf=",
                dir.display()
            )
        });
    let base = read_or_die(&dir.join("vmlinux.btf"), FETCH);
    let mdir = dir.join("modules");
    let entries = std::fs::read_dir(&mdir).unwrap_or_else(|e| {
        panic!(
            "btf-benches: cannot list {}: {e}\n  {FETCH}",
            mdir.display()
        )
    });
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "btf"))
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        expected,
        "btf-benches: {} holds {} module blobs, COMPLETE says {expected}; {FETCH}",
        mdir.display(),
        names.len()
    );
    let modules = names
        .iter()
        .map(|p| {
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, read_or_die(p, FETCH))
        })
        .collect();
    Corpus { base, modules }
}

/// One lookup by name and kind, with the answer a plain scan gives.
#[derive(Clone, Debug)]
pub struct Query {
    /// The name.
    pub name: String,
    /// The same, NUL-terminated, for libbpf.
    pub cname: CString,
    /// The kind asked for.
    pub kind: Kind,
    /// The lowest id with that name and kind, if any.
    pub expect: Option<TypeId>,
}

/// `n` lookups (a multiple of 10) spread over `btf`'s id range: 80% hits
/// on named types taken at even steps, 10% names that do not exist (a real
/// name plus a suffix, so they also spread over a sorted order), and 10%
/// real names asked with a kind they do not have.
pub fn queries(btf: &Btf<'_>, n: usize) -> Vec<Query> {
    let named: Vec<(u32, String, Kind)> = btf
        .types()
        .filter(|t| !t.name_bytes().is_empty())
        .map(|t| {
            (
                t.id().get(),
                String::from_utf8_lossy(t.name_bytes()).into_owned(),
                t.kind(),
            )
        })
        .collect();
    let present: HashSet<(&str, u8)> = named
        .iter()
        .map(|(_, s, k)| (s.as_str(), k.get()))
        .collect();
    let step = named.len() / n;
    let mut wanted: Vec<(String, Kind)> = Vec::with_capacity(n);
    for i in 0..n {
        let (_, name, kind) = &named[i * step];
        match i % 10 {
            3 => wanted.push((format!("{name}__btf_bench_missing"), *kind)),
            7 => {
                let other = [
                    Kind::UNION,
                    Kind::TYPEDEF,
                    Kind::ENUM64,
                    Kind::FLOAT,
                    Kind::VAR,
                ]
                .into_iter()
                .find(|k| !present.contains(&(name.as_str(), k.get())))
                .expect("some kind the name lacks");
                wanted.push((name.clone(), other));
            }
            _ => wanted.push((name.clone(), *kind)),
        }
    }
    with_answers(btf, wanted)
}

/// The same lookups, with the answers recomputed for `btf` (another blob
/// holding the same names, e.g. a sorted copy).
pub fn requery(btf: &Btf<'_>, qs: &[Query]) -> Vec<Query> {
    with_answers(btf, qs.iter().map(|q| (q.name.clone(), q.kind)).collect())
}

fn with_answers(btf: &Btf<'_>, wanted: Vec<(String, Kind)>) -> Vec<Query> {
    let mut first: HashMap<(&[u8], u8), TypeId> = HashMap::new();
    for t in btf.types() {
        first
            .entry((t.name_bytes(), t.kind().get()))
            .or_insert(t.id());
    }
    wanted
        .into_iter()
        .map(|(name, kind)| Query {
            expect: first.get(&(name.as_bytes(), kind.get())).copied(),
            cname: CString::new(name.clone()).expect("no NUL in a BTF name"),
            name,
            kind,
        })
        .collect()
}

/// A copy of `btf` with its types sorted by name (bytes, as `strcmp`),
/// anonymous types first, then by kind and old id; every type id in every
/// record is renumbered. The string section is kept byte for byte.
///
/// This is the order kernels from 6.19 on emit, and what libbpf 1.7's
/// `btf_check_sorted` accepts: names never decrease from one id to the
/// next, and some type is named (see [`libbpf_sees_sorted`]).
pub fn sorted_copy(btf: &Btf<'_>) -> Vec<u8> {
    let mut order: Vec<(&[u8], u8, u32)> = btf
        .types()
        .map(|t| (t.name_bytes(), t.kind().get(), t.id().get()))
        .collect();
    order.sort_unstable();
    let mut new_of = vec![0u32; btf.last_id().get() as usize + 1];
    for (pos, &(_, _, old)) in order.iter().enumerate() {
        new_of[old as usize] = pos as u32 + 1;
    }
    let mut b = Builder::with_strings_of(btf);
    for &(_, _, old) in &order {
        let ty = btf.type_by_id(TypeId::new(old)).expect("id from the walk");
        b.copy_type_with(&ty, |id| TypeId::new(new_of[id.get() as usize]))
            .expect("copy a record");
    }
    b.encode(&EncodeOptions::like(btf))
        .expect("encode the sorted copy")
}

/// Whether libbpf 1.7 will take its binary-search path for `btf`: the
/// condition of `btf_check_sorted` in libbpf's `btf.c` (names compared with
/// `strcmp` never decrease over consecutive ids, and `named_start_id`
/// ends up non-zero, i.e. some type is named).
pub fn libbpf_sees_sorted(btf: &Btf<'_>) -> bool {
    let mut prev: Option<&[u8]> = None;
    let mut named = false;
    for t in btf.types() {
        let name = t.name_bytes();
        if prev.is_some_and(|p| p > name) {
            return false;
        }
        named |= !name.is_empty();
        prev = Some(name);
    }
    named
}

/// The same blob in big-endian byte order (same ids, same strings).
pub fn big_endian_copy(btf: &Btf<'_>) -> Vec<u8> {
    let b = Builder::from_btf(btf).expect("copy the blob");
    assert!(
        btf.header().layout.is_none(),
        "big_endian_copy handles classic headers only"
    );
    b.encode(&EncodeOptions::new(Endian::Big))
        .expect("encode big-endian")
}
