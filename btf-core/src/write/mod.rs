//! Building and encoding BTF (feature `alloc`).
//!
//! A [`Builder`] collects type records and strings and [`encodes`](Builder::encode)
//! them into a blob in either byte order, with the classic 24-byte header or
//! the 32-byte header and a kind layout section. It can start
//!
//! - empty ([`Builder::new`]): a base blob, ids from 1;
//! - as a split on a parsed base ([`Builder::split`]): ids and string
//!   offsets continue from the base, as for a kernel module;
//! - from a parsed blob ([`Builder::from_btf`]): its types and its string
//!   section are kept byte for byte, and whatever is added is appended, so
//!   encoding with nothing added gives the input back.
//!
//! ```
//! use btf_core::write::{Builder, EncodeOptions, MemberDef};
//! use btf_core::{Btf, Kind, wire::INT_SIGNED};
//!
//! let mut b = Builder::new();
//! let int = b.add_int("int", 4, INT_SIGNED);
//! let point = b.add_struct("point", 8, &[MemberDef::new("x", int, 0), MemberDef::new("y", int, 32)]);
//! b.add_ptr(point);
//! let bytes = b.encode(&EncodeOptions::default())?;
//!
//! let btf = Btf::parse(&bytes)?;
//! assert_eq!(btf.find_by_name_kind("point", Kind::STRUCT).map(|t| t.id()), Some(point));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Strings
//!
//! Strings are deduplicated with a hash table (first occurrence wins). As in
//! libbpf's `btf__add_str`, a split builder first looks a string up in its
//! base chain and refers to the base's copy when there is one; only strings
//! the base lacks go into the split's own section. A builder started from a
//! parsed blob keeps that blob's string section exactly (order, duplicates,
//! unused strings) and only appends to it.
//!
//! # Copying
//!
//! [`Builder::copy_type`] copies one record from a parsed blob with its
//! names and its type ids as they are; [`Copier`] copies a type and every
//! type it reaches, giving them new ids in the builder (types in a base the
//! builder shares with the source are referred to, not copied).
//!
//! # Checking
//!
//! [`Builder::encode`] first checks every record against the rules the
//! kernel's verifier applies to each type on its own (names, sizes, flags,
//! vlen, references that exist) and reports the first violation as a
//! [`WriteError`] naming the type id. Graph-level rules (loops, what a
//! pointer may point at) are left to the kernel. [`Builder::encode_unchecked`]
//! skips the checks, to produce invalid BTF on purpose.

mod builder;
mod copy;
mod defs;
mod encode;
mod error;
mod record;
mod rules;
mod strings;

pub use builder::Builder;
pub use copy::Copier;
pub use defs::{EnumeratorDef, MemberDef, Name, ParamDef, RawRecord, SecinfoDef};
pub use encode::{EncodeOptions, HeaderFormat};
pub use error::{Place, Problem, WriteError};

/// The largest `vlen` the 2026 encoding holds (24 bits). Kernels before
/// April 2026 accept at most `0xffff`.
pub const MAX_VLEN: u32 = crate::record::Info::MAX_VLEN;

/// The largest `vlen` kernels before April 2026 accept (16 bits); see
/// [`EncodeOptions::with_max_vlen`].
pub const LEGACY_MAX_VLEN: u32 = 0xffff;

/// The largest type id the kernel accepts (`BTF_MAX_TYPE`), base ids
/// included.
pub const MAX_TYPE_ID: u32 = 0x000f_ffff;

/// The largest name offset the kernel accepts (`BTF_MAX_NAME_OFFSET`).
pub const MAX_NAME_OFFSET: u32 = 0x00ff_ffff;

/// The longest name the kernel accepts (`KSYM_NAME_LEN`).
pub const MAX_NAME_LEN: usize = 512;
