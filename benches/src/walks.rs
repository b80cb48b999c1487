//! Reference walks written in the bench crate, to measure btf-core's parse
//! against what the hardware allows.
//!
//! - [`bare_walk`]: the physical limit. It reads each record's info word,
//!   sizes the record from kind and vlen by shifting two constants, and
//!   advances; no validation at all (an unknown kind is taken as 12 bytes, a
//!   truncated last record ends the walk). [`bare_walk_offsets`] also stores each
//!   record's offset, as an id index needs.
//! - [`framing_walk`]: the checks of each record itself (known kind, fits,
//!   name and fixed-part references in range), the checks `Btf::parse`
//!   makes, written plainly.
//! - [`native_parse`]: a little-endian-only framing parse that does the
//!   same work as `Btf::parse_unindexed`; see its documentation for how the
//!   comparison is kept fair.

use btf_core::{Endian, Header};

/// Bytes after the 12-byte common record, then bytes per vlen element, for
/// every 7-bit kind (0 for kinds the kernel does not define).
const LAYOUT: [(u8, u8); 128] = {
    let mut t = [(0u8, 0u8); 128];
    t[1] = (4, 0); // INT
    t[3] = (12, 0); // ARRAY
    t[4] = (0, 12); // STRUCT
    t[5] = (0, 12); // UNION
    t[6] = (0, 8); // ENUM
    t[13] = (0, 8); // FUNC_PROTO
    t[14] = (4, 0); // VAR
    t[15] = (0, 12); // DATASEC
    t[17] = (4, 0); // DECL_TAG
    t[19] = (0, 12); // ENUM64
    t
};

/// Whether the kernel defines each 7-bit kind (1..=19).
const KNOWN: [bool; 128] = {
    let mut t = [false; 128];
    let mut k = 1;
    while k <= 19 {
        t[k] = true;
        k += 1;
    }
    t
};

/// The type section of a little-endian blob, for the bare walks.
///
/// # Panics
///
/// If the header does not parse or the section is out of bounds: the bare
/// walks run only on blobs btf-core has accepted.
pub fn type_section(data: &[u8]) -> &[u8] {
    let h = Header::parse(data).expect("bare walk needs a valid header");
    let start = h.hdr_len as usize + h.type_off as usize;
    data.get(start..start + h.type_len as usize)
        .expect("type section in bounds")
}

