//! Ordering: which types a type needs and in which order they are
//! emitted (a depth-first topological sort, as libbpf's), with forward
//! declarations where a pointer allows one.

use super::naming::Name;
use super::{
    CDumper, EMIT_MASK, EMITTED, EMITTING, FWD_EMITTED, ORDER_MASK, ORDERED, ORDERING, Out,
    REFERENCED, Step, Stop,
};
use crate::dump::ByteSink;
use crate::id::{Kind, TypeId};
use crate::types::{Type, TypeKind};

impl<'a> CDumper<'a> {
    /// Marks every type another type refers to: an anonymous enum that
    /// nothing refers to is a top-level declaration of constants.
    pub(super) fn mark_referenced(&mut self, last: u32) -> Step {
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

    /// Orders `id` and what it needs into the queue (a depth-first
    /// topological sort); returns whether the link that reached it is
    /// strong (the type must be fully defined first) rather than weak (a
    /// forward declaration will do).
    pub(super) fn order(&mut self, id: u32, through_ptr: bool) -> Step<bool> {
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
    pub(super) fn emit_type<S: ByteSink + ?Sized>(
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
}
