//! A BPF object file (`clang -target bpf`, `bpfel`, `bpfeb`): its program
//! sections and instructions, its `.BTF` and `.BTF.ext`, and each
//! `.BTF.ext` record mapped to its program section and instruction.

use super::error::RecordAt;
use super::{Block, BtfExt, CoreRelo, ExtError, ExtRecord, ExtSection, FuncInfo, Info, LineInfo};
use crate::btf::Btf;
use crate::elf::{BtfSections, ElfError, malformed};
use crate::endian::{Endian, U16, U32};
use crate::error::Error;
use core::fmt;
use object::Endianness;
use object::elf::{FileHeader64, SHF_EXECINSTR, SHT_PROGBITS};
use object::read::elf::{FileHeader, SectionHeader, SectionTable};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

type Elf = FileHeader64<Endianness>;

/// `struct bpf_insn` (Linux 3.18): one 8-byte BPF instruction as stored,
/// alignment 1. The register nibbles' order depends on the byte order:
/// read them with [`dst_reg`](Self::dst_reg) and [`src_reg`](Self::src_reg).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct BpfInsn {
    /// The opcode.
    pub code: u8,
    /// `dst_reg:4, src_reg:4` as a C bitfield: dst in the low nibble on a
    /// little-endian target, in the high nibble on a big-endian one.
    pub regs: u8,
    /// Signed offset.
    pub off: U16,
    /// Signed immediate.
    pub imm: U32,
}

impl BpfInsn {
    /// The destination register (0 to 15).
    pub fn dst_reg(&self, endian: Endian) -> u8 {
        match endian {
            Endian::Little => self.regs & 0xf,
            Endian::Big => self.regs >> 4,
        }
    }

    /// The source register (0 to 15).
    pub fn src_reg(&self, endian: Endian) -> u8 {
        match endian {
            Endian::Little => self.regs >> 4,
            Endian::Big => self.regs & 0xf,
        }
    }

    /// The offset, decoded.
    pub fn off(&self, endian: Endian) -> i16 {
        self.off.get(endian) as i16
    }

    /// The immediate, decoded.
    pub fn imm(&self, endian: Endian) -> i32 {
        self.imm.get(endian) as i32
    }

    /// All fields, decoded.
    pub fn decode(&self, endian: Endian) -> Insn {
        Insn {
            code: self.code,
            dst_reg: self.dst_reg(endian),
            src_reg: self.src_reg(endian),
            off: self.off(endian),
            imm: self.imm(endian),
        }
    }
}

/// One BPF instruction, decoded. (The second half of a 16-byte `ld_imm64`
/// is an instruction slot of its own, with code 0.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Insn {
    /// The opcode.
    pub code: u8,
    /// The destination register.
    pub dst_reg: u8,
    /// The source register.
    pub src_reg: u8,
    /// The offset.
    pub off: i16,
    /// The immediate.
    pub imm: i32,
}

/// The instructions of a program section, in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insns<'data> {
    raw: &'data [BpfInsn],
    endian: Endian,
}

impl<'data> Insns<'data> {
    /// The instructions as stored.
    pub fn as_slice(&self) -> &'data [BpfInsn] {
        self.raw
    }

    /// Their byte order (the ELF file's).
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// How many 8-byte slots there are.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Instruction `index` (`insn_off / 8`), decoded; `None` past the end.
    pub fn get(&self, index: usize) -> Option<Insn> {
        Some(self.raw.get(index)?.decode(self.endian))
    }

    /// Every instruction, decoded, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Insn> + ExactSizeIterator + 'data {
        let endian = self.endian;
        self.raw.iter().map(move |i| i.decode(endian))
    }
}

/// An ELF section holding BPF code (`SHT_PROGBITS` with `SHF_EXECINSTR`):
/// `.text` or a program's section such as `kprobe/do_exit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramSection<'data> {
    index: usize,
    name: &'data [u8],
    offset: u64,
    insns: Insns<'data>,
}

impl<'data> ProgramSection<'data> {
    /// Its index in the ELF section header table.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Its name, as the ELF string table holds it.
    pub fn name_bytes(&self) -> &'data [u8] {
        self.name
    }

    /// Its name, if UTF-8.
    pub fn name(&self) -> Option<&'data str> {
        core::str::from_utf8(self.name).ok()
    }

    /// Its file offset (`sh_offset`).
    pub fn file_offset(&self) -> u64 {
        self.offset
    }

    /// Its instructions.
    pub fn insns(&self) -> Insns<'data> {
        self.insns
    }
}

