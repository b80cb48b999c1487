//! The raw bpf(2) layer: the only `unsafe` code in the workspace.
//!
//! Everything the kernel reads or writes during a call lives in Rust values
//! that this module borrows for exactly that call: the attr struct (zeroed in
//! full, then filled from safe arguments), `&[u8]` for bytes the kernel reads,
//! `&mut [u8]` for bytes it writes, with the lengths passed to the kernel never
//! larger than those slices. Each file descriptor a command returns becomes an
//! [`OwnedFd`] in one place, [`owned_fd_from_ret`], and then a [`BtfFd`];
//! nothing else here creates or closes a descriptor.
//!
//! Layouts follow the kernel's `include/uapi/linux/bpf.h`; the static asserts
//! below pin every size and offset, and the zerocopy derives prove the structs
//! have no padding, so "zeroed in full" means every byte the kernel sees.

use core::ffi::{c_int, c_long, c_void};
use core::mem::{offset_of, size_of};
use core::ptr::NonNull;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// `BPF_OBJ_GET_INFO_BY_FD` (Linux 4.13).
const BPF_OBJ_GET_INFO_BY_FD: c_int = 15;
/// `BPF_BTF_LOAD` (Linux 4.18).
const BPF_BTF_LOAD: c_int = 18;
/// `BPF_BTF_GET_FD_BY_ID` (Linux 4.18).
const BPF_BTF_GET_FD_BY_ID: c_int = 19;
/// `BPF_BTF_GET_NEXT_ID` (Linux 5.4).
const BPF_BTF_GET_NEXT_ID: c_int = 23;

/// The kernel's limit for a verifier log (`UINT_MAX >> 2`).
pub(crate) const LOG_SIZE_MAX: u32 = u32::MAX >> 2;

/// `union bpf_attr`, the anonymous struct of the `BPF_*_GET_*_ID` commands
/// (Linux 4.13; `open_flags` 4.15, `fd_by_id_token_fd` 6.16).
/// `start_id` shares its place with `btf_id`.
#[repr(C)]
#[derive(FromZeros, IntoBytes, Immutable, KnownLayout)]
struct BpfGetIdAttr {
    start_id: u32,
    next_id: u32,
    open_flags: u32,
    fd_by_id_token_fd: i32,
}

const _: () = {
    assert!(size_of::<BpfGetIdAttr>() == 16);
    assert!(offset_of!(BpfGetIdAttr, start_id) == 0);
    assert!(offset_of!(BpfGetIdAttr, next_id) == 4);
    assert!(offset_of!(BpfGetIdAttr, open_flags) == 8);
    assert!(offset_of!(BpfGetIdAttr, fd_by_id_token_fd) == 12);
};

/// `union bpf_attr`, the `info` struct of `BPF_OBJ_GET_INFO_BY_FD` (Linux 4.13).
#[repr(C, align(8))]
#[derive(FromZeros, IntoBytes, Immutable, KnownLayout)]
struct BpfInfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

const _: () = {
    assert!(size_of::<BpfInfoAttr>() == 16);
    assert!(offset_of!(BpfInfoAttr, bpf_fd) == 0);
    assert!(offset_of!(BpfInfoAttr, info_len) == 4);
    assert!(offset_of!(BpfInfoAttr, info) == 8);
};

/// `union bpf_attr`, the struct of `BPF_BTF_LOAD` (Linux 4.18;
/// `btf_log_true_size` 6.4, `btf_flags` and `btf_token_fd` 6.9).
#[repr(C, align(8))]
#[derive(FromZeros, IntoBytes, Immutable, KnownLayout)]
struct BpfBtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    btf_log_true_size: u32,
    btf_flags: u32,
    btf_token_fd: i32,
}

const _: () = {
    assert!(size_of::<BpfBtfLoadAttr>() == 40);
    assert!(offset_of!(BpfBtfLoadAttr, btf) == 0);
    assert!(offset_of!(BpfBtfLoadAttr, btf_log_buf) == 8);
    assert!(offset_of!(BpfBtfLoadAttr, btf_size) == 16);
    assert!(offset_of!(BpfBtfLoadAttr, btf_log_size) == 20);
    assert!(offset_of!(BpfBtfLoadAttr, btf_log_level) == 24);
    assert!(offset_of!(BpfBtfLoadAttr, btf_log_true_size) == 28);
    assert!(offset_of!(BpfBtfLoadAttr, btf_flags) == 32);
    assert!(offset_of!(BpfBtfLoadAttr, btf_token_fd) == 36);
};

/// `struct bpf_btf_info` (Linux 4.18; `name`, `name_len`, `kernel_btf` 5.11).
#[repr(C, align(8))]
#[derive(FromBytes, IntoBytes, Immutable, KnownLayout)]
struct BpfBtfInfo {
    btf: u64,
    btf_size: u32,
    id: u32,
    name: u64,
    name_len: u32,
    kernel_btf: u32,
}

