//! `btf_parse_hdr`, `btf_check_sec_info`, `btf_parse_str_sec` and the
//! checks at the start of `btf_parse_type_sec`.

use super::limits::{MAX_BLOB_SIZE, MAX_NAME_OFFSET};
use super::profile::KernelProfile;
use super::reject::{Errno, Rule};
use super::{Fault, Sections};
use crate::wire::BTF_MAGIC;

/// Reads the header as the kernel does: `min(hdr_len, known)` bytes over a
/// zeroed struct, in the kernel's byte order.
struct Hdr {
    magic: u16,
    version: u8,
    flags: u8,
    hdr_len: u32,
    /// (offset, length) of types, strings, and (2026) layout.
    secs: [(u32, u32); 3],
}

fn fault(rule: Rule, errno: Errno, offset: usize) -> Fault {
    Fault::new(rule, errno, None, offset)
}

fn inval(rule: Rule, offset: usize) -> Fault {
    fault(rule, Errno::Inval, offset)
}

/// Checks header, sections and strings; returns where the sections lie.
pub(super) fn check(data: &[u8], split: bool, p: &KernelProfile) -> Result<Sections, Fault> {
    if data.len() > MAX_BLOB_SIZE {
        return Err(fault(Rule::TooLarge, Errno::TooBig, 0));
    }
    let e = p.endian;
    let word = |at: usize| -> u32 {
        data.get(at..at + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map_or(0, |b| e.read_u32(b))
    };
    if data.len() < 8 {
        return Err(inval(Rule::HdrLenNotFound, 0));
    }
    let hdr_len = word(4);
    if data.len() < hdr_len as usize {
        return Err(inval(Rule::HeaderNotFound, 4));
    }
    let known = p.header_len() as usize;
    let hdr_end = hdr_len as usize;
    if hdr_end > known
        && let Some(pos) = data
            .get(known..hdr_end)
            .and_then(|extra| extra.iter().position(|&b| b != 0))
    {
        return Err(fault(Rule::HeaderNotZero, Errno::TooBig, known + pos));
    }
    let mut raw = [0u8; 32];
    let copy = hdr_end.min(known);
    if let (Some(dst), Some(src)) = (raw.get_mut(..copy), data.get(..copy)) {
        dst.copy_from_slice(src);
    }
    let rd = |at: usize| -> u32 {
        raw.get(at..at + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map_or(0, |b| e.read_u32(b))
    };
    let hdr = Hdr {
        magic: e.read_u16([raw[0], raw[1]]),
        version: raw[2],
        flags: raw[3],
        hdr_len: rd(4),
        secs: [(rd(8), rd(12)), (rd(16), rd(20)), (rd(24), rd(28))],
    };
    if hdr.magic != BTF_MAGIC {
        return Err(inval(Rule::BadMagic, 0));
    }
    if hdr.version != 1 {
        return Err(fault(Rule::BadVersion, Errno::NotSupp, 2));
    }
    if hdr.flags != 0 {
        return Err(fault(Rule::BadFlags, Errno::NotSupp, 3));
    }
    let size = data.len() as u32;
    if !split && size == hdr.hdr_len {
        return Err(inval(Rule::NoData, 4));
    }
    check_sec_info(&hdr, size, p)?;

    // The string section.
    let body = hdr.hdr_len as usize;
    let [
        (type_off, type_len),
        (str_off, str_len),
        (layout_off, layout_len),
    ] = hdr.secs;
    let str_at = body + str_off as usize;
    let str_end = str_at + str_len as usize;
    if str_end != data.len() {
        return Err(inval(Rule::StringsNotAtEnd, 16));
    }
    let strings = data.get(str_at..str_end).unwrap_or_default();
    if !(split && str_len == 0) {
        if str_len == 0 || str_len - 1 > MAX_NAME_OFFSET || strings.last() != Some(&0) {
            return Err(inval(Rule::BadStrings, str_at));
        }
        if !split && strings.first() != Some(&0) {
            return Err(inval(Rule::BadStrings, str_at));
        }
    }

    // The start of the type section.
    if type_off & 3 != 0 {
        return Err(inval(Rule::TypeOffUnaligned, 8));
    }
    if !split && type_len == 0 {
        return Err(inval(Rule::NoTypes, 12));
    }
    let types_at = body + type_off as usize;
    let layout = if p.format_2026() {
        (body + layout_off as usize, layout_len as usize)
    } else {
        (0, 0)
    };
    Ok(Sections {
        types_at,
        types_len: type_len as usize,
        strings_at: str_at,
        strings_len: str_len as usize,
        layout,
    })
}

/// The sections sorted by offset (then length) must tile the data after the
/// header. The kernel compares with `(int)(a - b)`: kept as is.
fn check_sec_info(hdr: &Hdr, size: u32, p: &KernelProfile) -> Result<(), Fault> {
    let n = if p.format_2026() { 3 } else { 2 };
    let mut secs = hdr.secs;
    let secs = secs.get_mut(..n).unwrap_or_default();
    let cmp = |a: (u32, u32), b: (u32, u32)| -> i32 {
        let d = a.0.wrapping_sub(b.0) as i32;
        if d != 0 {
            d
        } else {
            a.1.wrapping_sub(b.1) as i32
        }
    };
    // Insertion sort: for two or three entries, the order the kernel's
    // heap sort leaves when the comparison is consistent.
    for i in 1..secs.len() {
        let mut j = i;
        while j > 0 {
            let (Some(&a), Some(&b)) = (secs.get(j - 1), secs.get(j)) else {
                break;
            };
            if cmp(a, b) <= 0 {
                break;
            }
            secs.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut total: u32 = 0;
    let expected = size.wrapping_sub(hdr.hdr_len);
    for &(off, len) in secs.iter() {
        if expected < off {
            return Err(inval(Rule::SectionOffset, 8));
        }
        if total < off {
            return Err(inval(Rule::SectionGap, 8));
        }
        if total > off {
            return Err(inval(Rule::SectionOverlap, 8));
        }
        if expected - total < len {
            return Err(inval(Rule::SectionTooLong, 8));
        }
        total += len;
    }
    if expected != total {
        return Err(inval(Rule::SectionGap, 8));
    }
    Ok(())
}