/// A section name kept in an error (the first 48 bytes; longer names end
/// in `...` when shown).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SectionName {
    bytes: [u8; SectionName::CAP],
    len: u8,
    truncated: bool,
}

impl SectionName {
    const CAP: usize = 48;

    fn new(name: &[u8]) -> SectionName {
        let mut bytes = [0; SectionName::CAP];
        let n = name.len().min(SectionName::CAP);
        for (dst, src) in bytes.iter_mut().zip(name) {
            *dst = *src;
        }
        SectionName {
            bytes,
            len: n as u8,
            truncated: name.len() > SectionName::CAP,
        }
    }

    /// The bytes kept (at most 48).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Whether the name was longer than what is kept.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Display for SectionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.as_bytes().utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SectionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Why a BPF object could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectError {
    /// The ELF file or its BTF sections could not be found (see
    /// [`ElfError`]).
    Elf(ElfError),
    /// The ELF file is 32-bit; BPF objects are 64-bit.
    NotElf64,
    /// `.BTF` is malformed.
    Btf(Error),
    /// `.BTF.ext` is malformed.
    Ext(ExtError),
    /// A program section's size is not a multiple of 8 (libbpf: "corrupted
    /// program").
    ProgramSize {
        /// Its index in the section header table.
        index: usize,
        /// Its name.
        name: SectionName,
        /// Its size.
        size: u64,
    },
    /// A `.BTF.ext` block names an ELF section that is not there or holds
    /// no code. libbpf ignores such blocks; this reader refuses them.
    NoProgramSection {
        /// The subsection.
        section: ExtSection,
        /// The block's index in the subsection.
        block: u32,
        /// The block's byte offset in `.BTF.ext`.
        offset: usize,
        /// The name the block gives.
        name: SectionName,
    },
    /// A record's `insn_off` is past its section's last instruction.
    /// libbpf skips such CO-RE relocations ("eliminated weak subprogram")
    /// and func and line records; this reader refuses them.
    InsnOutOfRange {
        /// The record.
        at: RecordAt,
        /// The section.
        name: SectionName,
        /// The `insn_off` found.
        insn_off: u32,
        /// How many instructions the section holds.
        insn_count: usize,
    },
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ObjectError::Elf(e) => fmt::Display::fmt(&e, f),
            ObjectError::NotElf64 => f.write_str("a bpf object must be a 64-bit elf file"),
            ObjectError::Btf(e) => write!(f, ".BTF: {e}"),
            ObjectError::Ext(e) => fmt::Display::fmt(&e, f),
            ObjectError::ProgramSize { index, name, size } => write!(
                f,
                "program section {name} (index {index}) has {size} bytes, not a multiple of 8"
            ),
            ObjectError::NoProgramSection {
                section,
                block,
                offset,
                name,
            } => write!(
                f,
                ".BTF.ext {section} block {block} at offset {offset} names section {name}, which is not a program section of the file"
            ),
            ObjectError::InsnOutOfRange {
                at,
                name,
                insn_off,
                insn_count,
            } => write!(
                f,
                ".BTF.ext {at}: insn_off {insn_off} (instruction {}) is past the end of section {name} ({insn_count} instructions)",
                insn_off / 8
            ),
        }
    }
}

impl core::error::Error for ObjectError {}

impl From<ElfError> for ObjectError {
    fn from(e: ElfError) -> ObjectError {
        ObjectError::Elf(e)
    }
}

impl From<Error> for ObjectError {
    fn from(e: Error) -> ObjectError {
        ObjectError::Btf(e)
    }
}

impl From<ExtError> for ObjectError {
    fn from(e: ExtError) -> ObjectError {
        ObjectError::Ext(e)
    }
}

/// A BPF object file, read in place: program sections and their
/// instructions, the local BTF (`.BTF`) and `.BTF.ext`, with every
/// `.BTF.ext` record checked to name an instruction of a program section.
///
/// ```no_run
/// use btf_core::ext::{BpfObject, ExtRecord};
///
/// let file = std::fs::read("prog.bpf.o")?;
/// let obj = BpfObject::parse(&file)?;
/// for site in obj.core_relos() {
///     let program = site.program();
///     for (index, insn, relo) in site.iter() {
///         println!("{:?} #{index} code {:#04x}: {} [{}]",
///                  program.name(), insn.code, relo.kind, relo.type_id);
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct BpfObject<'data> {
    data: &'data [u8],
    sections: SectionTable<'data, Elf>,
    elf_endian: Endianness,
    btf: Btf<'data>,
    ext: Option<BtfExt<'data>>,
}