const _: () = {
    assert!(size_of::<BpfBtfInfo>() == 32);
    assert!(offset_of!(BpfBtfInfo, btf) == 0);
    assert!(offset_of!(BpfBtfInfo, btf_size) == 8);
    assert!(offset_of!(BpfBtfInfo, id) == 12);
    assert!(offset_of!(BpfBtfInfo, name) == 16);
    assert!(offset_of!(BpfBtfInfo, name_len) == 24);
    assert!(offset_of!(BpfBtfInfo, kernel_btf) == 28);
};

/// The numbers `BPF_OBJ_GET_INFO_BY_FD` reports for a BTF object, as the
/// kernel wrote them into `struct bpf_btf_info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawBtfInfo {
    /// The object's real size in bytes (`btf_size`), whatever buffer was given.
    pub btf_size: u32,
    /// The object's id (`id`).
    pub id: u32,
    /// The length of the object's name without its NUL (`name_len`).
    pub name_len: u32,
    /// 1 for vmlinux and module BTF, 0 for BTF loaded by a program (`kernel_btf`).
    pub kernel_btf: u32,
}

/// How the kernel refused `BPF_BTF_LOAD`.
#[derive(Debug)]
pub struct LoadRejected {
    /// The errno of the call.
    pub error: io::Error,
    /// The log size the kernel needed (`btf_log_true_size`, Linux 6.4+; 0
    /// when the kernel does not report it).
    pub log_true_size: u32,
}

/// An owned file descriptor of a BTF object.
///
/// Dropping it closes the descriptor, exactly once. It is never fd 0, which
/// the BPF UAPI reads as "no fd", when it comes from this crate's kernel
/// calls. Borrow it with [`AsFd`] (for example as `attach_btf_obj_fd`), or
/// take the descriptor out with `OwnedFd::from`.
#[derive(Debug)]
pub struct BtfFd {
    fd: OwnedFd,
    /// True only for descriptors returned by `BPF_BTF_GET_FD_BY_ID` or
    /// `BPF_BTF_LOAD` in this module: the kernel made them for a BTF object.
    from_btf_command: bool,
}

impl BtfFd {
    /// Wraps a descriptor obtained elsewhere (passed over a socket, a test
    /// double, ...). It is checked to be a BTF object before the real kernel
    /// interface writes through it.
    pub fn from_owned_fd(fd: OwnedFd) -> BtfFd {
        BtfFd {
            fd,
            from_btf_command: false,
        }
    }

    /// Duplicates the descriptor (`F_DUPFD_CLOEXEC`, above stderr).
    ///
    /// # Errors
    /// The `fcntl` errno, for example `EMFILE`.
    pub fn try_clone(&self) -> io::Result<BtfFd> {
        Ok(BtfFd {
            fd: dup_above_stderr(self.fd.as_fd())?,
            from_btf_command: self.from_btf_command,
        })
    }

    fn from_btf_command(fd: OwnedFd) -> BtfFd {
        BtfFd {
            fd,
            from_btf_command: true,
        }
    }
}

impl AsFd for BtfFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A BTF object's descriptor, lent for a call.
///
/// Made from a [`BtfFd`] of this crate (`From<&BtfFd>`, or
/// [`BtfFd::as_borrowed`]) or from a descriptor that someone else owns and
/// keeps (`From<BorrowedFd>`): libbpf's `btf__fd`, aya's, one received over
/// a socket. The borrow keeps the descriptor open for the call and nothing
/// is closed or duplicated. A descriptor that did not come from this crate's
/// BTF commands is checked to be a BTF object (its `/proc/self/fd` link is
/// `anon_inode:btf`) before the kernel is asked to write through it.
///
/// ```no_run
/// use std::os::fd::AsFd;
/// # let fd_from_elsewhere = btf_sys::open_btf(&btf_sys::Linux, btf_sys::BtfId::new(1).unwrap())?;
/// // A descriptor owned by another library, lent without giving it up:
/// let lent = fd_from_elsewhere.as_fd();
/// let info = btf_sys::btf_info(&btf_sys::Linux, lent)?;
/// println!("btf id {} ({})", info.id, info.name);
/// # Ok::<(), btf_sys::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BorrowedBtfFd<'fd> {
    fd: BorrowedFd<'fd>,
    /// As [`BtfFd`]'s: the kernel made it for a BTF object.
    from_btf_command: bool,
}

impl BtfFd {
    /// Lends the descriptor for a call.
    pub fn as_borrowed(&self) -> BorrowedBtfFd<'_> {
        BorrowedBtfFd {
            fd: self.fd.as_fd(),
            from_btf_command: self.from_btf_command,
        }
    }
}

