//! The most this crate reads of what the kernel reports: buffers sized
//! from kernel numbers are bounded by these, below every module that
//! sizes one.

/// The largest BTF object this crate reads: 256 MiB, about forty times the
/// BTF of a distribution's vmlinux (6–7 MiB in 2026). The kernel refuses to
/// load user BTF above 16 MiB (`BTF_MAX_SIZE`); a larger reported size, from
/// `BPF_OBJ_GET_INFO_BY_FD` or a sysfs file, is refused with
/// [`Error::TooLarge`](crate::Error::TooLarge) before anything is allocated.
pub const MAX_BTF_BYTES: usize = 256 << 20;

/// The longest BTF object name this crate reads (module names are at most
/// 55 bytes; the kernel's object names at most 15).
pub const MAX_NAME_BYTES: usize = 4096;