impl<'data> BpfObject<'data> {
    /// Reads a 64-bit BPF object of either byte order: finds `.BTF` and
    /// parses it ([`Btf::parse`]), checks `.BTF.ext` against it
    /// ([`BtfExt::parse`]) when present, checks each program section's size,
    /// and maps every `.BTF.ext` block to the program section it names
    /// (the first ELF section of that name, as libbpf's `elf_sec_by_name`)
    /// and every record's `insn_off` to an instruction of it.
    ///
    /// # Errors
    ///
    /// [`ObjectError::Elf`] (not ELF, malformed, no `.BTF`),
    /// [`ObjectError::NotElf64`], [`ObjectError::Btf`],
    /// [`ObjectError::Ext`], [`ObjectError::ProgramSize`], and where the
    /// mapping fails, [`ObjectError::NoProgramSection`] or
    /// [`ObjectError::InsnOutOfRange`], naming the section and record.
    pub fn parse(data: &'data [u8]) -> Result<BpfObject<'data>, ObjectError> {
        let found = BtfSections::parse(data)?;
        if !found.is_64() {
            return Err(ObjectError::NotElf64);
        }
        let header = Elf::parse(data).map_err(malformed)?;
        let elf_endian = header.endian().map_err(malformed)?;
        let sections = header.sections(elf_endian, data).map_err(malformed)?;
        let btf = Btf::parse(found.btf()).map_err(ObjectError::Btf)?;
        let ext = match found.btf_ext() {
            Some(bytes) => Some(BtfExt::parse(bytes, &btf).map_err(ObjectError::Ext)?),
            None => None,
        };
        let obj = BpfObject {
            data,
            sections,
            elf_endian,
            btf,
            ext,
        };
        for (index, sh) in sections.enumerate() {
            if is_program(sh, elf_endian) {
                obj.program_at(index.0, sh)?;
            }
        }
        if let Some(ext) = &obj.ext {
            obj.check_map(ext.func_infos())?;
            obj.check_map(ext.line_infos())?;
            obj.check_map(ext.core_relos())?;
        }
        Ok(obj)
    }

    /// The file's bytes.
    pub fn data(&self) -> &'data [u8] {
        self.data
    }

    /// The ELF file's byte order, which is the instructions'.
    pub fn endian(&self) -> Endian {
        match self.elf_endian {
            Endianness::Little => Endian::Little,
            Endianness::Big => Endian::Big,
        }
    }

    /// The local BTF, from `.BTF`.
    pub fn btf(&self) -> &Btf<'data> {
        &self.btf
    }

    /// `.BTF.ext`, if the object has one.
    pub fn ext(&self) -> Option<&BtfExt<'data>> {
        self.ext.as_ref()
    }

    /// The program sections, in section header order.
    pub fn programs(&self) -> ProgramSections<'_, 'data> {
        ProgramSections { obj: self, next: 0 }
    }

    /// The first ELF section named `name`, if it is a program section.
    pub fn program_by_name(&self, name: &[u8]) -> Option<ProgramSection<'data>> {
        let (index, sh) = self.sections.section_by_name(self.elf_endian, name)?;
        if !is_program(sh, self.elf_endian) {
            return None;
        }
        self.program_at(index.0, sh).ok()
    }

    /// The program section at ELF section `index`, if it is one.
    pub fn program_by_index(&self, index: usize) -> Option<ProgramSection<'data>> {
        let sh = self.sections.section(object::SectionIndex(index)).ok()?;
        if !is_program(sh, self.elf_endian) {
            return None;
        }
        self.program_at(index, sh).ok()
    }

    /// The func_info blocks, each with its program section.
    pub fn func_infos(&self) -> SitedBlocks<'_, 'data, FuncInfo> {
        self.sited(self.ext.as_ref().map(BtfExt::func_infos))
    }

    /// The line_info blocks, each with its program section.
    pub fn line_infos(&self) -> SitedBlocks<'_, 'data, LineInfo> {
        self.sited(self.ext.as_ref().map(BtfExt::line_infos))
    }

    /// The CO-RE relocation blocks, each with its program section: what
    /// a relocation engine walks.
    pub fn core_relos(&self) -> SitedBlocks<'_, 'data, CoreRelo> {
        self.sited(self.ext.as_ref().map(BtfExt::core_relos))
    }

    fn sited<R: ExtRecord>(&self, info: Option<Info<'data, R>>) -> SitedBlocks<'_, 'data, R> {
        SitedBlocks {
            obj: self,
            blocks: info.map(|i| i.blocks()),
        }
    }

    fn block_program<R: ExtRecord>(
        &self,
        block: &Block<'data, R>,
    ) -> Option<ProgramSection<'data>> {
        self.program_by_name(block.name_bytes(&self.btf).ok()?)
    }

    fn check_map<R: ExtRecord>(&self, info: Info<'data, R>) -> Result<(), ObjectError> {
        for block in info.blocks() {
            let name = block.name_bytes(&self.btf).unwrap_or_default();
            let Some(program) = self.program_by_name(name) else {
                return Err(ObjectError::NoProgramSection {
                    section: R::SECTION,
                    block: block.index(),
                    offset: block.offset(),
                    name: SectionName::new(name),
                });
            };
            let count = program.insns.len();
            for (i, record) in block.records().enumerate() {
                if record.insn_index() as usize >= count {
                    return Err(ObjectError::InsnOutOfRange {
                        at: RecordAt {
                            section: R::SECTION,
                            block: block.index(),
                            record: i as u32,
                            offset: block.record_offset(i),
                        },
                        name: SectionName::new(name),
                        insn_off: record.insn_off(),
                        insn_count: count,
                    });
                }
            }
        }
        Ok(())
    }

    fn program_at(
        &self,
        index: usize,
        sh: &<Elf as FileHeader>::SectionHeader,
    ) -> Result<ProgramSection<'data>, ObjectError> {
        let e = self.elf_endian;
        let name = self.sections.section_name(e, sh).unwrap_or_default();
        let bytes = sh.data(e, self.data).map_err(malformed)?;
        let raw = <[BpfInsn]>::ref_from_bytes(bytes).map_err(|_| ObjectError::ProgramSize {
            index,
            name: SectionName::new(name),
            size: sh.sh_size(e),
        })?;
        Ok(ProgramSection {
            index,
            name,
            offset: sh.sh_offset(e),
            insns: Insns {
                raw,
                endian: self.endian(),
            },
        })
    }
}

