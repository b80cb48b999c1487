//! Times `Btf::check_as_kernel` on a blob (default: the running kernel's
//! vmlinux) and prints the verdict: `cargo run --release -p btf-core
//! --example kernel_check [FILE]`.

use btf_core::Btf;
use btf_core::kernel_check::{KernelProfile, Loader};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".to_owned());
    let bytes = std::fs::read(&path)?;
    let btf = Btf::parse(&bytes)?;
    for loader in [Loader::User, Loader::Kernel] {
        let p = KernelProfile::new(6, 18).with_loader(loader);
        let mut best = f64::MAX;
        let mut verdict = Ok(());
        for _ in 0..20 {
            let start = Instant::now();
            verdict = btf.check_as_kernel(&p);
            best = best.min(start.elapsed().as_secs_f64() * 1e3);
        }
        match verdict {
            Ok(()) => println!("{path}, {loader:?}: accepted, best of 20: {best:.2} ms"),
            Err(e) => println!("{path}, {loader:?}: {e}, best of 20: {best:.2} ms"),
        }
    }
    Ok(())
}
