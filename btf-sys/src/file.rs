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
/// its bytes from changing while mapped. Dereferences to `[u8]`.
///
/// **While a `MappedFile` lives, anyone opening the file for writing or
/// truncating it ends this process** — this process too: do not write a
/// file you hold mapped. The kernel holds off such an `open` and signals
/// the lease holder; the signal is set to SIGKILL, which no handler or
/// mask can stop, so the writer goes on only once this process is gone and
/// the mapped bytes are never seen changing. Hold one only as long as the
/// bytes are read (the `btf` tool holds its inputs for a few
/// milliseconds). A child forked by another thread while the file is
/// mapped shares its descriptor, and so the lease, until the child execs;
/// dropping the `MappedFile` ends the lease all the same.
///
/// Mapping is refused (the caller then reads the file) when the lease is
/// not granted — the file is open for writing somewhere, this process may
/// not lease it (another user's file without `CAP_LEASE`), or
/// `/proc/sys/fs/leases-enable` is off — and for files on any file system
/// but ext2/3/4, XFS, Btrfs, F2FS and tmpfs, where a writer elsewhere (a
/// network peer, a FUSE daemon, an overlay's lower layer) need not break a
/// local lease.
pub struct MappedFile(sys::Mmap);

impl MappedFile {
    /// Maps the regular file at `path`; with `populate`, every page is
    /// mapped up front (cheaper when all of them are about to be read, as
    /// a target BTF is; leave it off for a file read in a few places, as
    /// a BPF object's BTF sections).
    ///
    /// # Errors
    /// The open error; `ENODEV` for a file that is not regular, is empty
    /// or lies on another file system; the lease's refusal (`EAGAIN`,
    /// `EACCES`, `EINVAL`); `fstatfs`'s, `fstat`'s or `mmap`'s errno. Each
    /// means: read the file instead.
    pub fn open(path: &Path, populate: bool) -> io::Result<MappedFile> {
        let file = File::open(path)?;
        sys::map_leased(file, populate).map(MappedFile)
    }

    /// Lets go of the file now — its lease ends, so that anyone may write
    /// it, this process too — and of the mapping only when the process
    /// exits, which takes the whole address space down at less cost than
    /// unmapping this range (about 0.1 ms less for a 4 MB file): for a
    /// command about to exit. The pages stay mapped but out of reach;
    /// each call keeps the file's size of address space until the exit.
    /// Should the kernel refuse to end the lease, the file is unmapped
    /// and closed now, as when dropped.
    pub fn unmap_at_exit(self) {
        self.0.unmap_at_exit();
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
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    /// Held by each test below for its whole run, and by the one that
    /// starts a process only while it starts it: a child forked while
    /// another test has a file open for writing holds that descriptor
    /// until it execs, and a lease asked for meanwhile is refused
    /// (`EAGAIN`), which failed `maps_a_file_as_read` once in CI.
    static FORK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn no_fork() -> std::sync::MutexGuard<'static, ()> {
        FORK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("btf-sys-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn maps_a_file_as_read() {
        let _quiet = no_fork();
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
        let _quiet = no_fork();
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
        // for writing would wait for it and end this process with SIGKILL.
        std::fs::write(&path, b"").unwrap();
        // Empty, and not a regular file.
        let err = MappedFile::open(&path, false).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");
        std::fs::remove_file(&path).unwrap();
        let err = MappedFile::open(Path::new("/dev/null"), false).unwrap_err();
        assert!(err.raw_os_error().is_some(), "{err}");
    }

    /// Dropping a mapping ends its lease even while another process holds
    /// the open file (as a child forked by another thread does until it
    /// execs), played here by a second descriptor of it. Were the lease
    /// still held, the write below would end this process with SIGKILL.
    #[test]
    fn dropped_the_file_is_free_though_its_open_file_is_shared() {
        let _quiet = no_fork();
        let path = temp("shared", b"abc");
        let map = MappedFile::open(&path, false).unwrap();
        // A second descriptor of the leased open file (`dup`).
        let shared = map.0.lease_file().unwrap().try_clone().unwrap();
        assert_eq!(&*map, b"abc");
        drop(map);
        std::fs::write(&path, b"changed").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"changed");
        drop(shared);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn unmapped_at_exit_the_file_is_free() {
        let _quiet = no_fork();
        let path = temp("at-exit", b"abc");
        let map = MappedFile::open(&path, true).unwrap();
        assert_eq!(&*map, b"abc");
        map.unmap_at_exit();
        // The lease ended: were it still held, this open for writing would
        // end this process with SIGKILL.
        std::fs::write(&path, b"changed").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"changed");
        std::fs::remove_file(&path).unwrap();
    }

    /// What makes the mapping sound: a process opening the file for
    /// writing waits until the holder is gone, and the holder is ended by
    /// SIGKILL, which it cannot catch. The holder is this test binary run
    /// again with the file's path in `BTF_SYS_HOLD_MAPPED`.
    #[test]
    fn a_writer_ends_the_holder() {
        if let Ok(path) = std::env::var("BTF_SYS_HOLD_MAPPED") {
            let map = MappedFile::open(Path::new(&path), false).expect("map");
            std::fs::write(format!("{path}.mapped"), map.len().to_string()).unwrap();
            std::thread::sleep(std::time::Duration::from_secs(60));
            panic!("still alive, holding the file mapped, after 60 s");
        }
        let path = temp("holder", b"abc");
        let mapped = path.with_extension("mapped");
        let quiet = no_fork();
        let mut holder = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "file::tests::a_writer_ends_the_holder"])
            .args(["--nocapture", "--test-threads=1"])
            .env("BTF_SYS_HOLD_MAPPED", &path)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        drop(quiet);
        // The holder says it holds the mapping by writing its length.
        let start = std::time::Instant::now();
        while !mapped.exists() {
            assert!(holder.try_wait().unwrap().is_none(), "the holder ended");
            assert!(start.elapsed().as_secs() < 30, "the holder did not map");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(std::fs::read(&mapped).unwrap(), b"3");
        // Waits for the lease to break, that is, for the holder's end.
        std::fs::write(&path, b"changed").unwrap();
        let status = holder.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
        assert_eq!(std::fs::read(&path).unwrap(), b"changed");
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_file(&mapped).unwrap();
    }
}