impl<'fd> From<&'fd BtfFd> for BorrowedBtfFd<'fd> {
    fn from(fd: &'fd BtfFd) -> BorrowedBtfFd<'fd> {
        fd.as_borrowed()
    }
}

impl<'fd> From<BorrowedFd<'fd>> for BorrowedBtfFd<'fd> {
    fn from(fd: BorrowedFd<'fd>) -> BorrowedBtfFd<'fd> {
        BorrowedBtfFd {
            fd,
            from_btf_command: false,
        }
    }
}

impl AsFd for BorrowedBtfFd<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd
    }
}

impl From<BtfFd> for OwnedFd {
    fn from(fd: BtfFd) -> OwnedFd {
        fd.fd
    }
}

impl From<OwnedFd> for BtfFd {
    fn from(fd: OwnedFd) -> BtfFd {
        BtfFd::from_owned_fd(fd)
    }
}

/// Calls bpf(2); a negative return becomes the errno.
///
/// # Safety
/// `A` must be the kernel's attr layout for `cmd`, and every address inside
/// `attr` must be null or valid for the accesses the kernel makes for `cmd`
/// (reads or writes of at most the length given beside it) during the call.
unsafe fn bpf<A: IntoBytes + Immutable>(cmd: c_int, attr: &mut A) -> io::Result<c_int> {
    let size = c_long::try_from(size_of::<A>()).map_err(|_| errno(libc::E2BIG))?;
    let attr_ptr: *mut A = attr;
    // SAFETY: `attr` is an exclusive borrow of `size` initialized bytes (no
    // padding, proven by `IntoBytes`) that the kernel may read and write back
    // into; the caller guarantees the addresses inside it.
    #[cfg(not(miri))]
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            c_long::from(cmd),
            attr_ptr.cast::<c_void>(),
            size,
        )
    };
    // SAFETY: as above; the model makes the kernel's accesses itself.
    #[cfg(miri)]
    let ret = unsafe { miri_kernel::bpf(cmd, attr_ptr.cast::<u8>(), size) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // A BTF command returns 0 or a descriptor, both `int` in the kernel.
    c_int::try_from(ret).map_err(|_| errno(libc::EOVERFLOW))
}

fn errno(code: c_int) -> io::Error {
    io::Error::from_raw_os_error(code)
}

