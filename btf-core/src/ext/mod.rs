//! `.BTF.ext`: the function, line and CO-RE relocation records of a BPF
//! object, read in place and checked against the object's `.BTF`.
//!
//! A `.BTF.ext` section has a header and up to three subsections —
//! func_info, line_info and core_relo ([`ExtSection`]). Each starts with
//! its record size, then holds blocks ([`Block`], libbpf's
//! `btf_ext_info_sec`): the name of an ELF section (an offset into the
//! `.BTF` strings), a record count, and that many records, whose
//! `insn_off` is a byte offset into that ELF section.
//!
//! [`BtfExt::parse`] makes libbpf's checks (`btf_ext__new`) and those
//! libbpf makes later when it uses the records, once, without allocating:
//! afterwards the iterators cannot fail. Either byte order is read in place;
//! records larger than this reader knows (a newer producer) are read by
//! their known prefix.
//!
//! ```no_run
//! use btf_core::Btf;
//! use btf_core::ext::BtfExt;
//!
//! // The sections of a BPF object, cut out with
//! // `objcopy --dump-section .BTF=prog.btf --dump-section .BTF.ext=prog.btf.ext prog.bpf.o`
//! // (or found in place with `btf_core::elf::BtfSections`, feature `elf`).
//! let btf_bytes = std::fs::read("prog.btf")?;
//! let ext_bytes = std::fs::read("prog.btf.ext")?;
//! let btf = Btf::parse(&btf_bytes)?;
//! let ext = BtfExt::parse(&ext_bytes, &btf)?;
//! for block in ext.core_relos().blocks() {
//!     let section = block.name(&btf)?;
//!     for relo in block.records() {
//!         let access = relo.access_spec(&btf)?;
//!         println!("{section} insn #{}: {} [{}] {access}",
//!                  relo.insn_off / 8, relo.kind, relo.type_id);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With the `elf` feature, `BpfObject` also maps
//! each block to its ELF section and each record to an instruction.

mod access;
mod error;
mod header;
#[cfg(feature = "elf")]
mod object;
mod records;

pub use access::{AccessError, AccessIndices, AccessSpec, MAX_ACCESS_LEN};
pub use error::{ExtError, RecordAt, StrField};
pub use header::{BtfExtHeader, BtfExtHeaderCoreRelo, ExtHeader};
#[cfg(feature = "elf")]
pub use object::{
    BpfInsn, BpfObject, Insn, Insns, ObjectError, ProgramSection, ProgramSections, SectionName,
    Sited, SitedBlocks,
};
pub use records::{
    BPF_INSN_SIZE, BpfCoreRelo, BpfFuncInfo, BpfLineInfo, CoreRelo, CoreReloKind, ExtRecord,
    ExtSection, FuncInfo, LineInfo,
};

use crate::btf::Btf;
use crate::endian::Endian;
use crate::error::Error;
use crate::id::StrOffset;
use core::marker::PhantomData;

/// A checked `.BTF.ext` section, borrowed from the bytes it was read from.
///
/// Holds no reference to the `.BTF` it was checked against; the name and
/// string lookups take that [`Btf`] again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtfExt<'a> {
    data: &'a [u8],
    header: ExtHeader,
    func_info: Span,
    line_info: Span,
    core_relo: Span,
}

/// Where a subsection's blocks are in the data, and its record size. An
/// empty span for an absent subsection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
    rec_size: u32,
}

