//! CO-RE relocation: compute what each `.BTF.ext` CO-RE record of a BPF
//! object means on a target kernel, and patch the instructions, with
//! libbpf's semantics (`relo_core.c`, and `libbpf.c`'s candidate search).
//!
//! Nothing is copied from the object or the target BTF: specs and
//! candidates refer to them in place; only the patched program sections
//! are copies (the object is borrowed immutably).
//!
//! - [`Targets`]: vmlinux and optional modules, each a [`Target`] with an
//!   index from essential names (`task_struct___v2` → `task_struct`) to
//!   type ids, built once on first use and kept; relocating many objects
//!   against one `Targets` looks each name up in O(1).
//!   [`ModuleSearch`] says when modules are searched (libbpf: only when
//!   vmlinux has no candidate).
//! - [`Session`]: the relocations of one object (one local BTF), with
//!   libbpf's per-object candidate cache; [`Session::resolve`] gives a
//!   [`Resolution`] for one [`CoreRelo`](crate::ext::CoreRelo).
//! - [`patch_insn`]: writes a [`Resolution`] into a copy of a program
//!   section, in either byte order (immediates, load/store offsets and
//!   sizes, `ld_imm64`; poisoning as `call 0xbad2310`).
//! - With the `elf` feature, `relocate_object` does all of it for a
//!   `BpfObject` and names, on failure, the section, instruction, kind,
//!   the path in C and every candidate with why it was rejected.
//!
//! Every kind is implemented: field byte offset, byte size, existence,
//! signedness, bitfield shifts; local and target type ids, type existence,
//! size and match; enumerator existence and value (ENUM and ENUM64).
//!
//! # Where this differs from libbpf
//!
//! Only where libbpf would misbehave or cannot be compared:
//!
//! - The bitfield left shift (`FIELD_LSHIFT_U64`) follows the program's
//!   byte order; libbpf uses the host's (and refuses to patch a
//!   foreign-order object anyway).
//! - Loops libbpf runs unbounded over the BTF (arrays of arrays when
//!   checking field compatibility and element sizes) stop after 64 steps
//!   with [`RelocError::TooDeep`], so a cyclic BTF cannot hang; a bitfield
//!   whose type has size 0 is an error where libbpf divides by zero; an
//!   `ld_imm64` in the last slot is an error where libbpf reads past the
//!   end.
//! - Member and enumerator counts use this crate's 24-bit `vlen`; libbpf
//!   1.7 reads 16 bits (no real BTF has more).
//!
//! ```no_run
//! # #[cfg(feature = "elf")] {
//! use btf_core::Btf;
//! use btf_core::ext::BpfObject;
//! use btf_core::reloc::{Targets, relocate_object};
//!
//! let vmlinux_bytes = std::fs::read("/sys/kernel/btf/vmlinux")?;
//! let vmlinux = Btf::parse(&vmlinux_bytes)?;
//! let targets = Targets::new(&vmlinux);
//! let file = std::fs::read("prog.bpf.o")?;
//! let obj = BpfObject::parse(&file)?;
//! let relocated = relocate_object(&targets, &obj)?;
//! for o in &relocated.outcomes {
//!     println!("insn #{}: {} {:?}", o.insn, o.relo.kind, o.patched);
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod calc;
mod describe;
mod error;
mod name;
#[cfg(feature = "elf")]
mod object;
mod patch;
mod spec;
mod target;

pub use calc::{Resolution, Session};
pub use describe::{relo_in_c, type_in_c};
pub use error::{Ambiguity, Mismatch, PatchError, RelocError};
pub use name::essential_name;
#[cfg(feature = "elf")]
pub use object::{Outcome, RelocFailure, Relocated, RelocatedSection, relocate_object};
pub use patch::{POISON_IMM, Patched, patch_insn};
/// `TYPE_MATCHES`' comparison, for `min` to keep what it reads.
#[cfg(all(feature = "alloc", feature = "elf"))]
pub(crate) use spec::types_match;
pub use target::{Candidate, ModuleSearch, Target, Targets};

/// The local spec of a relocation, for `check`'s explanations.
pub(crate) use spec::{Spec, parse_spec};
