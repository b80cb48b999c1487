//! Loading BTF into the kernel (`BPF_BTF_LOAD`).

use crate::error::{Alloc, Error};
use crate::info::zeroed_buffer;
use crate::kernel::Kernel;
use crate::sys::{BtfFd, LOG_SIZE_MAX, LoadRejected};

/// The first verifier log buffer, after a load without log failed.
const LOG_SIZE_FIRST: u32 = 64 * 1024;
/// The largest verifier log buffer this crate asks for.
const LOG_SIZE_LIMIT: u32 = 16 * 1024 * 1024;
/// Verifier log level 1: the messages about the failure.
const LOG_LEVEL: u32 = 1;

/// Loads `btf` into the kernel and returns the owned fd of the new object.
///
/// The first attempt runs without a verifier log. If the kernel refuses the
/// bytes, they are loaded again with a log (64 KiB, grown up to 16 MiB while
/// the kernel says it was too small, `ENOSPC`) so the error carries it. A
/// log that does not fit in 16 MiB is returned cut, with a first line that
/// says so, and the error is the one the load without a log got.
///
/// ```no_run
/// # let bytes: Vec<u8> = Vec::new();
/// match btf_sys::load_btf(&btf_sys::Linux, &bytes) {
///     Ok(fd) => println!("loaded as btf id {}", btf_sys::btf_info(&btf_sys::Linux, &fd)?.id),
///     Err(error) => eprintln!("{error}\n{}", error.verifier_log().unwrap_or("")),
/// }
/// # Ok::<(), btf_sys::Error>(())
/// ```
///
/// # Errors
/// [`Error::Load`] with the errno and the verifier log when the kernel
/// refuses the BTF (`EPERM` without `CAP_BPF`); [`Error::OutOfMemory`] when
/// the log buffer cannot be reserved.
pub fn load_btf<K: Kernel + ?Sized>(kernel: &K, btf: &[u8]) -> Result<BtfFd, Error> {
    let first = match kernel.btf_load(btf, &mut [], 0) {
        Ok(fd) => return Ok(fd),
        Err(rejected) => rejected,
    };
    if is_privilege_error(&first) {
        // No log will explain a missing capability.
        return Err(Error::Load {
            source: first.error,
            log: String::new(),
        });
    }
    let mut size = LOG_SIZE_FIRST;
    loop {
        let len = usize::try_from(size).unwrap_or(usize::MAX);
        let mut log = zeroed_buffer(kernel, Alloc::Log, None, len)?;
        let rejected = match kernel.btf_load(btf, &mut log, LOG_LEVEL) {
            Ok(fd) => return Ok(fd),
            Err(rejected) => rejected,
        };
        let too_small = rejected.error.raw_os_error() == Some(libc::ENOSPC);
        let ceiling = LOG_SIZE_LIMIT.min(LOG_SIZE_MAX);
        if too_small && size < ceiling {
            size = rejected
                .log_true_size
                .max(size.saturating_mul(2))
                .min(ceiling);
            continue;
        }
        if too_small {
            // The log does not fit even at the limit: the ENOSPC is about
            // the log, so report why the BTF itself was refused, and say
            // first that the log is cut. (Since Linux 6.4 the kernel keeps
            // the end of a log that does not fit, so its last line is
            // still the verdict; before, it keeps the start.)
            let log = format!(
                "(verifier log cut at {} MiB; the kernel had more)\n{}",
                ceiling >> 20,
                log_text(&log)
            );
            return Err(Error::Load {
                source: first.error,
                log,
            });
        }
        return Err(Error::Load {
            source: rejected.error,
            log: log_text(&log),
        });
    }
}

fn is_privilege_error(rejected: &LoadRejected) -> bool {
    matches!(
        rejected.error.raw_os_error(),
        Some(libc::EPERM | libc::EACCES)
    )
}

/// The log's text up to its NUL.
fn log_text(log: &[u8]) -> String {
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    String::from_utf8_lossy(log.get(..end).unwrap_or_default()).into_owned()
}
