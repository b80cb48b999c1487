//! Heap bytes kept by a parse (criterion measures time only): prints a
//! markdown table.
//!
//! - btf-core and btf-rs: a counting global allocator (exact bytes
//!   requested, live after the parse, and the peak during it).
//! - libbpf: glibc's `mallinfo2()` before and after `btf__new` (in-use
//!   small chunks plus mmapped chunks, so allocator rounding included);
//!   shown with and without the copy of the input libbpf makes. The same
//!   probe is run on btf-core's parse as a cross-check of the two methods.
//!
//! Run: `cargo bench -p btf-benches --bench heap`.

use btf_benches::data;
use btf_benches::ffi::{self, Counting, LibbpfBtf};
use btf_core::Btf;
use std::hint::black_box;

#[global_allocator]
static ALLOC: Counting = Counting;

/// What one measured step kept and used.
struct Row {
    what: String,
    types: u64,
    /// Bytes live after the step, the result still alive.
    kept: usize,
    /// Peak bytes above the start during the step (counting allocator only).
    peak: Option<usize>,
    /// Bytes of that which are a copy of the input.
    copy: usize,
    method: &'static str,
}

impl Row {
    /// A row measured with the counting allocator (no input copy to
    /// report: ours and btf-rs read the caller's bytes).
    fn counted(what: impl Into<String>, types: u64, kept: usize, peak: usize) -> Row {
        Row {
            what: what.into(),
            types,
            kept,
            peak: Some(peak),
            copy: 0,
            method: "counting allocator",
        }
    }
}

/// Runs `f` with the counting allocator and returns (kept, peak) bytes,
/// keeping `f`'s result alive until both are read.
fn counted<T>(f: impl FnOnce() -> T) -> (usize, usize, T) {
    ffi::reset_peak();
    let before = ffi::counters();
    let out = black_box(f());
    let after = ffi::counters();
    (
        after.live.saturating_sub(before.live),
        after.peak.saturating_sub(before.live),
        out,
    )
}

