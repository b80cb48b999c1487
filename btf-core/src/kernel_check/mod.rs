//! Kernel-exact checking: the verdict `BPF_BTF_LOAD` would give, without
//! root, with a reason a person can act on.
//!
//! [`Btf::check_as_kernel`] and [`check_bytes`] apply the rules of the
//! kernel's `btf_parse` (`kernel/bpf/btf.c`) for a blob loaded from user
//! space, in the kernel's order, so that a blob with several faults gets
//! the kernel's first one and its errno:
//!
//! 1. the size limit (16 MiB, `E2BIG`), the header (`hdr_len`, extra header
//!    bytes zero (`E2BIG`), magic in the kernel's byte order, version and
//!    flags (`ENOTSUPP`)), and the sections tiling the data after it (sorted
//!    by offset: no gap, no overlap, nothing after the last);
//! 2. the string section (last in the blob, ends with NUL, starts with NUL
//!    in a base, at most 16 MiB), `type_off` 4-aligned, types present;
//! 3. every record's own rules (`btf_check_meta` and each kind's
//!    `check_meta`), in id order, and the type count limit (`E2BIG`);
//! 4. the resolve pass (`btf_check_all_types`: each type's references,
//!    depth-first with an explicit stack of 32 (`E2BIG`), loops (`EEXIST`),
//!    member and element sizes and placement, DATASEC entries, DECL_TAG
//!    targets, FUNC and FUNC_PROTO parameters), skipped for
//!    [`Loader::Kernel`] as the kernel skips it for its own BTF;
//! 5. the type tag pass (`btf_check_type_tags`: TYPE_TAGs before other
//!    modifiers, chains of at most 32, `ELOOP`).
//!
//! Rules that changed over time follow a [`KernelProfile`]; the default is
//! the newest. The rules were read from `kernel/bpf/btf.c` of
//! torvalds/linux (the library's stored version, commit
//! `0076cad30135f95bf9a144269906f9b7a4eb542c`, a 6.0-era tree with ENUM64)
//! and of Debian's `linux-source-6.12` (6.12.118), and checked by the
//! differential test `btf-sys/tests/kernel_check.rs` (60,015 writer-built
//! blobs and structured mutations through `BPF_BTF_LOAD`: the same verdict,
//! the same errno, and the kernel's log naming the same rule and type) on
//! the running 6.18 kernel and, with `btf-sys/tests/vm/kernel_check.sh`, on
//! Debian's 6.1.170 and 6.12.113 kernels under qemu. Where a rule's first
//! release is not known, [`KernelProfile`] says what is assumed. No 2026
//! `btf.c` was available: the 2026 format rules
//! ([`KernelProfile::format_2026`]: 32-byte header whose layout section
//! takes part in the tiling, every `info` bit defined) follow the project's
//! BTF notes and have not been checked against a kernel.
//!
//! The kernel checks its own BTF (vmlinux, modules) without the resolve
//! pass; [`Loader::Kernel`] does the same. The running kernel's vmlinux and
//! the Debian corpus (vmlinux and 4,023 modules, split on it) pass both
//! loaders' rules.
//!
//! What is not checked: `btf_parse_struct_metas` and the special-field
//! rules after it (a struct holding a `bpf_spin_lock`, `bpf_list_head`,
//! `bpf_rb_root`, kptr and the like is held to further rules at load time),
//! and the verifier log's own limits (`ENOSPC`).
//!
//! A split blob (on a base) is checked as the kernel checks a module's BTF
//! split on vmlinux (ids and string offsets continue the base's, names may
//! be the base's). `BPF_BTF_LOAD` in 6.18 takes no base, so with
//! [`Loader::User`] a split blob gets the resolve pass as if it did, the
//! base's types counting as resolved.
//!
//! The check reads records through the crate's one record decoder
//! (`record`: the common part, the `info` word, each kind's size and tail
//! as wire structs) rather than through [`Btf::parse`], because the kernel's pass
//! order decides which errno a blob with several faults gets, and
//! [`Btf::parse`] refuses some blobs before the kernel's first fault. It
//! runs in O(size of the blob) with at most seven allocations (a record
//! offset per type, the modifiers' ids, a byte per 64 string bytes and 16
//! bytes for each of those 64 that are not plain ASCII names, and for
//! [`Loader::User`] a 4-byte resolve slot per type and two sets of a bit
//! per type) and an eighth (a 12-byte slot per type) only when the resolve
//! pass's fast path gives up, no
//! allocation per type, and no recursion deeper than the kernel's resolve
//! stack (32). The string section is judged once, 64 bytes at a time, so
//! that most names cost two loads and every string start O(1) however
//! often it is named (`names`). The meta pass passes most records with
//! one conjunction of their kind's checks, dispatched through tables built
//! once per walk (`meta::quick`), and runs the kernel's checks in order
//! only on a record that does not pass it. The type tag pass visits only
//! the modifiers. The resolve pass first runs a fast path over the 4-byte
//! slots that does what the kernel's walk does, in its order (a FUNC,
//! whose resolution pushes nothing, is tested after the sweep),
//! and only says "nothing to report"; at anything else (a fault, a push
//! the walk would refuse) it changes nothing the walk reads, and the walk
//! then runs from the start and reports as the kernel does. On the
//! running kernel's vmlinux (126K types) that is about 16 million
//! instructions with the kernel's rules for its own BTF
//! ([`Loader::Kernel`]) and 34 million with the resolve pass (callgrind),
//! against 30 million for libbpf's `btf__new`, which checks far less; the
//! hot loops trade instructions for branches that data cannot mispredict.
//! In time, the kernel's rules check vmlinux about 2.3× faster than
//! `btf__new` parses it, and with the resolve pass about 1.07× faster
//! (`benches/README.md`, group `kernel_check_vmlinux`).

