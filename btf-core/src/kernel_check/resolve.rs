//! The resolve pass (`btf_check_all_types`, `btf_resolve` and each kind's
//! `resolve` and `check_member`) and the type tag pass
//! (`btf_check_type_tags`).
//!
//! The pass first tries its fast path ([`fast`]): the walk's own order
//! (every type in id order, a pushed type resolved on the spot,
//! depth-first) over a 4-byte [`Slot`] per type. It answers only "nothing
//! to report", and gives up at anything else.
//!
//! The walk then runs from the start: depth-first with an explicit stack
//! of [`MAX_RESOLVE_DEPTH`] vertices, as the kernel does, over a 12-byte
//! [`WalkSlot`] per own type (kind, state, `size_or_type`, and what it
//! resolved to). A root whose references need nothing pushed (every FUNC;
//! most PTRs, modifiers and structs) is resolved without the stack by
//! code that does what the walk would and changes nothing when the case
//! is not that simple, so that the walk then runs from the start and
//! reports as the kernel does.

mod fast;

pub(crate) use fast::{Slot, Sweep};

use super::limits::MAX_RESOLVE_DEPTH;
use super::meta::member_bit_offset;
use super::reject::{Errno, Rule};
use super::{Ctx, Fault, Rec, Sink, Stop};
use crate::id::{Kind, TypeId};
use crate::record::{IntWord, MemberOffset};
use crate::wire::{BtfMember, BtfParam, BtfVarSecinfo};

const NOT_VISITED: u8 = 0;
const VISITED: u8 = 1;
const RESOLVED: u8 = 2;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Tbd,
    Ptr,
    StructOrArray,
}

#[derive(Clone, Copy, Default)]
struct Vertex {
    id: u32,
    next_member: u32,
}

fn kind(t: Rec<'_>) -> Kind {
    Kind::new(t.kind())
}

/// What the walk keeps of each own type: 12 bytes, so that following a
/// reference touches one small slot rather than the record.
///
/// `st` is the record's `size_or_type`, except for a FUNC_PROTO (whose
/// `size_or_type` the pass reads from the record): there it is what a FUNC
/// pointing at the prototype fails on, the 1-based number of the first
/// unnamed parameter with a type (0 if none).
///
/// `res` is what resolving leaves ([`Env::pop`]): the resolved type id, or
/// for an ARRAY its resolved size (an ARRAY's resolved id is never read).
/// The kinds that are never resolved, or always resolve to id 0 and size
/// 0, keep data there instead: the INT data word, and the vlen of a
/// STRUCT, UNION or FUNC_PROTO.
#[derive(Clone, Copy)]
struct WalkSlot {
    st: u32,
    res: u32,
    kind: Kind,
    state: u8,
}

impl WalkSlot {
    /// The slot of record `t`.
    fn of(t: Rec<'_>) -> WalkSlot {
        let kind = Kind::new(t.kind());
        let (st, res) = match kind {
            Kind::INT => (t.st(), t.int_word()),
            Kind::STRUCT | Kind::UNION => (t.st(), t.vlen()),
            Kind::FUNC_PROTO => (first_unnamed_param(t), t.vlen()),
            _ => (t.st(), 0),
        };
        WalkSlot {
            st,
            res,
            kind,
            state: NOT_VISITED,
        }
    }

    /// What a type resolved to (`btf_resolved_type_id`).
    #[inline]
    fn resolved_id(&self) -> u32 {
        match self.kind {
            // `res` holds other data; these resolve to 0 if at all.
            Kind::INT | Kind::STRUCT | Kind::UNION | Kind::FUNC_PROTO | Kind::ARRAY => 0,
            _ => self.res,
        }
    }

    /// The size a type resolved to (`btf_resolved_type_size`): only an
    /// ARRAY resolves to a size.
    #[inline]
    fn resolved_size(&self) -> u32 {
        if self.kind == Kind::ARRAY {
            self.res
        } else {
            0
        }
    }

    /// The slot as [`Info`]; `aux` is the extra data `res` holds for INT,
    /// STRUCT, UNION, FUNC_PROTO, and 0 for the other kinds.
    #[inline(always)]
    fn info(&self) -> Info {
        let aux = match self.kind {
            Kind::INT | Kind::STRUCT | Kind::UNION | Kind::FUNC_PROTO => self.res,
            _ => 0,
        };
        Info {
            kind: self.kind,
            st: self.st,
            aux,
            resolved: self.state == RESOLVED,
        }
    }
}

/// The 1-based number of the first parameter of FUNC_PROTO `t` that has a
/// type but no name (`btf_func_check`'s failure), or 0.
fn first_unnamed_param(t: Rec<'_>) -> u32 {
    // Parameters past the record's bytes read as zeros: never unnamed
    // with a type.
    t.elements::<BtfParam>(t.vlen() as usize)
        .iter()
        .position(|p| p.name_off.get(t.e) == 0 && p.type_.get(t.e) != 0)
        .map_or(0, |i| i as u32 + 1)
}

