//! `parse_split`: the input is a base blob and a split blob.
//!
//! The first two bytes (little-endian) are the base's length; the base
//! follows, then the split takes the rest. The base is parsed with
//! `Btf::parse` (inputs whose base fails stop there), the split with
//! `Btf::parse_split` on it, and the split gets the walk of
//! `btf_fuzz::walk`, including ids and names below the split's first id and
//! string offset resolving through the base. `Btf::parse_splits` must give
//! the split, and cut copies of it, what `parse_split` gives each. When the
//! split parses, the same bytes are tried once more as a split on the split
//! (depth 2).
#![no_main]

use btf_core::Btf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (base, split) = rest.split_at(len);
    let Ok(base) = Btf::parse(base) else {
        return;
    };
    btf_fuzz::parse_and_walk(split, Some(&base));
    btf_fuzz::splits_agree(split, &base);
    if let Ok(first) = Btf::parse_split(split, &base)
        && let Ok(second) = Btf::parse_split(split, &first)
    {
        assert_eq!(second.split_depth(), 2);
        assert_eq!(second.first_id().get(), first.last_id().get() + 1);
        btf_fuzz::walk(&second);
    }
});
