//! Minimal target BTF for a set of BPF objects (feature `elf`): only the
//! types, members and enumerators their CO-RE relocations read, so that
//! relocating each object against the result gives what it gives against
//! the full kernel BTF — what `bpftool gen min_core_btf` writes (for
//! BTFHub-style shipping of one small BTF per kernel), for vmlinux and
//! also for module BTF split on it, which bpftool cannot do.
//!
//! ```no_run
//! use btf_core::Btf;
//! use btf_core::ext::BpfObject;
//! use btf_core::min::Minimizer;
//!
//! let vmlinux_bytes = std::fs::read("/sys/kernel/btf/vmlinux")?;
//! let vmlinux = Btf::parse(&vmlinux_bytes)?;
//! let file = std::fs::read("prog.bpf.o")?;
//! let objects = [BpfObject::parse(&file)?];
//! let min = Minimizer::new(&vmlinux).run(&objects)?;
//! std::fs::write("prog.min.btf", &min.btf)?; // for libbpf's btf_custom_path
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is kept
//!
//! Each object is relocated against the full BTF first, with libbpf's
//! semantics ([`crate::reloc`]); then, for every relocation and every
//! candidate that matched it (not only the first: libbpf keeps the
//! matching ones as the only candidates for the object's later
//! relocations of the same type, so each must match again):
//!
//! | relocation | kept (as bpftool) | beyond bpftool |
//! |---|---|---|
//! | field (offset, size, existence, signedness, shifts) | the candidate, each member of the access path (others dropped, offsets and bitfield sizes unchanged), each one's type with what its size needs | a zero-length array member keeps its struct's last member, so it stays non-flexible |
//! | enumerator (existence, value) | the enum | only the matched enumerator |
//! | type (existence, size, target id) | the candidate and what it reaches, through pointers; structs and unions without members | — |
//! | `TYPE_MATCHES` | the candidate, every member and enumerator reached other than through a pointer | only what the comparison read: for each local member the target member it matched, for each local enumerator the one of its name |
//!
//! Where this writes less than bpftool, the full BTF is provably not
//! read. Every reference points past typedefs and modifiers, which every
//! CO-RE check skips (libbpf's `skip_mods_and_typedefs`): a typedef is
//! kept only as a candidate itself (`pid_t` for `bpf_core_type_exists`).
//! Enumerators other than the matched ones are read by no field or
//! enumerator relocation: field checks compare enum names and sizes, and
//! enumerator matching takes the first of the name (kept). As bpftool
//! does, a pointer whose target is not kept points to void, and ids are
//! renumbered in their original order (so candidates keep their order,
//! and a `TYPE_ID_TARGET` relocation gives the minimal BTF's id).
//!
//! Dropping is safe for a candidate that matched: its path is kept. A
//! candidate that did not match a field or enumerator relocation cannot
//! start matching with fewer members or enumerators. One that did not
//! match a type-based relocation could, through a pointer turned to void
//! (`void *` is compatible with `void *`, not with `struct foo *`): when
//! the check below finds a relocation resolving differently, the kept
//! candidates it tried without a match are kept as it reads them, and
//! the output is written again.
//!
//! # Modules
//!
//! With modules, the full BTF resolves as libbpf does on a running
//! kernel: vmlinux's candidates, or, only when vmlinux has none of a
//! name, the modules'. Two output forms:
//!
//! - [`Form::Standalone`] (default): one BTF holding what is needed from
//!   vmlinux and the modules, vmlinux's types first — what libbpf's
//!   `btf_custom_path` takes. A kept module struct named like vmlinux
//!   types that relocations resolve against would join their candidates
//!   there, so it is written without its name (relocations never read
//!   it: only `TYPE_MATCHES` compares struct names, and then it errors
//!   instead); any other such type is [`MinError::ModuleShadowsVmlinux`].
//! - [`Form::Split`]: a minimal base (vmlinux's types) and one minimal
//!   split on it per module, for loaders that take vmlinux and module
//!   BTF apart. When vmlinux's candidates of a name all failed to match
//!   but a module type of that name is kept, one of them is kept (as
//!   empty as the relocation allows), so the search still stops at
//!   vmlinux.
//!
//! # Checked before returned
//!
//! Every object is relocated again against the output and each
//! relocation compared with the full BTF's: same values, poisoning,
//! sizes, and the same candidate (through [`Minimized::origin`]). A
//! difference is [`MinError::Inexact`], never a wrong file. A relocation
//! that repeats an earlier one of its object (same type, access string
//! and kind, its type's candidates unchanged since) is resolved once in
//! each pass: by libbpf's rules it gives the same values again (see
//! `Repeats` in the source).

