//! Encoding a [`Builder`] into a blob: header, type section, optional kind
//! layout section, string section, packed in that order (as libbpf does).

use super::builder::Builder;
use super::error::WriteError;
use super::rules::check_rules;
use crate::btf::Btf;
use crate::endian::Endian;
use crate::error::Section;
use crate::wire::{BTF_MAGIC, BTF_VERSION};
use alloc::vec::Vec;
use zerocopy::IntoBytes;

/// Which header to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderFormat {
    /// The 24-byte header every kernel since 4.18 reads; no layout section.
    #[default]
    Classic,
    /// The 32-byte header (2026) with a kind layout section between the
    /// types and the strings, so readers can skip kinds they do not know.
    /// Kernels before 2026 reject it.
    Layout,
}

/// How to encode: byte order and header.
///
/// ```
/// use btf_core::Endian;
/// use btf_core::write::{EncodeOptions, HeaderFormat};
/// let opts = EncodeOptions::new(Endian::Big).with_header(HeaderFormat::Layout);
/// assert_eq!(opts.endian, Endian::Big);
/// assert_eq!(EncodeOptions::default().endian, Endian::NATIVE);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct EncodeOptions {
    /// The byte order of every field.
    pub endian: Endian,
    /// The header and whether a layout section follows the types.
    pub header: HeaderFormat,
    /// The largest element count (`vlen`) [`Builder::encode`] accepts:
    /// [`MAX_VLEN`](super::MAX_VLEN) (24 bits) by default, or
    /// [`LEGACY_MAX_VLEN`](super::LEGACY_MAX_VLEN) for kernels before April
    /// 2026.
    pub max_vlen: u32,
}

impl Default for EncodeOptions {
    /// The native byte order and the classic header.
    fn default() -> Self {
        EncodeOptions::new(Endian::NATIVE)
    }
}

impl EncodeOptions {
    /// `endian` with the classic header.
    pub const fn new(endian: Endian) -> EncodeOptions {
        EncodeOptions {
            endian,
            header: HeaderFormat::Classic,
            max_vlen: super::MAX_VLEN,
        }
    }

    /// The same options with the element count limit `max_vlen` (at most
    /// [`MAX_VLEN`](super::MAX_VLEN)).
    ///
    /// ```
    /// use btf_core::write::{Builder, EncodeOptions, EnumeratorDef, LEGACY_MAX_VLEN};
    /// let names: Vec<String> = (0..=LEGACY_MAX_VLEN).map(|i| format!("E{i}")).collect();
    /// let values: Vec<_> = names.iter().map(|n| EnumeratorDef::new(n.as_str(), 0)).collect();
    /// let mut b = Builder::new();
    /// b.add_enum("big", 4, false, &values);
    /// assert!(b.encode(&EncodeOptions::default()).is_ok());
    /// assert!(b.encode(&EncodeOptions::default().with_max_vlen(LEGACY_MAX_VLEN)).is_err());
    /// ```
    pub const fn with_max_vlen(self, max_vlen: u32) -> EncodeOptions {
        let max_vlen = if max_vlen > super::MAX_VLEN {
            super::MAX_VLEN
        } else {
            max_vlen
        };
        EncodeOptions { max_vlen, ..self }
    }

    /// The same options with `header`.
    pub const fn with_header(self, header: HeaderFormat) -> EncodeOptions {
        EncodeOptions { header, ..self }
    }

    /// The byte order and header format of `btf`: a layout section when it
    /// has one.
    pub fn like(btf: &Btf<'_>) -> EncodeOptions {
        let header = match btf.header().layout {
            Some((_, len)) if len > 0 => HeaderFormat::Layout,
            _ => HeaderFormat::Classic,
        };
        EncodeOptions::new(btf.endian()).with_header(header)
    }
}

