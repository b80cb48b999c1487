//! `elf`: the input is an ELF file.
//!
//! `btf_core::elf::BtfSections::parse` finds `.BTF`, `.BTF.ext` and
//! `.BTF.base`; the sections must be slices of the input at the offsets it
//! reports. `.BTF` is then parsed and walked (`btf_fuzz::walk`) as a base,
//! as a split on `.BTF.base` when there is one, and, when it is not a base
//! (it does not parse alone, or its string section does not start with
//! NUL, the sign of a split), as a split on the small distilled vmlinux of
//! `fuzz/data/base.btf`, the base the seeds `split-<module>.ko` were
//! rebased onto: a module's `.BTF` then reaches the walk as the kernel
//! reads it on vmlinux.
#![no_main]

use btf_core::Btf;
use btf_core::elf::BtfSections;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static BASE: LazyLock<Btf<'static>> = LazyLock::new(|| {
    Btf::parse(include_bytes!("../data/base.btf")).expect("fuzz/data/base.btf parses")
});

/// Whether `btf`'s string section starts with a byte other than NUL: a
/// split's strings continue its base's, a base's start with the empty
/// string.
fn split_sign(btf: &[u8]) -> bool {
    let Ok(h) = btf_core::Header::parse(btf) else {
        return false;
    };
    let at = u64::from(h.hdr_len) + u64::from(h.str_off);
    h.str_len > 0
        && usize::try_from(at)
            .ok()
            .and_then(|at| btf.get(at))
            .is_some_and(|&b| b != 0)
}

fn within(inner: &[u8], outer: &[u8]) -> bool {
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    o.start <= i.start && i.end <= o.end
}

fuzz_target!(|data: &[u8]| {
    let found = match BtfSections::parse(data) {
        Ok(found) => found,
        Err(e) => {
            let _ = format!("{e} {e:?}");
            return;
        }
    };
    let _ = (
        found.endian(),
        found.is_64(),
        found.machine(),
        format!("{found:?}"),
    );
    let btf = found.btf();
    assert!(within(btf, data), ".BTF is not a slice of the file");
    let off = usize::try_from(found.btf_file_offset()).expect("offset fits");
    assert!(
        off.checked_add(btf.len())
            .and_then(|end| data.get(off..end))
            == Some(btf),
        ".BTF is not at its file offset"
    );
    for section in [found.btf_ext(), found.btf_base()].into_iter().flatten() {
        assert!(within(section, data));
    }
    btf_fuzz::parse_and_walk(btf, None);
    if let Some(base) = found.btf_base()
        && let Ok(base) = Btf::parse(base)
    {
        btf_fuzz::walk(&base);
        btf_fuzz::parse_and_walk(btf, Some(&base));
    }
    if Btf::parse(btf).is_err() || split_sign(btf) {
        btf_fuzz::parse_and_walk(btf, Some(&BASE));
    }
});
