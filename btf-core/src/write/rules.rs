//! The rules [`Builder::check`](super::Builder::check) (and so
//! [`Builder::encode`](super::Builder::encode)) holds records to: the kernel
//! verifier's rules for each record on its own (`btf_check_meta` and the
//! kind's `check_meta` in `kernel/bpf/btf.c`), references that exist, and
//! the limits of the format. Graph rules (loops, what a pointer may reach,
//! a FUNC's prototype) belong to the kernel's resolve pass and are not
//! checked here.

use super::builder::Builder;
use super::error::{Place, Problem, WriteError};
use super::record::{Field, for_each_field};
use super::{MAX_NAME_LEN, MAX_NAME_OFFSET, MAX_TYPE_ID, MAX_VLEN};
use crate::endian::{Endian, U32};
use crate::id::{Kind, StrOffset, TypeId};
use crate::record::{self, Info, IntWord, MemberOffset, Shape};
use crate::wire::{BtfArray, BtfEnum, BtfEnum64, BtfMember, BtfVarSecinfo};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The builder keeps its records as native words.
const NATIVE: Endian = Endian::NATIVE;

/// Checks every own record of `b`; `layout_section` says whether the blob
/// will carry a layout section (which records of unknown kinds need).
pub(crate) fn check_rules(
    b: &Builder<'_>,
    layout_section: bool,
    max_vlen: u32,
) -> Result<(), WriteError> {
    let last = b.last_id();
    if b.type_count() > 0 && last.get() > MAX_TYPE_ID {
        return Err(WriteError::TooManyTypes { last });
    }
    let len = b.strings().len();
    if len > MAX_NAME_OFFSET as usize + 1 {
        return Err(WriteError::StringsTooLarge { len });
    }
    if layout_section {
        for (k, &(info_sz, elem_sz, _)) in b.layout.iter().enumerate() {
            let kind = Kind::new(u8::try_from(k).unwrap_or(u8::MAX));
            if let Some(known) = kind.record_layout()
                && (info_sz, elem_sz) != known
            {
                return Err(WriteError::LayoutMismatch {
                    kind,
                    entry: (info_sz, elem_sz),
                    known,
                });
            }
        }
    }
    let ctx = Ctx {
        b,
        last: last.get(),
        layout_section,
        max_vlen,
    };
    for (id, rec) in b.records() {
        ctx.check(rec)
            .map_err(|problem| WriteError::InvalidType { id, problem })?;
    }
    Ok(())
}

/// Whether `s` is a C identifier as the kernel accepts it (dots allowed).
pub(crate) fn is_identifier(s: &[u8]) -> bool {
    let Some((&first, rest)) = s.split_first() else {
        return false;
    };
    s.len() <= MAX_NAME_LEN
        && (first.is_ascii_alphabetic() || first == b'_' || first == b'.')
        && rest
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
}

/// Whether `s` is a DATASEC name as the kernel accepts it.
fn is_section_name(s: &[u8]) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME_LEN && s.iter().all(|&c| (0x20..0x7f).contains(&c))
}

struct Ctx<'b> {
    b: &'b Builder<'b>,
    last: u32,
    layout_section: bool,
    max_vlen: u32,
}

type Check = Result<(), Problem>;

