//! The resolve pass's fast path: the whole blob in one sweep in id order,
//! over a 4-byte [`Slot`] per type, for a blob the kernel's walk would
//! resolve without a fault.
//!
//! It answers only "the walk reports nothing". It does what the walk
//! ([`super::Env`]) does, in the walk's order: every type in id order, a
//! FUNC_PROTO's return and parameter types when it is checked, and where
//! the walk pushes a type (not resolved, not a sink of the walk's mode),
//! that type first, depth-first, in the mode the push sets. The sweep
//! steps over the kinds the walk does nothing for, a 64-bit word of the
//! meta pass's bits at a time ([`Sweep`]). The one exception is a FUNC
//! root, whose resolution pushes nothing and reads only its prototype:
//! every FUNC is tested after the sweep, its prototype checked by then
//! when it comes before the FUNC (see [`Fast::proto_fails`]). Anything
//! else gives
//! up: a fault of any kind, a push the walk would refuse (a loop, or a
//! stack of [`MAX_RESOLVE_DEPTH`] full), the last-resolved-ptr push, a
//! base, a fault reported before the pass, a value that does not fit a
//! slot, a FUNC before its prototype. The walk then runs from the start
//! and reports as the kernel does.
//!
//! So when the fast path finishes, the walk would have pushed the same
//! types in the same order and modes (FUNCs aside, which push nothing
//! and which nothing reads before the walk would have resolved them but
//! through [`Fast::need`]), seen the same resolved ids and sizes, run the
//! same per-member, per-entry and per-parameter checks on them, and found
//! nothing; the one place the fast path checks more (the size of a
//! DATASEC entry whose VAR was pushed) can only make it give up. The
//! common cases take shortcuts that do exactly what the general code
//! would, without its calls: a member whose type needs nothing pushed
//! ([`Fast::member_quick`]), a PTR or modifier root whose target needs
//! nothing pushed ([`Fast::ptr_to_sink`], [`Fast::ref_root_direct`]), a
//! struct root ([`Fast::struct_root`]).

use super::super::limits::MAX_NAME_OFFSET;
use super::{
    MAX_RESOLVE_DEPTH, Mode, enum_kflag_member, has_size, int_is_regular, int_kflag_member,
    int_member, is_modifier, is_struct, needs_resolve, nosize, source_only,
};
use core::marker::PhantomData;

use crate::endian::{Be, Endian, Le, Order};
use crate::id::Kind;
use crate::kernel_check::reject::{Errno, Rule};
use crate::kernel_check::{Ctx, Fault, Rec, Sink};
use crate::record::{COMMON, Info, IntWord, MemberOffset};
use crate::walk;
use crate::wire::{BtfMember, BtfParam, BtfVarSecinfo};
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// The low 5 bits: the type's kind, or [`ODD`].
const KIND: u32 = 0x1f;
/// In place of the kind: a kind or a value that does not fit; the fast
/// path gives up on the blob.
const ODD: u32 = KIND;
/// Resolved (by the fast path), as the walk would have it.
const READY: u32 = 1 << 5;
/// A return or parameter type that needs nothing more: not source-only,
/// resolved or never resolved, with a size (`btf_type_id_size`).
const SIZED: u32 = 1 << 6;
/// For a FUNC_PROTO: checked, every parameter with a type named. For the
/// kinds that are resolved: on the walk's stack (`VISITED`).
const NAMED: u32 = 1 << 7;
const VISITED: u32 = 1 << 7;
/// The kinds with [`SIZED`] from the start: INT, ENUM, FLOAT, ENUM64.
const SIZED_KINDS: u32 = kinds(&[Kind::INT, Kind::ENUM, Kind::FLOAT, Kind::ENUM64]);
/// The payload: bits 8 to 31.
const SHIFT: u32 = 8;
const PAYLOAD_MAX: u32 = (1 << 24) - 1;

/// The set of kinds `ks`, one bit per kind.
#[allow(clippy::indexing_slicing)] // evaluated at compile time
const fn kinds(ks: &[Kind]) -> u32 {
    let mut bits = 0;
    let mut i = 0;
    while i < ks.len() {
        bits |= 1 << ks[i].get();
        i += 1;
    }
    bits
}
/// The modifiers (TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG).
const MODIFIERS: u32 = kinds(&[
    Kind::TYPEDEF,
    Kind::VOLATILE,
    Kind::CONST,
    Kind::RESTRICT,
    Kind::TYPE_TAG,
]);
/// The kinds the walk pushes, when not resolved, in the struct-or-array
/// mode (the mode of every member's and element's type).
const PUSHED_IN_AGGREGATE: u32 = MODIFIERS | kinds(&[Kind::ARRAY, Kind::STRUCT, Kind::UNION]);
/// The kinds no mode of the walk pushes: void, the sized kinds with no
/// reference (INT, ENUM, FLOAT, ENUM64), FWD and FUNC_PROTO.
const NEVER_PUSHED: u32 = kinds(&[
    Kind::VOID,
    Kind::INT,
    Kind::ENUM,
    Kind::FWD,
    Kind::FUNC_PROTO,
    Kind::FLOAT,
    Kind::ENUM64,
]);
/// The sized kinds whose `check_member` [`Fast::member_quick`] does: INT,
/// and the kinds checked by `btf_generic_check_member`.
const QUICK_MEMBER: u32 = kinds(&[
    Kind::INT,
    Kind::PTR,
    Kind::ARRAY,
    Kind::STRUCT,
    Kind::UNION,
    Kind::ENUM,
    Kind::ENUM64,
]);

/// What the resolve pass's fast path keeps of a type: 4 bytes, so that a
/// member's or a parameter's type costs one small random read (on
/// vmlinux, 0.5 MB of slots against 3 MB of records).
///
/// The low byte holds the kind and the flags; the 24-bit payload is, for
/// an INT, its bit count, bit offset and size (a byte each); for an ARRAY,
/// its resolved size (0 until resolved, as the walk reads it); for a PTR,
/// modifier, VAR, FUNC or DECL_TAG, once resolved, the id it resolved to;
/// otherwise the record's `size_or_type`.
#[derive(Clone, Copy)]
pub(crate) struct Slot(u32);

impl Slot {
    /// The slot of record `t`, not resolved.
    #[inline]
    pub(crate) fn of(t: Rec<'_>) -> Slot {
        let word = if t.kind() == Kind::INT.get() {
            t.int_word()
        } else {
            0
        };
        Slot::from_parts(u32::from(t.kind()), t.st(), word)
    }

