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

use super::ByteSink;
use crate::btf::Btf;
use crate::id::{Kind, TypeId};
use crate::types::{Type, TypeKind};
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

/// Output is handed to the sink once this much has gathered.
const FLUSH_AT: usize = 32 * 1024;

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

/// A name as written: the original bytes, or them with `___N`.
#[derive(Clone, Copy)]
enum Name<'a> {
    Plain(&'a [u8]),
    Dup(&'a [u8], usize),
}

impl Name<'_> {
    const EMPTY: Name<'static> = Name::Plain(b"");

    fn is_empty(&self) -> bool {
        matches!(self, Name::Plain(n) if n.is_empty())
    }
}

/// A frame of the declaration stack: `stack[base .. base + len]`, top last.
struct Frame {
    base: usize,
    len: usize,
}

/// The output buffer and its sink; the first sink error is kept and stops
/// everything after it.
struct Out<'s, S: ByteSink + ?Sized> {
    sink: &'s mut S,
    buf: Vec<u8>,
    error: Option<S::Error>,
    failed: bool,
}

impl<'s, S: ByteSink + ?Sized> Out<'s, S> {
    fn new(sink: &'s mut S) -> Self {
        Out {
            sink,
            buf: Vec::new(),
            error: None,
            failed: false,
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn name(&mut self, name: Name<'_>) {
        match name {
            Name::Plain(n) => self.bytes(n),
            Name::Dup(n, count) => {
                // libbpf builds the new name in a 256-byte buffer.
                let start = self.buf.len();
                self.bytes(n);
                self.bytes(b"___");
                self.decimal(count as u64, false);
                self.buf.truncate(start.saturating_add(255));
            }
        }
    }

    fn decimal(&mut self, v: u64, negative: bool) {
        if negative {
            self.buf.push(b'-');
        }
        // The raw dump's digit writer.
        let mut digits = [0u8; 20];
        let n = v.checked_ilog10().map_or(1, |l| l as usize + 1);
        let dst = digits.get_mut(..n).unwrap_or_default();
        super::decimal::fill_u64(dst, v);
        self.bytes(dst);
    }

    fn signed(&mut self, v: i64) {
        self.decimal(v.unsigned_abs(), v < 0);
    }

    /// `lvl` tabs, at most 13 (libbpf's indent string).
    fn indent(&mut self, lvl: u32) {
        let tabs = b"\t\t\t\t\t\t\t\t\t\t\t\t\t";
        self.bytes(
            tabs.get(..(lvl as usize).min(tabs.len()))
                .unwrap_or_default(),
        );
    }

    /// `\n<tabs>TYPE: BITS;`, an anonymous padding member.
    fn pad_line(&mut self, lvl: u32, ty: &[u8], bits: i64) {
        self.bytes(b"\n");
        self.indent(lvl);
        self.bytes(ty);
        self.bytes(b": ");
        self.signed(bits);
        self.bytes(b";");
    }

    /// Hands the buffer to the sink once it is large.
    fn maybe_flush(&mut self) -> Step {
        if self.buf.len() >= FLUSH_AT {
            self.drain()?;
        }
        Ok(())
    }

    fn drain(&mut self) -> Step {
        if self.failed {
            return Err(Stop::Write);
        }
        if let Err(e) = self.sink.write_bytes(&self.buf) {
            self.error = Some(e);
            self.failed = true;
            return Err(Stop::Write);
        }
        self.buf.clear();
        Ok(())
    }

    /// Hands over what is left (also after an error: what was written
    /// stays written) and returns the first error.
    fn finish(
        mut self,
        result: Result<(), CDumpError<S::Error>>,
    ) -> Result<(), CDumpError<S::Error>> {
        let drained = self.drain();
        result?;
        drained.map_err(|_| self.take_error())
    }

    fn take_error(&mut self) -> CDumpError<S::Error> {
        match self.error.take() {
            Some(e) => CDumpError::Write(e),
            // A write error is taken once; what follows it is not written.
            None => CDumpError::TooDeep {
                id: TypeId::VOID,
                at: TypeId::VOID,
            },
        }
    }

    fn fail(&mut self, stop: Stop) -> CDumpError<S::Error> {
        match stop {
            Stop::Write => self.take_error(),
            Stop::Cycle(id) => CDumpError::Cycle {
                id: TypeId::new(id),
            },
            Stop::Kind(id, kind) => CDumpError::UnsupportedKind {
                id: TypeId::new(id),
                kind,
            },
            Stop::Deep { root, at } => CDumpError::TooDeep {
                id: TypeId::new(root),
                at: TypeId::new(at),
            },
            Stop::Complex(id) => CDumpError::TooComplex {
                id: TypeId::new(id),
            },
            Stop::Lookup(id, source) => CDumpError::Lookup {
                id: TypeId::new(id),
                source,
            },
        }
    }
}

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

    /// Marks every type another type refers to: an anonymous enum that
    /// nothing refers to is a top-level declaration of constants.
    fn mark_referenced(&mut self, last: u32) -> Step {
        let len = (last as usize).saturating_add(1);
        // Built aside and kept only whole: a blob that fails here fails
        // every later dump too.
        let mut state = alloc::vec![0u8; len];
        for id in 1..=last {
            let t = self.ty(id)?;
            let mut mark = |r: TypeId| {
                if let Some(s) = state.get_mut(r.get() as usize) {
                    *s |= REFERENCED;
                }
            };
            match t.as_kind() {
                TypeKind::Int(_)
                | TypeKind::Enum(_)
                | TypeKind::Enum64(_)
                | TypeKind::Fwd(_)
                | TypeKind::Float(_) => {}
                TypeKind::Ptr(r)
                | TypeKind::Typedef(r)
                | TypeKind::Volatile(r)
                | TypeKind::Const(r)
                | TypeKind::Restrict(r) => mark(r),
                TypeKind::Func(f) => mark(f.proto),
                TypeKind::Var(v) => mark(v.ty),
                TypeKind::DeclTag(d) => mark(d.ty),
                TypeKind::TypeTag(tag) => mark(tag.ty),
                TypeKind::Array(a) => {
                    mark(a.index);
                    mark(a.elem);
                }
                TypeKind::Struct(c) | TypeKind::Union(c) => c.members().for_each(|m| mark(m.ty())),
                // Parameters only, as libbpf.
                TypeKind::FuncProto(p) => p.params().for_each(|p| mark(p.ty())),
                TypeKind::Datasec(d) => d.entries().for_each(|v| mark(v.ty())),
                _ => return Err(Stop::Kind(id, t.kind())),
            }
        }
        self.state = state;
        // void is always defined.
        self.set(0, ORDERED | EMITTED);
        self.aligns = alloc::vec![0; len];
        Ok(())
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

    /// Orders `id` and what it needs into the queue (a depth-first
    /// topological sort); returns whether the link that reached it is
    /// strong (the type must be fully defined first) rather than weak (a
    /// forward declaration will do).
    fn order(&mut self, id: u32, through_ptr: bool) -> Step<bool> {
        self.nested(id, |d| d.order_in(id, through_ptr))
    }

    fn order_in(&mut self, id: u32, through_ptr: bool) -> Step<bool> {
        let state = self.flags(id) & ORDER_MASK;
        if state == ORDERED {
            return Ok(true);
        }
        let t = self.ty(id)?;
        let named = t.name_offset().get() != 0;
        if state == ORDERING {
            let composite = matches!(t.kind(), Kind::STRUCT | Kind::UNION);
            if composite && through_ptr && named {
                return Ok(false);
            }
            return Err(Stop::Cycle(id));
        }
        match t.as_kind() {
            TypeKind::Int(_) | TypeKind::Float(_) => {
                self.set_order(id, ORDERED);
                Ok(false)
            }
            TypeKind::Ptr(r) => {
                let strong = self.order(r.get(), true)?;
                self.set_order(id, ORDERED);
                Ok(strong)
            }
            TypeKind::Array(a) => self.order(a.elem.get(), false),
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                // Only embedded (no pointer on the way) or anonymous
                // (defined inline) aggregates are strong links.
                if through_ptr && named {
                    return Ok(false);
                }
                self.set_order(id, ORDERING);
                for m in c.members() {
                    self.order(m.ty().get(), false)?;
                }
                if named {
                    self.queue.push(id);
                }
                self.set_order(id, ORDERED);
                Ok(true)
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) | TypeKind::Fwd(_) => {
                if named || self.flags(id) & REFERENCED == 0 {
                    self.queue.push(id);
                }
                self.set_order(id, ORDERED);
                Ok(true)
            }
            TypeKind::Typedef(r) => {
                let strong = self.order(r.get(), through_ptr)?;
                if through_ptr && !strong {
                    return Ok(false);
                }
                self.queue.push(id);
                self.set_order(id, ORDERED);
                Ok(true)
            }
            TypeKind::Volatile(r) | TypeKind::Const(r) | TypeKind::Restrict(r) => {
                self.order(r.get(), through_ptr)
            }
            TypeKind::TypeTag(tag) => self.order(tag.ty.get(), through_ptr),
            TypeKind::FuncProto(p) => {
                let mut strong = self.order(p.return_type().get(), through_ptr)?;
                for param in p.params() {
                    strong |= self.order(param.ty().get(), through_ptr)?;
                }
                Ok(strong)
            }
            TypeKind::Func(_) | TypeKind::Var(_) | TypeKind::Datasec(_) | TypeKind::DeclTag(_) => {
                self.set_order(id, ORDERED);
                Ok(false)
            }
            _ => Err(Stop::Kind(id, t.kind())),
        }
    }

    /// Emits `id` (and, first, what it needs) unless done; `cont_id` is the
    /// named aggregate being defined around it (0 at top level).
    fn emit_type<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        id: u32,
        cont_id: u32,
    ) -> Step {
        let result = self.nested(id, |d| d.emit_type_in(out, id, cont_id));
        out.maybe_flush()?;
        result
    }

