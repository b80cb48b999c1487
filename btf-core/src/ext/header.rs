//! The `.BTF.ext` header.

use super::error::ExtError;
use crate::endian::{Endian, U16, U32};
use crate::wire::{BTF_MAGIC, BTF_VERSION};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// `struct btf_ext_header` up to `line_info_len` (Linux 5.0; libbpf's
/// `libbpf_internal.h`): the 24 bytes every `.BTF.ext` header has.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfExtHeader {
    /// `0xeB9F` in the producer's byte order.
    pub magic: U16,
    /// Always 1.
    pub version: u8,
    /// Always 0.
    pub flags: u8,
    /// Length of the header; subsection offsets count from its end.
    pub hdr_len: U32,
    /// Offset of the func_info subsection.
    pub func_info_off: U32,
    /// Length of the func_info subsection.
    pub func_info_len: U32,
    /// Offset of the line_info subsection.
    pub line_info_off: U32,
    /// Length of the line_info subsection.
    pub line_info_len: U32,
}

/// The optional tail of `struct btf_ext_header` (libbpf 0.0.6, 2019),
/// present when `hdr_len` is at least 32: where the CO-RE relocations are.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfExtHeaderCoreRelo {
    /// Offset of the core_relo subsection.
    pub core_relo_off: U32,
    /// Length of the core_relo subsection.
    pub core_relo_len: U32,
}

/// The decoded `.BTF.ext` header. Subsection offsets count from the end of
/// the header (`hdr_len`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtHeader {
    /// The byte order the magic revealed.
    pub endian: Endian,
    /// Header length in bytes (32 from clang; 24 before CO-RE).
    pub hdr_len: u32,
    /// Offset and length of the func_info subsection.
    pub func_info: (u32, u32),
    /// Offset and length of the line_info subsection.
    pub line_info: (u32, u32),
    /// Offset and length of the core_relo subsection, when `hdr_len`
    /// reaches its fields (libbpf skips CO-RE otherwise).
    pub core_relo: Option<(u32, u32)>,
}

/// The first 8 bytes: magic, version, flags, `hdr_len`.
const PREFIX_LEN: usize = 8;
const CLASSIC_LEN: u32 = size_of::<BtfExtHeader>() as u32;
const CORE_LEN: u32 = CLASSIC_LEN + size_of::<BtfExtHeaderCoreRelo>() as u32;

impl ExtHeader {
    /// Reads and checks the header of `data` with libbpf's checks
    /// (`btf_ext_parse`), in its order: 8 bytes at least, the magic (which
    /// gives the byte order), version 1, flags 0, `hdr_len` within the
    /// data and not all of it, `hdr_len` at least 24. Header bytes past the
    /// 32 this reader knows are ignored, as libbpf ignores them.
    ///
    /// # Errors
    ///
    /// [`ExtError::HeaderTruncated`], [`ExtError::BadMagic`],
    /// [`ExtError::UnsupportedVersion`], [`ExtError::UnsupportedFlags`],
    /// [`ExtError::NoData`], [`ExtError::HeaderTooShort`].
    pub fn parse(data: &[u8]) -> Result<ExtHeader, ExtError> {
        let len = data.len();
        let truncated = |needed| ExtError::HeaderTruncated { len, needed };
        let (Some(&[m0, m1, version, flags]), Some(&hdr_len)) = (
            data.get(..4),
            data.get(4..PREFIX_LEN)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .as_ref(),
        ) else {
            return Err(truncated(PREFIX_LEN as u64));
        };
        let endian = match [m0, m1] {
            m if u16::from_le_bytes(m) == BTF_MAGIC => Endian::Little,
            m if u16::from_be_bytes(m) == BTF_MAGIC => Endian::Big,
            found => return Err(ExtError::BadMagic { found }),
        };
        if version != BTF_VERSION {
            return Err(ExtError::UnsupportedVersion { version });
        }
        if flags != 0 {
            return Err(ExtError::UnsupportedFlags { flags });
        }
        let hdr_len = endian.read_u32(hdr_len);
        if (len as u64) < u64::from(hdr_len) {
            return Err(truncated(u64::from(hdr_len)));
        }
        if len as u64 == u64::from(hdr_len) {
            return Err(ExtError::NoData { len });
        }
        if hdr_len < CLASSIC_LEN {
            return Err(ExtError::HeaderTooShort { hdr_len });
        }
        let Ok((raw, rest)) = BtfExtHeader::ref_from_prefix(data) else {
            return Err(truncated(u64::from(CLASSIC_LEN)));
        };
        let core_relo = if hdr_len >= CORE_LEN {
            let (core, _) = BtfExtHeaderCoreRelo::ref_from_prefix(rest)
                .map_err(|_| truncated(CORE_LEN.into()))?;
            Some((
                core.core_relo_off.get(endian),
                core.core_relo_len.get(endian),
            ))
        } else {
            None
        };
        Ok(ExtHeader {
            endian,
            hdr_len,
            func_info: (raw.func_info_off.get(endian), raw.func_info_len.get(endian)),
            line_info: (raw.line_info_off.get(endian), raw.line_info_len.get(endian)),
            core_relo,
        })
    }
}
