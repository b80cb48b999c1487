//! btf-core against libbpf and btf-rs, on the same bytes in the same run.
//!
//! Every group holds the lines to compare, so each figure can be read as a
//! ratio against its peer measured moments apart on the same (noisy,
//! shared) machine. Before a group is measured, every implementation's
//! answers are checked against each other (type counts, lookup results):
//! a bench that measures a wrong answer stops instead.
//!
//! Inputs: `/sys/kernel/btf/vmlinux` and the Debian corpus (see
//! `btf_benches::data`); a missing input stops the run with a message.
//!
//! Run: `cargo bench -p btf-benches --bench compare`; regenerate the
//! README's table with `cargo run -p btf-benches --release --bin report`.

use btf_benches::data::{self, Query};
use btf_benches::ffi::LibbpfBtf;
use btf_benches::{ids, peers, walks};
use btf_core::{Btf, TypeId, dump};
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use fallible_iterator::FallibleIterator;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

/// The running kernel's BTF, read once for all groups.
fn vmlinux() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(data::vmlinux)
}

/// A group with the settings every group shares: short warm-up, a few
/// seconds of measurement, enough samples for a confidence interval.
fn group<'c>(c: &'c mut Criterion, name: &str, slow: bool) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_secs(1));
    if slow {
        // Tens to hundreds of milliseconds an iteration: same iteration
        // count in each sample, and few samples.
        g.sampling_mode(SamplingMode::Flat);
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(4));
    } else {
        g.sample_size(30);
        g.measurement_time(Duration::from_secs(4));
    }
    g
}

fn parse_vmlinux(c: &mut Criterion) {
    let bytes = vmlinux();
    let types = walks::type_section(bytes);
    let count = Btf::parse(bytes).expect("ours parses vmlinux").type_count();
    Btf::parse(bytes)
        .and_then(|b| b.validate())
        .expect("ours validates vmlinux");
    assert_eq!(walks::bare_walk(types), count, "bare walk count");
    let lb = LibbpfBtf::new(bytes).expect("libbpf parses vmlinux");
    assert_eq!(lb.type_cnt(), count + 1, "libbpf count (void included)");
    drop(lb);
    let rs = btf_rs::Btf::from_bytes(bytes).expect("btf-rs parses vmlinux");
    assert_eq!(rs.base().type_id_range().1, count, "btf-rs last id");
    drop(rs);

    // The lines whose ratios are targets run interleaved (see
    // `interleaved`): each is timed while the others run between its
    // iterations, so all see the same machine load.
    let str_len = Btf::parse(bytes).expect("parse").strings().len() as u32;
    assert_eq!(
        walks::framing_walk(types, str_len),
        Some(count),
        "framing walk"
    );
    let lines: [(&str, &dyn Fn()); 8] = [
        (ids::BARE, &|| {
            black_box(walks::bare_walk(black_box(types)));
        }),
        (ids::FRAMING, &|| {
            black_box(walks::framing_walk(black_box(types), str_len));
        }),
        (ids::BARE_OFFSETS, &|| {
            // As Btf::parse does: reserve for the most records the section
            // can hold, fill, give back the tail.
            let mut v = Vec::with_capacity(types.len() / 12);
            walks::bare_walk_offsets(black_box(types), &mut v);
            v.shrink_to_fit();
            black_box(v);
        }),
        (ids::OURS_UNINDEXED, &|| {
            black_box(Btf::parse_unindexed(black_box(bytes), None).expect("parse"));
        }),
        (ids::OURS_PARSE, &|| {
            black_box(Btf::parse(black_box(bytes)).expect("parse"));
        }),
        (ids::OURS_PARSE_VALIDATE, &|| {
            let btf = Btf::parse(black_box(bytes)).expect("parse");
            btf.validate().expect("validate");
            black_box(btf);
        }),
        (ids::OURS_PARSE_INDEX, &|| {
            let mut btf = Btf::parse(black_box(bytes)).expect("parse");
            btf.index_names();
            black_box(btf);
        }),
        (ids::LIBBPF_NEW, &|| {
            black_box(LibbpfBtf::new(black_box(bytes)).expect("btf__new"));
        }),
    ];
    let mut g = interleaved_group(c, ids::PARSE, Duration::from_secs(1));
    g.throughput(Throughput::Elements(u64::from(count)));
    for (i, (name, _)) in lines.iter().enumerate() {
        g.bench_function(*name, |b| interleaved(b, &lines, i));
    }
    g.finish();

    // btf-rs decodes every record into an owned value and every string into
    // a `String`: two orders of magnitude slower, so sampled flat.
    let mut g = group(c, ids::PARSE, true);
    g.throughput(Throughput::Elements(u64::from(count)));
    g.bench_function(ids::BTFRS_FROM_BYTES, |b| {
        b.iter(|| btf_rs::Btf::from_bytes(black_box(bytes)).expect("from_bytes"))
    });
    g.finish();
}

