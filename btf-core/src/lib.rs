//! A zero-copy reader for the Linux BPF Type Format (BTF).
//!
//! `btf-core` reads BTF blobs in place — a file buffer, an mmap of
//! `/sys/kernel/btf/vmlinux`, a section of a firmware image — in either byte
//! order, on any target, with or without an allocator. Kernel module BTF
//! (split BTF) is layered on a shared base by reference.
//!
//! ```no_run
//! use btf_core::{Btf, Kind, TypeKind};
//!
//! let bytes = std::fs::read("/sys/kernel/btf/vmlinux")?;
//! let vmlinux = Btf::parse(&bytes)?;
//! let task = vmlinux.find_by_name_kind("task_struct", Kind::STRUCT).expect("no task_struct");
//! if let TypeKind::Struct(s) = task.as_kind() {
//!     for m in s.members().take(3) {
//!         println!("{} at bit {}", m.name()?, m.bit_offset());
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout of the crate
//!
//! | module | concern |
//! |---|---|
//! | [`wire`] | the kernel's on-disk structs, alignment 1 |
//! | `endian` | byte order: [`Endian`], [`U16`], [`U32`] |
//! | `header` | [`Header`] and section bounds |
//! | `walk` | the validating walks over the type section (records; elements; many sections at once for [`Btf::parse_splits`]) |
//! | `btf` | [`Btf`]: one blob, split layering, ids, strings, iteration |
//! | `types` | [`Type`] and [`TypeKind`] views, element iterators |
//! | `names` | lookups by name: hash index, binary search, scan |
//! | `resolve` | sizes, alignments, skipping modifiers and typedefs |
//! | `index` | [`BtfIndex`]: the parts of a parse worth keeping (id and name indexes, what lookups learnt), re-attachable in O(1) |
//! | [`diff`](mod@diff) | what changed between two blobs' named types, matched by kind and name (feature `alloc`) |
//! | `buf` | [`BtfBuf`]: a parsed blob that owns or shares its bytes and base, lending [`Btf`] views (feature `alloc`) |
//! | [`write`](mod@write) | building and encoding BTF (feature `alloc`) |
//! | [`reloc`] | CO-RE relocation with libbpf's semantics: candidates by essential name, spec matching, every relocation kind, instruction patching and poisoning (feature `alloc`) |
//! | [`check`](mod@check) | one BPF object's CO-RE relocations against many kernels: a matrix of what each resolves to, guards found by constant propagation, failures in C terms (feature `alloc`) |
//! | [`ext`] | `.BTF.ext`: func_info, line_info and CO-RE relocation records, checked against `.BTF`; with `elf`, `ext::BpfObject`: a BPF object's program sections and instructions, each record mapped to its instruction |
//! | `min` | the minimal BTF a set of BPF objects' CO-RE relocations need, for vmlinux and split module BTF (`btf min`; feature `elf`) |
//! | [`kernel_check`] | the verdict `BPF_BTF_LOAD` would give, and why (feature `alloc`) |
//!
//! # Features
//!
//! - no features: `core` only. Lookups by id walk the section unless you
//!   give [`Btf::parse_with_storage`] a `&mut [u32]`.
//! - `alloc`: [`Btf::parse`] keeps an owned id index (4 bytes per type),
//!   [`Btf::index_names`] builds a hash index of names (hashbrown),
//!   [`BtfIndex`].
//! - `std` (default): implies `alloc`; `std` support in dependencies.
//!   [`Error`] implements `core::error::Error`, which is
//!   `std::error::Error`, in every configuration.
//!
//! # Dependencies
//!
//! `zerocopy` views the wire structs without `unsafe`; `memchr` finds string
//! ends; `hashbrown` (with `alloc`) holds the name index.
//!
//! # Guarantees
//!
//! No `unsafe` code. Bad input yields an [`Error`] that names the byte
//! offset and type id concerned; parsing never panics and never reads out
//! of bounds. It allocates only the id index (with `alloc`): 4 bytes per
//! type, at most a third of the type section's size once built (a sixth
//! for real kernels), and less than the section's size while it is built
//! (worst case: every record 12 bytes); nothing without `alloc`.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

mod btf;
#[cfg(feature = "alloc")]
mod buf;
#[cfg(feature = "alloc")]
pub mod check;
#[cfg(feature = "alloc")]
pub mod diff;
pub mod dump;
#[cfg(feature = "elf")]
pub mod elf;
mod endian;
mod error;
pub mod ext;
mod fmt;
mod header;
mod id;
#[cfg(feature = "alloc")]
mod index;
#[cfg(feature = "alloc")]
pub mod kernel_check;
#[cfg(all(feature = "alloc", feature = "elf"))]
pub mod min;
mod names;
#[cfg(feature = "alloc")]
pub mod reloc;
mod resolve;
mod types;
mod walk;
pub mod wire;
#[cfg(feature = "alloc")]
pub mod write;

#[cfg(feature = "alloc")]
#[doc(hidden)]
pub mod testing;

/// The README's example, compiled as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

pub use crate::btf::{Btf, MAX_SPLIT_DEPTH, Types};
#[cfg(feature = "alloc")]
pub use crate::buf::BtfBuf;
pub use crate::endian::{Endian, U16, U32};
pub use crate::error::{Error, Result, Section};
pub use crate::header::Header;
pub use crate::id::{Kind, StrOffset, TypeId};
#[cfg(feature = "alloc")]
pub use crate::index::BtfIndex;
pub use crate::resolve::{MAX_ALIGN_VISITS, MAX_RESOLVE_DEPTH};
pub use crate::types::{
    Array, Composite, Ctx, Datasec, DeclTag, Element, Elements, Enum, Enum64, EnumValue,
    Enumerator, Enumerator64, Enumerators, Enumerators64, Func, FuncProto, Fwd, Int, Linkage,
    Member, Members, Param, Params, Type, TypeKind, TypeTag, Unknown, Var, VarSecinfo, VarSecinfos,
};
