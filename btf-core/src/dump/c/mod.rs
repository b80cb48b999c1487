//! Types as C declarations, as `bpftool btf dump … format c` prints them
//! (the `vmlinux.h` a BPF program includes), byte for byte.
//!
//! The rules are those of libbpf's BTF-to-C dumper (`btf_dump.c`) as of
//! libbpf 1.7, checked byte for byte against it on real kernels and
//! modules; bpftool v7.1 (Debian 12, libbpf 1.1) prints the same but for
//! the enum size attributes, which libbpf added in 1.2:
//!
//! - types are emitted in an order a C compiler accepts: a struct that
//!   another embeds comes first; one reached only through a pointer may come
//!   later, announced by a forward declaration (`struct task_struct;`);
//! - anonymous structs, unions and enums are written inline where they are
//!   used; an anonymous enum nothing refers to stands alone (its values are
//!   constants);
//! - a struct whose layout a compiler would not reproduce gets explicit
//!   padding members (`long: 64;`, `int: 0;`) and, when its members are not
//!   naturally aligned, `__attribute__((packed))`;
//! - a name used by two types of one C namespace gets `___2`, `___3`, … on
//!   its later uses; so do enumerator names (they share the namespace of
//!   typedefs);
//! - enums of 1 or 8 bytes get `__attribute__((mode(byte)))` or
//!   `__attribute__((mode(word)))` where their values alone would not give
//!   that size.
//!
//! # Entry points
//!
//! - [`write_c`]: a whole blob (every id from 1, a split's base included)
//!   with bpftool's `#ifndef __VMLINUX_H__` guard and
//!   `preserve_access_index` pragma around it.
//! - [`CDumper`]: chosen types, each with every type it needs that was not
//!   emitted yet, for tools that cut a smaller header.
//!
//! ```
//! # let blob = btf_core::testing::tiny_blob();
//! use btf_core::{Btf, dump};
//! let btf = Btf::parse(&blob)?;
//! let mut header = Vec::new();
//! dump::write_c(&btf, &mut header)?;
//! let header = String::from_utf8(header).unwrap();
//! assert!(header.contains("struct point {\n\tint x;\n\tint y;\n};\n\ntypedef struct point point_t;\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limits
//!
//! Emission is recursive, as in libbpf; unlike libbpf, it is bounded. A
//! chain of more than [`MAX_C_DEPTH`] nested declarations is refused with
//! [`CDumpError::TooDeep`] (rather than overflowing the stack); a type
//! whose dump visits more than [`MAX_C_VISITS`] types (prototypes and
//! anonymous types shared many times over make libbpf's walk exponential)
//! with [`CDumpError::TooComplex`]; a type graph no C declaration order
//! satisfies with [`CDumpError::Cycle`]. Alignments are computed once per
//! type. Output is streamed to the sink in pieces of about 32 KiB, whatever
//! the size of one declaration. The dumper keeps five bytes per type
//! (state and alignment) and a count per distinct name.
//!
//! The output is not bounded by the input's size: padding is written as
//! libbpf writes it, one `long: 64;` line per 8 bytes of gap, so a blob of
//! a few bytes describing a struct of 4 GiB with no members gives about
//! 6 GB of text. Give a sink that refuses past the size you accept (the
//! fuzz targets stop at 1 MiB).
//!
//! # Layout of this module
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | the entry points, errors, per-type state and the bounds on recursion |
//! | `order.rs` | ordering: which types a type needs, in which order they are emitted, forward declarations |
//! | `naming.rs` | naming: the `___N` suffixes of names used twice in one C namespace |
//! | `layout.rs` | struct and union bodies: alignment, packing and padding |
//! | `decl.rs` | declarators (pointers, arrays, prototypes, qualifiers, turned inside out), typedefs, enums and forward declarations |
//! | `out.rs` | the output buffer, streamed to the sink |

mod decl;
mod layout;
mod naming;
mod order;
mod out;

use self::out::Out;
use super::ByteSink;
use crate::btf::Btf;
use crate::id::{Kind, TypeId};
use crate::types::Type;
use alloc::vec::Vec;
use core::fmt;
use hashbrown::HashMap;

