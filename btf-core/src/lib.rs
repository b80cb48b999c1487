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
//! # Architecture
//!
//! The crate is built in layers, from the bytes up; each module uses only
//! the layers below it (the module graph has no cycle). Private modules are
//! named for orientation; their items are re-exported at the root.
//!
//! | layer | module | concern |
//! |---|---|---|
//! | **wire format** | [`wire`] | the kernel's on-disk structs and constants, one per C struct of `btf.h`, alignment 1 |
//! | | `endian` | byte order: [`Endian`], the wire fields [`U16`] and [`U32`], and the compile-time orders the hot loops are built for |
//! | | `id` | the numbers BTF refers by: [`TypeId`], [`StrOffset`], [`Kind`] |
//! | | `error` | [`Error`]: what is wrong with the input, and where (byte offset, type id, section) |
//! | **records** | `record` | the one decoder of a type record: the `info` word (kind, `vlen`, kind flag), the 12-byte common part, each kind's tail (its size, also for kinds sized by a layout section; which of its words are names and type ids; INT's encoding word and a member's bitfield offset). [`Kind::record_layout`], [`Kind::has_size`] and [`Kind::has_type`] are its answers |
//! | **blob** | `header` | [`Header`]: the header and the sections' bounds, order, alignment and overlap |
//! | | `walk` | the walks over a type section: *framing*, run by every parse (each record fits, its kind is sized, its name and fixed-part type ids exist), and *validation*, run by [`Btf::validate`] (every element too); compiled once per byte order, with a packed form of `record`'s tables that tests hold to the decoder |
//! | | `btf` | [`Btf`]: one blob read in place, layered on its base for a split; ids, strings, sections. `btf/splits`: [`Btf::parse_splits`], many splits on one base, walked in lanes |
//! | | `index` | the parts of a parse worth keeping: [`BtfIndex`] (id offsets, the table of names, what lookups learnt), re-attachable to its bytes in O(1) |
//! | | `buf` | [`BtfBuf`]: a parsed blob that owns or shares its bytes, its base and its index, and lends [`Btf`] views (feature `alloc`) |
//! | **views** | `types` | [`Type`] and [`TypeKind`], the element iterators ([`Members`], [`Params`], …), all read in place; [`Btf::type_by_id`] and [`Btf::types`] |
//! | **lookups** | `names` | [`Btf::find_by_name`] and friends: hash index ([`Btf::index_names`]), binary search when the blob is sorted by name, scan |
//! | | `resolve` | [`Btf::size_of`], [`Btf::align_of`], skipping modifiers and typedefs |
//! | **formatting and writing** | [`dump`] | bpftool's `format raw` (`dump/raw.rs`) and libbpf's C declarations, a `vmlinux.h` (`dump/c/`: ordering, naming, layout and padding, declarators); JSON string literals for the reports (`dump/json.rs`) |
//! | | [`write`](mod@write) | building and encoding BTF, with the kernel's per-record rules checked first (feature `alloc`) |
//! | **objects, CO-RE, kernel, diff** | `elf` | `.BTF` and `.BTF.ext` found in ELF files (feature `elf`) |
//! | | [`ext`] | `.BTF.ext`: func_info, line_info and CO-RE relocation records, checked against `.BTF`; with `elf`, `ext::BpfObject`: a BPF object's programs and instructions, each record mapped to its instruction |
//! | | [`reloc`] | CO-RE relocation with libbpf's semantics: candidates by essential name, spec matching, every relocation kind, instruction patching and poisoning (feature `alloc`) |
//! | | [`check`](mod@check) | one BPF object's CO-RE relocations against many kernels: a matrix of what each resolves to, guards found by constant propagation, failures in C terms (feature `alloc`) |
//! | | `min` | the minimal BTF a set of BPF objects' CO-RE relocations need, for vmlinux and split module BTF (`btf min`; feature `elf`) |
//! | | [`kernel_check`] | the verdict `BPF_BTF_LOAD` would give, and why (feature `alloc`) |
//! | | [`diff`](mod@diff) | what changed between two blobs' named types, matched by kind and name (feature `alloc`) |
//!
//! One word, one meaning: a blob's [`bytes`](Btf::bytes) are all of it, a
//! record's [`tail`](Type::tail) is what its kind adds after the common
//! part; *framing* is what every parse checks of each record, *validation*
//! ([`Btf::validate`]) checks every element as well, and the writer's
//! [`check`](write::Builder::check) holds records to the kernel's rules.
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
mod index;
#[cfg(feature = "alloc")]
pub mod kernel_check;
#[cfg(all(feature = "alloc", feature = "elf"))]
pub mod min;
mod names;
mod record;
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

pub use crate::btf::{Btf, MAX_SPLIT_DEPTH};
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
    Member, Members, Param, Params, Type, TypeKind, TypeTag, Types, Unknown, Var, VarSecinfo,
    VarSecinfos,
};
