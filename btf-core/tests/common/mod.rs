//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use btf_core::{Btf, Endian, TypeKind};
use std::path::PathBuf;

mod skip;
pub use skip::skipped;

/// Whether a test that needs `what` should run. Outside CI a missing
/// prerequisite skips the test, recorded by [`skipped`] (printed, and
/// listed at the end of `scripts/test`); in CI (env `CI` set) it fails, so
/// nothing is skipped silently.
pub fn require(available: bool, what: &str) -> bool {
    if available {
        return true;
    }
    skipped(&format!("needs {what}, which is not available here"));
    false
}

/// The Debian corpus directory (`scripts/fetch-corpus.sh`), from
/// `BTF_CORPUS` or `target/btf-corpus` at the workspace root. When the
/// default directory is not complete yet, the script is run first (it is
/// idempotent and atomic), so `cargo test -p btf-core` alone tests the real
/// corpus; set `BTF_NO_FETCH=1` to skip that.
pub fn corpus_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("BTF_CORPUS") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("target/btf-corpus");
    if !dir.join("COMPLETE").is_file() && std::env::var_os("BTF_NO_FETCH").is_none() {
        static FETCH: std::sync::Once = std::sync::Once::new();
        FETCH.call_once(|| {
            eprintln!("fetching the Debian corpus with scripts/fetch-corpus.sh ...");
            let status = std::process::Command::new(root.join("scripts/fetch-corpus.sh"))
                .arg(&dir)
                .status();
            if !status.as_ref().is_ok_and(|s| s.success()) {
                eprintln!("scripts/fetch-corpus.sh failed: {status:?}");
            }
        });
    }
    dir
}

/// The Debian corpus directory when it is complete; otherwise `None` after
/// [`require`] (which fails in CI).
pub fn corpus() -> Option<PathBuf> {
    let dir = corpus_dir();
    let ok = dir.join("COMPLETE").is_file();
    require(
        ok,
        &format!(
            "the Debian corpus at {} (run scripts/fetch-corpus.sh)",
            dir.display()
        ),
    )
    .then_some(dir)
}