mod cands;
mod emit;
mod error;
mod mark;

pub use error::MinError;

use crate::btf::Btf;
use crate::ext::{BpfObject, CoreRelo, CoreReloKind};
use crate::id::{Kind, StrOffset, TypeId};
use crate::reloc::{Candidate, Resolution, Session, Targets, essential_name, relocate_object};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use cands::{Found, kinds_compat};
use mark::{Key, Marks, Mode};

/// The output form; see the [module documentation](self).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Form {
    /// One BTF with everything needed, vmlinux's types first.
    #[default]
    Standalone,
    /// A base with vmlinux's types and one split on it per module.
    Split,
}

/// Where a type of the output came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// 0 for vmlinux, `i + 1` for the `i`-th module given.
    pub target: u32,
    /// Its id there.
    pub id: TypeId,
}

/// The minimal BTF, from [`Minimizer::run`].
#[derive(Clone, Debug)]
pub struct Minimized {
    /// The standalone BTF ([`Form::Standalone`]), or the base of the
    /// split form, in the target's byte order.
    pub btf: Vec<u8>,
    /// [`Form::Split`]: each module's minimal split on [`btf`](Self::btf),
    /// in the order the modules were given. Empty otherwise.
    pub splits: Vec<Vec<u8>>,
    base_origins: Vec<Origin>,
    split_origins: Vec<Vec<Origin>>,
    relocations: usize,
}

impl Minimized {
    /// Where type `id` of the output came from: of
    /// [`btf`](Self::btf) when `split` is `None`, else as split `split`
    /// numbers it (the base's ids, then its own).
    pub fn origin(&self, split: Option<usize>, id: TypeId) -> Option<Origin> {
        let index = id.get().checked_sub(1)? as usize;
        if let Some(&o) = self.base_origins.get(index) {
            return Some(o);
        }
        let own = index.checked_sub(self.base_origins.len())?;
        self.split_origins.get(split?)?.get(own).copied()
    }

    /// The number of types written, in all parts.
    pub fn type_count(&self) -> usize {
        self.base_origins.len() + self.split_origins.iter().map(Vec::len).sum::<usize>()
    }

    /// The number of relocations resolved against both the full and the
    /// minimal BTF and found to agree.
    pub fn relocations(&self) -> usize {
        self.relocations
    }
}

/// Writes the minimal BTF of a kernel (vmlinux and, optionally, modules
/// split on it) for a set of BPF objects; see the
/// [module documentation](self).
#[derive(Clone, Debug)]
pub struct Minimizer<'t> {
    vmlinux: &'t Btf<'t>,
    modules: Vec<(&'t str, &'t Btf<'t>)>,
    form: Form,
}

/// One relocation as the full BTF resolved it.
struct Reference {
    section: usize,
    insn: usize,
    relo: CoreRelo,
    resolution: Resolution,
    /// Kept candidates of a type-based relocation that did not match it,
    /// each with whether the relocation is `TYPE_MATCHES`: kept as the
    /// relocation reads them if the check finds one matching.
    shadows: Vec<(Key, bool)>,
}

