//! What changed between two blobs' types: [`diff`].
//!
//! Types are matched by kind and name (an ENUM and an ENUM64 of one name
//! match as `enum`), never by id: ids differ from one kernel build to the
//! next. Each pair is compared by what C sees: a struct's or union's size
//! and members (anonymous members flattened into their parent, with their
//! offsets from its start), member and parameter types spelled in C, enum
//! values, function prototypes, typedef targets, integer and float sizes,
//! variable types. Anonymous types are compared through the named types
//! that contain them.
//!
//! ```
//! use btf_core::{Btf, diff};
//! use btf_core::write::{Builder, EncodeOptions, MemberDef};
//! let blob = |extra: bool| {
//!     let mut b = Builder::new();
//!     let int = b.add_int("int", 4, btf_core::wire::INT_SIGNED);
//!     let mut members = vec![MemberDef::new("a", int, 0)];
//!     if extra {
//!         members.push(MemberDef::new("b", int, 32));
//!     }
//!     b.add_struct("point", if extra { 8 } else { 4 }, &members);
//!     b.encode(&EncodeOptions::default()).unwrap()
//! };
//! let (old, new) = (blob(false), blob(true));
//! let report = diff::diff(&Btf::parse(&old)?, &Btf::parse(&new)?, &diff::DiffOptions::default());
//! assert_eq!(
//!     report.to_string(),
//!     "struct point: size 4 → 8\n  member `b` added at offset 4 (int)\n\
//!      summary: 0 added, 0 removed, 1 changed (of 2 named types before, 2 after)\n"
//! );
//! # Ok::<(), btf_core::Error>(())
//! ```

mod report;
pub(crate) mod spell;

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::btf::Btf;
use crate::id::{Kind, TypeId};
use crate::types::{EnumValue, Type, TypeKind};

pub use report::write_json;

/// What to compare.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct DiffOptions {
    /// Only layout: structs' and unions' sizes and members' offsets, sizes,
    /// bitfields, presence (not member types by name, enums, functions,
    /// typedefs).
    pub layout_only: bool,
    /// Only these named types (`struct sk_buff`, `sk_buff`, `enum foo`)
    /// and the named types they hold by value (members, array elements,
    /// typedef targets, modifiers, a function's return and parameter
    /// types), on either side; not what they point to, which would reach
    /// most of a kernel. Empty: every type.
    pub types: Vec<String>,
}

impl DiffOptions {
    /// Sets [`DiffOptions::layout_only`].
    pub fn layout_only(mut self, layout_only: bool) -> DiffOptions {
        self.layout_only = layout_only;
        self
    }

    /// Sets [`DiffOptions::types`].
    pub fn types<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> DiffOptions {
        self.types = types.into_iter().map(Into::into).collect();
        self
    }
}

/// A named type: its kind as a diff names it and its name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NamedType {
    /// `struct`, `union`, `enum`, `typedef`, `func`, `int`, `float`, `var`.
    pub kind: &'static str,
    /// The name.
    pub name: String,
}

/// The differences between two blobs' named types.
#[derive(Clone, Debug, Default)]
pub struct Diff {
    /// In the new blob only.
    pub added: Vec<NamedType>,
    /// In the old blob only.
    pub removed: Vec<NamedType>,
    /// In both, with differences.
    pub changed: Vec<TypeChange>,
    /// Named types compared on each side.
    pub old_count: usize,
    /// Named types compared on each side.
    pub new_count: usize,
}

/// One named type's differences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeChange {
    /// The type.
    pub ty: NamedType,
    /// What changed, in the order the report prints it.
    pub changes: Vec<Change>,
}

