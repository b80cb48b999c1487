//! The running kernel's [`KernelProfile`], and loading only what the
//! kernel-exact check accepts.

use crate::error::Error;
use crate::kernel::Kernel;
use crate::load::load_btf;
use crate::sys::BtfFd;
use btf_core::kernel_check::{KernelProfile, check_bytes};
use std::io;

/// Where the running kernel's release is read.
const OSRELEASE: &str = "/proc/sys/kernel/osrelease";

/// The [`KernelProfile`] of the running kernel, from its release
/// (`/proc/sys/kernel/osrelease`, as `uname -r` prints it).
///
/// ```no_run
/// let profile = btf_sys::running_kernel_profile()?;
/// println!("checking as Linux {}.{}", profile.release().0, profile.release().1);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// The file cannot be read, or its text does not start with `N.N`
/// (`InvalidData`).
pub fn running_kernel_profile() -> io::Result<KernelProfile> {
    let release = std::fs::read_to_string(OSRELEASE)?;
    KernelProfile::from_release(&release).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{OSRELEASE}: not a kernel release: {:?}", release.trim()),
        )
    })
}

/// [`load_btf`], after [`check_bytes`] with `profile` accepted the bytes:
/// a blob the kernel would refuse is refused here with the rule, type and
/// offset concerned, without a syscall (and without privileges).
///
/// ```no_run
/// use btf_core::write::{Builder, EncodeOptions};
/// let mut b = Builder::new();
/// b.add_int("int", 4, 1);
/// let bytes = b.encode(&EncodeOptions::default()).expect("encode");
/// let profile = btf_sys::running_kernel_profile()?;
/// let fd = btf_sys::load_btf_checked(&btf_sys::Linux, &bytes, &profile)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`Error::KernelCheck`] when the check refuses the bytes; otherwise as
/// [`load_btf`].
pub fn load_btf_checked<K: Kernel + ?Sized>(
    kernel: &K,
    btf: &[u8],
    profile: &KernelProfile,
) -> Result<BtfFd, Error> {
    check_bytes(btf, None, profile).map_err(|reject| Error::KernelCheck {
        reject: Box::new(reject),
    })?;
    load_btf(kernel, btf)
}
