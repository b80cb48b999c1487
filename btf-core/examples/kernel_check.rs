//! Times `Btf::check_as_kernel` on a blob (default: the running kernel's
//! vmlinux) and prints the verdict: `cargo run --release -p btf-core
//! --example kernel_check [FILE [user|kernel]]`.
//!
//! As a yardstick in the same run it times `Btf::parse` + `validate`, which
//! the criterion benches (benches/README.md) measure at 1.85 times faster
//! than libbpf's `btf__new` on vmlinux.

use btf_core::Btf;
use btf_core::kernel_check::{KernelProfile, Loader};
use std::time::Instant;

fn best_of(n: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..n {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
    }
    best
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".to_owned());
    let only = args.next();
    let bytes = std::fs::read(&path)?;
    let btf = Btf::parse(&bytes)?;
    let runs = if only.is_some() { 1 } else { 20 };
    let reference = best_of(runs, || {
        let b = Btf::parse(&bytes).expect("parse");
        b.validate().expect("validate");
    });
    println!(
        "{path}: parse + validate {reference:.2} ms (so libbpf's btf__new about {:.2} ms)",
        reference * 1.85
    );
    for loader in [Loader::User, Loader::Kernel] {
        let name = if loader == Loader::User {
            "user"
        } else {
            "kernel"
        };
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let p = KernelProfile::new(6, 18).with_loader(loader);
        let mut verdict = Ok(());
        let n = std::env::var("KC_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if only.is_some() { 100 } else { 20 });
        let best = best_of(n, || {
            verdict = btf.check_as_kernel(&p);
        });
        match verdict {
            Ok(()) => println!("{path}, {loader:?}: accepted, best {best:.2} ms"),
            Err(e) => println!("{path}, {loader:?}: {e}, best {best:.2} ms"),
        }
    }
    Ok(())
}