/// Tells a repeat: a relocation with the type, access string and kind of
/// one resolved before in the same object, while its type's candidates
/// are still what that one left (in an object, `BPF_CORE_READ` of one
/// field in many places gives many; the 558 relocations of eight kernel
/// selftests are 108 distinct ones). A repeat is not resolved again,
/// neither against the full BTF nor, in the check, against the output:
/// it would give what the first gave and change nothing.
///
/// A resolution reads the relocation (not its instruction) and its
/// type's candidates, which only a resolution of that type changes, and
/// only when some candidates matched and others did not: libbpf's rule
/// then keeps, in order, the ones that matched. Right after such a
/// resolution, resolving it again matches each candidate left, keeps them
/// all, and takes the same first one, so every value is the same (only
/// the list of candidates tried, recorded by the first, is shorter); when
/// it dropped none, the candidates are as before and all of it is the
/// same. What a repeat would mark is what its first marked.
#[derive(Default)]
struct Repeats {
    /// Per local type, how many resolutions have dropped candidates.
    generation: hashbrown::HashMap<TypeId, u32>,
    /// Per (type, access string, kind): the relocation resolved, and its
    /// type's generation after it.
    seen: hashbrown::HashMap<(TypeId, StrOffset, CoreReloKind), (usize, u32)>,
}

impl Repeats {
    fn generation(&self, id: TypeId) -> u32 {
        self.generation.get(&id).copied().unwrap_or(0)
    }

    /// The index of the relocation `relo` repeats, if it does.
    fn repeat_of(&self, relo: &CoreRelo) -> Option<usize> {
        let key = (relo.type_id, relo.access_str_off, relo.kind);
        let generation = self.generation(relo.type_id);
        self.seen
            .get(&key)
            .filter(|&&(_, g)| g == generation)
            .map(|&(first, _)| first)
    }

    /// Notes that relocation `index`, `relo`, resolved to `res`.
    fn resolved(&mut self, relo: &CoreRelo, index: usize, res: &Resolution) {
        let dropped = res.target.is_some() && res.tried.iter().any(|(_, why)| why.is_some());
        let generation = self.generation.entry(relo.type_id).or_insert(0);
        if dropped {
            *generation = generation.wrapping_add(1);
        }
        let key = (relo.type_id, relo.access_str_off, relo.kind);
        self.seen.insert(key, (index, *generation));
    }
}

/// Whether two resolutions against the same BTF agree in every value
/// (not in the candidates they tried).
fn same_values(a: &Resolution, b: &Resolution) -> bool {
    same_untargeted(a, b)
        && a.target == b.target
        && a.new_val == b.new_val
        && a.new_type_id == b.new_type_id
}

/// Whether two resolutions agree in every value that names nothing in
/// the target BTF (which two BTFs may number differently): all but the
/// target, the new value and the new type id.
fn same_untargeted(a: &Resolution, b: &Resolution) -> bool {
    a.kind == b.kind
        && a.orig_val == b.orig_val
        && a.poison == b.poison
        && a.validate == b.validate
        && a.fail_memsz_adjust == b.fail_memsz_adjust
        && a.orig_size == b.orig_size
        && a.new_size == b.new_size
        && a.orig_type_id == b.orig_type_id
}

/// A relocation resolved against vmlinux's candidates only, with a
/// module present: the output must not let module types of the name
/// join or replace them.
struct Guard {
    name: Vec<u8>,
    kind: Kind,
    first: Key,
}