/// A type as the walk sees it (see [`WalkSlot`] for `st` and `aux`).
#[derive(Clone, Copy)]
struct Info {
    kind: Kind,
    st: u32,
    aux: u32,
    /// `env_type_is_resolved` when the type was looked up.
    resolved: bool,
}
pub(super) fn is_modifier(k: Kind) -> bool {
    matches!(
        k,
        Kind::TYPEDEF | Kind::VOLATILE | Kind::CONST | Kind::RESTRICT | Kind::TYPE_TAG
    )
}
fn is_struct(k: Kind) -> bool {
    matches!(k, Kind::STRUCT | Kind::UNION)
}
fn needs_resolve(k: Kind) -> bool {
    is_modifier(k)
        || matches!(
            k,
            Kind::PTR
                | Kind::STRUCT
                | Kind::UNION
                | Kind::ARRAY
                | Kind::VAR
                | Kind::FUNC
                | Kind::DECL_TAG
                | Kind::DATASEC
        )
}
fn source_only(k: Kind) -> bool {
    matches!(k, Kind::VAR | Kind::DECL_TAG | Kind::DATASEC)
}
/// void (kind 0 here), FWD, FUNC, FUNC_PROTO.
fn nosize(k: Kind) -> bool {
    matches!(k, Kind::VOID | Kind::FWD | Kind::FUNC | Kind::FUNC_PROTO)
}
fn has_size(k: Kind) -> bool {
    matches!(
        k,
        Kind::INT
            | Kind::STRUCT
            | Kind::UNION
            | Kind::ENUM
            | Kind::DATASEC
            | Kind::FLOAT
            | Kind::ENUM64
    )
}
/// The type and offset words of member `i` of aggregate `t`; zeros for a
/// member past the record's bytes.
#[inline(always)]
fn member_words(t: &Rec<'_>, members: &[BtfMember], i: usize) -> (u32, u32) {
    members
        .get(i)
        .map_or((0, 0), |m| (m.type_.get(t.e), m.offset.get(t.e)))
}

/// `btf_type_int_is_regular` (`data`: the INT's data word).
fn int_is_regular(data: u32) -> bool {
    let word = IntWord::decode(data);
    let bytes = word.bits.div_ceil(8);
    word.bits.is_multiple_of(8) && word.offset == 0 && matches!(bytes, 1 | 2 | 4 | 8 | 16)
}

struct Env<'c, 'a, 'p> {
    ctx: &'c Ctx<'a, 'p>,
    slots: &'c mut [WalkSlot],
    stack: [Vertex; MAX_RESOLVE_DEPTH],
    top: usize,
    mode: Mode,
}