/// The names of the corpus's module blobs (`modules/<name>.btf`), sorted.
pub fn module_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("modules"))
        .expect("corpus modules")
        .map(|e| {
            e.expect("corpus entry")
                .file_name()
                .into_string()
                .expect("utf-8 name")
        })
        .filter_map(|n| n.strip_suffix(".btf").map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// Byte-swaps a blob into the other order. Every field after the header is
/// a 32-bit word in the type section, so swapping each word there (and the
/// header fields, and the layout entries' u16 flags) is a full conversion;
/// strings are bytes.
pub fn swap_blob(data: &[u8]) -> Vec<u8> {
    let hdr = btf_core::Header::parse(data).expect("header before swap");
    let mut out = data.to_vec();
    out.swap(0, 1);
    let hdr_len = hdr.hdr_len as usize;
    for w in out[4..hdr_len.min(32)].chunks_exact_mut(4) {
        w.reverse();
    }
    let t0 = hdr_len + hdr.type_off as usize;
    for w in out[t0..t0 + hdr.type_len as usize].chunks_exact_mut(4) {
        w.reverse();
    }
    if let Some((off, len)) = hdr.layout {
        let l0 = hdr_len + off as usize;
        for e in out[l0..l0 + len as usize].chunks_exact_mut(4) {
            e.swap(2, 3);
        }
    }
    let other = match hdr.endian {
        Endian::Little => Endian::Big,
        Endian::Big => Endian::Little,
    };
    assert_eq!(btf_core::Header::parse(&out).map(|h| h.endian), Ok(other));
    out
}

/// A full, order-independent description of one type, to compare two
/// parses of the same content.
pub fn describe(btf: &Btf<'_>, id: btf_core::TypeId) -> String {
    let t = btf.type_by_id(id).expect("type by id");
    let mut s = format!(
        "[{}] {} {:?} vlen={} kflag={} st={}",
        t.id(),
        t.kind(),
        t.name().unwrap_or("<bad utf8>"),
        t.vlen(),
        t.kflag(),
        t.size_or_type()
    );
    match t.as_kind() {
        TypeKind::Int(i) => s += &format!(" {i:?}"),
        TypeKind::Array(a) => s += &format!(" {a:?}"),
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            for m in c.members() {
                s += &format!(
                    " {}:{}@{}/{}",
                    m.name().unwrap_or("?"),
                    m.ty(),
                    m.bit_offset(),
                    m.bitfield_size()
                );
            }
        }
        TypeKind::Enum(e) => {
            for v in e.values() {
                s += &format!(" {}={}", v.name().unwrap_or("?"), v.value());
            }
        }
        TypeKind::Enum64(e) => {
            for v in e.values() {
                s += &format!(" {}={}", v.name().unwrap_or("?"), v.value());
            }
        }
        TypeKind::FuncProto(p) => {
            for a in p.params() {
                s += &format!(" {}:{}", a.name().unwrap_or("?"), a.ty());
            }
        }
        TypeKind::Datasec(d) => {
            for v in d.entries() {
                s += &format!(" {}@{}+{}", v.ty(), v.offset(), v.size());
            }
        }
        TypeKind::Var(v) => s += &format!(" {v:?}"),
        TypeKind::Func(f) => s += &format!(" {f:?}"),
        TypeKind::DeclTag(d) => s += &format!(" {d:?}"),
        TypeKind::TypeTag(d) => s += &format!(" {d:?}"),
        TypeKind::Fwd(d) => s += &format!(" {d:?}"),
        TypeKind::Unknown(u) => s += &format!(" {:?} {:?}", u.info_data(), u.elem_data()),
        _ => {}
    }
    if let Ok(size) = btf.size_of(id) {
        s += &format!(" size_of={size}");
    }
    if let Ok(align) = btf.align_of(id) {
        s += &format!(" align_of={align}");
    }
    s
}

/// Checks everything a reader offers on every own type of `btf`: views,
/// ids, lookups by name, resolution. Returns per-kind counts.
pub fn exercise(btf: &Btf<'_>) -> std::collections::BTreeMap<String, u32> {
    let mut kinds = std::collections::BTreeMap::new();
    let mut n = 0u32;
    // Elements are checked where used: on a blob that validates, every
    // element's name and type must resolve; on one that does not, reading
    // them must fail cleanly, and at least one must fail.
    let valid = btf.validate().is_ok();
    let mut element_faults = 0u32;
    for (t, id) in btf.types().zip(btf.type_ids()) {
        assert_eq!(t.id(), id);
        element_faults += element_faults_of(btf, &t);
        n += 1;
        *kinds.entry(t.kind().to_string()).or_insert(0) += 1;
        let again = btf.type_by_id(id).expect("type by id");
        assert_eq!(
            again.record(),
            t.record(),
            "type_by_id({id}) differs from iteration"
        );
        let name = t.name_bytes();
        // Lookups are linear without an index: keep the test O(n) on big blobs.
        let cheap = btf.has_name_index() || btf.type_count() < 5000;
        if cheap && !name.is_empty() {
            let found = btf
                .find_by_name_bytes(name, Some(t.kind()))
                .expect("find_by_name_bytes");
            assert_eq!(found.name_bytes(), name);
            assert!(
                found.id() <= id,
                "found a later id for {:?}",
                String::from_utf8_lossy(name)
            );
        }
        // Resolution must terminate with a value or an error, never panic.
        let _ = btf.size_of(id);
        let _ = btf.align_of(id);
        let _ = btf.skip_mods_and_typedefs(id);
    }
    assert_eq!(n, btf.type_count());
    if valid {
        assert_eq!(element_faults, 0, "a validated blob has a bad element");
    } else {
        assert!(
            element_faults > 0,
            "validate failed, yet every element reads"
        );
    }
    kinds
}