impl Builder<'_> {
    /// Checks every type (see [`check`](Self::check)) and encodes the
    /// blob.
    ///
    /// A split builder gives a split blob: only its own types and strings,
    /// to be loaded or parsed on the same base. Encoded in the other byte
    /// order than the base's, it is that split converted: readers (this
    /// crate's, libbpf, the kernel) layer it only on the base converted
    /// too, and refuse it on the base as it is
    /// ([`Error::SplitEndianMismatch`](crate::Error::SplitEndianMismatch)).
    ///
    /// ```
    /// use btf_core::write::{Builder, EncodeOptions, HeaderFormat};
    /// use btf_core::{Btf, Endian};
    /// let mut b = Builder::new();
    /// b.add_float("double", 8);
    /// let opts = EncodeOptions::new(Endian::Big).with_header(HeaderFormat::Layout);
    /// let bytes = b.encode(&opts)?;
    /// assert_eq!(&bytes[..2], &[0xeb, 0x9f]);
    /// assert_eq!(Btf::parse(&bytes)?.header().hdr_len, 32);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WriteError::InvalidType`] for the first type that breaks a rule;
    /// [`WriteError::TooManyTypes`], [`WriteError::StringsTooLarge`],
    /// [`WriteError::TooLarge`] for limits of the format.
    pub fn encode(&self, opts: &EncodeOptions) -> Result<Vec<u8>, WriteError> {
        self.check(opts)?;
        self.encode_unchecked(opts)
    }

    /// Runs the checks of [`encode`](Self::encode) without encoding: the
    /// kernel verifier's rules for each record on its own (names that must
    /// be identifiers, sizes, flags, vlen, linkage, member and datasec
    /// offsets), references to types that exist and names inside the
    /// strings, and the limits of the format. Records of kinds above
    /// [`Kind::MAX_KNOWN`](crate::Kind::MAX_KNOWN) pass only with a layout
    /// section and a layout entry for their kind.
    ///
    /// ```
    /// use btf_core::write::{Builder, EncodeOptions, Place, Problem, WriteError};
    /// let mut b = Builder::new();
    /// let int = b.add_int("int", 4, 0);
    /// let bad = b.add_typedef("not an identifier", int);
    /// let err = b.check(&EncodeOptions::default()).unwrap_err();
    /// assert!(matches!(err, WriteError::InvalidType {
    ///     id, problem: Problem::NotIdentifier { place: Place::Type, .. } } if id == bad));
    /// ```
    ///
    /// # Errors
    ///
    /// As [`encode`](Self::encode).
    pub fn check(&self, opts: &EncodeOptions) -> Result<(), WriteError> {
        check_rules(self, opts.header == HeaderFormat::Layout, opts.max_vlen)
    }

    /// Encodes the blob without checking the types: the raw mode, for
    /// producing invalid BTF on purpose (negative tests of a verifier,
    /// fuzzing seeds). The header and sections are still well formed.
    ///
    /// ```
    /// use btf_core::write::{Builder, EncodeOptions};
    /// use btf_core::TypeId;
    /// let mut b = Builder::new();
    /// b.add_ptr(TypeId::new(42)); // dangling on purpose
    /// assert!(b.encode(&EncodeOptions::default()).is_err());
    /// let bytes = b.encode_unchecked(&EncodeOptions::default())?;
    /// assert!(btf_core::Btf::parse(&bytes).is_err());
    /// # Ok::<(), btf_core::write::WriteError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WriteError::TooLarge`] when a section does not fit in 32 bits.
    pub fn encode_unchecked(&self, opts: &EncodeOptions) -> Result<Vec<u8>, WriteError> {
        let e = opts.endian;
        let too_large = |section, len| WriteError::TooLarge { section, len };
        let fits = |section, len: usize| u32::try_from(len).map_err(|_| too_large(section, len));

        let types_bytes = self.words.len().saturating_mul(4);
        let type_len = fits(Section::Types, types_bytes)?;
        let with_layout = opts.header == HeaderFormat::Layout;
        let layout_len = if with_layout {
            fits(Section::Layout, self.layout.len().saturating_mul(4))?
        } else {
            0
        };
        let strings = self.strings.bytes();
        let str_len = fits(Section::Strings, strings.len())?;
        let hdr_len: u32 = if with_layout { 32 } else { 24 };
        let str_off = type_len
            .checked_add(layout_len)
            .ok_or(too_large(Section::Strings, types_bytes))?;
        let total = [hdr_len, str_off, str_len]
            .iter()
            .try_fold(0u32, |acc, &n| acc.checked_add(n))
            .ok_or(too_large(Section::Header, usize::MAX))?;

        let mut out = Vec::with_capacity(total as usize);
        out.extend_from_slice(&e.write_u16(BTF_MAGIC));
        out.push(BTF_VERSION);
        out.push(0);
        // hdr_len, type_off, type_len, str_off, str_len
        for w in [hdr_len, 0, type_len, str_off, str_len] {
            out.extend_from_slice(&e.write_u32(w));
        }
        if with_layout {
            // layout_off, layout_len
            out.extend_from_slice(&e.write_u32(type_len));
            out.extend_from_slice(&e.write_u32(layout_len));
        }
        if e == Endian::NATIVE {
            out.extend_from_slice(self.words.as_bytes());
        } else {
            for w in &self.words {
                out.extend_from_slice(&w.swap_bytes().to_ne_bytes());
            }
        }
        if with_layout {
            for &(info_sz, elem_sz, flags) in &self.layout {
                out.push(info_sz);
                out.push(elem_sz);
                out.extend_from_slice(&e.write_u16(flags));
            }
        }
        out.extend_from_slice(strings);
        Ok(out)
    }
}
