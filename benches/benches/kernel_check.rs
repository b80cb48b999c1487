//! The kernel-exact check of the running kernel's vmlinux against libbpf's
//! `btf__new`, on the same bytes in the same run (group
//! `kernel_check_vmlinux`).
//!
//! Lines, all interleaved (each iteration of one runs between iterations
//! of the others, in rotating order, so all see the same machine load):
//!
//! - `ours/check_as_kernel(user)`: `kernel_check::check_bytes` with the
//!   running kernel's profile and [`Loader::User`]: every rule of
//!   `BPF_BTF_LOAD`, the resolve pass included. This is what
//!   `Btf::check_as_kernel` runs (on the parsed blob's bytes); timed from
//!   the bytes, as `btf__new` starts from them, so no parse is left out.
//! - `ours/check_as_kernel(kernel)`: the same with [`Loader::Kernel`], the
//!   rules the kernel applies to its own vmlinux (no resolve pass).
//! - `ours/parse+validate`: `Btf::parse` then `validate`, for reference
//!   (what `btf__new` checks, check for check).
//! - `libbpf/btf__new` (+ `btf__free`): copies the bytes, indexes every
//!   type and checks names and ids; none of the kernel's per-kind rules.
//!
//! Before timing, every line must give the answer it gives in the timed
//! loop: both checks accept vmlinux (listing every fault finds none),
//! `validate` accepts it, and libbpf's type count equals ours.
//!
//! Run: `cargo bench -p btf-benches --bench kernel_check`.

use btf_benches::data;
use btf_benches::ffi::LibbpfBtf;
use btf_benches::ids;
use btf_benches::interleaved_time;
use btf_core::Btf;
use btf_core::kernel_check::{Loader, check_bytes, check_bytes_all};
use btf_sys::running_kernel_profile;
use criterion::{Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

fn kernel_check_vmlinux(c: &mut Criterion) {
    let bytes = data::vmlinux();
    let bytes = bytes.as_slice();
    let profile = running_kernel_profile().expect("the running kernel's release");
    let user = profile.with_loader(Loader::User);
    let kernel = profile.with_loader(Loader::Kernel);

    // The answers the timed lines give.
    let btf = Btf::parse(bytes).expect("ours parses vmlinux");
    let count = btf.type_count();
    btf.validate().expect("ours validates vmlinux");
    for p in [&user, &kernel] {
        check_bytes(bytes, None, p).expect("vmlinux passes the kernel's rules");
        assert!(
            check_bytes_all(bytes, None, p, 10).is_empty(),
            "no fault in vmlinux"
        );
    }
    let lb = LibbpfBtf::new(bytes).expect("libbpf parses vmlinux");
    assert_eq!(lb.type_cnt(), count + 1, "libbpf count (void included)");
    drop(lb);
    drop(btf);

    let lines: [(&str, &dyn Fn()); 4] = [
        (ids::OURS_KCHECK_USER, &|| {
            check_bytes(black_box(bytes), None, &user).expect("check");
        }),
        (ids::OURS_KCHECK_KERNEL, &|| {
            check_bytes(black_box(bytes), None, &kernel).expect("check");
        }),
        (ids::OURS_PARSE_VALIDATE, &|| {
            let btf = Btf::parse(black_box(bytes)).expect("parse");
            btf.validate().expect("validate");
            black_box(btf);
        }),
        (ids::LIBBPF_NEW, &|| {
            black_box(LibbpfBtf::new(black_box(bytes)).expect("btf__new"));
        }),
    ];
    let mut g = c.benchmark_group(ids::KCHECK);
    g.warm_up_time(Duration::from_millis(300));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(u64::from(count)));
    for (i, (name, _)) in lines.iter().enumerate() {
        g.bench_function(*name, |b| {
            b.iter_custom(|iters| interleaved_time(iters, &lines, i))
        });
    }
    g.finish();
}

criterion::criterion_group!(benches, kernel_check_vmlinux);
criterion::criterion_main!(benches);