    /// The slot, not resolved, of a record of 7-bit kind `kind` with
    /// `size_or_type` `st` and, for an INT, the encoding word `int_word`.
    #[inline(always)]
    pub(crate) fn from_parts(kind: u32, st: u32, int_word: u32) -> Slot {
        if kind == u32::from(Kind::INT.get()) {
            let word = IntWord::decode(int_word);
            // Past a byte of size: PAYLOAD_MAX + 1, which is ODD below.
            let size = st.min(0x100);
            let payload = u32::from(word.bits) | u32::from(word.offset) << 8 | size << 16;
            Slot::unsized_parts(kind, payload)
        } else {
            Slot::unsized_parts(kind, st)
        }
    }

    /// The slot, not resolved, of a record of 7-bit kind `kind` but INT
    /// with `size_or_type` `st` (or, for an INT, `st` its payload).
    #[inline(always)]
    pub(crate) fn unsized_parts(kind: u32, st: u32) -> Slot {
        /// The low byte of each 7-bit kind's slot: the kind, with
        /// [`SIZED`] for [`SIZED_KINDS`]; [`ODD`] past the 5 bits.
        #[allow(clippy::indexing_slicing)] // evaluated at compile time, k < 31
        const LOW: [u8; 128] = {
            let mut low = [ODD as u8; 128];
            let mut k = 0;
            while k < ODD {
                low[k as usize] = (k | (SIZED_KINDS >> k & 1) << 6) as u8;
                k += 1;
            }
            low
        };
        // A 7-bit kind indexes the table.
        let low = LOW
            .get((kind & 0x7f) as usize)
            .copied()
            .unwrap_or(ODD as u8);
        let slot = u32::from(low) | st << SHIFT;
        Slot(if st > PAYLOAD_MAX { ODD } else { slot })
    }

    /// void (id 0).
    pub(crate) const VOID: Slot = Slot(0);

    /// 1 when the fast path's sweep visits a type of this slot's kind
    /// ([`Sweep::visit`]), else 0. The kind bits never change once the
    /// meta pass wrote the slot.
    #[inline(always)]
    pub(crate) fn visit_bit(self) -> u64 {
        u64::from(IN_ORDER >> (self.0 & KIND) & 1)
    }

    /// 1 for a FUNC's slot ([`Sweep::funcs`]), else 0.
    #[inline(always)]
    pub(crate) fn func_bit(self) -> u64 {
        u64::from(self.0 & KIND == FUNC)
    }

    /// The slot's word, for tests that compare slots.
    #[cfg(test)]
    pub(crate) fn word(self) -> u32 {
        self.0
    }

    #[inline(always)]
    fn kind(self) -> Kind {
        Kind::new((self.0 & KIND) as u8)
    }
    #[inline(always)]
    fn ready(self) -> bool {
        self.0 & READY != 0
    }
    #[inline(always)]
    fn payload(self) -> u32 {
        self.0 >> SHIFT
    }
    /// The same kind, resolved, with `payload`; [`SIZED`] when `sized`.
    #[inline(always)]
    fn resolved(self, payload: u32, sized: bool) -> Option<Slot> {
        let sized = if sized { SIZED } else { 0 };
        (payload <= PAYLOAD_MAX).then_some(Slot(self.0 & KIND | READY | sized | payload << SHIFT))
    }
}

/// What the meta pass notes, a bit per type, for the fast path's sweep:
/// which types it visits and which are FUNCs, so that the sweep steps
/// over the others a 64-bit word at a time and does not branch on the
/// mix of FUNCs and prototypes that fills real BTF. Word `w` holds the
/// own types `first + 64 * w` to `first + 63 + 64 * w`, the first in its
/// lowest bit (`first` is 1 for the base blobs the fast path runs on).
#[derive(Default)]
pub(crate) struct Sweep {
    /// The types whose kind the sweep visits ([`IN_ORDER`]).
    pub(crate) visit: alloc::vec::Vec<u64>,
    /// The FUNCs.
    pub(crate) funcs: alloc::vec::Vec<u64>,
    /// Whether the words cover every registered type and no other.
    pub(crate) complete: bool,
}

/// The sized type a type stands for (`btf_type_id_size`): its kind, id,
/// size, and for an INT its data word (bit count and offset).
#[derive(Clone, Copy)]
struct Sized {
    kind: Kind,
    id: u32,
    size: u32,
    data: u32,
}

/// The fast path's state, its records read in byte order `O`.
struct Fast<'c, 'a, 'p, O> {
    ctx: &'c Ctx<'a, 'p>,
    slots: &'c mut [Slot],
    /// The walk's mode for the type being resolved.
    mode: Mode,
    order: PhantomData<O>,
}

impl<'a, O: Order> Fast<'_, 'a, '_, O> {
    /// The slot of `id` (void's for 0); `None` when there is no such
    /// type.
    #[inline(always)]
    fn slot(&self, id: u32) -> Option<Slot> {
        self.slots.get(id as usize).copied()
    }

    #[inline(always)]
    fn set(&mut self, id: u32, s: Slot) {
        if let Some(d) = self.slot_mut(id) {
            *d = s;
        }
    }

    /// The slot of own type `id`; `None` for void and past the last type.
    #[inline(always)]
    fn slot_mut(&mut self, id: u32) -> Option<&mut Slot> {
        self.slots.get_mut(id as usize).filter(|_| id != 0)
    }

