//! Layout and padding: struct and union bodies, with the alignment libbpf
//! computes, `__attribute__((packed))` where members are not naturally
//! aligned, and the explicit padding members (`long: 64;`) a compiler
//! needs to reproduce the offsets.

use super::naming::Name;
use super::{CDumper, Out, Step, Stop};
use crate::dump::ByteSink;
use crate::id::Kind;
use crate::types::{Type, TypeKind};

impl<'a> CDumper<'a> {
    pub(super) fn struct_def<S: ByteSink + ?Sized>(
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
