//! Type references spelled as C spells them (`struct sk_buff *`,
//! `const char[16]`, `int (*)(void *)`): what a diff compares members,
//! parameters and typedef targets by, across blobs whose ids differ.

use alloc::string::String;
use core::fmt::Write;

use crate::btf::Btf;
use crate::id::TypeId;
use crate::types::TypeKind;

/// How deep a spelling follows references before it writes `...`.
const MAX_DEPTH: usize = 32;

/// `id` spelled as C spells a declaration of that type with no name.
pub(crate) fn spell(btf: &Btf<'_>, id: TypeId) -> String {
    let mut out = String::new();
    write_spelled(btf, id, &mut out, 0);
    out
}

/// The name of an aggregate or enum as C spells it (`struct foo`,
/// `union {...}` when anonymous).
fn tagged(keyword: &str, name: &str, out: &mut String) {
    out.push_str(keyword);
    out.push(' ');
    if name.is_empty() {
        out.push_str("{...}");
    } else {
        out.push_str(name);
    }
}

fn write_spelled(btf: &Btf<'_>, id: TypeId, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    let Ok(ty) = btf.type_by_id(id) else {
        let _ = write!(out, "<type {id}?>");
        return;
    };
    let name = ty.name().unwrap_or("?");
    match ty.as_kind() {
        TypeKind::Void => out.push_str("void"),
        TypeKind::Int(_) | TypeKind::Float(_) | TypeKind::Typedef(_) => out.push_str(name),
        TypeKind::Struct(_) => tagged("struct", name, out),
        TypeKind::Union(_) => tagged("union", name, out),
        TypeKind::Enum(_) | TypeKind::Enum64(_) => tagged("enum", name, out),
        TypeKind::Fwd(fwd) => tagged(if fwd.is_union { "union" } else { "struct" }, name, out),
        TypeKind::Ptr(to) => {
            // A pointer to a function prototype: `ret (*)(args)`.
            if let Ok(TypeKind::FuncProto(_)) = btf.type_by_id(to).map(|t| t.as_kind()) {
                write_proto(btf, to, "(*)", out, depth + 1);
            } else {
                write_spelled(btf, to, out, depth + 1);
                out.push_str(" *");
            }
        }
        TypeKind::Array(array) => {
            write_spelled(btf, array.elem, out, depth + 1);
            let _ = write!(out, "[{}]", array.nelems);
        }
        TypeKind::Const(to) => {
            out.push_str("const ");
            write_spelled(btf, to, out, depth + 1);
        }
        TypeKind::Volatile(to) => {
            out.push_str("volatile ");
            write_spelled(btf, to, out, depth + 1);
        }
        TypeKind::Restrict(to) => {
            write_spelled(btf, to, out, depth + 1);
            out.push_str(" restrict");
        }
        TypeKind::TypeTag(tag) => {
            write_spelled(btf, tag.ty, out, depth + 1);
            let _ = write!(out, " __attribute__((btf_type_tag(\"{name}\")))");
        }
        TypeKind::FuncProto(_) => write_proto(btf, id, "", out, depth),
        TypeKind::Func(func) => write_proto(btf, func.proto, name, out, depth + 1),
        TypeKind::Var(var) => write_spelled(btf, var.ty, out, depth + 1),
        TypeKind::Datasec(_) => {
            let _ = write!(out, "SEC(\"{name}\")");
        }
        TypeKind::DeclTag(tag) => write_spelled(btf, tag.ty, out, depth + 1),
        TypeKind::Unknown(u) => {
            let _ = write!(out, "<kind {}>", u.kind().get());
        }
    }
}

/// A prototype: `ret NAME(params)`, `void` for none, `...` when variadic.
fn write_proto(btf: &Btf<'_>, id: TypeId, name: &str, out: &mut String, depth: usize) {
    let Ok(TypeKind::FuncProto(proto)) = btf.type_by_id(id).map(|t| t.as_kind()) else {
        out.push_str("<prototype?>");
        return;
    };
    write_spelled(btf, proto.return_type(), out, depth + 1);
    out.push(' ');
    out.push_str(name);
    out.push('(');
    let mut first = true;
    for param in proto.params() {
        if !first {
            out.push_str(", ");
        }
        first = false;
        if param.is_variadic() {
            out.push_str("...");
        } else {
            write_spelled(btf, param.ty(), out, depth + 1);
        }
    }
    if first {
        out.push_str("void");
    }
    out.push(')');
}