fn native_vs_both_orders(c: &mut Criterion) {
    let bytes = vmlinux();
    let ours = Btf::parse_unindexed(bytes, None).expect("parse");
    assert_eq!(
        ours.endian(),
        btf_core::Endian::Little,
        "the bench needs a little-endian host"
    );
    let count = ours.type_count();
    assert_eq!(walks::native_parse(bytes), Ok(count), "native parse count");
    let be = data::big_endian_copy(&ours);
    let be_count = Btf::parse_unindexed(&be, None)
        .expect("parse BE")
        .type_count();
    assert_eq!(be_count, count, "big-endian copy count");
    assert!(
        walks::native_parse(&be).is_err(),
        "native walk refuses big-endian"
    );

    // A 3% target needs more than back-to-back runs on a shared machine:
    // each line is measured interleaved with the others (see
    // `interleaved`), so all three see the same machine load.
    let lines: [(&str, &dyn Fn()); 3] = [
        (ids::NATIVE_LE, &|| {
            black_box(walks::native_parse(black_box(bytes)).expect("native"));
        }),
        (ids::OURS_UNINDEXED, &|| {
            black_box(Btf::parse_unindexed(black_box(bytes), None).expect("parse"));
        }),
        (ids::OURS_UNINDEXED_BE, &|| {
            black_box(Btf::parse_unindexed(black_box(&be), None).expect("parse"));
        }),
    ];
    let mut g = interleaved_group(c, ids::NATIVE, Duration::from_secs(3));
    g.throughput(Throughput::Elements(u64::from(count)));
    for (i, (name, _)) in lines.iter().enumerate() {
        g.bench_function(*name, |b| interleaved(b, &lines, i));
    }
    g.finish();
}

/// A group for [`interleaved`] lines. Criterion counts only the time the
/// line itself took, and sizes warm-up and measurement by it, so the wall
/// time is `measure` times the sum of all lines over the line's own: keep
/// `measure` short when the lines differ much in cost.
fn interleaved_group<'c>(
    c: &'c mut Criterion,
    name: &str,
    measure: Duration,
) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_millis(300));
    g.sample_size(20);
    g.measurement_time(measure);
    g
}

/// Runs every line of `lines` in turn, `iters` rounds, and reports the
/// time spent in line `which` only. The order rotates every round, so no
/// line always runs right after the same other one (and finds the caches
/// as that one left them).
fn interleaved(b: &mut criterion::Bencher<'_>, lines: &[(&str, &dyn Fn())], which: usize) {
    b.iter_custom(|iters| btf_benches::interleaved_time(iters, lines, which))
}

fn type_by_id_all(c: &mut Criterion) {
    let bytes = vmlinux();
    let ours = Btf::parse(bytes).expect("parse");
    let lb = LibbpfBtf::new(bytes).expect("btf__new");
    let rs = btf_rs::Btf::from_bytes(bytes).expect("from_bytes");
    let last = ours.last_id().get();
    for id in [1, last / 2, last] {
        let t = ours.type_by_id(TypeId::new(id)).expect("id");
        assert_eq!(lb.type_by_id(id).map(|r| r.info), Some(t.info_word()));
        let r = rs.resolve_type_by_id(id).expect("btf-rs id");
        assert_eq!(peers::kind(&r), u32::from(t.kind().get()));
    }

    let mut g = group(c, ids::BY_ID, false);
    g.throughput(Throughput::Elements(u64::from(last)));
    g.bench_function(ids::OURS, |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for id in 1..=last {
                let t = ours.type_by_id(black_box(TypeId::new(id))).expect("id");
                acc ^= t.info_word();
            }
            acc
        })
    });
    g.bench_function(ids::LIBBPF, |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for id in 1..=last {
                acc ^= lb.type_by_id(black_box(id)).expect("id").info;
            }
            acc
        })
    });
    g.finish();
    let mut g = group(c, ids::BY_ID, true);
    g.throughput(Throughput::Elements(u64::from(last)));
    g.bench_function(ids::BTFRS, |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for id in 1..=last {
                acc ^= peers::kind(&rs.resolve_type_by_id(black_box(id)).expect("id"));
            }
            acc
        })
    });
    g.finish();
}

