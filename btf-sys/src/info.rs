//! A BTF object's info, name and bytes (`BPF_OBJ_GET_INFO_BY_FD`).
//!
//! The kernel copies `min(buffer, size)` bytes and always reports the real
//! size, so a too-small buffer is silent truncation: every read here asks
//! the size first, reads exactly that, and reads again if the object then
//! reports more. Buffers sized from kernel numbers are bounded
//! ([`MAX_BTF_BYTES`], [`MAX_NAME_BYTES`]) and reserved with `try_reserve`,
//! so a huge number is an error, not an abort or a multi-gigabyte buffer.

use crate::error::{Alloc, Command, Error};
use crate::id::BtfId;
use crate::kernel::Kernel;
use crate::limits::{MAX_BTF_BYTES, MAX_NAME_BYTES};
use crate::sys::{BorrowedBtfFd, RawBtfInfo};

/// How many times a read is retried when the object's size changes.
const ATTEMPTS: usize = 4;

/// What the kernel says about a BTF object.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BtfInfo {
    /// The object's id.
    pub id: BtfId,
    /// `"vmlinux"`, the module's name, or `""` for most user BTF.
    pub name: String,
    /// True for vmlinux and module BTF, false for BTF loaded by a program.
    pub kernel_btf: bool,
    /// The size of the object's bytes.
    pub size: u32,
}

/// A BTF object's info and bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BtfObject {
    /// The info.
    pub info: BtfInfo,
    /// Exactly `info.size` bytes of raw BTF.
    pub bytes: Vec<u8>,
}

/// Reads the info (id, name, kernel flag, size) of the BTF object `fd`.
///
/// # Errors
/// [`Error::Syscall`] for a failed call, [`Error::OutOfMemory`] for the name
/// buffer, [`Error::BadName`], [`Error::Unstable`].
pub fn btf_info<'fd, K: Kernel + ?Sized>(
    kernel: &K,
    fd: impl Into<BorrowedBtfFd<'fd>>,
) -> Result<BtfInfo, Error> {
    let fd = fd.into();
    let raw = query(kernel, fd, None)?;
    let id = object_id(raw, None)?;
    let name = read_name(kernel, fd, Some(id), raw.name_len)?;
    Ok(BtfInfo {
        id,
        name,
        kernel_btf: raw.kernel_btf != 0,
        size: raw.btf_size,
    })
}

/// Reads the info and the bytes of the BTF object `fd`.
///
/// ```no_run
/// let fd = btf_sys::open_btf(&btf_sys::Linux, btf_sys::BtfId::new(1).unwrap())?;
/// let object = btf_sys::read_btf(&btf_sys::Linux, &fd)?;
/// println!("{} is {} bytes", object.info.name, object.bytes.len());
/// # Ok::<(), btf_sys::Error>(())
/// ```
///
/// # Errors
/// As [`btf_info`], and [`Error::OutOfMemory`] for the bytes.
pub fn read_btf<'fd, K: Kernel + ?Sized>(
    kernel: &K,
    fd: impl Into<BorrowedBtfFd<'fd>>,
) -> Result<BtfObject, Error> {
    let fd = fd.into();
    let info = btf_info(kernel, fd)?;
    let bytes = read_bytes(kernel, fd, Some(info.id), info.size)?;
    let size = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    Ok(BtfObject {
        info: BtfInfo { size, ..info },
        bytes,
    })
}

/// The info call with no buffers: the object's numbers only.
pub(crate) fn query<K: Kernel + ?Sized>(
    kernel: &K,
    fd: BorrowedBtfFd<'_>,
    id: Option<BtfId>,
) -> Result<RawBtfInfo, Error> {
    kernel
        .btf_get_info(fd, &mut [], &mut [])
        .map_err(|source| info_error(id, source))
}

/// The object's id from its info; 0 is impossible.
pub(crate) fn object_id(raw: RawBtfInfo, id: Option<BtfId>) -> Result<BtfId, Error> {
    BtfId::new(raw.id).ok_or(Error::Unstable {
        command: Command::ObjGetInfoByFd,
        id,
        what: "the kernel reported btf id 0",
    })
}

fn info_error(id: Option<BtfId>, source: std::io::Error) -> Error {
    Error::Syscall {
        command: Command::ObjGetInfoByFd,
        id,
        source,
    }
}