/// One difference of a type. Offsets are in bits from the start of the
/// outermost named struct or union; `path` names a member (`a.b` inside
/// an anonymous or nested member).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The size in bytes.
    Size {
        /// Before.
        old: u32,
        /// After.
        new: u32,
    },
    /// A member only the new type has.
    MemberAdded {
        /// Its name.
        path: String,
        /// Its offset in bits.
        offset: u32,
        /// Its type, in C.
        ty: String,
    },
    /// A member only the old type had.
    MemberRemoved {
        /// Its name.
        path: String,
        /// Its offset in bits.
        offset: u32,
        /// Its type, in C.
        ty: String,
    },
    /// A member at another offset.
    MemberMoved {
        /// Its name.
        path: String,
        /// Bits, before.
        old: u32,
        /// Bits, after.
        new: u32,
    },
    /// A member of another size (bytes; a bitfield's size is in
    /// [`Change::Bitfield`]).
    MemberResized {
        /// Its name.
        path: String,
        /// Bytes, before.
        old: u32,
        /// Bytes, after.
        new: u32,
    },
    /// A member's bitfield width (0: not a bitfield).
    Bitfield {
        /// Its name.
        path: String,
        /// Bits, before.
        old: u32,
        /// Bits, after.
        new: u32,
    },
    /// A member of another type (spelled in C).
    MemberRetyped {
        /// Its name.
        path: String,
        /// Before.
        old: String,
        /// After.
        new: String,
    },
    /// An enumerator only the new enum has.
    ValueAdded {
        /// Its name.
        name: String,
        /// Its value.
        value: EnumValue,
    },
    /// An enumerator only the old enum had.
    ValueRemoved {
        /// Its name.
        name: String,
        /// Its value.
        value: EnumValue,
    },
    /// An enumerator with another value.
    ValueChanged {
        /// Its name.
        name: String,
        /// Before.
        old: EnumValue,
        /// After.
        new: EnumValue,
    },
    /// A function's or prototype's return type.
    Return {
        /// Before.
        old: String,
        /// After.
        new: String,
    },
    /// A function's parameter at `index` (from 0): another name or type,
    /// or only on one side (the other spelled as an empty string).
    Param {
        /// Its index.
        index: usize,
        /// Name and type before (`None`: no such parameter).
        old: Option<(String, String)>,
        /// Name and type after.
        new: Option<(String, String)>,
    },
    /// What a typedef or variable names (spelled in C).
    Target {
        /// Before.
        old: String,
        /// After.
        new: String,
    },
}

/// The kinds a diff compares, as it names them.
fn kind_name(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::STRUCT => "struct",
        Kind::UNION => "union",
        Kind::ENUM | Kind::ENUM64 => "enum",
        Kind::TYPEDEF => "typedef",
        Kind::FUNC => "func",
        Kind::INT => "int",
        Kind::FLOAT => "float",
        Kind::VAR => "var",
        _ => return None,
    })
}

/// Every named type of `btf` a diff compares (own types; for a split,
/// those of the split), the lowest id of each kind and name.
fn named<'b>(btf: &'b Btf<'b>) -> BTreeMap<NamedType, Type<'b>> {
    let mut map = BTreeMap::new();
    for ty in btf.types() {
        let (Some(kind), Ok(name)) = (kind_name(ty.kind()), ty.name()) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        map.entry(NamedType {
            kind,
            name: name.to_string(),
        })
        .or_insert(ty);
    }
    map
}

/// Compares `old` and `new` (see the [module docs](self)).
pub fn diff(old: &Btf<'_>, new: &Btf<'_>, opts: &DiffOptions) -> Diff {
    let mut before = named(old);
    let mut after = named(new);
    if !opts.types.is_empty() {
        let keep_old = reach(old, &before, &opts.types);
        let keep_new = reach(new, &after, &opts.types);
        before.retain(|k, _| keep_old.contains(k) || keep_new.contains(k));
        after.retain(|k, _| keep_old.contains(k) || keep_new.contains(k));
    }
    let mut out = Diff {
        old_count: before.len(),
        new_count: after.len(),
        ..Diff::default()
    };
    for (key, old_ty) in &before {
        match after.get(key) {
            None => {
                if !opts.layout_only || matches!(key.kind, "struct" | "union") {
                    out.removed.push(key.clone());
                }
            }
            Some(new_ty) => {
                let changes = compare(old, *old_ty, new, *new_ty, opts);
                if !changes.is_empty() {
                    out.changed.push(TypeChange {
                        ty: key.clone(),
                        changes,
                    });
                }
            }
        }
    }
    for key in after.keys() {
        if !before.contains_key(key)
            && (!opts.layout_only || matches!(key.kind, "struct" | "union"))
        {
            out.added.push(key.clone());
        }
    }
    out
}

/// The named types `names` select (with or without their kind word) and
/// every named type they hold by value, in `btf`.
fn reach(
    btf: &Btf<'_>,
    named: &BTreeMap<NamedType, Type<'_>>,
    names: &[String],
) -> alloc::collections::BTreeSet<NamedType> {
    let mut seen = alloc::collections::BTreeSet::new();
    let mut visited = alloc::collections::BTreeSet::new();
    let mut stack: Vec<TypeId> = Vec::new();
    for want in names {
        let (kind, name) = match want.split_once(' ') {
            Some((kind, name)) => (Some(kind), name),
            None => (None, want.as_str()),
        };
        for (key, ty) in named {
            if key.name == name && kind.is_none_or(|k| k == key.kind) {
                stack.push(ty.id());
            }
        }
    }
    // Bounded by the blob: each id is visited once.
    while let Some(id) = stack.pop() {
        if !visited.insert(id.get()) {
            continue;
        }
        let Ok(ty) = btf.type_by_id(id) else { continue };
        if let (Some(kind), Ok(name)) = (kind_name(ty.kind()), ty.name())
            && !name.is_empty()
        {
            seen.insert(NamedType {
                kind,
                name: name.to_string(),
            });
        }
        match ty.as_kind() {
            TypeKind::Struct(c) | TypeKind::Union(c) => stack.extend(c.members().map(|m| m.ty())),
            TypeKind::FuncProto(p) => {
                stack.push(p.return_type());
                stack.extend(p.params().map(|p| p.ty()));
            }
            TypeKind::Func(f) => stack.push(f.proto),
            TypeKind::Array(a) => stack.push(a.elem),
            TypeKind::Var(v) => stack.push(v.ty),
            TypeKind::Typedef(to)
            | TypeKind::Const(to)
            | TypeKind::Volatile(to)
            | TypeKind::Restrict(to) => stack.push(to),
            TypeKind::TypeTag(t) => stack.push(t.ty),
            _ => {}
        }
    }
    seen
}