/// How deeply declarations may nest (recursion levels of the dumper).
pub const MAX_C_DEPTH: u32 = 512;

/// How many types one [`CDumper::dump_type`] may visit (each visit of a
/// type reached again counts): a thousand times what any type of a 2026
/// kernel needs (at most 2^12), a bound on graphs built to make the walk
/// exponential. A dumper's visits in all are bounded too, by this plus
/// [`C_VISITS_PER_TYPE`] per type of the blob.
pub const MAX_C_VISITS: u32 = 1 << 22;

/// The visits a dumper may make in all, per type of its blob, beyond
/// [`MAX_C_VISITS`]: at least eight times what dumping a whole 2026 kernel
/// needs (between 4 and 8 per type).
pub const C_VISITS_PER_TYPE: u64 = 64;

/// bpftool's lines before the types.
const PROLOGUE: &[u8] = b"#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n\
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n\
#endif\n\n";

/// bpftool's lines after the types.
const EPILOGUE: &[u8] = b"#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n";

/// Why a C dump stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum CDumpError<E> {
    /// The sink failed.
    Write(E),
    /// Type `id` has to be defined before itself: a loop of embedded types
    /// (or anonymous ones) that no forward declaration can break.
    Cycle {
        /// The type met again while its own definition was being ordered.
        id: TypeId,
    },
    /// Type `id` is of a kind this dumper cannot write (a kind this crate
    /// does not know, sized by a layout section).
    UnsupportedKind {
        /// The type.
        id: TypeId,
        /// Its kind.
        kind: Kind,
    },
    /// The declarations of type `id` nest more than [`MAX_C_DEPTH`] levels
    /// deep (in practice: a loop of modifiers, typedefs or anonymous
    /// types, or an absurdly long chain of them).
    TooDeep {
        /// The type asked for, where the chain starts (for [`write_c`],
        /// the first id whose chain is too deep).
        id: TypeId,
        /// The type the walk down the chain had reached when the limit was
        /// hit.
        at: TypeId,
    },
    /// Dumping `id` visited more than [`MAX_C_VISITS`] types, or the
    /// dumper's visits in all passed their bound: prototypes or anonymous
    /// types that share parts many times over.
    TooComplex {
        /// The type asked for.
        id: TypeId,
    },
    /// The reader failed: `id` is not in the blob, or an element of type
    /// `id` has a name offset past the strings (elements are checked where
    /// used unless the blob was [validated](crate::Btf::validate)).
    Lookup {
        /// The id asked for, or the type holding the bad element.
        id: TypeId,
        /// The reader's error.
        source: crate::Error,
    },
}

