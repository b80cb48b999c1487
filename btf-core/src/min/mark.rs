//! Marking what the output keeps: types, and which members or
//! enumerators of each.
//!
//! Three walks, after bpftool's `btfgen_mark_type` and
//! `btfgen_mark_type_match`, each keeping exactly what libbpf's checks
//! read from that kind of relocation:
//!
//! - [`Mode::Plain`] (field and enumerator relocations): the type, what
//!   its size depends on (array elements, typedef and modifier chains)
//!   and a prototype's types; not what a pointer points at, not a
//!   struct's members, not an enum's enumerators.
//! - [`Mode::Follow`] (type existence, size and target id): as plain,
//!   and through pointers, because `bpf_core_types_are_compat` follows
//!   them.
//! - [`Mode::Match`] (`TYPE_MATCHES`): every member of a struct or union
//!   reached other than through a pointer, every enumerator, through
//!   pointers (where only kinds and names count), as
//!   `bpf_core_types_match` reads them.
//!
//! Field paths keep the members they go through, one by one; enumerator
//! relocations keep the enumerator matched.

use super::error::MinError;
use crate::btf::Btf;
use crate::id::{Kind, TypeId};
use crate::reloc::{Candidate, essential_name};
use crate::types::{Type, TypeKind};
use alloc::vec::Vec;
use hashbrown::HashMap;

/// A type of the targets: which target (0 for vmlinux, `i + 1` for module
/// `i`) and its id. Ids up to vmlinux's last are always vmlinux's (a
/// module refers to vmlinux types by their ids), so one vmlinux type has
/// one key whichever module reached it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub(crate) target: u32,
    pub(crate) id: TypeId,
}

/// How a type is reached; see the module's documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Plain,
    Follow,
    Match { behind_ptr: bool },
}

const PLAIN: u8 = 1;
const FOLLOW: u8 = 2;
const MATCH_BEHIND: u8 = 4;
const MATCH: u8 = 8;

impl Mode {
    /// The walks this one includes (every mode keeps what plain keeps;
    /// matching in front of a pointer keeps what matching behind does).
    fn bits(self) -> u8 {
        match self {
            Mode::Plain => PLAIN,
            Mode::Follow => PLAIN | FOLLOW,
            Mode::Match { behind_ptr: true } => PLAIN | MATCH_BEHIND,
            Mode::Match { behind_ptr: false } => PLAIN | MATCH_BEHIND | MATCH,
        }
    }

    /// The bit that says this walk was done.
    fn own_bit(self) -> u8 {
        match self {
            Mode::Plain => PLAIN,
            Mode::Follow => FOLLOW,
            Mode::Match { behind_ptr: true } => MATCH_BEHIND,
            Mode::Match { behind_ptr: false } => MATCH,
        }
    }
}

/// What the output keeps of one type.
#[derive(Clone, Debug)]
pub(crate) struct Mark {
    pub(crate) kind: Kind,
    /// Members or enumerators kept, by index (sorted and deduplicated by
    /// [`Marks::finish`]).
    pub(crate) elems: Vec<u32>,
    /// Every member or enumerator kept.
    pub(crate) all: bool,
    /// A candidate that a relocation matched (or tried, and must still
    /// not match): kept even when a typedef, so that candidate search
    /// finds it.
    pub(crate) root: bool,
    /// Written without its name (see `Minimizer`'s standalone form).
    pub(crate) blank_name: bool,
    /// Its name is read by a `TYPE_MATCHES` comparison.
    pub(crate) named: bool,
    walked: u8,
}

impl Mark {
    fn new(kind: Kind) -> Mark {
        Mark {
            kind,
            elems: Vec::new(),
            all: false,
            root: false,
            blank_name: false,
            named: false,
            walked: 0,
        }
    }

    /// Whether member or enumerator `i` is kept.
    pub(crate) fn keeps(&self, i: u32) -> bool {
        self.all || self.elems.binary_search(&i).is_ok()
    }

