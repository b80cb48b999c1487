//! Where candidates come from: target BTFs (vmlinux, modules) and their
//! essential-name indexes.

use super::name::essential_name;
use crate::btf::Btf;
use crate::id::{Kind, TypeId};
use crate::types::Type;
use alloc::vec::Vec;
use core::fmt;
use hashbrown::HashTable;

/// A value built once, on first use: thread-safe with `std` (so
/// [`Targets`] can be shared between threads relocating objects), a
/// `core` cell without it.
#[cfg(feature = "std")]
type Lazy<T> = std::sync::OnceLock<T>;
#[cfg(not(feature = "std"))]
type Lazy<T> = core::cell::OnceCell<T>;

/// One target BTF: vmlinux or a module split on it, with an index from
/// essential names to its own type ids, built on first use and kept, so
/// that relocating many objects against one target looks each name up in
/// O(1). With `std` it is `Sync`: build it once, share it between
/// threads.
pub struct Target<'t> {
    btf: &'t Btf<'t>,
    name: &'t str,
    index: Lazy<EssentialIndex<'t>>,
}

impl fmt::Debug for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("types", &self.btf.type_count())
            .field("indexed", &self.index.get().is_some())
            .finish()
    }
}

/// Essential name → this blob's own ids of that essential name, in id
/// order. libbpf strips the flavour of target names too (a target's
/// `task_struct___2` is a candidate for a local `task_struct___v1`) and
/// takes every type of the name, so [`Btf::index_names`]'s index (exact
/// names, first match) cannot answer this; one pass over the blob's own
/// types builds this one.
struct EssentialIndex<'t> {
    ids: Vec<TypeId>,
    runs: Runs<'t>,
}

impl<'t> EssentialIndex<'t> {
    /// The index of `btf`'s named types that `keep` accepts.
    fn build(btf: &'t Btf<'t>, mut keep: impl FnMut(&Type<'t>) -> bool) -> EssentialIndex<'t> {
        let mut named: Vec<(&'t [u8], TypeId)> = btf
            .types()
            .filter_map(|t| {
                // `keep` first: it may decide without reading the name.
                if !keep(&t) {
                    return None;
                }
                let name = t.name_bytes();
                (!name.is_empty()).then(|| (essential_name(name), t.id()))
            })
            .collect();
        named.sort_unstable();
        let hasher = hashbrown::DefaultHashBuilder::default();
        let mut runs = Runs::new(hasher);
        let mut start = 0usize;
        while let Some(&(name, _)) = named.get(start) {
            let len = run_len(named.get(start..).unwrap_or_default(), |&(n, _)| n == name);
            runs.insert(name, start, len);
            start += len;
        }
        EssentialIndex {
            ids: named.into_iter().map(|(_, id)| id).collect(),
            runs,
        }
    }

    fn get(&self, essential: &[u8], hash: u64) -> &[TypeId] {
        self.runs.get(&self.ids, essential, hash)
    }
}

/// Where each essential name's run of ids is in a sorted list: a table
/// keyed by the name, probed with a hash computed once per search (the
/// same hasher serves vmlinux's index and the modules').
struct Runs<'t, S = hashbrown::DefaultHashBuilder> {
    table: HashTable<Run<'t>>,
    hasher: S,
}

/// One run: the items `start..start + len` all have essential name `name`.
struct Run<'t> {
    hash: u64,
    name: &'t [u8],
    start: u32,
    len: u32,
}

impl<'t, S: core::hash::BuildHasher> Runs<'t, S> {
    fn new(hasher: S) -> Runs<'t, S> {
        Runs {
            table: HashTable::new(),
            hasher,
        }
    }

    fn hash(&self, name: &[u8]) -> u64 {
        self.hasher.hash_one(name)
    }

    fn insert(&mut self, name: &'t [u8], start: usize, len: usize) {
        let hash = self.hash(name);
        self.insert_hashed(hash, name, start, len);
    }

    fn insert_hashed(&mut self, hash: u64, name: &'t [u8], start: usize, len: usize) {
        let run = Run {
            hash,
            name,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(0),
        };
        self.table.insert_unique(hash, run, |r| r.hash);
    }

