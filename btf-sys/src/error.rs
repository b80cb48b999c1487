//! The error type: which command or step failed, for which object, and why.

use core::fmt;
use std::collections::TryReserveError;
use std::io;
use std::path::PathBuf;

use crate::id::BtfId;

/// A bpf(2) command that this crate issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// `BPF_BTF_GET_NEXT_ID`: list BTF object ids.
    BtfGetNextId,
    /// `BPF_BTF_GET_FD_BY_ID`: open a BTF object by id.
    BtfGetFdById,
    /// `BPF_OBJ_GET_INFO_BY_FD`: a BTF object's info, name and bytes.
    ObjGetInfoByFd,
    /// `BPF_BTF_LOAD`: load BTF into the kernel.
    BtfLoad,
}

impl Command {
    /// The kernel's name for the command, e.g. `"BPF_BTF_GET_FD_BY_ID"`.
    pub const fn name(self) -> &'static str {
        match self {
            Command::BtfGetNextId => "BPF_BTF_GET_NEXT_ID",
            Command::BtfGetFdById => "BPF_BTF_GET_FD_BY_ID",
            Command::ObjGetInfoByFd => "BPF_OBJ_GET_INFO_BY_FD",
            Command::BtfLoad => "BPF_BTF_LOAD",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a buffer sized from a kernel-reported number was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Alloc {
    /// A BTF object's name.
    Name,
    /// A BTF object's bytes (from bpf(2) or a sysfs file).
    Bytes,
    /// One more slot in the list of modules.
    Modules,
    /// The verifier log of `BPF_BTF_LOAD`.
    Log,
}

impl fmt::Display for Alloc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Alloc::Name => "name",
            Alloc::Bytes => "btf bytes",
            Alloc::Modules => "module list",
            Alloc::Log => "verifier log",
        })
    }
}

