//! A file's bytes, mapped rather than read: for inputs that are read once
//! and in place (a target BTF, a BPF object), so that a run does not pay
//! for filling fresh memory page by page.

use std::fmt;
use std::fs::File;
use std::io;
use std::ops::Deref;
use std::path::Path;

use crate::sys;

/// A regular file mapped read-only, whole, under a read lease that keeps
/// its bytes from changing while mapped: while a `MappedFile` lives, the
/// kernel holds off anyone opening the file for writing or truncating it
/// (this process too: do not write a file you hold mapped), and sends this
/// process SIGIO, whose default action ends it. Dereferences to `[u8]`.
///
/// Mapping is refused (the caller then reads the file) when the lease is
/// not granted — the file is open for writing somewhere, this process may
/// not lease it (another user's file without `CAP_LEASE`), or the file
/// system or `/proc/sys/fs/leases-enable` does not allow leases — and when
/// SIGIO is handled, ignored or blocked in this process, so that the lease
/// could not end it. A program that changes SIGIO's disposition (or blocks
/// it in every thread) while it holds a `MappedFile` gives that up: the
/// kernel then breaks the lease after `/proc/sys/fs/lease-break-time`.
pub struct MappedFile(sys::Mmap);

impl MappedFile {
    /// Maps the regular file at `path`; with `populate`, every page is
    /// mapped up front (cheaper when all of them are about to be read, as
    /// a target BTF is; leave it off for a file read in a few places, as
    /// a BPF object's BTF sections).
    ///
    /// # Errors
    /// The open error; `ENODEV` for a file that is not regular or is
    /// empty; `EBUSY` when SIGIO does not end the process; the lease's
    /// refusal (`EAGAIN`, `EACCES`, `EINVAL`); `fstat`'s or `mmap`'s
    /// errno. Each means: read the file instead.
    pub fn open(path: &Path, populate: bool) -> io::Result<MappedFile> {
        let file = File::open(path)?;
        sys::map_leased(file, populate).map(MappedFile)
    }
}

impl Deref for MappedFile {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl AsRef<[u8]> for MappedFile {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MappedFile")
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("btf-sys-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn maps_a_file_as_read() {
        let bytes: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let path = temp("map", &bytes);
        for populate in [false, true] {
            let map = MappedFile::open(&path, populate).unwrap();
            assert_eq!(&*map, &bytes[..]);
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn refuses_what_it_cannot_hold_still() {
        // Open for writing elsewhere: no lease, so no mapping.
        let path = temp("writer", b"abc");
        let mut writer = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        let err = MappedFile::open(&path, false).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EAGAIN), "{err}");
        writer.write_all(b"d").unwrap();
        drop(writer);
        assert_eq!(&*MappedFile::open(&path, false).unwrap(), b"abcd");
        // The lease ended with the mapping: were it still held, this open
        // for writing would wait for it and end this process with SIGIO.
        std::fs::write(&path, b"").unwrap();
        // Empty, and not a regular file.
        let err = MappedFile::open(&path, false).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");
        std::fs::remove_file(&path).unwrap();
        let err = MappedFile::open(Path::new("/dev/null"), false).unwrap_err();
        assert!(err.raw_os_error().is_some(), "{err}");
    }
}
