//! Listing BTF object ids and opening the objects they name.

use std::io;

use crate::error::{Command, Error};
use crate::id::BtfId;
use crate::kernel::Kernel;
use crate::sys::BtfFd;

/// Iterator over the ids of all BTF objects, in increasing order
/// (`BPF_BTF_GET_NEXT_ID`). Made by [`btf_ids`].
///
/// Yields `Err(Error::PermissionDenied)` when listing needs privileges the
/// process lacks, or another error when the kernel fails, and then ends.
#[derive(Debug)]
pub struct BtfIds<'k, K: Kernel + ?Sized> {
    kernel: &'k K,
    after: Option<BtfId>,
    done: bool,
}

/// Lists the ids of all BTF objects (vmlinux, modules and user BTF).
///
/// ```no_run
/// for id in btf_sys::btf_ids(&btf_sys::Linux) {
///     println!("{}", id?);
/// }
/// # Ok::<(), btf_sys::Error>(())
/// ```
pub fn btf_ids<K: Kernel + ?Sized>(kernel: &K) -> BtfIds<'_, K> {
    BtfIds {
        kernel,
        after: None,
        done: false,
    }
}

impl<K: Kernel + ?Sized> BtfIds<'_, K> {
    fn fail(&mut self, error: Error) -> Option<Result<BtfId, Error>> {
        self.done = true;
        Some(Err(error))
    }
}

impl<K: Kernel + ?Sized> Iterator for BtfIds<'_, K> {
    type Item = Result<BtfId, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let start = self.after.map_or(0, BtfId::get);
        match self.kernel.btf_get_next_id(start) {
            Ok(next) => match BtfId::new(next) {
                Some(id) if next > start => {
                    self.after = Some(id);
                    Some(Ok(id))
                }
                _ => self.fail(Error::Unstable {
                    command: Command::BtfGetNextId,
                    id: self.after,
                    what: "the next id is not above the previous one",
                }),
            },
            Err(error) if error.raw_os_error() == Some(libc::ENOENT) => {
                self.done = true;
                None
            }
            Err(source) if source.raw_os_error() == Some(libc::EPERM) && self.after.is_none() => {
                self.fail(Error::PermissionDenied { source })
            }
            Err(source) => self.fail(Error::Syscall {
                command: Command::BtfGetNextId,
                id: self.after,
                source,
            }),
        }
    }
}

impl<K: Kernel + ?Sized> core::iter::FusedIterator for BtfIds<'_, K> {}

/// Opens the BTF object `id` (`BPF_BTF_GET_FD_BY_ID`).
///
/// # Errors
/// [`Error::Syscall`] with the errno: `ENOENT` when no such object exists
/// (any more), `EPERM` without `CAP_SYS_ADMIN`.
pub fn open_btf<K: Kernel + ?Sized>(kernel: &K, id: BtfId) -> Result<BtfFd, Error> {
    kernel
        .btf_get_fd_by_id(id)
        .map_err(|source| Error::Syscall {
            command: Command::BtfGetFdById,
            id: Some(id),
            source,
        })
}

/// Iterator that lists and opens every BTF object, skipping ids that vanish
/// between listing and opening. Made by [`open_btfs`].
#[derive(Debug)]
pub struct OpenBtfs<'k, K: Kernel + ?Sized> {
    ids: BtfIds<'k, K>,
}

/// Lists and opens every BTF object, yielding each id with its owned fd.
///
/// An id whose object vanished before it could be opened (`ENOENT`, a
/// module unloaded meanwhile) is skipped; other errors are yielded and
/// iteration goes on with the next id (a listing error ends it).
pub fn open_btfs<K: Kernel + ?Sized>(kernel: &K) -> OpenBtfs<'_, K> {
    OpenBtfs {
        ids: btf_ids(kernel),
    }
}

impl<K: Kernel + ?Sized> Iterator for OpenBtfs<'_, K> {
    type Item = Result<(BtfId, BtfFd), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let id = match self.ids.next()? {
                Ok(id) => id,
                Err(error) => return Some(Err(error)),
            };
            match self.ids.kernel.btf_get_fd_by_id(id) {
                Ok(fd) => return Some(Ok((id, fd))),
                Err(error) if is_vanished(&error) => continue,
                Err(source) => {
                    return Some(Err(Error::Syscall {
                        command: Command::BtfGetFdById,
                        id: Some(id),
                        source,
                    }));
                }
            }
        }
    }
}

impl<K: Kernel + ?Sized> core::iter::FusedIterator for OpenBtfs<'_, K> {}

fn is_vanished(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::ENOENT)
}