/// Reads every element of `t` (names, and the types they refer to) and
/// returns how many could not be read.
fn element_faults_of(btf: &Btf<'_>, t: &btf_core::Type<'_>) -> u32 {
    use btf_core::TypeKind;
    let name = |r: btf_core::Result<&[u8]>| u32::from(r.is_err());
    let ty = |id: btf_core::TypeId| u32::from(btf.type_by_id(id).is_err());
    match t.as_kind() {
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            c.members().map(|m| name(m.name_bytes()) + ty(m.ty())).sum()
        }
        TypeKind::Enum(e) => e.values().map(|v| name(v.name_bytes())).sum(),
        TypeKind::Enum64(e) => e.values().map(|v| name(v.name_bytes())).sum(),
        TypeKind::FuncProto(p) => p.params().map(|q| name(q.name_bytes()) + ty(q.ty())).sum(),
        TypeKind::Datasec(d) => d.entries().map(|v| ty(v.ty())).sum(),
        _ => 0,
    }
}

/// Runs bpftool and returns its stdout, or `None` when bpftool is missing.
pub fn bpftool(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("bpftool")
        .args(args)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "bpftool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("bpftool output is utf-8"))
}

/// Per-kind counts of a `format raw` dump.
pub fn raw_dump_kinds(dump: &str) -> std::collections::BTreeMap<String, u32> {
    let mut kinds = std::collections::BTreeMap::new();
    for line in dump.lines().filter(|l| l.starts_with('[')) {
        let kind = line.split_whitespace().nth(1).expect("kind column");
        *kinds.entry(kind.to_string()).or_insert(0) += 1;
    }
    kinds
}

/// Adds an `int` and 31 unions `u0`..`u30`, each of three members of the
/// one before: valid BTF on which a plain recursive alignment walk takes
/// 3^31 steps. Returns `u30`.
pub fn unions_three_times_over(b: &mut btf_core::write::Builder<'_>) -> btf_core::TypeId {
    use btf_core::write::MemberDef;
    let mut t = b.add_int("int", 4, btf_core::wire::INT_SIGNED);
    for k in 0..31 {
        let m = [
            MemberDef::new("a", t, 0),
            MemberDef::new("b", t, 0),
            MemberDef::new("c", t, 0),
        ];
        t = b.add_union(format!("u{k}").as_str(), 4, &m);
    }
    t
}

/// Asserts that `batch`, a result of `Btf::parse_splits`, is what
/// `Btf::parse_split` returns for the same blob: the same error, or the
/// same records (ids, offsets, layering).
#[allow(dead_code)] // each test binary uses a part of this module
pub fn same_as_parse_split(
    batch: &btf_core::Result<Btf<'_>>,
    blob: &[u8],
    base: &Btf<'_>,
    what: &str,
) {
    match (batch, Btf::parse_split(blob, base)) {
        (Ok(got), Ok(want)) => {
            assert_eq!(got.type_count(), want.type_count(), "{what}: count");
            assert_eq!(got.first_id(), want.first_id(), "{what}: first id");
            assert_eq!(got.str_start(), want.str_start(), "{what}: strings");
            assert_eq!(got.endian(), want.endian(), "{what}: order");
            assert!(std::ptr::eq(got.bytes(), want.bytes()), "{what}: bytes");
            assert!(got.is_indexed(), "{what}: indexed");
            assert_eq!(
                got.clone().into_index(),
                want.into_index(),
                "{what}: offsets"
            );
        }
        (Err(got), Err(want)) => assert_eq!(*got, want, "{what}: error"),
        (got, want) => panic!(
            "{what}: parse_splits gave {:?}, parse_split {:?}",
            got.as_ref().map(Btf::type_count),
            want.map(|b| b.type_count())
        ),
    }
}