impl<'a> Env<'_, 'a, '_> {
    #[inline]
    fn by_id(&self, id: u32) -> Option<Rec<'a>> {
        self.ctx.by_id(id)
    }

    #[inline]
    fn idx(&self, id: u32) -> Option<usize> {
        id.checked_sub(self.ctx.first_id).map(|i| i as usize)
    }

    /// `btf_type_by_id`, as [`Info`]: `None` when no such type exists.
    /// A base's types count as resolved, and void when there is a base.
    #[inline(always)]
    fn info(&self, id: u32) -> Option<Info> {
        // `idx(0)` is `None`: ids start at 1.
        match self.idx(id) {
            Some(i) => self.slots.get(i).map(WalkSlot::info),
            None => self.base_info(id),
        }
    }

    /// [`Env::info`] of void or a base's type.
    fn base_info(&self, id: u32) -> Option<Info> {
        if id == 0 {
            return Some(Info {
                kind: Kind::VOID,
                st: 0,
                aux: 0,
                resolved: self.ctx.base.is_some(),
            });
        }
        self.by_id(id).map(|t| Info {
            resolved: true,
            ..WalkSlot::of(t).info()
        })
    }

    fn fault(&self, rule: Rule, id: u32) -> Fault {
        let at = self.by_id(id).map_or(0, |t| t.at);
        Fault::new(rule, Errno::Inval, Some(id), at)
    }

    /// `env_type_is_resolve_sink`.
    #[inline]
    fn is_sink(&self, k: Kind) -> bool {
        match self.mode {
            Mode::Tbd => !needs_resolve(k),
            Mode::Ptr => !is_modifier(k) && k != Kind::PTR,
            Mode::StructOrArray => !is_modifier(k) && k != Kind::ARRAY && !is_struct(k),
        }
    }

    /// `env_type_is_resolved`: a base's types count as resolved.
    #[inline]
    fn is_resolved(&self, id: u32) -> bool {
        if id == 0 {
            return self.ctx.base.is_some();
        }
        match self.idx(id) {
            None => true,
            Some(i) => self.slots.get(i).is_some_and(|d| d.state == RESOLVED),
        }
    }

    /// `btf_resolved_type_id`.
    #[inline(always)]
    fn resolved_id(&self, id: u32) -> u32 {
        if id == 0 {
            return 0;
        }
        match self.idx(id) {
            Some(i) => self.slots.get(i).map_or(0, WalkSlot::resolved_id),
            None => self.base_resolved_id(id),
        }
    }

    /// A base's type resolved as the kernel would have: past modifiers.
    fn base_resolved_id(&self, mut id: u32) -> u32 {
        for _ in 0..MAX_RESOLVE_DEPTH {
            match self.info(id) {
                Some(t) if is_modifier(t.kind) || t.kind == Kind::VAR => id = t.st,
                _ => return id,
            }
        }
        id
    }

    /// `btf_resolved_type_size`.
    #[inline(always)]
    fn resolved_size(&self, id: u32) -> u32 {
        match self.idx(id) {
            Some(i) => self.slots.get(i).map_or(0, WalkSlot::resolved_size),
            None => self
                .ctx
                .base
                .and_then(|b| b.size_of(TypeId::new(id)).ok())
                .unwrap_or(0),
        }
    }

    /// The size of `t` (id `id`) when it has one without resolving.
    #[inline(always)]
    fn direct_size(&self, t: Info, id: u32) -> Option<u32> {
        if has_size(t.kind) {
            Some(t.st)
        } else if t.kind == Kind::ARRAY {
            Some(self.resolved_size(id))
        } else if t.kind == Kind::PTR {
            Some(self.ctx.p.pointer_size)
        } else {
            None
        }
    }

    /// `btf_type_id_size`: the sized type `id` stands for, its id and size.
    #[inline]
    fn id_size(&self, id: u32) -> Option<(Info, u32, u32)> {
        self.id_size_of(id, self.info(id)?)
    }

    /// [`Env::id_size`] of `id`, whose [`Info`] is `t`.
    #[inline(always)]
    fn id_size_of(&self, id: u32, t: Info) -> Option<(Info, u32, u32)> {
        if nosize(t.kind) {
            return None;
        }
        if let Some(size) = self.direct_size(t, id) {
            return Some((t, id, size));
        }
        if !is_modifier(t.kind) && t.kind != Kind::VAR {
            return None;
        }
        let rid = self.resolved_id(id);
        let rt = self.info(rid)?;
        if nosize(rt.kind) {
            return None;
        }
        self.direct_size(rt, rid).map(|size| (rt, rid, size))
    }

    /// `env_stack_push`; the fault's rule says which error.
    fn push(&mut self, id: u32) -> Result<(), Fault> {
        if self.top == MAX_RESOLVE_DEPTH {
            return Err(Fault::new(Rule::ResolveDepth, Errno::TooBig, Some(id), 0));
        }
        let i = match self.idx(id) {
            Some(i) if id != 0 => i,
            _ => return Err(Fault::new(Rule::LoopDetected, Errno::Exist, Some(id), 0)),
        };
        let k = match self.slots.get_mut(i) {
            Some(d) if d.state == NOT_VISITED => {
                d.state = VISITED;
                d.kind
            }
            _ => return Err(Fault::new(Rule::LoopDetected, Errno::Exist, Some(id), 0)),
        };
        if let Some(v) = self.stack.get_mut(self.top) {
            *v = Vertex { id, next_member: 0 };
        }
        self.top += 1;
        if self.mode == Mode::Tbd {
            if k == Kind::PTR {
                self.mode = Mode::Ptr;
            } else if is_struct(k) || k == Kind::ARRAY {
                self.mode = Mode::StructOrArray;
            }
        }
        Ok(())
    }

    fn set_next_member(&mut self, next: u32) {
        if let Some(v) = self.top.checked_sub(1).and_then(|i| self.stack.get_mut(i)) {
            v.next_member = next;
        }
    }

    /// `env_stack_pop_resolved`.
    fn pop(&mut self, resolved_id: u32, resolved_size: u32) {
        let Some(top) = self.top.checked_sub(1) else {
            return;
        };
        self.top = top;
        let id = self.stack.get(top).map_or(0, |v| v.id);
        if let Some(d) = self.idx(id).and_then(|i| self.slots.get_mut(i)) {
            d.state = RESOLVED;
            match d.kind {
                // Resolved to id 0, size 0: `res` keeps the vlen.
                Kind::STRUCT | Kind::UNION => {}
                Kind::ARRAY => d.res = resolved_size,
                _ => d.res = resolved_id,
            }
        }
    }

    /// `btf_resolve` of type `id`.
    fn resolve(&mut self, id: u32) -> Result<(), Fault> {
        self.mode = Mode::Tbd;
        let _ = self.push(id);
        let mut result = Ok(());
        while let Some(v) = self
            .top
            .checked_sub(1)
            .and_then(|i| self.stack.get(i))
            .copied()
        {
            result = self.resolve_vertex(v);
            if result.is_err() {
                break;
            }
        }
        match result {
            Err(mut f) if matches!(f.rule, Rule::ResolveDepth | Rule::LoopDetected) => {
                // Logged on the type whose resolve failed.
                f.id = Some(id);
                f.offset = self.by_id(id).map_or(0, |t| t.at);
                if f.rule == Rule::ResolveDepth {
                    f.args = [MAX_RESOLVE_DEPTH as u64, 0];
                }
                Err(f)
            }
            Err(f) => Err(f),
            Ok(()) if !self.resolve_valid(id) => Err(self.fault(Rule::InvalidResolveState, id)),
            Ok(()) => Ok(()),
        }
    }

    /// After a failure (when listing every fault): what is on the stack
    /// counts as resolved, so that it is not reported again as a loop.
    fn recover(&mut self) {
        while self.top > 0 {
            self.pop(0, 0);
        }
    }

    fn resolve_vertex(&mut self, v: Vertex) -> Result<(), Fault> {
        let Some(t) = self.info(v.id) else {
            return Err(self.fault(Rule::InvalidResolveState, v.id));
        };
        match t.kind {
            k if is_modifier(k) => self.resolve_ref(v.id, t, false),
            Kind::PTR => self.resolve_ref(v.id, t, true),
            Kind::VAR => self.resolve_var(v.id, t),
            Kind::ARRAY => self.resolve_array(v.id),
            Kind::STRUCT | Kind::UNION => self.resolve_struct(v),
            Kind::DATASEC => self.resolve_datasec(v),
            Kind::FUNC => {
                self.func_check(v.id, t)?;
                self.pop(t.st, 0);
                Ok(())
            }
            Kind::DECL_TAG => self.resolve_decl_tag(v.id),
            _ => Err(self.fault(Rule::InvalidResolveState, v.id)),
        }
    }

    /// If `next_id` is a modifier that resolved to a PTR not yet resolved,
    /// that PTR is pushed (the kernel's "last-resolved-ptr" case).
    fn push_resolved_ptr(&mut self, next: Info, next_id: u32) -> Option<Result<(), Fault>> {
        if !is_modifier(next.kind) {
            return None;
        }
        let rid = self.resolved_id(next_id);
        let rt = self.info(rid)?;
        if rt.kind == Kind::PTR && !self.is_sink(rt.kind) && !rt.resolved {
            return Some(self.push(rid));
        }
        None
    }

    /// `btf_modifier_resolve` and `btf_ptr_resolve`.
    fn resolve_ref(&mut self, id: u32, t: Info, ptr: bool) -> Result<(), Fault> {
        let mut next_id = t.st;
        let Some(mut next) = self.info(next_id).filter(|n| !source_only(n.kind)) else {
            return Err(self.fault(Rule::InvalidTypeId, id));
        };
        if !self.is_sink(next.kind) && !next.resolved {
            return self.push(next_id);
        }
        if ptr && let Some(r) = self.push_resolved_ptr(next, next_id) {
            return r;
        }
        match self.id_size(next_id) {
            Some((_, sid, _)) => next_id = sid,
            None => {
                if next.resolved {
                    next_id = self.resolved_id(next_id);
                    match self.info(next_id) {
                        Some(n) => next = n,
                        None => return Err(self.fault(Rule::InvalidTypeId, id)),
                    }
                }
                let k = next.kind;
                let void = next_id == 0 && k == Kind::VOID;
                if !void && k != Kind::FWD && k != Kind::FUNC_PROTO {
                    return Err(self.fault(Rule::InvalidTypeId, id));
                }
            }
        }
        self.pop(next_id, 0);
        Ok(())
    }

    /// What [`Env::resolve`] does for a PTR or modifier (own slot `i`, not
    /// resolved) whose type needs nothing pushed and has a size: resolved
    /// to that sized type, without the stack. `false` (nothing changed)
    /// when the case is not that simple; [`Env::resolve`] then handles it.
    #[inline]
    fn resolve_simple_ref(&mut self, i: usize, slot: WalkSlot) -> bool {
        let ptr = slot.kind == Kind::PTR;
        if !ptr && !is_modifier(slot.kind) {
            return false;
        }
        let next_id = slot.st;
        let Some(next) = self.info(next_id) else {
            return false;
        };
        // The mode `push` would have set for this root.
        let sink = if ptr {
            !is_modifier(next.kind) && next.kind != Kind::PTR
        } else {
            !needs_resolve(next.kind)
        };
        // A source-only kind fails; a pushed type, or a PTR's modifier
        // (the last-resolved-ptr case), goes the long way.
        if source_only(next.kind) || (!sink && !next.resolved) || (ptr && is_modifier(next.kind)) {
            return false;
        }
        let Some((_, sid, _)) = self.id_size_of(next_id, next) else {
            return false;
        };
        // `btf_resolve_valid` of a PTR or modifier.
        match self.info(sid) {
            Some(r) if !is_modifier(r.kind) && r.kind != Kind::VAR && r.kind != Kind::DATASEC => {}
            _ => return false,
        }
        if let Some(d) = self.slots.get_mut(i) {
            d.state = RESOLVED;
            d.res = sid;
        }
        true
    }

    /// What [`Env::resolve`] does for a STRUCT or UNION (own slot `i`, id
    /// `id`, not resolved) none of whose member types needs pushing: every
    /// member checked, then resolved. `false` (nothing changed) when a
    /// member type needs pushing or a member fails; [`Env::resolve`] then
    /// does it all again and reports the failure.
    #[inline]
    fn resolve_simple_struct(&mut self, i: usize, id: u32, slot: WalkSlot) -> bool {
        if !is_struct(slot.kind) {
            return false;
        }
        let Some(t) = self.ctx.own(i) else {
            return false;
        };
        let kflag = t.kflag();
        let vlen = t.vlen() as usize;
        // Members past the record's bytes read as zeros.
        let members = t.elements::<BtfMember>(vlen);
        for m in 0..vlen {
            let (mt_id, raw) = member_words(&t, members, m);
            let Some(mt) = self.info(mt_id) else {
                return false;
            };
            // The sinks of a struct's resolve.
            let sink = !is_modifier(mt.kind) && mt.kind != Kind::ARRAY && !is_struct(mt.kind);
            if nosize(mt.kind)
                || source_only(mt.kind)
                || (!sink && !mt.resolved)
                || self.check_member(id, &t, m, raw, mt_id, mt, kflag).is_err()
            {
                return false;
            }
        }
        // Resolved to id 0, size 0 (`res` keeps the vlen): always valid.
        if let Some(d) = self.slots.get_mut(i) {
            d.state = RESOLVED;
        }
        true
    }

    /// `btf_var_resolve`.
    fn resolve_var(&mut self, id: u32, t: Info) -> Result<(), Fault> {
        let next_id = t.st;
        let Some(next) = self.info(next_id).filter(|n| !source_only(n.kind)) else {
            return Err(self.fault(Rule::InvalidTypeId, id));
        };
        if !self.is_sink(next.kind) && !next.resolved {
            return self.push(next_id);
        }
        if let Some(r) = self.push_resolved_ptr(next, next_id) {
            return r;
        }
        let Some((_, sid, _)) = self.id_size(next_id) else {
            return Err(self.fault(Rule::InvalidTypeId, id));
        };
        self.pop(sid, 0);
        Ok(())
    }

    /// `btf_array_resolve`.
    fn resolve_array(&mut self, id: u32) -> Result<(), Fault> {
        let Some(t) = self.by_id(id) else {
            return Err(self.fault(Rule::InvalidResolveState, id));
        };
        let (_, index_id, _) = t.array();
        let index = self
            .info(index_id)
            .filter(|i| !nosize(i.kind) && !source_only(i.kind));
        let Some(index) = index else {
            return Err(self.fault(Rule::InvalidIndex, id));
        };
        if !self.is_sink(index.kind) && !index.resolved {
            return self.push(index_id);
        }
        match self.id_size(index_id) {
            Some((it, _, _)) if it.kind == Kind::INT && int_is_regular(it.aux) => {}
            _ => return Err(self.fault(Rule::InvalidIndex, id)),
        }
        let (elem_id, _, _) = t.array();
        let elem = self
            .info(elem_id)
            .filter(|e| !nosize(e.kind) && !source_only(e.kind));
        let Some(elem) = elem else {
            return Err(self.fault(Rule::InvalidElem, id));
        };
        if !self.is_sink(elem.kind) && !elem.resolved {
            return self.push(elem_id);
        }
        let Some((et, eid, esize)) = self.id_size(elem_id) else {
            return Err(self.fault(Rule::InvalidElem, id));
        };
        if et.kind == Kind::INT && !int_is_regular(et.aux) {
            return Err(self.fault(Rule::ArrayOfInt, id));
        }
        let (_, _, nelems) = t.array();
        if nelems != 0 && esize > u32::MAX / nelems {
            return Err(self.fault(Rule::ArrayOverflow, id));
        }
        self.pop(eid, esize.wrapping_mul(nelems));
        Ok(())
    }

    /// `btf_struct_resolve`.
    fn resolve_struct(&mut self, v: Vertex) -> Result<(), Fault> {
        let Some(t) = self.by_id(v.id) else {
            return Err(self.fault(Rule::InvalidResolveState, v.id));
        };
        let kflag = t.kflag();
        let vlen = t.vlen() as usize;
        // Members past the record's bytes read as zeros.
        let members = t.elements::<BtfMember>(vlen);
        let member = |i: usize| member_words(&t, members, i);
        if v.next_member > 0 {
            let i = (v.next_member - 1) as usize;
            let (last_id, raw) = member(i);
            if !self.is_resolved(last_id) {
                return Err(self.fault(Rule::InvalidResolveState, v.id));
            }
            let Some(last) = self.info(last_id) else {
                return Err(self.fault(Rule::InvalidMember, v.id));
            };
            self.check_member(v.id, &t, i, raw, last_id, last, kflag)?;
        }
        for i in v.next_member as usize..vlen {
            let (mt_id, raw) = member(i);
            let mt = self
                .info(mt_id)
                .filter(|m| !nosize(m.kind) && !source_only(m.kind));
            let Some(mt) = mt else {
                let at = t.element_at::<BtfMember>(i);
                return Err(Fault::new(
                    Rule::InvalidMember,
                    Errno::Inval,
                    Some(v.id),
                    at,
                ));
            };
            if !self.is_sink(mt.kind) && !mt.resolved {
                self.set_next_member(i as u32 + 1);
                return self.push(mt_id);
            }
            self.check_member(v.id, &t, i, raw, mt_id, mt, kflag)?;
        }
        self.pop(0, 0);
        Ok(())
    }

    /// Each kind's `check_member` / `check_kflag_member` for member `i` of
    /// struct `s` (`sid`), whose offset word is `raw` and whose type is
    /// `mt` (`mt_id`). A modifier is checked as the sized type it resolves
    /// to (`btf_modifier_check_member`), which is never a modifier.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn check_member(
        &self,
        sid: u32,
        s: &Rec<'_>,
        i: usize,
        raw: u32,
        mt_id: u32,
        mt: Info,
        kflag: bool,
    ) -> Result<(), Fault> {
        let m = |rule| Fault::new(rule, Errno::Inval, Some(sid), s.element_at::<BtfMember>(i));
        let struct_size = s.st();
        let (mt_id, mt) = if is_modifier(mt.kind) {
            match self.id_size_of(mt_id, mt) {
                Some((rt, rid, _)) => (rid, rt),
                None => return Err(m(Rule::InvalidMember)),
            }
        } else {
            (mt_id, mt)
        };
        let k = mt.kind;
        if kflag {
            match k {
                Kind::INT => return int_kflag_member(mt.aux, raw, struct_size, m),
                Kind::ENUM | Kind::ENUM64 => return enum_kflag_member(raw, struct_size, m),
                Kind::PTR | Kind::ARRAY | Kind::STRUCT | Kind::UNION | Kind::FLOAT => {
                    if MemberOffset::decode(raw, true).bitfield_size != 0 {
                        return Err(m(Rule::MemberBitfieldSize));
                    }
                }
                _ => return Err(m(Rule::UnsupportedMember)),
            }
        }
        let bits_off = if kflag {
            member_bit_offset(*s, raw)
        } else {
            raw
        };
        let bytes_off = bits_off / 8;
        match k {
            Kind::INT => int_member(mt.aux, bits_off, struct_size, m),
            Kind::PTR => {
                if !bits_off.is_multiple_of(8) {
                    return Err(m(Rule::MemberNotAligned));
                }
                if struct_size.wrapping_sub(bytes_off) < self.ctx.p.pointer_size {
                    return Err(m(Rule::MemberExceeds));
                }
                Ok(())
            }
            Kind::ARRAY => {
                if !bits_off.is_multiple_of(8) {
                    return Err(m(Rule::MemberNotAligned));
                }
                let size = self.id_size_of(mt_id, mt).map_or(0, |(_, _, n)| n);
                if struct_size.wrapping_sub(bytes_off) < size {
                    return Err(m(Rule::MemberExceeds));
                }
                Ok(())
            }
            Kind::STRUCT | Kind::UNION | Kind::ENUM | Kind::ENUM64 => {
                if !bits_off.is_multiple_of(8) {
                    return Err(m(Rule::MemberNotAligned));
                }
                if struct_size.wrapping_sub(bytes_off) < mt.st {
                    return Err(m(Rule::MemberExceeds));
                }
                Ok(())
            }
            Kind::FLOAT => {
                let align_bits = u64::from(mt.st.min(8)) * 8;
                if align_bits == 0 || u64::from(bits_off) % align_bits != 0 {
                    return Err(m(Rule::FloatMemberAlign));
                }
                let end = u64::from(bits_off / 8) + u64::from(mt.st);
                if end > u64::from(struct_size) {
                    return Err(m(Rule::MemberExceeds));
                }
                Ok(())
            }
            _ => Err(m(Rule::UnsupportedMember)),
        }
    }

    /// `btf_datasec_resolve`.
    fn resolve_datasec(&mut self, v: Vertex) -> Result<(), Fault> {
        let Some(t) = self.by_id(v.id) else {
            return Err(self.fault(Rule::InvalidResolveState, v.id));
        };
        let entries = t.elements::<BtfVarSecinfo>(t.vlen() as usize);
        for i in v.next_member as usize..t.vlen() as usize {
            let at = t.element_at::<BtfVarSecinfo>(i);
            let e = |rule| Fault::new(rule, Errno::Inval, Some(v.id), at);
            // Entries past the record's bytes read as zeros.
            let (var_id, entry_size) = entries
                .get(i)
                .map_or((0, 0), |e| (e.type_.get(t.e), e.size.get(t.e)));
            let Some(var) = self.info(var_id).filter(|r| r.kind == Kind::VAR) else {
                return Err(e(Rule::NotVar));
            };
            if !self.is_sink(var.kind) && !var.resolved {
                self.set_next_member(i as u32 + 1);
                return self.push(var_id);
            }
            let Some((_, _, size)) = self.id_size(var.st) else {
                return Err(e(Rule::VsiInvalidType));
            };
            if entry_size < size {
                return Err(e(Rule::VsiSize));
            }
        }
        self.pop(0, 0);
        Ok(())
    }

    /// `btf_func_check`: a FUNC's type is a FUNC_PROTO whose parameters
    /// are named.
    fn func_check(&self, id: u32, t: Info) -> Result<(), Fault> {
        let proto = match self.idx(t.st) {
            Some(i) => self
                .slots
                .get(i)
                .filter(|p| p.kind == Kind::FUNC_PROTO)
                .map(|p| p.st),
            None => self
                .by_id(t.st)
                .filter(|p| kind(*p) == Kind::FUNC_PROTO)
                .map(first_unnamed_param),
        };
        match proto {
            None => Err(self.fault(Rule::InvalidTypeId, id)),
            Some(0) => Ok(()),
            Some(arg) => Err(self.fault(Rule::InvalidArg, id).args(u64::from(arg), 0)),
        }
    }

    /// `btf_decl_tag_resolve`.
    fn resolve_decl_tag(&mut self, id: u32) -> Result<(), Fault> {
        let Some(t) = self.by_id(id) else {
            return Err(self.fault(Rule::InvalidResolveState, id));
        };
        let next_id = t.st();
        let target = |k: Kind| {
            matches!(
                k,
                Kind::FUNC | Kind::STRUCT | Kind::UNION | Kind::VAR | Kind::TYPEDEF
            )
        };
        let Some(next) = self.info(next_id).filter(|n| target(n.kind)) else {
            return Err(self.fault(Rule::InvalidTypeId, id));
        };
        if !self.is_sink(next.kind) && !next.resolved {
            return self.push(next_id);
        }
        let idx = t.component_idx();
        if idx != -1 {
            let k = next.kind;
            if k == Kind::VAR || k == Kind::TYPEDEF {
                return Err(self.fault(Rule::ComponentIdx, id));
            }
            let vlen = if is_struct(k) {
                next.aux
            } else {
                self.info(next.st).map_or(0, |p| p.aux)
            };
            if idx as u32 >= vlen {
                return Err(self.fault(Rule::ComponentIdx, id));
            }
        }
        self.pop(next_id, 0);
        Ok(())
    }

    /// `btf_resolve_valid`: the final sanity check of a resolved type.
    fn resolve_valid(&self, id: u32) -> bool {
        if !self.is_resolved(id) {
            return false;
        }
        let Some(t) = self.info(id) else {
            return false;
        };
        let k = t.kind;
        let (rid, rsize) = (self.resolved_id(id), self.resolved_size(id));
        if is_struct(k) || k == Kind::DATASEC {
            return rid == 0 && rsize == 0;
        }
        if k == Kind::DECL_TAG || k == Kind::FUNC {
            return rid != 0 && rsize == 0;
        }
        if is_modifier(k) || k == Kind::PTR || k == Kind::VAR {
            return self.info(rid).is_some_and(|r| {
                !is_modifier(r.kind) && r.kind != Kind::VAR && r.kind != Kind::DATASEC
            });
        }
        if k == Kind::ARRAY {
            let Some(rec) = self.by_id(id) else {
                return false;
            };
            let (elem_id, _, nelems) = rec.array();
            return match self.id_size(elem_id) {
                Some((et, _, esize)) => {
                    !is_modifier(et.kind) && nelems.wrapping_mul(esize) == rsize
                }
                None => false,
            };
        }
        false
    }

    /// `btf_func_proto_check`.
    fn func_proto_check(&mut self, id: u32, t: Rec<'_>) -> Result<(), Fault> {
        let ret_id = t.st();
        if ret_id != 0 {
            let Some(ret) = self.info(ret_id) else {
                return Err(self.fault(Rule::ReturnType, id));
            };
            if self.ctx.no_source_only && source_only(ret.kind) {
                return Err(self.fault(Rule::ReturnType, id));
            }
            let sized = if needs_resolve(ret.kind) && !ret.resolved {
                self.resolve(ret_id)?;
                self.id_size(ret_id)
            } else {
                self.id_size_of(ret_id, ret)
            };
            if sized.is_none() {
                return Err(self.fault(Rule::ReturnType, id));
            }
        }
        let mut nr = t.vlen() as usize;
        if nr == 0 {
            return Ok(());
        }
        // Parameters past the record's bytes read as zeros.
        let params = t.elements::<BtfParam>(nr);
        let arg = |i: usize| {
            params
                .get(i)
                .map_or([0; 2], |p| [p.name_off.get(t.e), p.type_.get(t.e)])
        };
        let [last_name, last_ty] = arg(nr - 1);
        if last_ty == 0 {
            if last_name != 0 {
                return Err(self.fault(Rule::InvalidArg, id).args(nr as u64, 0));
            }
            nr -= 1;
        }
        for i in 0..nr {
            let bad = |env: &Self| env.fault(Rule::InvalidArg, id).args(i as u64 + 1, 0);
            let [name, ty] = arg(i);
            let Some(at) = self.info(ty) else {
                return Err(bad(self));
            };
            if self.ctx.no_source_only && source_only(at.kind) {
                return Err(bad(self));
            }
            if name != 0 && (!self.ctx.name_offset_valid(name) || !self.ctx.identifier(name)) {
                return Err(bad(self));
            }
            let sized = if needs_resolve(at.kind) && !at.resolved {
                self.resolve(ty)?;
                self.id_size(ty)
            } else {
                self.id_size_of(ty, at)
            };
            if sized.is_none() {
                return Err(bad(self));
            }
        }
        Ok(())
    }
}

