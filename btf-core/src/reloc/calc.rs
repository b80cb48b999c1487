//! From specs to values: libbpf's `bpf_core_calc_field_relo`,
//! `bpf_core_calc_type_relo`, `bpf_core_calc_enumval_relo`,
//! `bpf_core_calc_relo` and the candidate loop of
//! `bpf_core_calc_relo_insn`, with the candidate cache of
//! `bpf_core_resolve_relo`.

use super::error::{Ambiguity, Mismatch, RelocError};
use super::spec::{Matched, Spec, parse_spec, size, skip, spec_match};
use super::target::{Candidate, Targets};
use crate::btf::Btf;
use crate::endian::Endian;
use crate::ext::{CoreRelo, CoreReloKind};
use crate::id::{Kind, TypeId};
use crate::types::TypeKind;
use alloc::vec::Vec;
use hashbrown::HashMap;

/// What one relocation resolves to (libbpf's `bpf_core_relo_res`), and
/// how: the value the instruction should hold now (`orig_val`, from the
/// local BTF) and the value to put there (`new_val`, from the target).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// The relocation's kind.
    pub kind: CoreReloKind,
    /// The value from the local BTF.
    pub orig_val: u64,
    /// The value from the target BTF.
    pub new_val: u64,
    /// Whether the instruction is to be poisoned (no candidate matched,
    /// for kinds that need one).
    pub poison: bool,
    /// Whether the patch checks that the instruction holds `orig_val`.
    pub validate: bool,
    /// Whether a load or store would change size unsafely (its
    /// instruction is then poisoned).
    pub fail_memsz_adjust: bool,
    /// The local field's size for a load or store (0 when none).
    pub orig_size: u32,
    /// The target field's size.
    pub new_size: u32,
    /// The local field's type (modifiers and typedefs skipped).
    pub orig_type_id: TypeId,
    /// The target field's type.
    pub new_type_id: TypeId,
    /// The first matching candidate, if any.
    pub target: Option<Candidate>,
    /// Every candidate tried, in order, with why it did not match (`None`
    /// when it matched).
    pub tried: Vec<(Candidate, Option<Mismatch>)>,
}

impl Resolution {
    fn new(kind: CoreReloKind) -> Resolution {
        Resolution {
            kind,
            orig_val: 0,
            new_val: 0,
            poison: false,
            validate: true,
            fail_memsz_adjust: false,
            orig_size: 0,
            new_size: 0,
            orig_type_id: TypeId::VOID,
            new_type_id: TypeId::VOID,
            target: None,
            tried: Vec::new(),
        }
    }
}

/// A field relocation's value for one spec.
struct Field {
    val: u64,
    size: u32,
    type_id: TypeId,
    validate: bool,
}