#[inline(always)]
fn word(types: &[u8], at: usize) -> Option<u32> {
    let b = types.get(at..at.wrapping_add(4))?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// [`LAYOUT`] packed two bits per kind (1..=19) in 4-byte words: info bytes
/// at bit `2k` of the first word, element bytes of the second. Shifting a
/// constant keeps a table load off the chain from one record's `info` to
/// the next record's offset, which bounds every walk.
const PACKED_WORDS: (u64, u64) = {
    let (mut info, mut elem) = (0u64, 0u64);
    let mut k = 1;
    while k <= 19 {
        info |= (LAYOUT[k].0 as u64 / 4) << (2 * k);
        elem |= (LAYOUT[k].1 as u64 / 4) << (2 * k);
        k += 1;
    }
    (info, elem)
};

#[inline(always)]
fn bare_size(info: u32) -> usize {
    // Kinds above 31 are taken as kind & 31: no check of any kind here.
    let at = 2 * ((info >> 24) & 0x1f);
    let vlen = (info & 0x00ff_ffff) as usize;
    let info_words = ((PACKED_WORDS.0 >> at) & 3) as usize;
    let elem_words = ((PACKED_WORDS.1 >> at) & 3) as usize;
    12 + 4 * (info_words + vlen * elem_words)
}

/// The bare offset walk: the number of records, found by reading only each
/// info word. No checks beyond staying in the slice.
#[inline(never)]
pub fn bare_walk(types: &[u8]) -> u32 {
    let mut off = 0usize;
    let mut count = 0u32;
    while let Some(info) = word(types, off.wrapping_add(4)) {
        off = off.wrapping_add(bare_size(info));
        count = count.wrapping_add(1);
    }
    count
}

/// [`bare_walk`], pushing each record's offset to `out` (which the caller
/// clears and may pre-size): the floor for building an id index.
#[inline(never)]
pub fn bare_walk_offsets(types: &[u8], out: &mut Vec<u32>) {
    let mut off = 0usize;
    while let Some(info) = word(types, off.wrapping_add(4)) {
        out.push(off as u32);
        off = off.wrapping_add(bare_size(info));
    }
}

/// Which kinds hold a type id in `size_or_type`: PTR, TYPEDEF, VOLATILE,
/// CONST, RESTRICT, FUNC, FUNC_PROTO (return), VAR, DECL_TAG, TYPE_TAG.
const HEADER_REF: [bool; 128] = {
    let mut t = [false; 128];
    let refs = [2, 8, 9, 10, 11, 12, 13, 14, 17, 18];
    let mut i = 0;
    while i < refs.len() {
        t[refs[i]] = true;
        i += 1;
    }
    t
};

/// The framing walk: the record checks of btf-core's parse written plainly
/// for little-endian blobs with no layout section, keeping no index. Each
/// record must have a known kind and fit; its name offset and, by kind,
/// its type references (`size_or_type`, ARRAY's element and index types)
/// are folded into maxima checked once at the end (as btf-core does); the
/// elements (members, parameters, enumerators, datasec entries) are not
/// read, as `Btf::parse` leaves them to `Btf::validate`. From
/// [`bare_walk`] to here is the cost of checking each record; from here to
/// `Btf::parse_unindexed`, that of btf-core's generality (either byte
/// order, layout sections, errors that name the place). `None` when a
/// check fails.
#[inline(never)]
pub fn framing_walk(types: &[u8], str_len: u32) -> Option<u32> {
    let mut rest = types;
    let (mut count, mut max_name, mut max_ref) = (0u32, 0u32, 0u32);
    while let Some((common, after)) = rest.split_first_chunk::<12>() {
        let info = u32::from_le_bytes(common[4..8].try_into().ok()?);
        let kind = ((info >> 24) & 0x7f) as usize;
        if !KNOWN[kind] {
            return None;
        }
        let (info_sz, elem_sz) = LAYOUT[kind];
        let extra = info_sz as usize + (info & 0x00ff_ffff) as usize * elem_sz as usize;
        let (_, next) = after.split_at_checked(extra)?;
        max_name = max_name.max(u32::from_le_bytes(common[0..4].try_into().ok()?));
        if HEADER_REF[kind] {
            max_ref = max_ref.max(u32::from_le_bytes(common[8..12].try_into().ok()?));
        }
        if kind == 3 {
            let info = after.get(..8)?;
            max_ref = max_ref
                .max(u32::from_le_bytes(info[..4].try_into().ok()?))
                .max(u32::from_le_bytes(info[4..].try_into().ok()?));
        }
        rest = next;
        count += 1;
    }
    (max_name < str_len && max_ref <= count).then_some(count)
}

/// Why [`native_parse`] refused a blob (kept small: only the kind of
/// failure, no position; the error path is not what is measured).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeError {
    /// Not little-endian.
    NotNative,
    /// The header or the section table is bad.
    Header,
    /// A record is truncated, or its kind cannot be sized.
    Record,
    /// A name offset or type id is out of range.
    Reference,
    /// More than `u32::MAX` types.
    TooMany,
}