fn is_program(sh: &<Elf as FileHeader>::SectionHeader, e: Endianness) -> bool {
    sh.sh_type(e) == SHT_PROGBITS && sh.sh_flags(e) & u64::from(SHF_EXECINSTR) != 0
}

/// The program sections of a [`BpfObject`], from [`BpfObject::programs`].
#[derive(Clone, Debug)]
pub struct ProgramSections<'o, 'data> {
    obj: &'o BpfObject<'data>,
    next: usize,
}

impl<'data> Iterator for ProgramSections<'_, 'data> {
    type Item = ProgramSection<'data>;

    fn next(&mut self) -> Option<ProgramSection<'data>> {
        loop {
            let index = self.next;
            let sh = self.obj.sections.iter().as_slice().get(index)?;
            self.next += 1;
            if is_program(sh, self.obj.elf_endian) {
                // Checked by BpfObject::parse.
                if let Ok(program) = self.obj.program_at(index, sh) {
                    return Some(program);
                }
            }
        }
    }
}

/// The blocks of one `.BTF.ext` subsection, each with the program section
/// it names; from [`BpfObject::core_relos`] and its siblings.
#[derive(Clone, Debug)]
pub struct SitedBlocks<'o, 'data, R> {
    obj: &'o BpfObject<'data>,
    blocks: Option<super::Blocks<'data, R>>,
}

impl<'data, R: ExtRecord> Iterator for SitedBlocks<'_, 'data, R> {
    type Item = Sited<'data, R>;

    fn next(&mut self) -> Option<Sited<'data, R>> {
        loop {
            let block = self.blocks.as_mut()?.next()?;
            // Every block was mapped by BpfObject::parse.
            if let Some(program) = self.obj.block_program(&block) {
                return Some(Sited { program, block });
            }
        }
    }
}

/// A `.BTF.ext` block and its program section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sited<'data, R> {
    program: ProgramSection<'data>,
    block: Block<'data, R>,
}

impl<'data, R: ExtRecord> Sited<'data, R> {
    /// The program section.
    pub fn program(&self) -> ProgramSection<'data> {
        self.program
    }

    /// The block.
    pub fn block(&self) -> Block<'data, R> {
        self.block
    }

    /// Each record with its instruction index (`insn_off / 8`) and the
    /// instruction there, in order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, Insn, R)> + 'data {
        let insns = self.program.insns;
        self.block.records().filter_map(move |r| {
            let index = r.insn_index() as usize;
            Some((index, insns.get(index)?, r))
        })
    }
}
