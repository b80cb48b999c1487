//! Whether a BPF object's CO-RE relocations resolve on each of many
//! kernels, and to what: [`Checker`] and [`Matrix`].
//!
//! A [`Checker`] holds what one object needs (its relocations, the
//! essential names and kinds of their root types, its program sections);
//! [`Checker::check`] resolves every relocation against one kernel's BTF
//! as libbpf would ([`Session`], libbpf's
//! candidate rules and per-object candidate cache), patches a copy of the
//! instructions, and gives one [`Cell`] per relocation:
//!
//! - [`Cell::Resolved`]: the value the instruction gets (a byte offset, a
//!   size, 0 or 1 for an existence check, an enumerator's value, a type
//!   id);
//! - [`Cell::Guarded`]: poisoned (the field or type is missing) where no
//!   path from a program's entry reaches it on this kernel, because a
//!   guard (`bpf_core_field_exists` and friends) branches around it: the
//!   verifier never sees it;
//! - [`Cell::Unguarded`]: poisoned and reachable: the verifier rejects the
//!   program (`invalid func unknown#195896080`);
//! - [`Cell::Failed`]: libbpf refuses to load the object (candidates that
//!   disagree, an instruction that cannot take the value).
//!
//! The three last carry an explanation in C terms (`struct task_struct
//! has no member `state``). A [`Matrix`] collects one [`KernelCheck`] per
//! kernel, in the order given, and prints the relocation × kernel table,
//! the failures explained, and a summary (text or JSON).
//!
//! One object against many kernels costs, per kernel, a parse and one
//! pass over its types that keeps only those whose essential name and
//! kind a relocation asks for ([`Target::with_index_of`]): no full name
//! index of the kernel is built.
//!
//! # Guards
//!
//! Whether a poisoned instruction is reachable is decided on the patched
//! instructions of its section by constant propagation: register values
//! set by immediates (what the existence relocations become) are followed
//! through ALU operations and moves, and a conditional jump whose outcome
//! is known takes one branch only. Every function of a program section
//! (`.BTF.ext` func_info) is an entry with unknown registers; so is every
//! function of `.text` (a subprogram is assumed called, with unknown
//! arguments). The verifier knows more (stack spills, ranges), so this can
//! call reachable what the verifier would prune, never the other way
//! round: a [`Cell::Guarded`] is never reached.
//!
//! Unlike libbpf, which stops at the first relocation that fails, every
//! relocation is checked.
//!
//! ```no_run
//! # #[cfg(feature = "elf")] {
//! use btf_core::Btf;
//! use btf_core::check::{Checker, Matrix};
//! use btf_core::ext::BpfObject;
//!
//! let file = std::fs::read("prog.bpf.o")?;
//! let object = BpfObject::parse(&file)?;
//! let checker = Checker::from_object(&object);
//! let mut matrix = Matrix::new(&checker);
//! for path in ["6.1.btf", "6.12.btf"] {
//!     let bytes = std::fs::read(path)?;
//!     let result = Btf::parse(&bytes).map(|kernel| checker.check(&kernel));
//!     matrix.push(path, result.map_err(|e| e.to_string()));
//! }
//! print!("{matrix}");
//! std::process::exit(matrix.exit_code());
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Session`]: crate::reloc::Session
//! [`Target::with_index_of`]: crate::reloc::Target::with_index_of

mod explain;
mod reach;
mod report;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use hashbrown::HashSet;

use crate::btf::Btf;
use crate::endian::Endian;
use crate::ext::{CoreRelo, CoreReloKind};
use crate::id::Kind;
use crate::reloc::{Patched, RelocError, Session, Target, Targets, essential_name, patch_insn};
use crate::types::Type;

pub use report::{Column, Matrix, Summary};

/// A program section with CO-RE relocations, as the checker needs it.
#[derive(Clone, Debug)]
pub struct Section<'o> {
    /// Its name (`kprobe/do_exit`, `.text`).
    pub name: String,
    /// Its instructions as stored, in the object's byte order.
    pub code: &'o [u8],
    /// The first instruction of each function in it (`.BTF.ext`
    /// func_info); empty when unknown, and then every instruction after
    /// an `exit` may start one.
    pub functions: Vec<usize>,
    /// Its CO-RE relocations: (record index in its block, instruction
    /// index, record), in `.BTF.ext` order.
    pub relos: Vec<(usize, usize, CoreRelo)>,
}

/// One CO-RE relocation of the object: a row of the [`Matrix`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// Its program section's name.
    pub section: String,
    /// Its index among its block's records (libbpf's `relo #N`).
    pub record: usize,
    /// The instruction's index in the section.
    pub insn: usize,
    /// The record.
    pub relo: CoreRelo,
    /// The relocation spelled in C (`struct task_struct.pid (0:77)`).
    pub what: String,
    /// Which [`Checker`] section it is in.
    slot: usize,
}