impl<'a> BtfExt<'a> {
    /// Reads and checks `.BTF.ext` `data` against the object's `.BTF`,
    /// `btf`.
    ///
    /// The checks are libbpf's in `btf_ext__new` — header (see
    /// [`ExtHeader::parse`]); each non-empty subsection 4-byte aligned,
    /// within the data, with a record size that is a multiple of 4 and at
    /// least the known record's, and at least one block; each block with at
    /// least one record and all of them inside the subsection — and those
    /// libbpf makes when it uses the records: each block's section name in
    /// the `.BTF` strings and not empty; each CO-RE relocation's access
    /// string there and well formed ([`AccessSpec::parse`] and the kind's
    /// rule, [`CoreRelo::access_spec`]). Beyond libbpf, which checks only
    /// the CO-RE relocations' `insn_off` (and divides the others by 8,
    /// dropping a remainder), every record's `insn_off` must be a multiple
    /// of 8; line_info's file name and line offsets must be in the `.BTF`
    /// strings (libbpf passes them to the kernel, which checks them); and
    /// func_info's and core_relo's `type_id` must be a type of `btf`.
    ///
    /// Where libbpf differs by byte order: it refuses a foreign-order
    /// subsection whose record size is not exactly the known one (it swaps
    /// the records in place and cannot swap fields it does not know); this
    /// reader swaps nothing and reads the known prefix in either order.
    ///
    /// # Errors
    ///
    /// The first problem met, as an [`ExtError`] naming the subsection,
    /// block, record and byte offset concerned.
    pub fn parse(data: &'a [u8], btf: &Btf<'_>) -> Result<BtfExt<'a>, ExtError> {
        let header = ExtHeader::parse(data)?;
        let func_info = check_info::<FuncInfo>(data, &header, header.func_info, btf)?;
        let line_info = check_info::<LineInfo>(data, &header, header.line_info, btf)?;
        let core_relo = match header.core_relo {
            Some(at) => check_info::<CoreRelo>(data, &header, at, btf)?,
            None => Span::default(),
        };
        Ok(BtfExt {
            data,
            header,
            func_info,
            line_info,
            core_relo,
        })
    }

    /// The bytes it was read from.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The decoded header.
    pub fn header(&self) -> &ExtHeader {
        &self.header
    }

    /// The byte order (from the magic).
    pub fn endian(&self) -> Endian {
        self.header.endian
    }

    /// The func_info subsection.
    pub fn func_infos(&self) -> Info<'a, FuncInfo> {
        self.info(self.func_info)
    }

    /// The line_info subsection.
    pub fn line_infos(&self) -> Info<'a, LineInfo> {
        self.info(self.line_info)
    }

    /// The core_relo subsection (empty when the header has no core_relo
    /// fields, or they say length 0).
    pub fn core_relos(&self) -> Info<'a, CoreRelo> {
        self.info(self.core_relo)
    }

    fn info<R: ExtRecord>(&self, span: Span) -> Info<'a, R> {
        Info {
            blocks: self.data.get(span.start..span.end).unwrap_or_default(),
            offset: span.start,
            rec_size: span.rec_size,
            endian: self.header.endian,
            _record: PhantomData,
        }
    }
}

/// One subsection of a checked [`BtfExt`]: its blocks, each for one ELF
/// section, all of records of type `R`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info<'a, R> {
    blocks: &'a [u8],
    offset: usize,
    rec_size: u32,
    endian: Endian,
    _record: PhantomData<R>,
}

impl<'a, R: ExtRecord> Info<'a, R> {
    /// The record size the subsection declares (0 when it is absent).
    pub fn rec_size(&self) -> u32 {
        self.rec_size
    }

    /// Whether the subsection is absent (it has no blocks then; a present
    /// one has at least one).
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The byte offset of its first block in `.BTF.ext`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Its blocks, in order.
    pub fn blocks(&self) -> Blocks<'a, R> {
        Blocks {
            rest: self.blocks,
            offset: self.offset,
            index: 0,
            rec_size: self.rec_size,
            endian: self.endian,
            _record: PhantomData,
        }
    }

    /// All records of all blocks, in order (O(blocks) to count).
    pub fn record_count(&self) -> usize {
        self.blocks().map(|b| b.len()).sum()
    }
}

/// The blocks of an [`Info`], from [`Info::blocks`].
#[derive(Clone, Debug)]
pub struct Blocks<'a, R> {
    rest: &'a [u8],
    offset: usize,
    index: u32,
    rec_size: u32,
    endian: Endian,
    _record: PhantomData<R>,
}

/// The 8-byte block header, `struct btf_ext_info_sec` without its records.
const BLOCK_HEADER: usize = 8;

impl<'a, R: ExtRecord> Iterator for Blocks<'a, R> {
    type Item = Block<'a, R>;

    fn next(&mut self) -> Option<Block<'a, R>> {
        let (name_off, num) = read_block_header(self.rest, self.endian)?;
        // Checked by BtfExt::parse: the records fit.
        let len = (num as usize).checked_mul(self.rec_size as usize)?;
        let end = BLOCK_HEADER.checked_add(len)?;
        let records = self.rest.get(BLOCK_HEADER..end)?;
        let block = Block {
            index: self.index,
            offset: self.offset,
            name_off: StrOffset::new(name_off),
            records,
            rec_size: self.rec_size,
            endian: self.endian,
            _record: PhantomData,
        };
        self.rest = self.rest.get(end..).unwrap_or_default();
        self.offset = self.offset.saturating_add(end);
        self.index = self.index.saturating_add(1);
        Some(block)
    }
}

impl<R: ExtRecord> core::iter::FusedIterator for Blocks<'_, R> {}

fn read_block_header(bytes: &[u8], endian: Endian) -> Option<(u32, u32)> {
    let name = bytes.get(0..4)?.try_into().ok()?;
    let num = bytes.get(4..8)?.try_into().ok()?;
    Some((endian.read_u32(name), endian.read_u32(num)))
}