impl<E: fmt::Display> fmt::Display for CDumpError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CDumpError::Write(e) => write!(f, "writing the C dump failed: {e}"),
            CDumpError::Cycle { id } => write!(
                f,
                "type {id} must be defined before itself: unsatisfiable type cycle"
            ),
            CDumpError::UnsupportedKind { id, kind } => {
                write!(f, "type {id} is of kind {kind}, which has no C form")
            }
            CDumpError::TooDeep { id, at } => write!(
                f,
                "declarations of type {id} nest more than {MAX_C_DEPTH} levels deep (the limit was reached at type {at})"
            ),
            CDumpError::TooComplex { id } => write!(
                f,
                "dumping type {id} visits too many types (more than {MAX_C_VISITS} for one, or \
                 {C_VISITS_PER_TYPE} per type of the blob in all): parts shared many times over"
            ),
            CDumpError::Lookup { id, source } => write!(f, "type {id}: {source}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for CDumpError<E> {}

/// Writes every type of `btf` as C, exactly as
/// `bpftool btf dump file … format c` prints it: bpftool's guard and pragma
/// lines, then every id from 1 (for a split blob, the base's types too)
/// with the types each needs, then the closing lines. Names go out as raw
/// bytes.
///
/// # Errors
///
/// [`CDumpError::Write`] when `sink` fails, the other variants when the
/// blob cannot be written as C; what was written before stays written, and
/// the closing lines are not (as with bpftool).
pub fn write_c<S: ByteSink + ?Sized>(
    btf: &Btf<'_>,
    sink: &mut S,
) -> Result<(), CDumpError<S::Error>> {
    let mut dumper = CDumper::new(btf);
    let mut out = Out::new(sink);
    out.bytes(PROLOGUE);
    let last = btf.last_id().get();
    let all = (1..=last).try_for_each(|id| dumper.dump_into(&mut out, TypeId::new(id)));
    if all.is_ok() {
        out.bytes(EPILOGUE);
    }
    out.finish(all)
}

/// Per-type state bits.
const ORDER_MASK: u8 = 0b0000_0011;
const ORDERING: u8 = 0b0000_0001;
const ORDERED: u8 = 0b0000_0010;
const EMIT_MASK: u8 = 0b0000_1100;
const EMITTING: u8 = 0b0000_0100;
const EMITTED: u8 = 0b0000_1000;
const FWD_EMITTED: u8 = 0b0001_0000;
const NAME_RESOLVED: u8 = 0b0010_0000;
const REFERENCED: u8 = 0b0100_0000;

/// Emits types as C declarations, each with what it needs and nothing
/// emitted twice: the state of libbpf's `struct btf_dump`.
///
/// Give it a blob with an id index ([`Btf::parse`], [`Btf::parse_split`]):
/// the dumper looks types up by id all the time, and a blob from
/// [`Btf::parse_unindexed`] walks its type section for each lookup.
///
/// ```
/// # let blob = btf_core::testing::tiny_blob();
/// use btf_core::{Btf, TypeId, dump::CDumper};
/// let btf = Btf::parse(&blob)?;
/// let mut dumper = CDumper::new(&btf);
/// let mut out = Vec::new();
/// // The typedef (id 3) brings its struct along.
/// dumper.dump_type(TypeId::new(3), &mut out)?;
/// assert_eq!(out, b"struct point {\n\tint x;\n\tint y;\n};\n\ntypedef struct point point_t;\n\n");
/// // Already emitted: nothing more.
/// let len = out.len();
/// dumper.dump_type(TypeId::new(2), &mut out)?;
/// assert_eq!(out.len(), len);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CDumper<'a> {
    btf: &'a Btf<'a>,
    ptr_size: u32,
    /// One byte of state bits per id (0 ..= last id); empty until the
    /// first dump.
    state: Vec<u8>,
    /// The `___N` suffix of the types that needed one.
    renamed: HashMap<u32, usize>,
    /// How often each struct/union/enum name was used.
    type_names: HashMap<&'a [u8], usize>,
    /// How often each typedef and enumerator name was used.
    ident_names: HashMap<&'a [u8], usize>,
    /// Types to emit for the current `dump_type`, in order.
    queue: Vec<u32>,
    /// Declaration chains being written (frames of nested declarations).
    stack: Vec<u32>,
    /// Alignments found so far, plus one (0: not yet).
    aligns: Vec<u32>,
    depth: u32,
    /// Types visited by the current `dump_type`.
    visits: u32,
    /// Types visited by all of them, and how many may be.
    total: u64,
    total_limit: u64,
    /// The id the current `dump_type` was asked for.
    root: u32,
}

impl fmt::Debug for CDumper<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CDumper")
            .field("pointer_size", &self.ptr_size)
            .field("renamed", &self.renamed.len())
            .finish_non_exhaustive()
    }
}

/// Why emission stopped, before it is tied to a sink's error type.
enum Stop {
    Write,
    Cycle(u32),
    Kind(u32, Kind),
    /// Too deep: the id asked for, and the one reached.
    Deep {
        root: u32,
        at: u32,
    },
    Complex(u32),
    Lookup(u32, crate::Error),
}

type Step<T = ()> = Result<T, Stop>;