/// What one relocation does on one kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// The instruction gets `value` (libbpf's new value).
    Resolved {
        /// The value.
        value: u64,
        /// Whether a load or store also changes size (`(old, new)` in
        /// bytes).
        size: Option<(u32, u32)>,
    },
    /// Poisoned, and no path reaches it on this kernel: fine.
    Guarded {
        /// Why it is poisoned, in C terms.
        why: String,
    },
    /// Poisoned and reachable: the verifier rejects the program.
    Unguarded {
        /// Why it is poisoned, in C terms.
        why: String,
    },
    /// libbpf refuses to load the object.
    Failed {
        /// Why, in C terms.
        why: String,
    },
}

impl Cell {
    /// Whether this cell keeps the object from loading on its kernel
    /// ([`Unguarded`](Cell::Unguarded) or [`Failed`](Cell::Failed)).
    pub fn is_failure(&self) -> bool {
        matches!(self, Cell::Unguarded { .. } | Cell::Failed { .. })
    }

    /// The explanation of a poisoned or failed cell.
    pub fn why(&self) -> Option<&str> {
        match self {
            Cell::Resolved { .. } => None,
            Cell::Guarded { why } | Cell::Unguarded { why } | Cell::Failed { why } => Some(why),
        }
    }
}

/// Every relocation of the object on one kernel: one [`Cell`] per
/// [`Site`], in [`Checker::sites`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelCheck {
    /// The cells.
    pub cells: Vec<Cell>,
}

impl KernelCheck {
    /// Whether the object would load on this kernel as far as CO-RE goes:
    /// no cell [is a failure](Cell::is_failure).
    pub fn is_ok(&self) -> bool {
        !self.cells.iter().any(Cell::is_failure)
    }

    /// How many cells are failures.
    pub fn failures(&self) -> usize {
        self.cells.iter().filter(|c| c.is_failure()).count()
    }
}

/// One object's CO-RE relocations, ready to be checked against kernels.
/// `Sync`: one checker serves threads checking kernels at once.
#[derive(Debug)]
pub struct Checker<'o> {
    local: &'o Btf<'o>,
    endian: Endian,
    sections: Vec<Section<'o>>,
    sites: Vec<Site>,
    /// The essential names of the relocations' root types.
    names: HashSet<&'o [u8]>,
    /// The kinds candidates may have, by kind value.
    kinds: [bool; 128],
}