mod header;
pub mod limits;
mod meta;
mod names;
mod profile;
mod reject;
mod resolve;
#[cfg(test)]
mod tests;

pub use profile::{KernelProfile, Loader};
pub use reject::{Errno, KernelReject, Rule};

use crate::btf::Btf;
use crate::endian::Endian;
use crate::endian::U32;
use crate::id::{Kind, TypeId};
use crate::record::{self, Head, Info};
use crate::wire::{BtfArray, BtfDeclTag};
use alloc::vec::Vec;
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// A fault before it is turned into a [`KernelReject`] (the name is looked
/// up only then).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fault {
    rule: Rule,
    errno: Errno,
    id: Option<u32>,
    offset: usize,
    args: [u64; 2],
    /// The absolute offset of the record concerned, when the meta pass
    /// has not indexed it yet.
    record: Option<usize>,
}

impl Fault {
    fn new(rule: Rule, errno: Errno, id: Option<u32>, offset: usize) -> Fault {
        Fault {
            rule,
            errno,
            id,
            offset,
            args: [0; 2],
            record: None,
        }
    }

    fn args(mut self, a: u64, b: u64) -> Fault {
        self.args = [a, b];
        self
    }
}

/// Where the sections lie, absolute in the blob.
pub(crate) struct Sections {
    types_at: usize,
    types_len: usize,
    strings_at: usize,
    strings_len: usize,
    /// (offset, length) of the 2026 layout section (not read).
    #[allow(dead_code)]
    layout: (usize, usize),
}

/// A record's bytes, read in the kernel's byte order, with its common
/// part decoded once (by [`record::Head`]); the `void` record is empty and
/// reads as zeros, as does the common part of a record cut short.
///
/// Parts of the tail are read as their wire structs through
/// [`record::info_part`] and [`record::elements`] ([`Rec::part`],
/// [`Rec::elements`]).
#[derive(Clone, Copy)]
pub(crate) struct Rec<'a> {
    bytes: &'a [u8],
    e: Endian,
    /// Absolute offset in the checked blob (0 for a base's records).
    at: usize,
    head: Head,
}