/// Runs the queries through `find` and counts the hits.
#[inline(always)]
fn run_queries(qs: &[Query], mut find: impl FnMut(&Query) -> Option<u32>) -> usize {
    qs.iter().filter(|q| find(black_box(q)).is_some()).count()
}

/// Checks that `find` answers every query as a plain scan does.
fn check_answers(who: &str, qs: &[Query], mut find: impl FnMut(&Query) -> Option<u32>) {
    for q in qs {
        assert_eq!(
            find(q),
            q.expect.map(TypeId::get),
            "{who}: find {:?} of kind {}",
            q.name,
            q.kind
        );
    }
}

fn find_unsorted(c: &mut Criterion) {
    let bytes = vmlinux();
    let scan = Btf::parse(bytes).expect("parse");
    assert!(
        !scan.is_sorted_by_name(),
        "the running kernel's BTF is sorted: find_unsorted would measure binary search"
    );
    let mut indexed = Btf::parse(bytes).expect("parse");
    indexed.index_names();
    let lb = LibbpfBtf::new(bytes).expect("btf__new");
    assert!(!data::libbpf_sees_sorted(&scan));
    let rs = btf_rs::Btf::from_bytes(bytes).expect("from_bytes");
    let qs = data::queries(&scan, ids::QUERIES);
    let hits = qs.iter().filter(|q| q.expect.is_some()).count();
    assert_eq!(hits, ids::QUERIES * 8 / 10, "hits among the queries");

    let ours_find =
        |btf: &Btf<'_>, q: &Query| btf.find_by_name_kind(&q.name, q.kind).map(|t| t.id().get());
    let lb_find = |q: &Query| lb.find_by_name_kind(&q.cname, u32::from(q.kind.get()));
    let rs_find = |q: &Query| peers::find_by_name_kind(&rs, &q.name, u32::from(q.kind.get()));
    check_answers("ours (index)", &qs, |q| ours_find(&indexed, q));
    check_answers("ours (scan)", &qs, |q| ours_find(&scan, q));
    check_answers("libbpf", &qs, lb_find);
    check_answers("btf-rs", &qs, rs_find);

    let mut g = group(c, ids::FIND_UNSORTED, false);
    g.throughput(Throughput::Elements(qs.len() as u64));
    g.bench_function(ids::OURS_INDEX, |b| {
        b.iter(|| run_queries(&qs, |q| ours_find(&indexed, q)))
    });
    g.bench_function(ids::BTFRS_FIND, |b| b.iter(|| run_queries(&qs, rs_find)));
    g.finish();
    let mut g = group(c, ids::FIND_UNSORTED, true);
    g.throughput(Throughput::Elements(qs.len() as u64));
    g.bench_function(ids::OURS_SCAN, |b| {
        b.iter(|| run_queries(&qs, |q| ours_find(&scan, q)))
    });
    g.bench_function(ids::LIBBPF_FIND, |b| b.iter(|| run_queries(&qs, lb_find)));
    g.finish();
}

