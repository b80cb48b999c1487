//! Benchmarks of btf-core against its peers: libbpf (through `libbpf-sys`,
//! built from source) and `btf-rs`, on the same bytes in the same run.
//!
//! The library holds what the bench binaries share:
//!
//! | module | concern |
//! |---|---|
//! | [`core_objects`] | the CO-RE test objects (built with clang-19) and the check of our relocations against libbpf's |
//! | [`core_selftests`] | the kernel's CO-RE selftests: sources, a build cache, libbpf's table of cases, running a case |
//! | [`data`] | inputs: running kernel, Debian corpus, queries, sorted and big-endian copies |
//! | [`walks`] | reference walks: the bare offset walk, a little-endian-only framing parse (the record checks of `Btf::parse`) |
//! | [`ffi`] | all `unsafe`: libbpf's API, glibc `mallinfo2`, a counting allocator |
//! | [`peers`] | `btf-rs` helpers |
//! | [`ids`] | benchmark names, shared by `benches/compare.rs` and the `report` tool |
//!
//! See `benches/README.md` for what each bench measures and the results.

pub mod core_objects;
pub mod core_selftests;
pub mod data;
pub mod ffi;
pub mod ids;
pub mod peers;
pub mod walks;

/// Runs every line of `lines` in turn, `iters` rounds, rotating the order
/// every round (so no line always runs right after the same other one and
/// finds the caches as that one left them), and returns the time spent in
/// line `which` only: the body of an interleaved criterion line,
/// `b.iter_custom(|iters| interleaved_time(iters, lines, which))`.
pub fn interleaved_time(
    iters: u64,
    lines: &[(&str, &dyn Fn())],
    which: usize,
) -> std::time::Duration {
    let mut spent = std::time::Duration::ZERO;
    let n = lines.len();
    for round in 0..iters as usize {
        for k in 0..n {
            let i = (round + k) % n;
            let start = std::time::Instant::now();
            (lines[i].1)();
            let took = start.elapsed();
            if i == which {
                spent += took;
            }
        }
    }
    spent
}