/// `btf_int_check_member`.
fn int_member(
    data: u32,
    bits_off: u32,
    struct_size: u32,
    m: impl Fn(Rule) -> Fault,
) -> Result<(), Fault> {
    let word = IntWord::decode(data);
    let int_off = u32::from(word.offset);
    if u32::MAX - bits_off < int_off {
        return Err(m(Rule::BitsOffsetOverflow));
    }
    let off = bits_off + int_off;
    let bytes_off = off / 8;
    let nr_copy = u32::from(word.bits) + off % 8;
    if nr_copy > 128 {
        return Err(m(Rule::NrCopyBits));
    }
    if struct_size < bytes_off || struct_size - bytes_off < nr_copy.div_ceil(8) {
        return Err(m(Rule::MemberExceeds));
    }
    Ok(())
}

/// `btf_int_check_kflag_member`.
fn int_kflag_member(
    data: u32,
    raw: u32,
    struct_size: u32,
    m: impl Fn(Rule) -> Fault,
) -> Result<(), Fault> {
    if !int_is_regular(data) {
        return Err(m(Rule::MemberBaseType));
    }
    let MemberOffset {
        bit_offset: bits_off,
        bitfield_size: mut nr_bits,
    } = MemberOffset::decode(raw, true);
    let int_bits = u32::from(IntWord::decode(data).bits);
    if nr_bits == 0 {
        if !bits_off.is_multiple_of(8) {
            return Err(m(Rule::MemberOffset));
        }
        nr_bits = int_bits;
    } else if nr_bits > int_bits {
        return Err(m(Rule::MemberBitfieldSize));
    }
    let bytes_off = bits_off / 8;
    let nr_copy = nr_bits + bits_off % 8;
    if nr_copy > 128 {
        return Err(m(Rule::NrCopyBits));
    }
    if struct_size < bytes_off || struct_size - bytes_off < nr_copy.div_ceil(8) {
        return Err(m(Rule::MemberExceeds));
    }
    Ok(())
}