impl Ctx<'_> {
    fn name(&self, off: u32) -> &[u8] {
        self.b.strings.get(self.b.base, off).unwrap_or_default()
    }

    /// A name that must be an identifier.
    fn ident(&self, place: Place, off: u32) -> Check {
        if off == 0 {
            return Err(Problem::NameRequired { place });
        }
        self.opt_ident(place, off)
    }

    /// A name that is empty (offset 0) or an identifier.
    fn opt_ident(&self, place: Place, off: u32) -> Check {
        if off != 0 && !is_identifier(self.name(off)) {
            return Err(Problem::NotIdentifier {
                place,
                name_off: StrOffset::new(off),
            });
        }
        Ok(())
    }

    /// A name that must not be empty.
    fn non_empty(&self, off: u32) -> Check {
        if off == 0 || self.name(off).is_empty() {
            return Err(Problem::NameRequired { place: Place::Type });
        }
        Ok(())
    }

    fn check(&self, rec: &[u32]) -> Check {
        let w = |i: usize| rec.get(i).copied().unwrap_or(0);
        let (name, info, st) = (w(0), w(1), w(2));
        let tail = record::tail(rec.as_bytes());
        let info_word = record::info_part::<U32>(tail).map_or(0, |w| w.get(NATIVE));
        let info = Info::new(info);
        let (kind, kflag, vlen) = (info.kind(), info.kflag(), info.vlen());
        self.check_length(kind, vlen, rec.len())?;
        self.check_references(kind, rec)?;

        let no_vlen = || match vlen {
            0 => Ok(()),
            _ => Err(Problem::UnexpectedVlen { vlen }),
        };
        let no_kflag = || match kflag {
            false => Ok(()),
            true => Err(Problem::UnexpectedKindFlag),
        };
        let no_name = || match name {
            0 => Ok(()),
            _ => Err(Problem::NameNotAllowed),
        };
        match kind {
            Kind::INT => {
                no_vlen()?;
                no_kflag()?;
                check_int(st, info_word)
            }
            Kind::PTR | Kind::VOLATILE | Kind::CONST | Kind::RESTRICT => {
                no_vlen()?;
                no_kflag()?;
                no_name()
            }
            Kind::TYPEDEF => {
                no_vlen()?;
                no_kflag()?;
                self.ident(Place::Type, name)
            }
            Kind::TYPE_TAG => {
                no_vlen()?;
                self.non_empty(name)
            }
            Kind::FWD => {
                no_vlen()?;
                if st != 0 {
                    return Err(Problem::NonZeroSizeOrType { value: st });
                }
                self.ident(Place::Type, name)
            }
            Kind::ARRAY => {
                no_name()?;
                no_vlen()?;
                no_kflag()?;
                if st != 0 {
                    return Err(Problem::NonZeroSizeOrType { value: st });
                }
                let (elem, index) = record::info_part::<BtfArray>(tail)
                    .map_or((0, 0), |a| (a.type_.get(NATIVE), a.index_type.get(NATIVE)));
                if elem == 0 {
                    return Err(Problem::VoidType {
                        place: Place::ArrayElem,
                    });
                }
                if index == 0 {
                    return Err(Problem::VoidType {
                        place: Place::ArrayIndex,
                    });
                }
                Ok(())
            }
            Kind::STRUCT | Kind::UNION => {
                self.opt_ident(Place::Type, name)?;
                self.check_members(kind == Kind::UNION, kflag, st, elements(rec, kind))
            }
            Kind::ENUM | Kind::ENUM64 => {
                if !matches!(st, 1 | 2 | 4 | 8) {
                    return Err(Problem::EnumSize { size: st });
                }
                self.opt_ident(Place::Type, name)?;
                let names: &mut dyn Iterator<Item = u32> = if kind == Kind::ENUM {
                    &mut elements::<BtfEnum>(rec, kind)
                        .iter()
                        .map(|e| e.name_off.get(NATIVE))
                } else {
                    &mut elements::<BtfEnum64>(rec, kind)
                        .iter()
                        .map(|e| e.name_off.get(NATIVE))
                };
                for (i, name) in names.enumerate() {
                    self.ident(Place::Enumerator(index(i)), name)?;
                }
                Ok(())
            }
            Kind::FUNC => {
                self.ident(Place::Type, name)?;
                if vlen > 1 {
                    return Err(Problem::Linkage { linkage: vlen });
                }
                no_kflag()
            }
            Kind::FUNC_PROTO => {
                no_kflag()?;
                no_name()
            }
            Kind::VAR => {
                no_vlen()?;
                no_kflag()?;
                self.ident(Place::Type, name)?;
                if st == 0 {
                    return Err(Problem::VoidType { place: Place::Type });
                }
                match info_word {
                    0 | 1 => Ok(()),
                    linkage => Err(Problem::Linkage { linkage }),
                }
            }
            Kind::DATASEC => {
                self.check_datasec(name, st, elements(rec, kind))?;
                no_kflag()
            }
            Kind::FLOAT => {
                no_vlen()?;
                no_kflag()?;
                match st {
                    2 | 4 | 8 | 12 | 16 => Ok(()),
                    size => Err(Problem::FloatSize { size }),
                }
            }
            Kind::DECL_TAG => {
                no_vlen()?;
                self.non_empty(name)?;
                let component_idx = info_word as i32;
                if component_idx < -1 {
                    return Err(Problem::ComponentIdx { component_idx });
                }
                Ok(())
            }
            // Unknown kinds (sized by a layout entry): nothing more is known.
            _ => Ok(()),
        }
    }

    /// The record's length must be what its kind and vlen say.
    fn check_length(&self, kind: Kind, vlen: u32, words: usize) -> Check {
        let (info_sz, elem_sz) = match kind.record_layout() {
            Some(layout) => layout,
            None if kind > Kind::MAX_KNOWN && self.layout_section => {
                match self.b.layout_entry(kind) {
                    Some((info, elem, _)) => (info, elem),
                    None => return Err(Problem::UnknownKind { kind }),
                }
            }
            None => return Err(Problem::UnknownKind { kind }),
        };
        let fixed = record::COMMON as u64 + u64::from(info_sz);
        let expected = fixed + u64::from(vlen) * u64::from(elem_sz);
        let found = words as u64 * 4;
        if expected == found {
            if elem_sz > 0 && vlen > self.max_vlen {
                return Err(Problem::VlenTooLarge {
                    count: vlen as usize,
                });
            }
            return Ok(());
        }
        if elem_sz > 0 {
            let count = found.saturating_sub(fixed) / u64::from(elem_sz);
            if count > u64::from(self.max_vlen.min(MAX_VLEN)) {
                return Err(Problem::VlenTooLarge {
                    count: usize::try_from(count).unwrap_or(usize::MAX),
                });
            }
        }
        Err(Problem::RecordLength {
            expected: expected.div_ceil(4),
            found: words,
        })
    }

    /// Every name must lie in the strings and every type id must exist.
    fn check_references(&self, kind: Kind, rec: &[u32]) -> Check {
        let mut problem = None;
        for_each_field(kind, rec.len(), |at, field| {
            if problem.is_some() {
                return;
            }
            let v = rec.get(at).copied().unwrap_or(0);
            match field {
                Field::Name(place) => {
                    let too_big = place == Place::Type && v > MAX_NAME_OFFSET;
                    if too_big || self.b.strings.get(self.b.base, v).is_none() {
                        problem = Some(Problem::NameOutOfRange {
                            place,
                            name_off: StrOffset::new(v),
                        });
                    }
                }
                Field::Type(place) => {
                    if v > self.last {
                        problem = Some(Problem::DanglingType {
                            place,
                            target: TypeId::new(v),
                        });
                    }
                }
            }
        });
        problem.map_or(Ok(()), Err)
    }

    fn check_members(&self, union: bool, kflag: bool, size: u32, members: &[BtfMember]) -> Check {
        let mut last_offset = 0u32;
        for (i, m) in members.iter().enumerate() {
            let place = Place::Member(index(i));
            self.opt_ident(place, m.name_off.get(NATIVE))?;
            if m.type_.get(NATIVE) == 0 {
                return Err(Problem::VoidType { place });
            }
            let bit_offset = MemberOffset::decode(m.offset.get(NATIVE), kflag).bit_offset;
            let bad = if union {
                bit_offset != 0
            } else {
                bit_offset < last_offset || u64::from(bit_offset).div_ceil(8) > u64::from(size)
            };
            if bad {
                return Err(Problem::MemberOffset {
                    index: index(i),
                    bit_offset,
                });
            }
            last_offset = bit_offset;
        }
        Ok(())
    }

    fn check_datasec(&self, name: u32, size: u32, entries: &[BtfVarSecinfo]) -> Check {
        if name == 0 {
            return Err(Problem::NameRequired { place: Place::Type });
        }
        if !is_section_name(self.name(name)) {
            return Err(Problem::NotSectionName {
                name_off: StrOffset::new(name),
            });
        }
        if size == 0 {
            return Err(Problem::DatasecSize);
        }
        let mut last_end = 0u64;
        for (i, e) in entries.iter().enumerate() {
            let (ty, offset, len) = (
                e.type_.get(NATIVE),
                u64::from(e.offset.get(NATIVE)),
                u64::from(e.size.get(NATIVE)),
            );
            if ty == 0 {
                return Err(Problem::VoidType {
                    place: Place::Secinfo(index(i)),
                });
            }
            let size = u64::from(size);
            let end = offset + len;
            if offset < last_end || offset >= size || len == 0 || len > size || end > size {
                return Err(Problem::SecinfoBounds { index: index(i) });
            }
            last_end = end;
        }
        Ok(())
    }
}