/// libbpf's `bpf_core_calc_field_relo`; `None` asks for poisoning.
fn calc_field(
    kind: CoreReloKind,
    spec: Option<&Spec<'_>>,
    target: bool,
    endian: Endian,
) -> Result<Option<Field>, RelocError> {
    let mut out = Field {
        val: 0,
        size: 0,
        type_id: TypeId::VOID,
        validate: true,
    };
    if kind == CoreReloKind::FieldExists {
        out.val = u64::from(spec.is_some());
        return Ok(Some(out));
    }
    let Some(spec) = spec else { return Ok(None) };
    let btf = spec.btf;
    let acc = spec.acc.last().ok_or(RelocError::TooDeep)?;
    let Some(_) = acc.name else {
        match kind {
            CoreReloKind::FieldByteOffset => {
                out.val = u64::from(spec.bit_offset / 8);
                out.size = size(btf, innermost_elem(btf, acc.type_id)?)?;
                out.type_id = acc.type_id;
            }
            CoreReloKind::FieldByteSize => out.val = u64::from(size(btf, acc.type_id)?),
            _ => return Err(RelocError::ArrayElementKind),
        }
        return Ok(Some(out));
    };
    let t = btf.type_by_id(acc.type_id).map_err(RelocError::Btf)?;
    let m = t
        .members()
        .and_then(|ms| ms.get(acc.idx as usize))
        .ok_or(RelocError::Btf(crate::Error::NoSuchType {
            id: acc.type_id,
        }))?;
    let mt = skip(btf, m.ty())?;
    let field_type_id = mt.id();
    let bit_off = spec.bit_offset;
    let mut bit_sz = m.bitfield_size();
    let bitfield = bit_sz > 0;
    let (byte_off, byte_sz);
    if bitfield {
        let mut sz = mt.size_or_type();
        let too_wide = RelocError::BitfieldTooWide {
            target,
            bit_offset: bit_off,
            bit_size: bit_sz,
        };
        if sz == 0 {
            return Err(too_wide);
        }
        let mut off = bit_off / 8 / sz * sz;
        while bit_off
            .wrapping_add(bit_sz)
            .wrapping_sub(off.wrapping_mul(8))
            > sz.wrapping_mul(8)
        {
            if sz >= 8 {
                return Err(too_wide);
            }
            sz *= 2;
            off = bit_off / 8 / sz * sz;
        }
        (byte_off, byte_sz) = (off, sz);
    } else {
        byte_sz = size(btf, field_type_id)?;
        byte_off = bit_off / 8;
        bit_sz = byte_sz.wrapping_mul(8);
    }
    out.validate = !bitfield;
    out.val = match kind {
        CoreReloKind::FieldByteOffset => {
            if !bitfield {
                out.size = size(btf, innermost_elem(btf, field_type_id)?)?;
                out.type_id = field_type_id;
            }
            u64::from(byte_off)
        }
        CoreReloKind::FieldByteSize => u64::from(byte_sz),
        CoreReloKind::FieldSigned => {
            out.validate = true;
            let signed = match mt.as_kind() {
                TypeKind::Enum(_) | TypeKind::Enum64(_) => mt.kflag(),
                TypeKind::Int(i) => i.is_signed(),
                _ => false,
            };
            u64::from(signed)
        }
        CoreReloKind::FieldLshiftU64 => {
            let v = match endian {
                Endian::Little => 64u32.wrapping_sub(
                    bit_off
                        .wrapping_add(bit_sz)
                        .wrapping_sub(byte_off.wrapping_mul(8)),
                ),
                Endian::Big => (8u32.wrapping_sub(byte_sz))
                    .wrapping_mul(8)
                    .wrapping_add(bit_off.wrapping_sub(byte_off.wrapping_mul(8))),
            };
            u64::from(v)
        }
        CoreReloKind::FieldRshiftU64 => {
            out.validate = true;
            u64::from(64u32.wrapping_sub(bit_sz))
        }
        _ => {
            return Err(RelocError::UnknownKind { kind: kind.raw() });
        }
    };
    Ok(Some(out))
}

/// The element type under any number of array levels (skipping
/// modifiers and typedefs).
fn innermost_elem(btf: &Btf<'_>, id: TypeId) -> Result<TypeId, RelocError> {
    let mut t = btf.skip_mods_and_typedefs(id).map_err(RelocError::Btf)?;
    for _ in 0..64 {
        let TypeKind::Array(a) = t.as_kind() else {
            return Ok(t.id());
        };
        t = btf
            .skip_mods_and_typedefs(a.elem)
            .map_err(RelocError::Btf)?;
    }
    Err(RelocError::TooDeep)
}