/// The one place a descriptor returned by a syscall becomes owned.
///
/// Fd 0 is moved above stderr (`F_DUPFD_CLOEXEC` from 3) and 0 is closed,
/// because the BPF UAPI reads 0 as "no fd".
///
/// # Safety
/// `ret` must be a descriptor that the calling thread just received from the
/// kernel and that nothing else owns.
unsafe fn owned_fd_from_ret(ret: c_int) -> io::Result<OwnedFd> {
    let raw: RawFd = ret;
    if raw < 0 {
        return Err(errno(libc::EBADF));
    }
    // SAFETY: the caller hands over sole ownership of `raw`, an open
    // descriptor; the `OwnedFd` closes it exactly once, when dropped.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    if raw != 0 {
        return Ok(fd);
    }
    let moved = dup_above_stderr(fd.as_fd());
    drop(fd); // closes fd 0, whether the dup worked or not
    moved
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, 3)`: a new descriptor numbered 3 or above.
fn dup_above_stderr(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: `fd` is open for the whole call (it is borrowed), and
    // F_DUPFD_CLOEXEC only creates a new descriptor; it touches no memory.
    let ret = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3 as c_int) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a successful F_DUPFD_CLOEXEC returns a new descriptor, 3 or
    // above, that belongs to nobody else yet.
    unsafe { owned_fd_from_ret(ret) }
}

/// The address of a buffer the kernel only reads: null when it is empty.
///
/// For a buffer the kernel writes, use [`user_ptr_mut`]: a pointer derived
/// from a shared borrow may not be written through.
fn user_ptr(buf: &[u8]) -> u64 {
    if buf.is_empty() {
        0
    } else {
        buf.as_ptr() as u64
    }
}

/// The address of a buffer the kernel writes: null when it is empty.
///
/// The address comes from `as_mut_ptr` of the exclusive borrow, so the
/// kernel's writes through it are writes through a pointer with write
/// permission (under Stacked and Tree Borrows alike); a pointer from a
/// shared reborrow of the same `&mut [u8]` is read-only. Take it after
/// the buffer's length, and touch the buffer only once the call is over.
fn user_ptr_mut(buf: &mut [u8]) -> u64 {
    if buf.is_empty() {
        0
    } else {
        buf.as_mut_ptr() as u64
    }
}

/// A length for the kernel, never more than the buffer's `len` bytes.
fn user_len(len: usize, max: u32) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX).min(max)
}

/// `BPF_BTF_GET_NEXT_ID`: the first BTF object id above `start_id`.
pub(crate) fn btf_get_next_id(start_id: u32) -> io::Result<u32> {
    let mut attr = BpfGetIdAttr::new_zeroed();
    attr.start_id = start_id;
    // SAFETY: the layout is BPF_BTF_GET_NEXT_ID's (asserted above) and holds
    // no addresses; the kernel writes `next_id` inside `attr`.
    unsafe { bpf(BPF_BTF_GET_NEXT_ID, &mut attr) }?;
    Ok(attr.next_id)
}

/// `BPF_BTF_GET_FD_BY_ID`: a new descriptor for the BTF object `id`.
pub(crate) fn btf_get_fd_by_id(id: u32) -> io::Result<BtfFd> {
    let mut attr = BpfGetIdAttr::new_zeroed();
    attr.start_id = id; // `btf_id`
    // SAFETY: the layout is BPF_BTF_GET_FD_BY_ID's (asserted above) and holds
    // no addresses.
    let ret = unsafe { bpf(BPF_BTF_GET_FD_BY_ID, &mut attr) }?;
    // SAFETY: a successful BPF_BTF_GET_FD_BY_ID returns a new descriptor that
    // the kernel hands to us alone.
    let fd = unsafe { owned_fd_from_ret(ret) }?;
    Ok(BtfFd::from_btf_command(fd))
}

/// True when `fd` is a BTF object: made by a BTF command here, or named
/// `anon_inode:btf` by the kernel.
fn is_btf_object(fd: BorrowedBtfFd<'_>) -> io::Result<bool> {
    if fd.from_btf_command {
        return Ok(true);
    }
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.fd.as_raw_fd()))?;
    Ok(link.as_os_str().as_encoded_bytes() == b"anon_inode:btf")
}

/// `BPF_OBJ_GET_INFO_BY_FD` on a BTF object: copies at most `btf.len()`
/// bytes of the object into `btf` and its NUL-terminated name into `name`
/// (an empty slice asks for nothing), and returns the numbers the kernel
/// reports. A non-empty `name` too small for the name fails with `ENOSPC`.
pub(crate) fn btf_get_info(
    fd: BorrowedBtfFd<'_>,
    btf: &mut [u8],
    name: &mut [u8],
) -> io::Result<RawBtfInfo> {
    // The kernel reads `struct bpf_btf_info` for BTF objects only; another
    // object type would read our addresses as other fields. Refuse those.
    if !is_btf_object(fd)? {
        return Err(errno(libc::EBADFD));
    }
    let mut info = BpfBtfInfo::new_zeroed();
    // The kernel writes both buffers: their addresses come from the
    // exclusive borrows, and nothing touches them again until the call
    // returns.
    info.btf_size = user_len(btf.len(), u32::MAX);
    info.btf = user_ptr_mut(btf);
    info.name_len = user_len(name.len(), u32::MAX);
    info.name = user_ptr_mut(name);
    let info_ptr: *mut BpfBtfInfo = &mut info;
    let mut attr = BpfInfoAttr::new_zeroed();
    attr.bpf_fd = u32::try_from(fd.fd.as_raw_fd()).map_err(|_| errno(libc::EBADF))?;
    attr.info_len = 32; // size_of::<BpfBtfInfo>(), asserted above
    attr.info = info_ptr as u64;
    // SAFETY: the layout is BPF_OBJ_GET_INFO_BY_FD's (asserted above); the
    // fd is a BTF object (checked above, and kept open by the borrow), so the
    // kernel writes at most `info_len` bytes into `info`, at most `btf_size`
    // bytes to `info.btf` and at most `name_len` bytes to `info.name`, all
    // inside the exclusive borrows `info`, `btf` and `name`, or nothing
    // where an address is null.
    unsafe { bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr) }?;
    Ok(RawBtfInfo {
        btf_size: info.btf_size,
        id: info.id,
        name_len: info.name_len,
        kernel_btf: info.kernel_btf,
    })
}

/// `BPF_BTF_LOAD`: loads `btf`, writing the verifier's log at `log_level`
/// into `log` (an empty slice asks for no log).
pub(crate) fn btf_load(btf: &[u8], log: &mut [u8], log_level: u32) -> Result<BtfFd, LoadRejected> {
    let rejected = |error| LoadRejected {
        error,
        log_true_size: 0,
    };
    let mut attr = BpfBtfLoadAttr::new_zeroed();
    // The kernel only reads `btf`, and writes `log`.
    attr.btf = user_ptr(btf);
    attr.btf_size = u32::try_from(btf.len()).map_err(|_| rejected(errno(libc::E2BIG)))?;
    if !log.is_empty() {
        attr.btf_log_size = user_len(log.len(), LOG_SIZE_MAX);
        attr.btf_log_level = log_level;
        attr.btf_log_buf = user_ptr_mut(log);
    }
    // SAFETY: the layout is BPF_BTF_LOAD's (asserted above); the kernel reads
    // `btf_size` bytes at `btf` (all of the shared borrow `btf`) and writes at
    // most `btf_log_size` bytes at `btf_log_buf` (inside the exclusive borrow
    // `log`), or nothing where an address is null.
    let ret = unsafe { bpf(BPF_BTF_LOAD, &mut attr) }.map_err(|error| LoadRejected {
        error,
        log_true_size: attr.btf_log_true_size,
    })?;
    // SAFETY: a successful BPF_BTF_LOAD returns a new descriptor that the
    // kernel hands to us alone.
    let fd = unsafe { owned_fd_from_ret(ret) }.map_err(rejected)?;
    Ok(BtfFd::from_btf_command(fd))
}

/// The path whose mapping [`map_vmlinux`] makes.
pub(crate) const VMLINUX_PATH: &str = "/sys/kernel/btf/vmlinux";

/// `SYSFS_MAGIC` from `include/uapi/linux/magic.h`.
const SYSFS_MAGIC: i64 = 0x6265_6572;

/// A read-only private mapping of `/sys/kernel/btf/vmlinux`
/// ([`map_vmlinux`]) or of a regular file held under a read lease
/// ([`map_leased`]).
#[derive(Debug)]
pub(crate) struct Mmap {
    ptr: NonNull<c_void>,
    len: usize,
    /// The file whose read lease keeps the mapped bytes unchanged (see
    /// [`map_leased`]); `Drop` ends the lease once it has unmapped, and
    /// the file is closed after (fields drop after `drop` runs).
    _lease: Option<File>,
}

// SAFETY: the mapping is read-only memory owned by this value alone; sharing
// `&[u8]` views of it across threads and unmapping it from another thread
// are both sound.
unsafe impl Send for Mmap {}
// SAFETY: as above: only shared, read-only access is ever handed out.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// The mapped bytes, exactly the file's size.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is a live PROT_READ mapping of at least `len` bytes
        // (mmap rounds up to pages) that lasts until `self` drops. The bytes
        // never change while the slice is borrowed: either its pages are
        // the kernel's read-only `.BTF` section (the file was checked to be
        // sysfs's `btf/vmlinux`, which maps exactly that), or the file is
        // held under a read lease for as long as it is mapped, which the
        // kernel grants only while no one has it open for writing, and
        // which holds off every later open for writing and truncation until
        // this process lets go or is ended by the SIGKILL that announces
        // them (see `map_leased`); the file's size is read under the lease,
        // so no page of the mapping lies past its end.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>(), self.len) }
    }

    /// The leased file, for tests that share its open file.
    #[cfg(test)]
    pub(crate) fn lease_file(&self) -> Option<&File> {
        self._lease.as_ref()
    }

    /// Ends the lease now and leaves the pages mapped, unreachable, until
    /// the process exits: the exit takes the whole address space down in
    /// one sweep, which costs the kernel less than `munmap` of the range
    /// (about 0.1 ms less for a 4 MB file). Should the lease not be
    /// released, the mapping is unmapped now, as by `drop`.
    ///
    /// The lease is released explicitly: closing the file would not end
    /// it, since the mapping holds the open file too, and a lease lasts
    /// as long as its open file.
    pub(crate) fn unmap_at_exit(mut self) {
        if let Some(file) = &self._lease {
            // SAFETY: `file` is open for the call; F_SETLEASE takes an int.
            let released =
                unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK) } == 0;
            if !released {
                return; // dropped: unmapped, then closed
            }
        }
        drop(self._lease.take());
        // No borrow of the mapping outlives `self`, which is gone: the
        // pages stay mapped, but nothing can read them.
        core::mem::forget(self);
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly the mapping made in `map_vmlinux`
        // or `map_leased`,
        // unmapped once, here; no borrow of it outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr(), self.len) };
        // The lease ends here, not when its open file is last closed: a
        // child forked by another thread shares that open file until it
        // execs, and would keep the lease (and the SIGKILL a writer
        // brings) past the drop. Unmapped first, so no mapped byte is
        // left unguarded. A refusal leaves the lease to the close.
        if let Some(file) = &self._lease {
            // SAFETY: `file` is open for the call; F_SETLEASE takes an int.
            unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK) };
        }
    }
}

/// Maps `/sys/kernel/btf/vmlinux` read-only (Linux 6.16+ allows it).
///
/// # Errors
/// The open, fstatfs or mmap errno; `ENODEV` when the file is not on sysfs
/// or is empty. Callers fall back to reading the file.
pub(crate) fn map_vmlinux() -> io::Result<Mmap> {
    let file = File::open(VMLINUX_PATH)?;
    if fs_type(&file)? != SYSFS_MAGIC {
        return Err(errno(libc::ENODEV));
    }
    let len = usize::try_from(file.metadata()?.len()).map_err(|_| errno(libc::EFBIG))?;
    if len == 0 {
        return Err(errno(libc::ENODEV));
    }
    // The file may be closed afterwards.
    let ptr = map_readonly(&file, len, libc::MAP_PRIVATE)?;
    Ok(Mmap {
        ptr,
        len,
        _lease: None,
    })
}

/// The local file systems on which a read lease holds off every writer
/// (`f_type` of `statfs`, from `include/uapi/linux/magic.h`): ext2/3/4,
/// XFS, Btrfs, F2FS and tmpfs. On a network or FUSE file system another
/// machine or a daemon can change a file without breaking a local lease,
/// and on overlayfs the lower layer can change beneath it; there files are
/// read, not mapped.
const LEASE_HOLDS_ON: [i64; 5] = [0xef53, 0x5846_5342, 0x9123_683e, 0xf2f5_2010, 0x0102_1994];

/// `F_SETSIG` (`include/uapi/asm-generic/fcntl.h`; the `libc` crate has it
/// only for some targets). Only PA-RISC, which Rust does not target, has
/// another value.
const F_SETSIG: libc::c_int = 10;

/// Maps a whole regular file read-only, with its pages mapped up front
/// when `populate` (for bytes that are all about to be read), under a read
/// lease held until the mapping drops.
///
/// The lease is what makes the mapping sound: the kernel grants it only
/// while no one has the file open for writing (nor mapped for writing),
/// and while it lasts every `open` for writing and every truncation of the
/// file — by any process, this one included — waits until the lease is
/// let go, and the kernel signals this process. The signal is set to
/// SIGKILL (`F_SETSIG`), which no handler, mask or `SIG_IGN` can stop, so
/// the process ends before any writer goes on and the bytes are never seen
/// changing, whatever the program does with its signals. Only files on a
/// local file system where a lease binds every writer are mapped
/// ([`LEASE_HOLDS_ON`]).
///
/// # Errors
/// `ENODEV` for a file that is not regular, is empty, or lies on another
/// file system; `EFBIG` for one too large to map; the errno of
/// `fcntl(F_SETLEASE)` (`EAGAIN` when the file is open for writing,
/// `EACCES` when this process may not lease it, `EINVAL` where leases are
/// not supported), `F_SETSIG`, `fstatfs`, `fstat` or `mmap`. Callers fall
/// back to reading the file.
pub(crate) fn map_leased(file: File, populate: bool) -> io::Result<Mmap> {
    if !LEASE_HOLDS_ON.contains(&fs_type(&file)?) {
        return Err(errno(libc::ENODEV));
    }
    // The lease-break signal first, so that no lease exists without it.
    // SAFETY: `file` is open for the call; F_SETSIG takes an int.
    if unsafe { libc::fcntl(file.as_raw_fd(), F_SETSIG, libc::SIGKILL) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `file` is open for the call; F_SETLEASE takes an int. It
    // makes this process the file's owner, whom the lease break signals.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_RDLCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // Under the lease, the size cannot change any more.
    let metadata = file.metadata()?;
    if !metadata.is_file() || metadata.len() == 0 {
        return Err(errno(libc::ENODEV));
    }
    let len = usize::try_from(metadata.len())
        .ok()
        .filter(|&len| isize::try_from(len).is_ok())
        .ok_or_else(|| errno(libc::EFBIG))?;
    let flags = if populate {
        libc::MAP_PRIVATE | libc::MAP_POPULATE
    } else {
        libc::MAP_PRIVATE
    };
    // The file stays open (and leased) beside the mapping.
    let ptr = map_readonly(&file, len, flags)?;
    Ok(Mmap {
        ptr,
        len,
        _lease: Some(file),
    })
}

/// The `f_type` of the file system `file` lies on (`fstatfs`).
fn fs_type(file: &File) -> io::Result<i64> {
    let mut fs = zeroed_statfs();
    // SAFETY: `file` is open for the call and `fs` is a writable `statfs`
    // that fstatfs fills.
    if unsafe { libc::fstatfs(file.as_raw_fd(), &mut fs) } != 0 {
        return Err(io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)] // `f_type`'s integer type differs per target
    Ok(fs.f_type as i64)
}

/// A new read-only mapping of the first `len` bytes of `file`, `flags`
/// being `MAP_PRIVATE` and perhaps `MAP_POPULATE`.
fn map_readonly(file: &File, len: usize, flags: libc::c_int) -> io::Result<NonNull<c_void>> {
    // SAFETY: a new private read-only mapping at an address the kernel
    // picks; it aliases no Rust memory, and outlives the call only as the
    // pointer returned, which `Mmap` owns and unmaps.
    let ptr = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ,
            flags,
            file.as_raw_fd(),
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    NonNull::new(ptr).ok_or_else(|| errno(libc::ENOMEM))
}

fn zeroed_statfs() -> libc::statfs {
    // SAFETY: `statfs` is a plain C struct of integers (and integer arrays),
    // for which all-zero bytes are a valid value.
    unsafe { core::mem::zeroed() }
}

/// A model of the kernel's side of the two bpf(2) commands that take
/// addresses, for Miri, which cannot make the system call. It reads and
/// writes the caller's memory where the kernel would, through the integer
/// addresses in the attr, so Miri checks what no other test can: that every
/// address the kernel writes through carries write permission (a pointer
/// derived from a shared borrow does not, under Stacked and Tree Borrows),
/// and that every address it reads is valid for the length given beside it.
/// `cargo +nightly miri test -p btf-sys --lib sys::` runs it (`.ci/run`).
#[cfg(miri)]
mod miri_kernel {
    use core::ffi::{c_int, c_long};
    use core::mem::offset_of;
    use core::ptr;

    use super::{BPF_BTF_LOAD, BPF_OBJ_GET_INFO_BY_FD, BpfBtfInfo, BpfBtfLoadAttr, BpfInfoAttr};

    /// The bytes of the model's one BTF object.
    pub(super) const BLOB: &[u8] = b"\x9f\xeb\x01\x00model blob";
    /// Its name, without the NUL the kernel appends.
    pub(super) const NAME: &[u8] = b"model";
    /// The log it writes when it refuses a load (every load).
    pub(super) const LOG: &[u8] = b"model kernel: refused\n\0";

    fn set_errno(code: c_int) -> c_long {
        // SAFETY: `__errno_location` returns this thread's errno.
        unsafe { *libc::__errno_location() = code };
        -1
    }

    /// Copies at most `len` bytes of `bytes` to the user address `addr`, as
    /// the kernel's `copy_to_user` does.
    ///
    /// # Safety
    /// `addr` must be valid for writes of `len` bytes.
    unsafe fn copy_to_user(addr: u64, len: u32, bytes: &[u8]) {
        let n = bytes.len().min(len as usize);
        let to = ptr::with_exposed_provenance_mut::<u8>(addr as usize);
        // SAFETY: the caller's promise, for `n <= len` bytes.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), to, n) };
    }

    /// Reads `len` bytes at the user address `addr`, as `copy_from_user`.
    ///
    /// # Safety
    /// `addr` must be valid for reads of `len` bytes.
    unsafe fn read_user(addr: u64, len: u32) -> u8 {
        let from = ptr::with_exposed_provenance::<u8>(addr as usize);
        // SAFETY: the caller's promise.
        let bytes = unsafe { core::slice::from_raw_parts(from, len as usize) };
        bytes.iter().fold(0, |acc, b| acc ^ b)
    }

    /// bpf(2) as far as this crate's callers reach it: loads are refused
    /// with a log, and every fd is the model's one BTF object.
    ///
    /// # Safety
    /// As for [`super::bpf`]: `attr` holds `size` bytes of `cmd`'s layout,
    /// whose addresses are valid for the kernel's accesses.
    pub(super) unsafe fn bpf(cmd: c_int, attr: *mut u8, _size: c_long) -> c_long {
        match cmd {
            BPF_BTF_LOAD => {
                // SAFETY: `attr` is a `BpfBtfLoadAttr` (the caller's promise).
                let load = unsafe { ptr::read_unaligned(attr.cast::<BpfBtfLoadAttr>()) };
                // SAFETY: the caller promises `btf_size` readable bytes.
                let _ = unsafe { read_user(load.btf, load.btf_size) };
                if load.btf_log_size > 0 {
                    // SAFETY: the caller promises `btf_log_size` writable bytes.
                    unsafe { copy_to_user(load.btf_log_buf, load.btf_log_size, LOG) };
                }
                let true_size = attr.wrapping_add(offset_of!(BpfBtfLoadAttr, btf_log_true_size));
                // SAFETY: inside the attr, which the kernel may write back to.
                unsafe { ptr::write_unaligned(true_size.cast::<u32>(), LOG.len() as u32) };
                set_errno(libc::EINVAL)
            }
            BPF_OBJ_GET_INFO_BY_FD => {
                // SAFETY: `attr` is a `BpfInfoAttr` (the caller's promise).
                let get = unsafe { ptr::read_unaligned(attr.cast::<BpfInfoAttr>()) };
                if get.info_len as usize != size_of::<BpfBtfInfo>() {
                    return set_errno(libc::EINVAL);
                }
                let at = ptr::with_exposed_provenance_mut::<BpfBtfInfo>(get.info as usize);
                // SAFETY: `info` is a `BpfBtfInfo` the kernel reads and writes.
                let mut info = unsafe { ptr::read_unaligned(at) };
                if info.btf != 0 {
                    // SAFETY: the caller promises `btf_size` writable bytes.
                    unsafe { copy_to_user(info.btf, info.btf_size, BLOB) };
                }
                let mut ret = 0;
                if info.name != 0 {
                    let mut name = NAME.to_vec();
                    name.push(0);
                    // SAFETY: the caller promises `name_len` writable bytes.
                    unsafe { copy_to_user(info.name, info.name_len, &name) };
                    if (info.name_len as usize) < name.len() {
                        ret = set_errno(libc::ENOSPC);
                    }
                }
                info.btf_size = BLOB.len() as u32;
                info.id = 1;
                info.name_len = NAME.len() as u32;
                info.kernel_btf = 1;
                // SAFETY: as for the read above.
                unsafe { ptr::write_unaligned(at, info) };
                ret
            }
            _ => set_errno(libc::ENOSYS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log of a refused load is written where `user_ptr_mut` points:
    /// under Miri, a pointer from a shared borrow of `log` fails here.
    #[test]
    #[cfg(miri)]
    fn load_log_is_written_through_an_exclusive_borrow() {
        let blob = *b"\x9f\xeb\x01\x00 bytes the kernel reads";
        let mut log = [0xaa_u8; 64];
        let refused = btf_load(&blob, &mut log, 1).expect_err("the model refuses every load");
        assert_eq!(refused.error.raw_os_error(), Some(libc::EINVAL));
        assert_eq!(refused.log_true_size as usize, miri_kernel::LOG.len());
        assert!(log.starts_with(miri_kernel::LOG));
        // A log shorter than the message: the kernel writes only that much.
        let mut short = [0xaa_u8; 5];
        let _ = btf_load(&blob, &mut short, 1);
        assert_eq!(&short, &miri_kernel::LOG[..5]);
    }

    /// The object's bytes and name are written where `user_ptr_mut`
    /// points, `info` where `&mut info` points; each within its length.
    #[test]
    #[cfg(miri)]
    fn info_buffers_are_written_through_exclusive_borrows() {
        let (read_end, _write_end) = std::io::pipe().expect("pipe");
        let fd = BtfFd::from_btf_command(OwnedFd::from(read_end));
        let mut btf = [0_u8; 64];
        let mut name = [0_u8; 16];
        let info = btf_get_info(fd.as_borrowed(), &mut btf, &mut name).expect("info");
        assert_eq!(info.btf_size as usize, miri_kernel::BLOB.len());
        assert_eq!(info.name_len as usize, miri_kernel::NAME.len());
        assert!(btf.starts_with(miri_kernel::BLOB));
        assert!(name.starts_with(miri_kernel::NAME));
        // Smaller buffers than the object: the kernel writes only that much.
        let mut btf = [0_u8; 4];
        let mut name = [0_u8; 2];
        let err = btf_get_info(fd.as_borrowed(), &mut btf, &mut name).expect_err("name too small");
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
        assert_eq!(&btf, &miri_kernel::BLOB[..4]);
        // Empty buffers are null addresses: nothing is written.
        let info = btf_get_info(fd.as_borrowed(), &mut [], &mut []).expect("sizes only");
        assert_eq!(info.btf_size as usize, miri_kernel::BLOB.len());
    }

    #[test]
    #[cfg_attr(miri, ignore = "moves fd 0 with dup2, which the model does not need")]
    fn fd_zero_is_moved_above_stderr() {
        // Put /dev/null at fd 0 (saving stdin), hand 0 to the audited
        // function, and check it comes back >= 3 with 0 closed. No other test
        // in this binary opens descriptors, so nothing races for fd 0.
        let saved = dup_above_stderr(std::io::stdin().as_fd()).expect("dup stdin");
        let null = File::open("/dev/null").expect("open /dev/null");
        // SAFETY: dup2 onto 0 replaces stdin, which `saved` keeps a copy of.
        assert_eq!(unsafe { libc::dup2(null.as_raw_fd(), 0) }, 0);
        // SAFETY: fd 0 is now our own duplicate of /dev/null and nothing
        // else in this process owns it (stdin's copy is `saved`).
        let fd = unsafe { owned_fd_from_ret(0) }.expect("move fd 0");
        assert!(fd.as_raw_fd() >= 3);
        // SAFETY: F_GETFD only queries a descriptor number; it touches no memory.
        let closed = unsafe { libc::fcntl(0, libc::F_GETFD) } == -1;
        // SAFETY: restores stdin from `saved`, which stays open.
        assert_eq!(unsafe { libc::dup2(saved.as_raw_fd(), 0) }, 0);
        assert!(closed, "fd 0 must be closed after the move");
    }
}