fn find_sorted(c: &mut Criterion) {
    let bytes = vmlinux();
    let src = Btf::parse(bytes).expect("parse");
    let qs0 = data::queries(&src, ids::QUERIES);
    let sorted: &'static [u8] = Box::leak(data::sorted_copy(&src).into_boxed_slice());
    let ours = Btf::parse(sorted).expect("parse sorted copy");
    assert_eq!(ours.type_count(), src.type_count());
    assert!(
        ours.is_sorted_by_name(),
        "ours does not see the copy as sorted"
    );
    assert!(
        data::libbpf_sees_sorted(&ours),
        "libbpf would not see the copy as sorted"
    );
    let mut indexed = Btf::parse(sorted).expect("parse");
    indexed.index_names();
    let lb = LibbpfBtf::new(sorted).expect("btf__new on the sorted copy");
    let qs = data::requery(&ours, &qs0);

    let ours_find =
        |btf: &Btf<'_>, q: &Query| btf.find_by_name_kind(&q.name, q.kind).map(|t| t.id().get());
    let lb_find = |q: &Query| lb.find_by_name_kind(&q.cname, u32::from(q.kind.get()));
    check_answers("ours (binary search)", &qs, |q| ours_find(&ours, q));
    check_answers("ours (index)", &qs, |q| ours_find(&indexed, q));
    check_answers("libbpf (binary search)", &qs, lb_find);

    let mut g = group(c, ids::FIND_SORTED, false);
    g.throughput(Throughput::Elements(qs.len() as u64));
    g.bench_function(ids::OURS_BSEARCH, |b| {
        b.iter(|| run_queries(&qs, |q| ours_find(&ours, q)))
    });
    g.bench_function(ids::LIBBPF_BSEARCH, |b| {
        b.iter(|| run_queries(&qs, lb_find))
    });
    g.bench_function(ids::OURS_INDEX, |b| {
        b.iter(|| run_queries(&qs, |q| ours_find(&indexed, q)))
    });
    g.finish();

    let mut g = group(c, ids::PARSE_SORTED, false);
    g.throughput(Throughput::Elements(u64::from(ours.type_count())));
    g.bench_function(ids::OURS_PARSE_SORTED, |b| {
        b.iter(|| {
            let btf = Btf::parse(black_box(sorted)).expect("parse");
            assert!(btf.is_sorted_by_name());
            btf
        })
    });
    g.bench_function(ids::LIBBPF_NEW_SORTED, |b| {
        b.iter(|| LibbpfBtf::new(black_box(sorted)).expect("btf__new"))
    });
    g.finish();
}

fn corpus_modules(c: &mut Criterion) {
    let corpus = data::corpus();
    let base = Btf::parse(&corpus.base).expect("ours parses vmlinux.btf");
    let lb_base = LibbpfBtf::new(&corpus.base).expect("libbpf parses vmlinux.btf");
    let rs_base = btf_rs::Btf::from_bytes(&corpus.base).expect("btf-rs parses vmlinux.btf");
    let mut types = 0u64;
    for (name, m) in &corpus.modules {
        let ours = Btf::parse_split(m, &base)
            .unwrap_or_else(|e| panic!("ours fails on module {name}: {e}"));
        ours.validate()
            .unwrap_or_else(|e| panic!("ours does not validate module {name}: {e}"));
        assert_eq!(
            walks::bare_walk(walks::type_section(m)),
            ours.type_count(),
            "{name}: bare walk count"
        );
        let lb = LibbpfBtf::new_split(m, &lb_base)
            .unwrap_or_else(|e| panic!("libbpf fails on module {name}: errno {e}"));
        assert_eq!(
            lb.type_cnt(),
            ours.last_id().get() + 1,
            "{name}: libbpf count"
        );
        let rs = btf_rs::Btf::from_split_bytes(m, &rs_base)
            .unwrap_or_else(|e| panic!("btf-rs fails on module {name}: {e}"));
        let (first, last) = rs.split().expect("split").type_id_range();
        assert_eq!(
            (first, last),
            (ours.first_id().get(), ours.last_id().get()),
            "{name}: btf-rs ids"
        );
        types += u64::from(ours.type_count());
    }
    let batch = Btf::parse_splits(corpus.modules.iter().map(|(_, m)| m.as_slice()), &base);
    assert_eq!(
        batch.len(),
        corpus.modules.len(),
        "parse_splits: one per module"
    );
    for ((name, m), parsed) in corpus.modules.iter().zip(batch) {
        let one = Btf::parse_split(m, &base).expect("split");
        let parsed = parsed.unwrap_or_else(|e| panic!("parse_splits fails on module {name}: {e}"));
        assert_eq!(
            one.into_index(),
            parsed.into_index(),
            "{name}: parse_splits index"
        );
    }
    eprintln!(
        "corpus: {} modules, {} types, {} bytes on a base of {} types",
        corpus.modules.len(),
        types,
        corpus.module_bytes(),
        base.type_count()
    );

    let sections: Vec<&[u8]> = corpus
        .modules
        .iter()
        .map(|(_, m)| walks::type_section(m))
        .collect();
    let lines: [(&str, &dyn Fn()); 5] = [
        (ids::BARE, &|| {
            for types in &sections {
                black_box(walks::bare_walk(black_box(types)));
            }
        }),
        (ids::OURS_SPLITS, &|| {
            let blobs = corpus.modules.iter().map(|(_, m)| black_box(m.as_slice()));
            black_box(Btf::parse_splits(blobs, &base));
        }),
        (ids::OURS_SPLIT, &|| {
            for (_, m) in &corpus.modules {
                black_box(Btf::parse_split(black_box(m), &base).expect("split"));
            }
        }),
        (ids::OURS_SPLIT_VALIDATE, &|| {
            for (_, m) in &corpus.modules {
                let btf = Btf::parse_split(black_box(m), &base).expect("split");
                btf.validate().expect("validate");
                black_box(btf);
            }
        }),
        (ids::LIBBPF_SPLIT, &|| {
            for (_, m) in &corpus.modules {
                black_box(LibbpfBtf::new_split(black_box(m), &lb_base).expect("split"));
            }
        }),
    ];
    let mut g = interleaved_group(c, ids::CORPUS, Duration::from_secs(2));
    g.throughput(Throughput::Elements(corpus.modules.len() as u64));
    for (i, (name, _)) in lines.iter().enumerate() {
        g.bench_function(*name, |b| interleaved(b, &lines, i));
    }
    g.finish();
    let mut g = group(c, ids::CORPUS, true);
    g.throughput(Throughput::Elements(corpus.modules.len() as u64));
    g.bench_function(ids::BTFRS_SPLIT, |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (_, m) in &corpus.modules {
                let rs = btf_rs::Btf::from_split_bytes(black_box(m), &rs_base).expect("split");
                n = n.wrapping_add(rs.split().map_or(0, |s| s.type_id_range().1 as usize));
            }
            n
        })
    });
    g.finish();
}

