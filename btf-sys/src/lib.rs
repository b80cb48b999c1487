//! Kernel and module BTF from the running Linux kernel, with file
//! descriptors owned by types.
//!
//! - [`KernelBtf`] is libbpf's `load_module_btfs`: vmlinux from
//!   `/sys/kernel/btf/vmlinux` (mapped read-only where the kernel allows it)
//!   and every module's BTF by id, each parsed by `btf-core` as split BTF on
//!   vmlinux; without privileges the modules come from sysfs.
//! - [`btf_ids`], [`open_btfs`], [`open_btf`], [`btf_info`], [`read_btf`]
//!   list, open and read BTF objects; [`load_btf`] loads BTF and returns the
//!   verifier log when the kernel refuses it; [`load_btf_checked`] first
//!   checks the bytes as the kernel of [`running_kernel_profile`] would
//!   (`btf_core::kernel_check`), without privileges.
//!
//! # Ownership
//!
//! Descriptors come out as [`BtfFd`] (an [`OwnedFd`](std::os::fd::OwnedFd)
//! inside, lent out through [`AsFd`](std::os::fd::AsFd)) and go in as
//! borrows, [`BorrowedBtfFd`]: from a `&BtfFd`, or from the
//! [`BorrowedFd`](std::os::fd::BorrowedFd) of a descriptor that libbpf,
//! aya or a socket owns, which stays theirs. No public signature has a raw
//! fd. A descriptor that this crate did not get from a BTF command is
//! checked to be a BTF object before the kernel writes through it
//! ([`BtfFd::from_owned_fd`] takes ownership of one). A value that owns a
//! descriptor is built only once all its other parts exist, so every error
//! path closes each descriptor exactly once, by dropping it. Fd 0 is never kept (the BPF UAPI reads it as
//! "no fd"): it is moved above 2.
//!
//! # Testing against a fake kernel
//!
//! Every kernel call goes through the [`Kernel`] trait; [`Linux`] is the
//! real one. The trait is sealed; the `test-kernel` feature (outside the
//! semver promises) lets a test double implement it, to inject failures:
//! the crate's fault-injection tests fail every call and every allocation
//! in turn.
//!
//! All `unsafe` code is in the private `sys` module.
//!
//! # Features
//!
//! - `cli`: the `btf` command-line tool (clap); `cargo btf` from the
//!   repository root runs it. Library users do not build clap.
//! - `test-kernel`: unseals [`Kernel`] for test doubles (`TestKernel`).
//!
//! ```no_run
//! let set = btf_sys::KernelBtf::load()?;
//! println!("vmlinux: {} types", set.vmlinux().type_count());
//! for module in set.modules() {
//!     println!("{}: {} types", module.name(), module.btf().type_count());
//! }
//! # Ok::<(), btf_sys::Error>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

mod check;
mod error;
mod file;
mod id;
mod ids;
mod info;
mod kernel;
mod limits;
mod load;
mod set;
#[allow(unsafe_code)]
mod sys;

pub use check::{load_btf_checked, running_kernel_profile};
pub use error::{Alloc, Command, Error};
pub use file::MappedFile;
pub use id::BtfId;
pub use ids::{BtfIds, OpenBtfs, btf_ids, open_btf, open_btfs};
pub use info::{BtfInfo, BtfObject, btf_info, read_btf};
/// Implemented by a test double, beside [`Kernel`], to be accepted where
/// the crate takes a kernel (feature `test-kernel`, outside the crate's
/// semver promises: methods may be added to [`Kernel`] in any release).
#[cfg(feature = "test-kernel")]
pub use kernel::sealed::Sealed as TestKernel;
pub use kernel::{Kernel, KernelBytes, Linux};
pub use limits::{MAX_BTF_BYTES, MAX_NAME_BYTES};
pub use load::load_btf;
pub use set::{
    AttachTarget, Discovery, FoundType, KernelBtf, LoadOptions, ModuleBtf, ModuleFailure, Owner,
};
pub use sys::{BorrowedBtfFd, BtfFd, LoadRejected, RawBtfInfo};

// The values a loader shares between threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<KernelBtf>();
    send_sync::<BtfFd>();
    send_sync::<BorrowedBtfFd<'static>>();
    send_sync::<KernelBytes>();
    send_sync::<MappedFile>();
    send_sync::<Error>();
};
