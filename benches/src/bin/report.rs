//! Prints the README's results as markdown, from what `cargo bench` left
//! in `target/criterion` (and the heap table the `heap` bench left there).
//!
//! ```text
//! cargo run -p btf-benches --release --bin report              # timings, targets, heap
//! cargo run -p btf-benches --release --bin report -- --icount  # also callgrind counts
//! cargo run -p btf-benches --release --bin report -- DIR       # another criterion directory
//! ```
//!
//! The criterion directory defaults to `criterion/` in the target directory
//! this binary was built into (so `CARGO_TARGET_DIR` is followed). Times
//! are criterion's median estimate (robust to the outliers a shared machine
//! produces) with its 95% confidence interval; every ratio is between two
//! lines of the same group, measured moments apart.

use btf_benches::ids;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One benchmark's result.
struct Est {
    median: f64,
    lo: f64,
    hi: f64,
    elements: Option<u64>,
}

/// Results by group, then function, in the order criterion's directories
/// sort.
type Results = BTreeMap<String, BTreeMap<String, Est>>;

fn target_dir() -> PathBuf {
    // <target>/<profile>/report
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn load(dir: &Path) -> Results {
    let mut out = Results::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "new") {
                    if let Some((g, f, est)) = read_one(&p) {
                        out.entry(g).or_default().insert(f, est);
                    }
                } else if p.file_name().is_some_and(|n| n != "base" && n != "report") {
                    stack.push(p);
                }
            }
        }
    }
    out
}

fn read_json(p: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

fn read_one(new: &Path) -> Option<(String, String, Est)> {
    let bench = read_json(&new.join("benchmark.json"))?;
    let est = read_json(&new.join("estimates.json"))?;
    let m = &est["median"];
    Some((
        bench["group_id"].as_str()?.to_owned(),
        bench["function_id"].as_str()?.to_owned(),
        Est {
            median: m["point_estimate"].as_f64()?,
            lo: m["confidence_interval"]["lower_bound"].as_f64()?,
            hi: m["confidence_interval"]["upper_bound"].as_f64()?,
            elements: bench["throughput"]["Elements"].as_u64(),
        },
    ))
}

fn time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// (group, reference line, what one element is, the lines in order).
const GROUPS: &[(&str, &str, &str, &[&str])] = &[
    (
        ids::PARSE,
        ids::OURS_PARSE,
        "type",
        &[
            ids::BARE,
            ids::BARE_OFFSETS,
            ids::FRAMING,
            ids::OURS_UNINDEXED,
            ids::OURS_PARSE,
            ids::OURS_PARSE_VALIDATE,
            ids::OURS_PARSE_INDEX,
            ids::LIBBPF_NEW,
            ids::BTFRS_FROM_BYTES,
        ],
    ),
    (
        ids::NATIVE,
        ids::NATIVE_LE,
        "type",
        &[ids::NATIVE_LE, ids::OURS_UNINDEXED, ids::OURS_UNINDEXED_BE],
    ),
    (
        ids::BY_ID,
        ids::OURS,
        "id",
        &[ids::OURS, ids::LIBBPF, ids::BTFRS],
    ),
    (
        ids::FIND_UNSORTED,
        ids::OURS_INDEX,
        "lookup",
        &[
            ids::OURS_INDEX,
            ids::OURS_SCAN,
            ids::LIBBPF_FIND,
            ids::BTFRS_FIND,
        ],
    ),
    (
        ids::FIND_SORTED,
        ids::OURS_BSEARCH,
        "lookup",
        &[ids::OURS_BSEARCH, ids::LIBBPF_BSEARCH, ids::OURS_INDEX],
    ),
    (
        ids::PARSE_SORTED,
        ids::OURS_PARSE_SORTED,
        "type",
        &[ids::OURS_PARSE_SORTED, ids::LIBBPF_NEW_SORTED],
    ),
    (
        ids::CORPUS,
        ids::OURS_SPLIT,
        "module",
        &[
            ids::BARE,
            ids::OURS_SPLITS,
            ids::OURS_SPLIT,
            ids::OURS_SPLIT_VALIDATE,
            ids::LIBBPF_SPLIT,
            ids::BTFRS_SPLIT,
        ],
    ),
    (
        ids::WALK,
        ids::OURS,
        "type",
        &[ids::BARE, ids::OURS, ids::LIBBPF, ids::BTFRS],
    ),
    (
        ids::DUMP,
        ids::OURS_WRITE_RAW,
        "type",
        &[
            ids::BARE,
            ids::OURS_WRITE_RAW,
            ids::OURS_PARSE_WRITE_RAW,
            ids::BPFTOOL_RAW,
        ],
    ),
    (
        ids::DUMP_C,
        ids::OURS_WRITE_C,
        "type",
        &[ids::OURS_WRITE_C, ids::LIBBPF_BTF_DUMP],
    ),
    (
        ids::KCHECK,
        ids::LIBBPF_NEW,
        "type",
        &[
            ids::OURS_KCHECK_KERNEL,
            ids::OURS_KCHECK_USER,
            ids::OURS_PARSE_VALIDATE,
            ids::LIBBPF_NEW,
        ],
    ),
    (
        ids::RELOC_OBJECTS,
        ids::OURS_RELOC_WHOLE,
        "relocation",
        &[
            ids::OURS_RELOC_WHOLE,
            ids::OURS_RELOC_ONLY,
            ids::LIBBPF_RELOC_WHOLE,
            ids::LIBBPF_RELOC_PARSE,
            ids::LIBBPF_RELOC_OPEN,
            ids::OURS_RELOC_COLD,
        ],
    ),
    (
        ids::RELOC_CANDIDATES,
        ids::OURS_CANDS_VMLINUX,
        "relocation",
        &[
            ids::OURS_CANDS_VMLINUX,
            ids::OURS_CANDS_MODULES,
            ids::OURS_CANDS_VMLINUX_FIRST,
            ids::OURS_CANDS_MODULES_FIRST,
        ],
    ),
];

fn get<'r>(r: &'r Results, g: &str, f: &str) -> Option<&'r Est> {
    r.get(g)?.get(f)
}