impl<'o> Checker<'o> {
    /// A checker for the object whose `.BTF` is `local`, whose
    /// instructions are in byte order `endian`, and whose program sections
    /// with CO-RE relocations are `sections`.
    pub fn new(local: &'o Btf<'o>, endian: Endian, sections: Vec<Section<'o>>) -> Checker<'o> {
        let mut names = HashSet::new();
        let mut kinds = [false; 128];
        let mut sites = Vec::new();
        for (slot, section) in sections.iter().enumerate() {
            for &(record, insn, relo) in &section.relos {
                sites.push(Site {
                    section: section.name.clone(),
                    record,
                    insn,
                    relo,
                    what: crate::reloc::relo_in_c(local, &relo),
                    slot,
                });
                if relo.kind == CoreReloKind::TypeIdLocal {
                    continue;
                }
                let Ok(root) = local.type_by_id(relo.type_id) else {
                    continue;
                };
                let name = root.name_bytes();
                if name.is_empty() {
                    continue;
                }
                names.insert(essential_name(name));
                let kind = root.kind();
                let compatible: &[Kind] = if kind == Kind::ENUM || kind == Kind::ENUM64 {
                    &[Kind::ENUM, Kind::ENUM64]
                } else {
                    &[kind]
                };
                for k in compatible {
                    if let Some(slot) = kinds.get_mut(usize::from(k.get())) {
                        *slot = true;
                    }
                }
            }
        }
        Checker {
            local,
            endian,
            sections,
            sites,
            names,
            kinds,
        }
    }

    /// A checker for every CO-RE relocation of `object`.
    #[cfg(feature = "elf")]
    pub fn from_object(object: &'o crate::ext::BpfObject<'o>) -> Checker<'o> {
        use zerocopy::IntoBytes;
        let mut sections: Vec<(usize, Section<'o>)> = Vec::new();
        for site in object.core_relos() {
            let program = site.program();
            let slot = match sections.iter().position(|(i, _)| *i == program.index()) {
                Some(slot) => slot,
                None => {
                    sections.push((
                        program.index(),
                        Section {
                            name: String::from_utf8_lossy(program.name_bytes()).into_owned(),
                            code: program.insns().as_slice().as_bytes(),
                            functions: Vec::new(),
                            relos: Vec::new(),
                        },
                    ));
                    sections.len() - 1
                }
            };
            if let Some((_, section)) = sections.get_mut(slot) {
                section.relos.extend(
                    site.iter()
                        .enumerate()
                        .map(|(record, (insn, _, relo))| (record, insn, relo)),
                );
            }
        }
        for block in object.func_infos() {
            let index = block.program().index();
            if let Some((_, section)) = sections.iter_mut().find(|(i, _)| *i == index) {
                section
                    .functions
                    .extend(block.iter().map(|(insn, _, _)| insn));
            }
        }
        Checker::new(
            object.btf(),
            object.endian(),
            sections.into_iter().map(|(_, s)| s).collect(),
        )
    }

    /// The relocations, in `.BTF.ext` order: the rows of a [`Matrix`].
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    /// The object's `.BTF`.
    pub fn local(&self) -> &'o Btf<'o> {
        self.local
    }

    /// Whether a target type may be a candidate for one of the object's
    /// relocations: its kind and essential name are asked for. What
    /// [`check`](Self::check) keeps of a kernel.
    pub fn wants(&self, t: &Type<'_>) -> bool {
        self.kinds
            .get(usize::from(t.kind().get()))
            .is_some_and(|&k| k)
            && self.names.contains(essential_name(t.name_bytes()))
    }

    /// Checks every relocation against `kernel` (a vmlinux BTF, or any
    /// base BTF), indexing only the types the object asks for.
    pub fn check(&self, kernel: &Btf<'_>) -> KernelCheck {
        let target = Target::with_index_of("vmlinux", kernel, |t| self.wants(t));
        self.check_targets(&Targets::from_target(target))
    }

    /// Checks every relocation against `targets` (vmlinux and modules,
    /// searched as they say).
    pub fn check_targets(&self, targets: &Targets<'_>) -> KernelCheck {
        let mut session = Session::new(targets, self.local, self.endian);
        let mut code: Vec<Option<Vec<u8>>> = vec![None; self.sections.len()];
        let mut cells = Vec::with_capacity(self.sites.len());
        let mut poisoned = false;
        for site in &self.sites {
            let cell = match session.resolve(&site.relo) {
                Err(error) => Cell::Failed {
                    why: explain::failure(self.local, targets, &site.relo, &error),
                },
                Ok(res) => {
                    let section = self.sections.get(site.slot);
                    let buf = code.get_mut(site.slot).map(|c| {
                        c.get_or_insert_with(|| section.map_or(&[][..], |s| s.code).to_vec())
                    });
                    let patched = match buf {
                        Some(buf) => patch_insn(buf, self.endian, site.insn, &res),
                        None => Err(crate::reloc::PatchError::NoInsn { index: site.insn }),
                    };
                    match patched {
                        Err(error) => Cell::Failed {
                            why: explain::failure(
                                self.local,
                                targets,
                                &site.relo,
                                &RelocError::Patch(error),
                            ),
                        },
                        Ok(Patched::Poisoned { .. }) => {
                            poisoned = true;
                            // Guarded or not is decided below, once every
                            // instruction is patched.
                            Cell::Unguarded {
                                why: explain::poison(self.local, targets, &site.relo, &res),
                            }
                        }
                        Ok(patched) => Cell::Resolved {
                            value: res.new_val,
                            size: match patched {
                                Patched::Offset { size, .. } => size,
                                _ => None,
                            },
                        },
                    }
                }
            };
            cells.push(cell);
        }
        if poisoned {
            self.find_guards(&code, &mut cells);
        }
        KernelCheck { cells }
    }

    /// Turns each poisoned cell that no path reaches into
    /// [`Cell::Guarded`].
    fn find_guards(&self, code: &[Option<Vec<u8>>], cells: &mut [Cell]) {
        let mut reached: Vec<Option<Vec<bool>>> = vec![None; self.sections.len()];
        for (site, cell) in self.sites.iter().zip(cells.iter_mut()) {
            if !matches!(cell, Cell::Unguarded { .. }) {
                continue;
            }
            let (Some(section), Some(Some(bytes)), Some(slot)) = (
                self.sections.get(site.slot),
                code.get(site.slot),
                reached.get_mut(site.slot),
            ) else {
                continue;
            };
            let reach = slot
                .get_or_insert_with(|| reach::reachable(bytes, self.endian, &section.functions));
            if !reach.get(site.insn).copied().unwrap_or(true)
                && let Cell::Unguarded { why } = cell
            {
                *cell = Cell::Guarded {
                    why: core::mem::take(why),
                };
            }
        }
    }
}