/// An INT's size and data word.
fn check_int(size: u32, word: u32) -> Check {
    if word & IntWord::RESERVED != 0 {
        return Err(Problem::IntReservedBits { word });
    }
    let IntWord {
        encoding,
        offset,
        bits,
    } = IntWord::decode(word);
    let total = u32::from(bits) + u32::from(offset);
    if total > 128 || total.div_ceil(8) > size {
        return Err(Problem::IntBits { offset, bits, size });
    }
    if !matches!(encoding, 0 | 1 | 2 | 4) {
        return Err(Problem::IntEncoding { encoding });
    }
    Ok(())
}

/// The elements of a record of `kind`, as many as its length holds (not
/// what its `vlen` says: a raw record may disagree).
fn elements<E: FromBytes + KnownLayout + Immutable>(rec: &[u32], kind: Kind) -> &[E] {
    let tail = record::tail(rec.as_bytes());
    let count = Shape::of(kind).map_or(0, |s| s.elements_in(tail.len()));
    record::elements(tail, count)
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_identifier(b"task_struct"));
        assert!(is_identifier(b"_x.1"));
        assert!(is_identifier(b".text"));
        assert!(!is_identifier(b""));
        assert!(!is_identifier(b"1abc"));
        assert!(!is_identifier(b"unsigned int"));
        assert!(!is_identifier(b"a-b"));
        assert!(is_identifier(&[b'a'; 512]));
        assert!(!is_identifier(&[b'a'; 513]));
        assert!(is_section_name(b".data..percpu"));
        assert!(is_section_name(b"my section!"));
        assert!(!is_section_name(b""));
        assert!(!is_section_name(b"tab\there"));
    }

    #[test]
    fn vlen_limits() {
        let b = Builder::new();
        let ctx = |max_vlen| Ctx {
            b: &b,
            last: 0,
            layout_section: false,
            max_vlen,
        };
        // An ENUM whose record holds 2^24 enumerators: vlen cannot say so.
        let words = 3 + 2 * (MAX_VLEN as usize + 1);
        assert_eq!(
            ctx(MAX_VLEN).check_length(Kind::ENUM, 0, words),
            Err(Problem::VlenTooLarge {
                count: MAX_VLEN as usize + 1
            })
        );
        assert_eq!(ctx(MAX_VLEN).check_length(Kind::ENUM, 2, 7), Ok(()));
        assert_eq!(
            ctx(1).check_length(Kind::ENUM, 2, 7),
            Err(Problem::VlenTooLarge { count: 2 })
        );
        // FUNC's vlen is its linkage, not a count.
        assert_eq!(ctx(0).check_length(Kind::FUNC, 1, 3), Ok(()));
        assert_eq!(
            ctx(MAX_VLEN).check_length(Kind::ENUM, 3, 7),
            Err(Problem::RecordLength {
                expected: 9,
                found: 7
            })
        );
    }

    #[test]
    fn int_rules() {
        assert_eq!(check_int(4, 0x0100_0020), Ok(()));
        assert_eq!(check_int(16, 0x0000_0080), Ok(()));
        assert!(check_int(4, 0x0000_0021).is_err());
        assert!(check_int(4, 0x1000_0020).is_err());
        assert!(check_int(4, 0x0300_0020).is_err());
        assert!(check_int(1, 0x0001_0008).is_err());
    }
}
