//! How many bytes an ELF file spans by its own headers, read from its
//! first bytes: enough to stop keeping a decompressed stream's bytes past
//! the end of the file they describe (a module's appended signature is the
//! usual tail).

/// The byte order and word size of an ELF file, from `e_ident`.
#[derive(Clone, Copy)]
struct Layout {
    little: bool,
    wide: bool,
}

impl Layout {
    fn of(bytes: &[u8]) -> Option<Layout> {
        let wide = match bytes.get(4)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let little = match bytes.get(5)? {
            1 => true,
            2 => false,
            _ => return None,
        };
        Some(Layout { little, wide })
    }

    /// The unsigned field of `width` bytes (2, 4 or 8) at `at`.
    fn field(self, bytes: &[u8], at: u64, width: usize) -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let raw = bytes.get(at..at.checked_add(width)?)?;
        let mut value = 0u64;
        for i in 0..width {
            let byte = if self.little {
                raw.get(width - 1 - i)?
            } else {
                raw.get(i)?
            };
            value = (value << 8) | u64::from(*byte);
        }
        Some(value)
    }

    /// An address-sized field: 8 bytes in ELF64, 4 in ELF32.
    fn addr(self, bytes: &[u8], at: u64) -> Option<u64> {
        self.field(bytes, at, if self.wide { 8 } else { 4 })
    }
}

/// `SHT_NOBITS`: a section that takes no bytes in the file.
const SHT_NOBITS: u64 = 8;

/// The offset where an ELF file's bytes end by its headers: the furthest of
/// its ELF header, program and section header tables and section contents.
/// `None` while `bytes` is too short to tell (the section header table is
/// not all in yet) or when the headers cannot tell (extended numbering):
/// then the caller keeps everything, up to its own limit.
pub(crate) fn span(bytes: &[u8]) -> Option<u64> {
    let layout = Layout::of(bytes)?;
    // Offsets of e_phoff, e_shoff and the 16-bit fields after e_flags.
    let (phoff_at, shoff_at, sizes_at, header) = if layout.wide {
        (0x20, 0x28, 0x36, 64)
    } else {
        (0x1c, 0x20, 0x2a, 52)
    };
    let phoff = layout.addr(bytes, phoff_at)?;
    let shoff = layout.addr(bytes, shoff_at)?;
    let phentsize = layout.field(bytes, sizes_at, 2)?;
    let phnum = layout.field(bytes, sizes_at + 2, 2)?;
    let shentsize = layout.field(bytes, sizes_at + 4, 2)?;
    let shnum = layout.field(bytes, sizes_at + 6, 2)?;
    if shoff != 0 && shnum == 0 {
        // Extended numbering: the count is in section 0; rare enough to
        // keep everything.
        return None;
    }
    let tables_end = (phoff.checked_add(phentsize.checked_mul(phnum)?)?)
        .max(shoff.checked_add(shentsize.checked_mul(shnum)?)?)
        .max(header);
    if (bytes.len() as u64) < tables_end {
        return None;
    }
    // sh_type, sh_offset and sh_size within a section header.
    let (offset_at, size_at) = if layout.wide {
        (0x18, 0x20)
    } else {
        (0x10, 0x14)
    };
    let mut end = tables_end;
    for index in 0..shnum {
        let at = shoff.checked_add(index.checked_mul(shentsize)?)?;
        if layout.field(bytes, at + 4, 4)? == SHT_NOBITS {
            continue;
        }
        let offset = layout.addr(bytes, at + offset_at)?;
        let size = layout.addr(bytes, at + size_at)?;
        end = end.max(offset.checked_add(size)?);
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_spans_its_file() {
        // This binary is an ELF file of the host's kind, with nothing past
        // its last section but what its headers describe.
        let bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(span(&bytes), Some(bytes.len() as u64));
        // Cut short before the section headers: not known yet.
        assert_eq!(span(bytes.get(..bytes.len() / 2).unwrap()), None);
        // A tail (as a module's signature) is past the span.
        let mut signed = bytes.clone();
        signed.extend_from_slice(b"~Module signature appended~\n");
        assert_eq!(span(&signed), Some(bytes.len() as u64));
    }
}
