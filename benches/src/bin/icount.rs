//! Runs one operation once, for instruction counting under callgrind:
//! `icount OP` (see `icount --list`). Setup (reading files, parsing a base,
//! building queries) happens outside the function `icount_measured`, which
//! is what `report --icount` tells callgrind to count
//! (`--toggle-collect=*icount_measured*`). Instruction counts do not depend
//! on machine load, so they compare implementations exactly where the
//! timings are noisy.

use btf_benches::data::{self, Query};
use btf_benches::ffi::LibbpfBtf;
use btf_benches::{ids, walks};
use btf_core::kernel_check::{Loader, check_bytes};
use btf_core::{Btf, dump};
use btf_sys::running_kernel_profile;
use std::hint::black_box;

/// The operations, in the order the report lists them: (name, what).
const OPS: &[(&str, &str)] = &[
    ("bare_walk", "bare offset walk of vmlinux (count only)"),
    ("bare_walk_offsets", "bare offset walk, offsets into a Vec"),
    ("native_le_parse", "little-endian-only framing parse"),
    ("ours_parse_unindexed", "ours Btf::parse_unindexed"),
    ("ours_parse", "ours Btf::parse (id index)"),
    ("ours_parse_validate", "ours Btf::parse + validate"),
    ("ours_parse_index_names", "ours Btf::parse + index_names"),
    ("libbpf_btf_new", "libbpf btf__new (+ btf__free)"),
    ("btfrs_from_bytes", "btf-rs Btf::from_bytes"),
    (
        "ours_find_index",
        "ours 300 finds, index_names built before",
    ),
    (
        "libbpf_find_unsorted",
        "libbpf 300 btf__find_by_name_kind, unsorted",
    ),
    ("ours_find_sorted", "ours 300 finds, sorted copy, no index"),
    (
        "libbpf_find_sorted",
        "libbpf 300 btf__find_by_name_kind, sorted copy",
    ),
    (
        "ours_corpus_splits",
        "ours parse_splits of every corpus module",
    ),
    ("ours_corpus", "ours parse_split of every corpus module"),
    (
        "ours_corpus_validate",
        "ours parse_split + validate of every corpus module",
    ),
    (
        "libbpf_corpus",
        "libbpf btf__new_split of every corpus module",
    ),
    ("ours_write_raw", "ours dump::write_raw of vmlinux"),
    ("ours_type_by_id", "ours type_by_id of every vmlinux id"),
    (
        "ours_walk",
        "ours types() of vmlinux: kinds, name lengths, size_or_type",
    ),
    ("ours_write_c", "ours dump::write_c of vmlinux"),
    (
        "ours_kernel_check_user",
        "ours check_as_kernel of vmlinux, BPF_BTF_LOAD rules (resolve pass)",
    ),
    (
        "ours_kernel_check_kernel",
        "ours check_as_kernel of vmlinux, kernel-BTF rules (no resolve pass)",
    ),
];

/// The counted region: callgrind counts only while this is on the stack.
#[inline(never)]
fn icount_measured(f: &mut dyn FnMut() -> u64) -> u64 {
    black_box(f())
}

fn finds(qs: &[Query], mut find: impl FnMut(&Query) -> Option<u32>) -> u64 {
    qs.iter().filter(|q| find(q).is_some()).count() as u64
}

