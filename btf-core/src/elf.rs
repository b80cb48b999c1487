//! BTF sections of ELF files: `.BTF`, and `.BTF.ext` and `.BTF.base` when
//! present, found in place with the `object` crate.
//!
//! Works on a kernel image (`vmlinux`), kernel modules (`.ko`, whose `.BTF`
//! is split on vmlinux) and BPF objects (`.o`), 32- or 64-bit, in either
//! byte order, at any alignment. Nothing is copied: the sections are slices
//! of the input. Compressed modules (`.ko.xz`, `.ko.zst`, `.ko.gz`) must be
//! decompressed first; sections compressed inside the ELF file
//! (`SHF_COMPRESSED`) are refused with [`ElfError::Compressed`].
//!
//! ```no_run
//! use btf_core::{Btf, elf::BtfSections};
//! let vmlinux = std::fs::read("/sys/kernel/btf/vmlinux")?;
//! let base = Btf::parse(&vmlinux)?;
//! let ko = std::fs::read("nf_tables.ko")?;
//! let sections = BtfSections::parse(&ko)?;
//! let module = Btf::parse_split(sections.btf(), &base)?;
//! println!("{} types", module.type_count());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::endian::Endian;
use core::fmt;
use object::Endianness;
use object::elf::{FileHeader32, FileHeader64, SHF_COMPRESSED, SHT_NOBITS};
use object::read::elf::{FileHeader, SectionHeader};

/// One of the BTF sections this module looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BtfSection {
    /// `.BTF`: the types and strings.
    Btf,
    /// `.BTF.ext`: function, line and CO-RE relocation records of a BPF
    /// object.
    BtfExt,
    /// `.BTF.base`: the distilled base of an out-of-tree module (Linux 6.11).
    BtfBase,
}

impl BtfSection {
    /// The section's name in the ELF file, e.g. `".BTF"`.
    pub const fn name(self) -> &'static str {
        match self {
            BtfSection::Btf => ".BTF",
            BtfSection::BtfExt => ".BTF.ext",
            BtfSection::BtfBase => ".BTF.base",
        }
    }

    fn from_name(name: &[u8]) -> Option<BtfSection> {
        match name {
            b".BTF" => Some(BtfSection::Btf),
            b".BTF.ext" => Some(BtfSection::BtfExt),
            b".BTF.base" => Some(BtfSection::BtfBase),
            _ => None,
        }
    }
}

impl fmt::Display for BtfSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the `object` crate said about a malformed ELF file (its message,
/// for example `"Invalid ELF section header offset or size"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectError(object::read::Error);

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Why BTF could not be taken from an ELF file. Small and `Copy`; every
/// variant says where (the section, its index, its file offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElfError {
    /// The input does not start with the ELF magic `7f 45 4c 46`.
    NotElf {
        /// The input's length.
        len: usize,
    },
    /// The ELF header or section header table is malformed or of an
    /// unsupported class, byte order or version.
    Malformed {
        /// What `object` found wrong.
        detail: ObjectError,
    },
    /// There is no section named `.BTF` (the object was built without BTF,
    /// or the section was stripped).
    NoBtf {
        /// How many section headers were searched.
        sections: usize,
    },
    /// A BTF section has no bytes in the file (`SHT_NOBITS`).
    NoData {
        /// Which section.
        section: BtfSection,
        /// Its index in the section header table.
        index: usize,
    },
    /// A BTF section is compressed inside the ELF file (`SHF_COMPRESSED`).
    Compressed {
        /// Which section.
        section: BtfSection,
        /// Its index in the section header table.
        index: usize,
    },
    /// A BTF section's bytes run past the end of the file.
    OutOfBounds {
        /// Which section.
        section: BtfSection,
        /// Its index in the section header table.
        index: usize,
        /// Its file offset (`sh_offset`).
        offset: u64,
        /// Its size (`sh_size`).
        size: u64,
        /// The file's length.
        file_len: usize,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ElfError::NotElf { len } => {
                write!(f, "not an elf file (no elf magic in {len} bytes)")
            }
            ElfError::Malformed { detail } => write!(f, "malformed elf file: {detail}"),
            ElfError::NoBtf { sections } => {
                write!(f, "no .BTF section among the {sections} elf sections")
            }
            ElfError::NoData { section, index } => write!(
                f,
                "elf section {section} (index {index}) has no data in the file"
            ),
            ElfError::Compressed { section, index } => write!(
                f,
                "elf section {section} (index {index}) is compressed, which is not supported"
            ),
            ElfError::OutOfBounds {
                section,
                index,
                offset,
                size,
                file_len,
            } => write!(
                f,
                "elf section {section} (index {index}) at offset {offset} with size {size} runs past the end of the {file_len}-byte file"
            ),
        }
    }
}

impl core::error::Error for ElfError {}

/// The BTF sections of an ELF file, as slices of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtfSections<'data> {
    btf: &'data [u8],
    btf_offset: u64,
    btf_ext: Option<&'data [u8]>,
    btf_base: Option<&'data [u8]>,
    endian: Endian,
    is_64: bool,
    machine: u16,
}

