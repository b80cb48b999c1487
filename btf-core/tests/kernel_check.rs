//! `kernel_check` on real kernel BTF: the running kernel's vmlinux, and
//! the Debian corpus (vmlinux and every module split on it), which the
//! kernels that made them accepted.
//!
//! The kernel checks its own BTF without the resolve pass
//! ([`Loader::Kernel`]); these blobs pass the user-load rules
//! ([`Loader::User`], resolve pass included) as well, and both are tested.

mod common;

use btf_core::kernel_check::{KernelProfile, Loader, check_bytes_all};
use btf_core::testing::kernel_check_fast_path;
use btf_core::{Btf, Endian};
use std::time::Instant;

/// The running kernel's vmlinux and its profile; `None` (recorded as a
/// skip) where there is no /sys/kernel/btf.
fn running_vmlinux() -> Option<(Vec<u8>, KernelProfile)> {
    let path = "/sys/kernel/btf/vmlinux";
    let Ok(bytes) = std::fs::read(path) else {
        common::require(false, path);
        return None;
    };
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    Some((
        bytes,
        KernelProfile::from_release(&release).unwrap_or_default(),
    ))
}

#[test]
fn running_vmlinux_passes() {
    let Some((bytes, profile)) = running_vmlinux() else {
        return;
    };
    let btf = Btf::parse(&bytes).expect("parse vmlinux");
    for loader in [Loader::User, Loader::Kernel] {
        let p = profile.with_loader(loader);
        let start = Instant::now();
        let verdict = btf.check_as_kernel(&p);
        eprintln!(
            "vmlinux ({} types), {loader:?}: {:.2} ms",
            btf.type_count(),
            start.elapsed().as_secs_f64() * 1e3
        );
        if let Err(e) = verdict {
            panic!("{loader:?}: {e}");
        }
        assert!(btf.check_as_kernel_all(&p, 10).is_empty());
    }
    let user = profile.with_loader(Loader::User);
    assert!(
        kernel_check_fast_path(&bytes, None, &user),
        "the resolve pass's fast path answers for vmlinux"
    );
}

#[test]
fn both_byte_orders_report_alike() {
    // The check is compiled once per byte order: the running kernel's
    // vmlinux, and copies of it with one bit of the type section flipped,
    // get the same reports in its order and byte-swapped into the other.
    let Some((bytes, profile)) = running_vmlinux() else {
        return;
    };
    let hdr = btf_core::Header::parse(&bytes).expect("vmlinux header");
    let types_at = hdr.hdr_len as usize + hdr.type_off as usize;
    let types_len = hdr.type_len as usize;
    let other = match hdr.endian {
        Endian::Little => Endian::Big,
        Endian::Big => Endian::Little,
    };
    let mut faulty = 0;
    for m in 0..40u64 {
        let mut blob = bytes.clone();
        if m > 0 {
            let at = types_at + (m.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 20) as usize % types_len;
            blob[at] ^= 1 << (m % 8);
        }
        let swapped = common::swap_blob(&blob);
        for loader in [Loader::User, Loader::Kernel] {
            let p = profile.with_loader(loader);
            let here = check_bytes_all(&blob, None, &p.with_endian(hdr.endian), 4);
            let there = check_bytes_all(&swapped, None, &p.with_endian(other), 4);
            assert_eq!(here, there, "flip {m}, {loader:?}");
            faulty += usize::from(!here.is_empty());
        }
    }
    // Most flips break a rule.
    assert!(faulty > 20, "{faulty} faulty checks");
}

#[test]
fn corpus_passes() {
    let Some(dir) = common::corpus() else { return };
    let bytes = std::fs::read(dir.join("vmlinux.btf")).expect("vmlinux.btf");
    let vmlinux = Btf::parse(&bytes).expect("parse");
    // Debian 12's kernel is 6.1.
    let profile = KernelProfile::new(6, 1);
    for loader in [Loader::User, Loader::Kernel] {
        let p = profile.with_loader(loader);
        if let Err(e) = vmlinux.check_as_kernel(&p) {
            panic!("vmlinux, {loader:?}: {e}");
        }
    }
    assert!(
        kernel_check_fast_path(&bytes, None, &profile.with_loader(Loader::User)),
        "the resolve pass's fast path answers for Debian's vmlinux"
    );
    let mut modules = 0;
    let mut failures = Vec::new();
    for name in common::module_names(&dir) {
        let blob = std::fs::read(dir.join("modules").join(format!("{name}.btf"))).expect("module");
        let module = Btf::parse_split(&blob, &vmlinux).expect("parse module");
        for loader in [Loader::User, Loader::Kernel] {
            if let Err(e) = module.check_as_kernel(&profile.with_loader(loader)) {
                failures.push(format!("{name}, {loader:?}: {e}"));
            }
        }
        modules += 1;
    }
    eprintln!("{modules} modules checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
