//! Declarators: a declaration's chain of pointers, qualifiers, arrays and
//! prototypes down to a named type, written in C's inside-out syntax; and
//! the heads of the definitions that use them (typedefs, enums, forward
//! declarations of structs and unions).

use super::naming::{Name, name_dups};
use super::{CDumper, MAX_C_DEPTH, Out, Step, Stop};
use crate::dump::ByteSink;
use crate::id::Kind;
use crate::types::{Type, TypeKind};

/// A frame of the declaration stack: `stack[base .. base + len]`, top last.
struct Frame {
    base: usize,
    len: usize,
}

impl<'a> CDumper<'a> {
    pub(super) fn struct_fwd<S: ByteSink + ?Sized>(
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

    pub(super) fn enum_def<S: ByteSink + ?Sized>(
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

    pub(super) fn fwd_def<S: ByteSink + ?Sized>(
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

    pub(super) fn typedef_def<S: ByteSink + ?Sized>(
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
    pub(super) fn type_decl<S: ByteSink + ?Sized>(
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
