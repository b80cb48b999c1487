//! The header: byte order, section bounds, and the 2026 layout section.

use crate::endian::Endian;
use crate::error::{Error, Result, Section};
use crate::id::Kind;
use crate::wire::{BTF_MAGIC, BTF_VERSION, BtfHeader, BtfHeaderLayout, BtfKindLayout};
use zerocopy::FromBytes;

/// The decoded header of a blob.
///
/// Section offsets count from the end of the header (`hdr_len`), as in the
/// kernel's `struct btf_header`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The byte order the magic revealed.
    pub endian: Endian,
    /// Header length in bytes (24 classic, 32 with a layout section).
    pub hdr_len: u32,
    /// Offset of the type section.
    pub type_off: u32,
    /// Length of the type section.
    pub type_len: u32,
    /// Offset of the string section.
    pub str_off: u32,
    /// Length of the string section.
    pub str_len: u32,
    /// Offset and length of the kind layout section, when the header is long
    /// enough to have the fields (even if the length is 0).
    pub layout: Option<(u32, u32)>,
}

/// The sections of a blob, as slices of it, with their absolute offsets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sections<'a> {
    pub(crate) types: &'a [u8],
    pub(crate) types_at: usize,
    pub(crate) strings: &'a [u8],
    pub(crate) strings_at: usize,
    pub(crate) layout: &'a [BtfKindLayout],
}

const CLASSIC_LEN: usize = size_of::<BtfHeader>();
const LAYOUT_LEN: usize = CLASSIC_LEN + size_of::<BtfHeaderLayout>();