/// An error of this crate.
///
/// `Display` gives one lowercase line that already includes the underlying
/// cause (errno text, parse error), so [`std::error::Error::source`] returns
/// `None`; the cause itself is available from [`Error::io_error`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A bpf(2) command failed, e.g.
    /// `BPF_BTF_GET_FD_BY_ID for btf id 7: No such file or directory (os error 2)`.
    Syscall {
        /// The command.
        command: Command,
        /// The object it was about, when known (for `BPF_BTF_GET_NEXT_ID`,
        /// the id listing continued after).
        id: Option<BtfId>,
        /// The errno.
        source: io::Error,
    },
    /// Listing BTF objects was refused with `EPERM`: it needs
    /// `CAP_SYS_ADMIN`. Kernel BTF is still readable from sysfs.
    PermissionDenied {
        /// The errno (`EPERM`).
        source: io::Error,
    },
    /// A buffer sized from a kernel-reported number could not be reserved.
    OutOfMemory {
        /// What the buffer was for.
        what: Alloc,
        /// The object, when known.
        id: Option<BtfId>,
        /// The number of bytes asked for.
        bytes: usize,
        /// The allocator's answer.
        source: TryReserveError,
    },
    /// A kernel-reported size is above this crate's limit for that buffer
    /// ([`MAX_BTF_BYTES`](crate::MAX_BTF_BYTES) for BTF bytes,
    /// [`MAX_NAME_BYTES`](crate::MAX_NAME_BYTES) for a name): nothing was
    /// allocated. The kernel holds no BTF that large, so the number is not
    /// to be trusted.
    TooLarge {
        /// What the buffer was for.
        what: Alloc,
        /// The object, when known.
        id: Option<BtfId>,
        /// The number of bytes reported.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The object reported a different size on every read, or the kernel
    /// answered something impossible (`what` says which).
    Unstable {
        /// The command.
        command: Command,
        /// The object, when known.
        id: Option<BtfId>,
        /// What was wrong.
        what: &'static str,
    },
    /// A BTF object's name is not UTF-8.
    BadName {
        /// The object, when known.
        id: Option<BtfId>,
    },
    /// Reading a sysfs file (or listing `/sys/kernel/btf`) failed.
    Sysfs {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// btf-core rejected the bytes.
    Parse {
        /// `"vmlinux"` or the module's name (empty for user BTF).
        name: String,
        /// The object, when known.
        id: Option<BtfId>,
        /// btf-core's error.
        source: btf_core::Error,
    },
    /// The kernel refused `BPF_BTF_LOAD`; the verifier's log says why.
    Load {
        /// The errno.
        source: io::Error,
        /// The verifier log (may be empty, or cut short at the size limit).
        log: String,
    },
    /// [`load_btf_checked`](crate::load_btf_checked): the kernel-exact
    /// check refused the bytes before any syscall.
    KernelCheck {
        /// Why, as the kernel would say it.
        reject: Box<btf_core::kernel_check::KernelReject>,
    },
}

impl Error {
    /// The underlying `std::io::Error`, for the variants that have one.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            Error::Syscall { source, .. }
            | Error::PermissionDenied { source }
            | Error::Sysfs { source, .. }
            | Error::Load { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The errno of the underlying `std::io::Error`, if any.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.io_error().and_then(io::Error::raw_os_error)
    }

    /// The verifier log of a refused `BPF_BTF_LOAD`.
    pub fn verifier_log(&self) -> Option<&str> {
        match self {
            Error::Load { log, .. } => Some(log),
            _ => None,
        }
    }
}

/// ` for btf id 7`, or nothing.
struct ForId(Option<BtfId>);

impl fmt::Display for ForId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, " for btf id {id}"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syscall {
                command: Command::BtfGetNextId,
                id: Some(id),
                source,
            } => write!(f, "{} after btf id {id}: {source}", Command::BtfGetNextId),
            Error::Syscall {
                command,
                id,
                source,
            } => write!(f, "{command}{}: {source}", ForId(*id)),
            Error::PermissionDenied { source } => write!(
                f,
                "{}: listing btf objects needs CAP_SYS_ADMIN: {source}",
                Command::BtfGetNextId
            ),
            Error::OutOfMemory {
                what, id, bytes, ..
            } => write!(
                f,
                "cannot allocate {bytes} bytes for the {what}{}",
                ForId(*id)
            ),
            Error::TooLarge {
                what,
                id,
                bytes,
                limit,
            } => write!(
                f,
                "the {what}{} would take {bytes} bytes, more than the limit of {limit}",
                ForId(*id)
            ),
            Error::Unstable { command, id, what } => write!(f, "{command}{}: {what}", ForId(*id)),
            Error::BadName { id } => write!(f, "btf object name is not utf-8{}", ForId(*id)),
            Error::Sysfs { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Parse { name, id, source } => {
                write!(f, "cannot parse btf '{name}'{}: {source}", ForId(*id))
            }
            Error::Load { source, log } => {
                write!(f, "{}: {source}", Command::BtfLoad)?;
                match log.lines().rev().find(|line| !line.trim().is_empty()) {
                    Some(last) => write!(f, "; verifier log ends: {}", last.trim()),
                    None => Ok(()),
                }
            }
            Error::KernelCheck { reject } => {
                write!(f, "the kernel would refuse this btf: {reject}")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    /// Keeps the `ErrorKind` of the underlying error (`OutOfMemory` for
    /// allocation failures, `InvalidData` for parse errors).
    fn from(error: Error) -> io::Error {
        let kind = match &error {
            Error::OutOfMemory { .. } => io::ErrorKind::OutOfMemory,
            Error::Parse { .. }
            | Error::BadName { .. }
            | Error::Unstable { .. }
            | Error::TooLarge { .. }
            | Error::KernelCheck { .. } => io::ErrorKind::InvalidData,
            other => other
                .io_error()
                .map_or(io::ErrorKind::Other, io::Error::kind),
        };
        io::Error::new(kind, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_command_and_id() {
        let error = Error::Syscall {
            command: Command::BtfGetFdById,
            id: BtfId::new(7),
            source: io::Error::from_raw_os_error(libc::ENOENT),
        };
        assert!(
            error
                .to_string()
                .starts_with("BPF_BTF_GET_FD_BY_ID for btf id 7: No such file or directory"),
            "{error}"
        );
        assert_eq!(error.raw_os_error(), Some(libc::ENOENT));
        assert_eq!(io::Error::from(error).kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn load_error_shows_last_log_line() {
        let error = Error::Load {
            source: io::Error::from_raw_os_error(libc::EINVAL),
            log: "magic: 0xeb9f\n[1] INT foo size=4\n[1] INT foo Invalid encoding\n\n".into(),
        };
        assert!(
            error
                .to_string()
                .ends_with("; verifier log ends: [1] INT foo Invalid encoding"),
            "{error}"
        );
    }
}