    /// The record of own type `id`.
    #[inline(always)]
    fn rec(&self, id: u32) -> Option<Rec<'a>> {
        self.ctx.own(id.checked_sub(1)? as usize)
    }

    /// The `info` word and elements of own record `id` (1-based), read as
    /// `E`s: its `vlen` of them, right after the record's common part (no
    /// decoded head, no end looked up: the meta pass passed the record,
    /// so they are its own); `None` when the type section does not hold
    /// them.
    #[inline(always)]
    fn own_elements<E: FromBytes + KnownLayout + Immutable>(
        &self,
        id: u32,
    ) -> Option<(Info, &'a [E])> {
        let start = *self.ctx.offs.get(id.wrapping_sub(1) as usize)? as usize;
        let (head, tail) = self.ctx.types.get(start..)?.split_first_chunk::<COMMON>()?;
        let info = Info::new(walk::word::<O>(head, 4));
        <[E]>::ref_from_prefix_with_elems(tail, info.vlen() as usize)
            .ok()
            .map(|(e, _)| (info, e))
    }

    /// `env_type_is_resolve_sink` in the current mode.
    #[inline(always)]
    fn is_sink(&self, k: Kind) -> bool {
        match self.mode {
            Mode::Tbd => !needs_resolve(k),
            Mode::Ptr => !is_modifier(k) && k != Kind::PTR,
            Mode::StructOrArray => !is_modifier(k) && k != Kind::ARRAY && !is_struct(k),
        }
    }

    /// `btf_resolved_type_id` of `id` (slot `s`).
    #[inline(always)]
    fn resolved_id(s: Slot) -> u32 {
        match s.kind() {
            Kind::VOID
            | Kind::INT
            | Kind::STRUCT
            | Kind::UNION
            | Kind::FUNC_PROTO
            | Kind::ARRAY
            | Kind::ENUM
            | Kind::ENUM64
            | Kind::FLOAT
            | Kind::DATASEC
            | Kind::FWD => 0,
            _ if s.ready() => s.payload(),
            _ => 0,
        }
    }

    /// The size of a type that has one without resolving.
    #[inline(always)]
    fn direct(&self, id: u32, s: Slot) -> Option<Sized> {
        let k = s.kind();
        let p = s.payload();
        let (size, data) = match k {
            Kind::INT => (p >> 16, p & 0xff | (p & 0xff00) << 8),
            Kind::PTR => (self.ctx.p.pointer_size, 0),
            k if has_size(k) || k == Kind::ARRAY => (p, 0),
            _ => return None,
        };
        Some(Sized {
            kind: k,
            id,
            size,
            data,
        })
    }

    /// `btf_type_id_size` of `id` (slot `s`).
    #[inline(always)]
    fn sized(&self, id: u32, s: Slot) -> Option<Sized> {
        let k = s.kind();
        if nosize(k) {
            return None;
        }
        if let Some(d) = self.direct(id, s) {
            return Some(d);
        }
        if !is_modifier(k) && k != Kind::VAR {
            return None;
        }
        // Not resolved: resolved to 0, void, which has no size.
        let rid = Self::resolved_id(s);
        let rs = self.slot(rid)?;
        if nosize(rs.kind()) {
            return None;
        }
        self.direct(rid, rs)
    }

    /// `id` (slot `s`), resolved first where the walk would push it onto
    /// its stack, which holds `depth` types; `None` to give up (the push
    /// would fail: a loop, or the stack full).
    #[inline(always)]
    fn need(&mut self, id: u32, s: Slot, depth: usize) -> Option<Slot> {
        if s.ready() || self.is_sink(s.kind()) {
            return Some(s);
        }
        if s.0 & VISITED != 0 || id == 0 || depth >= MAX_RESOLVE_DEPTH {
            return None;
        }
        self.push(id, s);
        if !self.resolve_one(id, s, depth + 1) {
            return None;
        }
        self.slot(id)
    }

    /// `env_stack_push` of `id` (slot `s`, not on the stack): the mode it
    /// sets, and the type marked.
    #[inline(always)]
    fn push(&mut self, id: u32, s: Slot) {
        self.push_mode(s.kind());
        self.set(id, Slot(s.0 | VISITED));
    }

    /// The mode `env_stack_push` sets.
    #[inline(always)]
    fn push_mode(&mut self, k: Kind) {
        if self.mode == Mode::Tbd {
            if k == Kind::PTR {
                self.mode = Mode::Ptr;
            } else if is_struct(k) || k == Kind::ARRAY {
                self.mode = Mode::StructOrArray;
            }
        }
    }

    /// A PTR root (slot `s`, not resolved) whose target the walk neither
    /// pushes nor follows: void, or a kind that is a sink in the PTR mode
    /// and is sized there or needs no size (INT, ARRAY, STRUCT, UNION,
    /// ENUM, FWD, FUNC_PROTO, FLOAT, ENUM64). What [`Fast::resolve_root`]
    /// would make of it (resolved to the target, with a size, and valid),
    /// without its calls; `None` for any other target.
    #[inline(always)]
    fn ptr_to_sink(&self, s: Slot) -> Option<Slot> {
        const DIRECT: u32 = NEVER_PUSHED | kinds(&[Kind::ARRAY, Kind::STRUCT, Kind::UNION]);
        let target = s.payload();
        let t = self.slot(target)?;
        // Kind 0 is void's alone: a record of kind 0 is a meta fault, and
        // the fast path does not run after one.
        if DIRECT >> (t.0 & KIND) & 1 == 0 {
            return None;
        }
        s.resolved(target, true)
    }

    /// A PTR or modifier root (slot `s`, not resolved) whose target the
    /// walk does not push in either mode the root may set: resolved, or a
    /// kind never pushed (void, INT, ENUM, FWD, FUNC_PROTO, FLOAT,
    /// ENUM64). What [`Fast::resolve_root`] would make of it (the target,
    /// or what a resolved modifier target resolved to, with a size or
    /// without; valid), without its calls; `None` when that is not so
    /// simple, which [`Fast::resolve_root`] then decides.
    #[inline(always)]
    fn ref_root_direct(&self, s: Slot) -> Option<Slot> {
        // What `btf_type_id_size` gives a size: the kinds a member may
        // have (`QUICK_MEMBER`) and FLOAT.
        const SIZED_TARGETS: u32 = QUICK_MEMBER | kinds(&[Kind::FLOAT]);
        const UNSIZED_TARGETS: u32 = kinds(&[Kind::VOID, Kind::FWD, Kind::FUNC_PROTO]);
        let target = s.payload();
        let t = self.slot(target)?;
        let tk = t.0 & KIND;
        if NEVER_PUSHED >> tk & 1 == 0 && !t.ready() {
            return None;
        }
        // A resolved modifier stands for what it resolved to (never a
        // modifier); for a PTR root, the walk pushes that when it is a PTR
        // not resolved (the last-resolved-ptr case): not here.
        let via_modifier = MODIFIERS >> tk & 1 != 0;
        let (rid, r) = if via_modifier {
            let rid = t.payload();
            (rid, self.slot(rid)?)
        } else {
            (target, t)
        };
        let rk = r.0 & KIND;
        if via_modifier && rk == u32::from(Kind::PTR.get()) && !r.ready() {
            return None;
        }
        if SIZED_TARGETS >> rk & 1 != 0 {
            s.resolved(rid, true)
        } else if UNSIZED_TARGETS >> rk & 1 != 0 && (rk != 0 || rid == 0) {
            s.resolved(rid, false)
        } else {
            None
        }
    }

    /// Root `id` (slot `s`, not resolved) as a shortcut resolved it
    /// (`r`), or, where none did, by [`Fast::resolve_root`].
    #[inline(always)]
    fn set_or_resolve(&mut self, id: u32, s: Slot, r: Option<Slot>) -> bool {
        match r {
            Some(r) => {
                self.set(id, r);
                true
            }
            None => self.resolve_root(id, s),
        }
    }

    /// `btf_resolve` of `id` (slot `s`, not resolved), then
    /// `btf_resolve_valid`.
    fn resolve_root(&mut self, id: u32, s: Slot) -> bool {
        self.mode = Mode::Tbd;
        self.push(id, s);
        if !self.resolve_one(id, s, 1) {
            return false;
        }
        let Some(r) = self.slot(id) else {
            return false;
        };
        let k = r.kind();
        if is_modifier(k) || k == Kind::PTR || k == Kind::VAR {
            return self.slot(r.payload()).is_some_and(|t| {
                let k = t.kind();
                !is_modifier(k) && k != Kind::VAR && k != Kind::DATASEC
            });
        }
        if k == Kind::DECL_TAG || k == Kind::FUNC {
            return r.payload() != 0;
        }
        // STRUCT, UNION, DATASEC resolve to nothing; an ARRAY to the size
        // its check computed.
        true
    }

    /// [`Fast::resolve_root`] of STRUCT or UNION `id` (slot `s`, not
    /// resolved), without the dispatch: pushed (which sets the
    /// struct-or-array mode), its members checked, resolved with its size
    /// (and valid, as every struct is).
    fn struct_root(&mut self, id: u32, s: Slot) -> bool {
        self.mode = Mode::StructOrArray;
        self.set(id, Slot(s.0 | VISITED));
        let Some((info, members)) = self.own_elements::<BtfMember>(id) else {
            return false;
        };
        if !self.members_ok(s.payload(), info.kflag(), members, 1) {
            return false;
        }
        match s.resolved(s.payload(), true) {
            Some(r) => {
                self.set(id, r);
                true
            }
            None => false,
        }
    }

    /// Each kind's `resolve` for `id` (slot `s`), on top of the walk's
    /// stack of `depth` types; then resolved.
    fn resolve_one(&mut self, id: u32, s: Slot, depth: usize) -> bool {
        // Not resolved: the payload is the record's `size_or_type`.
        let st = s.payload();
        // (payload, whether it has a size)
        let done = match s.kind() {
            k if is_modifier(k) => self.resolve_ref(st, false, depth),
            Kind::PTR => self.resolve_ref(st, true, depth).map(|(p, _)| (p, true)),
            Kind::VAR => self.resolve_var(st, depth).map(|p| (p, false)),
            Kind::FUNC => self.func_ok(st).then_some((st, false)),
            k => {
                let Some(t) = self.rec(id) else {
                    return false;
                };
                match k {
                    Kind::ARRAY => self.resolve_array(t, depth).map(|p| (p, true)),
                    Kind::STRUCT | Kind::UNION => {
                        self.resolve_struct(t, depth).then_some((st, true))
                    }
                    Kind::DATASEC => self.resolve_datasec(t, depth).then_some((st, false)),
                    Kind::DECL_TAG => self.resolve_decl_tag(t, depth).map(|p| (p, false)),
                    _ => None,
                }
            }
        };
        match done.and_then(|(p, sized)| s.resolved(p, sized)) {
            Some(r) => {
                self.set(id, r);
                true
            }
            None => false,
        }
    }

    /// The last-resolved-ptr case: a modifier `next` resolved to a PTR
    /// the walk would push. `false` to give up.
    #[inline(always)]
    fn resolved_ptr_ok(&self, next: Slot) -> bool {
        if !is_modifier(next.kind()) {
            return true;
        }
        match self.slot(Self::resolved_id(next)) {
            Some(r) => !(r.kind() == Kind::PTR && !self.is_sink(Kind::PTR) && !r.ready()),
            None => true,
        }
    }

    /// `btf_modifier_resolve` and `btf_ptr_resolve`: the id resolved to,
    /// and whether that has a size.
    fn resolve_ref(&mut self, st: u32, ptr: bool, depth: usize) -> Option<(u32, bool)> {
        let mut next_id = st;
        let next = self.slot(next_id).filter(|n| !source_only(n.kind()))?;
        let mut next = self.need(next_id, next, depth)?;
        if ptr && !self.resolved_ptr_ok(next) {
            return None;
        }
        match self.sized(next_id, next) {
            Some(sz) => return Some((sz.id, true)),
            None => {
                if next.ready() {
                    next_id = Self::resolved_id(next);
                    next = self.slot(next_id)?;
                }
                let k = next.kind();
                let void = next_id == 0 && k == Kind::VOID;
                if !void && k != Kind::FWD && k != Kind::FUNC_PROTO {
                    return None;
                }
            }
        }
        Some((next_id, false))
    }

    /// `btf_var_resolve`: the id resolved to.
    fn resolve_var(&mut self, st: u32, depth: usize) -> Option<u32> {
        let next_id = st;
        let next = self.slot(next_id).filter(|n| !source_only(n.kind()))?;
        let next = self.need(next_id, next, depth)?;
        if !self.resolved_ptr_ok(next) {
            return None;
        }
        Some(self.sized(next_id, next)?.id)
    }

    /// `btf_array_resolve`: the resolved size.
    fn resolve_array(&mut self, t: Rec<'_>, depth: usize) -> Option<u32> {
        let (elem_id, index_id, nelems) = t.array();
        let index = self
            .slot(index_id)
            .filter(|i| !nosize(i.kind()) && !source_only(i.kind()))?;
        let index = self.need(index_id, index, depth)?;
        match self.sized(index_id, index) {
            Some(it) if it.kind == Kind::INT && int_is_regular(it.data) => {}
            _ => return None,
        }
        let elem = self
            .slot(elem_id)
            .filter(|e| !nosize(e.kind()) && !source_only(e.kind()))?;
        let elem = self.need(elem_id, elem, depth)?;
        let et = self.sized(elem_id, elem)?;
        if et.kind == Kind::INT && !int_is_regular(et.data) {
            return None;
        }
        if nelems != 0 && et.size > u32::MAX / nelems {
            return None;
        }
        Some(et.size.wrapping_mul(nelems))
    }

    /// `btf_struct_resolve`, every member checked.
    fn resolve_struct(&mut self, t: Rec<'_>, depth: usize) -> bool {
        let vlen = t.vlen() as usize;
        let members = t.elements::<BtfMember>(vlen);
        members.len() == vlen && self.members_ok(t.st(), t.kflag(), members, depth)
    }

    /// Every member of an aggregate of `size` bytes (with the kind flag
    /// `kflag`) checked as `btf_struct_resolve` does, on top of a stack
    /// of `depth` types.
    #[inline(always)]
    fn members_ok(&mut self, size: u32, kflag: bool, members: &[BtfMember], depth: usize) -> bool {
        for m in members {
            let (mt_id, raw) = (m.type_.get_in::<O>(), m.offset.get_in::<O>());
            if !kflag && self.member_quick(size, mt_id, raw) {
                continue;
            }
            let Some(mt) = self
                .slot(mt_id)
                .filter(|m| !nosize(m.kind()) && !source_only(m.kind()))
            else {
                return false;
            };
            let Some(mt) = self.need(mt_id, mt, depth) else {
                return false;
            };
            if !self.member_ok(size, kflag, raw, mt_id, mt) {
                return false;
            }
        }
        true
    }

    /// Whether a member of type `mt_id` at bit offset `bits_off` (of an
    /// aggregate of `struct_size` bytes without the kind flag) needs
    /// nothing pushed and passes its `check_member`, as
    /// [`Fast::need`] and [`Fast::member_ok`] would find, for the common
    /// cases only: a member type resolved or a sink, its sized type an
    /// INT or a kind `btf_generic_check_member` checks. `false` says
    /// nothing (those two then decide); it changes no state.
    #[inline(always)]
    fn member_quick(&self, struct_size: u32, mt_id: u32, bits_off: u32) -> bool {
        // Read whatever the member's kind (see below).
        let pointer_size = self.ctx.p.pointer_size;
        let Some(s) = self.slot(mt_id) else {
            return false;
        };
        // Resolved, or of a kind not pushed: the kind and READY bits
        // index one mask.
        const NOT_PUSHED: u64 = !(PUSHED_IN_AGGREGATE as u64) & 0xffff_ffff | 0xffff_ffff << 32;
        const _: () = assert!(READY == 1 << 5);
        if NOT_PUSHED >> (s.0 & (KIND | READY)) & 1 == 0 {
            return false;
        }
        let k = s.0 & KIND;
        // A modifier (resolved) stands for the type it resolved to;
        // `btf_type_id_size` sizes that.
        let sized_id = if MODIFIERS >> k & 1 != 0 {
            s.payload()
        } else {
            mt_id
        };
        let Some(t) = self.slot(sized_id) else {
            return false;
        };
        let tk = t.0 & KIND;
        if QUICK_MEMBER >> tk & 1 == 0 {
            return false;
        }
        let p = t.payload();
        // Both rules are worked out and the kind picks one.
        // `btf_int_check_member`: bit count, bit offset and size are the
        // payload's three bytes; the sum of the offsets must not pass 32
        // bits.
        let off = u64::from(bits_off) + u64::from(p >> 8 & 0xff);
        let nr_copy = (p & 0xff) + (off as u32 & 7);
        let int_ok = (off >> 32 == 0)
            & (nr_copy <= 128)
            & (off / 8 + u64::from(nr_copy.div_ceil(8)) <= u64::from(struct_size));
        // `btf_generic_check_member`, in the kernel's u32 arithmetic. The
        // size and the rule are picked by masks, not branches: members'
        // kinds follow no pattern (a branch the compiler made of a select
        // here mispredicted on a quarter of them).
        let ptr = u32::from(tk == u32::from(Kind::PTR.get())).wrapping_neg();
        let size = p & !ptr | pointer_size & ptr;
        let generic_ok =
            bits_off.is_multiple_of(8) & (struct_size.wrapping_sub(bits_off / 8) >= size);
        let int = tk == u32::from(Kind::INT.get());
        int_ok & int | generic_ok & !int
    }

    /// Each kind's `check_member` / `check_kflag_member`, as
    /// [`super::Env::check_member`] does them, without the fault.
    #[inline(always)]
    fn member_ok(&self, struct_size: u32, kflag: bool, raw: u32, mt_id: u32, mt: Slot) -> bool {
        // A modifier is checked as the sized type it resolves to; any
        // other type stands for itself.
        let Some(m) = self.sized(mt_id, mt) else {
            return false;
        };
        let f = |_| Fault::new(Rule::InvalidMember, Errno::Inval, None, 0);
        if kflag {
            match m.kind {
                Kind::INT => return int_kflag_member(m.data, raw, struct_size, f).is_ok(),
                Kind::ENUM | Kind::ENUM64 => return enum_kflag_member(raw, struct_size, f).is_ok(),
                Kind::PTR | Kind::ARRAY | Kind::STRUCT | Kind::UNION | Kind::FLOAT => {
                    if MemberOffset::decode(raw, true).bitfield_size != 0 {
                        return false;
                    }
                }
                _ => return false,
            }
        }
        let bits_off = MemberOffset::decode(raw, kflag).bit_offset;
        match m.kind {
            Kind::INT => int_member(m.data, bits_off, struct_size, f).is_ok(),
            Kind::PTR | Kind::ARRAY | Kind::STRUCT | Kind::UNION | Kind::ENUM | Kind::ENUM64 => {
                bits_off.is_multiple_of(8) && struct_size.wrapping_sub(bits_off / 8) >= m.size
            }
            Kind::FLOAT => {
                let align_bits = u64::from(m.size.min(8)) * 8;
                align_bits != 0
                    && u64::from(bits_off) % align_bits == 0
                    && u64::from(bits_off / 8) + u64::from(m.size) <= u64::from(struct_size)
            }
            _ => false,
        }
    }

    /// `btf_datasec_resolve`, every entry checked.
    fn resolve_datasec(&mut self, t: Rec<'_>, depth: usize) -> bool {
        let vlen = t.vlen() as usize;
        let entries = t.elements::<BtfVarSecinfo>(vlen);
        if entries.len() != vlen {
            return false;
        }
        for e in entries {
            let (var_id, size) = (e.type_.get(t.e), e.size.get(t.e));
            let Some(var) = self.slot(var_id).filter(|v| v.kind() == Kind::VAR) else {
                return false;
            };
            if self.need(var_id, var, depth).is_none() {
                return false;
            }
            // The VAR's own type (the walk skips this for a VAR it
            // pushed; checking it anyway only gives up more often).
            let Some(var_ty) = self.rec(var_id).map(|v| v.st()) else {
                return false;
            };
            let Some(vt) = self.slot(var_ty).and_then(|s| self.sized(var_ty, s)) else {
                return false;
            };
            if size < vt.size {
                return false;
            }
        }
        true
    }

    /// `btf_func_check` of a FUNC of type `proto_id`: a FUNC_PROTO whose
    /// parameters are named.
    #[inline(always)]
    fn func_ok(&self, proto_id: u32) -> bool {
        match self.slot(proto_id) {
            Some(p) if p.kind() == Kind::FUNC_PROTO => {
                p.0 & NAMED != 0
                    || self
                        .rec(proto_id)
                        .is_some_and(|p| super::first_unnamed_param(p) == 0)
            }
            _ => false,
        }
    }

    /// `btf_decl_tag_resolve`: the id resolved to (the target).
    fn resolve_decl_tag(&mut self, t: Rec<'_>, depth: usize) -> Option<u32> {
        let next_id = t.st();
        let target = |k: Kind| {
            matches!(
                k,
                Kind::FUNC | Kind::STRUCT | Kind::UNION | Kind::VAR | Kind::TYPEDEF
            )
        };
        let next = self.slot(next_id).filter(|n| target(n.kind()))?;
        let next = self.need(next_id, next, depth)?;
        let idx = t.component_idx();
        if idx != -1 {
            let k = next.kind();
            let vlen = if is_struct(k) {
                self.rec(next_id)?.vlen()
            } else if k == Kind::FUNC {
                let proto = self.rec(next_id)?.st();
                match self.slot(proto) {
                    Some(p) if p.kind() == Kind::FUNC_PROTO => self.rec(proto)?.vlen(),
                    _ => return None,
                }
            } else {
                return None;
            };
            if idx as u32 >= vlen {
                return None;
            }
        }
        Some(next_id)
    }

    /// `btf_func_proto_check` of FUNC_PROTO `id`; marks it [`NAMED`] when
    /// every parameter with a type has a name.
    fn proto_ok(&mut self, id: u32, s: Slot) -> bool {
        let Some((_, params)) = self.own_elements::<BtfParam>(id) else {
            return false;
        };
        let no_source_only = self.ctx.no_source_only;
        // The return type: the record's `size_or_type`, the payload (void,
        // slot 0, when none). Read without a branch on it: about a third
        // of vmlinux's prototypes return void.
        let ret_id = s.payload();
        let Some(ret) = self.slot(ret_id) else {
            return false;
        };
        let mut params = params;
        if let Some((last, rest)) = params.split_last()
            && last.type_.get_in::<O>() == 0
        {
            if last.name_off.get_in::<O>() != 0 {
                return false;
            }
            params = rest;
        }
        // Most prototypes: the return type and every parameter's type need
        // nothing more (a type with SIZED is never source-only) and every
        // name is a known identifier (or none), told without a branch per
        // parameter so that the reads overlap.
        let mut simple = (ret_id == 0) | (ret.0 & SIZED != 0);
        let mut named = true;
        for p in params {
            let (name, ty) = (p.name_off.get_in::<O>(), p.type_.get_in::<O>());
            let sized = self.slot(ty).is_some_and(|s| s.0 & SIZED != 0);
            simple &= sized & ((name == 0) | self.known_name(name));
            named &= name != 0;
        }
        if simple {
            if named {
                self.mark_named(id);
            }
            return true;
        }
        // The return type first, then each parameter, as the kernel
        // checks them (resolving what needs it, in that order).
        if ret_id != 0 && ret.0 & SIZED == 0 && !self.sized_param(ret_id, ret, no_source_only) {
            return false;
        }
        let mut named = true;
        for p in params {
            let (name, ty) = (p.name_off.get_in::<O>(), p.type_.get_in::<O>());
            let Some(at) = self.slot(ty) else {
                return false;
            };
            if name == 0 {
                named = false;
            } else if !self.ctx.name_offset_valid(name) || !self.ctx.identifier(name) {
                return false;
            }
            if !self.sized_param(ty, at, no_source_only) {
                return false;
            }
        }
        if named {
            self.mark_named(id);
        }
        true
    }

    /// Non-zero when a FUNC whose type is `proto` fails `btf_func_check`
    /// as far as the fast path can tell, asked after the sweep: `proto` is
    /// not a FUNC_PROTO the sweep checked with every parameter named
    /// ([`NAMED`]). Without a branch. The caller passes [`NO_PROTO`] for a
    /// prototype that does not come before its FUNC (never seen in real
    /// BTF): the walk would find it unchecked, and decides.
    ///
    /// FUNCs are tested apart rather than resolved in id order: a FUNC's
    /// root resolution pushes nothing and reads only its prototype, whose
    /// NAMED bit, once set, stays, so the order does not change the
    /// verdict; and the types that refer to a FUNC read its state only
    /// through [`Fast::need`], which resolves it where the walk would find
    /// it resolved (a DECL_TAG), or give up (a PTR to a FUNC, which the
    /// walk resolves to the prototype).
    #[inline(always)]
    fn proto_fails(&self, proto: u32) -> u32 {
        // Past the last type ([`NO_PROTO`] among them): no prototype (ODD
        // fails the test).
        let p = self.slot(proto).unwrap_or(Slot(ODD));
        (p.0 & (KIND | NAMED)) ^ (PROTO | NAMED)
    }

    /// Marks FUNC_PROTO `id` [`NAMED`].
    #[inline(always)]
    fn mark_named(&mut self, id: u32) {
        if let Some(d) = self.slot_mut(id) {
            d.0 |= NAMED;
        }
    }

    /// A name known to be a valid identifier (`false` also when that is
    /// not known). The blob has no base (its strings start at offset 0)
    /// and at most 16 MiB of strings ([`all_resolve`]), so a string known
    /// to start at `off` has a valid offset.
    #[inline(always)]
    fn known_name(&self, off: u32) -> bool {
        self.ctx.idents.known(off as usize)
    }

    /// A return or parameter type `id` (slot `s`): not source-only where
    /// the profile says so, resolved when it needs it, with a size.
    #[inline(always)]
    fn sized_param(&mut self, id: u32, s: Slot, no_source_only: bool) -> bool {
        if no_source_only && source_only(s.kind()) {
            return false;
        }
        if s.0 & SIZED != 0 {
            return true;
        }
        let s = if needs_resolve(s.kind()) && !s.ready() {
            if !self.resolve_root(id, s) {
                return false;
            }
            match self.slot(id) {
                Some(s) => s,
                None => return false,
            }
        } else {
            s
        };
        self.sized(id, s).is_some()
    }
}