    /// Whether the walk `mode` reached this type.
    pub(crate) fn walked(&self, mode: Mode) -> bool {
        self.walked & mode.own_bit() != 0
    }
}

/// The depth `bpf_core_types_match` allows (and loops it runs per
/// level).
const MATCH_LEVELS: u32 = 32;

/// libbpf's `bpf_core_names_match`: an anonymous target matches only an
/// anonymous local; otherwise essential names must be equal.
fn names_match(local: &[u8], targ: &[u8]) -> bool {
    if targ.is_empty() {
        return local.is_empty();
    }
    essential_name(local) == essential_name(targ)
}

/// An enum's enumerator names, in order (empty for other kinds).
fn enumerator_names<'a>(t: &Type<'a>) -> Vec<&'a [u8]> {
    match t.as_kind() {
        TypeKind::Enum(e) => e
            .values()
            .map(|v| v.name_bytes().unwrap_or_default())
            .collect(),
        TypeKind::Enum64(e) => e
            .values()
            .map(|v| v.name_bytes().unwrap_or_default())
            .collect(),
        _ => Vec::new(),
    }
}

/// A typedef, modifier or type tag: every CO-RE computation looks
/// through these (libbpf's `skip_mods_and_typedefs`), so the output
/// refers past them and keeps one only as a relocation's candidate.
pub(crate) fn is_link(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::TYPEDEF | Kind::CONST | Kind::VOLATILE | Kind::RESTRICT | Kind::TYPE_TAG
    )
}

/// The marks over all targets.
pub(crate) struct Marks<'a, 't> {
    vmlinux: &'t Btf<'t>,
    /// Target BTFs: vmlinux, then each module (split on it).
    pub(crate) btfs: &'a [&'t Btf<'t>],
    vmlinux_last: u32,
    pub(crate) map: HashMap<Key, Mark>,
}

impl<'a, 't> Marks<'a, 't> {
    /// Marks over `vmlinux` and the modules after it in `btfs` (whose
    /// first is `vmlinux`).
    pub(crate) fn new(vmlinux: &'t Btf<'t>, btfs: &'a [&'t Btf<'t>]) -> Self {
        Marks {
            vmlinux,
            btfs,
            vmlinux_last: vmlinux.last_id().get(),
            map: HashMap::new(),
        }
    }

    /// The key of `id` as seen from target `target`.
    pub(crate) fn key(&self, target: u32, id: TypeId) -> Key {
        Key {
            target: if id.get() <= self.vmlinux_last {
                0
            } else {
                target
            },
            id,
        }
    }

    /// The key of a candidate.
    pub(crate) fn key_of(&self, cand: Candidate) -> Key {
        self.key(cand.target, cand.id)
    }

    fn btf(&self, target: u32) -> &'t Btf<'t> {
        // Keys come from candidates and ids read in these BTFs; a target
        // out of range cannot occur, and vmlinux is the safe answer.
        self.btfs
            .get(target as usize)
            .copied()
            .unwrap_or(self.vmlinux)
    }