impl<'t> Minimizer<'t> {
    /// A minimiser of `vmlinux` (or of any non-split BTF).
    pub fn new(vmlinux: &'t Btf<'t>) -> Minimizer<'t> {
        Minimizer {
            vmlinux,
            modules: Vec::new(),
            form: Form::default(),
        }
    }

    /// Adds a module's BTF (split on vmlinux), searched after vmlinux as
    /// libbpf searches modules; `name` is for messages.
    pub fn with_module(mut self, name: &'t str, btf: &'t Btf<'t>) -> Minimizer<'t> {
        self.modules.push((name, btf));
        self
    }

    /// Sets the output form (default [`Form::Standalone`]).
    pub fn form(mut self, form: Form) -> Minimizer<'t> {
        self.form = form;
        self
    }

    fn targets(&self) -> Targets<'t> {
        let mut targets = Targets::new(self.vmlinux);
        for &(name, btf) in &self.modules {
            targets = targets.with_module(name, btf);
        }
        targets
    }

    /// Relocates `objects` against the full BTF, keeps what their
    /// relocations read, writes it, and checks that each object
    /// relocates against the result exactly as against the full BTF.
    ///
    /// # Errors
    ///
    /// [`MinError::Reloc`] when an object does not relocate against the
    /// full BTF (an ambiguity, a bad record); [`MinError::Btf`] or
    /// [`MinError::BadPath`] for an unreadable target type;
    /// [`MinError::ModuleShadowsVmlinux`] (standalone form only);
    /// [`MinError::Write`]; [`MinError::Inexact`] or
    /// [`MinError::MinimalFails`] if the check finds a difference.
    pub fn run(&self, objects: &[BpfObject<'_>]) -> Result<Minimized, MinError> {
        let mut btfs: Vec<&'t Btf<'t>> = Vec::with_capacity(1 + self.modules.len());
        btfs.push(self.vmlinux);
        btfs.extend(self.modules.iter().map(|&(_, b)| b));
        let reference = self.targets();
        let found = Found::scan(&btfs, wanted_names(objects));
        let mut marks = Marks::new(self.vmlinux, &btfs);
        let mut guards: Vec<Guard> = Vec::new();
        let mut references: Vec<Vec<Reference>> = Vec::with_capacity(objects.len());
        for (i, obj) in objects.iter().enumerate() {
            let mut session = Session::new(&reference, obj.btf(), obj.endian());
            let mut seeded = hashbrown::HashSet::new();
            for site in obj.core_relos() {
                for (_, _, relo) in site.iter() {
                    if !seeded.insert(relo.type_id) {
                        continue;
                    }
                    if let Ok(t) = obj.btf().type_by_id(relo.type_id) {
                        let cands = found.candidates(&btfs, t.name_bytes(), t.kind());
                        session.set_candidates(relo.type_id, cands);
                    }
                }
            }
            let mut refs: Vec<Reference> = Vec::new();
            let mut last = Repeats::default();
            for site in obj.core_relos() {
                let section = site.program().index();
                for (insn, _, relo) in site.iter() {
                    if let Some(first) = last.repeat_of(&relo)
                        && let Some(resolution) = refs.get(first).map(|r| r.resolution.clone())
                    {
                        refs.push(Reference {
                            section,
                            insn,
                            relo,
                            resolution,
                            shadows: Vec::new(),
                        });
                        continue;
                    }
                    let resolution = match session.resolve(&relo) {
                        Ok(r) => r,
                        Err(e) => return Err(reloc_failure(&reference, obj, i, e)),
                    };
                    let shadows =
                        self.record(&session, &relo, &resolution, &mut marks, &mut guards)?;
                    last.resolved(&relo, refs.len(), &resolution);
                    refs.push(Reference {
                        section,
                        insn,
                        relo,
                        resolution,
                        shadows,
                    });
                }
            }
            references.push(refs);
        }
        let relocations = references.iter().map(Vec::len).sum();
        loop {
            self.settle(&mut marks, &guards)?;
            marks.finish();
            let min = self.emit(&marks, relocations)?;
            let failed = match check(&min, &marks, objects, &references) {
                Ok(()) => return Ok(min),
                Err(e) => e,
            };
            let (MinError::Inexact {
                object, relocation, ..
            }
            | MinError::MinimalFails {
                object, relocation, ..
            }) = failed
            else {
                return Err(failed);
            };
            if !widen(&mut marks, &references, object, relocation)? {
                return Err(failed);
            }
        }
    }

    /// Writes the marked types in the chosen form.
    fn emit(&self, marks: &Marks<'_, 't>, relocations: usize) -> Result<Minimized, MinError> {
        let emitted = match self.form {
            Form::Standalone => emit::standalone(marks, self.vmlinux.endian())?,
            Form::Split => emit::split(marks, self.modules.len(), self.vmlinux.endian())?,
        };
        let origin = |k: &Key| Origin {
            target: k.target,
            id: k.id,
        };
        Ok(Minimized {
            btf: emitted.base,
            splits: emitted.splits,
            base_origins: emitted.base_origins.iter().map(origin).collect(),
            split_origins: emitted
                .split_origins
                .iter()
                .map(|o| o.iter().map(origin).collect())
                .collect(),
            relocations,
        })
    }

    /// Marks what one resolved relocation needs; returns the kept
    /// candidates it tried without a match (for type-based kinds).
    fn record(
        &self,
        session: &Session<'_, '_, '_>,
        relo: &CoreRelo,
        res: &Resolution,
        marks: &mut Marks<'_, 't>,
        guards: &mut Vec<Guard>,
    ) -> Result<Vec<(Key, bool)>, MinError> {
        let kind = relo.kind;
        let mut shadows = Vec::new();
        if kind == CoreReloKind::TypeIdLocal {
            return Ok(shadows);
        }
        for &(cand, ref why) in &res.tried {
            let key = marks.key_of(cand);
            let matches = kind == CoreReloKind::TypeMatches;
            match (why.is_none(), kind.is_type_based()) {
                (false, true) => shadows.push((key, matches)),
                (false, false) => {}
                (true, true) if matches => {
                    marks.type_match(session.local(), relo.type_id, cand)?;
                }
                (true, true) => marks.type_based(key, false)?,
                (true, false) => {
                    let raw = target_access(session, relo, cand)?;
                    if kind.is_enumval_based() {
                        let idx = raw.first().copied().ok_or(MinError::BadPath {
                            id: cand.id,
                            index: 0,
                        })?;
                        marks.enumerator(cand, idx)?;
                    } else {
                        marks.field_path(cand, &raw)?;
                    }
                }
            }
        }
        let from_vmlinux_only =
            !res.tried.is_empty() && res.tried.iter().all(|(c, _)| c.target == 0);
        if !self.modules.is_empty() && from_vmlinux_only {
            let local =
                session
                    .local()
                    .type_by_id(relo.type_id)
                    .map_err(|error| MinError::Btf {
                        id: relo.type_id,
                        error,
                    })?;
            let name = essential_name(local.name_bytes()).to_vec();
            if !guards
                .iter()
                .any(|g| g.name == name && kinds_compat(g.kind, local.kind()))
                && let Some(&(first, _)) = res.tried.first()
            {
                guards.push(Guard {
                    name,
                    kind: local.kind(),
                    first: marks.key_of(first),
                });
            }
        }
        Ok(shadows)
    }

    /// The module rules: in the split form, keeps one vmlinux candidate
    /// of each guarded name that module types of the name would
    /// otherwise replace; in the standalone form, takes the names of
    /// module structs that would join vmlinux's candidates (or fails).
    fn settle(&self, marks: &mut Marks<'_, 't>, guards: &[Guard]) -> Result<(), MinError> {
        if self.form == Form::Split {
            loop {
                let mut changed = false;
                for g in guards {
                    let in_module = !shadowing(marks, g, true)?.is_empty();
                    if in_module && shadowing(marks, g, false)?.is_empty() {
                        marks.walk(g.first, Mode::Plain)?;
                        marks.set_root(g.first)?;
                        changed = true;
                    }
                }
                if !changed {
                    return Ok(());
                }
            }
        }
        for m in marks.map.values_mut() {
            m.blank_name = false;
        }
        for g in guards {
            for key in shadowing(marks, g, true)? {
                let blank = marks
                    .map
                    .get_mut(&key)
                    .filter(|m| matches!(m.kind, Kind::STRUCT | Kind::UNION) && !m.named);
                match blank {
                    Some(m) => m.blank_name = true,
                    None => {
                        let name = marks
                            .ty(key)
                            .map(|t| String::from_utf8_lossy(t.name_bytes()).into_owned())
                            .unwrap_or_default();
                        return Err(MinError::ModuleShadowsVmlinux {
                            module: key.target.saturating_sub(1) as usize,
                            id: key.id,
                            name,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// After the check found relocation `n` of object `o` resolving
/// differently: keeps, as their relocations read them, the kept
/// candidates that it (or an earlier relocation of the same local type,
/// whose matches decide its candidates) tried without a match. Whether
/// anything changed.
fn widen(
    marks: &mut Marks<'_, '_>,
    references: &[Vec<Reference>],
    o: usize,
    n: usize,
) -> Result<bool, MinError> {
    let Some(refs) = references.get(o) else {
        return Ok(false);
    };
    let Some(root) = refs.get(n).map(|r| r.relo.type_id) else {
        return Ok(false);
    };
    let mut changed = false;
    for r in refs.iter().take(n.saturating_add(1)) {
        if r.relo.type_id != root {
            continue;
        }
        for &(key, matches) in &r.shadows {
            let mode = if matches {
                Mode::Match { behind_ptr: false }
            } else {
                Mode::Follow
            };
            if marks.emitted(&key) && !marks.map.get(&key).is_some_and(|m| m.walked(mode)) {
                marks.type_based(key, matches)?;
                changed = true;
            }
        }
    }
    Ok(changed)
}

/// The output's types (of the modules when `modules`, else of vmlinux)
/// that are candidates for `g`'s name and kind.
fn shadowing(marks: &Marks<'_, '_>, g: &Guard, modules: bool) -> Result<Vec<Key>, MinError> {
    let mut out = Vec::new();
    for (key, m) in &marks.map {
        if (key.target > 0) != modules
            || !marks.emitted(key)
            || m.blank_name
            || !kinds_compat(m.kind, g.kind)
        {
            continue;
        }
        if essential_name(marks.ty(*key)?.name_bytes()) == g.name.as_slice() {
            out.push(*key);
        }
    }
    Ok(out)
}

/// The essential names and kinds of every relocation's root type in
/// `objects`.
fn wanted_names<'o>(objects: &'o [BpfObject<'_>]) -> Vec<(&'o [u8], Kind)> {
    let mut names = Vec::new();
    for obj in objects {
        for site in obj.core_relos() {
            for (_, _, relo) in site.iter() {
                if relo.kind == CoreReloKind::TypeIdLocal {
                    continue;
                }
                if let Ok(t) = obj.btf().type_by_id(relo.type_id) {
                    let name = essential_name(t.name_bytes());
                    if !name.is_empty() {
                        names.push((name, t.kind()));
                    }
                }
            }
        }
    }
    names
}

/// The access path of a matched candidate.
fn target_access(
    session: &Session<'_, '_, '_>,
    relo: &CoreRelo,
    cand: Candidate,
) -> Result<Vec<u32>, MinError> {
    match session.target_access(relo, cand) {
        Ok(Some(raw)) => Ok(raw),
        // It matched a moment ago: the same computation cannot disagree.
        Ok(None) | Err(_) => Err(MinError::BadPath {
            id: cand.id,
            index: 0,
        }),
    }
}

/// The failure of object `i` against the full BTF, as
/// [`relocate_object`] describes it (with every candidate; found again,
/// which costs the targets' index, on this error path only).
fn reloc_failure(
    reference: &Targets<'_>,
    obj: &BpfObject<'_>,
    i: usize,
    error: crate::reloc::RelocError,
) -> MinError {
    match relocate_object(reference, obj) {
        Err(failure) => MinError::Reloc { object: i, failure },
        Ok(_) => MinError::MinimalFails {
            object: i,
            relocation: 0,
            error,
        },
    }
}

/// Relocates every object against the output and compares each
/// relocation with the full BTF's.
fn check(
    min: &Minimized,
    marks: &Marks<'_, '_>,
    objects: &[BpfObject<'_>],
    references: &[Vec<Reference>],
) -> Result<(), MinError> {
    let parse_err = |error| MinError::Btf {
        id: TypeId::VOID,
        error,
    };
    let base = Btf::parse(&min.btf).map_err(parse_err)?;
    let mut splits = Vec::with_capacity(min.splits.len());
    for s in &min.splits {
        splits.push(Btf::parse_split(s, &base).map_err(parse_err)?);
    }
    let mut targets = Targets::named("minimal", &base);
    for s in &splits {
        targets = targets.with_module("minimal split", s);
    }
    // The output's candidate (target, id) → the full BTF's key.
    let origin = |cand: Candidate| -> Option<Key> {
        let split = cand.target.checked_sub(1).map(|s| s as usize);
        let o = min.origin(split, cand.id)?;
        Some(marks.key(o.target, o.id))
    };
    for (i, (obj, refs)) in objects.iter().zip(references).enumerate() {
        let mut session = Session::new(&targets, obj.btf(), obj.endian());
        let mut repeats = Repeats::default();
        for (n, r) in refs.iter().enumerate() {
            // A repeat here gives what its first gave here, which was
            // compared with the first's full resolution: skipped when its
            // own full resolution has the same values.
            if let Some(first) = repeats.repeat_of(&r.relo)
                && refs
                    .get(first)
                    .is_some_and(|f| same_values(&f.resolution, &r.resolution))
            {
                continue;
            }
            let got = session
                .resolve(&r.relo)
                .map_err(|error| MinError::MinimalFails {
                    object: i,
                    relocation: n,
                    error,
                })?;
            repeats.resolved(&r.relo, n, &got);
            if let Some(what) = difference(&r.resolution, &got, marks, &origin) {
                let section = obj
                    .program_by_index(r.section)
                    .and_then(|p| p.name())
                    .unwrap_or("?");
                return Err(MinError::Inexact {
                    object: i,
                    relocation: n,
                    section: section.into(),
                    insn: r.insn,
                    what,
                });
            }
        }
    }
    Ok(())
}

/// What differs between the full BTF's resolution `want` and the
/// output's `got`, if anything; target type ids are compared through
/// their origins.
fn difference(
    want: &Resolution,
    got: &Resolution,
    marks: &Marks<'_, '_>,
    origin: &dyn Fn(Candidate) -> Option<Key>,
) -> Option<String> {
    let want_target = want.target.map(|c| marks.key_of(c));
    let got_target = got.target.and_then(origin);
    if want_target != got_target {
        return Some(format!("candidate {want_target:?} against {got_target:?}"));
    }
    if !same_untargeted(want, got) {
        return Some(format!("{want:?} against {got:?}"));
    }
    // Target type ids: the same type, as the two BTFs number it.
    let as_key = |r: &Resolution, id: TypeId, full: bool| -> Option<Key> {
        if id.is_void() {
            return None;
        }
        let cand = r.target?;
        let c = Candidate {
            target: cand.target,
            id,
        };
        if full {
            Some(marks.key_of(c))
        } else {
            origin(c)
        }
    };
    let new_type = |r: &Resolution, full| as_key(r, r.new_type_id, full);
    if new_type(want, true) != new_type(got, false) {
        return Some(format!(
            "field type [{}] against [{}]",
            want.new_type_id, got.new_type_id
        ));
    }
    let value_is_id = want.kind == CoreReloKind::TypeIdTarget && want.target.is_some();
    let values_agree = if value_is_id {
        let id = |r: &Resolution| TypeId::new(u32::try_from(r.new_val).unwrap_or(0));
        as_key(want, id(want), true) == as_key(got, id(got), false)
    } else {
        want.new_val == got.new_val
    };
    if !values_agree {
        return Some(format!("value {} against {}", want.new_val, got.new_val));
    }
    None
}
