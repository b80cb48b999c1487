//! `kernel_check`: the input is a BTF blob, checked as the kernel's
//! `BPF_BTF_LOAD` would check it (`btf_core::kernel_check`) under several
//! kernel generations and both loaders, and by `Btf::parse` +
//! `Btf::validate`.
//!
//! The kernel-exact check is the stricter: a blob it accepts for the user
//! loader must parse and validate (as a base), and `check_bytes_all`'s
//! first report must be `check_bytes`'s. Nothing may panic.
#![no_main]

use btf_core::Btf;
use btf_core::kernel_check::{self, KernelProfile, Loader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = Btf::parse(data);
    let valid = parsed.as_ref().is_ok_and(|btf| btf.validate().is_ok());
    // (profile, whether its verdict is held to validate's): the kernel's
    // own loader skips the resolve pass, so it may accept a member whose
    // type does not exist, which validate refuses.
    for (profile, strict) in [
        (KernelProfile::NEWEST, true),
        (KernelProfile::new(6, 18), true),
        (KernelProfile::new(6, 12), true),
        (KernelProfile::new(6, 1), true),
        (KernelProfile::new(6, 18).with_loader(Loader::Kernel), false),
    ] {
        let first = kernel_check::check_bytes(data, None, &profile);
        let all = kernel_check::check_bytes_all(data, None, &profile, 16);
        assert_eq!(
            first.as_ref().err(),
            all.first(),
            "check_bytes and check_bytes_all disagree on the first report"
        );
        match &first {
            Ok(()) => assert!(
                valid || !strict,
                "the kernel-exact check ({:?}) accepts a blob validate refuses: {:?}",
                profile.release(),
                parsed.as_ref().err()
            ),
            Err(reject) => {
                let _ = format!("{reject} {reject:?}");
            }
        }
    }
});