fn print_groups(r: &Results) {
    for &(g, reference, unit, lines) in GROUPS {
        let Some(funcs) = r.get(g) else {
            println!("### `{g}`\n\n(not run)\n");
            continue;
        };
        let base = funcs.get(reference);
        println!("### `{g}`\n");
        println!("| line | median | 95% CI | per {unit} | ÷ `{reference}` |");
        println!("|---|---:|---:|---:|---:|");
        for &f in lines {
            let Some(e) = funcs.get(f) else { continue };
            let per = e.elements.map_or("-".into(), |n| time(e.median / n as f64));
            let ratio = base.map_or("-".into(), |b| format!("{:.2}×", e.median / b.median));
            println!(
                "| `{f}` | {} | {} – {} | {per} | {ratio} |",
                time(e.median),
                time(e.lo),
                time(e.hi)
            );
        }
        println!();
    }
}

/// A ratio `num / den` of two lines, with the bounds the confidence
/// intervals allow.
fn ratio(r: &Results, (g1, f1): (&str, &str), (g2, f2): (&str, &str)) -> Option<(f64, f64, f64)> {
    let (a, b) = (get(r, g1, f1)?, get(r, g2, f2)?);
    Some((a.median / b.median, a.lo / b.hi, a.hi / b.lo))
}