impl<'a> CDumper<'a> {
    /// A dumper for `btf` (and its base, for a split blob) that has emitted
    /// nothing yet.
    pub fn new(btf: &'a Btf<'a>) -> CDumper<'a> {
        CDumper {
            btf,
            ptr_size: btf.pointer_size(),
            state: Vec::new(),
            renamed: HashMap::new(),
            type_names: HashMap::new(),
            ident_names: HashMap::new(),
            queue: Vec::new(),
            stack: Vec::new(),
            aligns: Vec::new(),
            depth: 0,
            visits: 0,
            total: 0,
            total_limit: u64::from(MAX_C_VISITS)
                .saturating_add(C_VISITS_PER_TYPE.saturating_mul(u64::from(btf.last_id().get()))),
            root: 0,
        }
    }

    /// Writes type `id` as C, preceded by every type it needs that this
    /// dumper has not emitted yet, as libbpf's `btf_dump__dump_type` does.
    /// Kinds that have no definition of their own (pointers, arrays,
    /// modifiers, functions, variables, sections, tags) write nothing
    /// themselves but bring along what they refer to.
    ///
    /// # Errors
    ///
    /// As [`write_c`]; [`CDumpError::Lookup`] when `id` is beyond the
    /// blob's last id.
    pub fn dump_type<S: ByteSink + ?Sized>(
        &mut self,
        id: TypeId,
        sink: &mut S,
    ) -> Result<(), CDumpError<S::Error>> {
        let mut out = Out::new(sink);
        let result = self.dump_into(&mut out, id);
        out.finish(result)
    }

    fn dump_into<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        id: TypeId,
    ) -> Result<(), CDumpError<S::Error>> {
        self.dump_steps(out, id.get())
            .map_err(|stop| out.fail(stop))?;
        out.maybe_flush().map_err(|stop| out.fail(stop))
    }

    fn dump_steps<S: ByteSink + ?Sized>(&mut self, out: &mut Out<'_, S>, id: u32) -> Step {
        let last = self.btf.last_id().get();
        if id > last {
            let source = crate::Error::NoSuchType {
                id: TypeId::new(id),
            };
            return Err(Stop::Lookup(id, source));
        }
        if self.state.is_empty() {
            self.mark_referenced(last)?;
        }
        self.depth = 0;
        self.visits = 0;
        self.root = id;
        self.queue.clear();
        self.order(id, false)?;
        let queue = core::mem::take(&mut self.queue);
        let result = queue.iter().try_for_each(|&q| self.emit_type(out, q, 0));
        self.queue = queue;
        result
    }

    fn ty(&self, id: u32) -> Step<Type<'a>> {
        self.btf
            .type_by_id(TypeId::new(id))
            .map_err(|e| Stop::Lookup(id, e))
    }

    fn flags(&self, id: u32) -> u8 {
        self.state.get(id as usize).copied().unwrap_or(0)
    }

    fn set(&mut self, id: u32, bits: u8) {
        if let Some(s) = self.state.get_mut(id as usize) {
            *s |= bits;
        }
    }

    fn set_order(&mut self, id: u32, order: u8) {
        if let Some(s) = self.state.get_mut(id as usize) {
            *s = (*s & !ORDER_MASK) | order;
        }
    }

    fn set_emit(&mut self, id: u32, emit: u8) {
        if let Some(s) = self.state.get_mut(id as usize) {
            *s = (*s & !EMIT_MASK) | emit;
        }
    }

    /// Runs `f` one level of recursion down, visiting `id`.
    fn nested<T>(&mut self, id: u32, f: impl FnOnce(&mut Self) -> Step<T>) -> Step<T> {
        self.enter(id)?;
        let result = f(self);
        self.leave();
        result
    }

    /// Enters one level of recursion, visiting `id`.
    fn enter(&mut self, id: u32) -> Step {
        if self.depth >= MAX_C_DEPTH {
            return Err(Stop::Deep {
                root: self.root,
                at: id,
            });
        }
        if self.visits >= MAX_C_VISITS || self.total >= self.total_limit {
            return Err(Stop::Complex(self.root));
        }
        self.depth += 1;
        self.visits += 1;
        self.total += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}