/// libbpf's `bpf_core_calc_type_relo` (TYPE_ID_LOCAL is handled before).
/// Returns the value and whether to validate it.
fn calc_type(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<(u64, bool), RelocError> {
    let Some(spec) = spec else {
        return Ok((0, true));
    };
    Ok(match kind {
        CoreReloKind::TypeIdTarget => (u64::from(spec.root.get()), false),
        CoreReloKind::TypeExists | CoreReloKind::TypeMatches => (1, true),
        CoreReloKind::TypeSize => (u64::from(size(spec.btf, spec.root)?), true),
        _ => return Err(RelocError::UnknownKind { kind: kind.raw() }),
    })
}

/// libbpf's `bpf_core_calc_enumval_relo`; `None` asks for poisoning.
fn calc_enumval(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<Option<u64>, RelocError> {
    match kind {
        CoreReloKind::EnumvalExists => Ok(Some(u64::from(spec.is_some()))),
        CoreReloKind::EnumvalValue => {
            let Some(spec) = spec else { return Ok(None) };
            let acc = spec.acc.first().ok_or(RelocError::TooDeep)?;
            let t = spec.btf.type_by_id(acc.type_id).map_err(RelocError::Btf)?;
            let missing = RelocError::EnumeratorOutOfRange {
                type_id: acc.type_id,
                idx: acc.idx,
                vlen: t.vlen(),
            };
            match t.as_kind() {
                // libbpf reads a 32-bit value as `__s32`, sign-extending
                // it whatever the enum's signedness.
                TypeKind::Enum(e) => {
                    let v = e.values().get(acc.idx as usize).ok_or(missing)?;
                    Ok(Some(v.raw_value() as i32 as i64 as u64))
                }
                TypeKind::Enum64(e) => {
                    let v = e.values().get(acc.idx as usize).ok_or(missing)?;
                    Ok(Some(v.raw_value()))
                }
                _ => Err(missing),
            }
        }
        _ => Err(RelocError::UnknownKind { kind: kind.raw() }),
    }
}

/// libbpf's `bpf_core_calc_relo` for one candidate (or none).
fn calc_relo(
    local: &Spec<'_>,
    targ: Option<&Spec<'_>>,
    endian: Endian,
) -> Result<Resolution, RelocError> {
    let kind = local.kind;
    let mut res = Resolution::new(kind);
    if kind.is_field_based() {
        let Some(orig) = calc_field(kind, Some(local), false, endian)? else {
            res.poison = true;
            return Ok(res);
        };
        res.orig_val = orig.val;
        res.orig_size = orig.size;
        res.orig_type_id = orig.type_id;
        res.validate = orig.validate;
        let Some(new) = calc_field(kind, targ, true, endian)? else {
            res.poison = true;
            return Ok(res);
        };
        res.new_val = new.val;
        res.new_size = new.size;
        res.new_type_id = new.type_id;
        if res.orig_size != res.new_size
            && let Some(targ) = targ
        {
            let o = local
                .btf
                .type_by_id(res.orig_type_id)
                .map_err(RelocError::Btf)?;
            let n = targ
                .btf
                .type_by_id(res.new_type_id)
                .map_err(RelocError::Btf)?;
            let unsigned_int = |t: &crate::Type<'_>| match t.as_kind() {
                // libbpf compares the whole encoding with BTF_INT_SIGNED.
                TypeKind::Int(i) => i.encoding != crate::wire::INT_SIGNED,
                _ => false,
            };
            let safe = (o.kind() == Kind::PTR && n.kind() == Kind::PTR)
                || (unsigned_int(&o) && unsigned_int(&n));
            res.fail_memsz_adjust = !safe;
        }
    } else if kind.is_type_based() {
        (res.orig_val, res.validate) = calc_type(kind, Some(local))?;
        res.new_val = calc_type(kind, targ)?.0;
    } else if kind.is_enumval_based() {
        let Some(orig) = calc_enumval(kind, Some(local))? else {
            res.poison = true;
            return Ok(res);
        };
        res.orig_val = orig;
        match calc_enumval(kind, targ)? {
            Some(v) => res.new_val = v,
            None => res.poison = true,
        }
    } else {
        return Err(RelocError::UnknownKind { kind: kind.raw() });
    }
    Ok(res)
}

/// Relocations of one local BTF (one object) against [`Targets`]: keeps
/// each root type's candidates, pruned, as libbpf does within one object
/// (after a relocation with matching candidates, later relocations of the
/// same root type only try those).
#[derive(Debug)]
pub struct Session<'r, 't, 'l> {
    targets: &'r Targets<'t>,
    local: &'l Btf<'l>,
    endian: Endian,
    cands: HashMap<TypeId, Vec<Candidate>>,
}

impl<'r, 't, 'l> Session<'r, 't, 'l> {
    /// A session for the object whose `.BTF` is `local` and whose
    /// instructions are in byte order `endian` (the bitfield shifts
    /// depend on it; libbpf uses the host's).
    pub fn new(targets: &'r Targets<'t>, local: &'l Btf<'l>, endian: Endian) -> Self {
        Session {
            targets,
            local,
            endian,
            cands: HashMap::new(),
        }
    }

    /// The targets.
    pub fn targets(&self) -> &'r Targets<'t> {
        self.targets
    }

    /// The local BTF.
    pub fn local(&self) -> &'l Btf<'l> {
        self.local
    }

    /// Uses `cands` as the candidates of local type `type_id` from now
    /// on, instead of asking the targets (for a caller that found them
    /// another way, say by one scan of the targets for the few names it
    /// needs). They must be what [`Targets::candidates`] would give for
    /// that type — the same targets and ids, in the same order — for the
    /// results to be libbpf's.
    pub fn set_candidates(&mut self, type_id: TypeId, cands: Vec<Candidate>) {
        self.cands.insert(type_id, cands);
    }