impl Header {
    /// Reads and checks the header of `data`, without looking at the
    /// sections.
    ///
    /// ```
    /// use btf_core::{Endian, Header};
    /// let mut blob = vec![0x9f, 0xeb, 1, 0, 24, 0, 0, 0];
    /// blob.extend_from_slice(&[0; 16]);
    /// blob.push(0); // a string section holding ""
    /// blob[20] = 1; // str_len = 1
    /// let hdr = Header::parse(&blob).unwrap();
    /// assert_eq!(hdr.endian, Endian::Little);
    /// assert_eq!(hdr.str_len, 1);
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::HeaderTruncated`], [`Error::BadMagic`],
    /// [`Error::UnsupportedVersion`], [`Error::UnsupportedFlags`],
    /// [`Error::HeaderLength`], [`Error::HeaderNotZero`].
    pub fn parse(data: &[u8]) -> Result<Header> {
        let Ok((raw, _)) = BtfHeader::ref_from_prefix(data) else {
            return Err(Error::HeaderTruncated { len: data.len() });
        };
        let endian = match raw.magic.0 {
            m if u16::from_le_bytes(m) == BTF_MAGIC => Endian::Little,
            m if u16::from_be_bytes(m) == BTF_MAGIC => Endian::Big,
            found => return Err(Error::BadMagic { found }),
        };
        if raw.version != BTF_VERSION {
            return Err(Error::UnsupportedVersion {
                version: raw.version,
            });
        }
        if raw.flags != 0 {
            return Err(Error::UnsupportedFlags { flags: raw.flags });
        }
        let hdr_len = raw.hdr_len.get(endian);
        let hdr_bytes = usize::try_from(hdr_len)
            .ok()
            .filter(|&n| n >= CLASSIC_LEN)
            .and_then(|n| data.get(..n))
            .ok_or(Error::HeaderLength {
                hdr_len,
                len: data.len(),
            })?;
        let (layout, known) = match hdr_bytes.get(CLASSIC_LEN..LAYOUT_LEN) {
            Some(ext) => {
                let ext =
                    BtfHeaderLayout::ref_from_bytes(ext).map_err(|_| Error::HeaderLength {
                        hdr_len,
                        len: data.len(),
                    })?;
                (
                    Some((ext.layout_off.get(endian), ext.layout_len.get(endian))),
                    LAYOUT_LEN,
                )
            }
            None => (None, CLASSIC_LEN),
        };
        // Bytes of a longer header than we know must be zero, as the kernel
        // demands: a non-zero one would be a field we would misread.
        let rest = hdr_bytes.get(known..).unwrap_or_default();
        if let Some(pos) = rest.iter().position(|&b| b != 0) {
            return Err(Error::HeaderNotZero {
                offset: known.saturating_add(pos),
            });
        }
        Ok(Header {
            endian,
            hdr_len,
            type_off: raw.type_off.get(endian),
            type_len: raw.type_len.get(endian),
            str_off: raw.str_off.get(endian),
            str_len: raw.str_len.get(endian),
            layout,
        })
    }

    /// Checks the sections against the blob and slices them out.
    ///
    /// `split` relaxes the rules for a split blob's string section (it may
    /// be empty and need not start with NUL).
    pub(crate) fn sections<'a>(&self, data: &'a [u8], split: bool) -> Result<Sections<'a>> {
        let body_at = self.hdr_len as usize;
        let body = data.get(body_at..).unwrap_or_default();
        let mut list = [
            (Section::Types, self.type_off, self.type_len),
            (Section::Strings, self.str_off, self.str_len),
            (Section::Layout, 0, 0),
        ];
        if let (Some((off, len)), Some(slot)) = (self.layout, list.get_mut(2)) {
            *slot = (Section::Layout, off, len);
        }
        for &(section, off, len) in &list {
            let end = u64::from(off) + u64::from(len);
            if end > body.len() as u64 {
                return Err(Error::SectionOutOfBounds {
                    section,
                    offset: off,
                    len,
                    available: body.len(),
                });
            }
            if section != Section::Strings && off % 4 != 0 {
                return Err(Error::SectionMisaligned {
                    section,
                    offset: off,
                });
            }
        }
        // Overlap: order the non-empty sections by offset and compare
        // neighbours.
        list.sort_unstable_by_key(|&(_, off, len)| (len == 0, off));
        for pair in list.windows(2) {
            if let [(first, off_a, len_a), (second, off_b, len_b)] = *pair
                && len_a != 0
                && len_b != 0
                && u64::from(off_a) + u64::from(len_a) > u64::from(off_b)
            {
                return Err(Error::SectionsOverlap {
                    first,
                    second,
                    offset: off_b,
                });
            }
        }
        let slice = |off: u32, len: u32| -> &'a [u8] {
            body.get(off as usize..(off as usize).saturating_add(len as usize))
                .unwrap_or_default()
        };
        let types = slice(self.type_off, self.type_len);
        let strings = slice(self.str_off, self.str_len);
        let strings_at = body_at.saturating_add(self.str_off as usize);
        match strings.last() {
            None if split => {}
            Some(0) if split => {}
            None => return Err(Error::StringsStart { offset: strings_at }),
            Some(0) => {
                if strings.first() != Some(&0) {
                    return Err(Error::StringsStart { offset: strings_at });
                }
            }
            Some(_) => {
                return Err(Error::StringsNotTerminated {
                    offset: strings_at.saturating_add(strings.len()).saturating_sub(1),
                });
            }
        }
        let layout = match self.layout {
            Some((off, len)) if len > 0 => {
                let bytes = slice(off, len);
                let entries = <[BtfKindLayout]>::ref_from_bytes(bytes)
                    .map_err(|_| Error::LayoutLength { len })?;
                check_layout(entries, body_at.saturating_add(off as usize))?;
                entries
            }
            _ => &[],
        };
        Ok(Sections {
            types,
            types_at: body_at.saturating_add(self.type_off as usize),
            strings,
            strings_at,
            layout,
        })
    }
}

/// A layout entry for a kind this crate knows must agree with what it knows;
/// otherwise the producer means something else by that kind.
fn check_layout(entries: &[BtfKindLayout], at: usize) -> Result<()> {
    for (k, entry) in entries.iter().enumerate() {
        let kind = Kind::new(u8::try_from(k).unwrap_or(u8::MAX));
        if let Some((info_sz, elem_sz)) = kind.record_layout()
            && (entry.info_sz, entry.elem_sz) != (info_sz, elem_sz)
        {
            return Err(Error::LayoutMismatch {
                kind,
                offset: at.saturating_add(k.saturating_mul(4)),
            });
        }
    }
    Ok(())
}