impl<'a> Rec<'a> {
    const VOID: Rec<'static> = Rec {
        bytes: &[],
        e: Endian::Little,
        at: 0,
        head: Head::ZERO,
    };

    /// The record starting `bytes` (absolute offset `at`), read in `e`.
    #[inline]
    fn new(bytes: &'a [u8], e: Endian, at: usize) -> Rec<'a> {
        Rec {
            bytes,
            e,
            at,
            head: Head::read_padded(bytes, e),
        }
    }

    /// The same record, its bytes cut to `len`.
    #[inline]
    fn truncated(self, len: usize) -> Rec<'a> {
        Rec {
            bytes: self.bytes.get(..len).unwrap_or(self.bytes),
            ..self
        }
    }

    #[inline]
    fn name_off(&self) -> u32 {
        self.head.name_off
    }
    /// The `info` word, unmasked.
    #[inline]
    fn info(&self) -> Info {
        self.head.info
    }
    #[inline]
    fn st(&self) -> u32 {
        self.head.size_or_type
    }
    /// The kind's number (below 128).
    #[inline]
    fn kind(&self) -> u8 {
        // `kind_number` is below 128.
        self.head.info.kind_number() as u8
    }
    #[inline]
    fn vlen(&self) -> u32 {
        self.head.info.vlen()
    }
    #[inline]
    fn kflag(&self) -> bool {
        self.head.info.kflag()
    }
    /// The info part as its wire struct `T`, zeros when the record is too
    /// short for it.
    #[inline]
    fn part<T: FromBytes + KnownLayout + Immutable + Copy>(&self) -> T {
        match record::info_part::<T>(record::tail(self.bytes)) {
            Some(part) => *part,
            None => T::new_zeroed(),
        }
    }
    /// An INT's encoding word (0 when the record is too short for it).
    #[inline]
    fn int_word(&self) -> u32 {
        self.part::<U32>().get(self.e)
    }
    /// An ARRAY's element type, index type and element count.
    #[inline]
    fn array(&self) -> (u32, u32, u32) {
        let a = self.part::<BtfArray>();
        (
            a.type_.get(self.e),
            a.index_type.get(self.e),
            a.nelems.get(self.e),
        )
    }
    /// A DECL_TAG's component index (-1: the type itself).
    #[inline]
    fn component_idx(&self) -> i32 {
        self.part::<BtfDeclTag>().component_idx.get(self.e) as i32
    }
    /// The first `n` elements as wire structs `E` (kinds with elements
    /// have no info part), or as many as the bytes hold.
    #[inline]
    fn elements<E: FromBytes + KnownLayout + Immutable>(&self, n: usize) -> &'a [E] {
        let tail = record::tail(self.bytes);
        record::elements::<E>(tail, n.min(tail.len() / size_of::<E>()))
    }
    /// The absolute offset of element `i` of `E`s.
    #[inline]
    fn element_at<E>(&self, i: usize) -> usize {
        self.at
            .saturating_add(record::COMMON)
            .saturating_add(i.saturating_mul(size_of::<E>()))
    }
}

/// Collects faults: the first only, or all up to a bound.
struct Sink {
    all: bool,
    limit: usize,
    faults: Vec<Fault>,
    /// Whether the resolve pass's fast path answered (no walk ran).
    fast_path: bool,
}

/// Returned when the sink wants no more faults.
struct Stop;

impl Sink {
    fn report(&mut self, f: Fault) -> Result<(), Stop> {
        if self.faults.len() < self.limit {
            self.faults.push(f);
        }
        if self.all && self.faults.len() < self.limit {
            Ok(())
        } else {
            Err(Stop)
        }
    }
}

/// What the passes share: the blob's sections, its base, the record index.
pub(crate) struct Ctx<'a, 'p> {
    p: &'p KernelProfile,
    base: Option<&'a Btf<'a>>,
    types: &'a [u8],
    types_at: usize,
    strings: &'a [u8],
    /// The string offset this blob's strings start at (the base's total).
    str_start: u32,
    /// The first own id (1 for a base blob).
    first_id: u32,
    /// [`KernelProfile::relaxed_names`], [`KernelProfile::ksym_name_len`].
    dots: bool,
    name_limit: usize,
    /// [`KernelProfile::max_kind`], [`KernelProfile::info_mask`], computed
    /// once for the per-record checks.
    max_kind: u8,
    info_mask: u32,
    /// The total string length visible (base's plus own).
    str_end: u64,
    /// [`KernelProfile::func_proto_no_source_only`].
    no_source_only: bool,
    /// Each own record's offset in the type section.
    offs: Vec<u32>,
    /// Void's slot for the resolve pass, then each own record's (a base
    /// blob's slots are indexed by type id).
    slots: Vec<resolve::Slot>,
    /// With slots: which types the resolve pass's fast path visits, and
    /// which are FUNCs, a bit each.
    sweep: resolve::Sweep,
    /// The own modifiers' ids, in order (for the type tag pass).
    modifiers: Vec<u32>,
    /// Which own strings are identifiers, under the profile's rules.
    idents: names::Identifiers<'a>,
}

