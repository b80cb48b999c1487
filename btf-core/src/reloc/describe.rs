//! Relocations spelled in C, for messages: `struct task.in.c`,
//! `enum state::STOPPED`, `typedef task_t`.

use super::spec::parse_spec;
use crate::btf::Btf;
use crate::ext::CoreRelo;
use crate::id::{Kind, TypeId};
use crate::types::Type;
use alloc::format;
use alloc::string::String;
use core::fmt::Write;

/// A type's name as C spells it: `struct task`, `union u`, `enum e`,
/// `typedef t`, `int`; `struct (anon)` without a name.
pub fn type_in_c(btf: &Btf<'_>, id: TypeId) -> String {
    match btf.type_by_id(id) {
        Ok(t) => spell(&t),
        Err(_) => format!("[{id}]"),
    }
}

fn spell(t: &Type<'_>) -> String {
    let name = String::from_utf8_lossy(t.name_bytes());
    let name = if name.is_empty() {
        "(anon)".into()
    } else {
        name
    };
    let keyword = match t.kind() {
        Kind::STRUCT => "struct ",
        Kind::UNION => "union ",
        Kind::ENUM | Kind::ENUM64 => "enum ",
        Kind::FWD if t.kflag() => "union ",
        Kind::FWD => "struct ",
        Kind::TYPEDEF => "typedef ",
        Kind::VOID => return "void".into(),
        _ => "",
    };
    format!("{keyword}{name}")
}

/// `relo` spelled in C, with its access string: the root type, then, for
/// field relocations, the path (`struct task.in.c (0:1:2)`; a first index
/// other than 0 shows as `[n]`), for enumerator relocations the
/// enumerator (`enum state::STOPPED (2)`). Falls back to the raw access
/// string when the path cannot be walked.
pub fn relo_in_c(btf: &Btf<'_>, relo: &CoreRelo) -> String {
    let mut out = type_in_c(btf, relo.type_id);
    let Ok(access) = relo.access_spec(btf) else {
        let _ = write!(out, " (access string at {})", relo.access_str_off);
        return out;
    };
    if relo.kind.is_type_based() {
        return out;
    }
    match parse_spec(btf, relo.type_id, relo.kind, &access) {
        Ok(spec) if relo.kind.is_enumval_based() => {
            if let Some(name) = spec.acc.first().and_then(|a| a.name) {
                let _ = write!(out, "::{}", String::from_utf8_lossy(name));
            }
        }
        Ok(spec) => {
            for (i, acc) in spec.acc.iter().enumerate() {
                match acc.name {
                    Some(name) => {
                        let _ = write!(out, ".{}", String::from_utf8_lossy(name));
                    }
                    None if i > 0 || acc.idx > 0 => {
                        let _ = write!(out, "[{}]", acc.idx);
                    }
                    None => {}
                }
            }
        }
        Err(_) => {}
    }
    let _ = write!(out, " ({access})");
    out
}
