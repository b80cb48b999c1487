//! A [`Diff`] as a person reads it (`Display`) and as tools read it
//! ([`write_json`]).

use crate::dump::JsonStr;
use core::fmt::{self, Write};

use super::{Change, Diff, NamedType};

/// A bit offset as the report shows it: bytes when whole, else
/// `byte:bit` (a bitfield at bit 4 of byte 128 is `128:4`).
struct Offset(u32);

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 % 8 {
            0 => write!(f, "{}", self.0 / 8),
            bit => write!(f, "{}:{bit}", self.0 / 8),
        }
    }
}

impl fmt::Display for NamedType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// One parameter as `` `name` type ``.
fn param(
    f: &mut fmt::Formatter<'_>,
    p: &(alloc::string::String, alloc::string::String),
) -> fmt::Result {
    if p.0.is_empty() {
        write!(f, "{}", p.1)
    } else {
        write!(f, "`{}` {}", p.0, p.1)
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Size { old, new } => write!(f, "size {old} → {new}"),
            Change::MemberAdded { path, offset, ty } => {
                write!(
                    f,
                    "member `{path}` added at offset {} ({ty})",
                    Offset(*offset)
                )
            }
            Change::MemberRemoved { path, offset, ty } => {
                write!(
                    f,
                    "member `{path}` removed (was at offset {}, {ty})",
                    Offset(*offset)
                )
            }
            Change::MemberMoved { path, old, new } => {
                write!(
                    f,
                    "member `{path}` offset {} → {}",
                    Offset(*old),
                    Offset(*new)
                )
            }
            Change::MemberResized { path, old, new } => {
                write!(f, "member `{path}` size {old} → {new}")
            }
            Change::Bitfield { path, old, new } => {
                write!(f, "member `{path}` bitfield width {old} → {new} bits")
            }
            Change::MemberRetyped { path, old, new } => {
                write!(f, "member `{path}` type {old} → {new}")
            }
            Change::ValueAdded { name, value } => write!(f, "value `{name}` added (= {value})"),
            Change::ValueRemoved { name, value } => {
                write!(f, "value `{name}` removed (was {value})")
            }
            Change::ValueChanged { name, old, new } => write!(f, "value `{name}` {old} → {new}"),
            Change::Return { old, new } => write!(f, "returns {old} → {new}"),
            Change::Param { index, old, new } => {
                write!(f, "param {} ", index + 1)?;
                match (old, new) {
                    (Some(o), Some(n)) => {
                        param(f, o)?;
                        f.write_str(" → ")?;
                        param(f, n)
                    }
                    (None, Some(n)) => {
                        f.write_str("added: ")?;
                        param(f, n)
                    }
                    (Some(o), None) => {
                        f.write_str("removed (was ")?;
                        param(f, o)?;
                        f.write_str(")")
                    }
                    (None, None) => Ok(()),
                }
            }
            Change::Target { old, new } => write!(f, "{old} → {new}"),
        }
    }
}

/// The report: each changed type with its changes (the first on the
/// type's line, the others indented under it), then the added and removed
/// types, then a summary line.
impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for changed in &self.changed {
            let mut changes = changed.changes.iter();
            write!(f, "{}", changed.ty)?;
            if let Some(first) = changes.next() {
                write!(f, ": {first}")?;
            }
            f.write_char('\n')?;
            for change in changes {
                writeln!(f, "  {change}")?;
            }
        }
        for added in &self.added {
            writeln!(f, "+ {added}")?;
        }
        for removed in &self.removed {
            writeln!(f, "- {removed}")?;
        }
        writeln!(
            f,
            "summary: {} added, {} removed, {} changed (of {} named types before, {} after)",
            self.added.len(),
            self.removed.len(),
            self.changed.len(),
            self.old_count,
            self.new_count
        )
    }
}

fn json_type(out: &mut impl Write, t: &NamedType) -> fmt::Result {
    write!(
        out,
        "{{\"kind\":{},\"name\":{}}}",
        JsonStr(t.kind),
        JsonStr(&t.name)
    )
}

fn json_param(
    out: &mut impl Write,
    p: &Option<(alloc::string::String, alloc::string::String)>,
) -> fmt::Result {
    match p {
        Some((name, ty)) => write!(
            out,
            "{{\"name\":{},\"type\":{}}}",
            JsonStr(name),
            JsonStr(ty)
        ),
        None => out.write_str("null"),
    }
}

