//! Reproducers found by the fuzz targets in `fuzz/` (see `fuzz/README.md`),
//! each run through the code path that failed. The fuzz inputs themselves
//! are in `fuzz/regressions/`; where a target decodes its input with
//! `arbitrary`, the test spells out the calls that input makes and checks
//! them against the blob they produce, kept next to the input (`.btf`).
//! `FUZZ_REGRESSIONS_WRITE=1` rewrites those blobs.

use btf_core::write::{Builder, EncodeOptions, HeaderFormat, LEGACY_MAX_VLEN};
use btf_core::{Btf, Endian, Kind};

fn regression(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(name)
}

/// `structured` (fuzz/regressions/structured-layout-known-kind): a builder
/// with no types and the layout entry of ARRAY set to 0/0, encoded big
/// endian with the layout header. `Builder::check` accepts it;
/// `Btf::parse` rejects the blob ("layout entry for kind ARRAY at offset 44
/// disagrees with its known layout"). What the writer validates, the reader
/// must parse: one of the two has to change.
#[test]
fn structured_layout_known_kind() {
    const BLOB: &[u8] = include_bytes!("../../fuzz/regressions/structured-layout-known-kind.btf");
    let opts = EncodeOptions::new(Endian::Big)
        .with_header(HeaderFormat::Layout)
        .with_max_vlen(LEGACY_MAX_VLEN);
    let mut b = Builder::new();
    b.set_kind_layout(Kind::ARRAY, 0, 0);
    let bytes = b.encode_unchecked(&opts).expect("encode_unchecked");
    if std::env::var_os("FUZZ_REGRESSIONS_WRITE").is_some() {
        std::fs::write(regression("structured-layout-known-kind.btf"), &bytes).unwrap();
    } else {
        assert_eq!(
            bytes, BLOB,
            "the reproducer blob is what the builder writes"
        );
    }
    if b.check(&opts).is_ok()
        && let Err(e) = Btf::parse(&bytes)
    {
        panic!("Builder::check accepted a blob Btf::parse rejects: {e}");
    }
}