/// Runs `f` and returns the growth of glibc's in-use heap, keeping `f`'s
/// result alive until it is read.
fn mallinfo<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ffi::glibc_heap_in_use();
    let out = black_box(f());
    let after = ffi::glibc_heap_in_use();
    (after.saturating_sub(before), out)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` does not,
    // and a test run has nothing to learn from the table.
    if !std::env::args().any(|a| a == "--bench") {
        println!("heap: measures only under `cargo bench` (no --bench flag given)");
        return;
    }
    let bytes = data::vmlinux();
    let mut rows = Vec::new();

    let (kept, peak, btf) = counted(|| Btf::parse(&bytes).expect("parse"));
    assert!(
        std::ptr::eq(btf.bytes(), bytes.as_slice()),
        "Btf::parse must not copy its input"
    );
    let types = u64::from(btf.type_count());
    rows.push(Row::counted(
        "vmlinux: ours `Btf::parse` (id index)",
        types,
        kept,
        peak,
    ));
    drop(btf);

    let (kept, peak, btf) = counted(|| {
        let mut btf = Btf::parse(&bytes).expect("parse");
        btf.index_names();
        btf
    });
    rows.push(Row::counted(
        "vmlinux: ours `Btf::parse` + `index_names`",
        types,
        kept,
        peak,
    ));
    drop(btf);

    let (kept, peak, btf) = counted(|| Btf::parse_unindexed(&bytes, None).expect("parse"));
    rows.push(Row::counted(
        "vmlinux: ours `Btf::parse_unindexed`",
        types,
        kept,
        peak,
    ));
    drop(btf);

    let (kept, btf) = mallinfo(|| Btf::parse(&bytes).expect("parse"));
    rows.push(Row {
        what: "vmlinux: ours `Btf::parse` (cross-check)".into(),
        types,
        kept,
        peak: None,
        copy: 0,
        method: "mallinfo2",
    });
    drop(btf);

    let (kept, lb) = mallinfo(|| LibbpfBtf::new(&bytes).expect("btf__new"));
    rows.push(Row {
        what: "vmlinux: libbpf `btf__new`".into(),
        types,
        kept,
        peak: None,
        copy: bytes.len(),
        method: "mallinfo2",
    });
    drop(lb);

    let (kept, peak, rs) = counted(|| btf_rs::Btf::from_bytes(&bytes).expect("from_bytes"));
    rows.push(Row::counted(
        "vmlinux: btf-rs `Btf::from_bytes`",
        types,
        kept,
        peak,
    ));
    drop(rs);

    // The corpus: every module kept alive on one base (the base's own
    // allocation is not counted).
    let corpus = data::corpus();
    let base = Btf::parse(&corpus.base).expect("parse base");
    let (kept, peak, splits) = counted(|| {
        corpus
            .modules
            .iter()
            .map(|(_, m)| Btf::parse_split(m, &base).expect("split"))
            .collect::<Vec<_>>()
    });
    let mtypes: u64 = splits.iter().map(|s| u64::from(s.type_count())).sum();
    let n = corpus.modules.len();
    let vec_bytes = n * std::mem::size_of::<Btf<'_>>();
    rows.push(Row::counted(
        format!("{n} modules: ours `Btf::parse_split` (incl. {vec_bytes} B of `Vec<Btf>`)"),
        mtypes,
        kept,
        peak,
    ));
    drop(splits);
    let (kept, peak, splits) = counted(|| {
        let blobs = corpus.modules.iter().map(|(_, m)| m.as_slice());
        Btf::parse_splits(blobs, &base)
    });
    assert!(
        splits.iter().all(Result::is_ok),
        "parse_splits refused a module"
    );
    rows.push(Row::counted(
        format!("{n} modules: ours `Btf::parse_splits` (incl. {vec_bytes} B of results)"),
        mtypes,
        kept,
        peak,
    ));
    drop(splits);
    let lb_base = LibbpfBtf::new(&corpus.base).expect("btf__new base");
    let mut lb_splits = Vec::with_capacity(n);
    let (kept, ()) = mallinfo(|| {
        for (_, m) in &corpus.modules {
            lb_splits.push(LibbpfBtf::new_split(m, &lb_base).expect("split"));
        }
    });
    rows.push(Row {
        what: format!("{n} modules: libbpf `btf__new_split`"),
        types: mtypes,
        kept,
        peak: None,
        copy: corpus.module_bytes(),
        method: "mallinfo2",
    });
    drop(lb_splits);

    let mut table = String::new();
    table.push_str("| what | types | heap kept | bytes/type | without input copy | bytes/type | peak during | method |\n");
    table.push_str("|---|---:|---:|---:|---:|---:|---:|---|\n");
    for r in &rows {
        let per = |b: usize| b as f64 / r.types as f64;
        let net = r.kept.saturating_sub(r.copy);
        table.push_str(&format!(
            "| {} | {} | {} | {:.2} | {} | {:.2} | {} | {} |\n",
            r.what,
            r.types,
            r.kept,
            per(r.kept),
            net,
            per(net),
            r.peak.map_or("-".into(), |p| p.to_string()),
            r.method
        ));
    }
    print!("{table}");
    let per_type = |r: &Row| r.kept as f64 / r.types as f64;
    let (parse, index) = (per_type(&rows[0]), per_type(&rows[1]));
    println!();
    println!(
        "target: parse + index (the id index) <= 4.5 bytes/type, no copy of the input: {parse:.2} bytes/type ({}); with index_names as well: {index:.2} bytes/type",
        if parse <= 4.5 { "met" } else { "MISSED" }
    );
    // For the `report` tool: <target>/criterion/btf-heap.json, next to
    // criterion's results (this binary is <target>/<profile>/deps/heap-*).
    let exe = std::env::current_exe().expect("current exe");
    if let Some(target) = exe.ancestors().nth(3) {
        let dir = target.join("criterion");
        let json = serde_json::json!({
            "table": table,
            "parse_bytes_per_type": parse,
            "index_bytes_per_type": index,
        });
        std::fs::create_dir_all(&dir).expect("mkdir criterion");
        std::fs::write(dir.join("btf-heap.json"), json.to_string()).expect("write btf-heap.json");
    }
}
