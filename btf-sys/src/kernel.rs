//! The seam between this crate and the kernel: the [`Kernel`] trait, its
//! real implementation [`Linux`], and [`KernelBytes`].
//!
//! The trait mirrors the kernel one call at a time, with raw numbers and raw
//! errnos; every decision (skipping vanished ids, retrying reads, falling
//! back to sysfs, cleaning up) lives above it, so a test double that
//! implements it exercises all of that code.

use core::fmt;
use core::ops::Deref;
use std::collections::TryReserveError;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use crate::error::Alloc;
use crate::id::BtfId;
use crate::limits::MAX_BTF_BYTES;
use crate::sys::{self, BorrowedBtfFd, BtfFd, LoadRejected, RawBtfInfo};

/// The kernel interfaces this crate uses, one method per call.
///
/// [`Linux`] is the running kernel, and the only implementation: the trait
/// is sealed, so methods can be added (a BPF token, `btf_flags`) without
/// breaking anyone. With the `test-kernel` feature, which is outside the
/// crate's semver promises, a test double implements it too (it implements
/// `btf_sys::TestKernel` first); this crate's fault-injection
/// tests and fuzz target do, to fail every call and every allocation in
/// turn. Every method's contract is the kernel's.
pub trait Kernel: sealed::Sealed {
    /// `BPF_BTF_GET_NEXT_ID`: the first BTF object id above `start_id`
    /// (0 for the first); `ENOENT` after the last.
    fn btf_get_next_id(&self, start_id: u32) -> io::Result<u32>;

    /// `BPF_BTF_GET_FD_BY_ID`: a new descriptor for object `id`; `ENOENT`
    /// when it does not exist (any more).
    fn btf_get_fd_by_id(&self, id: BtfId) -> io::Result<BtfFd>;

    /// `BPF_OBJ_GET_INFO_BY_FD` on a BTF object: copies `min(btf.len(),
    /// size)` bytes of the object into `btf` and its NUL-terminated name into
    /// `name` (an empty slice asks for nothing), and returns the real numbers.
    /// A non-empty `name` shorter than the name plus its NUL fails with
    /// `ENOSPC`.
    fn btf_get_info(
        &self,
        fd: BorrowedBtfFd<'_>,
        btf: &mut [u8],
        name: &mut [u8],
    ) -> io::Result<RawBtfInfo>;

    /// `BPF_BTF_LOAD`: loads `btf`, writing the verifier log at `log_level`
    /// into `log` (empty: no log). A log too small fails with `ENOSPC`.
    fn btf_load(&self, btf: &[u8], log: &mut [u8], log_level: u32) -> Result<BtfFd, LoadRejected>;

    /// The names in `/sys/kernel/btf` (`"vmlinux"` and one per module).
    fn sysfs_names(&self) -> io::Result<Vec<String>>;

    /// The size of `/sys/kernel/btf/<name>`.
    fn sysfs_size(&self, name: &str) -> io::Result<u64>;

    /// Appends the contents of `/sys/kernel/btf/<name>` to `buf`.
    fn sysfs_read(&self, name: &str, buf: &mut Vec<u8>) -> io::Result<()>;

    /// The bytes of `/sys/kernel/btf/vmlinux`: mapped where the kernel
    /// allows it, read otherwise.
    fn sysfs_vmlinux(&self) -> io::Result<KernelBytes>;

    /// Called before this crate reserves `bytes` bytes for `what`, a size
    /// that came from the kernel. An error makes the reservation fail as if
    /// the allocator had refused it. The default allows everything.
    fn before_reserve(&self, what: Alloc, bytes: usize) -> Result<(), TryReserveError> {
        let _ = (what, bytes);
        Ok(())
    }
}

pub(crate) mod sealed {
    // Unnameable without the `test-kernel` feature: it seals `Kernel`.
    /// What makes [`Kernel`](super::Kernel) sealed: only [`Linux`](super::Linux)
    /// implements it, and, with the `test-kernel` feature, a test double
    /// (which names it `btf_sys::TestKernel`).
    #[cfg_attr(not(feature = "test-kernel"), allow(unnameable_types))]
    pub trait Sealed {}
}