/// Whether the walk ([`super::check_all`]) would report nothing for this
/// blob: `true` only when the fast path resolved every type; `false` when
/// it gave up (the slots are then spent).
pub(super) fn all_resolve(ctx: &Ctx<'_, '_>, slots: &mut [Slot], sink: &Sink) -> bool {
    if ctx.base.is_some() || ctx.first_id != 1 || !sink.faults.is_empty() {
        return false;
    }
    match ctx.p.endian {
        Endian::Little => all_resolve_in::<Le>(ctx, slots),
        Endian::Big => all_resolve_in::<Be>(ctx, slots),
    }
}

/// [`all_resolve`] of a base blob, its records read in order `O`.
#[inline(never)]
fn all_resolve_in<O: Order>(ctx: &Ctx<'_, '_>, slots: &mut [Slot]) -> bool {
    // Past 16 MiB of strings (which the header check refuses) a name
    // found in them could still be out of range: not here.
    if ctx.strings.len() > MAX_NAME_OFFSET as usize + 1 {
        return false;
    }
    let mut f = Fast::<O> {
        ctx,
        slots,
        mode: Mode::Tbd,
        order: PhantomData,
    };
    if !ctx.sweep.complete {
        return false;
    }
    // The types of the kinds the sweep visits, in id order (the meta
    // pass noted them); those a push already resolved are passed. Each
    // word's set bits are taken lowest first, here and for the FUNCs
    // below, in loops written out: an iterator over them measured 3%
    // slower.
    for (first, &word) in (1u32..).step_by(64).zip(&ctx.sweep.visit) {
        let mut bits = word;
        while bits != 0 {
            let id = first + bits.trailing_zeros();
            bits &= bits - 1;
            let Some(s) = f.slot(id) else {
                return false;
            };
            if s.ready() {
                continue;
            }
            // One jump on the kind number.
            let ok = match s.kind() {
                Kind::FUNC_PROTO => f.proto_ok(id, s),
                Kind::STRUCT | Kind::UNION => f.struct_root(id, s),
                Kind::PTR => {
                    let r = f.ptr_to_sink(s).or_else(|| f.ref_root_direct(s));
                    f.set_or_resolve(id, s, r)
                }
                Kind::TYPEDEF | Kind::VOLATILE | Kind::CONST | Kind::RESTRICT | Kind::TYPE_TAG => {
                    let r = f.ref_root_direct(s);
                    f.set_or_resolve(id, s, r)
                }
                Kind::ARRAY | Kind::VAR | Kind::DATASEC | Kind::DECL_TAG => f.resolve_root(id, s),
                // ODD.
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    // Then every FUNC, without a branch on the test: a prototype that
    // comes before its FUNC was checked by then, as when the walk reaches
    // the FUNC (its NAMED bit, once set, stays); one that does not fails.
    let mut bad_func = 0u32;
    for (first, &word) in (1u32..).step_by(64).zip(&ctx.sweep.funcs) {
        let mut bits = word;
        while bits != 0 {
            let id = first + bits.trailing_zeros();
            bits &= bits - 1;
            let p = f.slot(id).map_or(NO_PROTO, |s| s.payload());
            bad_func |= f.proto_fails(if p < id { p } else { NO_PROTO });
        }
    }
    bad_func == 0
}

/// For the FUNC test: a prototype id no type has (the test fails).
const NO_PROTO: u32 = u32::MAX;

/// FUNC's kind number in a slot.
const FUNC: u32 = Kind::FUNC.get() as u32;
/// FUNC_PROTO's.
const PROTO: u32 = Kind::FUNC_PROTO.get() as u32;

/// The kinds [`all_resolve`] visits in id order: those resolved as roots
/// but FUNC, the FUNC_PROTOs it checks, and [`ODD`].
const IN_ORDER: u32 = MODIFIERS
    | kinds(&[
        Kind::PTR,
        Kind::ARRAY,
        Kind::STRUCT,
        Kind::UNION,
        Kind::VAR,
        Kind::DATASEC,
        Kind::DECL_TAG,
        Kind::FUNC_PROTO,
    ])
    | 1 << ODD;

#[cfg(test)]
mod tests {
    use crate::Endian;
    use crate::kernel_check::{Errno, KernelProfile, Loader, Rule, Sink, run};
    use crate::testing::RawBlob;
    use alloc::vec::Vec;

    const INT: u8 = 1;
    const PTR: u8 = 2;
    const ARRAY: u8 = 3;
    const STRUCT: u8 = 4;
    const TYPEDEF: u8 = 8;
    const VOLATILE: u8 = 9;
    const CONST: u8 = 10;
    const FUNC: u8 = 12;
    const PROTO: u8 = 13;

    /// The first fault (rule, errno, id) of `bytes` under the user loader,
    /// and whether the fast path answered.
    fn check(bytes: &[u8]) -> (Option<(Rule, Errno, Option<u32>)>, bool) {
        let p = KernelProfile::new(6, 18)
            .with_endian(Endian::Little)
            .with_loader(Loader::User);
        let mut sink = Sink {
            all: false,
            limit: 1,
            faults: Vec::new(),
            fast_path: false,
        };
        let first = run(bytes, None, &p, &mut sink)
            .first()
            .map(|r| (r.rule, r.errno, r.id));
        (first, sink.fast_path)
    }

    /// Forward references the walk pushes, several deep, in every mode:
    /// the fast path resolves them and answers.
    #[test]
    fn resolves_forward_references() {
        let mut b = RawBlob::new(Endian::Little);
        let (s, m, t, f, x) = (b.str("s"), b.str("m"), b.str("t"), b.str("f"), b.str("x"));
        b.ty(s, STRUCT, false, 1, 8).words(&[m, 2, 0]); // [1] struct s { [2] m; }
        b.ty(s, STRUCT, false, 2, 8).words(&[m, 3, 0, m, 7, 32]); // [2] { t m; int[1] m; }
        b.ty(t, TYPEDEF, false, 0, 4); // [3] typedef [4] t
        b.ty(0, CONST, false, 0, 5); // [4] const [5]
        b.ty(0, INT, false, 0, 4).word(32); // [5] int
        b.ty(0, PTR, false, 0, 1); // [6] struct s * (a sink: not pushed)
        b.ty(0, ARRAY, false, 0, 0).words(&[5, 5, 1]); // [7] int[1]
        b.ty(0, PROTO, false, 1, 0).words(&[x, 9]); // [8] void (const t *x)
        b.ty(0, PTR, false, 0, 10); // [9] ptr to [10]
        b.ty(0, CONST, false, 0, 3); // [10] const t
        b.ty(f, FUNC, false, 0, 8); // [11] f
        assert_eq!(check(&b.build()), (None, true));
    }

    /// A FUNC after its prototype (tested after the sweep) and
    /// before it (the fast path gives up: the walk decides), with the
    /// prototype's parameter named or not; and a PTR to a resolved
    /// TYPEDEF of a PTR (resolved in place).
    #[test]
    fn funcs_either_side_of_their_prototypes() {
        let late = |param_name: bool| {
            let mut b = RawBlob::new(Endian::Little);
            let (f, x) = (b.str("f"), b.str("x"));
            b.ty(f, FUNC, false, 0, 3); // [1] f: [3]
            b.ty(0, INT, false, 0, 4).word(32); // [2] int
            let name = if param_name { x } else { 0 };
            b.ty(0, PROTO, false, 1, 2).words(&[name, 2]); // [3] int (int x)
            check(&b.build())
        };
        assert_eq!(late(true), (None, false));
        assert_eq!(
            late(false),
            (Some((Rule::InvalidArg, Errno::Inval, Some(1))), false)
        );
        let early = |param_name: bool| {
            let mut b = RawBlob::new(Endian::Little);
            let (f, x) = (b.str("f"), b.str("x"));
            b.ty(0, INT, false, 0, 4).word(32); // [1] int
            let name = if param_name { x } else { 0 };
            b.ty(0, PROTO, false, 1, 1).words(&[name, 1]); // [2] int (int x)
            b.ty(f, FUNC, false, 0, 2); // [3] f: [2]
            check(&b.build())
        };
        assert_eq!(early(true), (None, true));
        assert_eq!(
            early(false),
            (Some((Rule::InvalidArg, Errno::Inval, Some(3))), false)
        );
        let mut b = RawBlob::new(Endian::Little);
        let t = b.str("t");
        b.ty(0, INT, false, 0, 4).word(32); // [1] int
        b.ty(0, PTR, false, 0, 1); // [2] int *
        b.ty(t, TYPEDEF, false, 0, 2); // [3] typedef int *t
        b.ty(0, PTR, false, 0, 3); // [4] t *
        b.ty(0, CONST, false, 0, 3); // [5] const t
        assert_eq!(check(&b.build()), (None, true));
    }

    /// The sweep reaches a type at every place in its 64-type words, full
    /// or last and part full: a struct whose member does not fit, or a
    /// FUNC whose prototype leaves a parameter unnamed, placed at each id
    /// around the words' ends, with or without types after it, is found
    /// there (the fast path gives up and the walk reports it); the same
    /// blob with the struct or the prototype made good passes through
    /// the fast path.
    #[test]
    fn the_sweep_reaches_every_place_in_its_words() {
        let ints = |b: &mut RawBlob, n: u32| {
            for _ in 0..n {
                b.ty(0, INT, false, 0, 4).word(32);
            }
        };
        for at in [
            3u32, 62, 63, 64, 65, 66, 127, 128, 129, 130, 191, 192, 193, 200,
        ] {
            for tail in [0, 1, 70] {
                for good in [false, true] {
                    // Found at `at` (by the walk), or passed by the fast
                    // path when good.
                    let found = |bytes: Vec<u8>, rule: Rule, what: &str| {
                        let want = (!good).then_some((rule, Errno::Inval, Some(at)));
                        assert_eq!(check(&bytes), (want, good), "{what} at {at}, {tail} after");
                    };
                    // [1, at) ints; [at] struct { int m; } of 2 bytes (4
                    // when good); then `tail` ints.
                    let mut b = RawBlob::new(Endian::Little);
                    let m = b.str("m");
                    ints(&mut b, at - 1);
                    let size = if good { 4 } else { 2 };
                    b.ty(0, STRUCT, false, 1, size).words(&[m, 1, 0]);
                    ints(&mut b, tail);
                    found(b.build(), Rule::MemberExceeds, "struct");
                    // [1] int; [2] int (int x), x named when good; [3, at)
                    // ints; [at] FUNC f: [2]; then `tail` ints.
                    let mut b = RawBlob::new(Endian::Little);
                    let (f, x) = (b.str("f"), b.str("x"));
                    ints(&mut b, 1);
                    let name = if good { x } else { 0 };
                    b.ty(0, PROTO, false, 1, 1).words(&[name, 1]);
                    ints(&mut b, at - 3);
                    b.ty(f, FUNC, false, 0, 2);
                    ints(&mut b, tail);
                    found(b.build(), Rule::InvalidArg, "FUNC");
                }
            }
        }
    }

    /// A member of each kind `member_quick` judges (INT, PTR, ARRAY,
    /// STRUCT, UNION, ENUM, and a TYPEDEF of INT and of PTR), in a struct
    /// it fits exactly, one byte too small, and at a bit offset not on a
    /// byte: the fitting ones pass through the fast path, the others are
    /// refused (the fast path gives up, the walk reports).
    #[test]
    fn members_of_each_quick_kind_fit_or_not() {
        const UNION: u8 = 5;
        const ENUM: u8 = 6;
        // [1] int (4); [2] int *; [3] int[4] (16); [4] struct { int } (4);
        // [5] union { int } (4); [6] enum (4); [7] typedef int; [8]
        // typedef int *; [9] the struct under test, one member of type
        // `ty` at bit offset `off`, of `size` bytes.
        let blob = |ty: u32, size: u32, off: u32| {
            let mut b = RawBlob::new(Endian::Little);
            let (m, t, e) = (b.str("m"), b.str("t"), b.str("e"));
            b.ty(0, INT, false, 0, 4).word(32);
            b.ty(0, PTR, false, 0, 1);
            b.ty(0, ARRAY, false, 0, 0).words(&[1, 1, 4]);
            b.ty(0, STRUCT, false, 1, 4).words(&[m, 1, 0]);
            b.ty(0, UNION, false, 1, 4).words(&[m, 1, 0]);
            b.ty(0, ENUM, false, 1, 4).words(&[e, 0]);
            b.ty(t, TYPEDEF, false, 0, 1);
            b.ty(t, TYPEDEF, false, 0, 2);
            b.ty(0, STRUCT, false, 1, size).words(&[m, ty, off]);
            b.build()
        };
        // (type, its size in bytes)
        for (ty, bytes) in [
            (1, 4),
            (2, 8),
            (3, 16),
            (4, 4),
            (5, 4),
            (6, 4),
            (7, 4),
            (8, 8),
        ] {
            assert_eq!(check(&blob(ty, bytes, 0)), (None, true), "type {ty} fits");
            let (fault, fast) = check(&blob(ty, bytes - 1, 0));
            assert!(fault.is_some() && !fast, "type {ty} in {} bytes", bytes - 1);
            let (fault, fast) = check(&blob(ty, bytes, 8));
            assert!(fault.is_some() && !fast, "type {ty} one byte on");
            if ty != 1 && ty != 7 {
                // Not an INT: the offset must be on a byte.
                let (fault, fast) = check(&blob(ty, bytes + 1, 4));
                assert!(fault.is_some() && !fast, "type {ty} at bit 4");
            }
        }
    }

    /// A push the walk refuses (33 deep, a loop) and a fault: the fast path
    /// gives up, and the walk reports as the kernel does.
    #[test]
    fn gives_up_to_the_walk() {
        let mut deep = RawBlob::new(Endian::Little);
        deep.ty(0, INT, false, 0, 4).word(32);
        for i in 0..33u32 {
            deep.ty(0, VOLATILE, false, 0, if i == 32 { 1 } else { i + 3 });
        }
        assert_eq!(
            check(&deep.build()),
            (Some((Rule::ResolveDepth, Errno::TooBig, Some(2))), false)
        );
        let mut ring = RawBlob::new(Endian::Little);
        let (m, t) = (ring.str("m"), ring.str("t"));
        ring.ty(0, STRUCT, false, 1, 4).words(&[m, 2, 0]); // [1] { t m; }
        ring.ty(t, TYPEDEF, false, 0, 1); // [2] typedef [1] t: a loop
        assert_eq!(
            check(&ring.build()),
            (Some((Rule::LoopDetected, Errno::Exist, Some(1))), false)
        );
        let mut wide = RawBlob::new(Endian::Little);
        let m = wide.str("m");
        wide.ty(0, INT, false, 0, 4).word(32);
        wide.ty(0, STRUCT, false, 1, 2).words(&[m, 1, 0]); // int in 2 bytes
        assert_eq!(
            check(&wide.build()),
            (Some((Rule::MemberExceeds, Errno::Inval, Some(2))), false)
        );
    }
}
