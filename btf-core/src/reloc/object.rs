//! Relocating a whole [`BpfObject`]: every CO-RE relocation of every
//! program section, in `.BTF.ext` order, into copies of the sections.

use super::calc::{Resolution, Session};
use super::describe::{relo_in_c, type_in_c};
use super::error::{Mismatch, RelocError};
use super::patch::{Patched, patch_insn};
use super::target::{Candidate, Targets};
use crate::btf::Btf;
use crate::ext::{BpfObject, CoreRelo, ProgramSection};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use zerocopy::IntoBytes;

/// A program section with its relocations applied: a copy of its bytes.
#[derive(Clone, Debug)]
pub struct RelocatedSection<'data> {
    /// The section in the object.
    pub program: ProgramSection<'data>,
    /// Its instructions, patched, in the object's byte order.
    pub code: Vec<u8>,
}

/// One relocation applied.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The ELF section index of its program section.
    pub section: usize,
    /// Its index among its block's records (libbpf's `relo #N`).
    pub record: usize,
    /// The instruction's index in the section.
    pub insn: usize,
    /// The record.
    pub relo: CoreRelo,
    /// What it resolved to.
    pub resolution: Resolution,
    /// What was done to the instruction.
    pub patched: Patched,
}

/// Every relocation of an object applied, from [`relocate_object`].
#[derive(Clone, Debug, Default)]
pub struct Relocated<'data> {
    /// The program sections that had relocations, patched, in the order
    /// first met.
    pub sections: Vec<RelocatedSection<'data>>,
    /// Each relocation, in `.BTF.ext` order.
    pub outcomes: Vec<Outcome>,
}

impl<'data> Relocated<'data> {
    /// The patched copy of the section at ELF index `index`, if it had
    /// relocations.
    pub fn section(&self, index: usize) -> Option<&RelocatedSection<'data>> {
        self.sections.iter().find(|s| s.program.index() == index)
    }
}

/// A relocation that failed, with what a person needs to act on it.
#[derive(Clone, Debug)]
pub struct RelocFailure {
    /// The program section's name.
    pub section: String,
    /// The record's index in its block (libbpf's `relo #N`).
    pub record: usize,
    /// The instruction's index in the section.
    pub insn: usize,
    /// The record.
    pub relo: CoreRelo,
    /// The relocation spelled in C (`struct task.in.c (0:1:2)`).
    pub what: String,
    /// Each candidate tried: where, which type, and why it did not match
    /// (or `matched`).
    pub candidates: Vec<String>,
    /// Why it failed.
    pub error: RelocError,
}

impl fmt::Display for RelocFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "section '{}' insn #{} (relo #{}): {} relocation of {}: {}",
            self.section, self.insn, self.record, self.relo.kind, self.what, self.error
        )?;
        if self.candidates.is_empty() {
            f.write_str("; no candidates")?;
        }
        for c in &self.candidates {
            write!(f, "\n  candidate {c}")?;
        }
        Ok(())
    }
}

impl core::error::Error for RelocFailure {}

/// Relocates every CO-RE relocation of `obj` against `targets`, as
/// libbpf's `bpf_object__relocate_core` (one candidate cache for the
/// object), into copies of the program sections.
///
/// # Errors
///
/// The first relocation that fails ([`RelocFailure`], boxed): libbpf stops
/// there too. Relocations whose field or type is missing do not fail:
/// their instructions are poisoned ([`Patched::Poisoned`]).
pub fn relocate_object<'data>(
    targets: &Targets<'_>,
    obj: &BpfObject<'data>,
) -> Result<Relocated<'data>, Box<RelocFailure>> {
    let mut session = Session::new(targets, obj.btf(), obj.endian());
    let mut out = Relocated::default();
    for site in obj.core_relos() {
        let program = site.program();
        let slot = match out
            .sections
            .iter()
            .position(|s| s.program.index() == program.index())
        {
            Some(i) => i,
            None => {
                out.sections.push(RelocatedSection {
                    program,
                    code: program.insns().as_slice().as_bytes().to_vec(),
                });
                out.sections.len() - 1
            }
        };
        for (record, (insn, _, relo)) in site.iter().enumerate() {
            let resolution = match session.resolve(&relo) {
                Ok(r) => r,
                Err(e) => return Err(failure(&session, &program, record, insn, relo, e, None)),
            };
            let Some(section) = out.sections.get_mut(slot) else {
                continue;
            };
            let patched =
                patch_insn(&mut section.code, obj.endian(), insn, &resolution).map_err(|e| {
                    failure(
                        &session,
                        &program,
                        record,
                        insn,
                        relo,
                        RelocError::Patch(e),
                        Some(&resolution),
                    )
                })?;
            out.outcomes.push(Outcome {
                section: program.index(),
                record,
                insn,
                relo,
                resolution,
                patched,
            });
        }
    }
    Ok(out)
}

fn failure(
    session: &Session<'_, '_, '_>,
    program: &ProgramSection<'_>,
    record: usize,
    insn: usize,
    relo: CoreRelo,
    error: RelocError,
    res: Option<&Resolution>,
) -> Box<RelocFailure> {
    let local = session.local();
    let targets = session.targets();
    let mut candidates = Vec::new();
    let tried: Vec<(Candidate, Option<Mismatch>)> = match res {
        Some(r) => r.tried.clone(),
        None => {
            // Re-derive the list for the message.
            let cands = local
                .type_by_id(relo.type_id)
                .map(|t| targets.candidates(&t))
                .unwrap_or_default();
            cands.into_iter().map(|c| (c, None)).collect()
        }
    };
    candidates.extend(describe_tried(targets, &tried));
    Box::new(RelocFailure {
        section: String::from_utf8_lossy(program.name_bytes()).into_owned(),
        record,
        insn,
        relo,
        what: relo_in_c(local, &relo),
        candidates,
        error,
    })
}

/// One line per candidate: where, which type, and whether it matched or
/// why not.
fn describe_tried(targets: &Targets<'_>, tried: &[(Candidate, Option<Mismatch>)]) -> Vec<String> {
    tried
        .iter()
        .map(|(cand, why)| {
            let (target, ty) = match targets.get(cand.target) {
                Some(t) => (t.name(), type_in_c(t.btf(), cand.id)),
                None => ("?", String::new()),
            };
            let why = match why {
                Some(m) => format!("rejected: {m}"),
                None => "matched".into(),
            };
            format!("[{}] {ty} in {target}: {why}", cand.id)
        })
        .collect()
}

impl Outcome {
    /// A person's account of this relocation: the instruction, the kind,
    /// the path in C, what was done, and each candidate with why it was
    /// rejected: what to read when an instruction was poisoned. `local`
    /// and `targets` are those it was relocated with.
    pub fn explain(&self, local: &Btf<'_>, targets: &Targets<'_>) -> String {
        let mut out = format!(
            "insn #{} (relo #{}): {} relocation of {}: {:?}",
            self.insn,
            self.record,
            self.relo.kind,
            relo_in_c(local, &self.relo),
            self.patched
        );
        let tried = describe_tried(targets, &self.resolution.tried);
        if tried.is_empty() {
            out.push_str("; no candidates");
        }
        for line in tried {
            out.push_str("\n  candidate ");
            out.push_str(&line);
        }
        out
    }
}