/// The differences of one matched pair.
fn compare(
    old: &Btf<'_>,
    a: Type<'_>,
    new: &Btf<'_>,
    b: Type<'_>,
    opts: &DiffOptions,
) -> Vec<Change> {
    let mut changes = Vec::new();
    match (a.as_kind(), b.as_kind()) {
        (TypeKind::Struct(x) | TypeKind::Union(x), TypeKind::Struct(y) | TypeKind::Union(y)) => {
            if x.size() != y.size() {
                changes.push(Change::Size {
                    old: x.size(),
                    new: y.size(),
                });
            }
            layout::compare(old, a, new, b, opts, &mut changes);
        }
        _ if opts.layout_only => {}
        (TypeKind::Int(x), TypeKind::Int(y)) if x.size != y.size => changes.push(Change::Size {
            old: x.size,
            new: y.size,
        }),
        (TypeKind::Float(x), TypeKind::Float(y)) if x != y => {
            changes.push(Change::Size { old: x, new: y })
        }
        (TypeKind::Enum(_) | TypeKind::Enum64(_), TypeKind::Enum(_) | TypeKind::Enum64(_)) => {
            let (sa, sb) = (a.size().unwrap_or(0), b.size().unwrap_or(0));
            if sa != sb {
                changes.push(Change::Size { old: sa, new: sb });
            }
            enums(a, b, &mut changes);
        }
        (TypeKind::Typedef(x), TypeKind::Typedef(y)) => {
            let (sx, sy) = (spell::spell(old, x), spell::spell(new, y));
            if sx != sy {
                changes.push(Change::Target { old: sx, new: sy });
            }
        }
        (TypeKind::Var(x), TypeKind::Var(y)) => {
            let (sx, sy) = (spell::spell(old, x.ty), spell::spell(new, y.ty));
            if sx != sy {
                changes.push(Change::Target { old: sx, new: sy });
            }
        }
        (TypeKind::Func(x), TypeKind::Func(y)) => protos(old, x.proto, new, y.proto, &mut changes),
        _ => {}
    }
    changes
}

/// Enumerators, by name.
fn enums(a: Type<'_>, b: Type<'_>, changes: &mut Vec<Change>) {
    let values = |t: Type<'_>| -> Vec<(String, EnumValue)> {
        match t.as_kind() {
            TypeKind::Enum(e) => e
                .values()
                .map(|v| (v.name().unwrap_or("?").to_string(), v.value()))
                .collect(),
            TypeKind::Enum64(e) => e
                .values()
                .map(|v| (v.name().unwrap_or("?").to_string(), v.value()))
                .collect(),
            _ => Vec::new(),
        }
    };
    let (va, vb) = (values(a), values(b));
    let find = |list: &[(String, EnumValue)], name: &str| {
        list.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    };
    for (name, value) in &va {
        match find(&vb, name) {
            None => changes.push(Change::ValueRemoved {
                name: name.clone(),
                value: *value,
            }),
            Some(new) if new.bits() != value.bits() => changes.push(Change::ValueChanged {
                name: name.clone(),
                old: *value,
                new,
            }),
            Some(_) => {}
        }
    }
    for (name, value) in &vb {
        if find(&va, name).is_none() {
            changes.push(Change::ValueAdded {
                name: name.clone(),
                value: *value,
            });
        }
    }
}