/// `btf_enum_check_kflag_member`.
fn enum_kflag_member(raw: u32, struct_size: u32, m: impl Fn(Rule) -> Fault) -> Result<(), Fault> {
    let MemberOffset {
        bit_offset: bits_off,
        bitfield_size: mut nr_bits,
    } = MemberOffset::decode(raw, true);
    if nr_bits == 0 {
        if !bits_off.is_multiple_of(8) {
            return Err(m(Rule::MemberNotAligned));
        }
        nr_bits = 32;
    } else if nr_bits > 32 {
        return Err(m(Rule::MemberBitfieldSize));
    }
    if struct_size < (bits_off + nr_bits).div_ceil(8) {
        return Err(m(Rule::MemberExceeds));
    }
    Ok(())
}

/// `btf_check_all_types`: resolves every own type that needs it and checks
/// every FUNC_PROTO. `slots` are the meta pass's, void's and one per own
/// type; the fast path spends them.
pub(super) fn check_all(
    ctx: &Ctx<'_, '_>,
    slots: &mut [Slot],
    sink: &mut Sink,
) -> Result<(), Stop> {
    if fast::all_resolve(ctx, slots, sink) {
        sink.fast_path = true;
        return Ok(());
    }
    // The slots are indexed by id, void's first.
    let mut walk: alloc::vec::Vec<WalkSlot> = (0..slots.len().saturating_sub(1))
        .map(|i| ctx.own(i).map_or(WalkSlot::of(Rec::VOID), WalkSlot::of))
        .collect();
    walk_all(ctx, &mut walk, sink)
}