impl<'a> Ctx<'a, '_> {
    /// The record of `id`, own or the base's; `void` for 0; `None` when no
    /// such type exists (`btf_type_by_id` returning NULL).
    #[inline(always)]
    fn by_id(&self, id: u32) -> Option<Rec<'a>> {
        match id.checked_sub(self.first_id) {
            Some(idx) => self.own(idx as usize),
            None => self.base_by_id(id),
        }
    }

    /// [`Ctx::by_id`] of void or a base's type.
    fn base_by_id(&self, id: u32) -> Option<Rec<'a>> {
        if id == 0 {
            return Some(Rec::VOID);
        }
        let base = self.base?;
        let ty = base.type_by_id(TypeId::new(id)).ok()?;
        Some(Rec::new(ty.record(), base.endian(), 0))
    }

    /// The own record at index `idx`.
    #[inline(always)]
    fn own(&self, idx: usize) -> Option<Rec<'a>> {
        let (start, bytes) = self.own_bytes(idx)?;
        Some(Rec::new(
            bytes,
            self.p.endian,
            self.types_at.saturating_add(start),
        ))
    }

    /// The bytes of the own record at index `idx` and their offset in
    /// the type section.
    #[inline(always)]
    fn own_bytes(&self, idx: usize) -> Option<(usize, &'a [u8])> {
        let start = *self.offs.get(idx)? as usize;
        let end = self
            .offs
            .get(idx + 1)
            .map_or(self.types.len(), |&o| o as usize);
        Some((start, self.types.get(start..end)?))
    }

    /// `btf_name_offset_valid`.
    #[inline(always)]
    fn name_offset_valid(&self, off: u32) -> bool {
        off <= limits::MAX_NAME_OFFSET && u64::from(off) < self.str_end
    }

    /// The bytes from `off` to the end of its string section (`off` must be
    /// valid).
    fn str_tail(&self, off: u32) -> &'a [u8] {
        if off < self.str_start {
            return self.base.map_or(&[], |b| b.str_tail(off));
        }
        self.strings
            .get((off - self.str_start) as usize..)
            .unwrap_or_default()
    }

    /// The string at `off` without its NUL (empty when out of range).
    fn str_at(&self, off: u32) -> &'a [u8] {
        let tail = self.str_tail(off);
        let end = memchr::memchr(0, tail).unwrap_or(tail.len());
        tail.get(..end).unwrap_or_default()
    }

    /// `__btf_name_valid`: an identifier of at most `KSYM_NAME_LEN` bytes;
    /// `dot_ok` allows '.' (always since 6.1).
    #[inline(always)]
    fn name_valid(&self, off: u32, dot_ok: bool) -> bool {
        self.name_valid_given(off, self.name_known(off), dot_ok)
    }

    /// [`Ctx::name_valid`] of the name at `off` whose
    /// [`Ctx::name_known`] answer, `known`, the caller read earlier.
    #[inline(always)]
    fn name_valid_given(&self, off: u32, known: bool, dot_ok: bool) -> bool {
        known || self.name_valid_slow(off, dot_ok || self.dots)
    }

    /// Whether the string at `off` is known to be an identifier (with
    /// '.' where the profile allows it): [`Ctx::name_valid`]'s few loads,
    /// which the per-record checks make before they branch, so that the
    /// string's bytes are on their way while the branches settle. `false`
    /// says nothing; [`Ctx::name_valid_slow`] then decides.
    #[inline(always)]
    fn name_known(&self, off: u32) -> bool {
        // Below `str_start` (a base's string), the offset wraps past the
        // own strings, where `known` says `false`.
        self.idents.known(off.wrapping_sub(self.str_start) as usize)
    }

    /// [`Ctx::name_valid`] of a name not known valid.
    #[inline(never)]
    fn name_valid_slow(&self, off: u32, dot_ok: bool) -> bool {
        match off.checked_sub(self.str_start) {
            Some(rel) if dot_ok == self.dots => self.idents.identifier(rel as usize),
            _ => names::identifier(self.str_tail(off), dot_ok, self.name_limit),
        }
    }

    /// A C identifier (`btf_name_valid_identifier`).
    #[inline(always)]
    fn identifier(&self, off: u32) -> bool {
        self.name_valid(off, false)
    }

    /// Whether the string at `off` (a valid offset) is not empty:
    /// `!str_at(off).is_empty()` with one load for an own string.
    #[inline(always)]
    fn nonempty(&self, off: u32) -> bool {
        match off.checked_sub(self.str_start) {
            Some(rel) => self.strings.get(rel as usize).is_some_and(|&c| c != 0),
            None => !self.str_at(off).is_empty(),
        }
    }

    /// A DATASEC name (`btf_name_valid_section`): since 6.12 (see
    /// [`KernelProfile::printable_section_names`]), non-empty printable
    /// text; before, an identifier that may hold '.'.
    fn section_name(&self, off: u32) -> bool {
        if !self.p.printable_section_names() {
            return self.name_valid(off, true);
        }
        names::printable(self.str_tail(off), self.p.ksym_name_len())
    }

    /// The fault turned into a report, with the type's kind and name.
    fn reject(&self, f: Fault) -> KernelReject {
        let unindexed = f.record.and_then(|at| {
            let rel = at.checked_sub(self.types_at)?;
            Some(Rec::new(self.types.get(rel..)?, self.p.endian, at))
        });
        let rec = unindexed
            .filter(|r| r.bytes.len() >= 12)
            .or_else(|| f.id.and_then(|id| self.by_id(id)));
        let kind = rec.map(|r| Kind::new(r.kind()));
        let name = rec
            .map(|r| r.name_off())
            .filter(|&off| off != 0 && self.name_offset_valid(off))
            .map(|off| alloc::string::String::from_utf8_lossy(self.str_at(off)).into_owned())
            .unwrap_or_default();
        KernelReject {
            rule: f.rule,
            errno: f.errno,
            id: f.id,
            kind,
            name,
            offset: f.offset,
            args: f.args,
        }
    }
}