    fn emit_type_in<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        id: u32,
        cont_id: u32,
    ) -> Step {
        let flags = self.flags(id);
        let emit = flags & EMIT_MASK;
        if emit == EMITTED {
            return Ok(());
        }
        let t = self.ty(id)?;
        let top_level = cont_id == 0;
        let named = t.name_offset().get() != 0;
        if emit == EMITTING {
            // Met again while being emitted: a forward declaration may be
            // needed.
            if flags & FWD_EMITTED != 0 {
                return Ok(());
            }
            match t.kind() {
                Kind::STRUCT | Kind::UNION => {
                    // Inside its own definition, or anonymous (a loop libbpf
                    // only warns about): nothing to declare.
                    if id == cont_id || !named {
                        return Ok(());
                    }
                    self.struct_fwd(out, id, t)?;
                    out.bytes(b";\n\n");
                    self.set(id, FWD_EMITTED);
                }
                Kind::TYPEDEF => {
                    if !self.is_blacklisted(t) {
                        self.typedef_def(out, id, t, 0)?;
                        out.bytes(b";\n\n");
                    }
                    self.set(id, FWD_EMITTED);
                }
                _ => {}
            }
            return Ok(());
        }
        match t.as_kind() {
            TypeKind::Int(_) => {
                self.missing_alias(out, id)?;
                self.set_emit(id, EMITTED);
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) => {
                if top_level {
                    self.enum_def(out, id, t, 0)?;
                    out.bytes(b";\n\n");
                }
                self.set_emit(id, EMITTED);
            }
            TypeKind::Ptr(r)
            | TypeKind::Volatile(r)
            | TypeKind::Const(r)
            | TypeKind::Restrict(r) => self.emit_type(out, r.get(), cont_id)?,
            TypeKind::TypeTag(tag) => self.emit_type(out, tag.ty.get(), cont_id)?,
            TypeKind::Array(a) => self.emit_type(out, a.elem.get(), cont_id)?,
            TypeKind::Fwd(_) => {
                self.fwd_def(out, id, t)?;
                out.bytes(b";\n\n");
                self.set_emit(id, EMITTED);
            }
            TypeKind::Typedef(r) => {
                self.set_emit(id, EMITTING);
                self.emit_type(out, r.get(), id)?;
                // Unless someone needed it as a forward declaration (through
                // a pointer) meanwhile, the typedef is emitted now.
                if self.flags(id) & FWD_EMITTED == 0 && !self.is_blacklisted(t) {
                    self.typedef_def(out, id, t, 0)?;
                    out.bytes(b";\n\n");
                }
                self.set_emit(id, EMITTED);
            }
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                self.set_emit(id, EMITTING);
                if top_level || !named {
                    // The members' types are written out here: make sure
                    // each is defined or declared.
                    let inner = if named { id } else { cont_id };
                    for m in c.members() {
                        self.emit_type(out, m.ty().get(), inner)?;
                    }
                } else if self.flags(id) & FWD_EMITTED == 0 && id != cont_id {
                    self.struct_fwd(out, id, t)?;
                    out.bytes(b";\n\n");
                    self.set(id, FWD_EMITTED);
                }
                if top_level {
                    self.struct_def(out, id, t, 0)?;
                    out.bytes(b";\n\n");
                    self.set_emit(id, EMITTED);
                } else {
                    self.set_emit(id, 0);
                }
            }
            TypeKind::FuncProto(p) => {
                self.emit_type(out, p.return_type().get(), cont_id)?;
                for param in p.params() {
                    self.emit_type(out, param.ty().get(), cont_id)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `__builtin_va_list` is the compiler's own: never redefined.
    fn is_blacklisted(&self, t: Type<'a>) -> bool {
        t.name_offset().get() != 0 && t.name_bytes() == b"__builtin_va_list"
    }

    /// Typedefs for GCC's internal ARM SIMD polynomial types.
    fn missing_alias<S: ByteSink + ?Sized>(&mut self, out: &mut Out<'_, S>, id: u32) -> Step {
        const ALIASES: [(&[u8], &[u8]); 4] = [
            (b"__Poly8_t", b"unsigned char"),
            (b"__Poly16_t", b"unsigned short"),
            (b"__Poly64_t", b"unsigned long long"),
            (b"__Poly128_t", b"unsigned __int128"),
        ];
        let name = self.type_name(id)?;
        let Name::Plain(plain) = name else {
            return Ok(());
        };
        if let Some((_, base)) = ALIASES.iter().find(|(n, _)| *n == plain) {
            out.bytes(b"typedef ");
            out.bytes(base);
            out.bytes(b" ");
            out.name(name);
            out.bytes(b";\n\n");
        }
        Ok(())
    }

    /// The name a struct, union or enum is written with.
    fn type_name(&mut self, id: u32) -> Step<Name<'a>> {
        self.resolve_name(id, false)
    }

    /// The name a typedef is written with.
    fn ident_name(&mut self, id: u32) -> Step<Name<'a>> {
        self.resolve_name(id, true)
    }

    fn resolve_name(&mut self, id: u32, ident: bool) -> Step<Name<'a>> {
        let t = self.ty(id)?;
        if t.name_offset().get() == 0 {
            return Ok(Name::EMPTY);
        }
        let orig = t.name_bytes();
        if self.flags(id) & NAME_RESOLVED != 0 {
            return Ok(match self.renamed.get(&id) {
                Some(&n) => Name::Dup(orig, n),
                None => Name::Plain(orig),
            });
        }
        self.set(id, NAME_RESOLVED);
        // Forward declarations and empty enums may repeat a name freely.
        if t.kind() == Kind::FWD || (t.kind() == Kind::ENUM && t.vlen() == 0) {
            return Ok(Name::Plain(orig));
        }
        let map = if ident {
            &mut self.ident_names
        } else {
            &mut self.type_names
        };
        let count = name_dups(map, orig);
        if count > 1 {
            self.renamed.insert(id, count);
            return Ok(Name::Dup(orig, count));
        }
        Ok(Name::Plain(orig))
    }

    fn struct_fwd<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        id: u32,
        t: Type<'a>,
    ) -> Step {
        out.bytes(if t.kind() == Kind::STRUCT {
            b"struct"
        } else {
            b"union"
        });
        if t.name_offset().get() != 0 {
            out.bytes(b" ");
        }
        let name = self.type_name(id)?;
        out.name(name);
        Ok(())
    }

    fn struct_def<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        id: u32,
        t: Type<'a>,
        lvl: u32,
    ) -> Step {
        self.nested(id, |d| d.struct_def_in(out, id, t, lvl))
    }

    fn struct_def_in<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        id: u32,
        t: Type<'a>,
        lvl: u32,
    ) -> Step {
        let (TypeKind::Struct(c) | TypeKind::Union(c)) = t.as_kind() else {
            return Ok(());
        };
        let is_struct = t.kind() == Kind::STRUCT;
        let align = self.align(id)?;
        let packed = is_struct && self.is_packed(t)?;
        self.struct_fwd(out, id, t)?;
        out.bytes(b" {");
        let mut off: i64 = 0;
        let mut prev_bitfield = false;
        for m in c.members() {
            let bits = i64::from(m.bitfield_size());
            let m_off = i64::from(m.bit_offset());
            let m_align = if packed { 1 } else { self.align(m.ty().get())? };
            let in_bitfield = prev_bitfield && bits != 0;
            self.bit_padding(out, off, m_off, m_align, in_bitfield, lvl + 1)?;
            out.bytes(b"\n");
            out.indent(lvl + 1);
            let name = m.name_bytes().map_err(|e| Stop::Lookup(id, e))?;
            self.type_decl(out, m.ty().get(), Name::Plain(name), lvl + 1)?;
            if bits != 0 {
                out.bytes(b": ");
                out.signed(bits);
                off = m_off + bits;
                prev_bitfield = true;
            } else {
                let size = self.btf.size_of(m.ty()).map_or(0, i64::from);
                off = m_off + size * 8;
                prev_bitfield = false;
            }
            out.bytes(b";");
            out.maybe_flush()?;
        }
        if is_struct {
            self.bit_padding(out, off, i64::from(c.size()) * 8, align, false, lvl + 1)?;
        }
        // `struct empty {}` stays on one line.
        if t.vlen() != 0 || c.size() != 0 {
            out.bytes(b"\n");
            out.indent(lvl);
        }
        out.bytes(b"}");
        if packed {
            out.bytes(b" __attribute__((packed))");
        }
        Ok(())
    }

    /// The alignment libbpf's `btf__align_of` gives (0 when it has none),
    /// found once per type.
    fn align(&mut self, id: u32) -> Step<i64> {
        if let Some(&known) = self.aligns.get(id as usize).filter(|&&a| a != 0) {
            return Ok(i64::from(known - 1));
        }
        let align = self.nested(id, |d| d.align_in(id))?;
        if let Some(slot) = self.aligns.get_mut(id as usize) {
            *slot = u32::try_from(align).unwrap_or(0).saturating_add(1);
        }
        Ok(align)
    }

    fn align_in(&mut self, id: u32) -> Step<i64> {
        if id == 0 {
            return Ok(0);
        }
        let t = self.ty(id)?;
        let ptr = i64::from(self.ptr_size);
        Ok(match t.as_kind() {
            TypeKind::Int(i) => ptr.min(i64::from(i.size)),
            TypeKind::Enum(_) | TypeKind::Enum64(_) | TypeKind::Float(_) => {
                ptr.min(i64::from(t.size_or_type()))
            }
            TypeKind::Ptr(_) => ptr,
            TypeKind::Typedef(r)
            | TypeKind::Volatile(r)
            | TypeKind::Const(r)
            | TypeKind::Restrict(r) => self.align(r.get())?,
            TypeKind::TypeTag(tag) => self.align(tag.ty.get())?,
            TypeKind::Array(a) => self.align(a.elem.get())?,
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                let mut max_align = 1;
                for m in c.members() {
                    let align = self.align(m.ty().get())?;
                    if align <= 0 {
                        return Ok(0);
                    }
                    max_align = max_align.max(align);
                    // A member off its natural alignment: packed.
                    if m.bitfield_size() == 0 && i64::from(m.bit_offset()) % (8 * align) != 0 {
                        return Ok(1);
                    }
                }
                if i64::from(c.size()) % max_align != 0 {
                    return Ok(1);
                }
                max_align
            }
            // FWD, FUNC_PROTO, VAR, …: no alignment.
            _ => 0,
        })
    }

    /// Whether a struct's layout is one only `packed` gives: a member off
    /// its natural alignment, or a size not a multiple of the alignment.
    fn is_packed(&mut self, t: Type<'a>) -> Step<bool> {
        let (TypeKind::Struct(c) | TypeKind::Union(c)) = t.as_kind() else {
            return Ok(false);
        };
        let mut max_align = 1;
        for m in c.members() {
            let align = self.align(m.ty().get())?;
            if align > 0 && m.bitfield_size() == 0 && i64::from(m.bit_offset()) % (8 * align) != 0 {
                return Ok(true);
            }
            max_align = max_align.max(align);
        }
        Ok(i64::from(c.size()) % max_align != 0)
    }

    /// Explicit anonymous bitfields from bit `cur` to bit `next`, where a
    /// compiler would not put the next member (of alignment `next_align`)
    /// at `next` by itself.
    fn bit_padding<S: ByteSink + ?Sized>(
        &self,
        out: &mut Out<'_, S>,
        mut cur: i64,
        next: i64,
        next_align: i64,
        in_bitfield: bool,
        lvl: u32,
    ) -> Step {
        if cur >= next {
            return Ok(());
        }
        let long: (&[u8], i64) = (b"long", i64::from(self.ptr_size) * 8);
        let char: (&[u8], i64) = (b"char", 8);
        let pads = [long, (b"int", 32), (b"short", 16), char];
        let mut pad = char;
        let mut new_off = 0;
        // The largest type whose natural alignment lands within the gap.
        for p in pads {
            pad = p;
            new_off = roundup(cur, p.1);
            if new_off <= next {
                break;
            }
        }
        if new_off > cur && new_off <= next {
            // A `<type>: 0` mark where the compiler would not align to
            // `new_off` by itself (or a bit count inside a bitfield run).
            let mark = in_bitfield
                || (new_off == next && roundup(cur, next_align * 8) != new_off)
                || (new_off != next && next - new_off <= new_off - cur);
            if mark {
                out.pad_line(lvl, pad.0, if in_bitfield { new_off - cur } else { 0 });
            }
            cur = new_off;
        }
        // Whole units of that type, then the smallest type for the rest.
        while cur < next {
            let bits = (next - cur).min(pad.1);
            if bits == pad.1 {
                out.pad_line(lvl, pad.0, pad.1);
                cur += bits;
                out.maybe_flush()?;
                continue;
            }
            if let Some(p) = pads.iter().rev().find(|p| p.1 >= bits) {
                pad = *p;
                out.pad_line(lvl, p.0, bits);
                cur += bits;
            }
        }
        Ok(())
    }

    fn enum_def<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        id: u32,
        t: Type<'a>,
        lvl: u32,
    ) -> Step {
        out.bytes(b"enum");
        if t.name_offset().get() != 0 {
            out.bytes(b" ");
        }
        let name = self.type_name(id)?;
        out.name(name);
        let vlen = t.vlen();
        if vlen == 0 {
            return Ok(());
        }
        out.bytes(b" {");
        let signed = t.kflag();
        let mut all_small = true;
        match t.as_kind() {
            TypeKind::Enum(e) => {
                for v in e.values() {
                    let name = v.name_bytes().map_err(|e| Stop::Lookup(id, e))?;
                    self.enumerator(out, name, lvl);
                    let raw = v.raw_value();
                    if signed {
                        out.signed(i64::from(raw as i32));
                    } else {
                        out.decimal(u64::from(raw), false);
                    }
                    out.bytes(b",");
                    out.maybe_flush()?;
                }
            }
            TypeKind::Enum64(e) => {
                for v in e.values() {
                    let name = v.name_bytes().map_err(|e| Stop::Lookup(id, e))?;
                    self.enumerator(out, name, lvl);
                    let raw = v.raw_value();
                    all_small &= raw >> 32 == 0;
                    if signed {
                        out.signed(raw as i64);
                        out.bytes(b"LL,");
                    } else {
                        out.decimal(raw, false);
                        out.bytes(b"ULL,");
                    }
                    out.maybe_flush()?;
                }
            }
            _ => {}
        }
        out.bytes(b"\n");
        out.indent(lvl);
        out.bytes(b"}");
        // Sizes the values alone would not give.
        let size = t.size_or_type();
        if size == 1 {
            out.bytes(b" __attribute__((mode(byte)))");
        } else if size == 8 && self.ptr_size == 8 && all_small {
            // An ENUM cannot hold 64-bit values; an ENUM64 with a value
            // above 32 bits is 8 bytes by itself.
            out.bytes(b" __attribute__((mode(word)))");
        }
        Ok(())
    }

    /// `\n<tabs>NAME = ` (or `NAME___N = `): enumerators share the typedef
    /// namespace.
    fn enumerator<S: ByteSink + ?Sized>(&mut self, out: &mut Out<'_, S>, name: &'a [u8], lvl: u32) {
        let count = name_dups(&mut self.ident_names, name);
        out.bytes(b"\n");
        out.indent(lvl + 1);
        out.bytes(name);
        if count > 1 {
            // Printed whole (libbpf cuts only the renamed types at 255).
            out.bytes(b"___");
            out.decimal(count as u64, false);
        }
        out.bytes(b" = ");
    }

    fn enum_fwd<S: ByteSink + ?Sized>(&mut self, out: &mut Out<'_, S>, id: u32) -> Step {
        out.bytes(b"enum ");
        let name = self.type_name(id)?;
        out.name(name);
        Ok(())
    }

    fn fwd_def<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        id: u32,
        t: Type<'a>,
    ) -> Step {
        let name = self.type_name(id)?;
        out.bytes(if t.kflag() { b"union " } else { b"struct " });
        out.name(name);
        Ok(())
    }

    fn typedef_def<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        id: u32,
        t: Type<'a>,
        lvl: u32,
    ) -> Step {
        let name = self.ident_name(id)?;
        let target = t.size_or_type();
        // Old GCC typedefs __gnuc_va_list to void.
        if target == 0 && matches!(name, Name::Plain(b"__gnuc_va_list")) {
            out.bytes(b"typedef __builtin_va_list __gnuc_va_list");
            return Ok(());
        }
        out.bytes(b"typedef ");
        self.type_decl(out, target, name, lvl)
    }

    /// Writes a declaration of `fname` with type `id` in C syntax: the
    /// chain of pointers, modifiers, arrays and prototypes down to a named
    /// type, turned inside out.
    fn type_decl<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        id: u32,
        fname: Name<'a>,
        lvl: u32,
    ) -> Step {
        self.nested(id, |d| {
            let base = d.stack.len();
            let result = d.type_decl_in(out, id, fname, lvl, base);
            d.stack.truncate(base);
            result
        })
    }

    fn type_decl_in<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        mut id: u32,
        fname: Name<'a>,
        lvl: u32,
        base: usize,
    ) -> Step {
        loop {
            if self.stack.len() - base >= MAX_C_DEPTH as usize {
                return Err(Stop::Deep {
                    root: self.root,
                    at: id,
                });
            }
            self.stack.push(id);
            if id == 0 {
                break;
            }
            let t = self.ty(id)?;
            match t.as_kind() {
                TypeKind::Ptr(r)
                | TypeKind::Volatile(r)
                | TypeKind::Const(r)
                | TypeKind::Restrict(r) => id = r.get(),
                TypeKind::TypeTag(tag) => id = tag.ty.get(),
                TypeKind::FuncProto(p) => id = p.return_type().get(),
                TypeKind::Array(a) => id = a.elem.get(),
                // A named (or inline-defined) type ends the chain; so does
                // anything unexpected (libbpf warns and goes on).
                _ => break,
            }
        }
        let mut frame = Frame {
            base,
            len: self.stack.len() - base,
        };
        self.type_chain(out, &mut frame, fname, lvl)
    }

    fn top(&self, frame: &Frame) -> Option<u32> {
        let i = frame.base.checked_add(frame.len.checked_sub(1)?)?;
        self.stack.get(i).copied()
    }

    fn pop(&self, frame: &mut Frame) -> Option<u32> {
        let id = self.top(frame)?;
        frame.len -= 1;
        Some(id)
    }

    /// Writes the `const `/`volatile `/`restrict ` on top of the frame
    /// (qualifiers of a named type go before it).
    fn emit_mods<S: ByteSink + ?Sized>(&self, out: &mut Out<'_, S>, frame: &mut Frame) -> Step {
        while let Some(id) = self.top(frame) {
            let text: &[u8] = match self.ty(id)?.kind() {
                Kind::VOLATILE => b"volatile ",
                Kind::CONST => b"const ",
                Kind::RESTRICT => b"restrict ",
                _ => return Ok(()),
            };
            out.bytes(text);
            frame.len -= 1;
        }
        Ok(())
    }

    /// Drops qualifiers and type tags on top of the frame (GCC's extra
    /// qualifiers of arrays and noreturn function pointers).
    fn drop_mods(&self, frame: &mut Frame) -> Step {
        while let Some(id) = self.top(frame) {
            match self.ty(id)?.kind() {
                Kind::VOLATILE | Kind::CONST | Kind::RESTRICT | Kind::TYPE_TAG => frame.len -= 1,
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    fn emit_name<S: ByteSink + ?Sized>(out: &mut Out<'_, S>, name: Name<'_>, last_was_ptr: bool) {
        if !name.is_empty() && !last_was_ptr {
            out.bytes(b" ");
        }
        out.name(name);
    }

    fn type_chain<S: ByteSink + ?Sized>(
        &mut self,
        out: &mut Out<'_, S>,
        frame: &mut Frame,
        fname: Name<'a>,
        lvl: u32,
    ) -> Step {
        // So that pointers print as `int ***` and a lone `(*f)` needs no
        // space.
        let mut last_was_ptr = true;
        while let Some(id) = self.pop(frame) {
            if id == 0 {
                self.emit_mods(out, frame)?;
                out.bytes(b"void");
                last_was_ptr = false;
                continue;
            }
            let t = self.ty(id)?;
            let named = t.name_offset().get() != 0;
            match t.as_kind() {
                TypeKind::Int(_) | TypeKind::Float(_) => {
                    self.emit_mods(out, frame)?;
                    out.bytes(t.name_bytes());
                }
                TypeKind::Struct(_) | TypeKind::Union(_) => {
                    self.emit_mods(out, frame)?;
                    if named {
                        self.struct_fwd(out, id, t)?;
                    } else {
                        self.struct_def(out, id, t, lvl)?;
                    }
                }
                TypeKind::Enum(_) | TypeKind::Enum64(_) => {
                    self.emit_mods(out, frame)?;
                    if named {
                        self.enum_fwd(out, id)?;
                    } else {
                        self.enum_def(out, id, t, lvl)?;
                    }
                }
                TypeKind::Fwd(_) => {
                    self.emit_mods(out, frame)?;
                    self.fwd_def(out, id, t)?;
                }
                TypeKind::Typedef(_) => {
                    self.emit_mods(out, frame)?;
                    let name = self.ident_name(id)?;
                    out.name(name);
                }
                TypeKind::Ptr(_) => out.bytes(if last_was_ptr { b"*" } else { b" *" }),
                TypeKind::Volatile(_) => out.bytes(b" volatile"),
                TypeKind::Const(_) => out.bytes(b" const"),
                TypeKind::Restrict(_) => out.bytes(b" restrict"),
                TypeKind::TypeTag(tag) => {
                    self.emit_mods(out, frame)?;
                    if tag.attr {
                        out.bytes(b" __attribute__((");
                        out.bytes(t.name_bytes());
                        out.bytes(b"))");
                    } else {
                        out.bytes(b" __attribute__((btf_type_tag(\"");
                        out.bytes(t.name_bytes());
                        out.bytes(b"\")))");
                    }
                }
                TypeKind::Array(a) => {
                    self.drop_mods(frame)?;
                    let Some(next) = self.top(frame) else {
                        Self::emit_name(out, fname, last_was_ptr);
                        Self::dimension(out, a.nelems);
                        return Ok(());
                    };
                    let multidim = self.ty(next)?.kind() == Kind::ARRAY;
                    if !fname.is_empty() && !last_was_ptr {
                        out.bytes(b" ");
                    }
                    if !multidim {
                        out.bytes(b"(");
                    }
                    self.type_chain(out, frame, fname, lvl)?;
                    if !multidim {
                        out.bytes(b")");
                    }
                    Self::dimension(out, a.nelems);
                    return Ok(());
                }
                TypeKind::FuncProto(p) => {
                    self.drop_mods(frame)?;
                    if frame.len > 0 {
                        out.bytes(b" (");
                        self.type_chain(out, frame, fname, lvl)?;
                        out.bytes(b")");
                    } else {
                        Self::emit_name(out, fname, last_was_ptr);
                    }
                    out.bytes(b"(");
                    let vlen = t.vlen() as usize;
                    let first_void = p.params().next().is_some_and(|q| q.ty().is_void());
                    // No parameters, or one of type void: `(void)`.
                    if vlen == 0 || (vlen == 1 && first_void) {
                        out.bytes(b"void)");
                        return Ok(());
                    }
                    for (i, param) in p.params().enumerate() {
                        if i > 0 {
                            out.bytes(b", ");
                        }
                        // A last parameter of type void is `...`.
                        if i + 1 == vlen && param.ty().is_void() {
                            out.bytes(b"...");
                            break;
                        }
                        let name = param.name_bytes().map_err(|e| Stop::Lookup(id, e))?;
                        self.type_decl(out, param.ty().get(), Name::Plain(name), lvl)?;
                        out.maybe_flush()?;
                    }
                    out.bytes(b")");
                    return Ok(());
                }
                // Not a type a declaration can hold: libbpf warns and stops
                // this declaration.
                _ => return Ok(()),
            }
            last_was_ptr = t.kind() == Kind::PTR;
        }
        Self::emit_name(out, fname, last_was_ptr);
        Ok(())
    }

    fn dimension<S: ByteSink + ?Sized>(out: &mut Out<'_, S>, nelems: u32) {
        out.bytes(b"[");
        out.decimal(u64::from(nelems), false);
        out.bytes(b"]");
    }
}

/// Counts one more use of `name` in `map`; returns the count.
fn name_dups<'a>(map: &mut HashMap<&'a [u8], usize>, name: &'a [u8]) -> usize {
    let count = map.entry(name).or_insert(0);
    *count = count.saturating_add(1);
    *count
}

/// `x` rounded up to a multiple of `to` (`x` itself for `to` 0).
fn roundup(x: i64, to: i64) -> i64 {
    if to <= 0 {
        return x;
    }
    x.div_euclid(to)
        .saturating_add(i64::from(x.rem_euclid(to) != 0))
        .saturating_mul(to)
}
