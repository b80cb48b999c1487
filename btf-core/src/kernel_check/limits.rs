//! The kernel's limits for user-loaded BTF.

/// `BTF_MAX_SIZE`: the largest blob `BPF_BTF_LOAD` takes (16 MiB);
/// larger is `E2BIG`.
pub const MAX_BLOB_SIZE: usize = 16 * 1024 * 1024;

/// `BTF_MAX_TYPE`: type ids above it are invalid, and a base blob's types
/// past this many entries (void included, so from id 0xfffff on) are
/// checked on their own but never registered: `btf_add_type` fails with
/// `E2BIG` and `btf_check_all_metas` ignores that, so nothing can refer to
/// them (seen on 6.1.170 and 6.18: 1,376,256 PTRs to void load).
pub const MAX_TYPE_ID: u32 = 0x000f_ffff;

/// `BTF_MAX_NAME_OFFSET`: name offsets and the string section's last
/// offset must not exceed it.
pub const MAX_NAME_OFFSET: u32 = 0x00ff_ffff;

/// `MAX_RESOLVE_DEPTH`: the resolve pass's stack depth (`E2BIG` past it),
/// and the modifier chain limit of the type tag pass (`ELOOP`).
pub const MAX_RESOLVE_DEPTH: usize = 32;

/// The most violations [`check_bytes_all`](super::check_bytes_all) returns.
pub const MAX_REPORTS: usize = 1000;
