//! `parse`: the input is a base BTF blob.
//!
//! `Btf::parse`, then the whole walk of `btf_fuzz::walk`: every type by
//! iteration and by id, every kind-specific view (members, parameters,
//! enumerators, datasec entries), lookups by every name through a hash
//! index (`find_by_name`, `find_by_name_kind`, checked to find a type of
//! that name and kind at or below its id; the same by scan and binary
//! search on a sample of names, so that a run costs O(n) and a whole
//! vmlinux fits in the time limit),
//! `size_of`/`align_of`/`skip_mods*` on every id, `Debug`/`Display` and
//! `dump::write_raw` (whole and per type, which must agree), and
//! `parse_unindexed`/`parse_with_storage`/`with_index` compared with
//! `parse` (type count, first and last id, records). Never panics; errors
//! are fine, but a blob one constructor rejects every constructor rejects.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = btf_core::Header::parse(data).map(|h| format!("{h:?}"));
    btf_fuzz::parse_and_walk(data, None);
});