/// One block (`struct btf_ext_info_sec`): the records of one ELF section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block<'a, R> {
    index: u32,
    offset: usize,
    name_off: StrOffset,
    records: &'a [u8],
    rec_size: u32,
    endian: Endian,
    _record: PhantomData<R>,
}

impl<'a, R: ExtRecord> Block<'a, R> {
    /// Its index in the subsection, from 0.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Its byte offset in `.BTF.ext`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The ELF section's name as an offset into the `.BTF` strings.
    pub fn name_off(&self) -> StrOffset {
        self.name_off
    }

    /// The ELF section's name, from `btf` (the `.BTF` the [`BtfExt`] was
    /// checked against).
    ///
    /// # Errors
    ///
    /// [`Error::StringOutOfRange`] or [`Error::InvalidUtf8`] (only with
    /// another `btf` for the former).
    pub fn name<'b>(&self, btf: &Btf<'b>) -> Result<&'b str, Error> {
        btf.str_at(self.name_off)
    }

    /// The ELF section's name as bytes, from `btf`.
    ///
    /// # Errors
    ///
    /// [`Error::StringOutOfRange`] (only with another `btf` than the
    /// [`BtfExt`] was checked against).
    pub fn name_bytes<'b>(&self, btf: &Btf<'b>) -> Result<&'b [u8], Error> {
        btf.str_bytes_at(self.name_off)
    }

    /// How many records it holds (at least 1).
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        self.records.len() / (self.rec_size.max(1) as usize)
    }

    /// Record `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<R> {
        let size = self.rec_size as usize;
        let start = i.checked_mul(size)?;
        R::decode(
            self.records.get(start..start.checked_add(size)?)?,
            self.endian,
        )
    }

    /// The byte offset of record `i` in `.BTF.ext` (whether or not it
    /// exists).
    pub fn record_offset(&self, i: usize) -> usize {
        self.offset
            .saturating_add(BLOCK_HEADER)
            .saturating_add(i.saturating_mul(self.rec_size as usize))
    }

    /// Its records, in order.
    pub fn records(&self) -> Records<'a, R> {
        Records {
            chunks: self.records.chunks_exact(self.rec_size.max(1) as usize),
            endian: self.endian,
            _record: PhantomData,
        }
    }
}

/// The records of a [`Block`], decoded, from [`Block::records`].
#[derive(Clone, Debug)]
pub struct Records<'a, R> {
    chunks: core::slice::ChunksExact<'a, u8>,
    endian: Endian,
    _record: PhantomData<R>,
}

impl<R: ExtRecord> Iterator for Records<'_, R> {
    type Item = R;

    fn next(&mut self) -> Option<R> {
        R::decode(self.chunks.next()?, self.endian)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl<R: ExtRecord> DoubleEndedIterator for Records<'_, R> {
    fn next_back(&mut self) -> Option<R> {
        R::decode(self.chunks.next_back()?, self.endian)
    }
}

impl<R: ExtRecord> ExactSizeIterator for Records<'_, R> {}
impl<R: ExtRecord> core::iter::FusedIterator for Records<'_, R> {}

impl CoreRelo {
    /// The access string, from `btf` (the `.BTF` the [`BtfExt`] was
    /// checked against), checked for its syntax and for this relocation's
    /// kind: `"0"` for type-based kinds, one index for enumerator kinds.
    ///
    /// # Errors
    ///
    /// [`AccessError::OutOfRange`] when the offset is not in `btf`'s
    /// strings (only with another `btf`), else as
    /// [`AccessSpec::parse`] and [`AccessSpec::check_kind`].
    pub fn access_spec<'b>(&self, btf: &Btf<'b>) -> Result<AccessSpec<'b>, AccessError> {
        let text = btf
            .str_bytes_at(self.access_str_off)
            .map_err(|_| AccessError::OutOfRange {
                str_off: self.access_str_off,
            })?;
        let spec = AccessSpec::parse(text)?;
        spec.check_kind(self.kind)?;
        Ok(spec)
    }
}