fn walk_types(c: &mut Criterion) {
    let bytes = vmlinux();
    let types = walks::type_section(bytes);
    let ours = Btf::parse(bytes).expect("parse");
    let lb = LibbpfBtf::new(bytes).expect("btf__new");
    let rs = btf_rs::Btf::from_bytes(bytes).expect("from_bytes");
    let last = ours.last_id().get();

    // What every line computes, so they can be checked against each other:
    // kinds, name lengths and size-or-type fields, summed.
    let ours_walk = |btf: &Btf<'_>| {
        let (mut k, mut n, mut s) = (0u64, 0u64, 0u64);
        for t in btf.types() {
            k += u64::from(t.kind().get());
            n += t.name_bytes().len() as u64;
            s = s.wrapping_add(u64::from(t.size_or_type()));
        }
        (k, n, s)
    };
    let lb_walk = || {
        let (mut k, mut n, mut s) = (0u64, 0u64, 0u64);
        for id in 1..=last {
            let r = lb.type_by_id(id).expect("id");
            k += u64::from(r.kind());
            n += lb.name_by_offset(r.name_off).map_or(0, |x| x.len()) as u64;
            s = s.wrapping_add(u64::from(r.size_or_type));
        }
        (k, n, s)
    };
    let rs_walk = || {
        let (mut k, mut n, mut s) = (0u64, 0u64, 0u64);
        let mut it = rs.type_iter();
        while let Some(t) = it.next().expect("btf-rs iter") {
            k += u64::from(peers::kind(&t));
            n += peers::name_len(&rs, &t) as u64;
            s = s.wrapping_add(peers::size_or_type(&t));
        }
        (k, n, s)
    };
    let want = ours_walk(&ours);
    assert_eq!(lb_walk(), want, "libbpf walk");
    let got = rs_walk();
    assert_eq!(
        (got.0, got.1),
        (want.0, want.1),
        "btf-rs walk (kinds, names)"
    );

    let mut g = group(c, ids::WALK, false);
    g.throughput(Throughput::Elements(u64::from(last)));
    g.bench_function(ids::BARE, |b| b.iter(|| walks::bare_walk(black_box(types))));
    g.bench_function(ids::OURS, |b| b.iter(|| ours_walk(black_box(&ours))));
    g.bench_function(ids::LIBBPF, |b| b.iter(lb_walk));
    g.finish();
    let mut g = group(c, ids::WALK, true);
    g.throughput(Throughput::Elements(u64::from(last)));
    g.bench_function(ids::BTFRS, |b| b.iter(rs_walk));
    g.finish();
}