    /// The items of `name`'s run (`hash` is `self.hash(name)`), empty when
    /// there is none.
    fn get<'i, T>(&self, items: &'i [T], name: &[u8], hash: u64) -> &'i [T] {
        self.table
            .find(hash, |r| r.hash == hash && r.name == name)
            .and_then(|r| {
                items.get(r.start as usize..(r.start as usize).saturating_add(r.len as usize))
            })
            .unwrap_or_default()
    }
}

/// How many items at the start of `items` satisfy `same` (at least one
/// when `items` is not empty, so a caller's loop always advances).
fn run_len<T>(items: &[T], same: impl Fn(&T) -> bool) -> usize {
    items.iter().take_while(|x| same(x)).count().max(1)
}

impl<'t> Target<'t> {
    /// A target named `name` (as messages show it: `"vmlinux"`, a module's
    /// name). For a split BTF only its own types are candidates; its base's
    /// are vmlinux's.
    pub fn new(name: &'t str, btf: &'t Btf<'t>) -> Target<'t> {
        Target {
            btf,
            name,
            index: Lazy::new(),
        }
    }

    /// The BTF.
    pub fn btf(&self) -> &'t Btf<'t> {
        self.btf
    }

    /// The name given to [`new`](Self::new).
    pub fn name(&self) -> &'t str {
        self.name
    }

    /// Builds the essential-name index now rather than at the first
    /// lookup.
    pub fn prepare(&self) {
        self.index();
    }

    fn index(&self) -> &EssentialIndex<'t> {
        self.index
            .get_or_init(|| EssentialIndex::build(self.btf, |_| true))
    }

    /// A target whose index holds only the named types `keep` accepts,
    /// built now in one pass: for checking one object against many
    /// kernels, where the object asks for a few names and the full index
    /// would cost more than the rest of the check. Candidates are found
    /// only among kept types, so `keep` must accept every type whose
    /// essential name and kind a relocation may look for.
    pub fn with_index_of(
        name: &'t str,
        btf: &'t Btf<'t>,
        keep: impl FnMut(&Type<'t>) -> bool,
    ) -> Target<'t> {
        let index = Lazy::new();
        let _ = index.set(EssentialIndex::build(btf, keep));
        Target { btf, name, index }
    }

    /// This blob's own types whose essential name is `essential` (already
    /// stripped of its flavour), in id order, of any kind.
    pub fn ids_by_essential_name(&self, essential: &[u8]) -> &[TypeId] {
        let index = self.index();
        index.get(essential, index.runs.hash(essential))
    }
}

/// Whether candidate search looks at modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ModuleSearch {
    /// libbpf's rule: modules only when vmlinux has no candidate (libbpf
    /// never looks at modules when given a custom vmlinux path; give no
    /// modules to get that).
    #[default]
    WhenVmlinuxHasNone,
    /// vmlinux and every module, always.
    Always,
    /// vmlinux only.
    Never,
}

/// A candidate target type: which target (0 for vmlinux, `i + 1` for the
/// `i`-th module) and the id there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// 0 for vmlinux, `i + 1` for module `i`, in the order they were
    /// added.
    pub target: u32,
    /// The type's id in that target.
    pub id: TypeId,
}

/// The target BTFs relocations resolve against: vmlinux and, optionally,
/// modules split on it.
pub struct Targets<'t> {
    vmlinux: Target<'t>,
    modules: Vec<Target<'t>>,
    search: ModuleSearch,
    /// Every module's types by essential name, in one index (built on the
    /// first search of the modules): one probe instead of one per module.
    in_modules: Lazy<ModulesIndex<'t>>,
}

impl fmt::Debug for Targets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Targets")
            .field("vmlinux", &self.vmlinux)
            .field("modules", &self.modules.len())
            .field("search", &self.search)
            .finish()
    }
}

/// Every module's named types by essential name, in one index: one probe
/// finds a name's candidates in the order libbpf adds them (module order,
/// then id order), each with its kind, so that no candidate is looked up
/// again to be filtered. Built by sorting fixed-size keys (the name's
/// hash, module, id) rather than inserting a million names into a table;
/// equal hashes of different names (a 64-bit collision) are split into
/// one run per name, so a probe compares the name once, not per
/// candidate.
struct ModulesIndex<'t, S = hashbrown::DefaultHashBuilder> {
    entries: Vec<(Candidate, Kind)>,
    runs: Runs<'t, S>,
}