/// A little-endian-only framing parse of a base blob: the same checks as
/// `btf_core::Btf::parse_unindexed(data, None)`, with the byte order fixed
/// in the source rather than chosen at run time. Returns the type count.
///
/// # What is compared, and why it is fair
///
/// The bench `native_vs_both_orders` runs this and `Btf::parse_unindexed`
/// on the same bytes (the running kernel's little-endian BTF), in the same
/// criterion group, one right after the other; `report --icount` also
/// counts their instructions, which machine load cannot disturb. Both do
/// the same work:
///
/// - the header through the same `btf_core::Header::parse` (constant time;
///   it finds the byte order, the one piece of run-time dispatch both
///   share), then section bounds, alignment, overlap, string-section and
///   layout-section checks (constant time, or per layout entry);
/// - one pass over every record: it must hold 12 bytes, its kind must be
///   known or sized by a layout section, its body must fit; its name
///   offset and the type ids of its fixed part (referenced type, array
///   element and index) are folded into two running maxima, checked once at
///   the end against the string length and the last id (elements are left
///   to `Btf::validate`, as btf-core's parse leaves them);
/// - no index is kept by either (no allocation at all).
///
/// The loop is the same algorithm as btf-core's record walk: an inner loop
/// over the known kinds, sized by shifting two constants and advanced by a
/// plain add after a check against what is left, with no call in it; an
/// outer loop for records a layout section sizes. Comparing against a naive native
/// walk would measure the algorithm, not the byte order; comparing against
/// the same algorithm isolates what remains: here every field is read with
/// `u32::from_le_bytes` written into the loop, where btf-core's walk is
/// generic over a compile-time byte order picked by one `match` on the
/// run-time order, and carries a big-endian instance beside it. The ratio
/// of the two is what supporting both orders costs a native blob (if
/// btf-core's walk changes algorithm again, update this one to match).
pub fn native_parse(data: &[u8]) -> Result<u32, NativeError> {
    let h = Header::parse(data).map_err(|_| NativeError::Header)?;
    if h.endian != Endian::Little {
        return Err(NativeError::NotNative);
    }
    let body = data.get(h.hdr_len as usize..).ok_or(NativeError::Header)?;
    let (layout_off, layout_len) = h.layout.unwrap_or((0, 0));
    let list = [
        (h.type_off, h.type_len, true),
        (h.str_off, h.str_len, false),
        (layout_off, layout_len, true),
    ];
    for &(off, len, aligned) in &list {
        if u64::from(off) + u64::from(len) > body.len() as u64 || (aligned && off % 4 != 0) {
            return Err(NativeError::Header);
        }
    }
    for (i, a) in list.iter().enumerate() {
        for b in list.iter().skip(i + 1) {
            let (ae, be) = (
                u64::from(a.0) + u64::from(a.1),
                u64::from(b.0) + u64::from(b.1),
            );
            if a.1 != 0 && b.1 != 0 && u64::from(a.0) < be && u64::from(b.0) < ae {
                return Err(NativeError::Header);
            }
        }
    }
    let slice = |off: u32, len: u32| body.get(off as usize..off as usize + len as usize);
    let types = slice(h.type_off, h.type_len).ok_or(NativeError::Header)?;
    let strings = slice(h.str_off, h.str_len).ok_or(NativeError::Header)?;
    if strings.first() != Some(&0) || strings.last() != Some(&0) {
        return Err(NativeError::Header);
    }
    let layout = slice(layout_off, layout_len).ok_or(NativeError::Header)?;
    if layout.len() % 4 != 0 {
        return Err(NativeError::Header);
    }
    for (k, e) in layout.chunks_exact(4).enumerate() {
        if KNOWN.get(k).copied().unwrap_or(false) && (e[0], e[1]) != LAYOUT[k] {
            return Err(NativeError::Header);
        }
    }
    walk_le(types, layout, strings.len() as u64)
}

/// Bit `k` set when kind `k`'s `size_or_type` is a type id.
const SIZE_OR_TYPE_IS_ID: u32 = {
    let mut bits = 0u32;
    let refs = [2, 8, 9, 10, 11, 12, 13, 14, 17, 18];
    let mut i = 0;
    while i < refs.len() {
        bits |= 1 << refs[i];
        i += 1;
    }
    bits
};

#[inline(always)]
fn le(b: &[u8], at: usize) -> u32 {
    match b.get(at..).and_then(|b| b.first_chunk::<4>()) {
        Some(w) => u32::from_le_bytes(*w),
        None => 0,
    }
}

/// The size of a record of a kind sized by a layout section.
#[cold]
#[inline(never)]
fn sized_by_layout(kind: usize, vlen: u32, layout: &[u8]) -> Option<usize> {
    let e = layout.get(kind * 4..kind * 4 + 2)?;
    Some(12 + e[0] as usize + vlen as usize * e[1] as usize)
}