fn main() {
    let Some(op) = std::env::args().nth(1) else {
        eprintln!("usage: icount OP   (icount --list for the operations)");
        std::process::exit(2);
    };
    if op == "--list" {
        for (name, what) in OPS {
            println!("{name}\t{what}");
        }
        return;
    }
    let bytes = data::vmlinux();
    let types = walks::type_section(&bytes);
    let vm_types = u64::from(
        Btf::parse_unindexed(&bytes, None)
            .expect("parse")
            .type_count(),
    );
    let mut elements = vm_types;
    let n = match op.as_str() {
        "bare_walk" => icount_measured(&mut || u64::from(walks::bare_walk(black_box(types)))),
        "bare_walk_offsets" => icount_measured(&mut || {
            let mut v = Vec::with_capacity(types.len() / 12);
            walks::bare_walk_offsets(black_box(types), &mut v);
            v.shrink_to_fit();
            v.len() as u64
        }),
        "native_le_parse" => icount_measured(&mut || {
            u64::from(walks::native_parse(black_box(&bytes)).expect("native"))
        }),
        "ours_parse_unindexed" => icount_measured(&mut || {
            u64::from(
                Btf::parse_unindexed(black_box(&bytes), None)
                    .expect("parse")
                    .type_count(),
            )
        }),
        "ours_parse" => icount_measured(&mut || {
            u64::from(Btf::parse(black_box(&bytes)).expect("parse").type_count())
        }),
        "ours_parse_validate" => icount_measured(&mut || {
            let btf = Btf::parse(black_box(&bytes)).expect("parse");
            btf.validate().expect("validate");
            u64::from(btf.type_count())
        }),
        "ours_parse_index_names" => icount_measured(&mut || {
            let mut btf = Btf::parse(black_box(&bytes)).expect("parse");
            btf.index_names();
            u64::from(btf.type_count())
        }),
        "libbpf_btf_new" => icount_measured(&mut || {
            u64::from(
                LibbpfBtf::new(black_box(&bytes))
                    .expect("btf__new")
                    .type_cnt(),
            )
        }),
        "btfrs_from_bytes" => icount_measured(&mut || {
            let rs = btf_rs::Btf::from_bytes(black_box(&bytes)).expect("from_bytes");
            u64::from(rs.base().type_id_range().1)
        }),
        "ours_find_index" | "libbpf_find_unsorted" => {
            let src = Btf::parse(&bytes).expect("parse");
            let qs = data::queries(&src, ids::QUERIES);
            elements = qs.len() as u64;
            if op == "ours_find_index" {
                let mut btf = Btf::parse(&bytes).expect("parse");
                btf.index_names();
                icount_measured(&mut || {
                    finds(&qs, |q| {
                        btf.find_by_name_kind(&q.name, q.kind).map(|t| t.id().get())
                    })
                })
            } else {
                let lb = LibbpfBtf::new(&bytes).expect("btf__new");
                icount_measured(&mut || {
                    finds(&qs, |q| {
                        lb.find_by_name_kind(&q.cname, u32::from(q.kind.get()))
                    })
                })
            }
        }
        "ours_find_sorted" | "libbpf_find_sorted" => {
            let src = Btf::parse(&bytes).expect("parse");
            let qs = data::queries(&src, ids::QUERIES);
            elements = qs.len() as u64;
            let sorted = data::sorted_copy(&src);
            let btf = Btf::parse(&sorted).expect("parse sorted");
            // Sortedness is checked on first use and remembered; do it here,
            // as libbpf does it in btf__new.
            assert!(btf.is_sorted_by_name());
            if op == "ours_find_sorted" {
                icount_measured(&mut || {
                    finds(&qs, |q| {
                        btf.find_by_name_kind(&q.name, q.kind).map(|t| t.id().get())
                    })
                })
            } else {
                let lb = LibbpfBtf::new(&sorted).expect("btf__new");
                icount_measured(&mut || {
                    finds(&qs, |q| {
                        lb.find_by_name_kind(&q.cname, u32::from(q.kind.get()))
                    })
                })
            }
        }
        "ours_corpus_splits" | "ours_corpus" | "ours_corpus_validate" | "libbpf_corpus" => {
            let corpus = data::corpus();
            elements = corpus.modules.len() as u64;
            if op == "ours_corpus_splits" {
                let base = Btf::parse(&corpus.base).expect("parse base");
                icount_measured(&mut || {
                    let blobs = corpus.modules.iter().map(|(_, m)| m.as_slice());
                    Btf::parse_splits(blobs, &base)
                        .into_iter()
                        .map(|btf| u64::from(btf.expect("split").type_count()))
                        .sum()
                })
            } else if op != "libbpf_corpus" {
                let validate = op == "ours_corpus_validate";
                let base = Btf::parse(&corpus.base).expect("parse base");
                icount_measured(&mut || {
                    corpus
                        .modules
                        .iter()
                        .map(|(_, m)| {
                            let btf = Btf::parse_split(m, &base).expect("split");
                            if validate {
                                btf.validate().expect("validate");
                            }
                            u64::from(btf.type_count())
                        })
                        .sum()
                })
            } else {
                let base = LibbpfBtf::new(&corpus.base).expect("btf__new base");
                icount_measured(&mut || {
                    corpus
                        .modules
                        .iter()
                        .map(|(_, m)| {
                            u64::from(LibbpfBtf::new_split(m, &base).expect("split").type_cnt())
                        })
                        .sum()
                })
            }
        }
        "ours_write_raw" => {
            let btf = Btf::parse(&bytes).expect("parse");
            let mut out = Vec::with_capacity(16 << 20);
            icount_measured(&mut || {
                dump::write_raw(&btf, &mut out).unwrap_or_else(|e| match e {});
                out.len() as u64
            })
        }
        "ours_type_by_id" => {
            let btf = Btf::parse(&bytes).expect("parse");
            let last = btf.last_id().get();
            icount_measured(&mut || {
                let mut acc = 0u32;
                for id in 1..=last {
                    let t = btf
                        .type_by_id(black_box(btf_core::TypeId::new(id)))
                        .expect("id");
                    acc ^= t.info_word();
                }
                u64::from(acc)
            })
        }
        "ours_walk" => {
            let btf = Btf::parse(&bytes).expect("parse");
            icount_measured(&mut || {
                let (mut k, mut n, mut s) = (0u64, 0u64, 0u64);
                for t in black_box(&btf).types() {
                    k += u64::from(t.kind().get());
                    n += t.name_bytes().len() as u64;
                    s = s.wrapping_add(u64::from(t.size_or_type()));
                }
                k ^ n ^ s
            })
        }
        "ours_write_c" => {
            let btf = Btf::parse(&bytes).expect("parse");
            let mut out = Vec::with_capacity(16 << 20);
            icount_measured(&mut || {
                dump::write_c(&btf, &mut out).expect("C dump");
                out.len() as u64
            })
        }
        "ours_kernel_check_user" | "ours_kernel_check_kernel" => {
            let loader = if op == "ours_kernel_check_user" {
                Loader::User
            } else {
                Loader::Kernel
            };
            let profile = running_kernel_profile()
                .expect("the running kernel's release")
                .with_loader(loader);
            check_bytes(&bytes, None, &profile).expect("the kernel's rules");
            // From the bytes, as `btf__new` starts from them.
            icount_measured(&mut || {
                check_bytes(black_box(&bytes), None, &profile).expect("the kernel's rules");
                vm_types
            })
        }
        other => {
            eprintln!("icount: unknown operation {other:?} (icount --list)");
            std::process::exit(2);
        }
    };
    // Read by `report --icount`: the element count for its per-element
    // column, then the result (which keeps the work from being optimised
    // away).
    println!("elements {elements} result {n}");
}
