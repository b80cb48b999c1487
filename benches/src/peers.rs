//! Helpers for `btf-rs`, whose API returns owned `Type` values and
//! `String` names: its kind numbers, sizes, and a lookup by name and kind.

use btf_rs::{Btf as RsBtf, Type};

/// The BTF kind number of a `btf-rs` type.
pub fn kind(t: &Type) -> u32 {
    match t {
        Type::Void => 0,
        Type::Int(_) => 1,
        Type::Ptr(_) => 2,
        Type::Array(_) => 3,
        Type::Struct(_) => 4,
        Type::Union(_) => 5,
        Type::Enum(_) => 6,
        Type::Fwd(_) => 7,
        Type::Typedef(_) => 8,
        Type::Volatile(_) => 9,
        Type::Const(_) => 10,
        Type::Restrict(_) => 11,
        Type::Func(_) => 12,
        Type::FuncProto(_) => 13,
        Type::Var(_) => 14,
        Type::Datasec(_) => 15,
        Type::Float(_) => 16,
        Type::DeclTag(_) => 17,
        Type::TypeTag(_) => 18,
        Type::Enum64(_) => 19,
        _ => u32::MAX,
    }
}

/// The `size` or `type` field of a `btf-rs` type, as far as its API shows
/// it (sizes for sized kinds, the referenced id for the others).
pub fn size_or_type(t: &Type) -> u64 {
    match t {
        Type::Int(x) => x.size() as u64,
        Type::Struct(x) | Type::Union(x) => x.size() as u64,
        Type::Enum(x) => x.size() as u64,
        Type::Enum64(x) => x.size() as u64,
        Type::Float(x) => x.size() as u64,
        Type::Datasec(x) => x.size() as u64,
        _ => t
            .as_btf_type()
            .and_then(|b| b.get_type_id())
            .map_or(0, u64::from),
    }
}

/// The length of a type's name through `btf-rs` (`resolve_name` returns an
/// owned `String`; anonymous types give 0).
pub fn name_len(btf: &RsBtf, t: &Type) -> usize {
    t.as_btf_type()
        .and_then(|b| btf.resolve_name(b).ok())
        .map_or(0, |s| s.len())
}

/// The lowest id named `name` of `kind`, through `btf-rs`'s name map.
pub fn find_by_name_kind(btf: &RsBtf, name: &str, kind_wanted: u32) -> Option<u32> {
    btf.resolve_ids_by_name(name)
        .ok()?
        .into_iter()
        .filter(|&id| {
            btf.resolve_type_by_id(id)
                .is_ok_and(|t| kind(&t) == kind_wanted)
        })
        .min()
}
