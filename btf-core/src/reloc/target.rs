//! Where candidates come from: target BTFs (vmlinux, modules) and their
//! essential-name indexes.

use super::name::essential_name;
use crate::btf::Btf;
use crate::id::{Kind, TypeId};
use crate::types::Type;
use alloc::vec::Vec;
use core::fmt;
use hashbrown::HashMap;

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
    ranges: HashMap<&'t [u8], (u32, u32)>,
}

impl<'t> EssentialIndex<'t> {
    fn build(btf: &'t Btf<'t>) -> EssentialIndex<'t> {
        let mut named: Vec<(&'t [u8], TypeId)> = btf
            .types()
            .filter_map(|t| {
                let name = t.name_bytes();
                (!name.is_empty()).then(|| (essential_name(name), t.id()))
            })
            .collect();
        named.sort_unstable();
        let ranges = runs(&named, |&(name, _)| name);
        EssentialIndex {
            ids: named.into_iter().map(|(_, id)| id).collect(),
            ranges,
        }
    }

    fn get(&self, essential: &[u8]) -> &[TypeId] {
        slice_of(&self.ids, self.ranges.get(essential))
    }
}

/// The runs of equal keys in `sorted` (a slice sorted by `key`), each as
/// (start, length), by key.
fn runs<T, K: Eq + core::hash::Hash + Copy>(
    sorted: &[T],
    key: impl Fn(&T) -> K,
) -> HashMap<K, (u32, u32)> {
    let mut ranges = HashMap::new();
    let mut start = 0usize;
    while let Some(first) = sorted.get(start) {
        let k = key(first);
        let len = sorted
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|x| key(x) == k)
            .count();
        ranges.insert(k, (start as u32, len as u32));
        start += len.max(1);
    }
    ranges
}

/// The items of `range` (start, length) in `items`, empty when out of
/// bounds.
fn slice_of<'i, T>(items: &'i [T], range: Option<&(u32, u32)>) -> &'i [T] {
    range
        .and_then(|&(start, len)| {
            items.get(start as usize..(start as usize).saturating_add(len as usize))
        })
        .unwrap_or_default()
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
        self.index.get_or_init(|| EssentialIndex::build(self.btf))
    }

    /// This blob's own types whose essential name is `essential` (already
    /// stripped of its flavour), in id order, of any kind.
    pub fn ids_by_essential_name(&self, essential: &[u8]) -> &[TypeId] {
        self.index().get(essential)
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
    in_modules: Lazy<ModulesIndex>,
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

/// Every module's named types by the hash of their essential name, sorted
/// by (hash, module, id), with each hash's range in a table: one probe
/// finds a name's candidates in the order libbpf adds them (module order,
/// then id order). Hashes are only a filter: the caller compares each
/// candidate's name. Sorting
/// fixed-size keys keeps the build cheap (one pass and one sort over a
/// million types), where a table keyed by the names themselves would
/// miss the cache on every insertion.
struct ModulesIndex {
    entries: Vec<(u64, Candidate)>,
    /// Each hash's range of `entries`.
    ranges: HashMap<u64, (u32, u32)>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl ModulesIndex {
    fn build(modules: &[Target<'_>]) -> ModulesIndex {
        use core::hash::BuildHasher;
        let hasher = hashbrown::DefaultHashBuilder::default();
        let mut entries = Vec::new();
        for (i, m) in (1u32..).zip(modules) {
            entries.extend(m.btf.types().filter_map(|t| {
                let name = t.name_bytes();
                (!name.is_empty()).then(|| {
                    (
                        hasher.hash_one(essential_name(name)),
                        Candidate {
                            target: i,
                            id: t.id(),
                        },
                    )
                })
            }));
        }
        entries.sort_unstable_by_key(|&(hash, c)| (hash, c.target, c.id.get()));
        let ranges = runs(&entries, |&(hash, _)| hash);
        ModulesIndex {
            entries,
            ranges,
            hasher,
        }
    }

    /// The candidates whose essential name may be `essential` (same hash).
    fn get(&self, essential: &[u8]) -> &[(u64, Candidate)] {
        use core::hash::BuildHasher;
        let hash = self.hasher.hash_one(essential);
        slice_of(&self.entries, self.ranges.get(&hash))
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
        let add = |out: &mut Vec<Candidate>, i: u32, target: &Target<'t>| {
            for &id in target.ids_by_essential_name(essential) {
                if let Ok(t) = target.btf.type_by_id(id)
                    && kinds_core_compat(t.kind(), kind)
                {
                    out.push(Candidate { target: i, id });
                }
            }
        };
        add(&mut out, 0, &self.vmlinux);
        let modules = match self.search {
            ModuleSearch::Never => false,
            ModuleSearch::Always => true,
            ModuleSearch::WhenVmlinuxHasNone => out.is_empty(),
        };
        if modules {
            let index = self
                .in_modules
                .get_or_init(|| ModulesIndex::build(&self.modules));
            for &(_, cand) in index.get(essential) {
                if self
                    .btf_of(cand)
                    .and_then(|btf| btf.type_by_id(cand.id).ok())
                    .is_some_and(|t| {
                        kinds_core_compat(t.kind(), kind)
                            && essential_name(t.name_bytes()) == essential
                    })
                {
                    out.push(cand);
                }
            }
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
