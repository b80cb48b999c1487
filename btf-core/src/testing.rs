//! A minimal raw blob encoder for tests, doctests and fuzz seeds.
//!
//! It writes exactly the words it is given, valid or not, so tests can
//! produce both well-formed blobs and precise corruptions. Not part of the
//! stable API.

use crate::endian::Endian;
use alloc::vec::Vec;

/// Builds a blob word by word.
#[derive(Clone, Debug)]
pub struct RawBlob {
    endian: Endian,
    str_base: u32,
    strings: Vec<u8>,
    types: Vec<u8>,
    layout: Option<Vec<u8>>,
}

impl RawBlob {
    /// A base blob: strings start with the empty string.
    pub fn new(endian: Endian) -> RawBlob {
        RawBlob {
            endian,
            str_base: 0,
            strings: alloc::vec![0],
            types: Vec::new(),
            layout: None,
        }
    }

    /// A split blob whose string offsets start at `str_base` (the base's
    /// total string length) and whose own strings start empty.
    pub fn split(endian: Endian, str_base: u32) -> RawBlob {
        RawBlob {
            endian,
            str_base,
            strings: Vec::new(),
            types: Vec::new(),
            layout: None,
        }
    }

    /// Adds a string, returning its offset as records refer to it.
    pub fn str(&mut self, s: &str) -> u32 {
        let off = self.str_base + self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    /// Appends a 12-byte record header.
    pub fn ty(
        &mut self,
        name_off: u32,
        kind: u8,
        kflag: bool,
        vlen: u32,
        size_or_type: u32,
    ) -> &mut Self {
        let info = (u32::from(kflag) << 31) | (u32::from(kind) << 24) | (vlen & 0x00ff_ffff);
        self.word(name_off).word(info).word(size_or_type)
    }

    /// Appends one trailing word.
    pub fn word(&mut self, w: u32) -> &mut Self {
        self.types.extend_from_slice(&self.endian.write_u32(w));
        self
    }

    /// Appends trailing words.
    pub fn words(&mut self, ws: &[u32]) -> &mut Self {
        for &w in ws {
            self.word(w);
        }
        self
    }

    /// Gives the blob a 32-byte header and this kind layout section
    /// (`(info_sz, elem_sz)` per kind, from kind 0).
    pub fn layout(&mut self, entries: &[(u8, u8)]) -> &mut Self {
        let mut bytes = Vec::new();
        for &(info_sz, elem_sz) in entries {
            bytes.push(info_sz);
            bytes.push(elem_sz);
            bytes.extend_from_slice(&self.endian.write_u16(0));
        }
        self.layout = Some(bytes);
        self
    }

    /// The kernel's layout table for kinds 0..=19.
    pub fn known_layout() -> Vec<(u8, u8)> {
        (0..=19u8)
            .map(|k| crate::Kind::new(k).record_layout().unwrap_or((0, 0)))
            .collect()
    }

    /// Encodes: header, types, layout (if any), strings, tightly packed.
    pub fn build(&self) -> Vec<u8> {
        let e = self.endian;
        let hdr_len: u32 = if self.layout.is_some() { 32 } else { 24 };
        let type_len = self.types.len() as u32;
        let layout_len = self.layout.as_ref().map_or(0, |l| l.len() as u32);
        let str_off = type_len + layout_len;
        let mut out = Vec::new();
        out.extend_from_slice(&e.write_u16(crate::wire::BTF_MAGIC));
        out.push(1);
        out.push(0);
        for w in [hdr_len, 0, type_len, str_off, self.strings.len() as u32] {
            out.extend_from_slice(&e.write_u32(w));
        }
        if self.layout.is_some() {
            out.extend_from_slice(&e.write_u32(type_len));
            out.extend_from_slice(&e.write_u32(layout_len));
        }
        out.extend_from_slice(&self.types);
        if let Some(l) = &self.layout {
            out.extend_from_slice(l);
        }
        out.extend_from_slice(&self.strings);
        out
    }
}

/// A small valid blob for examples: `int`, `struct point { int x; int y; }`,
/// `typedef struct point point_t`, a pointer to `point_t`, and
/// `enum color { RED, GREEN = -1 }` (signed).
pub fn tiny_blob() -> Vec<u8> {
    tiny_blob_in(Endian::Little)
}

/// [`tiny_blob`] in the given byte order.
pub fn tiny_blob_in(endian: Endian) -> Vec<u8> {
    let mut b = RawBlob::new(endian);
    let int = b.str("int");
    let point = b.str("point");
    let (x, y) = (b.str("x"), b.str("y"));
    let point_t = b.str("point_t");
    let color = b.str("color");
    let (red, green) = (b.str("RED"), b.str("GREEN"));
    b.ty(int, 1, false, 0, 4).word(0x0100_0020); // [1] int: signed, 32 bits
    b.ty(point, 4, false, 2, 8).words(&[x, 1, 0, y, 1, 32]); // [2] struct point
    b.ty(point_t, 8, false, 0, 2); // [3] typedef point_t
    b.ty(0, 2, false, 0, 3); // [4] point_t *
    b.ty(color, 6, true, 2, 4).words(&[red, 0, green, u32::MAX]); // [5] enum color
    b.build()
}

/// What the record decoder (the `record` module, record by record) says a
/// parse of `data` on `base` gives: the records' offsets, or the first
/// fault of the records' own fields; and what `validate` then gives.
/// `None` when the header, the sections or the layering on `base` fail,
/// before any record is read.
struct Decoded {
    parse: crate::Result<Vec<u32>>,
    validate: crate::Result<()>,
}

fn decode(data: &[u8], base: Option<&crate::Btf<'_>>) -> Option<Decoded> {
    use crate::error::Error;
    use crate::header::Header;
    use crate::id::{Kind, StrOffset, TypeId};
    use crate::record::{self, Records, Ref};
    let header = Header::parse(data).ok()?;
    let sections = header.sections(data, base.is_some()).ok()?;
    let (first_id, str_start) = match base {
        Some(b) => (
            b.last_id().get().checked_add(1)?,
            b.str_start()
                .checked_add(u32::try_from(b.strings().len()).ok()?)?,
        ),
        None => (1, 0),
    };
    if base.is_some_and(|b| b.endian() != header.endian) {
        return None;
    }
    let mut layouts = alloc::vec![sections.layout];
    let mut below = base;
    while let Some(b) = below {
        layouts.push(b.layout());
        below = b.base();
    }
    let types = sections.types;
    let at = |off: usize| sections.types_at.saturating_add(off);
    let mut offsets = Vec::new();
    let mut stop = None;
    for r in Records::new(types, header.endian, &layouts) {
        match r {
            Ok((off, _)) => offsets.push(off),
            Err(off) => {
                stop = Some(off);
                break;
            }
        }
    }
    let id_of = |index: usize| TypeId::new(first_id.saturating_add(index as u32));
    if let Some(off) = stop {
        let id = id_of(offsets.len());
        let rest = types.get(off..).unwrap_or_default();
        let error = match rest.get(4..8).and_then(|w| <[u8; 4]>::try_from(w).ok()) {
            Some(word) if rest.len() >= record::COMMON => {
                let info = record::Info::new(header.endian.read_u32(word));
                match record::size(info.kind(), info.vlen(), &layouts) {
                    Some(needed) => Error::RecordTruncated {
                        id,
                        offset: at(off),
                        needed,
                        available: rest.len(),
                    },
                    None if info.kind() == Kind::VOID => Error::InvalidKind {
                        id,
                        offset: at(off),
                    },
                    None => Error::UnknownKind {
                        id,
                        offset: at(off),
                        kind: info.kind(),
                    },
                }
            }
            _ => Error::RecordTruncated {
                id,
                offset: at(off),
                needed: record::COMMON as u64,
                available: rest.len(),
            },
        };
        return Some(Decoded {
            parse: Err(error),
            validate: Err(error),
        });
    }
    let str_end = u64::from(str_start) + sections.strings.len() as u64;
    let last_id = u64::from(first_id) + offsets.len() as u64;
    // The first field out of range, the records' own or every one.
    let first_fault = |elements: bool| -> crate::Result<()> {
        for (index, &off) in offsets.iter().enumerate() {
            let rec = types.get(off..).unwrap_or_default();
            let word = |w: usize| {
                rec.get(w * 4..w * 4 + 4)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map_or(0, |b| header.endian.read_u32(b))
            };
            let info = record::Info::new(word(1));
            let count = if elements { info.vlen() as usize } else { 0 };
            for (w, what, _) in record::refs(info.kind(), count) {
                let (value, offset, id) = (word(w), at(off + 4 * w), id_of(index));
                match what {
                    Ref::Name if u64::from(value) >= str_end => {
                        return Err(Error::NameOutOfRange {
                            id,
                            offset,
                            name_off: StrOffset::new(value),
                        });
                    }
                    Ref::Type if u64::from(value) >= last_id => {
                        return Err(Error::DanglingType {
                            id,
                            offset,
                            target: TypeId::new(value),
                        });
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    };
    let parse = first_fault(false).map(|()| offsets.iter().map(|&o| o as u32).collect());
    Some(Decoded {
        validate: first_fault(true),
        parse,
    })
}

/// Checks a parse of `data` on `base` (`result`, from `Btf::parse`,
/// `parse_split` or `parse_splits`, which walk the type section with the
/// walk's own packed tables) against the record decoder, record by record:
/// the same offsets, or the same first fault; and `validate` likewise.
/// Returns what differs.
pub fn check_against_decoder(
    result: &crate::Result<crate::Btf<'_>>,
    data: &[u8],
    base: Option<&crate::Btf<'_>>,
) -> Result<(), alloc::string::String> {
    use alloc::format;
    let Some(want) = decode(data, base) else {
        // Refused before the walk; not the walk's business.
        return match result {
            Err(_) => Ok(()),
            Ok(_) => Err("parsed a blob whose header or layering fails".into()),
        };
    };
    match (result, &want.parse) {
        (Ok(btf), Ok(offsets)) => {
            if !btf.is_indexed() {
                return Err("no id index to compare".into());
            }
            let index = btf.clone().into_index();
            if index.offsets() != offsets.as_slice() {
                return Err(format!(
                    "{} records walked, {} decoded, or offsets differ",
                    index.offsets().len(),
                    offsets.len()
                ));
            }
            let validated = btf.validate();
            if validated != want.validate {
                return Err(format!(
                    "validate: walk {validated:?}, decoder {:?}",
                    want.validate
                ));
            }
            Ok(())
        }
        (Err(got), Err(want)) if got == want => Ok(()),
        (got, want) => Err(format!(
            "parse: walk {:?}, decoder {:?}",
            got.as_ref().map(|b| b.type_count()),
            want.as_ref().map(Vec::len)
        )),
    }
}

/// Whether the kernel-exact check accepts `data` (on `base`) under `p`
/// with the resolve pass's fast path answering, no walk run: held to real
/// kernels by a test, so that the fast path cannot quietly stop
/// answering (the verdict would not change, only the speed).
pub fn kernel_check_fast_path(
    data: &[u8],
    base: Option<&crate::Btf<'_>>,
    p: &crate::kernel_check::KernelProfile,
) -> bool {
    crate::kernel_check::accepted_by_fast_path(data, base, p)
}

/// A xorshift64 sequence from `seed` (not 0): many cheap, repeatable
/// inputs for the unit tests that draw them.
#[cfg(test)]
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}