fn print_targets(r: &Results, heap: Option<&Value>) {
    println!("### Targets\n");
    println!("| target | measured (95% CI bounds) | |");
    println!("|---|---:|---|");
    let row = |what: &str,
               v: Option<(f64, f64, f64)>,
               fmt: &dyn Fn(f64) -> String,
               ok: &dyn Fn(f64) -> bool| {
        match v {
            Some((m, lo, hi)) => println!(
                "| {what} | {} ({} – {}) | {} |",
                fmt(m),
                fmt(lo.min(hi)),
                fmt(hi.max(lo)),
                match ok(m) {
                    _ if what.starts_with("(for information") => "",
                    true => "met",
                    false => "**missed**",
                }
            ),
            None => println!("| {what} | not run | |"),
        }
    };
    let x = |v: f64| format!("{v:.2}×");
    let pct = |v: f64| format!("{:+.1}%", (v - 1.0) * 100.0);
    row(
        "parse + index (the id index, as libbpf's type offsets) of vmlinux ≥ 5× faster than `btf__new`",
        ratio(
            r,
            (ids::PARSE, ids::LIBBPF_NEW),
            (ids::PARSE, ids::OURS_PARSE),
        ),
        &x,
        &|v| v >= 5.0,
    );
    row(
        "(for information: parse + `validate`, every element checked as `btf__new` checks them)",
        ratio(
            r,
            (ids::PARSE, ids::LIBBPF_NEW),
            (ids::PARSE, ids::OURS_PARSE_VALIDATE),
        ),
        &x,
        &|v| v >= 5.0,
    );
    row(
        "(for information: parse + `index_names`, a name hash libbpf does not build)",
        ratio(
            r,
            (ids::PARSE, ids::LIBBPF_NEW),
            (ids::PARSE, ids::OURS_PARSE_INDEX),
        ),
        &x,
        &|v| v >= 5.0,
    );
    row(
        "parse vmlinux (id index) within 1.5× of the bare walk",
        ratio(r, (ids::PARSE, ids::OURS_PARSE), (ids::PARSE, ids::BARE)),
        &x,
        &|v| v <= 1.5,
    );
    row(
        "(same, against the bare walk that also stores offsets)",
        ratio(
            r,
            (ids::PARSE, ids::OURS_PARSE),
            (ids::PARSE, ids::BARE_OFFSETS),
        ),
        &x,
        &|v| v <= 1.5,
    );
    row(
        "(for information: the framing walk, parse's record checks written plainly, against the bare walk)",
        ratio(r, (ids::PARSE, ids::FRAMING), (ids::PARSE, ids::BARE)),
        &x,
        &|v| v <= 1.5,
    );
    row(
        "(same, unindexed parse against the bare walk)",
        ratio(
            r,
            (ids::PARSE, ids::OURS_UNINDEXED),
            (ids::PARSE, ids::BARE),
        ),
        &x,
        &|v| v <= 1.5,
    );
    row(
        "find on unsorted BTF ≥ 1000× faster than libbpf",
        ratio(
            r,
            (ids::FIND_UNSORTED, ids::LIBBPF_FIND),
            (ids::FIND_UNSORTED, ids::OURS_INDEX),
        ),
        &x,
        &|v| v >= 1000.0,
    );
    row(
        "find on sorted BTF without index no slower than libbpf (ours ÷ libbpf ≤ 1)",
        ratio(
            r,
            (ids::FIND_SORTED, ids::OURS_BSEARCH),
            (ids::FIND_SORTED, ids::LIBBPF_BSEARCH),
        ),
        &x,
        &|v| v <= 1.0,
    );
    row(
        "corpus modules on one base ≥ 5× faster than `btf__new_split` (`Btf::parse_splits`)",
        ratio(
            r,
            (ids::CORPUS, ids::LIBBPF_SPLIT),
            (ids::CORPUS, ids::OURS_SPLITS),
        ),
        &x,
        &|v| v >= 5.0,
    );
    row(
        "(for information: one module at a time, `Btf::parse_split` in a loop)",
        ratio(
            r,
            (ids::CORPUS, ids::LIBBPF_SPLIT),
            (ids::CORPUS, ids::OURS_SPLIT),
        ),
        &x,
        &|v| v >= 5.0,
    );
    row(
        "(for information: the bare walk of every module's type section, one after another, against `btf__new_split`)",
        ratio(
            r,
            (ids::CORPUS, ids::LIBBPF_SPLIT),
            (ids::CORPUS, ids::BARE),
        ),
        &x,
        &|v| v >= 5.0,
    );
    row(
        "(for information: `parse_split` in a loop against that bare walk)",
        ratio(r, (ids::CORPUS, ids::OURS_SPLIT), (ids::CORPUS, ids::BARE)),
        &x,
        &|v| v <= 1.5,
    );
    row(
        "(for information: `btf__new_split` against `parse_split` + `validate`, check for check)",
        ratio(
            r,
            (ids::CORPUS, ids::LIBBPF_SPLIT),
            (ids::CORPUS, ids::OURS_SPLIT_VALIDATE),
        ),
        &x,
        &|v| v >= 5.0,
    );
    row(
        "kernel-exact check of vmlinux faster than `btf__new` (the kernel's rules for its own BTF, `Loader::Kernel`)",
        ratio(
            r,
            (ids::KCHECK, ids::LIBBPF_NEW),
            (ids::KCHECK, ids::OURS_KCHECK_KERNEL),
        ),
        &x,
        &|v| v > 1.0,
    );
    row(
        "(same with `BPF_BTF_LOAD`'s rules, the resolve pass included, `Loader::User`)",
        ratio(
            r,
            (ids::KCHECK, ids::LIBBPF_NEW),
            (ids::KCHECK, ids::OURS_KCHECK_USER),
        ),
        &x,
        &|v| v > 1.0,
    );
    row(
        "native parse not slowed by big-endian support (≤ +3%)",
        ratio(
            r,
            (ids::NATIVE, ids::OURS_UNINDEXED),
            (ids::NATIVE, ids::NATIVE_LE),
        ),
        &pct,
        &|v| v <= 1.03,
    );
    match heap.and_then(|h| h["parse_bytes_per_type"].as_f64()) {
        Some(v) => println!(
            "| heap of parse + index (the id index) ≤ 4.5 bytes/type, no copy | {v:.2} bytes/type | {} |",
            if v <= 4.5 { "met" } else { "**missed**" }
        ),
        None => println!("| heap ≤ 4.5 bytes/type | not run (`cargo bench --bench heap`) | |"),
    }
    if let Some(v) = heap.and_then(|h| h["index_bytes_per_type"].as_f64()) {
        println!("| (for information: heap with `index_names` as well) | {v:.2} bytes/type | |");
    }
    println!();
}