impl sealed::Sealed for Linux {}

/// The running kernel: bpf(2) and `/sys/kernel/btf`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Linux;

/// `/sys/kernel/btf`.
const SYSFS_BTF: &str = "/sys/kernel/btf";

fn sysfs_path(name: &str) -> io::Result<std::path::PathBuf> {
    // A name is one path component: no separators, no `.` or `..`.
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok(Path::new(SYSFS_BTF).join(name))
}

impl Kernel for Linux {
    fn btf_get_next_id(&self, start_id: u32) -> io::Result<u32> {
        sys::btf_get_next_id(start_id)
    }

    fn btf_get_fd_by_id(&self, id: BtfId) -> io::Result<BtfFd> {
        sys::btf_get_fd_by_id(id.get())
    }

    fn btf_get_info(
        &self,
        fd: BorrowedBtfFd<'_>,
        btf: &mut [u8],
        name: &mut [u8],
    ) -> io::Result<RawBtfInfo> {
        sys::btf_get_info(fd, btf, name)
    }

    fn btf_load(&self, btf: &[u8], log: &mut [u8], log_level: u32) -> Result<BtfFd, LoadRejected> {
        sys::btf_load(btf, log, log_level)
    }

    fn sysfs_names(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(SYSFS_BTF)? {
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        names.sort_unstable();
        Ok(names)
    }

    fn sysfs_size(&self, name: &str) -> io::Result<u64> {
        Ok(fs::metadata(sysfs_path(name)?)?.len())
    }

    fn sysfs_read(&self, name: &str, buf: &mut Vec<u8>) -> io::Result<()> {
        File::open(sysfs_path(name)?)?.read_to_end(buf)?;
        Ok(())
    }

    fn sysfs_vmlinux(&self) -> io::Result<KernelBytes> {
        if let Ok(map) = sys::map_vmlinux() {
            return Ok(KernelBytes(Repr::Mapped(map)));
        }
        let mut file = File::open(sys::VMLINUX_PATH)?;
        let size = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        if size > MAX_BTF_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is {size} bytes, more than the limit of {}",
                    sys::VMLINUX_PATH,
                    MAX_BTF_BYTES
                ),
            ));
        }
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(size)
            .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
        file.read_to_end(&mut bytes)?;
        Ok(KernelBytes(Repr::Heap(bytes)))
    }
}

/// Bytes of kernel BTF: a read-only mapping of the sysfs file, a heap copy,
/// or bytes shared with the caller (`Arc<[u8]>`, no copy). Dereferences to
/// `[u8]`.
pub struct KernelBytes(Repr);

enum Repr {
    Mapped(sys::Mmap),
    Heap(Vec<u8>),
    Shared(std::sync::Arc<[u8]>),
}

impl KernelBytes {
    /// True when the bytes are a mapping of `/sys/kernel/btf/vmlinux`
    /// rather than a copy.
    pub fn is_mapped(&self) -> bool {
        matches!(self.0, Repr::Mapped(_))
    }
}

impl Deref for KernelBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Mapped(map) => map.as_slice(),
            Repr::Heap(bytes) => bytes,
            Repr::Shared(bytes) => bytes,
        }
    }
}

impl AsRef<[u8]> for KernelBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl From<Vec<u8>> for KernelBytes {
    fn from(bytes: Vec<u8>) -> KernelBytes {
        KernelBytes(Repr::Heap(bytes))
    }
}

/// Shares the caller's bytes: no copy.
impl From<std::sync::Arc<[u8]>> for KernelBytes {
    fn from(bytes: std::sync::Arc<[u8]>) -> KernelBytes {
        KernelBytes(Repr::Shared(bytes))
    }
}

impl fmt::Debug for KernelBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KernelBytes")
            .field("len", &self.len())
            .field("mapped", &self.is_mapped())
            .finish()
    }
}