/// [`check_all`] by the kernel's walk.
fn walk_all(ctx: &Ctx<'_, '_>, slots: &mut [WalkSlot], sink: &mut Sink) -> Result<(), Stop> {
    let n = slots.len();
    let mut env = Env {
        ctx,
        slots,
        stack: [Vertex::default(); MAX_RESOLVE_DEPTH],
        top: 0,
        mode: Mode::Tbd,
    };
    for i in 0..n {
        let id = ctx.first_id.saturating_add(i as u32);
        let Some(&slot) = env.slots.get(i) else {
            continue;
        };
        let k = slot.kind;
        if k == Kind::FUNC && slot.state == NOT_VISITED {
            // What `resolve` does for a FUNC, without the stack: the
            // check, then resolved to its prototype (valid, as the check
            // found a FUNC_PROTO there), or to 0 after a failure (as
            // `recover` leaves it).
            let checked = env.func_check(id, slot.info());
            if let Some(d) = env.slots.get_mut(i) {
                d.state = RESOLVED;
                d.res = if checked.is_ok() { slot.st } else { 0 };
            }
            if let Err(f) = checked {
                sink.report(f)?;
            }
            continue;
        }
        if needs_resolve(k)
            && slot.state != RESOLVED
            && !env.resolve_simple_ref(i, slot)
            && !env.resolve_simple_struct(i, id, slot)
            && let Err(f) = env.resolve(id)
        {
            sink.report(f)?;
            env.recover();
        }
        if k == Kind::FUNC_PROTO
            && let Some(t) = ctx.by_id(id)
            && let Err(f) = env.func_proto_check(id, t)
        {
            sink.report(f)?;
            env.recover();
        }
    }
    Ok(())
}