/// Prototypes: return type, then each parameter by position.
fn protos(old: &Btf<'_>, a: TypeId, new: &Btf<'_>, b: TypeId, changes: &mut Vec<Change>) {
    let parts = |btf: &Btf<'_>, id: TypeId| -> Option<(String, Vec<(String, String)>)> {
        let TypeKind::FuncProto(p) = btf.type_by_id(id).ok()?.as_kind() else {
            return None;
        };
        let params = p
            .params()
            .map(|param| {
                let name = param.name().unwrap_or("?").to_string();
                let ty = if param.is_variadic() {
                    "...".to_string()
                } else {
                    spell::spell(btf, param.ty())
                };
                (name, ty)
            })
            .collect();
        Some((spell::spell(btf, p.return_type()), params))
    };
    let (Some((ra, pa)), Some((rb, pb))) = (parts(old, a), parts(new, b)) else {
        return;
    };
    if ra != rb {
        changes.push(Change::Return { old: ra, new: rb });
    }
    for index in 0..pa.len().max(pb.len()) {
        let (x, y) = (pa.get(index).cloned(), pb.get(index).cloned());
        if x != y {
            changes.push(Change::Param {
                index,
                old: x,
                new: y,
            });
        }
    }
}

mod layout {
    //! Struct and union members, flattened: anonymous members' members and
    //! named members of anonymous aggregate type are listed with their
    //! offsets from the outermost type's start.

    use super::{Change, DiffOptions, spell};
    use crate::btf::Btf;
    use crate::types::{Type, TypeKind};
    use alloc::collections::BTreeMap;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    /// How deep anonymous aggregates are followed.
    const MAX_NEST: usize = 16;

    /// A flattened member.
    struct Flat {
        path: String,
        offset: u32,
        /// Bytes (0 when unknown).
        size: u32,
        bitfield: u32,
        ty: String,
    }

    fn flatten(
        btf: &Btf<'_>,
        ty: Type<'_>,
        prefix: &str,
        base: u32,
        depth: usize,
        out: &mut Vec<Flat>,
    ) {
        let Some(members) = ty.members() else { return };
        for m in members {
            let name = m.name().unwrap_or("?");
            let offset = base.saturating_add(m.bit_offset());
            let inner = btf.skip_mods(m.ty()).ok();
            let anonymous_aggregate = inner.as_ref().is_some_and(|t| {
                matches!(t.as_kind(), TypeKind::Struct(_) | TypeKind::Union(_))
                    && t.name_bytes().is_empty()
            });
            let path = if name.is_empty() {
                prefix.to_string()
            } else if prefix.is_empty() {
                name.to_string()
            } else {
                alloc::format!("{prefix}.{name}")
            };
            match inner {
                Some(t) if anonymous_aggregate && depth < MAX_NEST => {
                    flatten(btf, t, &path, offset, depth + 1, out)
                }
                _ => out.push(Flat {
                    path,
                    offset,
                    size: btf.size_of(m.ty()).unwrap_or(0),
                    bitfield: m.bitfield_size(),
                    ty: spell::spell(btf, m.ty()),
                }),
            }
        }
    }

    pub(super) fn compare(
        old: &Btf<'_>,
        a: Type<'_>,
        new: &Btf<'_>,
        b: Type<'_>,
        opts: &DiffOptions,
        changes: &mut Vec<Change>,
    ) {
        let (mut fa, mut fb) = (Vec::new(), Vec::new());
        flatten(old, a, "", 0, 0, &mut fa);
        flatten(new, b, "", 0, 0, &mut fb);
        let by_path_a: BTreeMap<&str, &Flat> = fa.iter().map(|x| (x.path.as_str(), x)).collect();
        let by_path_b: BTreeMap<&str, &Flat> = fb.iter().map(|y| (y.path.as_str(), y)).collect();
        for x in &fa {
            let Some(y) = by_path_b.get(x.path.as_str()) else {
                changes.push(Change::MemberRemoved {
                    path: x.path.clone(),
                    offset: x.offset,
                    ty: x.ty.clone(),
                });
                continue;
            };
            if x.offset != y.offset {
                changes.push(Change::MemberMoved {
                    path: x.path.clone(),
                    old: x.offset,
                    new: y.offset,
                });
            }
            if x.bitfield != y.bitfield {
                changes.push(Change::Bitfield {
                    path: x.path.clone(),
                    old: x.bitfield,
                    new: y.bitfield,
                });
            } else if x.size != y.size {
                changes.push(Change::MemberResized {
                    path: x.path.clone(),
                    old: x.size,
                    new: y.size,
                });
            }
            if !opts.layout_only && x.ty != y.ty {
                changes.push(Change::MemberRetyped {
                    path: x.path.clone(),
                    old: x.ty.clone(),
                    new: y.ty.clone(),
                });
            }
        }
        for y in &fb {
            if !by_path_a.contains_key(y.path.as_str()) {
                changes.push(Change::MemberAdded {
                    path: y.path.clone(),
                    offset: y.offset,
                    ty: y.ty.clone(),
                });
            }
        }
    }
}
