//! Writing the marked types with [`Builder`]: in their original order
//! (vmlinux's, then each module's), structs and unions with only their
//! kept members (offsets and bitfield sizes as they were), enums with
//! only their kept enumerators, every reference past typedefs and
//! modifiers, and references to types not kept turned into void.

use super::error::MinError;
use super::mark::{Key, Marks};
use crate::btf::Btf;
use crate::endian::Endian;
use crate::id::TypeId;
use crate::types::TypeKind;
use crate::write::{Builder, EncodeOptions, EnumeratorDef, MemberDef, Name};
use alloc::vec::Vec;
use hashbrown::HashMap;

/// The encoded output and where each of its types came from.
pub(crate) struct Emitted {
    /// The standalone BTF, or the base of the split form.
    pub(crate) base: Vec<u8>,
    /// The split form's splits, one per module.
    pub(crate) splits: Vec<Vec<u8>>,
    /// The origin of each of `base`'s types, by id - 1.
    pub(crate) base_origins: Vec<Key>,
    /// The origin of each split's types, by id - its first id.
    pub(crate) split_origins: Vec<Vec<Key>>,
}

/// The keys the output holds, in output order.
fn emitted_keys(marks: &Marks<'_, '_>) -> Vec<Key> {
    let mut keys: Vec<Key> = marks
        .map
        .keys()
        .filter(|k| marks.emitted(k))
        .copied()
        .collect();
    keys.sort_unstable();
    keys
}

/// Everything in one BTF.
pub(crate) fn standalone(marks: &Marks<'_, '_>, endian: Endian) -> Result<Emitted, MinError> {
    let keys = emitted_keys(marks);
    let ids: HashMap<Key, u32> = keys.iter().copied().zip(1u32..).collect();
    let mut b = Builder::new();
    for &key in &keys {
        emit_one(&mut b, marks, key, &ids)?;
    }
    Ok(Emitted {
        base: b.encode(&EncodeOptions::new(endian))?,
        splits: Vec::new(),
        base_origins: keys,
        split_origins: Vec::new(),
    })
}

/// vmlinux's types in a base, each module's in a split on it.
pub(crate) fn split(
    marks: &Marks<'_, '_>,
    modules: usize,
    endian: Endian,
) -> Result<Emitted, MinError> {
    let keys = emitted_keys(marks);
    let (base_keys, module_keys): (Vec<Key>, Vec<Key>) =
        keys.into_iter().partition(|k| k.target == 0);
    let mut ids: HashMap<Key, u32> = base_keys.iter().copied().zip(1u32..).collect();
    let mut b = Builder::new();
    for &key in &base_keys {
        emit_one(&mut b, marks, key, &ids)?;
    }
    let base = b.encode(&EncodeOptions::new(endian))?;
    let base_btf = Btf::parse(&base).map_err(|error| MinError::Btf {
        id: TypeId::VOID,
        error,
    })?;
    let first = base_btf.last_id().get().saturating_add(1);
    let mut splits = Vec::with_capacity(modules);
    let mut split_origins = Vec::with_capacity(modules);
    for m in 1..=modules as u32 {
        let own: Vec<Key> = module_keys
            .iter()
            .filter(|k| k.target == m)
            .copied()
            .collect();
        ids.extend(own.iter().copied().zip(first..));
        let mut sb = Builder::split(&base_btf);
        for &key in &own {
            emit_one(&mut sb, marks, key, &ids)?;
        }
        splits.push(sb.encode(&EncodeOptions::new(endian))?);
        split_origins.push(own);
    }
    Ok(Emitted {
        base,
        splits,
        base_origins: base_keys,
        split_origins,
    })
}

/// Appends the type at `key`, as kept, to `b`.
fn emit_one(
    b: &mut Builder<'_>,
    marks: &Marks<'_, '_>,
    key: Key,
    ids: &HashMap<Key, u32>,
) -> Result<(), MinError> {
    let ty = marks.ty(key)?;
    let Some(mark) = marks.map.get(&key) else {
        return Ok(());
    };
    let resolve = |id: TypeId| -> Result<TypeId, MinError> {
        Ok(marks
            .resolve(key.target, id)?
            .and_then(|k| ids.get(&k))
            .map_or(TypeId::VOID, |&n| TypeId::new(n)))
    };
    let src_err = |error| MinError::Btf { id: key.id, error };
    let name: &[u8] = if mark.blank_name {
        b""
    } else {
        ty.name_bytes()
    };
    match ty.as_kind() {
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            let mut members = Vec::new();
            for (i, m) in (0u32..).zip(c.members()) {
                if !mark.keeps(i) {
                    continue;
                }
                members.push(MemberDef {
                    name: Name::from(m.name_bytes().map_err(src_err)?),
                    ty: resolve(m.ty())?,
                    bit_offset: m.bit_offset(),
                    bitfield_size: u8::try_from(m.bitfield_size()).unwrap_or(u8::MAX),
                });
            }
            if ty.kind() == crate::Kind::STRUCT {
                b.add_struct(name, c.size(), &members);
            } else {
                b.add_union(name, c.size(), &members);
            }
        }
        TypeKind::Enum(e) => {
            let mut values = Vec::new();
            for (i, v) in (0u32..).zip(e.values()) {
                if mark.keeps(i) {
                    values.push(EnumeratorDef::unsigned(
                        v.name_bytes().map_err(src_err)?,
                        u64::from(v.raw_value()),
                    ));
                }
            }
            b.add_enum(name, e.size(), e.is_signed(), &values);
        }
        TypeKind::Enum64(e) => {
            let mut values = Vec::new();
            for (i, v) in (0u32..).zip(e.values()) {
                if mark.keeps(i) {
                    values.push(EnumeratorDef::unsigned(
                        v.name_bytes().map_err(src_err)?,
                        v.raw_value(),
                    ));
                }
            }
            b.add_enum64(name, e.size(), e.is_signed(), &values);
        }
        _ => {
            let mut failed = None;
            b.copy_type_with(&ty, |id| {
                resolve(id).unwrap_or_else(|e| {
                    failed.get_or_insert(e);
                    TypeId::VOID
                })
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }
    Ok(())
}