impl<'t, S: core::hash::BuildHasher> ModulesIndex<'t, S> {
    fn build(modules: &[Target<'t>], hasher: S) -> ModulesIndex<'t, S> {
        let mut runs = Runs::new(hasher);
        let mut keyed: Vec<(u64, &'t [u8], Candidate, Kind)> = Vec::new();
        for (i, m) in (1u32..).zip(modules) {
            keyed.extend(m.btf.types().filter_map(|t| {
                let name = t.name_bytes();
                (!name.is_empty()).then(|| {
                    let essential = essential_name(name);
                    let cand = Candidate {
                        target: i,
                        id: t.id(),
                    };
                    (runs.hash(essential), essential, cand, t.kind())
                })
            }));
        }
        keyed.sort_unstable_by_key(|&(hash, _, c, _)| (hash, c.target, c.id.get()));
        let mut start = 0usize;
        while let Some(&(hash, name, _, _)) = keyed.get(start) {
            let rest = keyed.get_mut(start..).unwrap_or_default();
            let len = run_len(rest, |&(h, ..)| h == hash);
            let same_hash = rest.get_mut(..len).unwrap_or_default();
            if same_hash.iter().any(|&(_, n, ..)| n != name) {
                // A collision: one run per name, each in (module, id) order.
                same_hash.sort_unstable_by(|a, b| {
                    (a.1, a.2.target, a.2.id.get()).cmp(&(b.1, b.2.target, b.2.id.get()))
                });
                let mut at = 0usize;
                while let Some(&(_, n, ..)) = same_hash.get(at) {
                    let k = run_len(same_hash.get(at..).unwrap_or_default(), |&(_, m, ..)| {
                        m == n
                    });
                    runs.insert_hashed(hash, n, start + at, k);
                    at += k;
                }
            } else {
                runs.insert_hashed(hash, name, start, len);
            }
            start += len;
        }
        ModulesIndex {
            entries: keyed.into_iter().map(|(_, _, c, k)| (c, k)).collect(),
            runs,
        }
    }

    /// The candidates whose essential name is `essential`, of any kind.
    fn get(&self, essential: &[u8], hash: u64) -> &[(Candidate, Kind)] {
        self.runs.get(&self.entries, essential, hash)
    }
}

impl<'t> Targets<'t> {
    /// vmlinux alone (what libbpf does with a custom target path).
    pub fn new(vmlinux: &'t Btf<'t>) -> Targets<'t> {
        Targets::named("vmlinux", vmlinux)
    }

    /// As [`new`](Self::new), with the name messages give the base
    /// target (a file name, say) instead of `"vmlinux"`.
    pub fn named(name: &'t str, vmlinux: &'t Btf<'t>) -> Targets<'t> {
        Targets {
            vmlinux: Target::new(name, vmlinux),
            modules: Vec::new(),
            search: ModuleSearch::default(),
            in_modules: Lazy::new(),
        }
    }

    /// Targets whose vmlinux is `vmlinux`, a [`Target`] built as the
    /// caller chooses (say, [`Target::with_index_of`]).
    pub fn from_target(vmlinux: Target<'t>) -> Targets<'t> {
        Targets {
            vmlinux,
            modules: Vec::new(),
            search: ModuleSearch::default(),
            in_modules: Lazy::new(),
        }
    }

    /// Adds a module's BTF (split on vmlinux), searched in the order
    /// added.
    pub fn with_module(mut self, name: &'t str, btf: &'t Btf<'t>) -> Targets<'t> {
        self.modules.push(Target::new(name, btf));
        // A module index built before this module is out of date.
        self.in_modules = Lazy::new();
        self
    }

    /// Sets when modules are searched (default: libbpf's rule).
    pub fn module_search(mut self, search: ModuleSearch) -> Targets<'t> {
        self.search = search;
        self
    }

    /// vmlinux.
    pub fn vmlinux(&self) -> &Target<'t> {
        &self.vmlinux
    }

    /// The modules, in the order added.
    pub fn modules(&self) -> &[Target<'t>] {
        &self.modules
    }

    /// Target `i` as [`Candidate::target`] numbers them.
    pub fn get(&self, i: u32) -> Option<&Target<'t>> {
        match i.checked_sub(1) {
            None => Some(&self.vmlinux),
            Some(m) => self.modules.get(m as usize),
        }
    }

    /// The BTF holding `cand`.
    pub fn btf_of(&self, cand: Candidate) -> Option<&'t Btf<'t>> {
        self.get(cand.target).map(Target::btf)
    }

    /// The candidates for `local`, as libbpf's `bpf_core_find_cands`
    /// finds them: named types of the target whose essential name equals
    /// `local`'s and whose kind is `local`'s (any ENUM and ENUM64 go
    /// together), vmlinux's first in id order, then each module's per
    /// [`ModuleSearch`]. Empty for an anonymous `local`.
    pub fn candidates(&self, local: &Type<'_>) -> Vec<Candidate> {
        let name = local.name_bytes();
        let mut out = Vec::new();
        if name.is_empty() {
            return out;
        }
        let essential = essential_name(name);
        let kind = local.kind();
        // One hash of the name serves vmlinux's index and the modules'.
        let vmlinux = self.vmlinux.index();
        let hash = vmlinux.runs.hash(essential);
        for &id in vmlinux.get(essential, hash) {
            if let Ok(t) = self.vmlinux.btf.type_by_id(id)
                && kinds_core_compat(t.kind(), kind)
            {
                out.push(Candidate { target: 0, id });
            }
        }
        let modules = match self.search {
            ModuleSearch::Never => false,
            ModuleSearch::Always => true,
            ModuleSearch::WhenVmlinuxHasNone => out.is_empty(),
        };
        if modules && !self.modules.is_empty() {
            let index = self
                .in_modules
                .get_or_init(|| ModulesIndex::build(&self.modules, vmlinux.runs.hasher.clone()));
            out.extend(
                index
                    .get(essential, hash)
                    .iter()
                    .filter(|&&(_, k)| kinds_core_compat(k, kind))
                    .map(|&(cand, _)| cand),
            );
        }
        out
    }
}

/// libbpf's `btf_kind_core_compat`: the same kind, or both enums.
pub(crate) fn kinds_core_compat(a: Kind, b: Kind) -> bool {
    a == b || (is_any_enum(a) && is_any_enum(b))
}

pub(crate) fn is_any_enum(k: Kind) -> bool {
    k == Kind::ENUM || k == Kind::ENUM64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Endian;
    use crate::testing::RawBlob;

    /// A hasher under which every name collides.
    #[derive(Clone, Default)]
    struct Constant;
    struct ConstantHasher;
    impl core::hash::Hasher for ConstantHasher {
        fn finish(&self) -> u64 {
            7
        }
        fn write(&mut self, _: &[u8]) {}
    }
    impl core::hash::BuildHasher for Constant {
        type Hasher = ConstantHasher;
        fn build_hasher(&self) -> ConstantHasher {
            ConstantHasher
        }
    }

    /// Names that share a hash still get a run each, in (module, id)
    /// order, so a probe compares the name once and finds only its own.
    #[test]
    fn colliding_names_get_a_run_each() {
        let base_bytes = crate::testing::tiny_blob();
        let vmlinux = Btf::parse(&base_bytes).expect("base");
        let str_base = u32::try_from(vmlinux.strings().len()).expect("small");
        let module = |names: &[&str]| {
            let mut m = RawBlob::split(Endian::Little, str_base);
            for n in names {
                let off = m.str(n);
                m.ty(off, 4, false, 0, 4); // an empty struct of 4 bytes
            }
            m.build()
        };
        let (a, b) = (
            module(&["zeta", "alpha___v1", "zeta___2"]),
            module(&["alpha", "zeta"]),
        );
        let (a, b) = (
            Btf::parse_split(&a, &vmlinux).expect("a"),
            Btf::parse_split(&b, &vmlinux).expect("b"),
        );
        let modules = [Target::new("a", &a), Target::new("b", &b)];
        let index = ModulesIndex::build(&modules, Constant);
        let ids = |name: &[u8]| -> Vec<(u32, u32)> {
            index
                .get(name, 7)
                .iter()
                .map(|(c, _)| (c.target, c.id.get()))
                .collect()
        };
        let first = 6; // after the base's five types
        assert_eq!(ids(b"zeta"), [(1, first), (1, first + 2), (2, first + 1)]);
        assert_eq!(ids(b"alpha"), [(1, first + 1), (2, first)]);
        assert!(ids(b"beta").is_empty());
        assert!(
            index.get(b"zeta", 8).is_empty(),
            "another hash finds nothing"
        );
    }
}
