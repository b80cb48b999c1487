//! Layout questions answered by following references: sizes, alignments,
//! and skipping modifiers and typedefs. Every walk is bounded, so a loop in
//! the graph is an error, not a hang or a stack overflow.

use crate::btf::Btf;
use crate::error::{Error, Result};
use crate::id::{Kind, TypeId};
use crate::types::{Type, TypeKind};
use core::sync::atomic::Ordering;

/// How many references a resolution may follow (libbpf's and the kernel's
/// limit).
pub const MAX_RESOLVE_DEPTH: u32 = 32;

/// How many types [`Btf::align_of`] may visit for one answer (members of
/// members included): 2^18, sixteen times what the largest structs of a
/// 2026 kernel need (between 2^12 and 2^14), and a bound on BTF built to
/// make the walk exponential.
pub const MAX_ALIGN_VISITS: u32 = 1 << 18;

/// Names under which C compilers emit `long`; its size gives the pointer size.
const LONG_NAMES: [&[u8]; 11] = [
    b"long",
    b"long int",
    b"int long",
    b"unsigned long",
    b"long unsigned",
    b"unsigned long int",
    b"unsigned int long",
    b"long unsigned int",
    b"long int unsigned",
    b"int unsigned long",
    b"int long unsigned",
];

impl<'a> Btf<'a> {
    /// Follows `const`, `volatile`, `restrict` and type tags from `id` to the
    /// first type that is none of those.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchType`], [`Error::ResolveDepth`].
    pub fn skip_mods(&self, id: TypeId) -> Result<Type<'_>> {
        self.skip(id, false)
    }

    /// Follows modifiers, type tags and typedefs from `id` to the underlying
    /// type.
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// let btf = btf_core::Btf::parse(&blob)?;
    /// let alias = btf.find_by_name_kind("point_t", btf_core::Kind::TYPEDEF).unwrap();
    /// assert_eq!(btf.skip_mods_and_typedefs(alias.id())?.name()?, "point");
    /// # Ok::<(), btf_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchType`], [`Error::ResolveDepth`].
    pub fn skip_mods_and_typedefs(&self, id: TypeId) -> Result<Type<'_>> {
        self.skip(id, true)
    }

    fn skip(&self, id: TypeId, typedefs: bool) -> Result<Type<'_>> {
        let mut ty = self.type_by_id(id)?;
        for _ in 0..=MAX_RESOLVE_DEPTH {
            let next = match ty.as_kind() {
                TypeKind::Const(t) | TypeKind::Volatile(t) | TypeKind::Restrict(t) => t,
                TypeKind::TypeTag(t) => t.ty,
                TypeKind::Typedef(t) if typedefs => t,
                _ => return Ok(ty),
            };
            ty = self.type_by_id(next)?;
        }
        Err(Error::ResolveDepth { id })
    }

    /// The size in bytes of `id`: through typedefs, modifiers, tags and
    /// VARs; arrays multiply; pointers have [`pointer_size`](Self::pointer_size).
    ///
    /// # Errors
    ///
    /// [`Error::NoSize`] for void, FWD, FUNC, FUNC_PROTO and unknown kinds;
    /// [`Error::SizeOverflow`] past `u32::MAX`; [`Error::NoSuchType`];
    /// [`Error::ResolveDepth`].
    pub fn size_of(&self, id: TypeId) -> Result<u32> {
        let mut mult: u64 = 1;
        let mut cur = id;
        for _ in 0..=MAX_RESOLVE_DEPTH {
            let ty = self.type_by_id(cur)?;
            let size = match ty.as_kind() {
                TypeKind::Ptr(_) => u64::from(self.pointer_size()),
                TypeKind::Typedef(t)
                | TypeKind::Volatile(t)
                | TypeKind::Const(t)
                | TypeKind::Restrict(t) => {
                    cur = t;
                    continue;
                }
                TypeKind::TypeTag(t) => {
                    cur = t.ty;
                    continue;
                }
                TypeKind::DeclTag(t) => {
                    cur = t.ty;
                    continue;
                }
                TypeKind::Var(v) => {
                    cur = v.ty;
                    continue;
                }
                TypeKind::Array(a) => {
                    mult = mult
                        .checked_mul(u64::from(a.nelems))
                        .filter(|&m| m <= u64::from(u32::MAX))
                        .ok_or(Error::SizeOverflow { id })?;
                    cur = a.elem;
                    continue;
                }
                _ => match ty.size() {
                    Some(size) => u64::from(size),
                    None => {
                        return Err(Error::NoSize {
                            id: ty.id(),
                            kind: ty.kind(),
                        });
                    }
                },
            };
            return size
                .checked_mul(mult)
                .and_then(|s| u32::try_from(s).ok())
                .ok_or(Error::SizeOverflow { id });
        }
        Err(Error::ResolveDepth { id })
    }

    /// The alignment in bytes of `id`, as a C compiler for the blob's target
    /// would lay it out: scalars align to their size (capped at the pointer
    /// size), aggregates to their largest member, and an aggregate whose
    /// members or size contradict that is packed (alignment 1).
    ///
    /// # Errors
    ///
    /// As [`size_of`](Self::size_of), and [`Error::ResolveLimit`] when the
    /// answer needs more than [`MAX_ALIGN_VISITS`] visits.
    pub fn align_of(&self, id: TypeId) -> Result<u32> {
        let mut budget = MAX_ALIGN_VISITS;
        self.align_in(id, id, 0, &mut budget)
    }

    fn align_in(&self, root: TypeId, id: TypeId, depth: u32, budget: &mut u32) -> Result<u32> {
        if depth > MAX_RESOLVE_DEPTH {
            return Err(Error::ResolveDepth { id: root });
        }
        // Aggregates that embed one another many times over (a union of
        // three copies of a union of three copies …) make the walk
        // exponential in the depth: bound the total.
        *budget = budget.checked_sub(1).ok_or(Error::ResolveLimit {
            id: root,
            visits: MAX_ALIGN_VISITS,
        })?;
        let next = depth.saturating_add(1);
        let ty = self.type_by_id(id)?;
        let ptr = self.pointer_size();
        match ty.as_kind() {
            TypeKind::Int(i) => Ok(i.size.min(ptr).max(1)),
            TypeKind::Enum(e) => Ok(e.size().min(ptr).max(1)),
            TypeKind::Enum64(e) => Ok(e.size().min(ptr).max(1)),
            TypeKind::Float(size) => Ok(size.min(ptr).max(1)),
            TypeKind::Ptr(_) => Ok(ptr),
            TypeKind::Typedef(t)
            | TypeKind::Volatile(t)
            | TypeKind::Const(t)
            | TypeKind::Restrict(t) => self.align_in(root, t, next, budget),
            TypeKind::TypeTag(t) => self.align_in(root, t.ty, next, budget),
            TypeKind::Var(v) => self.align_in(root, v.ty, next, budget),
            TypeKind::Array(a) => self.align_in(root, a.elem, next, budget),
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                let mut max_align = 1u32;
                for m in c.members() {
                    let align = self.align_in(root, m.ty(), next, budget)?;
                    max_align = max_align.max(align);
                    // A member off its natural alignment means the
                    // aggregate is packed.
                    if m.bitfield_size() == 0
                        && u64::from(m.bit_offset()) % (u64::from(align) * 8) != 0
                    {
                        return Ok(1);
                    }
                }
                if c.size() % max_align != 0 {
                    return Ok(1);
                }
                Ok(max_align)
            }
            _ => Err(Error::NoSize {
                id: ty.id(),
                kind: ty.kind(),
            }),
        }
    }

    /// The pointer size of the blob's target in bytes: the size of its C
    /// `long`, found by name (the base's answer for a split); 8 when the
    /// blob has no `long`. Found once and remembered.
    pub fn pointer_size(&self) -> u32 {
        match self.cache().ptr_size.load(Ordering::Relaxed) {
            0 => {
                let size = self.find_pointer_size().unwrap_or(8);
                self.set_pointer_size(size);
                u32::from(size)
            }
            n => u32::from(n),
        }
    }

    /// Overrides the pointer size (4 or 8 in practice) used by
    /// [`size_of`](Self::size_of) and [`align_of`](Self::align_of).
    pub fn set_pointer_size(&self, size: u8) {
        self.cache().ptr_size.store(size.max(1), Ordering::Relaxed);
    }

    fn find_pointer_size(&self) -> Option<u8> {
        if let Some(base) = self.base() {
            return Some(base.pointer_size() as u8);
        }
        self.types().find_map(|t| {
            let size = t
                .size()
                .filter(|&s| t.kind() == Kind::INT && (s == 4 || s == 8))?;
            LONG_NAMES.contains(&t.name_bytes()).then_some(size as u8)
        })
    }
}
