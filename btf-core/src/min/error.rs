//! What can go wrong while minimising.

use crate::error::Error;
use crate::id::TypeId;
use crate::reloc::{RelocError, RelocFailure};
use crate::write::WriteError;
use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

/// Why [`Minimizer::run`](super::Minimizer::run) failed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum MinError {
    /// A relocation of object `object` (its index in the slice given)
    /// fails against the full target BTF: libbpf would refuse to load
    /// the object, and there is nothing to minimise for.
    Reloc {
        /// The object's index.
        object: usize,
        /// Where and why.
        failure: Box<RelocFailure>,
    },
    /// A target type needed could not be read.
    Btf {
        /// The type (in the target BTF's id space).
        id: TypeId,
        /// Why.
        error: Error,
    },
    /// A matched candidate's access path does not lead through the
    /// target BTF (a member or element index out of range): the target
    /// BTF is inconsistent.
    BadPath {
        /// The type the path stopped at.
        id: TypeId,
        /// The index that does not exist there.
        index: u32,
    },
    /// The output could not be encoded.
    Write(WriteError),
    /// One standalone BTF cannot resolve as vmlinux-then-module does: a
    /// module type that the output must keep has the name of vmlinux
    /// types that relocations resolve against, so it would become a
    /// candidate beside them. The split form (a minimal base and a
    /// minimal split) has no such limit.
    ModuleShadowsVmlinux {
        /// The module's index among the modules given (0 for the first).
        module: usize,
        /// The module type.
        id: TypeId,
        /// Its name.
        name: String,
    },
    /// Relocating object `object` against the minimised BTF does not give
    /// what it gives against the full BTF (a bug in this module: the
    /// output is checked before it is returned).
    Inexact {
        /// The object's index.
        object: usize,
        /// The relocation's index in the object's `.BTF.ext` order.
        relocation: usize,
        /// The program section's name.
        section: String,
        /// The instruction's index in the section.
        insn: usize,
        /// What differs.
        what: String,
    },
    /// Relocating against the minimised BTF failed where the full BTF
    /// did not (see [`MinError::Inexact`]).
    MinimalFails {
        /// The object's index.
        object: usize,
        /// The relocation's index in the object's `.BTF.ext` order.
        relocation: usize,
        /// Why.
        error: RelocError,
    },
}

impl fmt::Display for MinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinError::Reloc { object, failure } => {
                write!(f, "object #{object}: {failure}")
            }
            MinError::Btf { id, error } => write!(f, "target type [{id}]: {error}"),
            MinError::BadPath { id, index } => write!(
                f,
                "target type [{id}] has no member or element {index} that a matched access path goes through"
            ),
            MinError::Write(e) => write!(f, "writing the minimal BTF: {e}"),
            MinError::ModuleShadowsVmlinux { module, id, name } => write!(
                f,
                "module #{module} type [{id}] '{name}' must be kept, and vmlinux types of that name are relocation candidates: in one standalone BTF it would become a candidate too (write a base and a split instead)"
            ),
            MinError::Inexact {
                object,
                relocation,
                section,
                insn,
                what,
            } => write!(
                f,
                "object #{object} relocation #{relocation} (section '{section}' insn #{insn}) resolves differently against the minimal BTF: {what}"
            ),
            MinError::MinimalFails {
                object,
                relocation,
                error,
            } => write!(
                f,
                "object #{object} relocation #{relocation} fails against the minimal BTF: {error}"
            ),
        }
    }
}

impl core::error::Error for MinError {}

impl From<WriteError> for MinError {
    fn from(e: WriteError) -> MinError {
        MinError::Write(e)
    }
}