/// Checks one subsection at `(off, len)` (from the end of the header) and
/// every record in it; returns where its blocks are.
fn check_info<R: ExtRecord + CheckRecord>(
    data: &[u8],
    header: &ExtHeader,
    (off, len): (u32, u32),
    btf: &Btf<'_>,
) -> Result<Span, ExtError> {
    let section = R::SECTION;
    if len == 0 {
        return Ok(Span::default());
    }
    if !off.is_multiple_of(4) {
        return Err(ExtError::SectionMisaligned { section, off });
    }
    let out_of_bounds = ExtError::SectionOutOfBounds {
        section,
        off,
        len,
        data_len: data.len(),
    };
    let start = (header.hdr_len as usize)
        .checked_add(off as usize)
        .ok_or(out_of_bounds)?;
    let end = start.checked_add(len as usize).ok_or(out_of_bounds)?;
    let info = data.get(start..end).ok_or(out_of_bounds)?;
    let Some(size) = info.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
        return Err(ExtError::RecordSizeMissing {
            section,
            offset: start,
        });
    };
    let rec_size = header.endian.read_u32(size);
    if rec_size < section.min_record_size() || !rec_size.is_multiple_of(4) {
        return Err(ExtError::BadRecordSize {
            section,
            offset: start,
            rec_size,
        });
    }
    let blocks_at = start + 4;
    let mut rest = info.get(4..).unwrap_or_default();
    if rest.is_empty() {
        return Err(ExtError::NoRecords {
            section,
            offset: start,
        });
    }
    let mut offset = blocks_at;
    let mut block = 0u32;
    let last_id = btf.last_id();
    while !rest.is_empty() {
        let truncated = |needed: u64| ExtError::BlockTruncated {
            section,
            block,
            offset,
            needed,
            left: rest.len(),
        };
        let Some((name_off, num)) = read_block_header(rest, header.endian) else {
            return Err(truncated(BLOCK_HEADER as u64));
        };
        if num == 0 {
            return Err(ExtError::EmptyBlock {
                section,
                block,
                offset,
            });
        }
        let needed = BLOCK_HEADER as u64 + u64::from(num) * u64::from(rec_size);
        let records = usize::try_from(needed)
            .ok()
            .and_then(|n| rest.get(BLOCK_HEADER..n))
            .ok_or(truncated(needed))?;
        let name_off = StrOffset::new(name_off);
        if btf.str_bytes_at(name_off).map_or(true, <[u8]>::is_empty) {
            return Err(ExtError::BadSectionName {
                section,
                block,
                offset,
                name_off,
            });
        }
        for (i, bytes) in records.chunks_exact(rec_size as usize).enumerate() {
            let at = RecordAt {
                section,
                block,
                record: i as u32,
                offset: offset + BLOCK_HEADER + i * rec_size as usize,
            };
            let Some(record) = R::decode(bytes, header.endian) else {
                continue; // unreachable: rec_size >= the known size
            };
            if !record.insn_off().is_multiple_of(BPF_INSN_SIZE) {
                return Err(ExtError::InsnMisaligned {
                    at,
                    insn_off: record.insn_off(),
                });
            }
            record.check(btf, last_id, at)?;
        }
        rest = rest.get(BLOCK_HEADER + records.len()..).unwrap_or_default();
        offset += BLOCK_HEADER + records.len();
        block = block.saturating_add(1);
    }
    Ok(Span {
        start: blocks_at,
        end,
        rec_size,
    })
}

/// The checks of one record type's own fields.
trait CheckRecord {
    fn check(&self, btf: &Btf<'_>, last_id: crate::TypeId, at: RecordAt) -> Result<(), ExtError>;
}

impl CheckRecord for FuncInfo {
    fn check(&self, _: &Btf<'_>, last_id: crate::TypeId, at: RecordAt) -> Result<(), ExtError> {
        if self.type_id > last_id {
            return Err(ExtError::DanglingType {
                at,
                type_id: self.type_id,
            });
        }
        Ok(())
    }
}

impl CheckRecord for LineInfo {
    fn check(&self, btf: &Btf<'_>, _: crate::TypeId, at: RecordAt) -> Result<(), ExtError> {
        for (field, str_off) in [
            (StrField::FileName, self.file_name_off),
            (StrField::Line, self.line_off),
        ] {
            if btf.str_bytes_at(str_off).is_err() {
                return Err(ExtError::StringOutOfRange { at, field, str_off });
            }
        }
        Ok(())
    }
}

impl CheckRecord for CoreRelo {
    fn check(&self, btf: &Btf<'_>, last_id: crate::TypeId, at: RecordAt) -> Result<(), ExtError> {
        if self.type_id > last_id {
            return Err(ExtError::DanglingType {
                at,
                type_id: self.type_id,
            });
        }
        let str_off = self.access_str_off;
        match self.access_spec(btf) {
            Ok(_) => Ok(()),
            Err(AccessError::OutOfRange { .. }) => Err(ExtError::StringOutOfRange {
                at,
                field: StrField::AccessString,
                str_off,
            }),
            Err(error) => Err(ExtError::BadAccessString { at, str_off, error }),
        }
    }
}