fn machine() {
    let sh = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_default();
    println!("### Machine\n");
    println!("- CPUs (nproc): {}", sh("nproc", &[]));
    println!("- CPU model: {cpu}");
    println!("- kernel: {}", sh("uname", &["-r"]));
    println!("- {}", sh("rustc", &["-V"]));
    println!(
        "- libbpf {} (libbpf-sys 1.7.0), btf-rs 2.0.0, criterion 0.8",
        btf_benches::ffi::libbpf_version()
    );
    println!();
}

fn icount(target: &Path) {
    let bin = target.join("release/icount");
    let list = Command::new(&bin).arg("--list").output().unwrap_or_else(|e| {
        panic!("cannot run {}: {e}; build it with cargo build -p btf-benches --release --bin icount", bin.display())
    });
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    let tmp = target.join("icount");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    println!("### Instruction counts (callgrind)\n");
    println!(
        "One run of each operation under `valgrind --tool=callgrind --toggle-collect='*icount_measured*'`"
    );
    println!("(setup excluded). Deterministic: immune to machine load.\n");
    println!("| operation | instructions | per element |");
    println!("|---|---:|---:|");
    for line in list.lines() {
        let Some((op, what)) = line.split_once('\t') else {
            continue;
        };
        let out = tmp.join(format!("callgrind.{op}"));
        let run = Command::new("valgrind")
            .args([
                "--tool=callgrind",
                "--collect-atstart=no",
                "--toggle-collect=*icount_measured*",
            ])
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&bin)
            .arg(op)
            .stderr(std::process::Stdio::null())
            .output()
            .expect("valgrind (is it installed?)");
        let elements = String::from_utf8_lossy(&run.stdout)
            .split_whitespace()
            .skip_while(|w| *w != "elements")
            .nth(1)
            .and_then(|n| n.parse::<u64>().ok());
        let total = std::fs::read_to_string(&out).ok().and_then(|s| {
            s.lines()
                .find_map(|l| {
                    l.strip_prefix("totals:")
                        .or_else(|| l.strip_prefix("summary:"))
                })
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        });
        match (run.status.success(), total) {
            (true, Some(n)) => {
                let per = elements.map_or("-".into(), |e| format!("{:.1}", n as f64 / e as f64));
                println!("| {what} | {n} | {per} |");
            }
            _ => println!("| {what} | failed | |"),
        }
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = target_dir();
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| target.join("criterion"));
    let results = load(&dir);
    if results.is_empty() {
        eprintln!(
            "report: no criterion results under {}; run cargo bench -p btf-benches first",
            dir.display()
        );
        std::process::exit(1);
    }
    let heap = read_json(&dir.join("btf-heap.json"));
    machine();
    print_targets(&results, heap.as_ref());
    print_groups(&results);
    if let Some(h) = &heap
        && let Some(t) = h["table"].as_str()
    {
        println!("### Heap\n\n{t}");
    }
    if args.iter().any(|a| a == "--icount") {
        icount(&target);
    }
}