impl<'data> BtfSections<'data> {
    /// Finds `.BTF` (required), `.BTF.ext` and `.BTF.base` in an ELF file.
    ///
    /// Reads only the ELF header, the section header table and the section
    /// names; accepts 32- and 64-bit files of either byte order at any
    /// alignment. The first section of each name counts.
    ///
    /// # Errors
    ///
    /// [`ElfError::NotElf`] without the ELF magic, [`ElfError::Malformed`]
    /// for a bad header or section table, [`ElfError::NoBtf`] when there is
    /// no `.BTF`, and [`ElfError::NoData`], [`ElfError::Compressed`] or
    /// [`ElfError::OutOfBounds`] when a BTF section's bytes cannot be
    /// taken as they are.
    pub fn parse(data: &'data [u8]) -> Result<BtfSections<'data>, ElfError> {
        match data.get(..5) {
            Some([0x7f, b'E', b'L', b'F', 2]) => parse_as::<FileHeader64<Endianness>>(data, true),
            Some([0x7f, b'E', b'L', b'F', _]) => parse_as::<FileHeader32<Endianness>>(data, false),
            _ => Err(ElfError::NotElf { len: data.len() }),
        }
    }

    /// The `.BTF` section: a BTF blob for [`Btf::parse`](crate::Btf::parse),
    /// or [`Btf::parse_split`](crate::Btf::parse_split) for a kernel module.
    pub fn btf(&self) -> &'data [u8] {
        self.btf
    }

    /// The file offset of the `.BTF` section, to turn a blob offset in a
    /// [`crate::Error`] into a file offset.
    pub fn btf_file_offset(&self) -> u64 {
        self.btf_offset
    }

    /// The `.BTF.ext` section, if any (BPF objects).
    pub fn btf_ext(&self) -> Option<&'data [u8]> {
        self.btf_ext
    }

    /// The `.BTF.base` section, if any (modules built with a distilled base).
    pub fn btf_base(&self) -> Option<&'data [u8]> {
        self.btf_base
    }

    /// The ELF file's byte order (the BTF's own order is in its header).
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// Whether the ELF file is 64-bit.
    pub fn is_64(&self) -> bool {
        self.is_64
    }

    /// The ELF `e_machine` (62 for x86-64, 247 for BPF).
    pub fn machine(&self) -> u16 {
        self.machine
    }
}

pub(crate) fn malformed(e: object::read::Error) -> ElfError {
    ElfError::Malformed {
        detail: ObjectError(e),
    }
}

fn parse_as<'data, Elf>(data: &'data [u8], is_64: bool) -> Result<BtfSections<'data>, ElfError>
where
    Elf: FileHeader<Endian = Endianness>,
{
    let header = Elf::parse(data).map_err(malformed)?;
    let endian = header.endian().map_err(malformed)?;
    let sections = header.sections(endian, data).map_err(malformed)?;
    let mut btf = None;
    let mut btf_ext = None;
    let mut btf_base = None;
    for (index, sh) in sections.enumerate() {
        let Ok(name) = sections.section_name(endian, sh) else {
            continue;
        };
        let Some(which) = BtfSection::from_name(name) else {
            continue;
        };
        let slot = match which {
            BtfSection::Btf => &mut btf,
            BtfSection::BtfExt => &mut btf_ext,
            BtfSection::BtfBase => &mut btf_base,
        };
        if slot.is_none() {
            *slot = Some(section_bytes(data, endian, sh, which, index.0)?);
        }
    }
    let (btf, btf_offset) = btf.ok_or(ElfError::NoBtf {
        sections: sections.len(),
    })?;
    Ok(BtfSections {
        btf,
        btf_offset,
        btf_ext: btf_ext.map(|(b, _)| b),
        btf_base: btf_base.map(|(b, _)| b),
        endian: match endian {
            Endianness::Little => Endian::Little,
            Endianness::Big => Endian::Big,
        },
        is_64,
        machine: header.e_machine(endian),
    })
}

/// A section's bytes and file offset, checked.
fn section_bytes<'data, S: SectionHeader<Endian = Endianness>>(
    data: &'data [u8],
    endian: Endianness,
    sh: &S,
    section: BtfSection,
    index: usize,
) -> Result<(&'data [u8], u64), ElfError> {
    if sh.sh_type(endian) == SHT_NOBITS {
        return Err(ElfError::NoData { section, index });
    }
    if sh.sh_flags(endian).into() & u64::from(SHF_COMPRESSED) != 0 {
        return Err(ElfError::Compressed { section, index });
    }
    let offset: u64 = sh.sh_offset(endian).into();
    let size: u64 = sh.sh_size(endian).into();
    let out_of_bounds = ElfError::OutOfBounds {
        section,
        index,
        offset,
        size,
        file_len: data.len(),
    };
    let start = usize::try_from(offset).map_err(|_| out_of_bounds)?;
    let len = usize::try_from(size).map_err(|_| out_of_bounds)?;
    let end = start.checked_add(len).ok_or(out_of_bounds)?;
    let bytes = data.get(start..end).ok_or(out_of_bounds)?;
    Ok((bytes, offset))
}