/// Runs every pass over `data` (on `base`), feeding faults to `sink`.
fn run(
    data: &[u8],
    base: Option<&Btf<'_>>,
    p: &KernelProfile,
    sink: &mut Sink,
) -> Vec<KernelReject> {
    let secs = match header::check(data, base.is_some(), p) {
        Ok(s) => s,
        Err(f) => {
            let ctx = Ctx::empty(p);
            return alloc::vec![ctx.reject(f)];
        }
    };
    let (first_id, str_start) = match base {
        Some(b) => (
            b.last_id().get().saturating_add(1),
            b.str_start().saturating_add(b.strings().len() as u32),
        ),
        None => (1, 0),
    };
    let strings = data
        .get(secs.strings_at..secs.strings_at.saturating_add(secs.strings_len))
        .unwrap_or_default();
    let mut ctx = Ctx {
        p,
        base,
        types: data
            .get(secs.types_at..secs.types_at.saturating_add(secs.types_len))
            .unwrap_or_default(),
        types_at: secs.types_at,
        strings,
        str_start,
        first_id,
        dots: p.relaxed_names(),
        name_limit: p.ksym_name_len(),
        max_kind: p.max_kind(),
        info_mask: p.info_mask(),
        str_end: u64::from(str_start) + strings.len() as u64,
        no_source_only: p.func_proto_no_source_only(),
        offs: Vec::new(),
        slots: Vec::new(),
        sweep: resolve::Sweep::default(),
        modifiers: Vec::new(),
        idents: names::Identifiers::new(strings, p.relaxed_names(), p.ksym_name_len()),
    };
    // The kernel's own BTF skips the resolve pass: no slots.
    let user = p.loader == Loader::User;
    let flow = meta::check_all(&mut ctx, user, sink);
    if flow.is_ok() {
        let mut slots = core::mem::take(&mut ctx.slots);
        let flow = if user {
            resolve::check_all(&ctx, &mut slots, sink)
        } else {
            Ok(())
        };
        if flow.is_ok() {
            let _ = resolve::check_type_tags(&ctx, sink);
        }
    }
    sink.faults.iter().map(|&f| ctx.reject(f)).collect()
}