fn dump_raw(c: &mut Criterion) {
    let bytes = vmlinux();
    let types = walks::type_section(bytes);
    let ours = Btf::parse(bytes).expect("parse");
    let mut out = Vec::new();
    dump::write_raw(&ours, &mut out).unwrap_or_else(|e| match e {});
    let len = out.len();
    eprintln!(
        "dump_raw: {} bytes of text for {} types",
        len,
        ours.type_count()
    );

    let mut g = group(c, ids::DUMP, false);
    g.throughput(Throughput::Elements(u64::from(ours.type_count())));
    g.bench_function(ids::BARE, |b| b.iter(|| walks::bare_walk(black_box(types))));
    g.bench_function(ids::OURS_WRITE_RAW, |b| {
        b.iter(|| {
            out.clear();
            dump::write_raw(black_box(&ours), &mut out).unwrap_or_else(|e| match e {});
            out.len()
        })
    });
    g.bench_function(ids::OURS_PARSE_WRITE_RAW, |b| {
        b.iter(|| {
            out.clear();
            let btf = Btf::parse(black_box(bytes)).expect("parse");
            dump::write_raw(&btf, &mut out).unwrap_or_else(|e| match e {});
            out.len()
        })
    });
    g.finish();

    // bpftool (libbpf's own dumper) as a whole process, when installed:
    // includes exec, libbpf's parse and writing to /dev/null.
    let mut g = group(c, ids::DUMP, true);
    g.throughput(Throughput::Elements(u64::from(ours.type_count())));
    let bpftool = std::process::Command::new("bpftool")
        .args(["btf", "dump", "file", data::VMLINUX, "format", "raw"])
        .output();
    match bpftool {
        Ok(o) if o.status.success() => {
            if o.stdout != out {
                eprintln!(
                    "dump_raw: note: bpftool's output differs from ours ({} vs {len} bytes)",
                    o.stdout.len()
                );
            }
            g.bench_function(ids::BPFTOOL_RAW, |b| {
                b.iter(|| {
                    std::process::Command::new("bpftool")
                        .args(["btf", "dump", "file", data::VMLINUX, "format", "raw"])
                        .stdout(std::process::Stdio::null())
                        .status()
                        .expect("bpftool")
                })
            });
        }
        _ => eprintln!(
            "dump_raw: bpftool not runnable, line {} left out",
            ids::BPFTOOL_RAW
        ),
    }
    g.finish();
}

/// Every type as C: our dumper against libbpf's, both on a blob parsed
/// once, each with a fresh dumper per run; the outputs are checked equal
/// first.
fn dump_c(c: &mut Criterion) {
    let bytes = vmlinux();
    let ours = Btf::parse(bytes).expect("parse");
    let lib = LibbpfBtf::new(bytes).expect("libbpf parse");
    let ids = 1..lib.type_cnt();
    let theirs = lib.c_dump(ids.clone()).expect("libbpf's C dump");
    let mut out = Vec::new();
    dump::write_c(&ours, &mut out).expect("our C dump");
    let start = b"apply_to = record)\n#endif\n\n";
    let from = out
        .windows(start.len())
        .position(|w| w == start)
        .expect("prologue")
        + start.len();
    assert!(
        out[from..].starts_with(&theirs),
        "our C dump differs from libbpf's"
    );
    eprintln!(
        "dump_c: {} bytes of C for {} types",
        theirs.len(),
        ours.type_count()
    );

    let mut g = group(c, ids::DUMP_C, false);
    g.throughput(Throughput::Elements(u64::from(ours.type_count())));
    g.bench_function(ids::OURS_WRITE_C, |b| {
        b.iter(|| {
            out.clear();
            dump::write_c(black_box(&ours), &mut out).expect("C dump");
            out.len()
        })
    });
    g.bench_function(ids::LIBBPF_BTF_DUMP, |b| {
        b.iter(|| lib.c_dump(ids.clone()).expect("libbpf's C dump").len())
    });
    g.finish();
}

criterion::criterion_group!(
    benches,
    parse_vmlinux,
    native_vs_both_orders,
    type_by_id_all,
    find_unsorted,
    find_sorted,
    corpus_modules,
    walk_types,
    dump_raw,
    dump_c
);
criterion::criterion_main!(benches);