/// `btf_check_type_tags`: in every chain of modifiers, TYPE_TAGs come
/// first, and no chain is longer than 32. The kernel's loop over every
/// type skips all but modifiers, so only the own modifiers the meta pass
/// listed (`ctx.modifiers`, in id order) are visited.
pub(super) fn check_type_tags(ctx: &Ctx<'_, '_>, sink: &mut Sink) -> Result<(), Stop> {
    let info = |id: u32| -> Option<(Kind, u32)> { ctx.by_id(id).map(|t| (kind(t), t.st())) };
    let at = |id: u32| ctx.by_id(id).map_or(0, |t| t.at);
    let start = if ctx.base.is_some() { ctx.first_id } else { 1 };
    let mut good = start - 1;
    for &i in &ctx.modifiers {
        let Some((mut k, mut st)) = info(i) else {
            return sink.report(Fault::new(Rule::InvalidTypeId, Errno::Inval, Some(i), 0));
        };
        let mut in_tags = k == Kind::TYPE_TAG;
        let mut limit = MAX_RESOLVE_DEPTH;
        let mut cur = i;
        while is_modifier(k) {
            if limit == 0 {
                return sink.report(Fault::new(Rule::ChainTooLong, Errno::Loop, Some(i), at(i)));
            }
            limit -= 1;
            if k == Kind::TYPE_TAG {
                if !in_tags {
                    return sink.report(Fault::new(
                        Rule::TypeTagOrder,
                        Errno::Inval,
                        Some(i),
                        at(i),
                    ));
                }
            } else {
                in_tags = false;
            }
            if cur <= good {
                break;
            }
            cur = st;
            match info(cur) {
                Some(next) => (k, st) = next,
                None => {
                    return sink.report(Fault::new(
                        Rule::InvalidTypeId,
                        Errno::Inval,
                        Some(i),
                        at(i),
                    ));
                }
            }
        }
        good = i;
    }
    Ok(())
}