/// The limit for a buffer of `what`, if it has one (the verifier log's
/// size is the caller's choice).
fn limit(what: Alloc) -> Option<usize> {
    match what {
        Alloc::Bytes => Some(MAX_BTF_BYTES),
        // The name and its NUL.
        Alloc::Name => Some(MAX_NAME_BYTES + 1),
        _ => None,
    }
}

/// An empty buffer with room for `len` bytes, reserved fallibly (after
/// checking the limit for `what` and asking [`Kernel::before_reserve`]).
pub(crate) fn reserved_buffer<K: Kernel + ?Sized>(
    kernel: &K,
    what: Alloc,
    id: Option<BtfId>,
    len: usize,
) -> Result<Vec<u8>, Error> {
    if let Some(limit) = limit(what).filter(|&limit| len > limit) {
        return Err(Error::TooLarge {
            what,
            id,
            bytes: len,
            limit,
        });
    }
    let out_of_memory = |source| Error::OutOfMemory {
        what,
        id,
        bytes: len,
        source,
    };
    kernel.before_reserve(what, len).map_err(out_of_memory)?;
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(len).map_err(out_of_memory)?;
    Ok(buffer)
}

/// A zeroed buffer of `len` bytes, reserved fallibly.
pub(crate) fn zeroed_buffer<K: Kernel + ?Sized>(
    kernel: &K,
    what: Alloc,
    id: Option<BtfId>,
    len: usize,
) -> Result<Vec<u8>, Error> {
    let mut buffer = reserved_buffer(kernel, what, id, len)?;
    buffer.resize(len, 0);
    Ok(buffer)
}

/// Reads the name, `name_len` bytes long by the last report, with a buffer
/// that fits it and its NUL; `ENOSPC` (the name got longer) asks again.
pub(crate) fn read_name<K: Kernel + ?Sized>(
    kernel: &K,
    fd: BorrowedBtfFd<'_>,
    id: Option<BtfId>,
    mut name_len: u32,
) -> Result<String, Error> {
    for _ in 0..ATTEMPTS {
        if name_len == 0 {
            return Ok(String::new());
        }
        let len = usize::try_from(name_len)
            .ok()
            .and_then(|len| len.checked_add(1))
            .unwrap_or(usize::MAX);
        let mut buffer = zeroed_buffer(kernel, Alloc::Name, id, len)?;
        match kernel.btf_get_info(fd, &mut [], &mut buffer) {
            Ok(raw) => {
                let end = buffer.iter().position(|&b| b == 0);
                match (usize::try_from(raw.name_len), end) {
                    (Ok(reported), Some(end)) if reported == end => {
                        buffer.truncate(end);
                        return String::from_utf8(buffer).map_err(|_| Error::BadName { id });
                    }
                    _ => name_len = raw.name_len,
                }
            }
            Err(error) if error.raw_os_error() == Some(libc::ENOSPC) => {
                name_len = query(kernel, fd, id)?.name_len;
            }
            Err(source) => return Err(info_error(id, source)),
        }
    }
    Err(Error::Unstable {
        command: Command::ObjGetInfoByFd,
        id,
        what: "the name changed length on every read",
    })
}

/// Reads the bytes, `size` long by the last report, and again while the
/// object reports more than the buffer held.
pub(crate) fn read_bytes<K: Kernel + ?Sized>(
    kernel: &K,
    fd: BorrowedBtfFd<'_>,
    id: Option<BtfId>,
    mut size: u32,
) -> Result<Vec<u8>, Error> {
    for _ in 0..ATTEMPTS {
        let len = usize::try_from(size).unwrap_or(usize::MAX);
        let mut buffer = zeroed_buffer(kernel, Alloc::Bytes, id, len)?;
        let raw = kernel
            .btf_get_info(fd, &mut buffer, &mut [])
            .map_err(|source| info_error(id, source))?;
        match usize::try_from(raw.btf_size) {
            Ok(real) if real <= buffer.len() => {
                buffer.truncate(real);
                return Ok(buffer);
            }
            _ => size = raw.btf_size,
        }
    }
    Err(Error::Unstable {
        command: Command::ObjGetInfoByFd,
        id,
        what: "the size grew on every read",
    })
}