    /// The type at `key`.
    pub(crate) fn ty(&self, key: Key) -> Result<Type<'t>, MinError> {
        self.btf(key.target)
            .type_by_id(key.id)
            .map_err(|error| MinError::Btf { id: key.id, error })
    }

    /// The type under `id`'s typedefs and modifiers, as seen from
    /// `target`.
    pub(crate) fn skip(&self, target: u32, id: TypeId) -> Result<Type<'t>, MinError> {
        self.btf(target)
            .skip_mods_and_typedefs(id)
            .map_err(|error| MinError::Btf { id, error })
    }

    /// Walks from `start` in `mode`, marking every type reached.
    pub(crate) fn walk(&mut self, start: Key, mode: Mode) -> Result<(), MinError> {
        let mut work = alloc::vec![(start, mode)];
        while let Some((key, mode)) = work.pop() {
            if key.id.is_void() {
                continue;
            }
            let ty = self.ty(key)?;
            let mark = self.map.entry(key).or_insert_with(|| Mark::new(ty.kind()));
            if mark.walked & mode.own_bit() != 0 {
                continue;
            }
            mark.walked |= mode.bits();
            if matches!(mode, Mode::Match { .. }) {
                mark.named = true;
            }
            let child = |id: TypeId| Key {
                target: if id.get() <= self.vmlinux_last {
                    0
                } else {
                    key.target
                },
                id,
            };
            let front = mode == Mode::Match { behind_ptr: false };
            match ty.as_kind() {
                TypeKind::Enum(_) | TypeKind::Enum64(_) => {
                    if matches!(mode, Mode::Match { .. }) {
                        mark.all = true;
                    }
                }
                TypeKind::Struct(c) | TypeKind::Union(c) if front => {
                    mark.all = true;
                    for m in c.members() {
                        work.push((child(m.ty()), mode));
                    }
                }
                TypeKind::Ptr(to) => match mode {
                    Mode::Plain => {}
                    Mode::Follow => work.push((child(to), mode)),
                    Mode::Match { .. } => {
                        work.push((child(to), Mode::Match { behind_ptr: true }));
                    }
                },
                TypeKind::Typedef(to)
                | TypeKind::Const(to)
                | TypeKind::Volatile(to)
                | TypeKind::Restrict(to) => work.push((child(to), mode)),
                TypeKind::TypeTag(t) => work.push((child(t.ty), mode)),
                TypeKind::Array(a) => {
                    work.push((child(a.elem), mode));
                    work.push((child(a.index), Mode::Plain));
                }
                TypeKind::FuncProto(p) => {
                    work.push((child(p.return_type()), mode));
                    for param in p.params() {
                        work.push((child(param.ty()), mode));
                    }
                }
                TypeKind::Func(f) => work.push((child(f.proto), mode)),
                TypeKind::Var(v) => work.push((child(v.ty), mode)),
                TypeKind::DeclTag(d) => work.push((child(d.ty), mode)),
                TypeKind::Datasec(d) => {
                    for e in d.entries() {
                        work.push((child(e.ty()), mode));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Marks `key` as a relocation's candidate.
    pub(crate) fn set_root(&mut self, key: Key) -> Result<(), MinError> {
        let kind = self.ty(key)?.kind();
        self.map.entry(key).or_insert_with(|| Mark::new(kind)).root = true;
        Ok(())
    }

    fn add_elem(&mut self, key: Key, kind: Kind, i: u32) {
        self.map
            .entry(key)
            .or_insert_with(|| Mark::new(kind))
            .elems
            .push(i);
    }

    /// A field relocation matched candidate `cand` along `raw` (libbpf's
    /// target spec): keeps the candidate, each member the path goes
    /// through (anonymous ones included) and each one's type (plain), as
    /// bpftool's `btfgen_record_field_relo`.
    ///
    /// One addition: a zero-length array member that is not its
    /// struct's last member keeps the last member too. libbpf takes a
    /// zero-length array as flexible (any index allowed) only when it is
    /// the last member (`is_flex_arr`); were the members after it dropped,
    /// an index the full BTF rejects would be accepted.
    pub(crate) fn field_path(&mut self, cand: Candidate, raw: &[u32]) -> Result<(), MinError> {
        let root = self.key_of(cand);
        self.walk(root, Mode::Plain)?;
        self.set_root(root)?;
        let mut cur = root;
        for &idx in raw.iter().skip(1) {
            let t = self.skip(cur.target, cur.id)?;
            let tk = self.key(cur.target, t.id());
            match t.as_kind() {
                TypeKind::Struct(c) | TypeKind::Union(c) => {
                    let members = c.members();
                    let bad = MinError::BadPath {
                        id: t.id(),
                        index: idx,
                    };
                    let m = members.get(idx as usize).ok_or(bad)?;
                    self.add_elem(tk, t.kind(), idx);
                    let mk = self.key(tk.target, m.ty());
                    self.walk(mk, Mode::Plain)?;
                    let vlen = members.len() as u32;
                    if idx.saturating_add(1) < vlen {
                        let zero_len = matches!(
                            self.skip(tk.target, m.ty())?.as_kind(),
                            TypeKind::Array(a) if a.nelems == 0
                        );
                        if zero_len && let Some(last) = members.get(vlen as usize - 1) {
                            self.add_elem(tk, t.kind(), vlen - 1);
                            let lk = self.key(tk.target, last.ty());
                            self.walk(lk, Mode::Plain)?;
                        }
                    }
                    cur = mk;
                }
                TypeKind::Array(a) => cur = self.key(tk.target, a.elem),
                _ => {
                    return Err(MinError::BadPath {
                        id: t.id(),
                        index: idx,
                    });
                }
            }
        }
        Ok(())
    }

    /// An enumerator relocation matched candidate `cand`'s enumerator
    /// `idx`: keeps the enum (through the candidate's typedefs) and that
    /// enumerator. bpftool keeps every enumerator; the others are read
    /// by no relocation of this kind (libbpf takes the first enumerator
    /// of the name, and the one kept is the first in the full enum too).
    pub(crate) fn enumerator(&mut self, cand: Candidate, idx: u32) -> Result<(), MinError> {
        let root = self.key_of(cand);
        self.walk(root, Mode::Plain)?;
        self.set_root(root)?;
        let t = self.skip(root.target, root.id)?;
        let tk = self.key(root.target, t.id());
        if t.vlen() <= idx {
            return Err(MinError::BadPath {
                id: t.id(),
                index: idx,
            });
        }
        self.add_elem(tk, t.kind(), idx);
        Ok(())
    }

    /// A type-based relocation (existence, size, target id) matched or
    /// tried candidate `key`, or (with `matches`) a `TYPE_MATCHES`
    /// relocation tried it without a match: keeps everything the
    /// comparison reads (for `TYPE_MATCHES`, conservatively, every member
    /// and enumerator reached other than through a pointer).
    pub(crate) fn type_based(&mut self, key: Key, matches: bool) -> Result<(), MinError> {
        let mode = if matches {
            Mode::Match { behind_ptr: false }
        } else {
            Mode::Follow
        };
        self.walk(key, mode)?;
        self.set_root(key)
    }

    /// A `TYPE_MATCHES` relocation of local type `local_id` matched
    /// candidate `cand`: keeps what `bpf_core_types_match` read on its way
    /// to the match — for each local member the first target member of
    /// the name that matches it (others dropped: the local struct cannot
    /// have more members than those), for each local enumerator the
    /// first target enumerator of the name, and along pointers only kinds
    /// and names. Upstream bpftool keeps every member and enumerator.
    pub(crate) fn type_match(
        &mut self,
        local: &Btf<'_>,
        local_id: TypeId,
        cand: Candidate,
    ) -> Result<(), MinError> {
        let root = self.key_of(cand);
        self.set_root(root)?;
        self.match_walk(local, local_id, root, false, MATCH_LEVELS)
    }

    fn match_walk(
        &mut self,
        local: &Btf<'_>,
        mut lid: TypeId,
        mut at: Key,
        mut behind_ptr: bool,
        level: u32,
    ) -> Result<(), MinError> {
        let Some(level) = level.checked_sub(1) else {
            return Ok(());
        };
        let local_err = |id| move |error| MinError::Btf { id, error };
        for _ in 0..MATCH_LEVELS {
            self.walk(at, Mode::Plain)?;
            let l = local.skip_mods_and_typedefs(lid).map_err(local_err(lid))?;
            let t = self.skip(at.target, at.id)?;
            let tk = self.key(at.target, t.id());
            if let Some(m) = self.map.get_mut(&tk) {
                m.named = true;
            }
            let child = |this: &Self, id: TypeId| this.key(tk.target, id);
            match (l.as_kind(), t.as_kind()) {
                (TypeKind::Enum(_) | TypeKind::Enum64(_), _) => {
                    let names = enumerator_names(&t);
                    let mut kept = Vec::new();
                    for ln in enumerator_names(&l) {
                        if let Some(i) = names.iter().position(|tn| names_match(ln, tn)) {
                            kept.push(i as u32);
                        }
                    }
                    kept.sort_unstable();
                    kept.dedup();
                    // The target needs at least as many as the local
                    // enum has; two local names can find one target
                    // enumerator (flavours), and then all are kept.
                    if kept.len() < l.vlen() as usize {
                        kept = (0..t.vlen()).collect();
                    }
                    for i in kept {
                        self.add_elem(tk, t.kind(), i);
                    }
                    return Ok(());
                }
                (TypeKind::Struct(lc) | TypeKind::Union(lc), _) if !behind_ptr => {
                    let Some(tms) = t.members() else {
                        return Ok(());
                    };
                    let targ_btf = self.btf(tk.target);
                    let mut matched: Vec<u32> = Vec::new();
                    for lm in lc.members() {
                        let ln = lm.name_bytes().unwrap_or_default();
                        for (i, tm) in (0u32..).zip(tms.clone()) {
                            if !names_match(ln, tm.name_bytes().unwrap_or_default()) {
                                continue;
                            }
                            if crate::reloc::types_match(local, lm.ty(), targ_btf, tm.ty())
                                .unwrap_or(false)
                            {
                                if !matched.contains(&i) {
                                    matched.push(i);
                                }
                                self.add_elem(tk, t.kind(), i);
                                let mk = child(self, tm.ty());
                                self.match_walk(local, lm.ty(), mk, false, level)?;
                                break;
                            }
                        }
                    }
                    // As for enums: the target needs as many members as
                    // the local type (anonymous local members can match
                    // one target member).
                    if (matched.len() as u32) < l.vlen() {
                        for (i, tm) in (0u32..).zip(tms) {
                            self.add_elem(tk, t.kind(), i);
                            let mk = child(self, tm.ty());
                            self.walk(mk, Mode::Plain)?;
                        }
                    }
                    return Ok(());
                }
                (TypeKind::Ptr(lp), TypeKind::Ptr(tp)) => {
                    behind_ptr = true;
                    lid = lp;
                    at = child(self, tp);
                }
                (TypeKind::Array(la), TypeKind::Array(ta)) => {
                    lid = la.elem;
                    at = child(self, ta.elem);
                }
                (TypeKind::FuncProto(lf), TypeKind::FuncProto(tf)) => {
                    for (lp, tp) in lf.params().zip(tf.params()) {
                        let pk = child(self, tp.ty());
                        self.match_walk(local, lp.ty(), pk, behind_ptr, level)?;
                    }
                    lid = lf.return_type();
                    at = child(self, tf.return_type());
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// Whether `key` will be in the output: marked, and not a typedef or
    /// modifier unless a candidate.
    pub(crate) fn emitted(&self, key: &Key) -> bool {
        self.map
            .get(key)
            .is_some_and(|m| m.root || !is_link(m.kind))
    }

    /// What a reference to `id` from a type of `target` becomes: the type
    /// under its typedefs and modifiers when the output keeps it, else
    /// void (`None`), as bpftool turns references to types it drops into
    /// void.
    pub(crate) fn resolve(&self, target: u32, id: TypeId) -> Result<Option<Key>, MinError> {
        if id.is_void() {
            return Ok(None);
        }
        let t = self.skip(target, id)?;
        let k = self.key(target, t.id());
        Ok((!t.id().is_void() && self.emitted(&k)).then_some(k))
    }

    /// Sorts and deduplicates each mark's elements.
    pub(crate) fn finish(&mut self) {
        for m in self.map.values_mut() {
            m.elems.sort_unstable();
            m.elems.dedup();
        }
    }
}