impl<'a, 'p> Ctx<'a, 'p> {
    fn empty(p: &'p KernelProfile) -> Ctx<'a, 'p> {
        Ctx {
            p,
            base: None,
            types: &[],
            types_at: 0,
            strings: &[],
            str_start: 0,
            first_id: 1,
            dots: p.relaxed_names(),
            name_limit: p.ksym_name_len(),
            max_kind: p.max_kind(),
            info_mask: p.info_mask(),
            str_end: 0,
            no_source_only: p.func_proto_no_source_only(),
            offs: Vec::new(),
            slots: Vec::new(),
            sweep: resolve::Sweep::default(),
            modifiers: Vec::new(),
            idents: names::Identifiers::new(&[], false, 0),
        }
    }
}

/// Checks `data` (split on `base` when given) as the kernel of profile `p`
/// would on load; the kernel's first fault, or `Ok`.
///
/// ```
/// use btf_core::kernel_check::{check_bytes, Errno, KernelProfile, Rule};
/// use btf_core::testing::RawBlob;
/// use btf_core::Endian;
/// let mut b = RawBlob::new(Endian::NATIVE);
/// let v = b.str("v");
/// b.ty(0, 1, false, 0, 4).word(32); // [1] INT (anon) size 4, 32 bits
/// b.ty(v, 14, false, 1, 1).word(0); // [2] VAR 'v' with vlen 1
/// let err = check_bytes(&b.build(), None, &KernelProfile::new(6, 18)).unwrap_err();
/// assert_eq!((err.rule, err.errno, err.id), (Rule::VlenNotZero, Errno::Inval, Some(2)));
/// assert_eq!(err.kernel_message(), "vlen != 0");
/// ```
///
/// # Errors
///
/// The [`KernelReject`] the kernel's first failing check gives.
pub fn check_bytes(
    data: &[u8],
    base: Option<&Btf<'_>>,
    p: &KernelProfile,
) -> Result<(), KernelReject> {
    let mut sink = Sink {
        all: false,
        limit: 1,
        faults: Vec::new(),
        fast_path: false,
    };
    match run(data, base, p, &mut sink).into_iter().next() {
        Some(r) => Err(r),
        None => Ok(()),
    }
}

/// Every violation [`check_bytes`] can tell, at most `limit` (and at most
/// [`limits::MAX_REPORTS`]); empty when the kernel would accept the blob.
///
/// The first is the kernel's verdict. The others are what the kernel would
/// report once the earlier ones were fixed, as far as that can be told
/// without fixing them: records after a bad one are still checked on their
/// own, and the resolve pass goes on with the next type after a failure
/// (a later report can be a consequence of an earlier one). Header and
/// section faults stop the check, as nothing after them can be read.
pub fn check_bytes_all(
    data: &[u8],
    base: Option<&Btf<'_>>,
    p: &KernelProfile,
    limit: usize,
) -> Vec<KernelReject> {
    let mut sink = Sink {
        all: true,
        limit: limit.clamp(1, limits::MAX_REPORTS),
        faults: Vec::new(),
        fast_path: false,
    };
    run(data, base, p, &mut sink)
}

/// Whether [`check_bytes`] of `data` accepts it with the resolve pass's
/// fast path answering (no walk ran); for `btf_core::testing`.
pub(crate) fn accepted_by_fast_path(
    data: &[u8],
    base: Option<&Btf<'_>>,
    p: &KernelProfile,
) -> bool {
    let mut sink = Sink {
        all: false,
        limit: 1,
        faults: Vec::new(),
        fast_path: false,
    };
    run(data, base, p, &mut sink).is_empty() && sink.fast_path
}

impl Btf<'_> {
    /// Whether the kernel of profile `p` would load this blob (on its base,
    /// if split) with `BPF_BTF_LOAD`; see [`kernel_check`](crate::kernel_check).
    ///
    /// ```
    /// use btf_core::kernel_check::KernelProfile;
    /// let blob = btf_core::testing::tiny_blob();
    /// let btf = btf_core::Btf::parse(&blob)?;
    /// assert!(btf.check_as_kernel(&KernelProfile::new(6, 18)).is_ok());
    /// # Ok::<(), btf_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The [`KernelReject`] of the kernel's first failing check.
    pub fn check_as_kernel(&self, p: &KernelProfile) -> Result<(), KernelReject> {
        check_bytes(self.bytes(), self.base(), p)
    }

    /// Every violation, at most `limit`; see [`check_bytes_all`].
    pub fn check_as_kernel_all(&self, p: &KernelProfile, limit: usize) -> Vec<KernelReject> {
        check_bytes_all(self.bytes(), self.base(), p, limit)
    }
}
