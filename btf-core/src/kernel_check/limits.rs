//! The kernel's limits for user-loaded BTF.

/// `BTF_MAX_SIZE`: the largest blob `BPF_BTF_LOAD` takes (16 MiB);
/// larger is `E2BIG`.
pub const MAX_BLOB_SIZE: usize = 16 * 1024 * 1024;

/// `BTF_MAX_TYPE`: type ids above it are invalid, and before 6.18 a blob
/// may hold at most this many types counting `void` (`E2BIG` past it; see
/// [`KernelProfile::counts_types`](super::KernelProfile::counts_types)).
pub const MAX_TYPE_ID: u32 = 0x000f_ffff;

/// `BTF_MAX_NAME_OFFSET`: name offsets and the string section's last
/// offset must not exceed it.
pub const MAX_NAME_OFFSET: u32 = 0x00ff_ffff;

/// `MAX_RESOLVE_DEPTH`: the resolve pass's stack depth (`E2BIG` past it),
/// and the modifier chain limit of the type tag pass (`ELOOP`).
pub const MAX_RESOLVE_DEPTH: usize = 32;

/// The most violations [`check_bytes_all`](super::check_bytes_all) returns.
pub const MAX_REPORTS: usize = 1000;

/// Bits of the INT data word the kernel defines (encoding, offset, bits).
pub(crate) const INT_MASK: u32 = 0x0fff_ffff;