fn json_change(out: &mut impl Write, c: &Change) -> fmt::Result {
    match c {
        Change::Size { old, new } => {
            write!(out, "{{\"change\":\"size\",\"old\":{old},\"new\":{new}}}")
        }
        Change::MemberAdded { path, offset, ty } => write!(
            out,
            "{{\"change\":\"member_added\",\"member\":{},\"bit_offset\":{offset},\"type\":{}}}",
            JsonStr(path),
            JsonStr(ty)
        ),
        Change::MemberRemoved { path, offset, ty } => write!(
            out,
            "{{\"change\":\"member_removed\",\"member\":{},\"bit_offset\":{offset},\"type\":{}}}",
            JsonStr(path),
            JsonStr(ty)
        ),
        Change::MemberMoved { path, old, new } => write!(
            out,
            "{{\"change\":\"member_moved\",\"member\":{},\"old_bit_offset\":{old},\"new_bit_offset\":{new}}}",
            JsonStr(path)
        ),
        Change::MemberResized { path, old, new } => write!(
            out,
            "{{\"change\":\"member_resized\",\"member\":{},\"old\":{old},\"new\":{new}}}",
            JsonStr(path)
        ),
        Change::Bitfield { path, old, new } => write!(
            out,
            "{{\"change\":\"bitfield\",\"member\":{},\"old\":{old},\"new\":{new}}}",
            JsonStr(path)
        ),
        Change::MemberRetyped { path, old, new } => write!(
            out,
            "{{\"change\":\"member_retyped\",\"member\":{},\"old\":{},\"new\":{}}}",
            JsonStr(path),
            JsonStr(old),
            JsonStr(new)
        ),
        Change::ValueAdded { name, value } => write!(
            out,
            "{{\"change\":\"value_added\",\"name\":{},\"value\":{value}}}",
            JsonStr(name)
        ),
        Change::ValueRemoved { name, value } => write!(
            out,
            "{{\"change\":\"value_removed\",\"name\":{},\"value\":{value}}}",
            JsonStr(name)
        ),
        Change::ValueChanged { name, old, new } => write!(
            out,
            "{{\"change\":\"value_changed\",\"name\":{},\"old\":{old},\"new\":{new}}}",
            JsonStr(name)
        ),
        Change::Return { old, new } => write!(
            out,
            "{{\"change\":\"return\",\"old\":{},\"new\":{}}}",
            JsonStr(old),
            JsonStr(new)
        ),
        Change::Param { index, old, new } => {
            write!(out, "{{\"change\":\"param\",\"index\":{index},\"old\":")?;
            json_param(out, old)?;
            out.write_str(",\"new\":")?;
            json_param(out, new)?;
            out.write_char('}')
        }
        Change::Target { old, new } => write!(
            out,
            "{{\"change\":\"target\",\"old\":{},\"new\":{}}}",
            JsonStr(old),
            JsonStr(new)
        ),
    }
}

/// Writes `diff` as one JSON object: `added` and `removed` (arrays of
/// `{"kind", "name"}`), `changed` (each type with its `changes`, each
/// change an object whose `change` field names it), and `summary`.
///
/// # Errors
///
/// The writer's.
pub fn write_json(diff: &Diff, out: &mut impl Write) -> fmt::Result {
    out.write_str("{\"added\":[")?;
    for (i, t) in diff.added.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        json_type(out, t)?;
    }
    out.write_str("],\"removed\":[")?;
    for (i, t) in diff.removed.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        json_type(out, t)?;
    }
    out.write_str("],\"changed\":[")?;
    for (i, c) in diff.changed.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write!(
            out,
            "{{\"kind\":{},\"name\":{},\"changes\":[",
            JsonStr(c.ty.kind),
            JsonStr(&c.ty.name)
        )?;
        for (j, change) in c.changes.iter().enumerate() {
            if j > 0 {
                out.write_char(',')?;
            }
            json_change(out, change)?;
        }
        out.write_str("]}")?;
    }
    write!(
        out,
        "],\"summary\":{{\"added\":{},\"removed\":{},\"changed\":{},\"old_types\":{},\"new_types\":{}}}}}",
        diff.added.len(),
        diff.removed.len(),
        diff.changed.len(),
        diff.old_count,
        diff.new_count
    )
}