/// The record loop of [`native_parse`]: little-endian, folded maxima.
/// Records of the 19 known kinds go through the inner loop, sized by
/// [`PACKED_WORDS`]; the outer loop takes a record of another kind (sized by
/// the layout section) or stops, as btf-core's walk does.
fn walk_le(types: &[u8], layout: &[u8], str_end: u64) -> Result<u32, NativeError> {
    let len = types.len();
    let mut off = 0usize;
    let mut count = 0u32;
    let mut max_name = 0u32;
    let mut max_ref = 0u32;
    loop {
        while let Some(common) = types.get(off..).and_then(|r| r.first_chunk::<12>()) {
            let info = le(common, 4);
            let kind = (info >> 24) & 0x7f;
            let vlen = (info & 0x00ff_ffff) as usize;
            if kind.wrapping_sub(1) >= 19 {
                break;
            }
            let at = 2 * kind;
            let size = 12
                + 4 * (((PACKED_WORDS.0 >> at) & 3) as usize
                    + vlen * ((PACKED_WORDS.1 >> at) & 3) as usize);
            if size > len - off {
                break;
            }
            max_name = max_name.max(le(common, 0));
            let refers = 0u32.wrapping_sub((SIZE_OR_TYPE_IS_ID >> kind) & 1);
            max_ref = max_ref.max(le(common, 8) & refers);
            if kind == 3 {
                max_ref = max_ref.max(le(types, off + 12)).max(le(types, off + 16));
            }
            off += size;
            count += 1;
        }
        let Some(common) = types.get(off..).and_then(|r| r.first_chunk::<12>()) else {
            break;
        };
        let info = le(common, 4);
        let kind = ((info >> 24) & 0x7f) as usize;
        if kind == 0 || KNOWN[kind] {
            break;
        }
        match sized_by_layout(kind, info & 0x00ff_ffff, layout) {
            Some(size) if size <= len - off => {
                max_name = max_name.max(le(common, 0));
                off += size;
                count += 1;
            }
            _ => break,
        }
    }
    if off != len {
        return Err(NativeError::Record);
    }
    let last_id = 1 + u64::from(count);
    if u64::from(max_name) < str_end
        && u64::from(max_ref) < last_id
        && last_id <= u64::from(u32::MAX)
    {
        Ok(count)
    } else {
        Err(NativeError::Reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use btf_core::Btf;

    /// The native parse accepts exactly what btf-core accepts, on the tiny
    /// test blob and on every one-byte corruption of it.
    #[test]
    fn native_parse_agrees_with_btf_core() {
        let blob = btf_core::testing::tiny_blob_in(Endian::Little);
        let ours = Btf::parse_unindexed(&blob, None).expect("tiny blob parses");
        assert_eq!(bare_walk(type_section(&blob)), ours.type_count());
        agrees_on_every_corruption(&blob, &[0, 1, 0x7f, 0x80, 0xff]);
    }

    /// `native_parse` gives btf-core's answer on `blob` and on every copy
    /// with one byte set to one of `values`.
    fn agrees_on_every_corruption(blob: &[u8], values: &[u8]) {
        let count = |b: &[u8]| Btf::parse_unindexed(b, None).map(|b| b.type_count()).ok();
        assert_eq!(native_parse(blob).ok(), count(blob));
        assert!(count(blob).is_some(), "the blob itself parses");
        for at in 0..blob.len() {
            for &v in values {
                let mut bad = blob.to_vec();
                bad[at] = v;
                assert_eq!(
                    native_parse(&bad).ok(),
                    count(&bad),
                    "byte {at} set to {v:#x}"
                );
            }
        }
    }

    /// The same on a blob with the kinds that refer through their fixed
    /// part (ARRAY's two ids, VAR, FUNC_PROTO, DECL_TAG) and a kind only a
    /// layout section sizes, between known ones.
    #[test]
    fn native_parse_agrees_with_btf_core_on_arrays_and_layouts() {
        use btf_core::testing::RawBlob;
        let mut b = RawBlob::new(Endian::Little);
        let int = b.str("int");
        let (v, p) = (b.str("v"), b.str("p"));
        b.ty(int, 1, false, 0, 4).word(0x0100_0020); // [1] int
        b.ty(0, 3, false, 0, 0).words(&[1, 1, 4]); // [2] int[4]
        b.ty(0, 20, false, 2, 0).words(&[7, 8, 9, 10, 11]); // [3] kind 20: 4 + 2 * 8
        b.ty(0, 13, false, 1, 1).words(&[p, 2]); // [4] int (int p[4])
        b.ty(v, 14, false, 0, 2).word(1); // [5] VAR v
        b.ty(0, 17, false, 0, 5).word(u32::MAX); // [6] DECL_TAG on v
        let mut layout = RawBlob::known_layout();
        layout.push((4, 8));
        b.layout(&layout);
        let blob = b.build();
        assert_eq!(native_parse(&blob), Ok(6));
        agrees_on_every_corruption(&blob, &[0, 1, 6, 7, 0x7f, 0x80, 0xff]);
    }

    #[test]
    fn native_parse_refuses_big_endian() {
        let blob = btf_core::testing::tiny_blob_in(Endian::Big);
        assert_eq!(native_parse(&blob), Err(NativeError::NotNative));
    }
}