    /// The path `relo` takes in candidate `cand`, if `cand` matches it:
    /// libbpf's target spec `raw_spec` — for a field, the index of each
    /// member (anonymous members included) or array element from the
    /// candidate down to the field; for an enumerator, its index; empty
    /// for the type-based kinds. `None` when `cand` does not match (the
    /// reason is in [`Resolution::tried`]).
    ///
    /// # Errors
    ///
    /// [`RelocError`]: a bad access string or local type, or a target
    /// BTF that cannot be read.
    pub fn target_access(
        &self,
        relo: &CoreRelo,
        cand: Candidate,
    ) -> Result<Option<Vec<u32>>, RelocError> {
        let access = relo.access_spec(self.local).map_err(RelocError::Access)?;
        let local = parse_spec(self.local, relo.type_id, relo.kind, &access)?;
        let Some(btf) = self.targets.btf_of(cand) else {
            return Ok(None);
        };
        Ok(match spec_match(&local, btf, cand.id)? {
            Matched::Yes(spec) => Some(spec.raw),
            Matched::No(_) => None,
        })
    }

    /// Resolves `relo` (libbpf's `bpf_core_resolve_relo` and
    /// `bpf_core_calc_relo_insn`): parses its access string against the
    /// local BTF, finds the candidates of its root type (once per root
    /// type), matches each and computes the values. A relocation with no
    /// matching candidate is not an error: the result says to poison, or
    /// gives 0 for the existence kinds.
    ///
    /// # Errors
    ///
    /// [`RelocError`]: a bad access string or local type, an anonymous
    /// root type, a target BTF that cannot be read, or an ambiguity
    /// between candidates ([`RelocError::Ambiguous`]).
    pub fn resolve(&mut self, relo: &CoreRelo) -> Result<Resolution, RelocError> {
        let local_t = self
            .local
            .type_by_id(relo.type_id)
            .map_err(RelocError::Btf)?;
        let anonymous = local_t.name_bytes().is_empty();
        if relo.kind != CoreReloKind::TypeIdLocal && !self.cands.contains_key(&relo.type_id) {
            if anonymous {
                return Err(RelocError::Anonymous {
                    type_id: relo.type_id,
                });
            }
            let found = self.targets.candidates(&local_t);
            self.cands.insert(relo.type_id, found);
        }
        let access = relo.access_spec(self.local).map_err(RelocError::Access)?;
        let local = parse_spec(self.local, relo.type_id, relo.kind, &access)?;
        if relo.kind == CoreReloKind::TypeIdLocal {
            let mut res = Resolution::new(relo.kind);
            res.validate = false;
            res.orig_val = u64::from(relo.type_id.get());
            res.new_val = res.orig_val;
            return Ok(res);
        }
        if anonymous {
            return Err(RelocError::Anonymous {
                type_id: relo.type_id,
            });
        }
        let cands = self.cands.get(&relo.type_id).cloned().unwrap_or_default();
        let mut tried = Vec::with_capacity(cands.len());
        let mut kept = Vec::new();
        let mut best: Option<(Resolution, u32, Candidate)> = None;
        for cand in cands {
            let Some(btf) = self.targets.btf_of(cand) else {
                continue;
            };
            let spec = match spec_match(&local, btf, cand.id)? {
                Matched::Yes(spec) => spec,
                Matched::No(why) => {
                    tried.push((cand, Some(why)));
                    continue;
                }
            };
            tried.push((cand, None));
            let res = calc_relo(&local, Some(&spec), self.endian)?;
            match &best {
                None => best = Some((res, spec.bit_offset, cand)),
                Some((first, off, first_cand)) => {
                    let why = if spec.bit_offset != *off {
                        Some(Ambiguity::Offset {
                            first: *off,
                            second: spec.bit_offset,
                        })
                    } else if res.poison != first.poison || res.new_val != first.new_val {
                        let v = |r: &Resolution| (!r.poison).then_some(r.new_val);
                        Some(Ambiguity::Decision {
                            first: v(first),
                            second: v(&res),
                        })
                    } else {
                        None
                    };
                    if let Some(why) = why {
                        return Err(RelocError::Ambiguous {
                            first: *first_cand,
                            second: cand,
                            why,
                        });
                    }
                }
            }
            kept.push(cand);
        }
        let mut res = match best {
            Some((res, _, cand)) => {
                self.cands.insert(relo.type_id, kept);
                Resolution {
                    target: Some(cand),
                    ..res
                }
            }
            None => calc_relo(&local, None, self.endian)?,
        };
        res.tried = tried;
        Ok(res)
    }
}
